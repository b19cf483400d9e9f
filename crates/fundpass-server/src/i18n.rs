//! The language of a page and the texts it is written with.
//!
//! Every string a page shows lives in `messages/zh-CN.toml` or `messages/en.toml`
//! (flat dotted keys, the same keys in both files), embedded in the binary and parsed
//! once. Simplified Chinese is the default; a member's choice (cookie) wins over the
//! browser's `Accept-Language`.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use axum::extract::FromRequestParts;
use axum::http::HeaderMap;
use axum::http::header::ACCEPT_LANGUAGE;
use axum::http::request::Parts;
use fundpass_core::identity::IdType;

pub use fundpass_core::credentials::Lang;

/// Cookie that remembers the language a member chose with the switch.
pub const LANG_COOKIE: &str = "fundpass_lang";

/// The Simplified Chinese messages, as shipped.
pub const ZH_SOURCE: &str = include_str!("../messages/zh-CN.toml");
/// The English messages, as shipped.
pub const EN_SOURCE: &str = include_str!("../messages/en.toml");

/// Both catalogues, parsed on first use.
struct Catalog {
    zh: BTreeMap<String, String>,
    en: BTreeMap<String, String>,
}

static CATALOG: LazyLock<Catalog> = LazyLock::new(|| Catalog {
    zh: load("zh-CN", ZH_SOURCE),
    en: load("en", EN_SOURCE),
});

/// A broken file is caught by the tests; at run time it degrades to showing keys.
fn load(name: &str, source: &str) -> BTreeMap<String, String> {
    parse_messages(source).unwrap_or_else(|err| {
        tracing::error!(file = name, error = %err, "message file does not parse");
        BTreeMap::new()
    })
}

/// Reads a message file into `key → text`, nested tables flattened to dotted keys
/// (TOML reads `login.title = "…"` as a table `login` holding `title`).
pub fn parse_messages(source: &str) -> Result<BTreeMap<String, String>, toml::de::Error> {
    let table: toml::Table = toml::from_str(source)?;
    let mut out = BTreeMap::new();
    flatten("", &table, &mut out);
    Ok(out)
}

fn flatten(prefix: &str, table: &toml::Table, out: &mut BTreeMap<String, String>) {
    for (key, value) in table {
        let full = if prefix.is_empty() {
            key.clone()
        } else {
            format!("{prefix}.{key}")
        };
        match value {
            toml::Value::Table(inner) => flatten(&full, inner, out),
            toml::Value::String(text) => {
                out.insert(full, text.clone());
            }
            other => {
                out.insert(full, other.to_string());
            }
        }
    }
}

/// The language chosen by the switch's cookie, else the browser's preference among
/// the two the portal speaks, else Simplified Chinese.
pub fn negotiate(cookie: Option<&str>, accept_language: Option<&str>) -> Lang {
    if let Some(lang) = cookie.and_then(from_code) {
        return lang;
    }
    accept_language.and_then(preferred).unwrap_or_default()
}

/// `zh-CN` or `en` (the cookie's and the `<html lang>` values).
pub fn code(lang: Lang) -> &'static str {
    match lang {
        Lang::Zh => "zh-CN",
        Lang::En => "en",
    }
}

/// Parses a value written by [`code`].
pub fn from_code(value: &str) -> Option<Lang> {
    match value.trim() {
        "zh-CN" => Some(Lang::Zh),
        "en" => Some(Lang::En),
        _ => None,
    }
}

/// The supported language the browser ranks highest (`q` weights honoured, `q=0`
/// meaning "not this one").
fn preferred(header: &str) -> Option<Lang> {
    let mut ranked: Vec<(u16, Lang)> = header
        .split(',')
        .take(32)
        .filter_map(|item| {
            let mut parts = item.split(';');
            let tag = parts.next()?.trim().to_ascii_lowercase();
            let weight = parts
                .find_map(|p| p.trim().strip_prefix("q="))
                .map_or(Some(1000), parse_weight)?;
            let primary = tag.split('-').next()?;
            let lang = match primary {
                "zh" => Lang::Zh,
                "en" => Lang::En,
                _ => return None,
            };
            (weight > 0).then_some((weight, lang))
        })
        .collect();
    // Stable: among equal weights the order in the header decides.
    ranked.sort_by_key(|(weight, _)| std::cmp::Reverse(*weight));
    ranked.first().map(|(_, lang)| *lang)
}

/// `q` in thousandths; `None` for a malformed value (the item is ignored).
fn parse_weight(raw: &str) -> Option<u16> {
    let value: f32 = raw.trim().parse().ok()?;
    (0.0..=1.0)
        .contains(&value)
        .then(|| (value * 1000.0).round() as u16)
}

/// The texts of one language: what templates and handlers write pages with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Tr {
    lang: Lang,
}

impl Tr {
    /// Texts in `lang`.
    pub fn new(lang: Lang) -> Self {
        Self { lang }
    }

    /// The language of a request, from its headers.
    pub fn from_headers(headers: &HeaderMap) -> Self {
        let cookie = crate::web::cookies::read(headers, LANG_COOKIE);
        let accept = headers.get(ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok());
        Self::new(negotiate(cookie, accept))
    }

    /// The language.
    pub fn lang(&self) -> Lang {
        self.lang
    }

