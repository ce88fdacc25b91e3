//! The Verifone sandbox as a client written against Verifone's PUBLISHED API sees it: every request body here
//! is raw JSON written from the published documents, not from our client's types, and only the base URL,
//! the credentials and the public key are the sandbox's.
//!
//! Documents: Verifone eCommerce API OpenAPI 2.38.1 and 3-D Secure API (mirrored in
//! github.com/api-evangelist/verifone: `openapi/_original/ecommerce-api.json`, `json-schema/*.json`);
//! Verifone's "Stored Credentials" page (verifone.cloud/docs/online-payments/stored-credentials).

mod common;

use common::{
    TestApp,
    verifone::{Sandbox, capture_time, test_card_expiry, threed_from_lookup},
};
use reqwest::StatusCode;
use serde_json::{Value, json};

const PAY: &str = "/verifone/oidc/api/v2/transactions/card";
const CARD: &str = "/verifone/oidc/api/v2/card";
const LOOKUP: &str = "/verifone/oidc/3ds-service/v2/lookup";
/// The sandbox account's settings, as a merchant copies them from its Verifone Central.
const USER: (&str, &str) = ("sandbox-user", "sandbox-api-key");
const CONTRACT: &str = "sandbox-payment-contract";
const KEY_ALIAS: &str = "sandbox-key";
const TOKEN_SCOPE: &str = "5a0c2d6e-8f4b-4c1a-9e3d-7b2f1a6c0d94";

async fn spawn() -> (TestApp, Sandbox) {
    let app = TestApp::spawn().await;
    let sb = Sandbox::of(&app).await;
    (app, sb)
}

async fn put(sb: &Sandbox, path: &str, body: &Value) -> (StatusCode, Value) {
    send(sb.http.put(format!("{}{path}", sb.base)), body).await
}

async fn patch(sb: &Sandbox, path: &str, body: &Value) -> (StatusCode, Value) {
    send(sb.http.patch(format!("{}{path}", sb.base)), body).await
}

async fn send(req: reqwest::RequestBuilder, body: &Value) -> (StatusCode, Value) {
    let res = req.basic_auth(USER.0, Some(USER.1)).json(body).send().await.unwrap();
    let status = res.status();
    (status, res.json().await.unwrap_or(Value::Null))
}

/// The published error body, with the eCommerce API's `reversal_status`.
fn assert_published_refusal(status: StatusCode, body: &Value, field: &str) {
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["code"], 400, "{body}");
    assert!(body["message"].is_string() && body["timestamp"].is_number(), "{body}");
    assert_eq!(body["details"]["field"], field, "{body}");
    assert_eq!(body["reversal_status"], "NONE", "{body}");
}

/// `StoredCredentialDto`: `stored_credential_type` SIGNUP|CHARGE and `processing_model_details.processing_model`.
fn stored_credential(kind: &str, model: &str, scheme_reference: Option<&Value>) -> Value {
    let mut sc = json!({"stored_credential_type": kind, "processing_model_details": {"processing_model": model}});
    if let Some(r) = scheme_reference {
        sc["scheme_reference"] = r.clone();
    }
    sc
}

/// A card payment as `EncryptedCardPaymentRequest` writes it.
fn card_payment(encrypted_card: &str, amount: i64) -> Value {
    json!({
        "payment_provider_contract": CONTRACT,
        "amount": amount,
        "currency_code": "EUR",
        "merchant_reference": "order-42",
        "public_key_alias": KEY_ALIAS,
        "encrypted_card": encrypted_card,
    })
}

/// A payment with a stored card: the card is the `reuse_token`.
fn token_payment(reuse_token: &Value, amount: i64, sc: Value) -> Value {
    json!({
        "payment_provider_contract": CONTRACT,
        "amount": amount,
        "currency_code": "EUR",
        "merchant_reference": "order-43",
        "reuse_token": reuse_token,
        "stored_credential": sc,
    })
}

