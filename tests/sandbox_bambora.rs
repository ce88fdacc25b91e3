//! The Bambora sandbox through its real HTTP endpoints, driven by a client written from the public reference
//! (tests/common/bambora.rs): every test card of README's table, every message id, the 302 challenge and the bank
//! page up to `term_url` and `continue`, browser data, pre-auths, completions, returns, voids, reads, the Reporting
//! API's search, "own process" CAVVs from the Verifone 3DS service, single-use tokens, faults, and the standalone
//! sandbox.

mod common;

use common::{
    StandaloneSandbox, TestApp,
    bambora::{
        Bambora, Browser, TermUrl, amount, api_auth, browser_camel, browser_snake, card_payment, field, form_decode,
        forms, int, minor, order, passcode, report_auth, threeds, token_payment, with_3ds,
    },
    captured_logs,
    verifone::Sandbox as Verifone,
};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

// ---- Inferred expectations, in one place -------------------------------------------------------------------
// README marks these `[I]` (inferred where the public reference is silent); the last group is this file's own
// reading of README's "400 (bad request or validation) … 402 (decline or business rule)" where it names no
// status. Adjust here if a decision changes.

/// `[I]` Frictionless Attempted: approved, `status_id` 2, ECI 6.
const ATTEMPTED_CARD: &str = "4030000010002000";
/// `[I]` 3-D Secure unavailable: `status_id` 4, `error_id` 2; approved unless `auth_required`, then 311.
const UNAVAILABLE_CARD: &str = "4030000010003008";
/// `[I]` Slow: the payment is made and its answer held for `SANDBOX_TIMEOUT_DELAY_MS`.
const SLOW_CARD: &str = "4030000010004006";
/// `[I]` `continue` replayed: HTTP 402, code 16 (Duplicate Transaction).
const REPLAYED_CONTINUE: (u16, i64) = (402, 16);
/// `[I]` A `cres`/`PaRes` of another payment's session: HTTP 400, code 314; that payment keeps waiting.
const FOREIGN_SESSION: (u16, i64) = (400, 314);
/// `[I]` An "own process" CAVV the 3DS service did not issue for this card and amount, or issued and used.
const REFUSED_CAVV: (u16, i64) = (402, 311);
/// (this file) Invalid input is a validation error: card number (52), amount (191), missing payment information
/// (314).
const INVALID_CARD_NUMBER: (u16, i64) = (400, 52);
const INVALID_AMOUNT: (u16, i64) = (400, 191);
const MISSING_PAYMENT_INFORMATION: (u16, i64) = (400, 314);
/// (this file) An unknown transaction id: "559 No Transaction Found", a business-rule refusal.
const UNKNOWN_TRANSACTION: (u16, i64) = (402, 559);
/// (this file) A used or unknown single-use token: the gateway's "936 Invalid or expired single use token".
const REFUSED_TOKEN: (u16, i64) = (402, 936);

// ---- Documented test cards (README's table, from the reference's test-card page and 3-D Secure guides) --------

const APPROVED: [(&str, &str); 3] = [("4030000010001234", "VI"), ("5100000010001004", "MC"), ("371100001000131", "AM")];
const DECLINED: [&str; 3] = ["4003050500040005", "5100000020002000", "342400001000180"];
const THREEDS1: [&str; 3] = ["4123450131003312", "5105105105105100", "375987000000088"];
const THREEDS2_CHALLENGE: &str = "4716519788977219";
const THREEDS2_FAILURE: &str = "4635691262664247";
/// "any other Luhn-valid card": approved, Non participating.
const OTHER_CARD: &str = "4111111111111111";
const BANK_PASSWORD: &str = "12345";
const VISA: &str = APPROVED[0].0;

/// The seed's `3d_secure` status texts by `status_id`.
fn status_text(status_id: i64) -> &'static str {
    match status_id {
        1 => "Authenticated",
        2 => "Attempted",
        3 => "Non participating",
        _ => "Failed",
    }
}

/// The ECI of a 3DS status by brand (3-D Secure 2 guide, "3D Secure Status": Visa/Amex 5, 6, 7; MasterCard 2, 1,
/// 7). README writes 5 and 6 for the Visa cards; the reference decides for MasterCard.
fn eci(pan: &str, status_id: i64) -> i64 {
    let mastercard = pan.starts_with('5') || pan.starts_with('2');
    match (status_id, mastercard) {
        (1, false) => 5,
        (1, true) => 2,
        (2, false) => 6,
        (2, true) => 1,
        _ => 7,
    }
}

async fn spawn() -> (TestApp, Bambora) {
    let app = TestApp::spawn_with(&[("SANDBOX_TIMEOUT_DELAY_MS", "300")]).await;
    let bb = Bambora::of(&app);
    (app, bb)
}

