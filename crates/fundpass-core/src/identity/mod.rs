//! Identity documents and mobile numbers: parsing, normalising and masking.

mod id_type;

pub use id_type::IdType;
