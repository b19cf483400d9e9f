//! The saved inputs of the core's fuzz targets (`fuzz/corpus/<target>/` and crash
//! inputs in `fuzz/regressions/<target>/`) still pass the checks the targets make.

#![allow(clippy::panic)]

#[path = "../../../fuzz/replay.rs"]
mod replay;

use fundpass_core::fuzzing::{face, identity, totp};

#[test]
fn saved_document_numbers_keep_their_properties() {
    replay::replay("identity_number", identity::check_id_number);
}

#[test]
fn saved_phone_numbers_keep_their_properties() {
    replay::replay("phone", identity::check_phone);
}

#[test]
fn saved_face_results_are_judged_as_documented() {
    replay::replay("face_result", face::check_face_result);
}

#[test]
fn saved_totp_codes_are_accepted_only_when_right_and_new() {
    replay::replay("totp_code", totp::check_totp_code);
}
