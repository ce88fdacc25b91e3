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
            let (status, checked_jwt) =
                sb.post("/verifone/oidc/3ds-service/v2/jwt/validate", &json!({"jwt": validated["jwt"]})).await;
            assert_eq!(status, 200, "{label}: {checked_jwt}");
            assert_eq!(checked_jwt["pares_status"], ext["PAResStatus"], "{label}");
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

#[tokio::test]
async fn every_call_needs_basic_auth() {
    let (_app, sb) = spawn().await;
    for (path, ecommerce) in [
        ("/verifone/oidc/3ds-service/v2/jwt/create", false),
        (LOOKUP, false),
        ("/verifone/oidc/3ds-service/v2/jwt/validate", false),
        (PAY, true),
        ("/verifone/oidc/api/v2/transactions/x/refund", true),
    ] {
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
    assert_eq!((status.as_u16(), voided["status"].as_str()), (201, Some("VOIDED")));
    let (status, refund) = sb.post(&format!("/verifone/oidc/api/v2/transactions/{id2}/refund"), &json!({})).await;
    assert_eq!(status, 400);
    assert!(refund["message"].as_str().unwrap().contains("voided"), "{refund}");
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
async fn lists_authentications() {
    let (_app, sb) = spawn().await;
    sb.lookup("4000000000001000", 1000).await;
    sb.lookup("4000000000001018", 1000).await;
    let (status, list) = sb.get("/verifone/oidc/3ds-service/v2/3d?pares_status=N&_limit=10").await;
    assert_eq!(status, 200);
    assert_eq!(list["total"], 1);
    assert_eq!(list["data"][0]["pares_status"], "N");
    assert!(!list.to_string().contains("4000000000001018"));
    let (_, all) = sb.get("/verifone/oidc/3ds-service/v2/3d?_limit=1").await;
    assert_eq!((all["total"].as_i64(), all["data"].as_array().map(Vec::len)), (Some(2), Some(1)));
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
