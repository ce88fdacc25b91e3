//! The embedded Verifone sandbox through its real HTTP endpoints: every case of the Cardinal test-case matrix,
//! the challenge page, JWT rules, payments, refunds, captures, voids, idempotency, faults and notifications.

mod common;

use card_checkout::{
    domain::threeds::{Enrolled, PaResStatus, SignatureVerification, ThreeDsOutcome},
    server::sandbox::scenarios::Matrix,
};
use common::{
    TestApp,
    verifone::{Sandbox, test_card_expiry, threed_from_lookup},
};
use reqwest::StatusCode;
use serde_json::{Value, json};

const LOOKUP: &str = "/verifone/oidc/3ds-service/v2/lookup";
const PAY: &str = "/verifone/oidc/api/v2/transactions/card";
const VALIDATE: &str = "/verifone/oidc/3ds-service/v2/jwt/validate";

fn s(v: &Value) -> Option<String> {
    v.as_str().filter(|s| !s.is_empty()).map(str::to_owned)
}

async fn spawn() -> (TestApp, Sandbox) {
    let app = TestApp::spawn_with(&[("SANDBOX_TIMEOUT_DELAY_MS", "300")]).await;
    let sb = Sandbox::of(&app).await;
    (app, sb)
}

#[tokio::test]
async fn every_case_of_the_matrix_answers_as_the_file_states() {
    let (_app, sb) = spawn().await;
    let matrix = Matrix::load();
    let mut checked = 0;
    for case in matrix.all() {
        let Some(pan) = &case.card_number else { continue };
        let e = &case.expected;
        let label = format!("case {} {} {} {}", case.case, case.brand, case.protocol_version, pan);
        let (status, lookup) = sb.lookup(pan, 1000).await;
        assert_eq!(status, 200, "{label}: {lookup}");
        assert_eq!(s(&lookup["enrolled"]), e.enrolled, "{label} enrolled");
        assert_eq!(s(&lookup["pares_status"]), e.pares_status_lookup, "{label} pares_status");
        assert_eq!(lookup["challenge_required"], e.challenge_required.as_str(), "{label}");
        assert_eq!(lookup["threeds_version"], case.protocol_version.as_str(), "{label}");
        let challenge = e.pares_status_lookup.as_deref() == Some("C");
        let final_values = if challenge {
            assert!(lookup["acs_url"].is_string() && lookup["payload"].is_string(), "{label}");
            assert!(lookup["cavv"].is_null(), "{label}: no CAVV before the challenge");
            let (action, code) = match e.action_code.as_deref() {
                Some("SUCCESS") => ("submit", "1234"),
                Some("FAILURE") => ("submit", "1234"),
                _ => ("continue", ""),
            };
            let done = sb.answer_challenge(&lookup, action, code).await;
            assert!(done.contains("cardinal.acs.complete"), "{label}: {done}");
            let validated = sb.validated(&lookup).await;
            let data = &validated["data"];
            assert_eq!(data["ActionCode"].as_str(), e.action_code.as_deref(), "{label} ActionCode");
            let ext = &data["Payment"]["ExtendedData"];
            assert_eq!(ext["CurrencyCode"], "978", "{label}");
            // The server checks the JWT with the 3DS service rather than trusting the browser.
            let (status, checked_jwt) = sb.post(VALIDATE, &validate_body(&lookup, &validated["jwt"])).await;
            assert_eq!(status, 200, "{label}: {checked_jwt}");
            assert_eq!(checked_jwt["validation_result"]["pares_status"], ext["PAResStatus"], "{label}");
            assert_eq!(checked_jwt["action_code"], data["ActionCode"], "{label}");
            (s(&ext["PAResStatus"]), s(&ext["SignatureVerification"]), s(&ext["ECIFlag"]), s(&ext["CAVV"]))
        } else {
            assert!(lookup.get("acs_url").is_none(), "{label}");
            (
                s(&lookup["pares_status"]),
                s(&lookup["signature_verification"]),
                s(&lookup["eci_flag"]),
                s(&lookup["cavv"]),
            )
        };
        let (pares, sig, eci, cavv) = final_values;
        assert_eq!(pares, e.pares_status_final, "{label} final PAResStatus");
        assert_eq!(sig, e.signature_verification, "{label} signature_verification");
        assert_eq!(eci.as_deref(), Some(e.eci_flag.as_str()), "{label} ECI");
        assert_eq!(cavv.is_some(), e.cavv_present, "{label} CAVV");
        if let Some(c) = &cavv {
            assert_eq!(base64_len(c), 20, "{label}: a CAVV is 20 bytes");
        }
        let error_expected = matches!(case.case, 7 | 8);
        assert_eq!(lookup["error_no"] != "0", error_expected, "{label} error_no {}", lookup["error_no"]);
        let outcome = ThreeDsOutcome {
            enrolled: e.enrolled.as_deref().and_then(Enrolled::parse),
            pares_status: pares.as_deref().and_then(PaResStatus::parse),
            signature_verification: sig.as_deref().and_then(SignatureVerification::parse),
            eci: None,
        };
        assert_eq!(outcome.liability_shift().is_shifted(), e.liability_shift, "{label} liability");
        checked += 1;
    }
    assert_eq!(checked, 72);
}