/// Tokenization (`token_preference`), the sign-up CIT, merchant-initiated charges citing it, a cardholder's
/// card-on-file charge with the CVV entered again, and the refusals.
#[tokio::test]
async fn sandbox_tokens_sign_up_then_charge_as_cardholder_and_merchant() {
    let (_app, sb) = spawn().await;
    let (m, y) = test_card_expiry();
    let visa = sb.encrypt("4111111111111111", &m, &y);

    // Sign-up: the first payment keeps the card under a reuse token.
    let mut signup = card_payment(&visa, 1_500);
    signup["token_preference"] = json!({"token_scope": TOKEN_SCOPE, "token_type": "REUSE"});
    signup["stored_credential"] = stored_credential("SIGNUP", "CREDENTIAL_ON_FILE", None);
    let (status, first) = sb.post(PAY, &signup).await;
    assert_eq!(status, 201, "{first}");
    assert_eq!(first["status"], "AUTHORIZED");
    let token = first["reuse_token"].clone();
    let t = token.as_str().expect("a reuse token");
    assert!(t.len() >= 16 && t.chars().all(|c| c.is_ascii_digit()), "{t}");
    let details = &first["token_details"];
    assert_eq!((details["reuse_token"].as_str(), details["last_four"].as_str()), (Some(t), Some("1111")));
    assert_eq!((details["bin"].as_str(), details["brand"].as_str()), (Some("411111"), Some("VISA")));
    assert_eq!(
        (details["token_scope"].as_str(), details["token_status"].as_str()),
        (Some(TOKEN_SCOPE), Some("ACTIVE"))
    );
    assert_eq!(details["expiry_month"], 1);
    assert!(details["analytics_token"].is_string());
    let sc = &first["stored_credential"];
    assert_eq!(
        (sc["stored_credential_type"].as_str(), sc["reference"].as_str()),
        (Some("SIGNUP"), first["id"].as_str())
    );
    assert_eq!(sc["scheme_reference"], first["scheme_reference"]);
    assert_eq!(sc["processing_model"], "CREDENTIAL_ON_FILE");

    // The stored card, read back (`GET /v2/card/{id}`, the published `CardResponse`).
    let (status, card) = sb.get(&format!("{CARD}/{t}")).await;
    assert_eq!(status, 200, "{card}");
    assert_eq!((card["reuse_token"].as_str(), card["last_four"].as_str()), (Some(t), Some("1111")));

    // A merchant-initiated charge cites the sign-up's scheme reference: no CVV, the same card.
    let scheme = &first["scheme_reference"];
    let mit = token_payment(&token, 700, stored_credential("CHARGE", "UNSCHEDULED_CREDENTIAL_ON_FILE", Some(scheme)));
    let (status, charged) = sb.post(PAY, &mit).await;
    assert_eq!(status, 201, "{charged}");
    assert_eq!((charged["status"].as_str(), charged["cvv_present"].as_bool()), (Some("AUTHORIZED"), Some(false)));
    assert_eq!(charged["card_details"]["masked_card_number"], "411111****1111");
    assert_eq!(charged["payment_account_reference"], first["payment_account_reference"]);
    assert_eq!(charged["reuse_token"], token);
    assert_eq!(charged["stored_credential"]["reference"], first["id"]);
    assert_eq!(charged["stored_credential"]["scheme_reference"], *scheme);
    assert_ne!(charged["scheme_reference"], *scheme, "the charge is a transaction of its own");
    // It can be refunded like any payment.
    let refund = format!("/verifone/oidc/api/v2/transactions/{}/refund", charged["id"].as_str().unwrap());
    assert_eq!(sb.post(&refund, &json!({"amount": 700})).await.0, 201);

    // A merchant-initiated charge must cite the cardholder's payment, and only one on this token.
    let uncited = token_payment(&token, 700, stored_credential("CHARGE", "RECURRING", None));
    let (status, body) = sb.post(PAY, &uncited).await;
    assert_published_refusal(status, &body, "stored_credential");
    let miscited = token_payment(&token, 700, stored_credential("CHARGE", "RECURRING", Some(&json!("20261124abcdef"))));
    let (status, body) = sb.post(PAY, &miscited).await;
    assert_published_refusal(status, &body, "stored_credential");
    // ... and uses a stored card, not a card typed in.
    let mut typed = card_payment(&sb.encrypt("4111111111111111", &m, &y), 700);
    typed["stored_credential"] = stored_credential("CHARGE", "UNSCHEDULED_CREDENTIAL_ON_FILE", Some(scheme));
    let (status, body) = sb.post(PAY, &typed).await;
    assert_published_refusal(status, &body, "reuse_token");

    // The cardholder pays with the stored card, the CVV entered again and encrypted as verifone.js does.
    let mut cit = token_payment(&token, 900, stored_credential("CHARGE", "CREDENTIAL_ON_FILE", None));
    cit["public_key_alias"] = json!(KEY_ALIAS);
    cit["encrypted_card"] = json!(sb.encrypt_json(&json!({"captureTime": capture_time(), "cvv": "123"})));
    let (status, paid) = sb.post(PAY, &cit).await;
    assert_eq!(status, 201, "{paid}");
    assert_eq!((paid["status"].as_str(), paid["cvv_present"].as_bool()), (Some("AUTHORIZED"), Some(true)));
    // A wrong CVV shape, or another card's number beside the token, is refused.
    cit["encrypted_card"] = json!(sb.encrypt_json(&json!({"captureTime": capture_time(), "cvv": "12"})));
    let (status, body) = sb.post(PAY, &cit).await;
    assert_published_refusal(status, &body, "encrypted_card");
    cit["encrypted_card"] =
        json!(sb.encrypt_json(&json!({"captureTime": capture_time(), "cardNumber": "5555555555554444", "cvv": "123"})));
    let (status, body) = sb.post(PAY, &cit).await;
    assert_published_refusal(status, &body, "encrypted_card");

    // A declined payment stores nothing.
    let mut declined = card_payment(&sb.encrypt("5555555555554444", &m, &y), 1_051);
    declined["token_preference"] = json!({"token_scope": TOKEN_SCOPE});
    let (status, body) = sb.post(PAY, &declined).await;
    assert_eq!((status.as_u16(), body["status"].as_str()), (201, Some("DECLINED")), "{body}");
    assert!(body["reuse_token"].is_null(), "{body}");

    // Token preferences and stored credentials are checked against the published schema.
    let mut wrong_scope = card_payment(&sb.encrypt("4111111111111111", &m, &y), 1_000);
    wrong_scope["token_preference"] = json!({"token_scope": "00000000-0000-0000-0000-000000000000"});
    let (status, body) = sb.post(PAY, &wrong_scope).await;
    assert_published_refusal(status, &body, "token_scope");
    let mut no_token = card_payment(&sb.encrypt("4111111111111111", &m, &y), 1_000);
    no_token["stored_credential"] = stored_credential("SIGNUP", "CREDENTIAL_ON_FILE", None);
    let (status, body) = sb.post(PAY, &no_token).await;
    assert_published_refusal(status, &body, "token_preference");
    no_token["stored_credential"] = json!({"stored_credential_type": "CHARGE"});
    let (status, body) = sb.post(PAY, &no_token).await;
    assert_published_refusal(status, &body, "stored_credential");
    // An analytics token alone can track the card but not pay with it.
    let mut analytics = card_payment(&sb.encrypt("4111111111111111", &m, &y), 1_000);
    analytics["token_preference"] = json!({"token_scope": TOKEN_SCOPE, "token_type": "ANALYTICS"});
    let (status, body) = sb.post(PAY, &analytics).await;
    assert_eq!(status, 201, "{body}");
    assert!(body["reuse_token"].is_null() && body["token_details"]["reuse_token"].is_null(), "{body}");
    assert!(body["token_details"]["analytics_token"].is_string(), "{body}");
}

