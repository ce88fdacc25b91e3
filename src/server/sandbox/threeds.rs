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
    body::Bytes,
    extract::{Path, RawQuery, State},
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
use sha2::Sha256;
use std::collections::HashMap;

/// JWTs for `Cardinal.setup` live two hours.
pub const JWT_LIFETIME_SECS: i64 = 2 * 60 * 60;
/// The EMV 3-D Secure `transStatusReason` the sandbox gives an N, U or R answer: 01, "Card authentication
/// failed" `[I]` (the matrix states no reason).
pub const FAILED_REASON: (&str, &str) = ("01", "Card authentication failed");
/// Wrong codes an issuer's challenge page accepts before it fails the authentication.
pub const CHALLENGE_ATTEMPTS: u8 = 3;

#[derive(Default)]
pub struct Store {
    /// jti → whether a `Cardinal.setup` has used it.
    pub jwts: Table<bool>,
    pub sessions: Table<Session>,
    pub authentications: Table<Authentication>,
    /// Cardinal transaction id → authentication id.
    pub by_transaction: super::Table<String>,
}

pub struct Session {
    pub jti: String,
    pub lookup_done: bool,
    pub bins: Vec<String>,
}

#[derive(Clone, Debug)]
pub struct Authentication {
    pub authentication_id: String,
    pub device_info_id: String,
    pub transaction_id: String,
    pub acs_transaction_id: String,
    pub ds_transaction_id: String,
    pub order_id: String,
    pub threeds_version: String,
    pub card_hash: [u8; 32],
    pub masked_card: String,
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
    pub cavv: Option<String>,
    pub challenge_required: String,
    pub error_no: String,
    pub error_desc: String,
    pub status_reason: Option<String>,
    /// Unix ms.
    pub created_at: i64,
    pub challenge: Option<Challenge>,
    /// A payment has used this authentication's CAVV (a second use is a replay).
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

/// How the sandbox recognises a card again (the same card in a lookup and its payment, a stored card) without
/// keeping its number. Keyed with a secret of this process, so the ids it shows (`GET /v2/3d`'s `card`) cannot be
/// matched to a number by hashing the few million that share a BIN and last four.
pub fn card_hash(pan: &str) -> [u8; 32] {
    use hmac::{Hmac, Mac};
    static SECRET: std::sync::OnceLock<[u8; 32]> = std::sync::OnceLock::new();
    let secret = SECRET.get_or_init(rand::random);
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes a key of any length");
    mac.update(pan.as_bytes());
    mac.finalize().into_bytes().into()
}

pub fn router() -> Router<SandboxState> {
    Router::new()
        .route("/v2/jwt/create", post(jwt_create))
        .route("/v2/lookup", post(lookup))
        .route("/v2/jwt/validate", post(jwt_validate))
        .route("/v2/3d", get(list))
        .route("/v2/3d/{id}", get(read))
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

async fn jwt_create(State(sb): State<SandboxState>, headers: HeaderMap, body: Bytes) -> Response {
    if let Err(denied) = auth::check(&sb, &headers, false) {
        return denied;
    }
    let body = match auth::json_object(&body) {
        Ok(b) => b,
        Err(refused) => return refused,
    };
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

/// Required by the published `LookupRequest`; the card comes as `encrypted_card` with `public_key_alias`, or
/// as a `reuse_token` (or a card id, which the sandbox does not issue).
const LOOKUP_REQUIRED: [&str; 11] = [
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
];

async fn lookup(State(sb): State<SandboxState>, headers: HeaderMap, body: Bytes) -> Response {
    if let Err(denied) = auth::check(&sb, &headers, false) {
        return denied;
    }
    let body = match auth::json_object(&body) {
        Ok(b) => b,
        Err(refused) => return refused,
    };
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
    let absent = |f: &&str| match body.get(*f) {
        None | Some(Value::Null) => true,
        Some(Value::String(s)) => s.trim().is_empty(),
        Some(_) => false,
    };
    let mut missing: Vec<&str> = LOOKUP_REQUIRED.into_iter().filter(absent).collect();
    if absent(&"encrypted_card") && absent(&"reuse_token") {
        missing.extend(["encrypted_card", "public_key_alias"]);
    } else if !absent(&"encrypted_card") && absent(&"public_key_alias") {
        missing.push("public_key_alias");
    }
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
    // The device session comes from one Cardinal.setup with one JWT: it serves one lookup.
    use_session(sb, &device, false)?;
    let card = super::tokens::presented(sb, body).map_err(|(f, why)| invalid(f, &why))?.facts;
    let case = card.case.clone();
    if case.is_some() {
        // The matrix's convention: test cards carry expiry 01 / current year + 3.
        let want = (1, today().year + 3);
        if card.expiry != want {
            return Err(invalid("encrypted_card", &format!("test cards use expiry 01/{}", want.1)));
        }
    }
    let brand = card.brand;
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
        Some("N") | Some("U") | Some("R") => Some(FAILED_REASON.0.to_owned()),
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
        card_hash: card.hash,
        masked_card: card.masked,
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
        created_at: crate::server::db::now_ms(),
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
    /// The 3DS contract whose `jwt/create` JWT started the session.
    #[serde(rename = "OrgUnitId")]
    pub org_unit_id: String,
    #[serde(rename = "ConsumerSessionId")]
    pub consumer_session_id: String,
    #[serde(rename = "Payload")]
    pub payload: Value,
}

/// `cavv_algorithm` of an EMV 3-D Secure authentication: "2", the HMAC scheme `[I]` (Cardinal's Centinel
/// field; the 3DS API documents the field, not its values).
pub const CAVV_ALGORITHM: &str = "2";

/// `jwt/validate`: `{authentication_id, jwt, threeds_contract_id}` (the contract optional, as Verifone's SDK
/// samples send it). The JWT must be the sandbox's, unexpired, and carry the outcome of that very
/// authentication under that contract.
async fn jwt_validate(State(sb): State<SandboxState>, headers: HeaderMap, body: Bytes) -> Response {
    if let Err(denied) = auth::check(&sb, &headers, false) {
        return denied;
    }
    let body = match auth::json_object(&body) {
        Ok(b) => b,
        Err(refused) => return refused,
    };
    let text = |f: &str| body.get(f).and_then(Value::as_str).map(str::trim).filter(|s| !s.is_empty());
    let missing: Vec<&str> = ["authentication_id", "jwt"].into_iter().filter(|f| text(f).is_none()).collect();
    if !missing.is_empty() {
        return auth::error(StatusCode::BAD_REQUEST, "Missing required fields", json!({"missing_fields": missing}));
    }
    let invalid =
        |f: &str, why: &str| auth::error(StatusCode::BAD_REQUEST, &format!("Invalid {f}: {why}"), json!({"field": f}));
    let contract = text("threeds_contract_id");
    if contract.is_some_and(|c| c != sb.config.threeds_contract_id) {
        return invalid("threeds_contract_id", "unknown contract");
    }
    let claims: ValidatedClaims = match super::jwt::verify(text("jwt").unwrap_or_default(), sb.jwt_secret(), now_secs())
    {
        Ok(c) => c,
        Err(e) => return invalid("jwt", &e.to_string()),
    };
    if contract.is_some_and(|c| c != claims.org_unit_id) {
        return invalid("jwt", "issued under another threeds_contract_id");
    }
    let p = &claims.payload;
    let transaction_id = p["Payment"]["ProcessorTransactionId"].as_str().unwrap_or_default();
    let store = sb.threeds.lock().unwrap();
    let Some(a) = store.authentications.get(text("authentication_id").unwrap_or_default()) else {
        return auth::error(StatusCode::NOT_FOUND, "Authentication not found", json!({"field": "authentication_id"}));
    };
    if a.transaction_id != transaction_id {
        return invalid("jwt", "the JWT belongs to another authentication");
    }
    Json(validate_response(a, p)).into_response()
}

/// The published answer: the outcome the JWT carries, with the authentication's own identifiers.
fn validate_response(a: &Authentication, p: &Value) -> Value {
    let ext = &p["Payment"]["ExtendedData"];
    let text = |v: &Value| v.as_str().unwrap_or_default().to_owned();
    let error_no = match &p["ErrorNumber"] {
        Value::Number(n) => n.to_string(),
        other => text(other),
    };
    let pares = text(&ext["PAResStatus"]);
    let (reason_code, reason_desc) = if matches!(pares.as_str(), "N" | "U" | "R") { FAILED_REASON } else { ("", "") };
    json!({
        "authentication_id": a.authentication_id,
        "action_code": p["ActionCode"],
        "error_no": error_no,
        "error_desc": text(&p["ErrorDescription"]),
        "validation_result": {
            "authorization_payload": text(&ext["AuthorizationPayload"]),
            "cavv": text(&ext["CAVV"]),
            "cavv_algorithm": if text(&ext["CAVV"]).is_empty() { "" } else { CAVV_ALGORITHM },
            "eci_flag": text(&ext["ECIFlag"]),
            "enrolled": a.enrolled.clone().unwrap_or_default(),
            "pares_status": pares,
            "reason_code": reason_code,
            "reason_desc": reason_desc,
            "signature_verification": text(&ext["SignatureVerification"]),
            // EMV 3-D Secure has no XID (a 3-D Secure 1 field).
            "xid": "",
            "acs_transaction_id": a.acs_transaction_id,
            "ds_transaction_id": a.ds_transaction_id,
        },
    })
}

/// `_limit` of `GET /v2/3d`: 1 to 10000, 2000 when not given (published).
const LIST_LIMIT: (usize, usize) = (10_000, 2_000);

impl Authentication {
    /// The published `ThreeDSAuthentication` record of `GET /v2/3d`. `card` is an opaque id of the card
    /// (the service keeps cards by id, never by number) `[I]`; `entity_id` is the merchant's user `[I]`.
    fn record(&self, sb: &SandboxState) -> Value {
        let card_id: String = self.card_hash[..12].iter().map(|b| format!("{b:02x}")).collect();
        json!({
            "_id": self.authentication_id,
            "amount": self.amount,
            "currency_code": self.currency_code,
            "threeds_contract_id": sb.config.threeds_contract_id,
            "card": card_id,
            "created_at": crate::server::clock::format_time(self.created_at)
                .trim_end_matches(" UTC")
                .replacen(' ', "T", 1)
                + "Z",
            "entity_id": sb.config.user_uid,
            "transaction_id": self.transaction_id,
            "merchant_reference": self.merchant_reference,
            "authentication": {
                "authentication_id": self.authentication_id,
                "acs_transaction_id": self.acs_transaction_id,
                "ds_transaction_id": self.ds_transaction_id,
                "order_id": self.order_id,
                "card_brand": self.card_brand,
                "threeds_version": self.threeds_version,
                "enrolled": self.enrolled,
                "pares_status": self.pares_status,
                "signature_verification": self.signature_verification,
                "eci_flag": self.eci_flag,
                "cavv": self.cavv,
                "challenge_required": self.challenge_required,
                "status_reason": self.status_reason,
                "error_no": self.error_no,
                "error_desc": self.error_desc,
                "xid": "",
            },
        })
    }
}

/// One filter of the published query language: `field=v`, `field!=v`, `field<=v`, `field>=v`, `field~=v`
/// (the operator arrives as the key's last character); `authentication.*` names the nested fields, and a bare
/// name is looked up at the top, then in `authentication`. "Pattern matching" (`~`) is taken as a
/// case-insensitive substring `[I]`.
struct Filter {
    path: String,
    op: char,
    value: String,
}

impl Filter {
    fn parse(key: &str, value: &str) -> Filter {
        let (path, op) = match key.chars().last() {
            Some(op @ ('!' | '<' | '>' | '~')) => (&key[..key.len() - 1], op),
            _ => (key, '='),
        };
        Filter { path: path.to_owned(), op, value: value.to_owned() }
    }

    fn field<'a>(&self, record: &'a Value) -> &'a Value {
        let pointer = format!("/{}", self.path.replace('.', "/"));
        match record.pointer(&pointer) {
            Some(v) if !v.is_null() => v,
            _ => &record["authentication"][self.path.as_str()],
        }
    }

    fn matches(&self, record: &Value) -> bool {
        let field = self.field(record);
        let text = match field {
            Value::String(s) => s.clone(),
            Value::Null => String::new(),
            other => other.to_string(),
        };
        let ordering = match (field.as_f64(), self.value.parse::<f64>()) {
            (Some(a), Ok(b)) => a.partial_cmp(&b),
            _ => Some(text.as_str().cmp(self.value.as_str())),
        };
        match self.op {
            '!' => text != self.value,
            '<' => ordering.is_some_and(|o| o.is_le()),
            '>' => ordering.is_some_and(|o| o.is_ge()),
            '~' => text.to_lowercase().contains(&self.value.to_lowercase()),
            _ => text == self.value,
        }
    }
}

/// `GET /v2/3d`: the published array of records, filtered (the same field repeated is any of its values,
/// different fields all apply), sorted by `_sort` (`-field` descending; newest first when not given) and
/// paged by `_skip` and `_limit`.
async fn list(State(sb): State<SandboxState>, headers: HeaderMap, RawQuery(query): RawQuery) -> Response {
    if let Err(denied) = auth::check(&sb, &headers, false) {
        return denied;
    }
    let pairs: Vec<(String, String)> =
        serde_urlencoded::from_str(query.as_deref().unwrap_or_default()).unwrap_or_default();
    let (mut limit, mut skip, mut sort) = (LIST_LIMIT.1, 0, None);
    let mut filters: Vec<Filter> = Vec::new();
    for (key, value) in &pairs {
        let number = || value.parse::<usize>().ok();
        match key.as_str() {
            "_limit" => match number().filter(|n| (1..=LIST_LIMIT.0).contains(n)) {
                Some(n) => limit = n,
                None => return auth::bad_request("Invalid _limit: a whole number from 1 to 10000"),
            },
            "_skip" => match number() {
                Some(n) => skip = n,
                None => return auth::bad_request("Invalid _skip: a whole number"),
            },
            "_sort" => sort = Some(value.clone()),
            _ => filters.push(Filter::parse(key, value)),
        }
    }
    let records: Vec<(i64, Value)> = {
        let store = sb.threeds.lock().unwrap();
        store.authentications.values().map(|a| (a.created_at, a.record(&sb))).collect()
    };
    let mut by_path: HashMap<(&str, char), Vec<&Filter>> = HashMap::new();
    for f in &filters {
        by_path.entry((f.path.as_str(), f.op)).or_default().push(f);
    }
    let mut items: Vec<(i64, Value)> =
        records.into_iter().filter(|(_, r)| by_path.values().all(|any| any.iter().any(|f| f.matches(r)))).collect();
    items.sort_by(|(ta, a), (tb, b)| (ta, a["_id"].as_str()).cmp(&(tb, b["_id"].as_str())));
    match sort.as_deref() {
        None => items.reverse(),
        Some(sort) => {
            let (field, descending) = match sort.strip_prefix('-') {
                Some(f) => (f, true),
                None => (sort, false),
            };
            let key = Filter::parse(field, "");
            items.sort_by(|(_, a), (_, b)| {
                let (x, y) = (key.field(a), key.field(b));
                let order = match (x.as_f64(), y.as_f64()) {
                    (Some(x), Some(y)) => x.total_cmp(&y),
                    _ => x.to_string().cmp(&y.to_string()),
                };
                if descending { order.reverse() } else { order }
            });
        }
    }
    let page: Vec<Value> = items.into_iter().skip(skip).take(limit).map(|(_, r)| r).collect();
    Json(Value::Array(page)).into_response()
}

/// `GET /v2/3d/{id}`: one record.
async fn read(State(sb): State<SandboxState>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    if let Err(denied) = auth::check(&sb, &headers, false) {
        return denied;
    }
    let store = sb.threeds.lock().unwrap();
    match store.authentications.get(&id) {
        Some(a) => Json(a.record(&sb)).into_response(),
        None => auth::error(StatusCode::NOT_FOUND, "Authentication not found", json!({"id": id})),
    }
}
