//! Turning sqlx errors into the domain's [`StoreError`], one case at a time.
//!
//! Messages keep the database's words but never the bound values, so a log line cannot
//! leak an ID number or a hash.

use fundpass_core::ports::StoreError;
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

/// Maps a sqlx error: unique violation → `Duplicate(constraint)`, no row → `NotFound`,
/// everything else → `Backend(message)`.
pub(crate) fn db_error(err: sqlx::Error) -> StoreError {
    match err {
        sqlx::Error::RowNotFound => StoreError::NotFound,
        sqlx::Error::Database(db) => match db.kind() {
            ErrorKind::UniqueViolation => StoreError::Duplicate(constraint_name(db.as_ref())),
            // Foreign-key, check and not-null violations are defects of the caller or of
            // the schema, not conditions the domain handles (`ErrorKind` is
            // non-exhaustive, hence the catch-all).
            _ => StoreError::Backend(database_message(db.as_ref())),
        },
        other => StoreError::Backend(other.to_string()),
    }
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
