//! Verifone's token vault and stored credentials: `token_preference` on a payment and `PUT /v2/card` store a
//! card under a reuse token; payments and lookups take the `reuse_token` in place of the encrypted card; a
//! merchant-initiated charge needs a cardholder-initiated payment on the same token before it.
//!
//! Sources: Verifone eCommerce API OpenAPI 2.38.1 (mirrored in github.com/api-evangelist/verifone,
//! `openapi/_original/ecommerce-api.json` and `json-schema/ecommerce-api-*.json`): `TokenPreferenceDto`
//! `{token_scope (uuid, required), token_type REUSE|ANALYTICS|REUSE_AND_ANALYTICS, reuse_token_type, token_expiry_date}`,
//! `PutDto` (`PUT /api/v2/card`, required `token_scope, encrypted_card, public_key_alias`), `CardResponse`
//! (its answer and that of `GET /api/v2/card/{id}`), `TokenDetails`, `StoredCredentialDto`
//! `{stored_credential_type SIGNUP|CHARGE, processing_model_details{processing_model}, scheme_reference}` and the
//! response's `StoredCredential` `{reference, stored_credential_type, scheme_reference, processing_model}`.
//! The 3-D Secure API's `LookupRequest` takes `reuse_token` in place of `encrypted_card` (minLength 16).
//! Which processing models are merchant-initiated follows Verifone's "Stored Credentials" page
//! (verifone.cloud/docs/online-payments/stored-credentials): card-on-file CIT vs unscheduled / recurring MIT `[S]`.

use super::{
    SandboxState, Table, auth,
    cards::{self, Card},
    new_id,
    scenarios::TestCase,
};
use crate::domain::card::CardBrand;
use crate::server::{clock::today, db::now_ms};
use axum::{
    Json, Router,
    body::Bytes,
    extract::{Path, State},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::{get, put},
};
use serde_json::{Value, json};

/// What the sandbox knows of a card once read: never its number or CVV.
#[derive(Clone, Debug)]
pub struct CardFacts {
    /// SHA-256 of the number: ties a 3-D Secure authentication and a payment to the same card.
    pub hash: [u8; 32],
    pub brand: CardBrand,
    pub bin6: String,
    pub last4: String,
    pub masked: String,
    pub expiry: (u8, u16),
    /// The test-case matrix's entry for a test card, kept so a token answers lookups as its card does.
    pub case: Option<TestCase>,
}

impl CardFacts {
    pub fn of(card: &Card, sb: &SandboxState) -> CardFacts {
        let n = &card.number;
        CardFacts {
            hash: super::threeds::card_hash(n.expose()),
            brand: n.brand(),
            bin6: n.bin6().to_owned(),
            last4: n.last4().to_owned(),
            masked: n.masked(),
            expiry: (card.expiry.month(), card.expiry.year()),
            case: sb.matrix.find(n.expose()).cloned(),
        }
    }
}

/// The card of a lookup or a payment, whichever way it came.
pub struct Presented {
    pub facts: CardFacts,
    pub cvv_present: bool,
    /// The reuse token it came as.
    pub token: Option<String>,
}

