//! Protection of personal data at rest and of the password pepper.
//!
//! ID numbers and phone numbers are sealed with an AEAD (AES-256-GCM by default,
//! SM4-GCM for deployments held to the national algorithms) and found again through a
//! blind index: a keyed MAC of the normalised value (HMAC-SHA-256, or HMAC-SM3 with
//! SM4). Every key has an id so keys can be rotated while old data stays readable.

pub mod jws;
mod keyring;
mod mac;
mod sealed;
mod signing;
mod token;

pub use jws::{JwsAlgorithm, JwsSigner, PublicKey, PublicKeyError};
pub use keyring::{CipherSuite, KeyId, KeyMaterial, Keyring, KeyringDocument, KeyringError};
pub use sealed::{BlindIndex, Field, SealError, Sealed};
pub use token::{CODE_DIGITS, OneTimeCode, OpaqueToken, TOKEN_BYTES, TOKEN_CHARS, TokenDigest};
