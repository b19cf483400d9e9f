//! Audit trail rows as `fundpass audit verify` reads them (checks in `fundpass_store::fuzzing::check_audit_chain`).

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Err(violation) = fundpass_store::fuzzing::check_audit_chain(data) {
        panic!("{violation}");
    }
});