/// Why a request's card was refused: the field to name and the reason.
pub type Refusal = (&'static str, String);

/// Reads the card of `req`: `encrypted_card` (with `public_key_alias`), or a `reuse_token`. With a reuse
/// token, an `encrypted_card` may come too carrying the CVV the shopper entered again (verifone.js encrypts
/// any of the card's tags: `{captureTime, cvv}`) `[I]`; if it names a card number, it must be the token's.
/// Callers have checked that the fields required for either way are present.
pub fn presented(sb: &SandboxState, req: &Value) -> Result<Presented, Refusal> {
    let text = |f: &str| req.get(f).and_then(Value::as_str).filter(|s| !s.trim().is_empty());
    let decrypt = |encrypted: &str| {
        if text("public_key_alias") != Some(sb.key.alias.as_str()) {
            return Err(("public_key_alias", "no key with this alias".to_owned()));
        }
        sb.key.decrypt(encrypted).map_err(|e| ("encrypted_card", e.to_string()))
    };
    let Some(token) = text("reuse_token") else {
        let plain = decrypt(text("encrypted_card").unwrap_or_default())?;
        let card = cards::parse_card(&plain, today(), now_ms()).map_err(|e| ("encrypted_card", e.to_string()))?;
        return Ok(Presented { facts: CardFacts::of(&card, sb), cvv_present: card.cvv.is_some(), token: None });
    };
    let stored = sb.vault.lock().unwrap().usable(token)?;
    let mut cvv_present = false;
    if let Some(encrypted) = text("encrypted_card") {
        let plain = decrypt(encrypted)?;
        let number = cards::parse_reentered(&plain, stored.facts.brand, now_ms())
            .map_err(|e| ("encrypted_card", e.to_string()))?;
        if number.is_some_and(|h| h != stored.facts.hash) {
            return Err(("encrypted_card", "the card is not the one stored under reuse_token".to_owned()));
        }
        cvv_present = true;
    }
    Ok(Presented { facts: stored.facts, cvv_present, token: Some(token.to_owned()) })
}

/// `token_type` of a token preference (`TokenPreferenceDto`; `PutDto` defaults to REUSE) `[P]`.
const TOKEN_TYPES: [&str; 3] = ["REUSE", "ANALYTICS", "REUSE_AND_ANALYTICS"];
/// `reuse_token_type`: the sandbox issues Verifone's own tokens only (third-party types need details it
/// has no use for).
const REUSE_TOKEN_TYPE: &str = "INTERNAL";

/// A payment's or `PUT /v2/card`'s wish for a token, checked.
#[derive(Clone, Debug)]
pub struct Preference {
    /// Whether a reuse token is wanted (not for `ANALYTICS` alone).
    pub reuse: bool,
    pub expiry_date: Option<String>,
}

/// Parses a `token_preference` object (or the same fields of a `PUT /v2/card` body).
pub fn preference(sb: &SandboxState, p: &Value) -> Result<Preference, Refusal> {
    if !p.is_object() {
        return Err(("token_preference", "an object".to_owned()));
    }
    match p.get("token_scope").and_then(Value::as_str) {
        None => return Err(("token_scope", "required".to_owned())),
        Some(s) if s != sb.config.token_scope => return Err(("token_scope", "unknown token scope".to_owned())),
        Some(_) => {}
    }
    let token_type = match p.get("token_type") {
        None | Some(Value::Null) => "REUSE",
        Some(t) => t
            .as_str()
            .filter(|t| TOKEN_TYPES.contains(t))
            .ok_or(("token_type", format!("one of {}", TOKEN_TYPES.join(", "))))?,
    };
    match p.get("reuse_token_type").and_then(Value::as_str) {
        None | Some(REUSE_TOKEN_TYPE) => {}
        Some(_) => return Err(("reuse_token_type", "the sandbox issues INTERNAL tokens only".to_owned())),
    }
    let expiry_date = match p.get("token_expiry_date") {
        None | Some(Value::Null) => None,
        Some(d) => match d.as_str().filter(|d| crate::server::clock::parse_date(d).is_some()) {
            Some(d) => Some(d.to_owned()),
            None => return Err(("token_expiry_date", "a date (YYYY-MM-DD)".to_owned())),
        },
    };
    Ok(Preference { reuse: token_type != "ANALYTICS", expiry_date })
}

/// A card kept under a reuse token.
#[derive(Clone, Debug)]
pub struct StoredCard {
    pub reuse_token: String,
    /// Stands for the card in reports; cannot be used to pay.
    pub analytics_token: String,
    pub token_scope: String,
    pub token_expiry_date: Option<String>,
    pub facts: CardFacts,
    /// Unix ms.
    pub created_at: i64,
    pub updated_at: i64,
    /// The approved cardholder-initiated payments on this token: (transaction id, scheme reference). A
    /// merchant-initiated charge must cite one of them.
    pub cits: Vec<(String, String)>,
}

impl StoredCard {
    /// The published `CardResponse` (`PUT /v2/card`, `GET /v2/card/{id}`); `reuse_token` is absent when
    /// only an analytics token was asked for.
    pub fn card_response(&self, reuse: bool) -> Value {
        let date = |ms: i64| crate::server::clock::format_date(ms);
        let mut r = json!({
            "analytics_token": self.analytics_token,
            "bin": self.facts.bin6,
            "last_four": self.facts.last4,
            "expiry_month": self.facts.expiry.0,
            "expiry_year": self.facts.expiry.1,
            "reuse_token_type": REUSE_TOKEN_TYPE,
            "token_scope": self.token_scope,
            "token_status": "ACTIVE",
            "created_at": date(self.created_at),
            "updated_at": date(self.updated_at),
        });
        if reuse {
            r["reuse_token"] = json!(self.reuse_token);
        }
        if let Some(d) = &self.token_expiry_date {
            r["token_expiry_date"] = json!(d);
        }
        r
    }

    /// The published `TokenDetails` a payment that stored or used the token carries.
    pub fn token_details(&self, reuse: bool) -> Value {
        let mut d = self.card_response(reuse);
        d["brand"] = json!(self.facts.brand.code());
        d
    }
}

#[derive(Default)]
pub struct Vault {
    tokens: Table<StoredCard>,
}

impl Vault {
    /// Stores `facts` under a reuse token. One card has one token per scope: storing it again (a new expiry,
    /// say) updates the token's card and keeps the token `[I]` (`PUT /v2/card` is "Create/Update Token
    /// Details").
    pub fn store(&mut self, scope: &str, facts: CardFacts, expiry_date: Option<String>) -> StoredCard {
        let now = now_ms();
        let existing = self.tokens.values_mut().find(|t| t.token_scope == scope && t.facts.hash == facts.hash);
        if let Some(t) = existing {
            t.facts = facts;
            t.updated_at = now;
            if expiry_date.is_some() {
                t.token_expiry_date = expiry_date;
            }
            return t.clone();
        }
        let stored = StoredCard {
            reuse_token: new_reuse_token(),
            analytics_token: new_id().replace('-', ""),
            token_scope: scope.to_owned(),
            token_expiry_date: expiry_date,
            facts,
            created_at: now,
            updated_at: now,
            cits: Vec::new(),
        };
        self.tokens.insert(stored.reuse_token.clone(), stored.clone());
        stored
    }

    pub fn get(&self, token: &str) -> Option<&StoredCard> {
        self.tokens.get(token)
    }

    /// The token's card, if the token exists and has not expired.
    fn usable(&self, token: &str) -> Result<StoredCard, Refusal> {
        let stored = self.get(token).ok_or(("reuse_token", "no card is stored under this token".to_owned()))?;
        let today = crate::server::clock::format_date(now_ms());
        if stored.token_expiry_date.as_deref().is_some_and(|d| d < today.as_str()) {
            return Err(("reuse_token", "the token has expired".to_owned()));
        }
        Ok(stored.clone())
    }

    /// Records an approved cardholder-initiated payment on `token`.
    pub fn record_cit(&mut self, token: &str, transaction_id: &str, scheme_reference: &str) {
        if let Some(t) = self.tokens.get_mut(token) {
            t.cits.push((transaction_id.to_owned(), scheme_reference.to_owned()));
        }
    }
}

/// Sixteen digits (the published minimum length of a lookup's `reuse_token`), not starting with a card
/// network's digit, so a token is never taken for a card number `[I]`.
fn new_reuse_token() -> String {
    let digits: String = (0..15).map(|_| char::from(b'0' + rand::random::<u8>() % 10)).collect();
    format!("9{digits}")
}

/// The kind of a stored-credential payment: the cardholder takes part (sign-up or a card-on-file charge), or
/// the merchant charges alone (unscheduled, recurring, re-authorization).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Initiator {
    Cardholder,
    Merchant,
}

