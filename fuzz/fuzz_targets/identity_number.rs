//! Document numbers of every type (checks in `fundpass_core::fuzzing::identity::check_id_number`).

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Err(violation) = fundpass_core::fuzzing::identity::check_id_number(data) {
        panic!("{violation}");
    }
});
