//! The `fundpass` command as an operator uses it: real binary, real SQLite file (and
//! PostgreSQL when FUNDPASS_TEST_POSTGRES_URL is set).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use sqlx::Connection as _;

const HEADER: &str = "account_no,name,id_type,id_number,phone\n";
const GOOD_1: &str = "200000000001,张三,resident_id,110105199003071239,13800000001\n";
const GOOD_2: &str = "200000000002,李四,resident_id,310115198511224567,+86 139 0000 0002\n";
const GOOD_3: &str = "200000000003,Maria Lopez,passport,E12345678,8615000000003\n";
/// Check character wrong (should be 9).
const BAD_CHECK: &str = "200000000004,王五,resident_id,110105199003071234,13800000004\n";
/// Not a mobile number, and an account number that is too short.
const BAD_PHONE: &str = "2000,赵六,resident_id,510107197809012340,12800000005\n";

struct Fundpass {
    dir: tempfile::TempDir,
    database_url: Option<String>,
}

impl Fundpass {
    fn new() -> Self {
        Self {
            dir: tempfile::tempdir().unwrap(),
            database_url: None,
        }
    }

    fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn run(&self, args: &[&str]) -> Output {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_fundpass"));
        cmd.arg("--data-dir").arg(self.data_dir()).args(args);
        cmd.env_remove("FUNDPASS_KEYRING")
            .env_remove("FUNDPASS_CONFIG")
            .env_remove("FUNDPASS_MODE");
        match &self.database_url {
            Some(url) => cmd.env("FUNDPASS_DATABASE_URL", url),
            None => cmd.env_remove("FUNDPASS_DATABASE_URL"),
        };
        cmd.output().unwrap()
    }

    fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    fn import(&self, text: &str, extra: &[&str]) -> Output {
        let file = self.write("members.csv", text);
        let mut args = vec!["import", "--quiet", file.to_str().unwrap()];
        args.extend_from_slice(extra);
        self.run(&args)
    }

    fn find(&self, args: &[&str]) -> Output {
        let mut all = vec!["member", "find"];
        all.extend_from_slice(args);
        self.run(&all)
    }

    fn db_path(&self) -> PathBuf {
        self.data_dir().join("fundpass.db")
    }
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn count_members(fp: &Fundpass) -> u64 {
    // `member find` by phone lists every holder; counting rows straight from SQLite
    // keeps this independent of the command under test.
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        let url = format!("sqlite://{}", fp.db_path().display());
        let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
        let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM members")
            .fetch_one(&mut conn)
            .await
            .unwrap();
        n as u64
    })
}

#[test]
fn an_import_with_bad_rows_reports_each_one_and_imports_nothing() {
    let fp = Fundpass::new();
    let out = fp.import(
        &format!("{HEADER}{GOOD_1}{BAD_CHECK}{GOOD_2}{BAD_PHONE}"),
        &[],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("line 3: id_number:"), "{err}");
    assert!(
        err.contains("9"),
        "the expected check character is named: {err}"
    );
    assert!(err.contains("line 5: account_no:"), "{err}");
    assert!(err.contains("line 5: phone:"), "{err}");
    assert!(err.contains("nothing imported"), "{err}");
    assert!(
        !err.contains("110105199003071234"),
        "full ID numbers never appear: {err}"
    );
    assert_eq!(count_members(&fp), 0);
}