/// The published `jwt/validate` request: the lookup's authentication, the JWT and the 3DS contract.
fn validate_body(lookup: &Value, jwt: &Value) -> Value {
    json!({
        "authentication_id": lookup["authentication_id"],
        "jwt": jwt,
        "threeds_contract_id": "sandbox-3ds-contract",
    })
}

#[tokio::test]
async fn jwt_validate_answers_the_published_shape_for_its_own_authentication_only() {
    let (_app, sb) = spawn().await;
    let (_, lookup) = sb.lookup("4000000000001091", 1000).await;
    sb.answer_challenge(&lookup, "submit", "1234").await;
    let validated = sb.validated(&lookup).await;
    let ext = &validated["data"]["Payment"]["ExtendedData"];
    assert_eq!(ext["DSTransactionId"], lookup["ds_transaction_id"], "payments.validated names the DS transaction");

    let (status, v) = sb.post(VALIDATE, &validate_body(&lookup, &validated["jwt"])).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["authentication_id"], lookup["authentication_id"]);
    assert_eq!((v["action_code"].as_str(), v["error_no"].as_str()), (Some("SUCCESS"), Some("0")));
    assert!(v["error_desc"].is_string());
    let r = &v["validation_result"];
    for field in [
        "authorization_payload",
        "cavv",
        "cavv_algorithm",
        "eci_flag",
        "enrolled",
        "pares_status",
        "reason_code",
        "reason_desc",
        "signature_verification",
        "xid",
        "acs_transaction_id",
        "ds_transaction_id",
    ] {
        assert!(r[field].is_string(), "validation_result.{field}: {v}");
    }
    assert_eq!((r["pares_status"].as_str(), r["enrolled"].as_str()), (Some("Y"), Some("Y")));
    assert_eq!((r["cavv"].as_str(), r["eci_flag"].as_str()), (ext["CAVV"].as_str(), Some("05")));
    assert_eq!(r["ds_transaction_id"], lookup["ds_transaction_id"]);
    assert_eq!(r["acs_transaction_id"], lookup["acs_transaction_id"]);

    // The JWT of this authentication, presented for another one, or under another contract: refused.
    let (_, other) = sb.lookup("4000000000001000", 1000).await;
    let mut wrong = validate_body(&other, &validated["jwt"]);
    let (status, body) = sb.post(VALIDATE, &wrong).await;
    assert_eq!(status, 400, "{body}");
    assert!(body["message"].as_str().unwrap().contains("another authentication"), "{body}");
    assert!(body["code"].is_number() && body["timestamp"].is_number() && body["details"].is_object());
    wrong = validate_body(&lookup, &validated["jwt"]);
    wrong["threeds_contract_id"] = json!("another-contract");
    assert_eq!(sb.post(VALIDATE, &wrong).await.0, 400);
    let (status, body) = sb.post(VALIDATE, &json!({"jwt": validated["jwt"]})).await;
    assert_eq!(status, 400);
    assert_eq!(body["details"]["missing_fields"], json!(["authentication_id"]));
    let forged = format!("{}x", validated["jwt"].as_str().unwrap().trim_end_matches(|c| c != '.'));
    assert_eq!(sb.post(VALIDATE, &validate_body(&lookup, &json!(forged))).await.0, 400);
}

fn base64_len(s: &str) -> usize {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.decode(s).map(|b| b.len()).unwrap_or(0)
}

#[tokio::test]
async fn other_cards_are_frictionless_with_the_brands_eci() {
    let (_app, sb) = spawn().await;
    for (pan, eci) in [("4111111111111111", "05"), ("5555555555554444", "02"), ("378282246310005", "05")] {
        let (status, lookup) = sb.lookup(pan, 1234).await;
        assert_eq!(status, 200, "{lookup}");
        assert_eq!((lookup["enrolled"].as_str(), lookup["pares_status"].as_str()), (Some("Y"), Some("Y")));
        assert_eq!(lookup["eci_flag"], eci, "{pan}");
    }
}

#[tokio::test]
async fn the_timeout_card_holds_the_lookup_longer_than_the_client_waits() {
    let (_app, sb) = spawn().await;
    let session = sb.session().await;
    let (m, y) = test_card_expiry();
    let body = sb.lookup_body(&session, &sb.encrypt("4000000000001075", &m, &y), 1000, "t");
    let impatient = sb.authed_post(LOOKUP).json(&body).timeout(std::time::Duration::from_millis(100)).send().await;
    assert!(impatient.unwrap_err().is_timeout());
    // A patient client gets the blank, erroring answer after the delay (with a new session).
    let (status, lookup) = sb.lookup("4000000000001075", 1000).await;
    assert_eq!(status, 200);
    assert!(lookup["enrolled"].is_null() && lookup["pares_status"].is_null());
    assert_eq!(lookup["error_no"], "1004");
}

