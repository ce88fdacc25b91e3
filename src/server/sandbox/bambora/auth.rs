//! `Authorization: Passcode base64(merchant_id:passcode)`: the Payment API's passcode for payments, the
//! Reporting API's own passcode for searches.

use super::errors::{ApiError, Message};
use crate::server::sandbox::Sandbox;
use axum::http::{HeaderMap, header};
use base64::{Engine, engine::general_purpose::STANDARD};
use subtle::ConstantTimeEq;

#[derive(Clone, Copy)]
pub enum Api {
    Payments,
    Reporting,
}

/// Checks the header; the error is the 401 to answer.
pub fn check(sb: &Sandbox, headers: &HeaderMap, api: Api) -> Result<(), ApiError> {
    let c = &sb.config;
    let passcode = match api {
        Api::Payments => &c.bambora_api_passcode,
        Api::Reporting => &c.bambora_report_passcode,
    };
    let expected = format!("{}:{passcode}", c.bambora_merchant_id);
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().strip_prefix("Passcode "))
        .and_then(|b64| STANDARD.decode(b64.trim()).ok())
        .unwrap_or_default();
    if bool::from(given.ct_eq(expected.as_bytes())) {
        Ok(())
    } else {
        Err(ApiError::new(Message::AuthenticationFailed))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::sandbox::SandboxConfig;

    fn with(value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::AUTHORIZATION, value.parse().unwrap());
        h
    }

    #[test]
    fn each_api_has_its_passcode() {
        let sb = Sandbox::new(SandboxConfig::new("http://127.0.0.1:1/sandbox"));
        let payments = with(&format!("Passcode {}", STANDARD.encode("300200578:sandbox-passcode")));
        let reports = with(&format!("Passcode {}", STANDARD.encode("300200578:sandbox-report-passcode")));
        assert!(check(&sb, &payments, Api::Payments).is_ok());
        assert!(check(&sb, &reports, Api::Reporting).is_ok());
        assert!(check(&sb, &payments, Api::Reporting).is_err());
        assert!(check(&sb, &reports, Api::Payments).is_err());
        let basic = with(&format!("Basic {}", STANDARD.encode("300200578:sandbox-passcode")));
        let err = check(&sb, &basic, Api::Payments).unwrap_err();
        assert_eq!(err.message.status().as_u16(), 401);
        assert!(check(&sb, &HeaderMap::new(), Api::Payments).is_err());
    }
}
