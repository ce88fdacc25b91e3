//! Verifone's 3DS service: `jwt/create`, `lookup`, `jwt/validate` and the list of authentications.

use super::{
    SandboxState, Table, auth, new_id, now_secs, random_alnum,
    scenarios::{ChallengeBehaviour, LOOKUP_ERROR, LOOKUP_TIMEOUT_ERROR, LookupBehaviour, TestCase},
};
use crate::domain::{
    card::CardBrand,
    money::Currency,
    threeds::{Eci, EciMeaning},
};
use crate::server::clock::today;
use axum::{
    Json, Router,
    extract::{Query, State},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use base64::{
    Engine,
    engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD},
};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::collections::HashMap;

/// JWTs for `Cardinal.setup` live two hours.
pub const JWT_LIFETIME_SECS: i64 = 2 * 60 * 60;
/// Wrong codes an issuer's challenge page accepts before it fails the authentication.
pub const CHALLENGE_ATTEMPTS: u8 = 3;

#[derive(Default)]
pub struct Store {
    /// jti → whether a `Cardinal.setup` has used it.
    pub jwts: Table<bool>,
    pub sessions: Table<Session>,
    pub authentications: Table<Authentication>,
    /// Cardinal transaction id → authentication id.
    pub by_transaction: HashMap<String, String>,
}

