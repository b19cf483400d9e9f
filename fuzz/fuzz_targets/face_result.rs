//! Face verification results (JWS), signed with fixed test keys (checks in `fundpass_core::fuzzing::face::check_face_result`).

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Err(violation) = fundpass_core::fuzzing::face::check_face_result(data) {
        panic!("{violation}");
    }
});