    /// `zh-CN` or `en`.
    pub fn code(&self) -> &'static str {
        code(self.lang)
    }

    /// The text of `key`; the key itself (and a warning in the log) if it is missing,
    /// which the key-coverage test prevents.
    pub fn get<'k>(&self, key: &'k str) -> &'k str {
        self.find(key).unwrap_or_else(|| {
            tracing::warn!(key, lang = self.code(), "missing message");
            key
        })
    }

    /// The text of `key` if the catalogue has it (for keys made from stored codes,
    /// which may name something without a text).
    pub fn find(&self, key: &str) -> Option<&'static str> {
        let catalog = match self.lang {
            Lang::Zh => &CATALOG.zh,
            Lang::En => &CATALOG.en,
        };
        catalog.get(key).map(String::as_str)
    }

    /// The text of `key` with each `{name}` replaced by its value.
    pub fn format(&self, key: &str, args: &[(&str, &str)]) -> String {
        let mut out = self.get(key).to_owned();
        for (name, value) in args {
            out = out.replace(&format!("{{{name}}}"), value);
        }
        out
    }

    /// A document type's name in this language.
    pub fn id_type(&self, id_type: IdType) -> &'static str {
        match self.lang {
            Lang::Zh => id_type.name_zh(),
            Lang::En => id_type.name_en(),
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Tr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(Self::from_headers(&parts.headers))
    }
}

/// The message key of a security question's text (pages and the app's data copy).
pub fn question_key(code: &str) -> Option<&'static str> {
    Some(match code {
        "first_school" => "question.first_school",
        "childhood_friend" => "question.childhood_friend",
        "first_employer" => "question.first_employer",
        "favourite_teacher" => "question.favourite_teacher",
        "parents_hometown" => "question.parents_hometown",
        "first_street" => "question.first_street",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    #[test]
    fn both_message_files_parse_and_have_exactly_the_same_keys() {
        let zh = parse_messages(ZH_SOURCE).unwrap();
        let en = parse_messages(EN_SOURCE).unwrap();
        let zh_keys: BTreeSet<_> = zh.keys().collect();
        let en_keys: BTreeSet<_> = en.keys().collect();
        let only_zh: Vec<_> = zh_keys.difference(&en_keys).collect();
        let only_en: Vec<_> = en_keys.difference(&zh_keys).collect();
        assert!(
            only_zh.is_empty() && only_en.is_empty(),
            "only zh: {only_zh:?}, only en: {only_en:?}"
        );
        assert!(zh.len() > 50);
        for (key, text) in zh.iter().chain(en.iter()) {
            assert!(!text.trim().is_empty(), "{key} is empty");
        }
    }

    #[test]
    fn every_placeholder_appears_in_both_languages() {
        let zh = parse_messages(ZH_SOURCE).unwrap();
        let en = parse_messages(EN_SOURCE).unwrap();
        let holes = |text: &str| -> BTreeSet<String> {
            text.split('{')
                .skip(1)
                .filter_map(|rest| rest.split_once('}'))
                .map(|(name, _)| name.to_owned())
                .collect()
        };
        for (key, text) in &zh {
            assert_eq!(holes(text), holes(&en[key]), "{key}");
        }
    }

    #[test]
    fn every_key_the_code_and_templates_use_exists() {
        let zh = parse_messages(ZH_SOURCE).unwrap();
        let prefixes: BTreeSet<&str> = zh.keys().filter_map(|k| k.split('.').next()).collect();
        let looks_like_key = |text: &str| {
            text.contains('.')
                && text.split('.').all(|part| {
                    !part.is_empty()
                        && part
                            .chars()
                            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
                })
                && text
                    .split('.')
                    .next()
                    .is_some_and(|first| prefixes.contains(first))
        };
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut used = BTreeSet::new();
        let mut files = vec![root.join("src/i18n.rs")];
        let mut dirs = vec![root.join("templates"), root.join("src/web")];
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    dirs.push(path);
                } else {
                    files.push(path);
                }
            }
        }
        {
            for path in files {
                let text = std::fs::read_to_string(path).unwrap();
                // Every string literal: the pieces between quotes, once escaped quotes
                // and quote characters are out of the way.
                let text = text.replace("\\\"", "").replace("'\"'", "");
                for literal in text.split('"').skip(1).step_by(2) {
                    if looks_like_key(literal) && !literal.ends_with(".html") {
                        used.insert(literal.to_owned());
                    }
                }
            }
        }
        for expected in [
            "register.title",
            "captcha.wrong",
            "status.frozen",
            "error.internal.body",
        ] {
            assert!(
                used.contains(expected),
                "the scan misses {expected}: {used:?}"
            );
        }
        let missing: Vec<_> = used.iter().filter(|k| !zh.contains_key(*k)).collect();
        assert!(missing.is_empty(), "{missing:?}");
    }

    #[test]
    fn the_cookie_beats_the_browser_and_chinese_is_the_default() {
        assert_eq!(negotiate(None, None), Lang::Zh);
        assert_eq!(negotiate(None, Some("en-US,en;q=0.9")), Lang::En);
        assert_eq!(negotiate(Some("zh-CN"), Some("en-US")), Lang::Zh);
        assert_eq!(negotiate(Some("en"), None), Lang::En);
        assert_eq!(negotiate(Some("fr"), Some("fr-FR")), Lang::Zh);
    }

    #[test]
    fn accept_language_weights_are_honoured() {
        assert_eq!(
            negotiate(None, Some("fr;q=1, en;q=0.5, zh;q=0.8")),
            Lang::Zh
        );
        assert_eq!(negotiate(None, Some("zh;q=0, en;q=0.1")), Lang::En);
        assert_eq!(negotiate(None, Some("de, EN-gb")), Lang::En);
        assert_eq!(negotiate(None, Some("zh-TW, en")), Lang::Zh);
        assert_eq!(negotiate(None, Some("en;q=bogus")), Lang::Zh);
    }

    #[test]
    fn format_fills_placeholders() {
        let tr = Tr::new(Lang::En);
        assert_eq!(
            tr.format("register.wrong_code", &[("remaining", "3")])
                .matches('3')
                .count(),
            1
        );
        assert_eq!(tr.get("no.such.key"), "no.such.key");
    }
}
