//! Getting a forgotten secret back through the app (seed scenarios 1 to 3).
//!
//! - [`login`]: the login password, anonymously: name, document and captcha, then
//!   the transaction password, then a new login password twice.
//! - [`transaction`]: the transaction password, with a bearer token (a full login or
//!   the recovery-only token of a face login): name and document, the phone on file
//!   typed in full, an SMS code, then a new transaction password twice.
//!
//! Every completed reset ends all the member's tokens, places a hold and texts the
//! phone on file; the app then logs in again.

pub mod login;
pub mod transaction;

use fundpass_core::portal::NewSecret;
use secrecy::{ExposeSecret as _, SecretString};
use serde::Serialize;
use utoipa::ToSchema;

/// What to do next in a recovery.
#[derive(Debug, Serialize, ToSchema)]
pub struct RecoveryNext {
    /// The next step: `new_password` or `new_transaction_password`.
    #[schema(example = "new_password")]
    pub next: &'static str,
}

/// A secret was reset.
#[derive(Debug, Serialize, ToSchema)]
pub struct RecoveryDone {
    /// Always `reset`.
    #[schema(example = "reset")]
    pub status: &'static str,
    /// What the member should know now.
    pub message: &'static str,
}

/// The answer to every completed reset.
pub(super) const DONE: RecoveryDone = RecoveryDone {
    status: "reset",
    message: "The password was reset and every device was logged out. \
              Log in again; a text was sent to the phone on file.",
};

/// A new secret typed twice, as the use cases take it.
pub(super) fn new_secret(value: &SecretString, again: &SecretString) -> NewSecret {
    NewSecret {
        value: value.expose_secret().to_owned(),
        again: again.expose_secret().to_owned(),
    }
}
