//! Staff second-factor codes (checks in `fundpass_core::fuzzing::totp::check_totp_code`).

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Err(violation) = fundpass_core::fuzzing::totp::check_totp_code(data) {
        panic!("{violation}");
    }
});