#[tokio::test]
async fn the_challenge_allows_three_tries_and_a_cancel() {
    let (_app, sb) = spawn().await;
    let (_, lookup) = sb.lookup("4000000000001091", 1000).await;
    let page = sb.answer_challenge(&lookup, "submit", "0000").await;
    assert!(page.contains("2 attempts left"), "{page}");
    let page = sb.answer_challenge(&lookup, "submit", "1111").await;
    assert!(page.contains("1 attempt left"), "{page}");
    sb.answer_challenge(&lookup, "submit", "1234").await;
    assert_eq!(sb.validated(&lookup).await["data"]["ActionCode"], "SUCCESS");

    let (_, lookup) = sb.lookup("4000000000001091", 1000).await;
    for code in ["1", "2", "3"] {
        sb.answer_challenge(&lookup, "submit", code).await;
    }
    let data = &sb.validated(&lookup).await["data"];
    assert_eq!(data["ActionCode"], "FAILURE");
    assert_eq!(data["Payment"]["ExtendedData"]["PAResStatus"], "N");

    let (_, lookup) = sb.lookup("4000000000002503", 1000).await;
    sb.answer_challenge(&lookup, "cancel", "").await;
    let data = &sb.validated(&lookup).await["data"];
    assert_eq!((data["ActionCode"].as_str(), data["ErrorNumber"].as_i64()), (Some("ERROR"), Some(10011)));
    assert_eq!(data["Payment"]["ExtendedData"]["PAResStatus"], "", "a cancel is no issuer answer");
    assert!(data["Payment"]["ExtendedData"]["CAVV"].as_str().unwrap_or_default().is_empty());
}

#[tokio::test]
async fn jwts_and_sessions_are_single_use() {
    let (_app, sb) = spawn().await;
    let jwt = sb.jwt().await;
    let session = sb.setup(&jwt).await.unwrap();
    assert_eq!(sb.setup(&jwt).await, Err(StatusCode::CONFLICT), "a second setup with the same JWT");
    let forged = format!("{}x", &jwt[..jwt.len() - 1]);
    assert_eq!(sb.setup(&forged).await, Err(StatusCode::UNAUTHORIZED));

    let (m, y) = test_card_expiry();
    let body = sb.lookup_body(&session, &sb.encrypt("4000000000001000", &m, &y), 1000, "o");
    assert_eq!(sb.post(LOOKUP, &body).await.0, 200);
    let (status, again) = sb.post(LOOKUP, &body).await;
    assert_eq!(status, 409, "{again}");
    let unknown =
        sb.lookup_body("0_00000000-0000-4000-8000-000000000000", &sb.encrypt("4000000000001000", &m, &y), 1000, "o");
    assert_eq!(sb.post(LOOKUP, &unknown).await.0, 400);
}

#[tokio::test]
async fn lookup_validates_like_verifone() {
    let (_app, sb) = spawn().await;
    let session = sb.session().await;
    let (status, body) = sb.post(LOOKUP, &json!({"amount": 100, "device_info_id": session})).await;
    assert_eq!(status, 400);
    assert_eq!(body["code"], 400);
    assert!(body["timestamp"].is_number() && body["message"].is_string());
    let missing = body["details"]["missing_fields"].as_array().unwrap();
    assert!(missing.contains(&json!("billing_city")) && missing.contains(&json!("encrypted_card")), "{body}");

    let (m, y) = test_card_expiry();
    let good = sb.lookup_body(&session, &sb.encrypt("4000000000001000", &m, &y), 1000, "o");
    for (field, value, needle) in [
        ("public_key_alias", json!("nope"), "public_key_alias"),
        ("encrypted_card", json!("bm90IHBncA=="), "OpenPGP"),
        ("amount", json!(10.5), "amount"),
        ("currency_code", json!("XXX"), "currency_code"),
        ("device_info_id", json!("abc"), "device_info_id"),
    ] {
        let mut bad = good.clone();
        bad[field] = value;
        let (status, body) = sb.post(LOOKUP, &bad).await;
        assert_eq!(status, 400, "{field}");
        assert!(body["message"].as_str().unwrap().contains(needle), "{field}: {body}");
    }
    // A matrix card with another expiry than 01 / current year + 3.
    let wrong_expiry = sb.lookup_body(&session, &sb.encrypt("4000000000001000", "02", &y), 1000, "o");
    let (status, body) = sb.post(LOOKUP, &wrong_expiry).await;
    assert_eq!(status, 400);
    assert!(body["message"].as_str().unwrap().contains("test cards use expiry 01/"), "{body}");
    // The session survived the refused requests.
    assert_eq!(sb.post(LOOKUP, &good).await.0, 200);
}

/// The POST endpoints of both APIs, and whether each is the eCommerce API (whose errors add `reversal_status`).
const WRITE_ENDPOINTS: [(&str, bool); 5] = [
    ("/verifone/oidc/3ds-service/v2/jwt/create", false),
    (LOOKUP, false),
    (VALIDATE, false),
    (PAY, true),
    ("/verifone/oidc/api/v2/transactions/nope/refund", true),
];

