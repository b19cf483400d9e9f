//! The append-only, hash-chained audit trail.
//!
//! Each record carries the SHA-256 of the record before it, so that editing, deleting
//! or reordering any stored row breaks the chain at a point [`ChainVerifier`] names.
//! Details are masked before they reach an event: never a secret, a code or a full ID
//! number.

mod chain;
mod event;
mod sms;

pub use chain::{ChainBreak, ChainVerifier, GENESIS_HASH};
pub use event::{Actor, ActorKind, AuditEvent, AuditRecord, Channel, Outcome};
pub use sms::{SMS_ACTION, sms_events};
