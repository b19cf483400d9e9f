//! Login and transaction passwords: the rules a member's choice must meet, and how
//! the accepted secret is stored and checked.
//!
//! - [`LoginPassword::parse`] and [`TransactionPassword::parse`] turn what the member
//!   typed into a validated, NFKC-normalised secret or into every [`PolicyViolation`]
//!   at once, each with a stable code and a Chinese and English message.
//! - [`PasswordHasher`] stores either kind as Argon2id over the keyring's pepper MAC,
//!   in a PHC string whose `keyid` names the pepper, and tells when a stored hash
//!   should be re-made (weaker costs, older pepper).
//! - The "not one of the last N" rule needs stored hashes, so callers apply it with
//!   [`reused`].

pub(crate) mod blocklist;
mod context;
mod hasher;
mod login_policy;
mod reason;
mod transaction_policy;

pub use blocklist::common_password_count;
pub use context::PolicyContext;
pub use hasher::{HashError, HashParams, MAX_SECRET_BYTES, PasswordHasher, SALT_LEN, reused};
pub use login_policy::{LoginPassword, LoginPasswordPolicy};
pub use reason::{Lang, PolicyViolation};
pub use transaction_policy::{TRANSACTION_PASSWORD_LEN, TransactionPassword};