/// `links` as `(rel, href, method)`.
fn links(body: &Value) -> Vec<(String, String, String)> {
    body["links"]
        .as_array()
        .unwrap_or_else(|| panic!("links: {body}"))
        .iter()
        .map(|l| {
            let s = |k: &str| l[k].as_str().unwrap_or_default().to_owned();
            (s("rel"), s("href"), s("method"))
        })
        .collect()
}

fn assert_link(body: &Value, rel: &str, path: &str) {
    let all = links(body);
    let (_, href, method) = all.iter().find(|(r, _, _)| r == rel).unwrap_or_else(|| panic!("a `{rel}` link in {body}"));
    assert!(href.starts_with("http") && href.ends_with(&format!("/bambora/v1{path}")), "{rel}: {href}");
    assert!(method.eq_ignore_ascii_case("post"), "{rel}: {method}");
}

fn threeds_status(body: &Value) -> (Option<i64>, Option<i64>) {
    (int(&body["3d_secure"]["status_id"]), int(&body["card"]["eci"]))
}

/// A challenge the sandbox asked for: the session id and the `contents` the merchant renders.
struct Challenge {
    session: String,
    contents: String,
    three_ds1: bool,
}

/// Pays and checks the 302 challenge answer field by field (seed, 3-D Secure 2.0 guide, PROVIDERS "Shapes").
/// `form1` carries the seed's hidden fields; a 3-D Secure 2 flow may name its request and session `creq` and
/// `threeDSSessionData` (the guides disagree: the 3DS2 guide's example `contents` is the 3DS1 one, card 3312).
async fn challenge(bb: &Bambora, body: &Value, term_url: &str, three_ds1: bool) -> Challenge {
    let pan = body["card"]["number"].as_str().map(str::to_owned);
    let answer = bb.pay(body).await;
    assert_eq!(answer.status.as_u16(), 302, "{}", answer.text);
    assert!(answer.headers.get("location").is_none(), "a 302 without Location (HTTP libraries would follow it)");
    assert!(answer.headers["content-type"].to_str().unwrap().starts_with("application/json"));
    let b = &answer.body;
    let session = b["merchant_data"].as_str().filter(|s| !s.is_empty()).expect("merchant_data").to_owned();
    assert_eq!(b["3d_session_data"], session.as_str(), "the newer docs' name for the same session: {b}");
    assert_link(b, "continue", &format!("/payments/{session}/continue"));

    let contents = b["contents"].as_str().expect("contents").to_owned();
    assert!(!contents.contains(' ') && !contents.contains('<') && contents.contains('+'), "form-encoded: {contents}");
    let html = form_decode(&contents);
    let form1 = forms(&html).into_iter().find(|f| f.name.as_deref() == Some("form1")).expect("<FORM name=\"form1\">");
    assert_eq!(form1.method, "POST");
    let (request, session_field) =
        if three_ds1 || form1.field("creq").is_none() { ("PaReq", "MD") } else { ("creq", "threeDSSessionData") };
    for name in [request, session_field, "TermUrl", "merchant_name", "trnDatetime", "trnAmount", "trnEncCardNumber"] {
        assert!(form1.field(name).is_some(), "form1 carries the seed's hidden {name}: {html}");
    }
    assert_eq!(form1.field("TermUrl"), Some(term_url));
    assert!(form1.field(session_field).unwrap().eq_ignore_ascii_case(&session), "{session_field}: {html}");
    assert_eq!(form1.field("trnAmount").map(|a| minor(&json!(a))), Some(minor(&body["amount"])));
    assert!(html.to_ascii_lowercase().contains("document.form1.submit()"), "form1 submits itself: {html}");
    if let Some(pan) = pan {
        assert!(form1.field("trnEncCardNumber").unwrap().ends_with(&pan[pan.len() - 4..]), "{html}");
        assert!(!answer.text.contains(&pan) && !html.contains(&pan), "the card number is never echoed");
    }
    Challenge { session, contents, three_ds1 }
}

/// The seed's fields the bank posts to `term_url` in a 3-D Secure 1 flow.
const TERM_URL_FIELDS_3DS1: [&str; 11] = [
    "trnAmount",
    "merchant_name",
    "password",
    "opResponse",
    "MD",
    "trnDatetime",
    "PaRes",
    "termUrl",
    "trnEncCardNumber",
    "PAC",
    "retryAttempt",
];

