//! The browser side of the sandbox: the Cardinal Songbird SDK emulation and its endpoints, and the
//! verifone.js card-encryption script with the public key it encrypts to.

use super::{
    SandboxState, jwt, new_id, now_secs,
    threeds::{Session, SetupClaims, ValidatedClaims},
};
use crate::domain::money::Currency;
use axum::{
    Json, Router,
    extract::{Path, State},
    http::{StatusCode, header},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use base64::{Engine, engine::general_purpose::STANDARD};
use serde::Deserialize;
use serde_json::json;

const SONGBIRD_JS: &str = include_str!("assets/songbird.js");
const VERIFONE_JS: &str = include_str!("assets/verifone.js");

pub fn router() -> Router<SandboxState> {
    Router::new()
        .route("/songbird.js", get(|| async { javascript(SONGBIRD_JS) }))
        .route("/setup", post(setup))
        .route("/device-data", post(device_data))
        .route("/bin", post(bin))
        .route("/result", post(result))
}

pub fn verifone_js_router() -> Router<SandboxState> {
    Router::new()
        .route("/verifone.js", get(|| async { javascript(VERIFONE_JS) }))
        .route("/openpgp.min.js", get(openpgp_js))
        .route("/keys/{alias}", get(public_key))
}

fn javascript(source: &'static str) -> Response {
    ([(header::CONTENT_TYPE, "text/javascript; charset=utf-8"), (header::CACHE_CONTROL, "no-cache")], source)
        .into_response()
}

fn sdk_error(status: StatusCode, message: &str) -> Response {
    (status, Json(json!({"message": message}))).into_response()
}

#[derive(Deserialize)]
struct Setup {
    jwt: Option<String>,
}

/// `Cardinal.setup('init', {jwt})`: the JWT must be the sandbox's, unexpired and never used before.
async fn setup(State(sb): State<SandboxState>, Json(req): Json<Setup>) -> Response {
    let claims: SetupClaims = match jwt::verify(req.jwt.as_deref().unwrap_or_default(), sb.jwt_secret(), now_secs()) {
        Ok(c) => c,
        Err(e) => return sdk_error(StatusCode::UNAUTHORIZED, &e.to_string()),
    };
    let mut store = sb.threeds.lock().unwrap();
    match store.jwts.get_mut(&claims.jti) {
        Some(used @ false) => *used = true,
        Some(true) => return sdk_error(StatusCode::CONFLICT, "this JWT has been used already"),
        None => return sdk_error(StatusCode::UNAUTHORIZED, "unknown JWT"),
    }
    let session_id = format!("0_{}", new_id());
    store.sessions.insert(session_id.clone(), Session { jti: claims.jti, lookup_done: false, bins: Vec::new() });
    Json(json!({"sessionId": session_id})).into_response()
}

#[derive(Deserialize)]
struct SessionRef {
    #[serde(rename = "sessionId")]
    session_id: String,
    #[serde(default)]
    bin: Option<String>,
}

/// The device-data collection step that precedes `payments.setupComplete`.
async fn device_data(State(sb): State<SandboxState>, Json(req): Json<SessionRef>) -> Response {
    let known = sb.threeds.lock().unwrap().sessions.contains_key(&req.session_id);
    if known {
        Json(json!({"Status": true})).into_response()
    } else {
        sdk_error(StatusCode::NOT_FOUND, "unknown session")
    }
}

/// BIN profiling (`Cardinal.trigger('bin.process', digits)`): needs at least 6 digits.
async fn bin(State(sb): State<SandboxState>, Json(req): Json<SessionRef>) -> Response {
    let bin: String = req.bin.unwrap_or_default().chars().filter(char::is_ascii_digit).take(9).collect();
    let mut store = sb.threeds.lock().unwrap();
    let Some(session) = store.sessions.get_mut(&req.session_id) else {
        return sdk_error(StatusCode::NOT_FOUND, "unknown session");
    };
    let ok = bin.len() >= 6;
    if ok && !session.bins.contains(&bin) {
        session.bins.push(bin);
    }
    Json(json!({"Status": ok})).into_response()
}

#[derive(Deserialize)]
struct ResultRef {
    #[serde(rename = "transactionId")]
    transaction_id: String,
    #[serde(rename = "sessionId", default)]
    session_id: String,
}

/// After the challenge page reports completion: the `payments.validated` data and its signed JWT.
async fn result(State(sb): State<SandboxState>, Json(req): Json<ResultRef>) -> Response {
    let store = sb.threeds.lock().unwrap();
    let Some(a) = store.by_transaction.get(&req.transaction_id).and_then(|id| store.authentications.get(id)) else {
        return sdk_error(StatusCode::NOT_FOUND, "unknown transaction");
    };
    let Some(outcome) = a.challenge.as_ref().and_then(|c| c.outcome.clone()) else {
        return sdk_error(StatusCode::CONFLICT, "the challenge is not finished");
    };
    // The ISO 4217 numeric code is three digits, leading zeros kept ("048" for BHD).
    let currency = Currency::parse(&a.currency_code).map(|c| format!("{:03}", c.numeric())).unwrap_or_default();
    let authorization_payload = json!({
        "eci": a.eci_flag,
        "authenticationValue": a.cavv,
        "transStatus": outcome.pares_status,
        "dsTransID": a.ds_transaction_id,
        "acsTransID": a.acs_transaction_id,
    });
    let data = json!({
        "Validated": matches!(outcome.action_code, "SUCCESS" | "NOACTION"),
        "ActionCode": outcome.action_code,
        "ErrorNumber": outcome.error_number.parse::<i64>().unwrap_or(0),
        "ErrorDescription": outcome.error_description,
        "Payment": {
            "Type": "CCA",
            "ProcessorTransactionId": a.transaction_id,
            "ExtendedData": {
                "Amount": a.amount.to_string(),
                "AuthorizationPayload": STANDARD.encode(authorization_payload.to_string()),
                "CAVV": a.cavv,
                "CurrencyCode": currency,
                "DSTransactionId": a.ds_transaction_id,
                "ECIFlag": a.eci_flag,
                "ThreeDSVersion": a.threeds_version,
                "PAResStatus": outcome.pares_status,
                "SignatureVerification": outcome.signature_verification,
            },
        },
    });
    let now = now_secs();
    let claims = ValidatedClaims {
        jti: new_id(),
        iss: sb.config.user_uid.clone(),
        iat: now,
        exp: now + 2 * 60 * 60,
        org_unit_id: sb.config.threeds_contract_id.clone(),
        consumer_session_id: req.session_id,
        payload: data.clone(),
    };
    Json(json!({"data": data, "jwt": jwt::sign(&claims, sb.jwt_secret())})).into_response()
}

/// OpenPGP.js v4 (what verifone.js wraps), from the site's vendor folder (scripts/setup.sh installs it).
async fn openpgp_js(State(sb): State<SandboxState>) -> Response {
    let path = std::path::Path::new(&sb.config.site_root).join("vendor/openpgp.min.js");
    match tokio::fs::read(&path).await {
        Ok(bytes) => ([(header::CONTENT_TYPE, "text/javascript; charset=utf-8")], bytes).into_response(),
        Err(_) => sdk_error(StatusCode::NOT_FOUND, "OpenPGP.js is not installed: run scripts/setup.sh and rebuild"),
    }
}

/// The armored public key merchants would copy from Verifone Central as their card-capture key.
async fn public_key(State(sb): State<SandboxState>, Path(alias): Path<String>) -> Response {
    if alias != sb.key.alias {
        return sdk_error(StatusCode::NOT_FOUND, "no key with this alias");
    }
    ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], sb.key.public_armored.clone()).into_response()
}