/// `PUT /v2/card` stores a card without a payment and updates it (a new expiry) under the same token; a
/// merchant-initiated charge on a token the cardholder never paid with is refused.
#[tokio::test]
async fn put_card_stores_and_updates_and_an_mit_needs_a_prior_cit() {
    let (_app, sb) = spawn().await;
    let (m, y) = test_card_expiry();
    let put_body = |year: &str| {
        json!({
            "token_scope": TOKEN_SCOPE,
            "encrypted_card": sb.encrypt("5555555555554444", &m, year),
            "public_key_alias": KEY_ALIAS,
            "token_type": "REUSE",
        })
    };
    let (status, stored) = put(&sb, CARD, &put_body(&y)).await;
    assert_eq!(status, 200, "{stored}");
    let token = stored["reuse_token"].clone();
    assert!(token.is_string(), "{stored}");
    assert_eq!((stored["bin"].as_str(), stored["last_four"].as_str()), (Some("555555"), Some("4444")));
    assert_eq!(stored["expiry_year"].as_i64(), y.parse().ok());

    // The same card with a later expiry: the same token, the new expiry.
    let later = (y.parse::<i64>().unwrap() + 2).to_string();
    let (status, updated) = put(&sb, CARD, &put_body(&later)).await;
    assert_eq!(status, 200, "{updated}");
    assert_eq!(updated["reuse_token"], token);
    assert_eq!(updated["expiry_year"].as_i64(), later.parse().ok());
    let (_, read) = sb.get(&format!("{CARD}/{}", token.as_str().unwrap())).await;
    assert_eq!(read["expiry_year"].as_i64(), later.parse().ok());

    // `PATCH /v2/card/{id}` (published `PatchDto`): a new expiry as numbers, or in an encrypted card of the
    // same card; another card, half an expiry or an unknown token is refused.
    let path = format!("{CARD}/{}", token.as_str().unwrap());
    let latest = later.parse::<i64>().unwrap() + 1;
    let (status, patched) = patch(&sb, &path, &json!({"expiry_month": 12, "expiry_year": latest})).await;
    assert_eq!(status, 200, "{patched}");
    assert_eq!((patched["expiry_month"].as_i64(), patched["expiry_year"].as_i64()), (Some(12), Some(latest)));
    assert_eq!(patched["reuse_token"], token);
    let same_card =
        json!({"encrypted_card": sb.encrypt("5555555555554444", &m, &later), "public_key_alias": KEY_ALIAS});
    let (status, patched) = patch(&sb, &path, &same_card).await;
    assert_eq!((status.as_u16(), patched["expiry_year"].as_i64()), (200, later.parse().ok()), "{patched}");
    let other_card =
        json!({"encrypted_card": sb.encrypt("4111111111111111", &m, &later), "public_key_alias": KEY_ALIAS});
    let (status, body) = patch(&sb, &path, &other_card).await;
    assert_published_refusal(status, &body, "encrypted_card");
    let (status, body) = patch(&sb, &path, &json!({"expiry_month": 12})).await;
    assert_published_refusal(status, &body, "expiry_year");
    let (status, body) = patch(&sb, &path, &json!({"expiry_month": 13, "expiry_year": latest})).await;
    assert_published_refusal(status, &body, "expiry_month");
    assert_eq!(patch(&sb, &format!("{CARD}/9000000000000000"), &json!({})).await.0, 404);

    // No cardholder-initiated payment on this token yet: a merchant-initiated charge is refused.
    let scheme = json!("0123456789abcdef");
    let mit = token_payment(&token, 500, stored_credential("CHARGE", "UNSCHEDULED_CREDENTIAL_ON_FILE", Some(&scheme)));
    let (status, body) = sb.post(PAY, &mit).await;
    assert_published_refusal(status, &body, "stored_credential");
    assert!(body["message"].as_str().unwrap().contains("cardholder-initiated"), "{body}");

    // The sign-up with the stored card makes it possible.
    let (status, signup) =
        sb.post(PAY, &token_payment(&token, 500, stored_credential("SIGNUP", "CREDENTIAL_ON_FILE", None))).await;
    assert_eq!(status, 201, "{signup}");
    let mit = token_payment(
        &token,
        500,
        stored_credential("CHARGE", "UNSCHEDULED_CREDENTIAL_ON_FILE", Some(&signup["scheme_reference"])),
    );
    let (status, body) = sb.post(PAY, &mit).await;
    assert_eq!((status.as_u16(), body["status"].as_str()), (201, Some("AUTHORIZED")), "{body}");
    assert_eq!(body["card_details"]["expiry_year"].as_i64(), later.parse().ok());

    // Refusals: required fields, an unknown scope, an unknown token.
    let (status, body) = put(&sb, CARD, &json!({"token_scope": TOKEN_SCOPE})).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["details"]["missing_fields"], json!(["encrypted_card", "public_key_alias"]));
    let mut other_scope = put_body(&y);
    other_scope["token_scope"] = json!("00000000-0000-0000-0000-000000000000");
    let (status, body) = put(&sb, CARD, &other_scope).await;
    assert_published_refusal(status, &body, "token_scope");
    let (status, body) = sb.get(&format!("{CARD}/9000000000000000")).await;
    assert_eq!((status.as_u16(), body["code"].as_u64()), (404, Some(404)), "{body}");
    let (status, body) = sb.post(PAY, &token_payment(&json!("9000000000000000"), 500, Value::Null)).await;
    assert_published_refusal(status, &body, "reuse_token");
}