/// Completes the bank's page and checks what reached `term_url`; returns the continue id and `card_response`.
async fn through_the_bank(term: &TermUrl, ch: &Challenge, button: &str, codes: &[&str]) -> (String, Value) {
    let (to, fields) = Browser::default().complete(&ch.contents, button, codes).await;
    assert_eq!(to, term.url, "the bank posts to term_url");
    assert!(term.received().contains(&fields), "term_url received the bank's form");
    if ch.three_ds1 {
        for name in TERM_URL_FIELDS_3DS1 {
            assert!(field(&fields, name).is_some(), "{name} posted to term_url: {fields:?}");
        }
        assert_eq!(field(&fields, "password"), Some(""), "the bank never hands the password on");
        let md = field(&fields, "MD").unwrap();
        assert!(md.eq_ignore_ascii_case(&ch.session));
        (md.to_owned(), json!({"pa_res": field(&fields, "PaRes").unwrap()}))
    } else {
        let session = field(&fields, "threeDSSessionData").unwrap_or_else(|| panic!("threeDSSessionData: {fields:?}"));
        assert!(session.eq_ignore_ascii_case(&ch.session));
        let cres = field(&fields, "cres").unwrap_or_else(|| panic!("cres: {fields:?}"));
        assert!(field(&fields, "PaRes").is_none(), "3DS2 posts cres, not PaRes: {fields:?}");
        (session.to_owned(), json!({"cres": cres}))
    }
}

fn assert_no_card_numbers_logged(pans: &[&str]) {
    let logs = captured_logs();
    for pan in pans {
        assert!(!logs.contains(pan), "a card number reached the app's logs");
    }
}

#[tokio::test]
async fn approved_cards_answer_the_full_payment_response() {
    let (_app, bb) = spawn().await;
    for (pan, brand) in APPROVED {
        let o = order("full");
        let mut body = with_3ds(card_payment(pan, 1234, &o), threeds(Some(2), false), "https://merchant.test/3ds");
        body["custom"] = json!({"ref1": "r1", "ref2": "r2", "ref3": "r3", "ref4": "r4", "ref5": "r5"});
        let answer = bb.pay(&body).await;
        let id = answer.approved(pan);
        let b = &answer.body;
        assert!(b["id"].is_string(), "{b}");
        assert_eq!(b["authorizing_merchant_id"].as_i64(), Some(300_200_578), "{b}");
        assert_eq!(b["message"], "Approved");
        assert!(b["auth_code"].as_str().is_some_and(|c| !c.is_empty()), "{b}");
        let created = b["created"].as_str().unwrap_or_default();
        assert!(created.len() >= 19 && created.as_bytes()[10] == b'T', "created is a date-time: {created}");
        assert_eq!(b["order_number"], o.as_str());
        assert_eq!(b["type"], "P");
        assert_eq!(b["payment_method"], "CC");
        assert_eq!(minor(&b["amount"]), Some(1234), "{b}");
        for n in 1..=5 {
            assert_eq!(b["custom"][format!("ref{n}")], format!("r{n}"), "{b}");
        }
        let c = &b["card"];
        assert_eq!(c["card_type"], brand);
        assert_eq!(c["last_four"], &pan[pan.len() - 4..]);
        let bin = c["card_bin"].as_str().unwrap_or_default();
        assert!(matches!(bin.len(), 6 | 8) && pan.starts_with(bin), "card_bin: {c}");
        for key in ["address_match", "postal_result", "cvd_result"] {
            assert!(int(&c[key]).is_some(), "card.{key}: {c}");
        }
        assert!((1..=6).contains(&int(&c["cvd_result"]).unwrap()), "{c}");
        assert!(!c["avs_result"].is_null() && !c["cavv_result"].is_null(), "{c}");
        assert!(c["avs"]["id"].is_string() && c["avs"]["message"].is_string(), "{c}");
        assert!(c["avs"]["processed"].is_boolean(), "{c}");
        assert_eq!(threeds_status(b), (Some(1), Some(eci(pan, 1))), "frictionless, Authenticated: {b}");
        let t = &b["3d_secure"];
        assert_eq!(t["status"], status_text(1));
        assert!(t.get("error_id").is_some() && t.get("error").is_some(), "3d_secure: {t}");
        assert_link(b, "void", &format!("/payments/{id}/void"));
        assert_link(b, "return", &format!("/payments/{id}/returns"));
        assert!(!answer.text.contains(pan), "the card number is never echoed");

        // Without 3-D Secure the same card is approved too.
        bb.pay(&card_payment(pan, 1000, &order("plain"))).await.approved(pan);
    }
}

#[tokio::test]
async fn declined_cards_answer_402_code_7() {
    let (_app, bb) = spawn().await;
    for pan in DECLINED {
        bb.pay(&card_payment(pan, 1000, &order("declined"))).await.assert_error(402, 7, pan);
    }
}

#[tokio::test]
async fn amounts_decline_every_approving_card() {
    let (_app, bb) = spawn().await;
    for ending in [5, 51, 54, 59, 91] {
        bb.pay(&card_payment(VISA, 1000 + ending, &order("amt"))).await.assert_error(402, 7, &format!("{ending}"));
    }
    for pan in [APPROVED[1].0, APPROVED[2].0, OTHER_CARD, ATTEMPTED_CARD] {
        bb.pay(&card_payment(pan, 2051, &order("amt"))).await.assert_error(402, 7, pan);
        bb.pay(&card_payment(pan, 2050, &order("amt"))).await.approved(pan);
    }
}