/// A payment's `stored_credential`, checked against the published `StoredCredentialDto`.
#[derive(Clone, Debug)]
pub struct StoredCredential {
    pub signup: bool,
    pub processing_model: String,
    pub initiator: Initiator,
    pub scheme_reference: Option<String>,
}

const PROCESSING_MODELS: [&str; 5] =
    ["UNSCHEDULED_CREDENTIAL_ON_FILE", "CREDENTIAL_ON_FILE", "RECURRING", "NONE", "REAUTHORIZATION"];
/// The processing models with which the merchant charges without the cardholder `[S]`.
const MERCHANT_INITIATED: [&str; 3] = ["UNSCHEDULED_CREDENTIAL_ON_FILE", "RECURRING", "REAUTHORIZATION"];

pub fn stored_credential(v: &Value) -> Result<Option<StoredCredential>, Refusal> {
    if v.is_null() {
        return Ok(None);
    }
    let field = "stored_credential";
    if !v.is_object() {
        return Err((field, "an object".to_owned()));
    }
    let signup = match v.get("stored_credential_type").and_then(Value::as_str) {
        Some("SIGNUP") => true,
        Some("CHARGE") => false,
        _ => return Err((field, "stored_credential_type is SIGNUP or CHARGE".to_owned())),
    };
    let model = v["processing_model_details"]["processing_model"].as_str();
    let Some(model) = model.filter(|m| PROCESSING_MODELS.contains(m)) else {
        return Err((
            field,
            format!("processing_model_details.processing_model is one of {}", PROCESSING_MODELS.join(", ")),
        ));
    };
    // A sign-up is the cardholder agreeing to have the card kept: never merchant-initiated.
    let initiator =
        if !signup && MERCHANT_INITIATED.contains(&model) { Initiator::Merchant } else { Initiator::Cardholder };
    let scheme_reference = match v.get("scheme_reference") {
        None | Some(Value::Null) => None,
        Some(s) => Some(s.as_str().ok_or((field, "scheme_reference is a string".to_owned()))?.to_owned()),
    };
    Ok(Some(StoredCredential { signup, processing_model: model.to_owned(), initiator, scheme_reference }))
}