#[tokio::test]
async fn every_call_needs_basic_auth() {
    let (_app, sb) = spawn().await;
    for (path, ecommerce) in WRITE_ENDPOINTS {
        let res = sb.http.post(format!("{}{path}", sb.base)).json(&json!({})).send().await.unwrap();
        assert_eq!(res.status(), 401, "{path}");
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["code"], 401);
        assert_eq!(body["reversal_status"].is_string(), ecommerce, "{path}");
        let res = sb
            .http
            .post(format!("{}{path}", sb.base))
            .basic_auth("sandbox-user", Some("wrong"))
            .json(&json!({}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 401, "{path}");
    }
    let res = sb.http.get(format!("{}/verifone/oidc/api/v2/transaction/x", sb.base)).send().await.unwrap();
    assert_eq!(res.status(), 401);
}

#[tokio::test]
async fn payments_accept_only_the_3ds_data_the_service_issued() {
    let (_app, sb) = spawn().await;
    let pan = "4000000000001000";
    let (_, lookup) = sb.lookup(pan, 1000).await;
    let threed = threed_from_lookup(&lookup);

    let (status, paid) = sb.post_with(PAY, &sb.payment_body(pan, 1000, Some(threed.clone())).await, Some("k1")).await;
    assert_eq!(status, 201, "{paid}");
    assert_eq!((paid["status"].as_str(), paid["reason_code"].as_str()), (Some("AUTHORIZED"), Some("00")));
    assert_eq!(paid["card_details"]["masked_card_number"], "400000****1000");
    assert_eq!(paid["details"]["auto_capture"], true);
    assert!(!paid.to_string().contains(pan), "the full card number is never echoed");

    // The same CAVV again (a replay), a forged one, another amount: declined.
    let (_, replay) = sb.post(PAY, &sb.payment_body(pan, 1000, Some(threed.clone())).await).await;
    assert_eq!(replay["status"], "DECLINED", "{replay}");
    let (_, lookup2) = sb.lookup(pan, 1000).await;
    let mut forged = threed_from_lookup(&lookup2);
    forged["cavv"] = json!("AAIBBYNoEwAAACcKhAJkdQAAAAA=");
    assert_eq!(sb.post(PAY, &sb.payment_body(pan, 1000, Some(forged)).await).await.1["status"], "DECLINED");
    let other_amount = sb.payment_body(pan, 999, Some(threed_from_lookup(&lookup2))).await;
    assert_eq!(sb.post(PAY, &other_amount).await.1["status"], "DECLINED");
    let other_card = sb.payment_body("4111111111111111", 1000, Some(threed_from_lookup(&lookup2))).await;
    assert_eq!(sb.post(PAY, &other_card).await.1["status"], "DECLINED");
    // A rejected authentication is never authorized.
    let (_, rejected) = sb.lookup("4000000000001042", 1000).await;
    let body = sb.payment_body("4000000000001042", 1000, Some(threed_from_lookup(&rejected))).await;
    assert_eq!(sb.post(PAY, &body).await.1["status"], "DECLINED");

    // The idempotency key replays the first answer, and refuses another request.
    let (status, again) = sb.post_with(PAY, &sb.payment_body(pan, 1000, Some(threed.clone())).await, Some("k1")).await;
    assert_eq!(status, 409, "{again}");
    let (_, read) = sb.get(&format!("/verifone/oidc/api/v2/transaction/{}", paid["id"].as_str().unwrap())).await;
    assert_eq!(read["id"], paid["id"]);
    assert_eq!(read["status"], "AUTHORIZED");
}

/// A card payment as the published schema and the seed write it: no `card_brand` needed.
#[tokio::test]
async fn card_payment_takes_the_published_fields_and_answers_every_documented_one() {
    let (_app, sb) = spawn().await;
    let (m, y) = test_card_expiry();
    let published = json!({
        "payment_provider_contract": "sandbox-payment-contract",
        "amount": 1000,
        "currency_code": "EUR",
        "merchant_reference": "VF Test",
        "public_key_alias": "sandbox-key",
        "encrypted_card": sb.encrypt("4111111111111111", &m, &y),
    });
    let (status, paid) = sb.post(PAY, &published).await;
    assert_eq!(status, 201, "{paid}");
    assert_eq!(paid["status"], "AUTHORIZED");
    for field in [
        "id",
        "payment_provider_contract",
        "merchant_reference",
        "payment_product",
        "authorization_code",
        "scheme_reference",
        "created_by",
        "cvv_result",
        "reason_code",
        "rrn",
        "shopper_interaction",
        "stan",
        "reversal_status",
        "payment_account_reference",
        "arn",
    ] {
        assert!(paid[field].as_str().is_some_and(|v| !v.is_empty()), "{field}: {paid}");
    }
    for field in ["stored_credential", "details", "additional_data", "promo_financing_result", "card_details"] {
        assert!(paid[field].is_object(), "{field}: {paid}");
    }
    assert_eq!((paid["amount"].as_i64(), paid["balance_amount"].as_i64()), (Some(1000), Some(0)));
    assert_eq!((paid["blocked"].as_bool(), paid["cvv_present"].as_bool()), (Some(false), Some(true)));
    assert_eq!(paid["additional_data"]["acquirer_response_code"], "00");
    assert_eq!(paid["additional_data"]["initiator_trace_id"], paid["stan"]);
    assert_eq!(paid["card_details"]["masked_card_number"], "411111****1111");
    assert_eq!(paid["card_details"]["expiry_month"], 1);
    assert!(paid["card_details"]["expiry_year"].is_number());
    assert_eq!(paid["authorization_code"].as_str().map(str::len), Some(6));
    // The same card keeps its PAR.
    let mut again = published.clone();
    again["encrypted_card"] = json!(sb.encrypt("4111111111111111", &m, &y));
    assert_eq!(sb.post(PAY, &again).await.1["payment_account_reference"], paid["payment_account_reference"]);

    // card_brand is optional, and checked when given.
    let mut wrong_brand = again.clone();
    wrong_brand["card_brand"] = json!("MASTERCARD");
    let (status, body) = sb.post(PAY, &wrong_brand).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["details"]["field"], "card_brand");
    assert_eq!(body["reversal_status"], "NONE");
    wrong_brand["card_brand"] = json!("VISA");
    assert_eq!(sb.post(PAY, &wrong_brand).await.0, 201);

    // The card: encrypted_card with public_key_alias, or reuse_token.
    let (status, body) = sb.post(PAY, &json!({"payment_provider_contract": "x", "amount": 1})).await;
    assert_eq!(status, 400);
    assert_eq!(body["details"]["missing_fields"], json!(["currency_code", "encrypted_card", "public_key_alias"]));
    let mut no_alias = again.clone();
    no_alias.as_object_mut().unwrap().remove("public_key_alias");
    assert_eq!(sb.post(PAY, &no_alias).await.1["details"]["missing_fields"], json!(["public_key_alias"]));
    let token = json!({"payment_provider_contract": "sandbox-payment-contract", "amount": 1000,
        "currency_code": "EUR", "reuse_token": "unknown-token"});
    let (status, body) = sb.post(PAY, &token).await;
    assert_eq!((status.as_u16(), body["details"]["field"].as_str()), (400, Some("reuse_token")));
}

