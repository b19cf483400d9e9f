//! Identity documents and mobile numbers: parsing, normalising and masking.
//!
//! Every document number and phone number enters the system through [`IdNumber::parse`]
//! or [`Phone::parse`], which forgive the way people type (spaces, full-width characters,
//! lower case, country codes) and refuse anything malformed with an error that says what
//! to fix. The normalised forms are what gets encrypted and blind-indexed; the masked forms
//! are what people see.

mod birth;
mod clean;
mod error;
mod id_type;
mod mask;
mod number;
mod passport;
mod permits;
mod phone;
#[cfg(test)]
mod proptests;
mod region;
mod resident;

pub use birth::{EARLIEST_BIRTH_DATE, birth_date_forms};
pub use clean::MAX_INPUT_CHARS;
pub(crate) use clean::to_ascii_width;
pub use error::IdNumberError;
pub use id_type::IdType;
pub use mask::mask_id_number;
pub use number::IdNumber;
pub use phone::{Phone, PhoneError, PhoneRisk};
