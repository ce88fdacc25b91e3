//! Drives the embedded Verifone sandbox over HTTP the way a merchant's server and a shopper's browser do.

use super::TestApp;
use base64::{Engine, engine::general_purpose::STANDARD};
use card_checkout::server::config::sandbox_defaults as d;
use pgp::composed::{ArmorOptions, Deserializable, MessageBuilder, SignedPublicKey};
use pgp::crypto::sym::SymmetricKeyAlgorithm;
use reqwest::StatusCode;
use serde_json::{Value, json};

pub struct Sandbox {
    pub base: String,
    pub http: reqwest::Client,
    public_key: String,
}

pub fn test_card_expiry() -> (String, String) {
    let year = card_checkout::server::clock::today().year + 3;
    ("01".into(), year.to_string())
}

impl Sandbox {
    pub async fn of(app: &TestApp) -> Sandbox {
        Sandbox::at(&format!("{}/sandbox", app.url)).await
    }

    /// The sandbox mounted at `base` (e.g. a standalone one: `http://127.0.0.1:N/sandbox`).
    pub async fn at(base: &str) -> Sandbox {
        let base = base.to_owned();
        let http = reqwest::Client::new();
        let public_key = http
            .get(format!("{base}/verifone/keys/{}", d::VERIFONE_PUBLIC_KEY_ALIAS))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(public_key.contains("BEGIN PGP PUBLIC KEY BLOCK"), "{public_key}");
        Sandbox { base, http, public_key }
    }

    pub async fn post(&self, path: &str, body: &Value) -> (StatusCode, Value) {
        self.post_with(path, body, None).await
    }

    /// A POST to a sandbox path with the merchant's Basic credentials, for callers that add to it.
    pub fn authed_post(&self, path: &str) -> reqwest::RequestBuilder {
        self.http.post(format!("{}{path}", self.base)).basic_auth(d::VERIFONE_USER_UID, Some(d::VERIFONE_API_KEY))
    }

    pub async fn post_with(&self, path: &str, body: &Value, idempotency_key: Option<&str>) -> (StatusCode, Value) {
        let mut req = self.authed_post(path).json(body);
        if let Some(key) = idempotency_key {
            req = req.header("x-vfi-api-idempotencyKey", key);
        }
        answer(req).await
    }

    pub async fn get(&self, path: &str) -> (StatusCode, Value) {
        let req =
            self.http.get(format!("{}{path}", self.base)).basic_auth(d::VERIFONE_USER_UID, Some(d::VERIFONE_API_KEY));
        answer(req).await
    }

