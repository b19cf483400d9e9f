//! Request bodies of the app's JSON API (checks in `fundpass_server::fuzzing::check_api_json_body`).

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Err(violation) = fundpass_server::fuzzing::check_api_json_body(data) {
        panic!("{violation}");
    }
});
