//! HTTP adapters arrive with the member portal; this crate holds nothing yet.
