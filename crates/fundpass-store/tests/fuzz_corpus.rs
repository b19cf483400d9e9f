//! The saved inputs of the store's fuzz target (`fuzz/corpus/audit_chain/` and crash
//! inputs in `fuzz/regressions/audit_chain/`) still pass the checks the target makes.

#![allow(clippy::panic)]

#[path = "../../../fuzz/replay.rs"]
mod replay;

#[test]
fn saved_audit_trails_verify_only_when_untouched() {
    replay::replay("audit_chain", fundpass_store::fuzzing::check_audit_chain);
}
