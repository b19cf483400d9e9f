//! What the table must cover, read from the server itself: the operations of the two
//! OpenAPI documents it serves, and every route declared with `.route(…)` anywhere in
//! `crates/fundpass-server/src` that takes a method with a body (`post`, `put`,
//! `patch`, `delete`, `any`), catch-all fallbacks (`{*rest}`) aside.

use std::collections::BTreeSet;
use std::path::Path;

use serde_json::Value;

use super::Row;
use crate::support::TestApp;

/// `METHOD /path` of each row.
pub fn of_rows(rows: &[&[Row]]) -> BTreeSet<String> {
    rows.iter()
        .flat_map(|rows| rows.iter())
        .map(|row| format!("{} {}", row.method, row.path))
        .collect()
}

/// `METHOD /path` of each operation of the OpenAPI document at `path`.
pub async fn documented(app: &TestApp, path: &str) -> BTreeSet<String> {
    let reply = crate::support::send_from(app.client().get(app.url(path)), "127.0.0.1").await;
    assert_eq!(reply.status, 200, "{path}: {}", reply.body);
    let doc: Value = serde_json::from_str(&reply.body).unwrap();
    let mut out = BTreeSet::new();
    for (route, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            if ["get", "post", "put", "patch", "delete"].contains(&method.as_str()) {
                out.insert(format!("{} {route}", method.to_uppercase()));
            }
        }
    }
    assert!(out.len() > 5, "{path} lists {out:?}");
    out
}

/// `METHOD /path` of every route with a body-taking method declared with
/// `.route("…", …)` in the server's source.
pub fn declared_with_bodies() -> BTreeSet<String> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut out = BTreeSet::new();
    for file in rust_files(&src) {
        let text = std::fs::read_to_string(&file).unwrap();
        for (path, handlers) in routes_in(&text) {
            if path.contains("{*") {
                continue;
            }
            for method in ["post", "put", "patch", "delete", "any"] {
                if calls(&handlers, method) {
                    let method = if method == "any" { "POST" } else { method };
                    out.insert(format!("{} {path}", method.to_uppercase()));
                }
            }
        }
    }
    assert!(out.len() > 20, "routes found: {out:?}");
    out
}

fn rust_files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    out
}

/// The path and the handler expression of each `.route(` call in `text`.
fn routes_in(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (at, _) in text.match_indices(".route(") {
        let rest = &text[at + ".route(".len()..];
        let Some(open) = rest.find('"') else { continue };
        let Some(close) = rest[open + 1..].find('"') else {
            continue;
        };
        let path = rest[open + 1..open + 1 + close].to_owned();
        let after = &rest[open + close + 2..];
        let mut depth = 1;
        let end = after
            .char_indices()
            .find(|(_, c)| {
                match c {
                    '(' => depth += 1,
                    ')' => depth -= 1,
                    _ => {}
                }
                depth == 0
            })
            .map_or(after.len(), |(i, _)| i);
        out.push((path, after[..end].to_owned()));
    }
    out
}

/// Whether `handlers` calls the method router `method(` (`post(x)`, `.post(x)`).
fn calls(handlers: &str, method: &str) -> bool {
    handlers
        .match_indices(&format!("{method}("))
        .any(|(at, _)| {
            let before = handlers[..at].chars().next_back();
            before.is_none_or(|c| !(c.is_alphanumeric() || c == '_'))
        })
}

/// Describes what is in `want` and not in `have` ("… has no row"), and the reverse.
pub fn differences(want: &BTreeSet<String>, have: &BTreeSet<String>, source: &str) -> Vec<String> {
    let missing = want
        .difference(have)
        .map(|r| format!("{r} ({source}) has no bad-input row"));
    let stale = have
        .difference(want)
        .map(|r| format!("{r} has a row but is not in {source}"));
    missing.chain(stale).collect()
}

#[test]
fn the_route_reader_finds_each_method_that_takes_a_body() {
    let text = r#"Router::new()
        .route("/a", get(a::form).post(a::submit))
        .route("/b", get(b::page))
        .route(
            "/c/{id}",
            delete(c::end),
        )
        .route("/d", get(repost(d::x)))
        .routes(routes!(e::create))"#;
    let found: Vec<(String, Vec<&str>)> = routes_in(text)
        .into_iter()
        .map(|(path, handlers)| {
            let methods = ["get", "post", "delete"]
                .into_iter()
                .filter(|m| calls(&handlers, m))
                .collect();
            (path, methods)
        })
        .collect();
    assert_eq!(
        found,
        [
            ("/a".to_owned(), vec!["get", "post"]),
            ("/b".to_owned(), vec!["get"]),
            ("/c/{id}".to_owned(), vec!["delete"]),
            ("/d".to_owned(), vec!["get"]),
        ]
    );
}
