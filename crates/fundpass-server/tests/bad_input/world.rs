//! Where a row runs: a fresh app per row (so that one row's lockouts and used-up
//! flows cannot decide another's answers) on SQLite, and on PostgreSQL too when
//! FUNDPASS_TEST_POSTGRES_URL is set.

use super::Row;
use super::run::{self, Table};
use crate::support::{TestApp, TestOptions};

/// The databases the table runs on.
#[derive(Debug, Clone, Copy)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// SQLite, and PostgreSQL when configured.
pub fn backends() -> Vec<Backend> {
    let mut out = vec![Backend::Sqlite];
    if std::env::var(crate::support::database::POSTGRES_URL_VAR).is_ok() {
        out.push(Backend::Postgres);
    }
    out
}

/// A new app (dev mode, default rules) on `backend`.
pub async fn spawn(backend: Backend) -> TestApp {
    match backend {
        Backend::Sqlite => TestApp::spawn().await,
        Backend::Postgres => TestApp::spawn_on_postgres(TestOptions::default())
            .await
            .expect("FUNDPASS_TEST_POSTGRES_URL is set"),
    }
}

/// Rows run at once: each in apps of its own, so only time is shared. PostgreSQL
/// rows go one at a time (each makes two databases, every test binary shares the
/// server's connections, and the store waits two seconds for one).
const AT_ONCE: usize = 4;

/// Every attempt of every row of `rows` (each in an app of its own), then each row's
/// good request (in another); the problems found, one line each, in the rows' order.
pub async fn check<T: Table + 'static>(rows: &'static [Row]) -> Vec<String> {
    let local = tokio::task::LocalSet::new();
    local
        .run_until(async {
            let mut runs = Vec::new();
            for backend in backends() {
                let at_once = match backend {
                    Backend::Sqlite => AT_ONCE,
                    Backend::Postgres => 1,
                };
                let permits = std::sync::Arc::new(tokio::sync::Semaphore::new(at_once));
                for row in rows {
                    let permits = permits.clone();
                    runs.push(tokio::task::spawn_local(async move {
                        let _permit = permits.acquire_owned().await.unwrap();
                        one_row::<T>(backend, row).await
                    }));
                }
            }
            let mut problems = Vec::new();
            for run in runs {
                match run.await {
                    Ok(found) => problems.extend(found),
                    Err(e) => std::panic::resume_unwind(e.into_panic()),
                }
            }
            problems
        })
        .await
}

async fn one_row<T: Table>(backend: Backend, row: &Row) -> Vec<String> {
    let app = spawn(backend).await;
    let mut state = T::setup(&app).await;
    let mut problems = run::attempts::<T>(&app, &mut state, row).await;
    // Its connections go now, not when its database is dropped.
    app.store.close().await;
    drop(app);
    let app = spawn(backend).await;
    let mut state = T::setup(&app).await;
    problems.extend(run::baseline::<T>(&app, &mut state, row).await);
    app.store.close().await;
    problems
}

/// How many hostile requests the table sends per database, and how many of their
/// ASCII controls (a good request per row comes on top).
pub fn requests(rows: &[Row]) -> (usize, usize) {
    rows.iter()
        .map(|row| {
            let attempts = super::cases::attempts(row);
            let controls = attempts.iter().filter(|a| a.control.is_some()).count();
            (attempts.len(), controls)
        })
        .fold((0, 0), |(a, c), (ra, rc)| (a + ra, c + rc))
}
