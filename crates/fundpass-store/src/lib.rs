//! fundpass storage.