#[tokio::test]
async fn three_ds_1_cards_challenge_with_the_bank_page() {
    let (_app, bb) = spawn().await;
    let term = TermUrl::start().await;
    for pan in THREEDS1 {
        let block = json!({"browser": browser_snake(), "enabled": true});
        let body = with_3ds(card_payment(pan, 1000, &order("3ds1")), block, &term.url);
        let ch = challenge(&bb, &body, &term.url, true).await;
        let (session, card_response) = through_the_bank(&term, &ch, "Submit", &[BANK_PASSWORD]).await;
        let paid = bb.continue_with(&session, card_response).await;
        paid.approved(pan);
        assert_eq!(threeds_status(&paid.body), (Some(1), Some(eci(pan, 1))), "{}", paid.text);
        assert_eq!(paid.body["type"], "P");
        assert_eq!(minor(&paid.body["amount"]), Some(1000));
        assert!(!paid.text.contains(pan));
    }
    assert_no_card_numbers_logged(&THREEDS1);
}

#[tokio::test]
async fn three_ds_2_challenge_posts_cres_or_with_version_1_pares() {
    let (_app, bb) = spawn().await;
    let term = TermUrl::start().await;
    let body = with_3ds(card_payment(THREEDS2_CHALLENGE, 2500, &order("3ds2")), threeds(Some(2), false), &term.url);
    let ch = challenge(&bb, &body, &term.url, false).await;
    let (session, card_response) = through_the_bank(&term, &ch, "Submit", &[BANK_PASSWORD]).await;
    let paid = bb.continue_with(&session, card_response).await;
    paid.approved("3DS2 challenge");
    assert_eq!(int(&paid.body["3d_secure"]["status_id"]), Some(1), "{}", paid.text);

    let body = with_3ds(card_payment(THREEDS2_CHALLENGE, 2500, &order("3ds2v1")), threeds(Some(1), false), &term.url);
    let ch = challenge(&bb, &body, &term.url, true).await;
    let (session, card_response) = through_the_bank(&term, &ch, "Submit", &[BANK_PASSWORD]).await;
    bb.continue_with(&session, card_response).await.approved("3DS2 card with version 1");
    assert_no_card_numbers_logged(&[THREEDS2_CHALLENGE]);
}

#[tokio::test]
async fn a_cancelled_or_thrice_failed_challenge_answers_311() {
    let (_app, bb) = spawn().await;
    let term = TermUrl::start().await;
    let cases: [(&str, bool, &str, &[&str]); 4] = [
        (THREEDS2_CHALLENGE, false, "Cancel", &[""]),
        (THREEDS2_CHALLENGE, false, "Submit", &["00000", "11111", "22222"]),
        (THREEDS1[0], true, "Cancel", &[""]),
        (THREEDS1[1], true, "Submit", &["1", "2", "3"]),
    ];
    for (pan, three_ds1, button, codes) in cases {
        let version = if three_ds1 { None } else { Some(2) };
        let body = with_3ds(card_payment(pan, 1000, &order("fail")), threeds(version, false), &term.url);
        let ch = challenge(&bb, &body, &term.url, three_ds1).await;
        let (session, card_response) = through_the_bank(&term, &ch, button, codes).await;
        let refused = bb.continue_with(&session, card_response).await;
        refused.assert_error(402, 311, &format!("{pan} {button} {codes:?}"));
        assert_eq!(refused.body["message"], "3D Secure Failed");
    }
}

#[tokio::test]
async fn the_3ds2_failure_card_answers_311_without_a_bank_page() {
    let (_app, bb) = spawn().await;
    let body =
        with_3ds(card_payment(THREEDS2_FAILURE, 1000, &order("rej")), threeds(Some(2), false), "https://m.test/t");
    let refused = bb.pay(&body).await;
    refused.assert_error(402, 311, "3DS2 failure card");
    assert_eq!(refused.body["message"], "3D Secure Failed");
    assert_eq!(refused.body["category"].as_i64(), Some(1), "{}", refused.text);
    assert_eq!(refused.body["3d_secure"]["status"], "Rejected", "{}", refused.text);
    assert!(refused.body.get("contents").is_none());
}