/// Verifone refuses an encrypted card captured more than 15 minutes before the request.
#[tokio::test]
async fn an_encrypted_card_older_than_fifteen_minutes_is_refused() {
    let (_app, sb) = spawn().await;
    let (m, y) = test_card_expiry();
    let sixteen_minutes_ago =
        card_checkout::server::clock::format_time(card_checkout::server::db::now_ms() - 16 * 60 * 1000)
            .trim_end_matches(" UTC")
            .replacen(' ', "T", 1)
            + "Z";
    let card = |captured: &str, year: &str| {
        sb.encrypt_json(&json!({"captureTime": captured, "cardNumber": "4111111111111111", "expiryMonth": m,
            "expiryYear": year, "cvv": "123"}))
    };
    let mut body = sb.payment_body("4111111111111111", 1000, None).await;
    body["encrypted_card"] = json!(card(&sixteen_minutes_ago, &y));
    let (status, refused) = sb.post(PAY, &body).await;
    assert_eq!(status, 400, "{refused}");
    assert!(refused["message"].as_str().unwrap().contains("15 minutes"), "{refused}");
    let session = sb.session().await;
    let lookup = sb.lookup_body(&session, &card(&sixteen_minutes_ago, &y), 1000, "stale");
    assert_eq!(sb.post(LOOKUP, &lookup).await.0, 400);
    // A fresh capture, with a two-digit year as a card form gives it, is taken.
    body["encrypted_card"] = json!(card(&common::verifone::capture_time(), &y[2..]));
    let (status, paid) = sb.post(PAY, &body).await;
    assert_eq!(status, 201, "{paid}");
    assert_eq!(paid["card_details"]["expiry_year"].as_i64(), y.parse().ok());
}

#[tokio::test]
async fn idempotency_key_replays_the_first_answer() {
    let (_app, sb) = spawn().await;
    let body = sb.payment_body("4111111111111111", 2500, None).await;
    let (s1, first) = sb.post_with(PAY, &body, Some("same-key")).await;
    let (s2, second) = sb.post_with(PAY, &body, Some("same-key")).await;
    assert_eq!((s1, s2), (StatusCode::CREATED, StatusCode::CREATED));
    assert_eq!(first, second);
    let (_, third) = sb.post_with(PAY, &body, Some("other-key")).await;
    assert_ne!(first["id"], third["id"]);
}

#[tokio::test]
async fn amounts_select_declines() {
    let (_app, sb) = spawn().await;
    for (amount, status, code) in
        [(1051, "DECLINED", "51"), (1005, "DECLINED", "05"), (1091, "FAILED", "91"), (1000, "AUTHORIZED", "00")]
    {
        let (_, paid) = sb.post(PAY, &sb.payment_body("4111111111111111", amount, None).await).await;
        assert_eq!((paid["status"].as_str(), paid["reason_code"].as_str()), (Some(status), Some(code)), "{amount}");
    }
}