/// Checks a merchant-initiated charge: it uses a reuse token on which the cardholder has paid before, and
/// cites that first payment's scheme reference (what the networks link an MIT to; required here `[I]`).
/// Answers the cited payment: (transaction id, scheme reference).
pub fn check_mit(sb: &SandboxState, token: Option<&str>, sc: &StoredCredential) -> Result<(String, String), Refusal> {
    let field = "stored_credential";
    let Some(token) = token else {
        return Err(("reuse_token", "a merchant-initiated charge uses the reuse_token of a stored card".to_owned()));
    };
    let vault = sb.vault.lock().unwrap();
    let cits = vault.get(token).map(|t| t.cits.clone()).unwrap_or_default();
    if cits.is_empty() {
        return Err((
            field,
            "no cardholder-initiated payment on this token: a merchant-initiated charge needs one first".to_owned(),
        ));
    }
    let Some(cited) = sc.scheme_reference.as_deref() else {
        return Err((field, "scheme_reference of the cardholder-initiated payment is required".to_owned()));
    };
    cits.into_iter()
        .find(|(_, r)| r == cited)
        .ok_or((field, "scheme_reference is not that of a cardholder-initiated payment on this token".to_owned()))
}

pub fn router() -> Router<SandboxState> {
    Router::new().route("/v2/card", put(put_card)).route("/v2/card/{id}", get(get_card))
}

/// `PUT /v2/card`: stores the encrypted card under a reuse token (or updates the card already stored, e.g.
/// its expiry) and answers the published `CardResponse`.
async fn put_card(State(sb): State<SandboxState>, headers: HeaderMap, body: Bytes) -> Response {
    if let Err(denied) = auth::check(&sb, &headers, true) {
        return denied;
    }
    let refuse =
        |(field, why): Refusal| super::ecommerce::refusal(&format!("Invalid {field}: {why}"), json!({"field": field}));
    let body = match auth::json_object(&body) {
        Ok(b) => b,
        Err(_) => return super::ecommerce::refusal("Request body is not a JSON object", json!({})),
    };
    let missing: Vec<&str> = ["token_scope", "encrypted_card", "public_key_alias"]
        .into_iter()
        .filter(|f| body.get(*f).and_then(Value::as_str).is_none_or(|s| s.trim().is_empty()))
        .collect();
    if !missing.is_empty() {
        return super::ecommerce::refusal("Missing required fields", json!({"missing_fields": missing}));
    }
    if body.get("reuse_token").is_some() {
        return refuse(("reuse_token", "PUT /v2/card stores an encrypted_card".to_owned()));
    }
    let pref = match preference(&sb, &body) {
        Ok(p) => p,
        Err(r) => return refuse(r),
    };
    let card = match presented(&sb, &body) {
        Ok(p) => p,
        Err(r) => return refuse(r),
    };
    let brand = body.get("card_brand").and_then(Value::as_str);
    if brand.is_some_and(|b| !b.eq_ignore_ascii_case(card.facts.brand.code())) {
        return refuse(("card_brand", "does not match the card".to_owned()));
    }
    let stored = sb.vault.lock().unwrap().store(&sb.config.token_scope, card.facts, pref.expiry_date);
    Json(stored.card_response(pref.reuse)).into_response()
}

/// `GET /v2/card/{reuse_token}`: the stored card's details.
async fn get_card(State(sb): State<SandboxState>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    if let Err(denied) = auth::check(&sb, &headers, true) {
        return denied;
    }
    let stored = sb.vault.lock().unwrap().get(&id).cloned();
    match stored {
        Some(t) => Json(t.card_response(true)).into_response(),
        None => {
            let (status, body) =
                super::ecommerce::error_value(StatusCode::NOT_FOUND, "Token not found", json!({"id": id}));
            (status, Json(body)).into_response()
        }
    }
}
