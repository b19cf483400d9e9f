//! The store test suite, one binary. Every test runs against SQLite (a fresh file) and,
//! when `FUNDPASS_TEST_POSTGRES_URL` names a PostgreSQL database we may create databases
//! through, against PostgreSQL too (a throw-away database per test).
//!
//! `cargo test -p fundpass-store --release -- --ignored --nocapture` prints the upsert rate.

// Helpers outside #[test] functions fail loudly too: this whole crate is test code.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod assisted;
mod audit;
mod business;
mod import;
mod members;
mod portal;
mod postgres_roles;
mod qualification;
mod record;
mod staff;
mod support;
mod upsert_rate;