#[tokio::test]
async fn pre_authorization_capture_refund_and_void() {
    let (_app, sb) = spawn().await;
    let pan = "5555555555554444";
    let mut body = sb.payment_body(pan, 10_000, None).await;
    body["capture_now"] = json!(false);
    body["auth_type"] = json!("PRE_AUTH");
    let (_, auth) = sb.post(PAY, &body).await;
    assert_eq!((auth["status"].as_str(), auth["details"]["auto_capture"].as_bool()), (Some("AUTHORIZED"), Some(false)));
    let id = auth["id"].as_str().unwrap();
    let action = |a: &str| format!("/verifone/oidc/api/v2/transactions/{id}/{a}");

    let (status, refused) = sb.post(&action("refund"), &json!({"amount": 100})).await;
    assert_eq!(status, 400, "nothing captured yet: {refused}");
    let (status, too_much) = sb.post(&action("capture"), &json!({"amount": 10_001})).await;
    assert_eq!(status, 400, "{too_much}");
    let (status, captured) = sb.post_with(&action("capture"), &json!({"amount": 8_000}), Some("cap-1")).await;
    assert_eq!(status, 201, "{captured}");
    assert_eq!(sb.post_with(&action("capture"), &json!({"amount": 8_000}), Some("cap-1")).await.1, captured);
    assert_eq!(sb.post(&action("capture"), &json!({"amount": 100})).await.0, 400, "captured once only");

    assert_eq!(sb.post(&action("refund"), &json!({"amount": 5_000})).await.0, 201);
    let (status, over) = sb.post(&action("refund"), &json!({"amount": 3_001})).await;
    assert_eq!(status, 400, "never above what was captured: {over}");
    assert_eq!(sb.post(&action("refund"), &json!({"amount": 3_000})).await.0, 201);
    let (_, read) = sb.get(&format!("/verifone/oidc/api/v2/transaction/{id}")).await;
    assert_eq!((read["status"].as_str(), read["refunded_amount"].as_i64()), (Some("REFUNDED"), Some(8_000)));
    assert_eq!(sb.post(&action("void"), &json!({})).await.0, 400, "a refunded payment cannot be voided");

    let (_, auth2) = sb.post(PAY, &body).await;
    let id2 = auth2["id"].as_str().unwrap();
    let (status, voided) = sb.post(&format!("/verifone/oidc/api/v2/transactions/{id2}/void"), &json!({})).await;
    assert_eq!((status.as_u16(), voided["status"].as_str()), (201, Some("AUTHORIZATION_VOIDED")));
    let (status, refund) = sb.post(&format!("/verifone/oidc/api/v2/transactions/{id2}/refund"), &json!({})).await;
    assert_eq!(status, 400);
    assert!(refund["message"].as_str().unwrap().contains("voided"), "{refund}");
}

#[tokio::test]
async fn release_and_void_capture() {
    let (_app, sb) = spawn().await;
    let mut body = sb.payment_body("5555555555554444", 10_000, None).await;
    body["capture_now"] = json!(false);
    body["auth_type"] = json!("PRE_AUTH");
    let action = |id: &Value, a: &str| format!("/verifone/oidc/api/v2/transactions/{}/{a}", id.as_str().unwrap());

    // Part of a hold released: the rest can be captured, not more.
    let (_, hold) = sb.post(PAY, &body).await;
    let (status, released) = sb.post(&action(&hold["id"], "release"), &json!({"amount": 4_000})).await;
    assert_eq!((status.as_u16(), released["status"].as_str()), (201, Some("AUTHORIZED")), "{released}");
    assert_eq!(sb.post(&action(&hold["id"], "capture"), &json!({"amount": 6_001})).await.0, 400);
    let (status, rest) = sb.post(&action(&hold["id"], "release"), &json!({})).await;
    assert_eq!((status.as_u16(), rest["status"].as_str()), (201, Some("AUTHORIZATION_VOIDED")), "{rest}");
    assert_eq!(sb.post(&action(&hold["id"], "capture"), &json!({})).await.0, 400, "nothing is held");

    // A capture not yet settled can be voided; then it can be neither refunded nor voided again.
    let (_, hold) = sb.post(PAY, &body).await;
    assert_eq!(sb.post(&action(&hold["id"], "void_capture"), &json!({})).await.0, 400, "nothing captured");
    assert_eq!(sb.post(&action(&hold["id"], "capture"), &json!({"amount": 7_000})).await.0, 201);
    let (status, cancelled) = sb.post(&action(&hold["id"], "void_capture"), &json!({})).await;
    assert_eq!((status.as_u16(), cancelled["status"].as_str()), (201, Some("SETTLEMENT_CANCELLED")), "{cancelled}");
    assert_eq!(cancelled["id"], hold["id"]);
    assert_eq!(sb.post(&action(&hold["id"], "refund"), &json!({})).await.0, 400);
    let (status, again) = sb.post(&action(&hold["id"], "void_capture"), &json!({})).await;
    assert_eq!(status, 400);
    assert_eq!(again["reversal_status"], "NONE");

    // A sale is no hold to release.
    let (_, sale) = sb.post(PAY, &sb.payment_body("4111111111111111", 1_000, None).await).await;
    assert_eq!(sb.post(&action(&sale["id"], "release"), &json!({})).await.0, 400);
}