#[tokio::test]
async fn attempted_unavailable_and_non_participating_cards() {
    let (_app, bb) = spawn().await;
    let bb = &bb;
    let pay = |pan: &'static str, auth_required: bool| {
        let body = with_3ds(card_payment(pan, 1000, &order("fr")), threeds(Some(2), auth_required), "https://m.test/t");
        async move { bb.pay(&body).await }
    };
    let attempted = pay(ATTEMPTED_CARD, false).await;
    attempted.approved("attempted");
    assert_eq!(threeds_status(&attempted.body), (Some(2), Some(eci(ATTEMPTED_CARD, 2))), "{}", attempted.text);
    assert_eq!(attempted.body["3d_secure"]["status"], status_text(2));

    let unavailable = pay(UNAVAILABLE_CARD, false).await;
    unavailable.approved("unavailable without auth_required");
    let t = &unavailable.body["3d_secure"];
    assert_eq!((int(&t["status_id"]), int(&t["error_id"])), (Some(4), Some(2)), "{}", unavailable.text);
    assert_eq!(t["status"], status_text(4));
    assert!(t["error"].as_str().is_some_and(|e| !e.is_empty()), "{t}");
    pay(UNAVAILABLE_CARD, true).await.assert_error(402, 311, "unavailable with auth_required");

    let other = pay(OTHER_CARD, false).await;
    other.approved("non participating");
    assert_eq!(threeds_status(&other.body), (Some(3), Some(eci(OTHER_CARD, 3))), "{}", other.text);
    assert_eq!(other.body["3d_secure"]["status"], status_text(3));
}

#[tokio::test]
async fn continue_is_single_use_and_bound_to_its_own_session() {
    let (_app, bb) = spawn().await;
    let term = TermUrl::start().await;
    let start = || with_3ds(card_payment(THREEDS2_CHALLENGE, 1500, &order("cont")), threeds(Some(2), false), &term.url);
    let a = challenge(&bb, &start(), &term.url, false).await;
    let b = challenge(&bb, &start(), &term.url, false).await;
    let (a_session, a_response) = through_the_bank(&term, &a, "Submit", &[BANK_PASSWORD]).await;
    let (b_session, b_response) = through_the_bank(&term, &b, "Submit", &[BANK_PASSWORD]).await;

    let (status, code) = FOREIGN_SESSION;
    bb.continue_with(&a_session, b_response.clone()).await.assert_error(status, code, "B's cres on A's session");
    // The seed: 3-D Secure 2 sends `cres`, where 3-D Secure 1 sent `pa_res`; a cres under the old name is refused.
    assert!(a_response["cres"].is_string(), "{a_response}");
    let as_pa_res = json!({"pa_res": a_response["cres"]});
    bb.continue_with(&a_session, as_pa_res).await.assert_error(status, code, "A's cres sent as pa_res");
    let paid = bb.continue_with(&a_session, a_response.clone()).await;
    paid.approved("A is still waiting after a foreign cres");
    let (status, code) = REPLAYED_CONTINUE;
    bb.continue_with(&a_session, a_response).await.assert_error(status, code, "a replayed continue");
    bb.continue_with(&b_session, b_response).await.approved("B");
}

#[tokio::test]
async fn browser_data_in_either_spelling_and_out_of_bounds() {
    let (_app, bb) = spawn().await;
    let seed = json!({"browser": browser_camel(), "enabled": true, "version": 2, "authRequired": false});
    let answer = bb.pay(&with_3ds(card_payment(VISA, 1000, &order("camel")), seed, "https://m.test/t")).await;
    answer.approved("camelCase browser data (the seed)");
    assert_eq!(int(&answer.body["3d_secure"]["status_id"]), Some(1));
    let docs = threeds(Some(2), false);
    bb.pay(&with_3ds(card_payment(VISA, 1000, &order("snake")), docs, "https://m.test/t")).await.approved("snake_case");

    for (browser, key) in [(browser_camel(), "timeZone"), (browser_snake(), "time_zone")] {
        let mut browser = browser;
        browser[key] = json!(9999);
        let block = json!({"browser": browser, "enabled": true, "version": 2});
        let refused = bb.pay(&with_3ds(card_payment(VISA, 1000, &order("tz")), block, "https://m.test/t")).await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{key} 9999 (-840 to 720): {}", refused.text);
        refused.error_code();
        assert!(
            refused.text.contains("timeZone") || refused.text.contains("time_zone"),
            "names the field: {}",
            refused.text
        );
    }
}

#[tokio::test]
async fn invalid_requests_answer_400_with_the_documented_codes() {
    let (_app, bb) = spawn().await;
    let (status, code) = INVALID_CARD_NUMBER;
    bb.pay(&card_payment("4030000010001235", 1000, &order("luhn"))).await.assert_error(status, code, "Luhn");

    let (status, code) = INVALID_AMOUNT;
    for raw in ["10.001", "0", "0.00", "-5.00"] {
        let mut body = card_payment(VISA, 1000, &order("amount"));
        body["amount"] = serde_json::from_str(raw).unwrap();
        bb.pay(&body).await.assert_error(status, code, raw);
    }

    let (status, code) = MISSING_PAYMENT_INFORMATION;
    let no_card = json!({"order_number": order("nocard"), "amount": amount(1000), "payment_method": "card"});
    bb.pay(&no_card).await.assert_error(status, code, "a card payment without a card");

    let broken = bb
        .request(Method::POST, "/payments", Some(&api_auth()))
        .header("content-type", "application/json")
        .body("{\"amount\": ");
    let broken = common::bambora::answer(broken).await;
    assert_eq!(broken.status, StatusCode::BAD_REQUEST, "{}", broken.text);
    broken.error_code();
}