/// The 3-D Secure lookup takes the `reuse_token` in place of the encrypted card (published `LookupRequest`),
/// and the payment with that token accepts the authentication made for it.
#[tokio::test]
async fn a_stored_card_is_authenticated_with_its_token() {
    let (_app, sb) = spawn().await;
    let (m, y) = test_card_expiry();
    let mut first = card_payment(&sb.encrypt("4000000000001000", &m, &y), 1_000);
    first["token_preference"] = json!({"token_scope": TOKEN_SCOPE});
    let (status, paid) = sb.post(PAY, &first).await;
    assert_eq!(status, 201, "{paid}");
    let token = paid["reuse_token"].clone();

    let session = sb.session().await;
    let lookup = json!({
        "amount": 2_000,
        "billing_first_name": "Ada",
        "billing_last_name": "Lovelace",
        "billing_address_1": "1 Main St",
        "billing_city": "London",
        "billing_country_code": "GB",
        "currency_code": "EUR",
        "device_info_id": session,
        "email": "ada@example.com",
        "merchant_reference": "order-44",
        "threeds_contract_id": "sandbox-3ds-contract",
        "reuse_token": token,
    });
    let (status, answer) = sb.post(LOOKUP, &lookup).await;
    assert_eq!(status, 200, "{answer}");
    // The matrix's frictionless Visa case, as for the card itself.
    assert_eq!((answer["enrolled"].as_str(), answer["pares_status"].as_str()), (Some("Y"), Some("Y")), "{answer}");

    let mut pay = token_payment(&token, 2_000, stored_credential("CHARGE", "CREDENTIAL_ON_FILE", None));
    pay["threed_authentication"] = threed_from_lookup(&answer);
    let (status, paid) = sb.post(PAY, &pay).await;
    assert_eq!((status.as_u16(), paid["status"].as_str()), (201, Some("AUTHORIZED")), "{paid}");

    // Neither card nor token: the published missing fields.
    let session = sb.session().await;
    let mut none = lookup.clone();
    none["device_info_id"] = json!(session);
    none.as_object_mut().unwrap().remove("reuse_token");
    let (status, body) = sb.post(LOOKUP, &none).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["details"]["missing_fields"], json!(["encrypted_card", "public_key_alias"]));
}