    pub async fn jwt(&self) -> String {
        let (status, body) = self
            .post(
                "/verifone/oidc/3ds-service/v2/jwt/create",
                &json!({"threeds_contract_id": d::VERIFONE_3DS_CONTRACT_ID}),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        body["jwt"].as_str().unwrap().to_owned()
    }

    /// What the browser SDK does between `Cardinal.setup` and `payments.setupComplete`.
    pub async fn setup(&self, jwt: &str) -> Result<String, StatusCode> {
        let res =
            self.http.post(format!("{}/cardinal/setup", self.base)).json(&json!({"jwt": jwt})).send().await.unwrap();
        if !res.status().is_success() {
            return Err(res.status());
        }
        let session: Value = res.json().await.unwrap();
        let session = session["sessionId"].as_str().unwrap().to_owned();
        let res = self
            .http
            .post(format!("{}/cardinal/device-data", self.base))
            .json(&json!({"sessionId": session, "browser": {}}))
            .send()
            .await
            .unwrap();
        assert!(res.status().is_success());
        Ok(session)
    }

    pub async fn session(&self) -> String {
        let jwt = self.jwt().await;
        self.setup(&jwt).await.unwrap()
    }

    /// What verifone.js does: OpenPGP-encrypt the card JSON to the public key, armor, base64.
    pub fn encrypt(&self, pan: &str, month: &str, year: &str) -> String {
        self.encrypt_json(&json!({
            "captureTime": capture_time(),
            "cardNumber": pan,
            "expiryMonth": month,
            "expiryYear": year,
            "cvv": if pan.starts_with('3') { "1234" } else { "123" },
        }))
    }

    /// Encrypts any plaintext as verifone.js would encrypt the card JSON.
    pub fn encrypt_json(&self, plain: &Value) -> String {
        let (key, _) = SignedPublicKey::from_string(&self.public_key).unwrap();
        let mut builder = MessageBuilder::from_bytes("", plain.to_string().into_bytes())
            .seipd_v1(rand::thread_rng(), SymmetricKeyAlgorithm::AES256);
        builder.encrypt_to_key(rand::thread_rng(), &key.public_subkeys[0]).unwrap();
        STANDARD.encode(builder.to_armored_string(rand::thread_rng(), ArmorOptions::default()).unwrap())
    }

    pub fn lookup_body(&self, session: &str, encrypted_card: &str, amount: i64, reference: &str) -> Value {
        json!({
            "amount": amount,
            "billing_first_name": "Ada",
            "billing_last_name": "Lovelace",
            "billing_address_1": "1 Main St",
            "billing_city": "London",
            "billing_country_code": "GB",
            "currency_code": "EUR",
            "device_info_id": session,
            "email": "ada@example.com",
            "merchant_reference": reference,
            "threeds_contract_id": d::VERIFONE_3DS_CONTRACT_ID,
            "encrypted_card": encrypted_card,
            "public_key_alias": d::VERIFONE_PUBLIC_KEY_ALIAS,
        })
    }

    /// A fresh session and a lookup for a test card (expiry 01 / current year + 3).
    pub async fn lookup(&self, pan: &str, amount: i64) -> (StatusCode, Value) {
        let session = self.session().await;
        let (m, y) = test_card_expiry();
        let body = self.lookup_body(&session, &self.encrypt(pan, &m, &y), amount, "order-1");
        self.post("/verifone/oidc/3ds-service/v2/lookup", &body).await
    }

    /// The issuer's challenge page a lookup sends the browser to.
    pub async fn challenge_page(&self, lookup: &Value) -> String {
        self.http
            .get(lookup["acs_url"].as_str().unwrap())
            .query(&[("creq", lookup["payload"].as_str().unwrap())])
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    }

    /// Opens the challenge page for a lookup and submits `action` ("submit", "cancel", "continue").
    pub async fn answer_challenge(&self, lookup: &Value, action: &str, code: &str) -> String {
        let page = self.challenge_page(lookup).await;
        assert!(page.contains(lookup["acs_transaction_id"].as_str().unwrap()) || page.contains("complete"), "{page}");
        self.http
            .post(format!("{}/acs/challenge", self.base))
            .form(&[
                ("acs_transaction_id", lookup["acs_transaction_id"].as_str().unwrap()),
                ("action", action),
                ("code", code),
            ])
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    }

    /// What `payments.validated` hands the page: `{data, jwt}`.
    pub async fn validated(&self, lookup: &Value) -> Value {
        let res = self
            .http
            .post(format!("{}/cardinal/result", self.base))
            .json(&json!({"transactionId": lookup["transaction_id"], "sessionId": ""}))
            .send()
            .await
            .unwrap();
        assert!(res.status().is_success(), "{}", res.status());
        res.json().await.unwrap()
    }

    pub async fn payment_body(&self, pan: &str, amount: i64, threed: Option<Value>) -> Value {
        let (m, y) = test_card_expiry();
        let brand = card_checkout::domain::card::CardNumber::parse(pan).unwrap().brand().code();
        let mut body = json!({
            "payment_provider_contract": d::VERIFONE_PAYMENT_CONTRACT,
            "amount": amount,
            "currency_code": "EUR",
            "merchant_reference": "order-1",
            "card_brand": brand,
            "public_key_alias": d::VERIFONE_PUBLIC_KEY_ALIAS,
            "encrypted_card": self.encrypt(pan, &m, &y),
        });
        if let Some(t) = threed {
            body["threed_authentication"] = t;
        }
        body
    }
}

/// Now, as verifone.js writes `captureTime` (an encrypted card older than 15 minutes is refused).
pub fn capture_time() -> String {
    let now = card_checkout::server::clock::format_time(card_checkout::server::db::now_ms());
    now.trim_end_matches(" UTC").replacen(' ', "T", 1) + "Z"
}

/// Status and JSON body (`null` when the body is not JSON).
async fn answer(req: reqwest::RequestBuilder) -> (StatusCode, Value) {
    let res = req.send().await.unwrap();
    let status = res.status();
    (status, res.json().await.unwrap_or(Value::Null))
}

/// The `threed_authentication` block a merchant builds from a lookup (or validated) answer.
pub fn threed_from_lookup(lookup: &Value) -> Value {
    json!({
        "eci_flag": lookup["eci_flag"],
        "enrolled": lookup["enrolled"],
        "cavv": lookup["cavv"],
        "pares_status": lookup["pares_status"],
        "threeds_version": lookup["threeds_version"],
        "ds_transaction_id": lookup["ds_transaction_id"],
        "signature_verification": lookup["signature_verification"],
        "error_no": lookup["error_no"],
        "error_desc": lookup["error_desc"],
    })
}