/// Every refusal carries the published fields, whatever was wrong with the request.
#[tokio::test]
async fn refusals_have_the_published_body() {
    let (_app, sb) = spawn().await;
    for (path, ecommerce) in WRITE_ENDPOINTS {
        for body in ["not json", "[1, 2]"] {
            let res = sb.authed_post(path).header("content-type", "application/json").body(body).send().await.unwrap();
            let status = res.status();
            let body: Value = res.json().await.expect("a JSON body");
            assert!(status.is_client_error(), "{path}: {status}");
            assert_eq!(body["code"], status.as_u16(), "{path}: {body}");
            assert!(body["message"].is_string() && body["details"].is_object() && body["timestamp"].is_number());
            assert_eq!(body["reversal_status"].is_string(), ecommerce, "{path}: {body}");
        }
    }
    let (status, body) = sb.get("/verifone/oidc/api/v2/transaction/nope").await;
    assert_eq!((status.as_u16(), body["reversal_status"].as_str()), (404, Some("NONE")));
}

#[tokio::test]
async fn injected_faults() {
    let (_app, sb) = spawn().await;
    let arm = |fault: Value| {
        let http = sb.http.clone();
        let url = format!("{}/_control/faults", sb.base);
        async move { assert_eq!(http.post(url).json(&fault).send().await.unwrap().status(), 201) }
    };
    let body = sb.payment_body("4111111111111111", 1200, None).await;

    arm(json!({"path": PAY, "fault": "error", "status": 502})).await;
    assert_eq!(sb.post(PAY, &body).await.0, 502);
    assert_eq!(sb.post(PAY, &body).await.0, 201, "a fault fires `times` times only");

    arm(json!({"path": PAY, "fault": "malformed"})).await;
    let res = sb.authed_post(PAY).json(&body).send().await.unwrap();
    assert!(res.json::<Value>().await.is_err(), "malformed JSON");

    arm(json!({"path": PAY, "fault": "drop"})).await;
    let res = sb.authed_post(PAY).json(&body).send().await;
    let broken = match res {
        Err(_) => true,
        Ok(r) => r.bytes().await.is_err(),
    };
    assert!(broken, "the connection is dropped");

    arm(json!({"path": PAY, "fault": "slow", "delay_ms": 1000, "body_contains": "slow-one"})).await;
    let mut slow = body.clone();
    slow["merchant_reference"] = json!("slow-one");
    let started = std::time::Instant::now();
    assert_eq!(sb.post(PAY, &body).await.0, 201, "other requests are not slowed");
    assert!(started.elapsed().as_millis() < 900);
    let res = sb.authed_post(PAY).json(&slow).timeout(std::time::Duration::from_millis(200)).send().await;
    assert!(res.unwrap_err().is_timeout());
}

#[tokio::test]
async fn lists_authentications_in_the_published_shape_and_query_language() {
    let (_app, sb) = spawn().await;
    let (_, y) = sb.lookup("4000000000001000", 1000).await;
    let (_, n) = sb.lookup("4000000000001018", 2500).await;
    let (status, list) = sb.get("/verifone/oidc/3ds-service/v2/3d?authentication.pares_status=N&_limit=10").await;
    assert_eq!(status, 200, "{list}");
    let records = list.as_array().expect("an array of ThreeDSAuthentication records");
    assert_eq!(records.len(), 1);
    let r = &records[0];
    assert_eq!(r["_id"], n["authentication_id"]);
    assert_eq!((r["amount"].as_i64(), r["currency_code"].as_str()), (Some(2500), Some("EUR")));
    assert_eq!(r["transaction_id"], n["transaction_id"]);
    assert_eq!(r["threeds_contract_id"], "sandbox-3ds-contract");
    assert!(r["created_at"].as_str().is_some_and(|t| t.ends_with('Z')), "{r}");
    assert!(r["card"].is_string() && r["entity_id"].is_string());
    assert_eq!(r["authentication"]["pares_status"], "N");
    assert!(!list.to_string().contains("4000000000001018"), "never the card number");

    let ids = |q: &'static str| {
        let sb = &sb;
        async move {
            let (status, list) = sb.get(&format!("/verifone/oidc/3ds-service/v2/3d?{q}")).await;
            assert_eq!(status, 200, "{q}: {list}");
            list.as_array().unwrap().iter().map(|r| r["_id"].clone()).collect::<Vec<_>>()
        }
    };
    let (yid, nid) = (y["authentication_id"].clone(), n["authentication_id"].clone());
    assert_eq!(ids("_limit=1").await, vec![nid.clone()], "newest first");
    assert_eq!(ids("_sort=amount").await, vec![yid.clone(), nid.clone()]);
    assert_eq!(ids("_sort=-amount").await, vec![nid.clone(), yid.clone()]);
    assert_eq!(ids("_sort=amount&_skip=1").await, vec![nid.clone()]);
    assert_eq!(ids("amount>=2000").await, vec![nid.clone()]);
    assert_eq!(ids("amount<=2000").await, vec![yid.clone()]);
    assert_eq!(ids("amount!=2500").await, vec![yid.clone()]);
    assert_eq!(ids("amount=1000&currency_code=EUR").await, vec![yid.clone()]);
    assert_eq!(ids("authentication.pares_status=Y&authentication.pares_status=N&_sort=amount").await, vec![yid, nid]);
    assert!(ids("currency_code=USD").await.is_empty());
    let (status, one) =
        sb.get(&format!("/verifone/oidc/3ds-service/v2/3d/{}", n["authentication_id"].as_str().unwrap())).await;
    assert_eq!((status.as_u16(), &one["_id"]), (200, &n["authentication_id"]));
    let (status, bad) = sb.get("/verifone/oidc/3ds-service/v2/3d?_limit=0").await;
    assert_eq!(status, 400);
    assert!(bad["code"].is_number() && bad["message"].is_string() && bad["timestamp"].is_number());
}

