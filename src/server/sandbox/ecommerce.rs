//! Verifone's eCommerce API: card payments (sale and pre-authorization), reads, refunds, captures and voids,
//! with idempotency keys replaying the first answer.

use super::{
    SandboxState, Table, auth, new_id, now_secs,
    scenarios::amount_rule,
    tokens::{self, Initiator},
};
use crate::domain::money::Currency;
use axum::{
    Json, Router,
    body::Bytes,
    extract::{Path, State},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

pub const IDEMPOTENCY_HEADER: &str = "x-vfi-api-idempotencyKey";

#[derive(Default)]
pub struct Store {
    pub transactions: Table<Transaction>,
    idempotency: Table<Keyed>,
}

/// What an idempotency key holds: the hash of its request, and the first answer once there is one.
enum Keyed {
    /// Taken by a request still being handled: a repeat meanwhile is refused, not handled a second time.
    InProgress([u8; 32]),
    Answered([u8; 32], StatusCode, Value),
}

#[derive(Clone, Debug)]
pub struct Transaction {
    pub id: String,
    pub pre_auth: bool,
    pub amount: i64,
    pub currency: String,
    pub merchant_reference: String,
    pub status: String,
    pub reason_code: String,
    pub message: String,
    pub captured: i64,
    pub refunded: i64,
    /// Of a pre-authorization's hold, what `release` gave back.
    pub released: i64,
    pub card_brand: String,
    pub masked_card: String,
    pub expiry: (u8, u16),
    /// The card's payment account reference (PAR), the same for every payment with that card.
    pub par: String,
    pub cvv_present: bool,
    pub authorization_code: String,
    pub rrn: String,
    pub stan: String,
    pub threed: Option<Value>,
    /// The published `StoredCredential` answer (`{}` for a payment that is none).
    pub stored_credential: Value,
    /// The reuse token the payment stored the card under or paid with, and its `TokenDetails`.
    pub reuse_token: Option<String>,
    pub token_details: Option<Value>,
    pub created_at: i64,
    /// For refunds and captures: the payment they belong to.
    pub parent_id: Option<String>,
}

impl Transaction {
    fn to_json(&self, sb: &SandboxState) -> Value {
        json!({
            "id": self.id,
            "payment_provider_contract": sb.config.payment_provider_contract,
            "amount": self.amount,
            "currency_code": self.currency,
            "blocked": false,
            "merchant_reference": self.merchant_reference,
            "payment_product": "CARD",
            "status": self.status,
            "authorization_code": self.authorization_code,
            "reason_code": self.reason_code,
            "message": self.message,
            "arn": format!("SANDBOX{}", &self.id.replace('-', "")[..20].to_uppercase()),
            "scheme_reference": scheme_reference(&self.id),
            "created_by": sb.config.user_uid,
            "cvv_present": self.cvv_present,
            "cvv_result": if self.cvv_present { CVV_RESULT.0 } else { CVV_RESULT.1 },
            "stored_credential": self.stored_credential,
            "rrn": self.rrn,
            "stan": self.stan,
            "shopper_interaction": "ECOMMERCE",
            "details": { "auto_capture": !self.pre_auth },
            "additional_data": {
                "acquirer_response_code": self.reason_code,
                "initiator_trace_id": self.stan,
            },
            "promo_financing_result": {},
            "balance_amount": 0,
            "payment_account_reference": self.par,
            "captured_amount": self.captured,
            "refunded_amount": self.refunded,
            "card_brand": self.card_brand,
            "card_details": {
                "masked_card_number": self.masked_card,
                "expiry_month": self.expiry.0,
                "expiry_year": self.expiry.1,
            },
            "threed_authentication": self.threed,
            "reuse_token": self.reuse_token,
            "token_details": self.token_details,
            "reversal_status": "NONE",
            "parent_id": self.parent_id,
            "created_at": self.created_at,
        })
    }
}

/// `cvv_result` with a CVV and without one: "1" and "0", the values a working integration's schema admits
/// `[I]` (the seed's example shows "4"; the published meaning of each value is not known here).
const CVV_RESULT: (&str, &str) = ("1", "0");

/// The card network's reference of a payment: the seed's example is a date and the payment id's hex; the
/// sandbox uses the id's hex alone `[I]`.
pub fn scheme_reference(id: &str) -> String {
    id.replace('-', "")
}

/// A PAR is 29 characters, the first four naming the card range's issuer; the sandbox derives it from the
/// card so a card keeps its PAR `[I]`.
fn payment_account_reference(card: [u8; 32]) -> String {
    let digits: String = card.iter().map(|b| char::from(b'A' + b % 26)).take(25).collect();
    format!("V001{digits}")
}

/// `len` random decimal digits (authorization codes, retrieval reference numbers, trace numbers).
fn digits(len: usize) -> String {
    (0..len).map(|_| char::from(b'0' + rand::random::<u8>() % 10)).collect()
}

pub fn router() -> Router<SandboxState> {
    Router::new()
        .route("/v2/transactions/card", post(card_payment))
        .route("/v2/transaction/{id}", get(read))
        .route("/v2/transactions/{id}/{action}", post(action))
}

/// Runs `handle` once per idempotency key: a repeat with the same body gets the first answer again; a
/// repeat with another body is refused, and so is one that arrives while the first is still being handled
/// (409 `[I]`: Verifone documents replaying, not what a concurrent repeat gets). The key is taken before
/// `handle` runs, under the same lock that checks it, so two requests cannot both act.
fn idempotent(
    sb: &SandboxState,
    headers: &HeaderMap,
    scope: &str,
    body: &[u8],
    handle: impl FnOnce() -> (StatusCode, Value),
) -> Response {
    let key = headers.get(IDEMPOTENCY_HEADER).and_then(|v| v.to_str().ok()).map(|k| format!("{scope}:{k}"));
    // The same parameters, whatever their order or spacing, are the same request.
    let canonical =
        serde_json::from_slice::<Value>(body).map(|v| v.to_string().into_bytes()).unwrap_or_else(|_| body.to_vec());
    let hash: [u8; 32] = Sha256::digest(&canonical).into();
    if let Some(key) = &key {
        let mut store = sb.ecommerce.lock().unwrap();
        let conflict = |message: &str| {
            let (status, body) = error_value(StatusCode::CONFLICT, message, json!({"header": IDEMPOTENCY_HEADER}));
            (status, Json(body)).into_response()
        };
        match store.idempotency.get(key) {
            Some(Keyed::InProgress(h) | Keyed::Answered(h, ..)) if *h != hash => {
                return conflict("Idempotency key reused with a different request");
            }
            Some(Keyed::InProgress(_)) => return conflict("A request with this idempotency key is in progress"),
            Some(Keyed::Answered(_, status, answer)) => return (*status, Json(answer.clone())).into_response(),
            None => {
                store.idempotency.insert(key.clone(), Keyed::InProgress(hash));
            }
        }
    }
    let (status, answer) = handle();
    if let Some(key) = key {
        sb.ecommerce.lock().unwrap().idempotency.insert(key, Keyed::Answered(hash, status, answer.clone()));
    }
    (status, Json(answer)).into_response()
}

pub fn error_value(status: StatusCode, message: &str, details: Value) -> (StatusCode, Value) {
    let body = json!({
        "code": status.as_u16(),
        "message": message,
        "details": details,
        "timestamp": now_secs() * 1000,
        "reversal_status": "NONE",
    });
    (status, body)
}

/// A 400 with the published body.
pub fn refusal(message: &str, details: Value) -> Response {
    let (status, body) = error_value(StatusCode::BAD_REQUEST, message, details);
    (status, Json(body)).into_response()
}

async fn card_payment(State(sb): State<SandboxState>, headers: HeaderMap, body: Bytes) -> Response {
    if let Err(denied) = auth::check(&sb, &headers, true) {
        return denied;
    }
    let Ok(req) = serde_json::from_slice::<Value>(&body) else {
        let (status, body) = error_value(StatusCode::BAD_REQUEST, "Request body is not JSON", json!({}));
        return (status, Json(body)).into_response();
    };
    idempotent(&sb, &headers, "card", &body, || pay(&sb, &req))
}

/// Required by the published schema; the card comes as `encrypted_card` with `public_key_alias`, or as a
/// `reuse_token`.
const PAYMENT_REQUIRED: [&str; 3] = ["payment_provider_contract", "amount", "currency_code"];

fn pay(sb: &SandboxState, req: &Value) -> (StatusCode, Value) {
    let absent = |f: &&str| req.get(*f).is_none_or(Value::is_null);
    let mut missing: Vec<&str> = PAYMENT_REQUIRED.into_iter().filter(absent).collect();
    if absent(&"encrypted_card") && absent(&"reuse_token") {
        missing.extend(["encrypted_card", "public_key_alias"]);
    } else if !absent(&"encrypted_card") && absent(&"public_key_alias") {
        missing.push("public_key_alias");
    }
    if !missing.is_empty() {
        return error_value(StatusCode::BAD_REQUEST, "Missing required fields", json!({"missing_fields": missing}));
    }
    let invalid =
        |f: &str, why: &str| error_value(StatusCode::BAD_REQUEST, &format!("Invalid {f}: {why}"), json!({"field": f}));
    if req["payment_provider_contract"].as_str() != Some(&sb.config.payment_provider_contract) {
        return invalid("payment_provider_contract", "unknown contract");
    }
    let Some(amount) = req["amount"].as_i64().filter(|a| *a > 0) else {
        return invalid("amount", "a positive integer in minor units");
    };
    // Any active ISO 4217 code, in upper case; "eur" is refused as the real schema refuses it `[I]`.
    let currency = req["currency_code"].as_str().and_then(|c| Currency::parse(c).ok());
    let Some(currency) = currency else {
        return invalid("currency_code", "an ISO 4217 alpha code in upper case");
    };
    // 3-D Secure data that is not an object would otherwise be dropped and the payment authorized without it.
    let threed = match req.get("threed_authentication") {
        None | Some(Value::Null) => None,
        Some(t @ Value::Object(_)) => Some(t.clone()),
        Some(_) => return invalid("threed_authentication", "an object"),
    };
    let refused = |(field, why): tokens::Refusal| invalid(field, &why);
    let stored_credential = match tokens::stored_credential(&req["stored_credential"]) {
        Ok(sc) => sc,
        Err(r) => return refused(r),
    };
    let preference = match req.get("token_preference").filter(|p| !p.is_null()) {
        None => None,
        Some(p) => match tokens::preference(sb, p) {
            Ok(p) => Some(p),
            Err(r) => return refused(r),
        },
    };
    let card = match tokens::presented(sb, req) {
        Ok(c) => c,
        Err(r) => return refused(r),
    };
    // Optional; when given, it must name the card's brand.
    let brand_given = req.get("card_brand").filter(|b| !b.is_null());
    if brand_given.is_some_and(|b| !b.as_str().is_some_and(|b| b.eq_ignore_ascii_case(card.facts.brand.code()))) {
        return invalid("card_brand", "does not match the card");
    }
    // What a stored-credential payment cites: a sign-up keeps the card, so it needs a token to keep it under;
    // a merchant-initiated charge needs the cardholder's payment on that token.
    let initial = match &stored_credential {
        Some(sc) if sc.initiator == Initiator::Merchant => match tokens::check_mit(sb, card.token.as_deref(), sc) {
            Ok(cited) => Some(cited),
            Err(r) => return refused(r),
        },
        Some(sc) if sc.signup && card.token.is_none() && preference.as_ref().is_none_or(|p| !p.reuse) => {
            return invalid("token_preference", "a SIGNUP stores the card: ask for a reuse token");
        }
        _ => None,
    };
    let pre_auth = req["auth_type"].as_str() == Some("PRE_AUTH") || req["capture_now"] == json!(false);
    let (status, reason_code, message) = match check_threed(sb, threed.as_ref(), card.facts.hash, amount, currency) {
        Err(why) => ("DECLINED", "05", why),
        Ok(()) => match amount_rule(amount) {
            Some(rule) => (rule.status, rule.reason_code, rule.message.to_owned()),
            None => ("AUTHORIZED", "00", "Approved".to_owned()),
        },
    };
    let approved = status == "AUTHORIZED";
    let id = new_id();
    // An approved payment stores the card when asked to; the token's details go with every payment on it.
    let stored = match (&preference, approved) {
        (Some(p), true) => {
            let t = sb.vault.lock().unwrap().store(&sb.config.token_scope, card.facts.clone(), p.expiry_date.clone());
            Some((t, p.reuse))
        }
        _ => card.token.as_deref().and_then(|t| sb.vault.lock().unwrap().get(t).cloned()).map(|t| (t, true)),
    };
    let reuse_token = stored.as_ref().filter(|(_, reuse)| *reuse).map(|(t, _)| t.reuse_token.clone());
    let scheme_ref = scheme_reference(&id);
    let stored_credential_answer = match &stored_credential {
        None => json!({}),
        Some(sc) => {
            // The first payment of the credential is the reference later charges cite.
            let (reference, first_scheme_ref) = match &initial {
                Some((txn, r)) => (txn.clone(), r.clone()),
                None => (id.clone(), scheme_ref.clone()),
            };
            if let Some(token) = reuse_token.as_ref().filter(|_| approved && sc.initiator == Initiator::Cardholder) {
                sb.vault.lock().unwrap().record_cit(token, &id, &scheme_ref);
            }
            json!({
                "stored_credential_type": if sc.signup { "SIGNUP" } else { "CHARGE" },
                "processing_model": sc.processing_model,
                "scheme_reference": first_scheme_ref,
                "reference": reference,
            })
        }
    };
    let txn = Transaction {
        id,
        pre_auth,
        amount,
        currency: currency.code().to_owned(),
        merchant_reference: req["merchant_reference"].as_str().unwrap_or_default().to_owned(),
        status: status.to_owned(),
        reason_code: reason_code.to_owned(),
        message,
        captured: if approved && !pre_auth { amount } else { 0 },
        refunded: 0,
        released: 0,
        card_brand: card.facts.brand.code().to_owned(),
        masked_card: format!("{}****{}", card.facts.bin6, card.facts.last4),
        expiry: card.facts.expiry,
        par: payment_account_reference(card.facts.hash),
        cvv_present: card.cvv_present,
        authorization_code: if approved { digits(6) } else { String::new() },
        rrn: digits(12),
        stan: digits(6),
        threed,
        stored_credential: stored_credential_answer,
        token_details: stored.as_ref().map(|(t, reuse)| t.token_details(*reuse)),
        reuse_token,
        created_at: now_secs(),
        parent_id: None,
    };
    let event = match (pre_auth, approved) {
        (false, true) => "TxnSaleApproved",
        (false, false) => "TxnSaleDeclined",
        (true, true) => "TxnAuthorisationApproved",
        (true, false) => "TxnAuthorisationDeclined",
    };
    let body = txn.to_json(sb);
    sb.ecommerce.lock().unwrap().transactions.insert(txn.id.clone(), txn);
    sb.notifier.send(event, &body);
    (StatusCode::CREATED, body)
}

/// The 3-D Secure data of a payment must be what the 3DS service issued for this card and amount, once, and
/// all of one authentication: the CAVV with the other values (its directory server transaction id, status,
/// ECI) that authentication gave.
fn check_threed(
    sb: &SandboxState,
    threed: Option<&Value>,
    card: [u8; 32],
    amount: i64,
    currency: Currency,
) -> Result<(), String> {
    let Some(t) = threed else { return Ok(()) };
    let pares = t["pares_status"].as_str().unwrap_or_default();
    if matches!(pares, "N" | "R") {
        return Err("3-D Secure authentication failed or was rejected".into());
    }
    let Some(cavv) = t["cavv"].as_str().filter(|c| !c.is_empty()) else {
        return if matches!(pares, "Y" | "A") { Err("3-D Secure data has no CAVV".into()) } else { Ok(()) };
    };
    let mut store = sb.threeds.lock().unwrap();
    let Some(a) = store.authentications.values_mut().find(|a| a.cavv.as_deref() == Some(cavv)) else {
        return Err("3-D Secure CAVV was not issued by the 3DS service".into());
    };
    if a.card_hash != card || a.amount != amount || a.currency_code != currency.code() {
        return Err("3-D Secure data belongs to another card or amount".into());
    }
    if t["ds_transaction_id"].as_str() != Some(a.ds_transaction_id.as_str()) {
        return Err("3-D Secure CAVV belongs to another authentication".into());
    }
    if a.pares_status.as_deref() != Some(pares) || t["eci_flag"].as_str() != Some(a.eci_flag.as_str()) {
        return Err("3-D Secure values differ from the authentication".into());
    }
    if a.cavv_used {
        return Err("3-D Secure CAVV has been used already".into());
    }
    a.cavv_used = true;
    Ok(())
}

async fn read(State(sb): State<SandboxState>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    if let Err(denied) = auth::check(&sb, &headers, true) {
        return denied;
    }
    let store = sb.ecommerce.lock().unwrap();
    match store.transactions.get(&id) {
        Some(t) => Json(t.to_json(&sb)).into_response(),
        None => {
            let (status, body) = error_value(StatusCode::NOT_FOUND, "Transaction not found", json!({"id": id}));
            (status, Json(body)).into_response()
        }
    }
}

async fn action(
    State(sb): State<SandboxState>,
    headers: HeaderMap,
    Path((id, action)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    if let Err(denied) = auth::check(&sb, &headers, true) {
        return denied;
    }
    let req: Value = if body.is_empty() {
        json!({})
    } else {
        match serde_json::from_slice(&body) {
            Ok(v) => v,
            Err(_) => {
                let (status, body) = error_value(StatusCode::BAD_REQUEST, "Request body is not JSON", json!({}));
                return (status, Json(body)).into_response();
            }
        }
    };
    let scope = format!("{action}:{id}");
    idempotent(&sb, &headers, &scope, &body, || match action.as_str() {
        "refund" | "capture" | "void" | "void_capture" | "release" => money_action(&sb, &id, &action, &req),
        _ => error_value(StatusCode::NOT_FOUND, "Unknown action", json!({"action": action})),
    })
}

fn money_action(sb: &SandboxState, id: &str, action: &str, req: &Value) -> (StatusCode, Value) {
    let mut store = sb.ecommerce.lock().unwrap();
    let Some(txn) = store.transactions.get_mut(id) else {
        return error_value(StatusCode::NOT_FOUND, "Transaction not found", json!({"id": id}));
    };
    let refuse = |message: &str| error_value(StatusCode::BAD_REQUEST, message, json!({"id": id, "status": txn.status}));
    let requested = match req.get("amount") {
        None | Some(Value::Null) => None,
        Some(v) => match v.as_i64().filter(|a| *a > 0) {
            Some(a) => Some(a),
            None => return refuse("Invalid amount: a positive integer in minor units"),
        },
    };
    if matches!(txn.status.as_str(), "VOIDED" | "AUTHORIZATION_VOIDED") {
        return refuse("Transaction has been voided");
    }
    if txn.status != "AUTHORIZED" && txn.status != "SETTLEMENT_REQUESTED" && txn.status != "REFUNDED" {
        return refuse(&format!("Transaction in status {} cannot be changed", txn.status));
    }
    let (event, amount) = match action {
        "capture" => {
            if !txn.pre_auth || txn.captured > 0 {
                return refuse("Only an uncaptured pre-authorization can be captured");
            }
            let held = txn.amount - txn.released;
            let amount = requested.unwrap_or(held);
            if amount > held {
                return refuse("Capture amount exceeds the authorized amount");
            }
            txn.captured = amount;
            txn.status = "SETTLEMENT_REQUESTED".into();
            ("TxnCaptureApproved", amount)
        }
        "void" => {
            if txn.captured > 0 && txn.pre_auth || txn.refunded > 0 || txn.status != "AUTHORIZED" {
                return refuse("Only an authorization that has not been captured or refunded can be voided");
            }
            // A voided hold is AUTHORIZATION_VOIDED; a voided sale (not settled yet) is VOIDED.
            txn.status = if txn.pre_auth { "AUTHORIZATION_VOIDED" } else { "VOIDED" }.into();
            txn.captured = 0;
            ("TxnVoidApproved", txn.amount)
        }
        // Cancels a capture not yet settled `[I]`: the capture's settlement is cancelled.
        "void_capture" => {
            if !txn.pre_auth || txn.status != "SETTLEMENT_REQUESTED" || txn.refunded > 0 {
                return refuse("Only a capture that has not been settled or refunded can be voided");
            }
            let amount = txn.captured;
            txn.captured = 0;
            txn.status = "SETTLEMENT_CANCELLED".into();
            ("TxnVoidApproved", amount)
        }
        // Gives back part or all of an uncaptured hold (published body: `{amount}`); all of it voids the hold.
        "release" => {
            let held = txn.amount - txn.released;
            if !txn.pre_auth || txn.captured > 0 || txn.status != "AUTHORIZED" {
                return refuse("Only an uncaptured pre-authorization can be released");
            }
            let amount = requested.unwrap_or(held);
            if amount > held {
                return refuse("Release amount exceeds the amount held");
            }
            txn.released += amount;
            if txn.released == txn.amount {
                txn.status = "AUTHORIZATION_VOIDED".into();
            }
            ("TxnVoidApproved", amount)
        }
        _ => {
            let remaining = txn.captured - txn.refunded;
            if remaining <= 0 {
                return refuse("Nothing captured remains to refund");
            }
            let amount = requested.unwrap_or(remaining);
            if amount > remaining {
                return refuse("Refund amount exceeds the captured amount not yet refunded");
            }
            txn.refunded += amount;
            if txn.refunded == txn.captured {
                txn.status = "REFUNDED".into();
            }
            ("TxnRefundApproved", amount)
        }
    };
    // Refunds and captures are transactions of their own; the other actions answer the payment they changed.
    let changed = txn.clone();
    let answer = if matches!(action, "refund" | "capture") {
        let child = Transaction {
            id: new_id(),
            amount,
            status: if action == "refund" { "REFUNDED" } else { "SETTLEMENT_REQUESTED" }.into(),
            reason_code: "00".into(),
            message: "Approved".into(),
            captured: if action == "capture" { amount } else { 0 },
            refunded: if action == "refund" { amount } else { 0 },
            released: 0,
            parent_id: Some(changed.id.clone()),
            created_at: now_secs(),
            ..changed
        };
        store.transactions.insert(child.id.clone(), child.clone());
        child
    } else {
        changed
    };
    drop(store);
    let body = answer.to_json(sb);
    sb.notifier.send(event, &body);
    (StatusCode::CREATED, body)
}