/// What an outside client following the published API does, end to end: a JWT for the browser SDK, the
/// device session, the card encrypted as verifone.js encrypts it, the lookup, the issuer's challenge, the
/// result JWT checked with `jwt/validate`, the payment with the validated 3-D Secure values and a reuse
/// token asked for, a refund, and the transaction read back. (The browser half with both verifone.js calls
/// is end2end/tests/sandbox-sdk.spec.ts "a published client end to end".)
#[tokio::test]
async fn published_client_end_to_end() {
    let (_app, sb) = spawn().await;
    let (m, y) = test_card_expiry();
    // POST /oidc/3ds-service/v2/jwt/create {threeds_contract_id} -> {threeds_contract_id, jwt}.
    let (status, created) = sb
        .post("/verifone/oidc/3ds-service/v2/jwt/create", &json!({"threeds_contract_id": "sandbox-3ds-contract"}))
        .await;
    assert_eq!(status, 200, "{created}");
    assert_eq!(created["threeds_contract_id"], "sandbox-3ds-contract");
    let session = sb.setup(created["jwt"].as_str().unwrap()).await.expect("Cardinal.setup");

    let pan = "4000000000001091";
    let lookup = json!({
        "amount": 4_250,
        "billing_first_name": "Grace",
        "billing_last_name": "Hopper",
        "billing_address_1": "1 Navy Way",
        "billing_city": "Arlington",
        "billing_country_code": "US",
        "currency_code": "USD",
        "device_info_id": session,
        "email": "grace@example.com",
        "merchant_reference": "order-e2e",
        "threeds_contract_id": "sandbox-3ds-contract",
        "encrypted_card": sb.encrypt(pan, &m, &y),
        "public_key_alias": KEY_ALIAS,
    });
    let (status, looked) = sb.post(LOOKUP, &lookup).await;
    assert_eq!(status, 200, "{looked}");
    assert_eq!((looked["pares_status"].as_str(), looked["challenge_required"].as_str()), (Some("C"), Some("Y")));
    let done = sb.answer_challenge(&looked, "submit", "1234").await;
    assert!(done.contains("cardinal.acs.complete"), "{done}");
    let validated = sb.validated(&looked).await;

    // POST /oidc/3ds-service/v2/jwt/validate {authentication_id, jwt, threeds_contract_id}.
    let (status, checked) = sb
        .post(
            "/verifone/oidc/3ds-service/v2/jwt/validate",
            &json!({
                "authentication_id": looked["authentication_id"],
                "jwt": validated["jwt"],
                "threeds_contract_id": "sandbox-3ds-contract",
            }),
        )
        .await;
    assert_eq!(status, 200, "{checked}");
    let v = &checked["validation_result"];
    assert_eq!((checked["action_code"].as_str(), v["pares_status"].as_str()), (Some("SUCCESS"), Some("Y")));

    // POST /oidc/api/v2/transactions/card with the validated values.
    let pay = json!({
        "payment_provider_contract": CONTRACT,
        "amount": 4_250,
        "currency_code": "USD",
        "merchant_reference": "order-e2e",
        "card_brand": "VISA",
        "public_key_alias": KEY_ALIAS,
        "encrypted_card": sb.encrypt(pan, &m, &y),
        "threed_authentication": {
            "eci_flag": v["eci_flag"],
            "enrolled": v["enrolled"],
            "cavv": v["cavv"],
            "pares_status": v["pares_status"],
            "threeds_version": looked["threeds_version"],
            "ds_transaction_id": v["ds_transaction_id"],
            "signature_verification": v["signature_verification"],
            "error_no": checked["error_no"],
            "error_desc": checked["error_desc"],
        },
        "token_preference": {"token_scope": TOKEN_SCOPE},
    });
    let (status, paid) = sb.post_with(PAY, &pay, Some("e2e-pay-1")).await;
    assert_eq!(status, 201, "{paid}");
    assert_eq!((paid["status"].as_str(), paid["reason_code"].as_str()), (Some("AUTHORIZED"), Some("00")));
    assert_eq!(paid["threed_authentication"]["cavv"], v["cavv"]);
    assert!(paid["reuse_token"].is_string(), "{paid}");
    let id = paid["id"].as_str().unwrap();

    // POST /oidc/api/v2/transactions/{id}/refund, then GET /oidc/api/v2/transaction/{id}.
    let (status, refund) = sb
        .post_with(
            &format!("/verifone/oidc/api/v2/transactions/{id}/refund"),
            &json!({"amount": 4_250}),
            Some("e2e-refund-1"),
        )
        .await;
    assert_eq!((status.as_u16(), refund["status"].as_str()), (201, Some("REFUNDED")), "{refund}");
    assert_eq!(refund["parent_id"], paid["id"]);
    let (status, read) = sb.get(&format!("/verifone/oidc/api/v2/transaction/{id}")).await;
    assert_eq!((status.as_u16(), read["status"].as_str()), (200, Some("REFUNDED")), "{read}");
    assert_eq!(read["refunded_amount"], 4_250);
}

