//! Forms of the portal and the staff console (checks in `fundpass_server::fuzzing::check_web_form_body`).

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Err(violation) = fundpass_server::fuzzing::check_web_form_body(data) {
        panic!("{violation}");
    }
});