#[test]
fn a_benefit_import_is_all_or_nothing_and_a_reimport_ends_a_benefit() {
    let fp = Fundpass::new();
    let out = fp.import(&format!("{HEADER}{GOOD_1}{GOOD_2}"), &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let header = "account_no,kind,start_date,cycle_months,deceased_on\n";
    let benefits = |name: &str, rows: &str| {
        let path = fp.write(name, &format!("{header}{rows}"));
        fp.run(&["benefits", "import", path.to_str().unwrap(), "--quiet"])
    };
    let count = || query_sqlite(&fp.db_path(), "SELECT CAST(COUNT(*) AS TEXT) FROM benefits");

    let out = benefits(
        "bad.csv",
        "200000000001,pension,2019-03-15,,\n\
         200000000002,lottery,2019-03-15,12,\n\
         299999999999,pension,2019-03-15,,\n\
         200000000001,survivor,2020-01-01,6,\n\
         200000000002,pension,2019/03/15,0,\n",
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("line 3: kind: unknown benefit"), "{err}");
    assert!(
        err.contains("line 4: account_no: no member has this account number"),
        "{err}"
    );
    assert!(
        err.contains("line 5: account_no: the account appears on an earlier line"),
        "{err}"
    );
    assert!(err.contains("line 6: start_date:"), "{err}");
    assert!(err.contains("line 6: cycle_months:"), "{err}");
    assert!(err.contains("nothing imported"), "{err}");
    assert_eq!(count(), ["0"]);

    let out = benefits(
        "good.csv",
        "200000000001,pension,2019-03-15,,\n200000000002,work_injury,2020-07-01,6,\n",
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("2 new benefits"), "{}", stderr(&out));
    let rows = query_sqlite(
        &fp.db_path(),
        "SELECT kind || ' ' || cycle_months || ' ' || status FROM benefits ORDER BY member_id",
    );
    assert_eq!(rows, ["pension 12 qualified", "work_injury 6 qualified"]);

    // A date of death ends the benefit and keeps the due date.
    let due = || {
        query_sqlite(
            &fp.db_path(),
            "SELECT due_date FROM benefits ORDER BY member_id",
        )
    };
    let before = due();
    let out = benefits(
        "death.csv",
        "200000000002,work_injury,2020-07-01,6,2026-01-05\n",
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("1 ended"), "{}", stderr(&out));
    assert_eq!(due(), before);
    let status = query_sqlite(
        &fp.db_path(),
        "SELECT status || ' ' || deceased_on FROM benefits WHERE deceased_on IS NOT NULL",
    );
    assert_eq!(status, ["ended 2026-01-05"]);
}

#[test]
fn skip_invalid_imports_exactly_the_valid_rows() {
    let fp = Fundpass::new();
    let out = fp.import(
        &format!("{HEADER}{GOOD_1}{BAD_CHECK}{GOOD_2}{BAD_PHONE}{GOOD_3}"),
        &["--skip-invalid"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("3 inserted, 0 updated, 2 rejected"),
        "{}",
        stderr(&out)
    );
    assert_eq!(count_members(&fp), 3);

    let again = fp.import(&format!("{HEADER}{GOOD_1}"), &[]);
    assert!(
        stderr(&again).contains("0 inserted, 1 updated"),
        "{}",
        stderr(&again)
    );
}

#[test]
fn the_database_file_holds_no_plaintext_id_or_phone_yet_lookups_work() {
    let fp = Fundpass::new();
    assert!(
        fp.import(&format!("{HEADER}{GOOD_1}{GOOD_2}{GOOD_3}"), &[])
            .status
            .success()
    );
    let mut bytes = std::fs::read(fp.db_path()).unwrap();
    for side in ["-wal", "-shm"] {
        let mut p = fp.db_path().into_os_string();
        p.push(side);
        bytes.extend(std::fs::read(PathBuf::from(p)).unwrap_or_default());
    }
    for secret in [
        "110105199003071239",
        "310115198511224567",
        "E12345678",
        "13800000001",
        "13900000002",
        "15000000003",
    ] {
        assert!(
            !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
            "{secret} found in the database file"
        );
    }

    let by_id = fp.find(&["--id-number", "110105199003071239"]);
    assert!(by_id.status.success(), "{}", stderr(&by_id));
    let shown = stdout(&by_id);
    assert!(shown.contains("account_no: 200000000001"), "{shown}");
    assert!(shown.contains("110105********1239"), "{shown}");
    assert!(shown.contains("138****0001"), "{shown}");
    assert!(
        !shown.contains("110105199003071239") && !shown.contains("13800000001"),
        "{shown}"
    );

    let by_phone = fp.find(&["--phone", "+86 139 0000 0002"]);
    assert!(
        stdout(&by_phone).contains("200000000002"),
        "{}",
        stdout(&by_phone)
    );
    let by_passport = fp.find(&["--id-type", "passport", "--id-number", "e12345678"]);
    assert!(
        stdout(&by_passport).contains("200000000003"),
        "{}",
        stdout(&by_passport)
    );
    assert_eq!(
        fp.find(&["--id-number", "310115198511224567", "--id-type", "passport"])
            .status
            .code(),
        Some(1)
    );
}

#[test]
fn a_document_held_by_another_account_or_repeated_in_the_file_is_rejected() {
    let fp = Fundpass::new();
    assert!(
        fp.import(&format!("{HEADER}{GOOD_1}"), &[])
            .status
            .success()
    );
    let same_id_other_account = "200000000009,张三,resident_id,110105199003071239,13800000009\n";
    let repeated_account = "200000000002,李四,resident_id,330106199502285677,13900000002\n";
    let out = fp.import(
        &format!("{HEADER}{same_id_other_account}{GOOD_2}{repeated_account}"),
        &[],
    );
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("line 2: id_number: this document already belongs to account 200000000001"),
        "{err}"
    );
    assert!(
        err.contains("line 4: account_no: repeats the account on line 3"),
        "{err}"
    );
    assert_eq!(count_members(&fp), 1);
}

#[cfg(unix)]
#[test]
fn the_generated_key_file_is_readable_by_its_owner_only() {
    use std::os::unix::fs::PermissionsExt as _;
    let fp = Fundpass::new();
    assert!(fp.run(&["keys", "init"]).status.success());
    let mode = std::fs::metadata(fp.data_dir().join("keys.json"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
}

#[test]
fn the_outbox_command_reports_an_empty_outbox() {
    let fp = Fundpass::new();
    let out = fp.run(&["outbox"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "the outbox is empty\n");
}

#[test]
fn production_mode_never_generates_keys() {
    let fp = Fundpass::new();
    let config = fp.write("fundpass.toml", "mode = \"production\"\n");
    let out = fp.run(&["--config", config.to_str().unwrap(), "keys", "list"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("production mode needs FUNDPASS_KEYRING"),
        "{}",
        stderr(&out)
    );
    assert!(!fp.data_dir().join("keys.json").exists());
}

/// A port nobody listens on at the moment.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The whole HTTP/1.1 response to `GET path`, or `None` if nothing listens.
fn http_get(port: u16, path: &str) -> Option<String> {
    use std::io::{Read as _, Write as _};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut body = String::new();
    s.read_to_string(&mut body).ok()?;
    Some(body)
}

/// The whole HTTP/1.1 response to `POST path` with a JSON body.
fn http_post_json(port: u16, path: &str, body: &str) -> String {
    use std::io::{Read as _, Write as _};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(
        s,
        "POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut answer = String::new();
    s.read_to_string(&mut answer).unwrap();
    answer
}

/// Every metric name a dashboard's queries use.
fn dashboard_metrics(dashboard: &serde_json::Value) -> Vec<String> {
    let mut names = Vec::new();
    for panel in dashboard["panels"].as_array().unwrap() {
        for target in panel["targets"].as_array().unwrap() {
            let expr = target["expr"].as_str().unwrap();
            for (at, _) in expr.match_indices("fundpass_") {
                let name: String = expr[at..]
                    .chars()
                    .take_while(|c| c.is_ascii_lowercase() || *c == '_')
                    .collect();
                if !names.contains(&name) {
                    names.push(name);
                }
            }
        }
    }
    names
}

/// Starts `fundpass [global] serve [serve_args] --bind 127.0.0.1:port` and waits until
/// it answers `/readyz`, which it returns.
fn start_serve(
    fp: &Fundpass,
    global: &[&str],
    serve_args: &[&str],
    port: u16,
) -> (std::process::Child, String) {
    let child = Command::new(env!("CARGO_BIN_EXE_fundpass"))
        .arg("--data-dir")
        .arg(fp.data_dir())
        .args(global)
        .arg("serve")
        .args(serve_args)
        .args(["--bind", &format!("127.0.0.1:{port}")])
        .env_remove("FUNDPASS_DATABASE_URL")
        .env_remove("FUNDPASS_KEYRING")
        .env_remove("FUNDPASS_MODE")
        .stderr(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    for _ in 0..200 {
        if let Some(ready) = http_get(port, "/readyz") {
            return (child, ready);
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let out = child.wait_with_output().unwrap();
    panic!("the server never answered: {}", stderr(&out));
}

/// Sends SIGTERM and collects what the server printed; it must stop cleanly.
fn stop_serve(child: std::process::Child) -> Output {
    assert!(
        Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .unwrap()
            .success()
    );
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("fundpass stopped"),
        "{}",
        stderr(&out)
    );
    out
}

#[test]
fn serve_answers_health_checks_and_stops_cleanly_on_sigterm() {
    let fp = Fundpass::new();
    let port = free_port();
    let (child, ready) = start_serve(&fp, &[], &["--demo"], port);
    assert!(
        ready.starts_with("HTTP/1.1 200") && ready.ends_with("ready"),
        "{ready}"
    );
    assert!(http_get(port, "/healthz").unwrap().ends_with("ok"));
    let out = stop_serve(child);
    assert!(
        stdout(&out).contains("110105199003071239"),
        "the demo members are listed"
    );
}

#[test]
fn production_mode_refuses_dev_providers_and_insecure_cookies() {
    let fp = Fundpass::new();
    let dev_sms = fp.write("a.toml", "mode = \"production\"\n");
    let out = fp.run(&[
        "--config",
        dev_sms.to_str().unwrap(),
        "serve",
        "--bind",
        "127.0.0.1:0",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("cannot use the dev SMS sender"),
        "{}",
        stderr(&out)
    );

    let plain = fp.write(
        "b.toml",
        "mode = \"production\"\n[sms]\nsender = \"webhook\"\nwebhook_url = \"https://sms.example\"\n",
    );
    let out = fp.run(&[
        "--config",
        plain.to_str().unwrap(),
        "serve",
        "--bind",
        "127.0.0.1:0",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("server.secure_cookies = true"),
        "{}",
        stderr(&out)
    );

    let no_origin = fp.write(
        "c.toml",
        "mode = \"production\"\n[sms]\nsender = \"webhook\"\n[server]\nsecure_cookies = true\n",
    );
    let out = fp.run(&[
        "--config",
        no_origin.to_str().unwrap(),
        "serve",
        "--bind",
        "127.0.0.1:0",
    ]);
    assert!(stderr(&out).contains("https:// origin"), "{}", stderr(&out));
    assert!(
        !fp.data_dir().join("keys.json").exists(),
        "nothing was started or generated"
    );
}

#[test]
fn a_misspelt_setting_is_refused() {
    let fp = Fundpass::new();
    let config = fp.write("fundpass.toml", "[keys]\nsuit = \"sm4-gcm\"\n");
    let out = fp.run(&["--config", config.to_str().unwrap(), "keys", "list"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("suit"), "{}", stderr(&out));
}

#[test]
fn key_rotation_re_encrypts_everything_and_lookups_keep_working() {
    let fp = Fundpass::new();
    assert!(
        fp.import(&format!("{HEADER}{GOOD_1}{GOOD_2}{GOOD_3}"), &[])
            .status
            .success()
    );
    let out = fp.run(&["keys", "rotate", "--batch-size", "2"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("re-encrypted 3 members with d2; retired d1"),
        "{}",
        stderr(&out)
    );
    let keys = std::fs::read_to_string(fp.data_dir().join("keys.json")).unwrap();
    assert!(
        keys.contains("\"d2\"") && !keys.contains("\"d1\""),
        "{keys}"
    );
    let found = fp.find(&["--id-number", "310115198511224567"]);
    assert!(stdout(&found).contains("139****0002"), "{}", stdout(&found));
    assert!(fp.run(&["audit", "verify"]).status.success());
}

#[test]
fn the_national_algorithm_suite_works_end_to_end() {
    let fp = Fundpass::new();
    let config = fp.write("fundpass.toml", "[keys]\nsuite = \"sm4-gcm\"\n");
    let c = config.to_str().unwrap();
    let file = fp.write("m.csv", &format!("{HEADER}{GOOD_1}"));
    assert!(
        fp.run(&["--config", c, "import", "--quiet", file.to_str().unwrap()])
            .status
            .success()
    );
    assert!(
        std::fs::read_to_string(fp.data_dir().join("keys.json"))
            .unwrap()
            .contains("sm4-gcm")
    );
    let found = fp.run(&["--config", c, "member", "find", "--account", "200000000001"]);
    assert!(
        stdout(&found).contains("110105********1239"),
        "{}",
        stdout(&found)
    );
}

#[test]
fn audit_verify_passes_untouched_and_names_an_event_edited_by_hand() {
    let fp = Fundpass::new();
    assert!(
        fp.import(&format!("{HEADER}{GOOD_1}"), &[])
            .status
            .success()
    );
    assert!(
        fp.import(&format!("{HEADER}{GOOD_2}"), &[])
            .status
            .success()
    );
    assert!(
        fp.import(&format!("{HEADER}{GOOD_3}"), &[])
            .status
            .success()
    );
    let ok = fp.run(&["audit", "verify"]);
    assert!(ok.status.success(), "{}", stderr(&ok));
    assert!(
        stderr(&ok).contains("audit trail intact: 3 events verified"),
        "{}",
        stderr(&ok)
    );

    edit_sqlite(
        &fp.db_path(),
        &[
            "DROP TRIGGER IF EXISTS audit_events_no_update",
            "UPDATE audit_events SET outcome = 'failure' WHERE seq = 2",
        ],
    );
    let broken = fp.run(&["audit", "verify"]);
    assert_eq!(broken.status.code(), Some(1));
    assert!(
        stderr(&broken).contains("record 2 was modified"),
        "{}",
        stderr(&broken)
    );
}

#[test]
fn audit_verify_finds_a_deleted_event() {
    let fp = Fundpass::new();
    for _ in 0..3 {
        assert!(fp.run(&["demo"]).status.success());
    }
    edit_sqlite(
        &fp.db_path(),
        &[
            "DROP TRIGGER IF EXISTS audit_events_no_delete",
            "DELETE FROM audit_events WHERE seq = 2",
        ],
    );
    let broken = fp.run(&["audit", "verify"]);
    assert_eq!(broken.status.code(), Some(1));
    assert!(
        stderr(&broken).contains("record 3 follows record 1"),
        "{}",
        stderr(&broken)
    );
}

#[test]
fn audit_events_hold_no_full_id_or_phone_numbers() {
    let fp = Fundpass::new();
    assert!(
        fp.import(&format!("{HEADER}{GOOD_1}{BAD_CHECK}"), &["--skip-invalid"])
            .status
            .success()
    );
    assert!(
        fp.find(&["--id-number", "110105199003071239"])
            .status
            .success()
    );
    let rows: Vec<String> = tokio::runtime::Runtime::new().unwrap().block_on(async {
        let url = format!("sqlite://{}", fp.db_path().display());
        let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
        sqlx::query_as::<_, (String, String)>("SELECT action, details FROM audit_events")
            .fetch_all(&mut conn)
            .await
            .unwrap()
            .into_iter()
            .map(|(a, d)| format!("{a} {d}"))
            .collect()
    });
    assert_eq!(rows.len(), 2, "{rows:?}");
    for row in &rows {
        for secret in [
            "110105199003071239",
            "110105199003071234",
            "13800000001",
            "13800000004",
        ] {
            assert!(!row.contains(secret), "{row}");
        }
    }
}

#[test]
fn postgres_import_and_lookup_when_configured() {
    let Ok(base) = std::env::var("FUNDPASS_TEST_POSTGRES_URL") else {
        eprintln!("FUNDPASS_TEST_POSTGRES_URL not set: PostgreSQL variant skipped");
        return;
    };
    let rt = tokio::runtime::Runtime::new().unwrap();
    let name = format!("fp_cli_{}", std::process::id());
    let url = rt.block_on(async {
        let mut conn = sqlx::PgConnection::connect(&base).await.unwrap();
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE IF EXISTS {name}"
        )))
        .execute(&mut conn)
        .await
        .unwrap();
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut conn)
            .await
            .unwrap();
        let (prefix, _) = base.rsplit_once('/').unwrap();
        format!("{prefix}/{name}")
    });
    let mut fp = Fundpass::new();
    fp.database_url = Some(url);
    assert!(fp.run(&["migrate"]).status.success());
    let out = fp.import(&format!("{HEADER}{GOOD_1}{BAD_CHECK}{GOOD_2}"), &[]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let out = fp.import(
        &format!("{HEADER}{GOOD_1}{BAD_CHECK}{GOOD_2}"),
        &["--skip-invalid"],
    );
    assert!(stderr(&out).contains("2 inserted"), "{}", stderr(&out));
    // The import left the planner statistics of the members table (a table never
    // analysed has reltuples -1; two rows are too few for autovacuum to analyse).
    let reltuples: f32 = rt.block_on(async {
        let mut conn = sqlx::PgConnection::connect(fp.database_url.as_deref().unwrap())
            .await
            .unwrap();
        sqlx::query_scalar("SELECT reltuples FROM pg_class WHERE relname = 'members'")
            .fetch_one(&mut conn)
            .await
            .unwrap()
    });
    assert!(
        reltuples >= 2.0,
        "members not analysed: reltuples {reltuples}"
    );
    assert!(stdout(&fp.find(&["--id-number", "310115198511224567"])).contains("200000000002"));
    assert!(fp.run(&["audit", "verify"]).status.success());
    rt.block_on(async {
        let mut conn = sqlx::PgConnection::connect(&base).await.unwrap();
        let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
        )))
        .execute(&mut conn)
        .await;
    });
}

fn edit_sqlite(db: &Path, statements: &[&str]) {
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        let url = format!("sqlite://{}", db.display());
        let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
        for s in statements {
            sqlx::query(sqlx::AssertSqlSafe(*s))
                .execute(&mut conn)
                .await
                .unwrap();
        }
    });
}

// --- staff accounts -------------------------------------------------------------

/// A staff password that meets the policy.
const STAFF_PASSWORD: &str = "Blue-Harbour-47";

impl Fundpass {
    /// `fundpass staff …` with `stdin` as standard input (a pipe, not a terminal).
    fn staff(&self, args: &[&str], stdin: &str) -> Output {
        use std::io::Write as _;
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_fundpass"));
        cmd.arg("--data-dir")
            .arg(self.data_dir())
            .arg("staff")
            .args(args);
        cmd.env_remove("FUNDPASS_KEYRING")
            .env_remove("FUNDPASS_CONFIG")
            .env_remove("FUNDPASS_MODE")
            .env_remove("FUNDPASS_DATABASE_URL");
        cmd.stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        let mut child = cmd.spawn().unwrap();
        // The command may exit before reading (a refused role): ignore a broken pipe.
        let _ = child.stdin.take().unwrap().write_all(stdin.as_bytes());
        child.wait_with_output().unwrap()
    }

    fn add_staff(&self, username: &str, role: &str, password: &str) -> Output {
        self.staff(
            &[
                "add",
                "--username",
                username,
                "--name",
                "王力",
                "--role",
                role,
                "--branch-id",
                "BJ-DC-01",
                "--branch-name",
                "东城管理部",
            ],
            &format!("{password}\n"),
        )
    }

    /// Every byte of the SQLite database and its write-ahead log.
    fn database_bytes(&self) -> Vec<u8> {
        let mut bytes = std::fs::read(self.db_path()).unwrap();
        let wal = self.data_dir().join("fundpass.db-wal");
        if wal.exists() {
            bytes.extend(std::fs::read(wal).unwrap());
        }
        bytes
    }
}

fn query_sqlite(db: &Path, sql: &str) -> Vec<String> {
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        let url = format!("sqlite://{}", db.display());
        let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
        sqlx::query_scalar::<_, String>(sqlx::AssertSqlSafe(sql))
            .fetch_all(&mut conn)
            .await
            .unwrap()
    })
}

fn staff_count(fp: &Fundpass) -> usize {
    query_sqlite(&fp.db_path(), "SELECT username FROM staff").len()
}

#[test]
fn staff_accounts_are_added_listed_disabled_and_their_mfa_reset() {
    let fp = Fundpass::new();
    let empty = fp.staff(&["list"], "");
    assert!(empty.status.success(), "{}", stderr(&empty));
    assert!(
        stderr(&empty).contains("no staff accounts"),
        "none after install: {}",
        stderr(&empty)
    );

    let added = fp.add_staff("Admin.Zhang", "admin", STAFF_PASSWORD);
    assert!(added.status.success(), "{}", stderr(&added));
    assert!(stderr(&added).contains("admin.zhang"), "{}", stderr(&added));
    assert!(stderr(&added).contains("first login"), "{}", stderr(&added));
    assert!(
        fp.add_staff("li.counter", "counter", STAFF_PASSWORD)
            .status
            .success()
    );

    let listed = fp.staff(&["list"], "");
    assert!(listed.status.success(), "{}", stderr(&listed));
    let text = stdout(&listed);
    let admin = text.lines().find(|l| l.starts_with("admin.zhang")).unwrap();
    for part in [
        "王力",
        "admin",
        "BJ-DC-01 东城管理部",
        "active",
        " no ",
        "0 days",
    ] {
        assert!(admin.contains(part), "{part:?} missing: {admin}");
    }
    assert!(
        text.lines()
            .any(|l| l.starts_with("li.counter") && l.contains("counter"))
    );

    // Pretend the counter account enrolled its second factor, then reset it.
    edit_sqlite(
        &fp.db_path(),
        &[
            "UPDATE staff SET totp_secret_enc = x'0102', totp_last_step = 7 \
           WHERE username = 'li.counter'",
        ],
    );
    let enrolled = stdout(&fp.staff(&["list"], ""));
    let line = enrolled
        .lines()
        .find(|l| l.starts_with("li.counter"))
        .unwrap();
    assert!(line.contains(" yes "), "{line}");
    let reset = fp.staff(&["reset-mfa", "li.counter"], "");
    assert!(reset.status.success(), "{}", stderr(&reset));
    assert!(stderr(&reset).contains("next login"), "{}", stderr(&reset));
    assert_eq!(
        query_sqlite(
            &fp.db_path(),
            "SELECT username FROM staff WHERE totp_secret_enc IS NULL \
             AND totp_last_step IS NULL ORDER BY username"
        ),
        ["admin.zhang", "li.counter"]
    );

    let disabled = fp.staff(&["disable", "li.counter"], "");
    assert!(disabled.status.success(), "{}", stderr(&disabled));
    let after = stdout(&fp.staff(&["list"], ""));
    let line = after.lines().find(|l| l.starts_with("li.counter")).unwrap();
    assert!(line.contains("disabled"), "{line}");

    let unknown = fp.staff(&["disable", "nobody"], "");
    assert_eq!(unknown.status.code(), Some(1));
    assert!(
        stderr(&unknown).contains("no staff account named"),
        "{}",
        stderr(&unknown)
    );

    let actions = query_sqlite(
        &fp.db_path(),
        "SELECT action || ':' || outcome || ':' || actor_kind FROM audit_events ORDER BY seq",
    );
    assert_eq!(
        actions,
        [
            "staff.list:success:operator",
            "staff.add:success:operator",
            "staff.add:success:operator",
            "staff.list:success:operator",
            "staff.list:success:operator",
            "staff.reset_mfa:success:operator",
            "staff.disable:success:operator",
            "staff.list:success:operator",
            "staff.disable:failure:operator",
        ]
    );
    let verify = fp.run(&["audit", "verify"]);
    assert!(verify.status.success(), "{}", stderr(&verify));
    assert!(
        stderr(&verify).contains("9 events verified"),
        "{}",
        stderr(&verify)
    );
}

#[test]
fn a_weak_staff_password_is_refused_with_the_reason() {
    let fp = Fundpass::new();
    let short = fp.add_staff("wang.li", "counter", "Ab1!short");
    assert_eq!(short.status.code(), Some(1));
    assert!(
        stderr(&short).contains("at least 12 characters"),
        "{}",
        stderr(&short)
    );
    let classes = fp.add_staff("wang.li", "counter", "riverlanternstorm");
    assert_eq!(classes.status.code(), Some(1));
    assert!(
        stderr(&classes)
            .contains("at least 3 of: lower-case letters, upper-case letters, digits, symbols"),
        "{}",
        stderr(&classes)
    );
    let own_name = fp.add_staff("wang.li", "counter", "Wang.Li-Harbour-47");
    assert!(
        stderr(&own_name).contains("must not contain the user name"),
        "{}",
        stderr(&own_name)
    );
    let common = fp.add_staff("wang.li", "counter", "Password123!");
    assert!(
        stderr(&common).contains("too common"),
        "{}",
        stderr(&common)
    );
    let none = fp.add_staff("wang.li", "counter", "");
    assert!(stderr(&none).contains("no password"), "{}", stderr(&none));
    assert_eq!(staff_count(&fp), 0);
    let refused = query_sqlite(
        &fp.db_path(),
        "SELECT json_extract(details, '$.reason') FROM audit_events \
         WHERE action = 'staff.add' AND outcome = 'denied'",
    );
    assert_eq!(
        refused,
        [
            "weak_password",
            "weak_password",
            "weak_password",
            "weak_password",
            "no_password"
        ]
    );
}

#[test]
fn an_unknown_role_or_a_taken_user_name_is_refused() {
    let fp = Fundpass::new();
    let root = fp.add_staff("wang.li", "root", STAFF_PASSWORD);
    assert_eq!(root.status.code(), Some(1));
    assert!(
        stderr(&root).contains("unknown role \"root\""),
        "{}",
        stderr(&root)
    );
    assert!(
        stderr(&root).contains("counter, hotline, supervisor, auditor or admin"),
        "{}",
        stderr(&root)
    );
    assert_eq!(staff_count(&fp), 0);

    assert!(
        fp.add_staff("wang.li", "hotline", STAFF_PASSWORD)
            .status
            .success()
    );
    let again = fp.add_staff("Wang.Li", "admin", "Other-Harbour-58");
    assert_eq!(again.status.code(), Some(1));
    assert!(
        stderr(&again).contains("a staff account named wang.li already exists"),
        "{}",
        stderr(&again)
    );
    assert_eq!(
        query_sqlite(&fp.db_path(), "SELECT role FROM staff"),
        ["hotline"],
        "the first account is untouched"
    );
}

#[test]
fn a_staff_password_never_appears_in_output_or_the_database() {
    let fp = Fundpass::new();
    let mut outputs = vec![fp.add_staff("zhou.audit", "auditor", STAFF_PASSWORD)];
    assert!(outputs[0].status.success(), "{}", stderr(&outputs[0]));
    outputs.push(fp.staff(&["list"], ""));
    outputs.push(fp.add_staff("zhou.audit", "auditor", STAFF_PASSWORD));
    outputs.push(fp.add_staff("weak.one", "counter", "Harbourharbour"));
    outputs.push(fp.staff(&["reset-mfa", "zhou.audit"], ""));
    for out in &outputs {
        assert!(!stdout(out).contains(STAFF_PASSWORD), "{}", stdout(out));
        assert!(!stderr(out).contains(STAFF_PASSWORD), "{}", stderr(out));
        assert!(!stderr(out).contains("Harbourharbour"), "{}", stderr(out));
    }
    let db = fp.database_bytes();
    for secret in [STAFF_PASSWORD, "Harbourharbour"] {
        assert!(
            !db.windows(secret.len()).any(|w| w == secret.as_bytes()),
            "{secret} is in the database"
        );
    }
    let hash = query_sqlite(&fp.db_path(), "SELECT password_hash FROM staff");
    assert!(hash[0].starts_with("$argon2id$"), "{hash:?}");
    let verify = fp.run(&["audit", "verify"]);
    assert!(verify.status.success(), "{}", stderr(&verify));
}

#[test]
fn a_staff_members_own_document_is_kept_only_as_a_blind_index() {
    let fp = Fundpass::new();
    let args = |user: &'static str, id_type: &'static str| {
        [
            "add",
            "--username",
            user,
            "--name",
            "王力",
            "--role",
            "counter",
            "--branch-id",
            "BJ-DC-01",
            "--branch-name",
            "东城管理部",
            "--own-id-type",
            id_type,
        ]
    };
    let own = "110105199003071239";
    let added = fp.staff(
        &args("wang.own", "resident_id"),
        &format!("{STAFF_PASSWORD}\n{own}\n"),
    );
    assert!(added.status.success(), "{}", stderr(&added));
    assert!(!stderr(&added).contains(own), "{}", stderr(&added));
    let indexed = query_sqlite(
        &fp.db_path(),
        "SELECT hex(member_index) FROM staff WHERE username = 'wang.own'",
    );
    assert_eq!(indexed.len(), 1);
    assert_eq!(indexed[0].len(), 64, "a 32-byte keyed MAC: {indexed:?}");
    let db = fp.database_bytes();
    assert!(
        !db.windows(own.len()).any(|w| w == own.as_bytes()),
        "the document number is in the database"
    );

    let bad_number = fp.staff(
        &args("wang.bad", "resident_id"),
        &format!("{STAFF_PASSWORD}\n110105199003071238\n"),
    );
    assert!(!bad_number.status.success());
    assert!(
        stderr(&bad_number).contains("own document number"),
        "{}",
        stderr(&bad_number)
    );
    assert!(
        !stderr(&bad_number).contains("110105199003071238"),
        "the number is not echoed: {}",
        stderr(&bad_number)
    );
    let bad_type = fp.staff(
        &args("wang.type", "id_card"),
        &format!("{STAFF_PASSWORD}\n{own}\n"),
    );
    assert!(!bad_type.status.success());
    assert!(
        stderr(&bad_type).contains("unknown document type"),
        "{}",
        stderr(&bad_type)
    );
    let missing = fp.staff(
        &args("wang.none", "resident_id"),
        &format!("{STAFF_PASSWORD}\n"),
    );
    assert!(!missing.status.success(), "no number on the second line");
    assert_eq!(staff_count(&fp), 1, "only the first account was created");
}

// --- business systems and receipt-signing keys ----------------------------------

/// RFC 8037's example Ed25519 public key (RFC 8032, test 1) and its RFC 7638
/// thumbprint as given there.
const ED25519_JWK: &str =
    r#"{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}"#;
const ED25519_THUMBPRINT: &str = "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k";
/// The same key as a PEM SubjectPublicKeyInfo.
const ED25519_PEM: &str = "-----BEGIN PUBLIC KEY-----\n\
    MCowBQYDK2VwAyEA11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=\n\
    -----END PUBLIC KEY-----\n";
/// RFC 7515 A.3's example P-256 public key.
const P256_JWK: &str = r#"{"kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}"#;

impl Fundpass {
    /// `fundpass clients add --name ID --scopes … --public-key FILE EXTRA…` with
    /// `key` written to FILE.
    fn add_client(&self, id: &str, scopes: &str, key: &str, extra: &[&str]) -> Output {
        let file = self.write(&format!("{id}.key"), key);
        let mut args = vec![
            "clients",
            "add",
            "--name",
            id,
            "--scopes",
            scopes,
            "--public-key",
            file.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        self.run(&args)
    }

    fn audit_rows(&self) -> Vec<String> {
        query_sqlite(
            &self.db_path(),
            "SELECT action || ':' || outcome || ':' || actor_kind || ':' || channel || ' ' \
             || details FROM audit_events ORDER BY seq",
        )
    }
}

/// The value printed on stdout after `label: `.
fn printed(out: &Output, label: &str) -> String {
    let text = stdout(out);
    let line = text
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{label}: ")))
        .unwrap_or_else(|| panic!("no {label} in {text}"));
    line.to_owned()
}

/// A client's block in `clients list`: its first line up to the next client's.
fn listed_client(list: &str, id: &str) -> String {
    let mut lines = list
        .lines()
        .skip_while(|l| !l.starts_with(&format!("{id}  ")));
    let first = lines.next().unwrap_or_else(|| panic!("{id} not in {list}"));
    let rest: Vec<&str> = lines.take_while(|l| l.starts_with(' ')).collect();
    format!("{first}\n{}", rest.join("\n"))
}

#[test]
fn business_systems_are_added_listed_disabled_and_their_key_rotated() {
    let fp = Fundpass::new();
    let empty = fp.run(&["clients", "list"]);
    assert!(empty.status.success(), "{}", stderr(&empty));
    assert!(
        stderr(&empty).contains("no business systems"),
        "none after install: {}",
        stderr(&empty)
    );

    let withdrawals = fp.add_client(
        "withdrawals",
        "payments:authorize,holds:read,members:read,tokens:introspect",
        ED25519_JWK,
        &[
            "--description",
            "提取系统",
            "--webhook-url",
            "http://127.0.0.1:9/hook",
        ],
    );
    assert!(withdrawals.status.success(), "{}", stderr(&withdrawals));
    assert!(
        stderr(&withdrawals).contains(ED25519_THUMBPRINT),
        "{}",
        stderr(&withdrawals)
    );
    let loans = fp.add_client("loans", "holds:read", ED25519_PEM, &["--with-secret"]);
    assert!(loans.status.success(), "{}", stderr(&loans));

    let list = stdout(&fp.run(&["clients", "list"]));
    let w = listed_client(&list, "withdrawals");
    for part in [
        "withdrawals  enabled",
        "提取系统",
        "payments:authorize holds:read members:read tokens:introspect",
        &format!("EdDSA {ED25519_THUMBPRINT}"),
        "http://127.0.0.1:9/hook",
        "client secret: no",
    ] {
        assert!(w.contains(part), "{part:?} missing: {w}");
    }
    let l = listed_client(&list, "loans");
    for part in [
        "loans  enabled",
        "scopes:        holds:read",
        &format!("EdDSA {ED25519_THUMBPRINT}"),
        "webhook:       none",
        "client secret: yes (dev mode only)",
    ] {
        assert!(l.contains(part), "{part:?} missing: {l}");
    }

    let disabled = fp.run(&["clients", "disable", "withdrawals"]);
    assert!(disabled.status.success(), "{}", stderr(&disabled));
    assert!(
        stderr(&disabled).contains("refused from its next call"),
        "{}",
        stderr(&disabled)
    );
    assert_eq!(
        query_sqlite(
            &fp.db_path(),
            "SELECT id FROM service_clients WHERE disabled_at IS NOT NULL"
        ),
        ["withdrawals"]
    );
    let p256 = fp.write("p256.jwk", P256_JWK);
    let rotated = fp.run(&[
        "clients",
        "rotate-key",
        "loans",
        "--public-key",
        p256.to_str().unwrap(),
    ]);
    assert!(rotated.status.success(), "{}", stderr(&rotated));
    let list = stdout(&fp.run(&["clients", "list"]));
    assert!(
        listed_client(&list, "withdrawals").contains("withdrawals  disabled since"),
        "{list}"
    );
    let l = listed_client(&list, "loans");
    assert!(
        l.contains("key:           ES256 ") && l.contains("enabled"),
        "{l}"
    );
    assert!(!l.contains(ED25519_THUMBPRINT), "{l}");
    assert_eq!(
        query_sqlite(
            &fp.db_path(),
            "SELECT id || ' ' || version FROM service_clients ORDER BY id"
        ),
        ["loans 2", "withdrawals 2"]
    );

    let unknown = fp.run(&["clients", "disable", "nobody"]);
    assert_eq!(unknown.status.code(), Some(1));
    assert!(
        stderr(&unknown).contains("no client named \"nobody\""),
        "{}",
        stderr(&unknown)
    );
    let actions: Vec<String> = fp
        .audit_rows()
        .iter()
        .map(|r| r.split(' ').next().unwrap().to_owned())
        .collect();
    assert_eq!(
        actions,
        [
            "client.list:success:operator:cli",
            "client.add:success:operator:cli",
            "client.add:success:operator:cli",
            "client.list:success:operator:cli",
            "client.disable:success:operator:cli",
            "client.rotate_key:success:operator:cli",
            "client.list:success:operator:cli",
            "client.disable:failure:operator:cli",
        ]
    );
    let verify = fp.run(&["audit", "verify"]);
    assert!(
        stderr(&verify).contains("8 events verified"),
        "{}",
        stderr(&verify)
    );
}

#[test]
fn a_bad_client_id_unknown_scope_bad_key_or_plain_http_webhook_is_refused() {
    let fp = Fundpass::new();
    let scopes = "payments:authorize,holds:read";
    let refused = |out: Output, expected: &str| {
        assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
        assert!(stderr(&out).contains(expected), "{}", stderr(&out));
    };
    refused(
        fp.add_client("Withdrawals", scopes, ED25519_JWK, &[]),
        "client id \"Withdrawals\" is refused: a client id is 3 to 64 characters",
    );
    refused(
        fp.add_client("withdrawals", "payments:authorize,admin", ED25519_JWK, &[]),
        "unknown scope \"admin\": choose from payments:authorize, holds:read",
    );
    refused(
        fp.add_client("withdrawals", scopes, "ssh-ed25519 AAAAC3Nz", &[]),
        "is refused: the key is neither a JWK nor a PEM public key",
    );
    refused(
        fp.add_client(
            "withdrawals",
            scopes,
            "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEI\n-----END PRIVATE KEY-----\n",
            &[],
        ),
        "holds a private key",
    );
    refused(
        fp.run(&[
            "clients",
            "add",
            "--name",
            "withdrawals",
            "--scopes",
            scopes,
            "--public-key",
            "/nonexistent/key.jwk",
        ]),
        "cannot read the public key file /nonexistent/key.jwk",
    );
    refused(
        fp.add_client(
            "withdrawals",
            scopes,
            ED25519_JWK,
            &["--webhook-url", "http://loans.gjj.example/hook"],
        ),
        "http:// is only for 127.0.0.1, localhost or [::1]",
    );
    assert!(
        query_sqlite(&fp.db_path(), "SELECT id FROM service_clients").is_empty(),
        "nothing registered"
    );

    assert!(
        fp.add_client("withdrawals", scopes, ED25519_JWK, &[])
            .status
            .success()
    );
    refused(
        fp.add_client("withdrawals", "holds:read", P256_JWK, &[]),
        "a client named withdrawals already exists",
    );
    let bad = fp.write("bad.jwk", r#"{"kty":"RSA","n":"AQAB","e":"AQAB"}"#);
    refused(
        fp.run(&[
            "clients",
            "rotate-key",
            "withdrawals",
            "--public-key",
            bad.to_str().unwrap(),
        ]),
        "is refused",
    );
    assert_eq!(
        query_sqlite(
            &fp.db_path(),
            "SELECT scopes || ' ' || version FROM service_clients"
        ),
        ["payments:authorize holds:read 1"],
        "the first registration is untouched"
    );
    let reasons = query_sqlite(
        &fp.db_path(),
        "SELECT action || ':' || json_extract(details, '$.reason') FROM audit_events \
         WHERE outcome = 'denied' ORDER BY seq",
    );
    assert_eq!(
        reasons,
        [
            "client.add:bad_client_id",
            "client.add:unknown_scope",
            "client.add:bad_public_key",
            "client.add:private_key_given",
            "client.add:unreadable_key_file",
            "client.add:bad_webhook_url",
            "client.add:duplicate_client_id",
            "client.rotate_key:bad_public_key",
        ]
    );
}

#[test]
fn client_secrets_are_shown_once_and_never_stored_or_audited_in_clear() {
    let fp = Fundpass::new();
    let added = fp.add_client(
        "benefits",
        "holds:read,members:read",
        P256_JWK,
        &[
            "--webhook-url",
            "https://benefits.gjj.example/fundpass/events?token=receiver-own",
            "--with-secret",
        ],
    );
    assert!(added.status.success(), "{}", stderr(&added));
    let webhook_secret = printed(&added, "webhook_secret");
    assert_eq!(webhook_secret.len(), 64, "{webhook_secret}");
    assert!(webhook_secret.bytes().all(|b| b.is_ascii_hexdigit()));
    let client_secret = printed(&added, "client_secret");
    assert_eq!(client_secret.len(), 43, "{client_secret}");
    let notice = stderr(&added);
    assert_eq!(
        notice.matches("it will not be shown again").count()
            + notice.matches("It will not be shown again").count(),
        2,
        "{notice}"
    );
    assert!(notice.contains("accepted in dev mode only"), "{notice}");
    assert!(!notice.contains(&webhook_secret) && !notice.contains(&client_secret));

    let mut later = vec![fp.run(&["clients", "list"])];
    later.push(fp.run(&["clients", "disable", "benefits"]));
    let key = fp.write("new.jwk", ED25519_JWK);
    later.push(fp.run(&[
        "clients",
        "rotate-key",
        "benefits",
        "--public-key",
        key.to_str().unwrap(),
    ]));
    later.push(fp.add_client("benefits", "holds:read", P256_JWK, &[]));
    for out in &later {
        for secret in [&webhook_secret, &client_secret] {
            assert!(!stdout(out).contains(secret.as_str()), "{}", stdout(out));
            assert!(!stderr(out).contains(secret.as_str()), "{}", stderr(out));
        }
    }
    let db = fp.database_bytes();
    for secret in [&webhook_secret, &client_secret] {
        assert!(
            !db.windows(secret.len()).any(|w| w == secret.as_bytes()),
            "{secret} is in the database"
        );
    }
    assert_eq!(
        query_sqlite(
            &fp.db_path(),
            "SELECT id FROM service_clients \
             WHERE length(webhook_secret_enc) > 64 AND length(secret_digest) = 32"
        ),
        ["benefits"],
        "the webhook secret is sealed and only the client secret's digest is kept"
    );
    let rows = fp.audit_rows();
    assert_eq!(rows.len(), 5, "{rows:?}");
    for row in &rows {
        for secret in [&webhook_secret, &client_secret, &"receiver-own".to_owned()] {
            assert!(!row.contains(secret.as_str()), "{row}");
        }
    }
    assert!(
        rows[0].contains("https://benefits.gjj.example"),
        "the webhook's origin is recorded: {}",
        rows[0]
    );
}

/// Removes the receipt-signing keys from the key file, as key files made before
/// receipts existed were.
fn strip_signing_keys(fp: &Fundpass) {
    let path = fp.data_dir().join("keys.json");
    let mut doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    doc.as_object_mut().unwrap().remove("signing").unwrap();
    std::fs::write(&path, doc.to_string()).unwrap();
}

#[test]
fn receipt_signing_keys_are_rotated_and_retired() {
    let fp = Fundpass::new();
    let init = fp.run(&["keys", "init"]);
    assert!(
        stderr(&init).contains("signing s1 (active)"),
        "{}",
        stderr(&init)
    );
    let rotated = fp.run(&["keys", "rotate-signing"]);
    assert!(rotated.status.success(), "{}", stderr(&rotated));
    assert!(
        stderr(&rotated).contains("new receipt-signing key s2 is active (published: s1, s2)"),
        "{}",
        stderr(&rotated)
    );
    let listed = fp.run(&["keys", "list"]);
    assert!(
        stderr(&listed).contains("signing s1, s2 (active)"),
        "{}",
        stderr(&listed)
    );
    let retired = fp.run(&["keys", "retire-signing"]);
    assert!(retired.status.success(), "{}", stderr(&retired));
    assert!(
        stderr(&retired).contains("retired receipt-signing keys s1"),
        "{}",
        stderr(&retired)
    );
    assert!(
        stderr(&fp.run(&["keys", "list"])).contains("signing s2 (active)\n"),
        "only the active key is left"
    );

    strip_signing_keys(&fp);
    assert!(
        stderr(&fp.run(&["keys", "list"])).contains("signing none"),
        "an old key file has no signing key"
    );
    let added = fp.run(&["keys", "rotate-signing"]);
    assert!(
        stderr(&added).contains("new receipt-signing key s1 is active"),
        "{}",
        stderr(&added)
    );
    let rows = fp.audit_rows();
    let actions: Vec<&str> = rows.iter().map(|r| r.split(' ').next().unwrap()).collect();
    assert_eq!(
        actions,
        [
            "keys.rotate_signing:success:operator:cli",
            "keys.retire_signing:success:operator:cli",
            "keys.rotate_signing:success:operator:cli",
        ]
    );
    let keys: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(fp.data_dir().join("keys.json")).unwrap())
            .unwrap();
    let seed = keys["signing"]["keys"]["s1"].as_str().unwrap();
    assert_eq!(seed.len(), 64, "a 32-byte Ed25519 seed in hex");
    assert!(rows.iter().all(|r| !r.contains(seed)), "{rows:?}");
}

#[test]
fn production_refuses_to_serve_without_a_signing_key_and_names_the_command() {
    let fp = Fundpass::new();
    assert!(fp.run(&["keys", "init"]).status.success());
    assert!(fp.run(&["migrate"]).status.success());
    strip_signing_keys(&fp);
    let config = fp.write(
        "prod.toml",
        "mode = \"production\"\n[server]\nsecure_cookies = true\n\
         public_origin = \"https://gjj.example\"\n\
         [sms]\nsender = \"webhook\"\nwebhook_url = \"https://sms.example\"\n",
    );
    let c = config.to_str().unwrap();
    let out = fp.run(&["--config", c, "serve", "--bind", "127.0.0.1:0"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("no receipt-signing key: run `fundpass keys rotate-signing`"),
        "{}",
        stderr(&out)
    );
    let keys = std::fs::read_to_string(fp.data_dir().join("keys.json")).unwrap();
    assert!(
        !keys.contains("signing"),
        "production never adds keys itself"
    );

    let rotated = fp.run(&["--config", c, "keys", "rotate-signing"]);
    assert!(rotated.status.success(), "{}", stderr(&rotated));
    let out = fp.run(&["--config", c, "serve", "--bind", "127.0.0.1:0"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("needs a secret (FUNDPASS_SMS_WEBHOOK_SECRET)"),
        "past the key check, stopped by the next one: {}",
        stderr(&out)
    );
}

#[test]
fn serve_gives_an_old_dev_key_file_a_signing_key_and_the_internal_api_its_own_listener() {
    let fp = Fundpass::new();
    assert!(fp.run(&["keys", "init"]).status.success());
    strip_signing_keys(&fp);
    let (public, internal) = (free_port(), free_port());
    let config = fp.write(
        "fundpass.toml",
        &format!("[server]\ninternal_bind = \"127.0.0.1:{internal}\"\n"),
    );
    let (child, ready) = start_serve(&fp, &["--config", config.to_str().unwrap()], &[], public);
    assert!(ready.starts_with("HTTP/1.1 200"), "{ready}");
    let keys = http_get(internal, "/internal/v1/jwks.json").unwrap_or_default();
    assert!(keys.starts_with("HTTP/1.1 200"), "{keys}");
    assert!(keys.contains(r#""kid":"s1""#), "{keys}");
    let on_public = http_get(public, "/internal/v1/jwks.json").unwrap();
    assert!(on_public.starts_with("HTTP/1.1 404"), "{on_public}");
    assert!(
        http_get(internal, "/healthz").unwrap().ends_with("ok"),
        "the internal listener answers health checks"
    );
    let out = stop_serve(child);
    let printed = stderr(&out);
    for line in [
        "added receipt-signing key s1 to the key file".to_owned(),
        format!("internal API listening on http://127.0.0.1:{internal}"),
        format!("token endpoint: http://127.0.0.1:{internal}/internal/oauth/token"),
    ] {
        assert!(printed.contains(&line), "{line:?} missing: {printed}");
    }
    let file = std::fs::read_to_string(fp.data_dir().join("keys.json")).unwrap();
    assert!(file.contains("\"signing\""), "{file}");
}

#[test]
fn an_operator_freezes_and_unfreezes_an_account_with_an_audited_reason() {
    let fp = Fundpass::new();
    assert!(
        fp.import(&format!("{HEADER}{GOOD_1}"), &[])
            .status
            .success()
    );
    let status = || query_sqlite(&fp.db_path(), "SELECT status FROM members");
    let freeze = fp.run(&[
        "member",
        "freeze",
        "--account",
        "200000000001",
        "--reason",
        "court order 110105199003071239",
    ]);
    assert!(freeze.status.success(), "{}", stderr(&freeze));
    assert_eq!(status(), ["frozen"]);
    let again = fp.run(&[
        "member",
        "freeze",
        "--account",
        "200000000001",
        "--reason",
        "x",
    ]);
    assert_eq!(again.status.code(), Some(1));
    assert!(
        stderr(&again).contains("already frozen"),
        "{}",
        stderr(&again)
    );
    let nobody = fp.run(&[
        "member",
        "freeze",
        "--account",
        "299999999999",
        "--reason",
        "x",
    ]);
    assert_eq!(nobody.status.code(), Some(1));
    let unfreeze = fp.run(&[
        "member",
        "unfreeze",
        "--account",
        "200000000001",
        "--reason",
        "lifted",
    ]);
    assert!(unfreeze.status.success(), "{}", stderr(&unfreeze));
    assert_eq!(status(), ["ordinary"], "never registered: back to ordinary");
    let actions = query_sqlite(
        &fp.db_path(),
        "SELECT action || ' ' || outcome FROM audit_events",
    );
    for expected in [
        "member.freeze success",
        "member.freeze denied",
        "member.unfreeze success",
    ] {
        assert!(
            actions.iter().any(|a| a == expected),
            "{expected}: {actions:?}"
        );
    }
    let details = query_sqlite(&fp.db_path(), "SELECT details FROM audit_events").join("\n");
    assert!(!details.contains("110105199003071239"), "{details}");
}

#[test]
fn undelivered_events_of_a_business_system_are_queued_again_on_request() {
    let fp = Fundpass::new();
    let added = fp.add_client(
        "withdrawals",
        "holds:read",
        ED25519_JWK,
        &["--webhook-url", "http://127.0.0.1:9/hook"],
    );
    assert!(added.status.success(), "{}", stderr(&added));
    let out = fp.run(&["clients", "redeliver", "withdrawals"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("0 undelivered"), "{}", stderr(&out));
    let unknown = fp.run(&["clients", "redeliver", "loans"]);
    assert!(!unknown.status.success());
    assert!(
        stderr(&unknown).contains("no business system"),
        "{}",
        stderr(&unknown)
    );
}

#[test]
fn metrics_are_served_on_their_own_listener_with_every_dashboard_metric_and_logs_are_json() {
    let fp = Fundpass::new();
    let (port, metrics_port) = (free_port(), free_port());
    let config = fp.write(
        "fundpass.toml",
        &format!("[server]\nmetrics_bind = \"127.0.0.1:{metrics_port}\"\nlog_format = \"json\"\n"),
    );
    let config = config.to_str().unwrap();
    let (child, _) = start_serve(&fp, &["--config", config], &["--demo"], port);
    let issued = http_post_json(port, "/api/v1/captcha", "");
    assert!(issued.starts_with("HTTP/1.1 201"), "{issued}");
    let login = r#"{"id_type":"resident_id","id_number":"110105199003071239","password":"x","captcha_id":"nope","captcha_answer":"x"}"#;
    let refused = http_post_json(port, "/api/v1/login", login);
    assert!(refused.starts_with("HTTP/1.1 400"), "{refused}");

    let scraped = http_get(metrics_port, "/metrics").unwrap();
    assert!(scraped.starts_with("HTTP/1.1 200"), "{scraped}");
    assert!(scraped.contains("text/plain; version=0.0.4"), "{scraped}");
    let public = http_get(port, "/metrics").unwrap();
    assert!(
        public.starts_with("HTTP/1.1 404"),
        "not on the public listener"
    );

    let dashboard: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../../deploy/grafana/fundpass-dashboard.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let names = dashboard_metrics(&dashboard);
    assert!(names.len() >= 15, "{names:?}");
    for name in &names {
        let exported = scraped.lines().any(|line| {
            line.starts_with(&format!("{name}{{")) || line.starts_with(&format!("{name} "))
        });
        assert!(
            exported,
            "{name} is on the dashboard but not exported:\n{scraped}"
        );
    }
    assert!(scraped.contains(r#"route="/api/v1/captcha""#), "{scraped}");
    assert!(
        scraped.contains(r#"fundpass_captchas_issued_total 1"#),
        "{scraped}"
    );
    assert!(
        scraped.contains(r#"fundpass_captchas_failed_total{reason="expired"} 1"#),
        "{scraped}"
    );
    // Labels are templates and kinds: the document typed never appears.
    assert!(!scraped.contains("110105199003071239"), "{scraped}");

    let out = stop_serve(child);
    let log = stderr(&out);
    let lines: Vec<serde_json::Value> = log
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|_| panic!("not JSON: {l}")))
        .collect();
    let request = lines
        .iter()
        .find(|l| l["fields"]["route"] == "/api/v1/captcha")
        .unwrap_or_else(|| panic!("no access line for the captcha:\n{log}"));
    assert_eq!(request["level"], "INFO");
    assert_eq!(request["fields"]["status"], 201);
    assert!(request["fields"]["latency_ms"].is_number(), "{request}");
    assert!(request["timestamp"].is_string(), "{request}");
    assert!(
        request["span"]["request_id"]
            .as_str()
            .is_some_and(|id| id.len() >= 32),
        "{request}"
    );
    assert!(!log.contains("110105199003071239"), "{log}");
}