/// Amounts are integers in the minor units of the currency's ISO 4217 exponent (from the `iso_currency`
/// table): the issuer's page shows JPY 4250 as 4,250 and BHD 4250 as 4.250; Cardinal's result names the
/// numeric code; a decimal amount or a code not in ISO 4217 is refused.
#[tokio::test]
async fn amounts_follow_each_currencys_exponent() {
    let (_app, sb) = spawn().await;
    let (m, y) = test_card_expiry();
    let pan = "4000000000001091";
    for (currency, numeric, shown) in [("JPY", "392", "4,250"), ("BHD", "048", "4.250"), ("EUR", "978", "42.50")] {
        let session = sb.session().await;
        let mut body = sb.lookup_body(&session, &sb.encrypt(pan, &m, &y), 4_250, "order-fx");
        body["currency_code"] = json!(currency);
        let (status, looked) = sb.post(LOOKUP, &body).await;
        assert_eq!(status, 200, "{currency}: {looked}");
        let page = sb.challenge_page(&looked).await;
        assert!(page.contains(&format!("{currency} {shown}")), "{currency}: {page}");
        sb.answer_challenge(&looked, "submit", "1234").await;
        let validated = sb.validated(&looked).await;
        let ext = &validated["data"]["Payment"]["ExtendedData"];
        assert_eq!((ext["CurrencyCode"].as_str(), ext["Amount"].as_str()), (Some(numeric), Some("4250")), "{currency}");

        let mut pay = card_payment(&sb.encrypt(pan, &m, &y), 4_250);
        pay["currency_code"] = json!(currency);
        pay["threed_authentication"] = json!({
            "eci_flag": ext["ECIFlag"], "enrolled": "Y", "cavv": ext["CAVV"], "pares_status": ext["PAResStatus"],
            "threeds_version": looked["threeds_version"], "ds_transaction_id": looked["ds_transaction_id"],
            "signature_verification": ext["SignatureVerification"],
        });
        let (status, paid) = sb.post(PAY, &pay).await;
        assert_eq!((status.as_u16(), paid["status"].as_str()), (201, Some("AUTHORIZED")), "{currency}: {paid}");
        assert_eq!((paid["amount"].as_i64(), paid["currency_code"].as_str()), (Some(4_250), Some(currency)));
    }
    for (field, value) in [("amount", json!(42.5)), ("currency_code", json!("jpy")), ("currency_code", json!("ABC"))] {
        let mut pay = card_payment(&sb.encrypt("4111111111111111", &m, &y), 4_250);
        pay[field] = value;
        let (status, body) = sb.post(PAY, &pay).await;
        assert_published_refusal(status, &body, field);
    }
}
