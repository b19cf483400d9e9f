//! The anonymous identify steps (registration, forgotten login password, face login
//! start) answer no sooner than the identify floor, for a member's details and for
//! details nobody holds alike, so that what a match sets in motion takes no time a
//! caller could see. How alike the two answer times are is measured by
//! `cargo run --release -p fundpass-bench -- identify`; this test checks the lower
//! bound only, which holds however fast or busy the machine is.

// The whole file is test code, helpers included: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod api_common;
mod support;

use std::time::{Duration, Instant};

use api_common::{Api, LI, Person, Reply, STRANGER, WANG, seed};
use serde_json::json;
use support::{TestApp, TestOptions};

/// Long enough that no step answers this late by itself on a test machine.
const FLOOR: Duration = Duration::from_millis(800);

async fn app() -> TestApp {
    let mut options = TestOptions::default();
    options.policy.identify_floor = time::Duration::try_from(FLOOR).unwrap();
    let app = TestApp::spawn_with(options).await;
    seed(&app, &WANG).await;
    seed(&app, &LI).await;
    app
}

/// Times `step` (the captcha it draws included, which only adds time).
async fn timed(step: impl std::future::Future<Output = Reply>) -> (Reply, Duration) {
    let started = Instant::now();
    let reply = step.await;
    (reply, started.elapsed())
}

fn assert_not_sooner(what: &str, who: &Person, reply: &Reply, took: Duration, status: u16) {
    assert_eq!(
        reply.status, status,
        "{what} for {}: {}",
        who.name, reply.text
    );
    assert!(
        took >= FLOOR,
        "{what} for {} answered after {took:?}, sooner than the floor of {FLOOR:?}",
        who.name
    );
}

#[tokio::test]
async fn registration_answers_no_sooner_than_the_floor_matched_or_not() {
    let app = app().await;
    let api = Api::from_ip(&app, "203.0.113.20");
    // Wang is imported and not registered (a code is sent); nobody holds the
    // stranger's document (nothing is sent).
    for person in [&WANG, &STRANGER] {
        let (reply, took) = timed(api.start_registration(person)).await;
        assert_not_sooner("registration", person, &reply, took, 202);
    }
}

#[tokio::test]
async fn forgotten_login_password_and_face_start_answer_no_sooner_than_the_floor() {
    let app = app().await;
    let api = Api::from_ip(&app, "203.0.113.21");
    api.register(&LI).await;
    for person in [&LI, &STRANGER] {
        let (reply, took) = timed(api.start_forgot_login(person.name, person.id_number)).await;
        assert_not_sooner("forgotten login password", person, &reply, took, 201);
        let body = json!({"id_type": "resident_id", "id_number": person.id_number});
        let (reply, took) = timed(api.post("/api/v1/face/start", body)).await;
        assert_not_sooner("face login start", person, &reply, took, 201);
    }
}

#[tokio::test]
async fn a_refused_identify_step_waits_the_floor_too() {
    let app = app().await;
    let api = Api::from_ip(&app, "203.0.113.22");
    // A malformed document is refused by its format alone, which says nothing about
    // membership; the answer still comes no sooner than the floor.
    let body = json!({"id_type": "resident_id", "id_number": "110105199003071238"});
    let (reply, took) = timed(api.post("/api/v1/face/start", body)).await;
    assert_not_sooner("face login start", &WANG, &reply, took, 400);
}