#[tokio::test]
async fn a_duplicate_order_number_answers_788() {
    let (_app, bb) = spawn().await;
    let o = order("dup");
    bb.pay(&card_payment(VISA, 1000, &o)).await.approved("first");
    bb.pay(&card_payment(VISA, 1000, &o)).await.assert_error(402, 788, "same order number");
}

#[tokio::test]
async fn pre_authorizations_completions_returns_voids_and_reads() {
    let (_app, bb) = spawn().await;
    let mut body = card_payment(APPROVED[1].0, 10_000, &order("pa"));
    body["card"]["complete"] = json!(false);
    let pa = bb.pay(&body).await;
    let pa_id = pa.approved("pre-auth");
    assert_eq!(pa.body["type"], "PA");
    assert_link(&pa.body, "complete", &format!("/payments/{pa_id}/completions"));

    let completed = bb.complete(&pa_id, 6_000).await;
    completed.approved("partial completion");
    assert_eq!((completed.body["type"].as_str(), minor(&completed.body["amount"])), (Some("PAC"), Some(6_000)));
    bb.complete(&pa_id, 1_000).await.assert_error(402, 203, "a second completion");
    let read = bb.read(&pa_id).await;
    assert_eq!(read.status, StatusCode::OK, "{}", read.text);
    assert_eq!(minor(&read.body["total_completions"]), Some(6_000), "{}", read.text);

    let body = {
        let mut b = card_payment(APPROVED[1].0, 5_000, &order("pa2"));
        b["card"]["complete"] = json!(false);
        b
    };
    let pa2 = bb.pay(&body).await.approved("pre-auth 2");
    bb.complete(&pa2, 5_001).await.assert_error(402, 208, "completion above the pre-auth");
    bb.complete(&pa2, 5_000).await.approved("completion of the whole reserve");

    let o = order("buy");
    let purchase = bb.pay(&card_payment(VISA, 3_000, &o)).await.approved("purchase");
    let partial = bb.refund(&purchase, 2_000).await;
    partial.approved("partial return");
    assert_eq!((partial.body["type"].as_str(), minor(&partial.body["amount"])), (Some("R"), Some(2_000)));
    bb.refund(&purchase, 1_001).await.assert_error(402, 194, "over-return");
    bb.refund(&purchase, 1_000).await.approved("the rest");
    // Gateway response codes: "192 Transaction cannot be voided after being returned".
    bb.void(&purchase, 3_000).await.assert_error(402, 192, "void after return");

    let read = bb.read(&purchase).await;
    assert_eq!(read.status, StatusCode::OK, "{}", read.text);
    let r = &read.body;
    assert_eq!(common::bambora::id(&r["id"]), Some(purchase.clone()), "{r}");
    assert_eq!((r["order_number"].as_str(), r["type"].as_str()), (Some(o.as_str()), Some("P")), "{r}");
    assert_eq!(int(&r["approved"]), Some(1), "{r}");
    assert_eq!((minor(&r["amount"]), minor(&r["total_refunds"])), (Some(3_000), Some(3_000)), "{r}");
    assert_eq!(r["card"]["last_four"], "1234", "{r}");
    assert!(!read.text.contains(VISA));

    let other = bb.pay(&card_payment(VISA, 2_500, &order("void"))).await.approved("purchase to void");
    // "This amount must equal the amount of that transaction" (voids); 193: "Amount does not match".
    bb.void(&other, 2_000).await.assert_error(402, 193, "void of another amount");
    let voided = bb.void(&other, 2_500).await;
    voided.approved("void");
    assert_eq!(voided.body["type"], "VP");
}

#[tokio::test]
async fn unknown_transactions_answer_559() {
    let (_app, bb) = spawn().await;
    let (status, code) = UNKNOWN_TRANSACTION;
    bb.refund("99999999", 100).await.assert_error(status, code, "return");
    bb.void("99999999", 100).await.assert_error(status, code, "void");
    bb.complete("99999999", 100).await.assert_error(status, code, "completion");
    bb.read("99999999").await.assert_error(status, code, "read");
}

