//! Turning sqlx errors into the domain's [`StoreError`], one case at a time.
//!
//! Messages keep the database's words but never the bound values, so a log line cannot
//! leak an ID number or a hash.

use fundpass_core::ports::{DatabaseUnavailable, StoreError};
use sqlx::error::{DatabaseError, ErrorKind};

/// Unique constraints as SQLite names them (by columns) and as PostgreSQL names them
/// (by constraint name), so that both backends report the same constraint name.
const UNIQUE_CONSTRAINTS: &[(&str, &str)] = &[
    ("members.account_no", "members_account_no_key"),
    (
        "members.id_type, members.id_number_index",
        "members_document_key",
    ),
    ("audit_events.seq", "audit_events_pkey"),
    ("staff.username", "staff_username_key"),
    (
        "security_answers.member_id, security_answers.slot",
        "security_answers_pkey",
    ),
    (
        "security_answers.member_id, security_answers.question",
        "security_answers_question_key",
    ),
    ("staff_sessions.token_digest", "staff_sessions_pkey"),
    ("assisted_cases.id", "assisted_cases_pkey"),
    ("assisted_cases.ticket_mac", "assisted_cases_ticket_key"),
    ("assisted_cases.redeem_digest", "assisted_cases_redeem_key"),
    ("hotline_checks.id", "hotline_checks_pkey"),
    ("service_clients.id", "service_clients_pkey"),
    (
        "client_assertions.client_id, client_assertions.jti",
        "client_assertions_pkey",
    ),
    (
        "payment_authorizations.client_id, payment_authorizations.idempotency_key",
        "payment_authorizations_idempotency_key",
    ),
];

/// SQLSTATEs of a PostgreSQL server that cannot take work now: connection exceptions
/// (class 08), shutting down or starting up (57P01–57P03), too many connections, and
/// a server that turned read-only under an open connection (25006: the leader was
/// demoted in a switchover; the proxy sends new connections to the new leader).
const POSTGRES_UNAVAILABLE: &[&str] = &["57P01", "57P02", "57P03", "53300", "25006"];
/// SQLite's "busy" and "locked" result codes, extended ones included: another
/// connection or process held the file past the busy timeout.
const SQLITE_BUSY: &[&str] = &["5", "6", "261", "262", "517", "773"];

/// Maps a sqlx error: unique violation → `Duplicate(constraint)`, no row → `NotFound`,
/// a database that cannot be reached or will not take work now → `Unavailable`,
/// everything else → `Backend(message)`.
pub(crate) fn db_error(err: sqlx::Error) -> StoreError {
    match err {
        sqlx::Error::RowNotFound => StoreError::NotFound,
        sqlx::Error::Database(db) => match db.kind() {
            ErrorKind::UniqueViolation => StoreError::Duplicate(constraint_name(db.as_ref())),
            _ if unavailable_code(db.code().as_deref()) => {
                unavailable(database_message(db.as_ref()))
            }
            // Foreign-key, check and not-null violations are defects of the caller or of
            // the schema, not conditions the domain handles (`ErrorKind` is
            // non-exhaustive, hence the catch-all).
            _ => StoreError::Backend(database_message(db.as_ref())),
        },
        // No connection within the pool's acquire timeout (the server is down, or
        // every connection is busy), the connection broke, or the pool is closing.
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_) => unavailable(err.to_string()),
        other => StoreError::Backend(other.to_string()),
    }
}

fn unavailable(message: String) -> StoreError {
    StoreError::Unavailable(DatabaseUnavailable(message))
}

/// Whether a database error code says the database cannot take work for now.
fn unavailable_code(code: Option<&str>) -> bool {
    code.is_some_and(|c| {
        c.starts_with("08") || POSTGRES_UNAVAILABLE.contains(&c) || SQLITE_BUSY.contains(&c)
    })
}

/// Maps a migration failure.
pub(crate) fn migrate_error(err: sqlx::migrate::MigrateError) -> StoreError {
    match err {
        sqlx::migrate::MigrateError::Execute(inner) => db_error(inner),
        other => StoreError::Backend(format!("migration: {other}")),
    }
}

/// Whether the error is a broken uniqueness rule (used to retry a raced append).
pub(crate) fn is_unique_violation(err: &sqlx::Error) -> bool {
    matches!(err, sqlx::Error::Database(db) if db.is_unique_violation())
}

/// An error for a stored value the domain cannot read back (corrupt or foreign data).
pub(crate) fn bad_value(what: &str) -> StoreError {
    StoreError::Backend(format!("stored {what} is not valid"))
}

fn constraint_name(db: &dyn DatabaseError) -> String {
    if let Some(name) = db.constraint() {
        return name.to_owned();
    }
    // SQLite: "UNIQUE constraint failed: members.account_no".
    let columns = db
        .message()
        .split_once(": ")
        .map(|(_, cols)| cols.trim())
        .unwrap_or("");
    UNIQUE_CONSTRAINTS
        .iter()
        .find(|(sqlite, _)| *sqlite == columns)
        .map(|(_, name)| (*name).to_owned())
        .unwrap_or_else(|| columns.to_owned())
}

fn database_message(db: &dyn DatabaseError) -> String {
    // The primary message of both backends names tables, columns and constraints but
    // not values; PostgreSQL's DETAIL (which repeats values) is deliberately left out.
    match db.code() {
        Some(code) => format!("{} (code {code})", db.message()),
        None => db.message().to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_database_out_of_reach_is_unavailable_not_a_failure() {
        for err in [
            sqlx::Error::PoolTimedOut,
            sqlx::Error::PoolClosed,
            sqlx::Error::Io(std::io::ErrorKind::ConnectionRefused.into()),
        ] {
            assert!(matches!(db_error(err), StoreError::Unavailable(_)));
        }
        assert!(matches!(
            db_error(sqlx::Error::Protocol("unexpected message".into())),
            StoreError::Backend(_)
        ));
    }

    #[test]
    fn shutdown_connection_and_busy_codes_are_unavailable() {
        for code in [
            "57P01", "57P03", "08006", "08001", "53300", "25006", "5", "517",
        ] {
            assert!(unavailable_code(Some(code)), "{code}");
        }
        for code in ["23505", "23503", "42P01", "19", "2067"] {
            assert!(!unavailable_code(Some(code)), "{code}");
        }
        assert!(!unavailable_code(None));
    }
}
