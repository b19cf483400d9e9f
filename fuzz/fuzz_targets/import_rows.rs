//! Import files, CSV or JSON Lines by the first byte (checks in `fundpass::import_file::fuzzing::check_import_rows`).

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Err(violation) = fundpass::import_file::fuzzing::check_import_rows(data) {
        panic!("{violation}");
    }
});
