//! Mobile numbers (checks in `fundpass_core::fuzzing::identity::check_phone`).

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Err(violation) = fundpass_core::fuzzing::identity::check_phone(data) {
        panic!("{violation}");
    }
});
