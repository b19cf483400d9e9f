//! Results that fail the size and structure checks. Where the structure allows, the
//! token is correctly signed and otherwise valid, so it would be accepted if the check
//! under test were missing.

use super::*;

#[test]
fn an_oversized_result_is_malformed() {
    let token = signed_with(|p| p["jti"] = json!("j".repeat(MAX_TOKEN_BYTES)));
    assert!(token.len() > MAX_TOKEN_BYTES);

    assert_rejected(&token, FaceRejection::Malformed);
}

#[test]
fn a_result_just_under_the_size_limit_is_accepted() {
    let short = signed_with(|p| p["jti"] = json!(""));
    // Each 3 bytes of jti add 4 characters of base64url.
    let room = (MAX_TOKEN_BYTES - short.len()) / 4 * 3;
    let token = signed_with(|p| p["jti"] = json!("j".repeat(room)));
    assert!(token.len() <= MAX_TOKEN_BYTES && token.len() > MAX_TOKEN_BYTES - 8);

    assert!(verify(&token).is_ok());
}

#[test]
fn a_result_with_two_or_four_parts_is_malformed() {
    let p = parts(&signer().sign(&claims()));

    assert_rejected(&format!("{}.{}", p[0], p[1]), FaceRejection::Malformed);
    assert_rejected(
        &format!("{}.{}.{}.{}", p[0], p[1], p[2], p[2]),
        FaceRejection::Malformed,
    );
    assert_rejected("", FaceRejection::Malformed);
}

#[test]
fn a_part_that_is_not_base64url_without_padding_is_malformed() {
    let token = signer().sign(&claims());
    let p = parts(&token);
    let standard =
        base64::engine::general_purpose::STANDARD.encode(URL_SAFE_NO_PAD.decode(&p[2]).unwrap());

    assert_rejected(
        &format!("{}=.{}.{}", p[0], p[1], p[2]),
        FaceRejection::Malformed,
    );
    assert_rejected(
        &format!("{}.{}.{standard}", p[0], p[1]),
        FaceRejection::Malformed,
    );
    assert_rejected(&format!(" {token}"), FaceRejection::Malformed);
}

#[test]
fn a_payload_that_is_not_json_is_malformed() {
    let token = signer().sign_parts(&header_json("EdDSA", KID).to_string(), "liveness=true");

    assert_rejected(&token, FaceRejection::Malformed);
}

#[test]
fn a_header_that_is_not_json_is_malformed() {
    let token = signer().sign_parts("EdDSA", &payload_json().to_string());

    assert_rejected(&token, FaceRejection::Malformed);
}

/// One way of getting a payload wrong, named for the failure message.
type PayloadEdit = (&'static str, fn(&mut Value));

#[test]
fn a_missing_or_mistyped_claim_is_malformed() {
    let edits: [PayloadEdit; 7] = [
        ("no nonce", |p| {
            p.as_object_mut().unwrap().remove("nonce");
        }),
        ("no liveness", |p| {
            p.as_object_mut().unwrap().remove("liveness");
        }),
        ("liveness as string", |p| p["liveness"] = json!("true")),
        ("score as string", |p| p["score"] = json!("0.93")),
        ("iat as float", |p| p["iat"] = json!(1.77e9)),
        ("jti as number", |p| p["jti"] = json!(7)),
        ("empty nonce", |p| p["nonce"] = json!("")),
    ];
    for (what, edit) in edits {
        assert_eq!(
            verify(&signed_with(edit)),
            Err(FaceRejection::Malformed),
            "{what}"
        );
    }
}

#[test]
fn a_score_that_is_nan_or_outside_zero_to_one_is_malformed() {
    for score in [json!(1.5), json!(-0.1), json!(1e300)] {
        let token = signed_with(|p| p["score"] = score.clone());
        assert_rejected(&token, FaceRejection::Malformed);
    }
    let payload = payload_json().to_string().replace("0.93", "NaN");
    assert!(payload.contains("\"score\":NaN"));
    let token = signer().sign_parts(&header_json("EdDSA", KID).to_string(), &payload);
    assert_rejected(&token, FaceRejection::Malformed);
}

#[test]
fn a_claim_given_twice_is_malformed() {
    // A parser that kept the last copy would see "other-nonce"; one that kept the first,
    // the expected nonce. Refuse rather than pick.
    let payload = payload_json()
        .to_string()
        .replacen('{', r#"{"nonce":"other-nonce","#, 1);
    let token = signer().sign_parts(&header_json("EdDSA", KID).to_string(), &payload);

    assert_rejected(&token, FaceRejection::Malformed);
}

#[test]
fn a_header_with_another_typ_or_a_crit_is_malformed() {
    for header in [
        json!({ "alg": "EdDSA", "kid": KID, "typ": "JWT" }),
        json!({ "alg": "EdDSA", "kid": KID, "typ": FACE_RESULT_TYP, "crit": ["exp"] }),
        json!({ "alg": "EdDSA", "kid": KID, "crit": null }),
    ] {
        let token = signer().sign_parts(&header.to_string(), &payload_json().to_string());
        assert_rejected(&token, FaceRejection::Malformed);
    }
}
