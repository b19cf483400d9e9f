//! Login and transaction passwords.