#[tokio::test]
async fn notifications_are_signed_and_retried_until_accepted() {
    use axum::{Router, http::HeaderMap, routing::post};
    use std::sync::{Arc, Mutex};
    let received: Arc<Mutex<Vec<(HeaderMap, String)>>> = Arc::default();
    let store = received.clone();
    let hook = Router::new().route(
        "/hook",
        post(move |headers: HeaderMap, body: String| {
            let store = store.clone();
            async move {
                let mut all = store.lock().unwrap();
                all.push((headers, body));
                // Refuse the first delivery to prove the retry.
                if all.len() == 1 { axum::http::StatusCode::INTERNAL_SERVER_ERROR } else { axum::http::StatusCode::OK }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let hook_url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, hook).await });

    let app = TestApp::spawn_with(&[("SANDBOX_NOTIFICATION_URL", &hook_url)]).await;
    let sb = Sandbox::of(&app).await;
    let (_, paid) = sb.post(PAY, &sb.payment_body("4111111111111111", 4200, None).await).await;

    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while received.lock().unwrap().len() < 2 && std::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let all = received.lock().unwrap();
    assert_eq!(all.len(), 2, "delivered again after a refusal");
    let (headers, body) = &all[1];
    let event: Value = serde_json::from_str(body).unwrap();
    assert_eq!(event["event"], "TxnSaleApproved");
    assert_eq!(event["transaction_id"], paid["id"]);
    let signature = headers["x-vfi-signature"].to_str().unwrap();
    let (t, v1) = signature.split_once(',').unwrap();
    let t: i64 = t.trim_start_matches("t=").parse().unwrap();
    let expected = card_checkout::server::sandbox::notifications::sign(b"sandbox-notification-secret", t, body);
    assert_eq!(v1.trim_start_matches("v1="), expected);
}

#[tokio::test]
async fn the_sandbox_runs_standalone() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_card-checkout"))
        .args(["sandbox", "--port", &port.to_string()])
        .env("LOG_LEVEL", "warn")
        .spawn()
        .unwrap();
    let url = format!("http://127.0.0.1:{port}/sandbox/verifone/oidc/3ds-service/v2/jwt/create");
    let mut answer = None;
    for _ in 0..100 {
        let sent = reqwest::Client::new()
            .post(&url)
            .basic_auth("sandbox-user", Some("sandbox-api-key"))
            .json(&json!({"threeds_contract_id": "sandbox-3ds-contract"}))
            .send()
            .await;
        if let Ok(res) = sent {
            answer = Some(res.json::<Value>().await.unwrap());
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    child.kill().unwrap();
    let answer = answer.expect("the standalone sandbox answered");
    assert_eq!(answer["jwt"].as_str().map(|j| j.split('.').count()), Some(3));
}

/// The card-encryption key is kept beside the database: a page or client given the public key keeps working
/// across restarts, until `card-checkout sandbox-rotate-key` makes a new one.
#[tokio::test]
async fn the_encryption_key_survives_restarts_until_rotated() {
    let dir = tempfile::tempdir().unwrap();
    let database_url = format!("sqlite://{}/shop.db", dir.path().display());
    let settings = [("DATABASE_URL", database_url.as_str())];
    let on_the_same_data = || TestApp::spawn_with(&settings);
    let public_key = async |app: &TestApp| app.get("/sandbox/verifone/keys/sandbox-key").await.text().await.unwrap();

    let app = on_the_same_data().await;
    let before = public_key(&app).await;
    let body = Sandbox::of(&app).await.payment_body("4111111111111111", 1000, None).await;
    drop(app);
    let key_file = dir.path().join("sandbox-key.asc");
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(std::fs::metadata(&key_file).unwrap().permissions().mode() & 0o777, 0o600);

    let app = on_the_same_data().await;
    assert_eq!(public_key(&app).await, before);
    let sb = Sandbox::of(&app).await;
    let (status, paid) = sb.post(PAY, &body).await;
    assert_eq!((status, paid["status"].as_str()), (StatusCode::CREATED, Some("AUTHORIZED")), "{paid}");
    drop(app);

    let rotated = std::process::Command::new(env!("CARGO_BIN_EXE_card-checkout"))
        .arg("sandbox-rotate-key")
        .env("DATABASE_URL", &database_url)
        .env("LOG_LEVEL", "warn")
        .output()
        .unwrap();
    assert!(rotated.status.success(), "{}", String::from_utf8_lossy(&rotated.stderr));
    let app = on_the_same_data().await;
    let after = public_key(&app).await;
    assert!(after.contains("BEGIN PGP PUBLIC KEY BLOCK") && after != before, "{after}");
    let (status, refused) = Sandbox::of(&app).await.post(PAY, &body).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "a card encrypted to the old key: {refused}");
}
