//! HS256 JSON Web Tokens, as the sandbox's 3DS service signs them (the JWT for `Cardinal.setup` and the
//! response JWT of `payments.validated`).

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use hmac::{Hmac, Mac};
use serde::{Serialize, de::DeserializeOwned};
use sha2::Sha256;

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum JwtError {
    #[error("malformed JWT")]
    Malformed,
    #[error("JWT signature does not verify")]
    BadSignature,
    #[error("JWT has expired")]
    Expired,
}

pub fn sign<T: Serialize>(claims: &T, secret: &[u8]) -> String {
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
    let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims).expect("claims serialize"));
    let signing_input = format!("{header}.{payload}");
    let signature = URL_SAFE_NO_PAD.encode(mac(secret, &signing_input).finalize().into_bytes());
    format!("{signing_input}.{signature}")
}

/// Verifies the signature and the `exp` claim (seconds since the epoch) against `now`.
pub fn verify<T: DeserializeOwned>(token: &str, secret: &[u8], now: i64) -> Result<T, JwtError> {
    let mut parts = token.trim().split('.');
    let (Some(header), Some(payload), Some(signature), None) = (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(JwtError::Malformed);
    };
    let alg: serde_json::Value = decode_json(header)?;
    if alg["alg"] != "HS256" {
        return Err(JwtError::Malformed);
    }
    let signature = URL_SAFE_NO_PAD.decode(signature).map_err(|_| JwtError::Malformed)?;
    mac(secret, &format!("{header}.{payload}")).verify_slice(&signature).map_err(|_| JwtError::BadSignature)?;
    let claims: serde_json::Value = decode_json(payload)?;
    if claims.get("exp").and_then(|e| e.as_i64()).is_some_and(|exp| exp <= now) {
        return Err(JwtError::Expired);
    }
    serde_json::from_value(claims).map_err(|_| JwtError::Malformed)
}

fn mac(secret: &[u8], input: &str) -> Hmac<Sha256> {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes any key length");
    mac.update(input.as_bytes());
    mac
}

fn decode_json<T: DeserializeOwned>(part: &str) -> Result<T, JwtError> {
    let bytes = URL_SAFE_NO_PAD.decode(part).map_err(|_| JwtError::Malformed)?;
    serde_json::from_slice(&bytes).map_err(|_| JwtError::Malformed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    #[test]
    fn signs_and_verifies() {
        let token = sign(&json!({"jti": "a", "exp": 100}), b"k");
        assert_eq!(verify::<Value>(&token, b"k", 99).unwrap()["jti"], "a");
        assert_eq!(verify::<Value>(&token, b"k", 100), Err(JwtError::Expired));
        assert_eq!(verify::<Value>(&token, b"other", 99), Err(JwtError::BadSignature));
        assert_eq!(verify::<Value>("a.b", b"k", 0), Err(JwtError::Malformed));
    }

    #[test]
    fn a_changed_payload_fails() {
        let token = sign(&json!({"amount": 100}), b"k");
        let parts: Vec<&str> = token.split('.').collect();
        let forged = URL_SAFE_NO_PAD.encode(br#"{"amount":1}"#);
        let token = format!("{}.{}.{}", parts[0], forged, parts[2]);
        assert_eq!(verify::<Value>(&token, b"k", 0), Err(JwtError::BadSignature));
    }
}
