//! The saved inputs of the server's fuzz targets (`fuzz/corpus/<target>/` and crash
//! inputs in `fuzz/regressions/<target>/`) still pass the checks the targets make.

#![allow(clippy::panic)]

#[path = "../../../fuzz/replay.rs"]
mod replay;

use fundpass_server::fuzzing::{check_api_json_body, check_web_form_body};

#[test]
fn saved_api_bodies_are_read_or_refused_in_the_envelope() {
    replay::replay("api_json_body", check_api_json_body);
}

#[test]
fn saved_form_bodies_hand_the_posted_token_to_the_csrf_check() {
    replay::replay("web_form_body", check_web_form_body);
}