pub struct Session {
    pub jti: String,
    pub lookup_done: bool,
    pub bins: Vec<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Authentication {
    pub authentication_id: String,
    #[serde(skip)]
    pub device_info_id: String,
    pub transaction_id: String,
    pub acs_transaction_id: String,
    pub ds_transaction_id: String,
    pub order_id: String,
    pub threeds_version: String,
    #[serde(skip)]
    pub card_hash: [u8; 32],
    pub masked_card: String,
    #[serde(skip)]
    pub brand: CardBrand,
    pub card_brand: String,
    pub amount: i64,
    pub currency_code: String,
    pub merchant_reference: String,
    pub email: String,
    pub enrolled: Option<String>,
    /// The current status: the lookup's, then the challenge's once it is over.
    pub pares_status: Option<String>,
    pub signature_verification: Option<String>,
    pub eci_flag: String,
    #[serde(skip)]
    pub cavv: Option<String>,
    pub challenge_required: String,
    pub error_no: String,
    pub error_desc: String,
    pub status_reason: Option<String>,
    pub created_at: i64,
    #[serde(skip)]
    pub challenge: Option<Challenge>,
    /// A payment has used this authentication's CAVV (a second use is a replay).
    #[serde(skip)]
    pub cavv_used: bool,
}

#[derive(Clone, Debug)]
pub struct Challenge {
    pub behaviour: ChallengeBehaviour,
    pub attempts_left: u8,
    pub case: Option<TestCase>,
    pub outcome: Option<ChallengeOutcome>,
}

#[derive(Clone, Debug, Serialize)]
pub struct ChallengeOutcome {
    pub action_code: &'static str,
    pub pares_status: String,
    pub signature_verification: Option<String>,
    pub error_number: String,
    pub error_description: String,
}

pub fn card_hash(pan: &str) -> [u8; 32] {
    Sha256::digest(pan.as_bytes()).into()
}

pub fn router() -> Router<SandboxState> {
    Router::new()
        .route("/v2/jwt/create", post(jwt_create))
        .route("/v2/lookup", post(lookup))
        .route("/v2/jwt/validate", post(jwt_validate))
        .route("/v2/3d", get(list))
}

#[derive(Serialize, Deserialize)]
pub struct SetupClaims {
    pub jti: String,
    pub iss: String,
    pub iat: i64,
    pub exp: i64,
    #[serde(rename = "OrgUnitId")]
    pub org_unit_id: String,
    #[serde(rename = "Payload")]
    pub payload: Value,
}

async fn jwt_create(State(sb): State<SandboxState>, headers: HeaderMap, body: Json<Value>) -> Response {
    if let Err(denied) = auth::check(&sb, &headers, false) {
        return denied;
    }
    let contract = body.get("threeds_contract_id").and_then(Value::as_str).unwrap_or_default();
    if contract != sb.config.threeds_contract_id {
        return auth::error(
            StatusCode::BAD_REQUEST,
            "Unknown threeds_contract_id",
            json!({"field": "threeds_contract_id"}),
        );
    }
    let now = now_secs();
    let claims = SetupClaims {
        jti: new_id(),
        iss: sb.config.user_uid.clone(),
        iat: now,
        exp: now + JWT_LIFETIME_SECS,
        org_unit_id: contract.to_owned(),
        payload: json!({}),
    };
    let jwt = super::jwt::sign(&claims, sb.jwt_secret());
    sb.threeds.lock().unwrap().jwts.insert(claims.jti.clone(), false);
    Json(json!({"threeds_contract_id": contract, "jwt": jwt})).into_response()
}

const LOOKUP_REQUIRED: [&str; 13] = [
    "amount",
    "billing_address_1",
    "billing_city",
    "billing_country_code",
    "billing_first_name",
    "billing_last_name",
    "currency_code",
    "device_info_id",
    "email",
    "merchant_reference",
    "threeds_contract_id",
    "encrypted_card",
    "public_key_alias",
];

async fn lookup(State(sb): State<SandboxState>, headers: HeaderMap, body: Json<Value>) -> Response {
    if let Err(denied) = auth::check(&sb, &headers, false) {
        return denied;
    }
    match prepare_lookup(&sb, &body) {
        Ok((auth, behaviour)) => {
            // Consumed only by a lookup that passed validation, so a malformed request can be corrected.
            if let Err(refused) = use_session(&sb, &auth.device_info_id, true) {
                return refused;
            }
            if behaviour == LookupBehaviour::Timeout {
                tokio::time::sleep(sb.config.timeout_delay).await;
            }
            let response = lookup_response(&sb, &auth);
            let mut store = sb.threeds.lock().unwrap();
            store.by_transaction.insert(auth.transaction_id.clone(), auth.authentication_id.clone());
            store.authentications.insert(auth.authentication_id.clone(), auth);
            Json(response).into_response()
        }
        Err(response) => response,
    }
}

/// Checks that the session exists and has not served a lookup; with `consume`, marks it used (atomically).
fn use_session(sb: &SandboxState, device_info_id: &str, consume: bool) -> Result<(), Response> {
    match sb.threeds.lock().unwrap().sessions.get_mut(device_info_id) {
        None => Err(auth::error(
            StatusCode::BAD_REQUEST,
            "Invalid device_info_id: unknown session; run Cardinal.setup with a fresh JWT",
            json!({"field": "device_info_id"}),
        )),
        Some(s) if s.lookup_done => Err(auth::error(
            StatusCode::CONFLICT,
            "The JWT of this session has been used already; create a new one",
            json!({"field": "device_info_id"}),
        )),
        Some(s) => {
            s.lookup_done = consume;
            Ok(())
        }
    }
}

/// Validates the request as Verifone does and decides the answer; records nothing yet.
fn prepare_lookup(sb: &SandboxState, body: &Value) -> Result<(Authentication, LookupBehaviour), Response> {
    let missing: Vec<&str> = LOOKUP_REQUIRED
        .into_iter()
        .filter(|f| match body.get(*f) {
            None | Some(Value::Null) => true,
            Some(Value::String(s)) => s.trim().is_empty(),
            Some(_) => false,
        })
        .collect();
    if !missing.is_empty() {
        return Err(auth::error(
            StatusCode::BAD_REQUEST,
            "Missing required fields",
            json!({"missing_fields": missing}),
        ));
    }
    let field = |f: &str| body[f].as_str().map(str::to_owned);
    let invalid =
        |f: &str, why: &str| auth::error(StatusCode::BAD_REQUEST, &format!("Invalid {f}: {why}"), json!({"field": f}));
    let amount = body["amount"]
        .as_i64()
        .filter(|a| *a > 0)
        .ok_or_else(|| invalid("amount", "a positive integer in minor units"))?;
    let currency = field("currency_code")
        .and_then(|c| Currency::parse(&c).ok())
        .ok_or_else(|| invalid("currency_code", "an ISO 4217 alpha code"))?;
    if field("threeds_contract_id").as_deref() != Some(&sb.config.threeds_contract_id) {
        return Err(invalid("threeds_contract_id", "unknown contract"));
    }
    let country = field("billing_country_code").unwrap_or_default();
    if country.len() != 2 || !country.chars().all(|c| c.is_ascii_alphabetic()) {
        return Err(invalid("billing_country_code", "an ISO 3166 alpha-2 code"));
    }
    let device = field("device_info_id").unwrap_or_default();
    let device_ok = device.strip_prefix("0_").is_some_and(|u| uuid::Uuid::parse_str(u).is_ok());
    if !device_ok {
        return Err(invalid("device_info_id", "the Cardinal sessionId (0_<uuid>)"));
    }
    if field("public_key_alias").as_deref() != Some(&sb.key.alias) {
        return Err(invalid("public_key_alias", "no key with this alias"));
    }
    // The device session comes from one Cardinal.setup with one JWT: it serves one lookup.
    use_session(sb, &device, false)?;
    let plain = sb
        .key
        .decrypt(&field("encrypted_card").unwrap_or_default())
        .map_err(|e| invalid("encrypted_card", &e.to_string()))?;
    let today = today();
    let card = super::cards::parse_card(&plain, today).map_err(|e| invalid("encrypted_card", &e.to_string()))?;
    let case = sb.matrix.find(card.number.expose()).cloned();
    if case.is_some() {
        // The matrix's convention: test cards carry expiry 01 / current year + 3.
        let want = (1, today.year + 3);
        if (card.expiry.month(), card.expiry.year()) != want {
            return Err(invalid("encrypted_card", &format!("test cards use expiry 01/{}", want.1)));
        }
    }
    let brand = card.number.brand();
    let behaviour = case.as_ref().map_or(LookupBehaviour::Answer, TestCase::lookup_behaviour);
    let e = case.as_ref().map(|c| c.expected.clone());
    let eci_none = Eci::for_outcome(brand, EciMeaning::NotAuthenticated).code().to_owned();
    let (enrolled, pares, sig, eci, cavv_present) = match (&e, behaviour) {
        (None, _) => (
            Some("Y".into()),
            Some("Y".into()),
            Some("Y".into()),
            Eci::for_outcome(brand, EciMeaning::FullyAuthenticated).code().to_owned(),
            true,
        ),
        // A challenge's lookup carries no authentication value yet: ECI "none" until it is done.
        (Some(e), LookupBehaviour::Challenge) => {
            (e.enrolled.clone(), Some("C".into()), Some("Y".into()), eci_none.clone(), false)
        }
        (Some(e), _) => (
            e.enrolled.clone(),
            e.pares_status_lookup.clone(),
            e.signature_verification.clone(),
            e.eci_flag.clone(),
            e.cavv_present,
        ),
    };
    let (error_no, error_desc) = match behaviour {
        LookupBehaviour::Error => LOOKUP_ERROR,
        LookupBehaviour::Timeout => LOOKUP_TIMEOUT_ERROR,
        _ => ("0", "Success"),
    };
    let status_reason = match pares.as_deref() {
        Some("N") | Some("U") | Some("R") => Some("01".to_owned()),
        _ => None,
    };
    let challenge = (behaviour == LookupBehaviour::Challenge).then(|| Challenge {
        behaviour: case.as_ref().map_or(ChallengeBehaviour::CodeDecides, TestCase::challenge_behaviour),
        attempts_left: CHALLENGE_ATTEMPTS,
        case: case.clone(),
        outcome: None,
    });
    let auth = Authentication {
        authentication_id: new_id(),
        device_info_id: device.clone(),
        transaction_id: random_alnum(20),
        acs_transaction_id: new_id(),
        ds_transaction_id: new_id(),
        order_id: format!("{:016}", rand::random::<u64>() % 10_000_000_000_000_000),
        threeds_version: case.as_ref().map_or("2.2.0".to_owned(), |c| c.protocol_version.clone()),
        card_hash: card_hash(card.number.expose()),
        masked_card: card.number.masked(),
        brand,
        card_brand: brand.display_name().to_owned(),
        amount,
        currency_code: currency.code().to_owned(),
        merchant_reference: field("merchant_reference").unwrap_or_default(),
        email: field("email").unwrap_or_default(),
        enrolled,
        pares_status: pares,
        signature_verification: sig,
        eci_flag: eci,
        cavv: cavv_present.then(new_cavv),
        challenge_required: if challenge.is_some() { "Y" } else { "N" }.to_owned(),
        error_no: error_no.to_owned(),
        error_desc: error_desc.to_owned(),
        status_reason,
        created_at: now_secs(),
        challenge,
        cavv_used: false,
    };
    Ok((auth, behaviour))
}

/// 20 random bytes, base64: the shape of a CAVV.
pub fn new_cavv() -> String {
    STANDARD.encode(rand::random::<[u8; 20]>())
}

fn lookup_response(sb: &SandboxState, a: &Authentication) -> Value {
    let mut r = json!({
        "authentication_id": a.authentication_id,
        "card_brand": a.card_brand,
        "challenge_required": a.challenge_required,
        "ds_transaction_id": a.ds_transaction_id,
        "eci_flag": a.eci_flag,
        "error_no": a.error_no,
        "error_desc": a.error_desc,
        "order_id": a.order_id,
        "threeds_version": a.threeds_version,
        "transaction_id": a.transaction_id,
        "xid": "",
    });
    let mut set = |k: &str, v: &Option<String>| {
        if let Some(v) = v {
            r[k] = json!(v);
        }
    };
    set("enrolled", &a.enrolled);
    set("pares_status", &a.pares_status);
    set("signature_verification", &a.signature_verification);
    set("cavv", &a.cavv);
    set("status_reason", &a.status_reason);
    if a.challenge.is_some() {
        let creq = json!({
            "messageType": "CReq",
            "messageVersion": a.threeds_version,
            "threeDSServerTransID": a.authentication_id,
            "acsTransID": a.acs_transaction_id,
            "challengeWindowSize": "02",
        });
        r["acs_transaction_id"] = json!(a.acs_transaction_id);
        r["acs_url"] = json!(format!("{}/acs/challenge", sb.config.public_url));
        r["payload"] = json!(URL_SAFE_NO_PAD.encode(creq.to_string()));
    }
    r
}

/// The claims of the JWT that `payments.validated` hands the page, signed by the sandbox.
#[derive(Serialize, Deserialize)]
pub struct ValidatedClaims {
    pub jti: String,
    pub iss: String,
    pub iat: i64,
    pub exp: i64,
    #[serde(rename = "ConsumerSessionId")]
    pub consumer_session_id: String,
    #[serde(rename = "Payload")]
    pub payload: Value,
}

async fn jwt_validate(State(sb): State<SandboxState>, headers: HeaderMap, body: Json<Value>) -> Response {
    if let Err(denied) = auth::check(&sb, &headers, false) {
        return denied;
    }
    let Some(token) = body.get("jwt").and_then(Value::as_str) else {
        return auth::error(StatusCode::BAD_REQUEST, "Missing required fields", json!({"missing_fields": ["jwt"]}));
    };
    let claims: ValidatedClaims = match super::jwt::verify(token, sb.jwt_secret(), now_secs()) {
        Ok(c) => c,
        Err(e) => return auth::error(StatusCode::BAD_REQUEST, &format!("Invalid jwt: {e}"), json!({"field": "jwt"})),
    };
    let p = &claims.payload;
    let ext = &p["Payment"]["ExtendedData"];
    let transaction_id = p["Payment"]["ProcessorTransactionId"].as_str().unwrap_or_default();
    let store = sb.threeds.lock().unwrap();
    let Some(a) = store.by_transaction.get(transaction_id).and_then(|id| store.authentications.get(id)) else {
        return auth::error(StatusCode::NOT_FOUND, "Unknown authentication", json!({}));
    };
    Json(json!({
        "valid": true,
        "authentication_id": a.authentication_id,
        "transaction_id": transaction_id,
        "action_code": p["ActionCode"],
        "validated": p["Validated"],
        "error_number": p["ErrorNumber"],
        "error_description": p["ErrorDescription"],
        "enrolled": a.enrolled,
        "pares_status": ext["PAResStatus"],
        "signature_verification": ext["SignatureVerification"],
        "eci_flag": ext["ECIFlag"],
        "cavv": ext["CAVV"],
        "threeds_version": ext["ThreeDSVersion"],
        "ds_transaction_id": a.ds_transaction_id,
        "amount": a.amount,
        "currency_code": a.currency_code,
    }))
    .into_response()
}

#[derive(Deserialize)]
struct ListQuery {
    merchant_reference: Option<String>,
    pares_status: Option<String>,
    _limit: Option<usize>,
    _skip: Option<usize>,
    _sort: Option<String>,
}

async fn list(State(sb): State<SandboxState>, headers: HeaderMap, Query(q): Query<ListQuery>) -> Response {
    if let Err(denied) = auth::check(&sb, &headers, false) {
        return denied;
    }
    let store = sb.threeds.lock().unwrap();
    let mut items: Vec<&Authentication> = store
        .authentications
        .values()
        .filter(|a| q.merchant_reference.as_ref().is_none_or(|m| &a.merchant_reference == m))
        .filter(|a| q.pares_status.as_ref().is_none_or(|s| a.pares_status.as_ref() == Some(s)))
        .collect();
    items.sort_by_key(|a| (a.created_at, a.authentication_id.clone()));
    if q._sort.as_deref() != Some("created_at") {
        items.reverse(); // newest first unless asked otherwise
    }
    let total = items.len();
    let page: Vec<&Authentication> =
        items.into_iter().skip(q._skip.unwrap_or(0)).take(q._limit.unwrap_or(50).min(500)).collect();
    (StatusCode::OK, Json(json!({"total": total, "data": page}))).into_response()
}