#[tokio::test]
async fn every_call_needs_its_own_passcode() {
    let (_app, bb) = spawn().await;
    let body = card_payment(VISA, 1000, &order("auth"));
    let refused = [
        ("no header", None),
        ("wrong passcode", Some(passcode("300200578", "wrong"))),
        ("wrong merchant", Some(passcode("300200579", "sandbox-passcode"))),
        ("Basic scheme", Some(api_auth().replace("Passcode ", "Basic "))),
        ("the Reporting passcode", Some(report_auth())),
    ];
    for (what, auth) in &refused {
        let answer = bb.send(Method::POST, "/payments", Some(&body), auth.as_deref()).await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{what}: {}", answer.text);
        answer.error_code();
    }
    for (method, path) in [(Method::GET, "/payments/1"), (Method::POST, "/payments/x/continue")] {
        let answer = bb.send(method, path, Some(&json!({})), None).await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{path}: {}", answer.text);
    }
    // The Reporting API has its own passcode: the Payment API's is refused there.
    let paid = bb.pay(&body).await.approved("with the API passcode");
    let answer = bb.search(body["order_number"].as_str().unwrap(), &api_auth()).await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{}", answer.text);
    answer.error_code();
    assert_eq!(bb.read(&paid).await.status, StatusCode::OK, "a read takes the Payment API's passcode");
}

#[tokio::test]
async fn the_reporting_api_finds_a_payment_by_order_number() {
    let (_app, bb) = spawn().await;
    let o = order("report");
    let id = bb.pay(&card_payment(APPROVED[2].0, 4_200, &o)).await.approved("to find");
    let found = bb.search(&o, &report_auth()).await;
    assert_eq!(found.status, StatusCode::OK, "{}", found.text);
    let records = found.body["records"].as_array().unwrap_or_else(|| panic!("records: {}", found.text));
    assert_eq!(records.len(), 1, "{}", found.text);
    let r = &records[0];
    assert_eq!(common::bambora::id(&r["trn_id"]), Some(id), "{r}");
    assert_eq!(r["trn_order_number"], o.as_str());
    assert_eq!((minor(&r["trn_amount"]), r["trn_type"].as_str()), (Some(4_200), Some("P")), "{r}");
    assert_eq!(int(&r["message_id"]), Some(1), "{r}");
    assert!(!found.text.contains(APPROVED[2].0), "the card number is masked");

    let none = bb.search(&order("never-paid"), &report_auth()).await;
    assert_eq!(none.status, StatusCode::OK, "no match is a 200 with an empty array: {}", none.text);
    assert_eq!(none.body["records"], json!([]));
}

#[tokio::test]
async fn the_slow_card_is_charged_and_its_answer_held() {
    let (_app, bb) = spawn().await;
    let o = order("slow");
    let body = card_payment(SLOW_CARD, 1000, &o);
    let impatient =
        bb.request(Method::POST, "/payments", Some(&api_auth())).json(&body).timeout(Duration::from_millis(100));
    assert!(impatient.send().await.unwrap_err().is_timeout());
    // The answer was lost, the payment was made: the merchant finds it by its order number.
    let found = bb.search(&o, &report_auth()).await;
    assert_eq!(found.body["records"].as_array().map(Vec::len), Some(1), "{}", found.text);
    assert_eq!(int(&found.body["records"][0]["message_id"]), Some(1), "{}", found.text);

    let started = Instant::now();
    bb.pay(&card_payment(SLOW_CARD, 1000, &order("slow2"))).await.approved("a patient client");
    assert!(started.elapsed() >= Duration::from_millis(300), "held for SANDBOX_TIMEOUT_DELAY_MS");
}

#[tokio::test]
async fn own_process_accepts_a_cavv_the_3ds_service_issued_once() {
    let (app, bb) = spawn().await;
    let verifone = Verifone::of(&app).await;
    let pan = "4000000000001000";
    let own = |lookup: &Value, minor_amount: i64| {
        let eci: i64 = lookup["eci_flag"].as_str().unwrap().parse().unwrap();
        let cavv = lookup["cavv"].as_str().unwrap();
        let block = json!({"enabled": true, "xid": "1368023", "cavv": cavv, "eci": eci});
        with_3ds(card_payment(pan, minor_amount, &order("own")), block, "https://m.test/t")
    };
    let (status, lookup) = verifone.lookup(pan, 1000).await;
    assert_eq!(status, 200, "{lookup}");
    let paid = bb.pay(&own(&lookup, 1000)).await;
    paid.approved("a CAVV issued for this card and amount");
    assert_eq!(int(&paid.body["card"]["cavv_result"]), Some(2), "{}", paid.text);

    let (status, code) = REFUSED_CAVV;
    bb.pay(&own(&lookup, 1000)).await.assert_error(status, code, "the same CAVV again");
    let (_, lookup) = verifone.lookup(pan, 1000).await;
    let mut forged = lookup.clone();
    forged["cavv"] = json!("AAABAXlHEQAAAAGXAEcRAAAAAAA=");
    bb.pay(&own(&forged, 1000)).await.assert_error(status, code, "a forged CAVV");
    bb.pay(&own(&lookup, 999)).await.assert_error(status, code, "a CAVV issued for another amount");
}

#[tokio::test]
async fn single_use_tokens_pay_once() {
    let (_app, bb) = spawn().await;
    let bb = &bb;
    let tokenize = move || async move {
        let t = bb.tokenize(VISA).await;
        assert_eq!((int(&t["code"]), int(&t["version"]), t["message"].as_str()), (Some(1), Some(1), Some("")), "{t}");
        t["token"].as_str().filter(|s| !s.is_empty()).expect("token").to_owned()
    };
    let token = tokenize().await;
    let paid = bb.pay(&token_payment(&token, 1000, &order("tok"))).await;
    paid.approved("a fresh token");
    assert_eq!(
        (paid.body["card"]["card_type"].as_str(), paid.body["card"]["last_four"].as_str()),
        (Some("VI"), Some("1234"))
    );
    let (status, code) = REFUSED_TOKEN;
    bb.pay(&token_payment(&token, 1000, &order("tok"))).await.assert_error(status, code, "a used token");
    bb.pay(&token_payment("web01-00000000-0000-4000-8000-000000000000", 1000, &order("tok"))).await.assert_error(
        status,
        code,
        "an unknown token",
    );
    let fresh = tokenize().await;
    assert_ne!(fresh, token);

    // Browsers call the tokenization endpoint cross-origin, without credentials.
    let url = format!("{}/bambora/scripts/tokenization/tokens", bb.sandbox);
    let preflight = bb
        .http
        .request(Method::OPTIONS, &url)
        .header("origin", "https://merchant.test")
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "content-type")
        .send()
        .await
        .unwrap();
    assert!(preflight.status().is_success(), "{}", preflight.status());
    let allowed = preflight.headers().get("access-control-allow-origin").map(|v| v.to_str().unwrap().to_owned());
    assert!(matches!(allowed.as_deref(), Some("*" | "https://merchant.test")), "{allowed:?}");

    // A token payment can ask for 3-D Secure like a card payment.
    let term = TermUrl::start().await;
    let t = bb.tokenize(THREEDS2_CHALLENGE).await;
    let body = with_3ds(
        token_payment(t["token"].as_str().unwrap(), 1000, &order("tok3ds")),
        threeds(Some(2), false),
        &term.url,
    );
    let ch = challenge(bb, &body, &term.url, false).await;
    let (session, card_response) = through_the_bank(&term, &ch, "Submit", &[BANK_PASSWORD]).await;
    let paid = bb.continue_with(&session, card_response).await;
    paid.approved("token with a challenge");
    assert_eq!(paid.body["card"]["last_four"], "7219");
}

#[tokio::test]
async fn injected_faults_reach_the_client() {
    let (_app, bb) = spawn().await;
    let arm = |fault: Value| {
        let req = bb.http.post(format!("{}/_control/faults", bb.sandbox)).json(&fault);
        async move { assert_eq!(req.send().await.unwrap().status(), 201) }
    };
    let o = order("fault");
    let body = card_payment(VISA, 1000, &o);
    arm(json!({"path": "/bambora/v1/payments", "fault": "error", "status": 502, "body_contains": o})).await;
    assert_eq!(bb.pay(&body).await.status.as_u16(), 502);
    bb.pay(&body).await.approved("a fault fires `times` times only, and `error` charged nothing");

    let o = order("malformed");
    arm(json!({"path": "/bambora/v1/payments", "fault": "malformed", "body_contains": o})).await;
    let answer = bb.pay(&card_payment(VISA, 1000, &o)).await;
    assert!(answer.body.is_null() && !answer.text.is_empty(), "malformed JSON: {}", answer.text);

    let o = order("drop");
    arm(json!({"path": "/bambora/v1/payments", "fault": "drop", "body_contains": o})).await;
    let sent =
        bb.request(Method::POST, "/payments", Some(&api_auth())).json(&card_payment(VISA, 1000, &o)).send().await;
    let broken = match sent {
        Err(_) => true,
        Ok(r) => r.bytes().await.is_err(),
    };
    assert!(broken, "the connection is dropped");
    // `malformed` and `drop` lose the answer after the charge: the Reporting API still finds it.
    let found = bb.search(&o, &report_auth()).await;
    assert_eq!(found.body["records"].as_array().map(Vec::len), Some(1), "{}", found.text);
}

#[tokio::test]
async fn the_standalone_sandbox_answers_a_full_challenge_flow() {
    let sandbox = StandaloneSandbox::spawn().await;
    let bb = Bambora::at(&sandbox.url);
    let term = TermUrl::start().await;
    let body = with_3ds(card_payment(THREEDS2_CHALLENGE, 1999, &order("alone")), threeds(Some(2), false), &term.url);
    let ch = challenge(&bb, &body, &term.url, false).await;
    let (session, card_response) = through_the_bank(&term, &ch, "Submit", &[BANK_PASSWORD]).await;
    let paid = bb.continue_with(&session, card_response).await;
    let id = paid.approved("standalone");
    assert_eq!(bb.read(&id).await.status, StatusCode::OK);
}
