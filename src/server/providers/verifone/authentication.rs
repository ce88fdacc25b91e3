//! Verifone's 3DS service as an authenticator: the lookup and the challenge's JWT validation, mapped once
//! to a stored result, the liability rule of the Verifone guide and what the checkout does next.

use super::{VerifoneClient, brand_of, wire};
use crate::domain::threeds::{
    ActionCode, Decision, Eci, Enrolled, PaResStatus, SignatureVerification, Stage, ThreeDsOutcome,
};
use crate::server::{
    db::payments::ThreeDsRow,
    providers::{AuthFailure, AuthRequest, Authentication, Challenge, Proof, ProviderError, Step, Verdict},
};

impl VerifoneClient {
    pub async fn authenticate(&self, r: &AuthRequest<'_>) -> Result<Authentication, ProviderError> {
        let s = self.settings();
        let request = wire::LookupRequest {
            amount: r.amount.minor(),
            billing_first_name: &r.billing.first_name,
            billing_last_name: &r.billing.last_name,
            billing_address_1: &r.billing.address_1,
            billing_city: &r.billing.city,
            billing_country_code: &r.billing.country,
            currency_code: r.amount.currency().code(),
            device_info_id: r.device_session,
            email: &r.billing.email,
            merchant_reference: r.merchant_reference,
            threeds_contract_id: &s.threeds_contract_id,
            encrypted_card: r.reuse_token.is_none().then_some(r.card),
            public_key_alias: r.reuse_token.is_none().then_some(&s.public_key_alias),
            reuse_token: r.reuse_token,
        };
        Ok(after_lookup(self.lookup(&request).await?))
    }

    /// Has the 3DS service check the `payments.validated` JWT against the lookup's `authentication_id`: the
    /// browser's own report of the challenge is never trusted.
    pub async fn resume(
        &self,
        lookup: &ThreeDsRow,
        challenge: &Challenge,
        jwt: &str,
    ) -> Result<Authentication, ProviderError> {
        let Some(authentication_id) = lookup.authentication_id.as_deref() else {
            return Err(ProviderError::Malformed("the lookup gave no authentication_id".into()));
        };
        let v = self.validate_jwt(authentication_id, jwt).await?;
        Ok(after_challenge(lookup, challenge, v))
    }
}

fn after_lookup(l: wire::LookupResponse) -> Authentication {
    let enrolled = l.enrolled.as_deref().and_then(Enrolled::parse);
    let pares = l.pares_status.as_deref().and_then(PaResStatus::parse);
    let outcome = outcome(enrolled, pares, l.signature_verification.as_deref());
    let result = ThreeDsRow {
        stage: "lookup".into(),
        authentication_id: l.authentication_id.clone(),
        transaction_id: l.transaction_id.clone(),
        acs_transaction_id: l.acs_transaction_id.clone(),
        ds_transaction_id: l.ds_transaction_id.clone(),
        threeds_version: l.threeds_version.clone(),
        enrolled: enrolled.map(|e| e.to_string()),
        pares_status: pares.map(|p| p.to_string()),
        signature_verification: known_signature(l.signature_verification.as_deref()),
        eci_flag: known_eci(l.eci_flag.as_deref()),
        cavv_present: l.cavv.as_deref().is_some_and(|c| !c.is_empty()),
        challenge_required: l.challenge_required.clone(),
        status_reason: l.status_reason.clone(),
        action_code: None,
        error_no: l.error_no.clone(),
        error_desc: l.error_desc.clone(),
        liability_shifted: outcome.liability_shift().is_shifted(),
        cavv_result: None,
    };
    // The service read the encrypted card: its brand, not the browser's, goes to the payment and the order.
    let brand = l.card_brand.as_deref().and_then(brand_of);
    let challenge = match (l.acs_url, l.payload, l.transaction_id) {
        (Some(acs_url), Some(payload), Some(transaction_id)) => Some(Challenge { acs_url, payload, transaction_id }),
        _ => None,
    };
    let proof = Proof {
        eci: l.eci_flag,
        enrolled: l.enrolled,
        cavv: l.cavv,
        pares_status: l.pares_status,
        version: l.threeds_version,
        ds_transaction_id: l.ds_transaction_id,
        signature_verification: l.signature_verification,
        error_desc: l.error_desc,
        error_no: l.error_no,
    };
    Authentication { result, brand, next: next(outcome.decide(Stage::Lookup), challenge, proof) }
}

/// The validated challenge result. One that carries another authentication's outcome shifts nothing and
/// fails the order.
fn after_challenge(lookup: &ThreeDsRow, challenge: &Challenge, v: wire::JwtValidateResponse) -> Authentication {
    let belongs = v.authentication_id.is_some() && v.authentication_id == lookup.authentication_id;
    let r = v.validation_result;
    let enrolled = lookup.enrolled.as_deref().and_then(Enrolled::parse);
    let pares = r.pares_status.as_deref().and_then(PaResStatus::parse);
    let outcome = outcome(enrolled, pares, r.signature_verification.as_deref());
    let result = ThreeDsRow {
        stage: "challenge".into(),
        authentication_id: v.authentication_id.clone(),
        transaction_id: Some(challenge.transaction_id.clone()),
        acs_transaction_id: r.acs_transaction_id.clone(),
        ds_transaction_id: r.ds_transaction_id.clone(),
        threeds_version: lookup.threeds_version.clone(),
        enrolled: enrolled.map(|e| e.to_string()),
        pares_status: pares.map(|p| p.to_string()),
        signature_verification: known_signature(r.signature_verification.as_deref()),
        eci_flag: known_eci(r.eci_flag.as_deref()),
        cavv_present: r.cavv.as_deref().is_some_and(|c| !c.is_empty()),
        status_reason: r.reason_code.clone().filter(|c| !c.is_empty()),
        action_code: v.action_code.clone(),
        error_no: v.error_no.clone(),
        error_desc: v.error_desc.clone(),
        liability_shifted: belongs && outcome.liability_shift().is_shifted(),
        ..ThreeDsRow::default()
    };
    if !belongs {
        return Authentication { result, brand: None, next: Step::Done(Verdict::Failed(AuthFailure::NotThisOrder)) };
    }
    let stage = Stage::Challenge(v.action_code.as_deref().and_then(ActionCode::parse));
    let proof = Proof {
        eci: r.eci_flag,
        enrolled: lookup.enrolled.clone(),
        cavv: r.cavv,
        pares_status: r.pares_status,
        version: lookup.threeds_version.clone(),
        ds_transaction_id: r.ds_transaction_id,
        signature_verification: r.signature_verification,
        error_desc: v.error_desc,
        error_no: v.error_no,
    };
    Authentication { result, brand: None, next: next(outcome.decide(stage), None, proof) }
}

/// The one mapping from the 3-D Secure decision to the checkout's next step. A challenge the issuer asked
/// for without the means to run it (or after one already ran) cannot be followed.
fn next(decision: Decision, challenge: Option<Challenge>, proof: Proof) -> Step<Verdict> {
    match (decision, challenge) {
        (Decision::Challenge, Some(challenge)) => Step::Browser(challenge),
        (Decision::Challenge, None) => Step::Done(Verdict::Failed(AuthFailure::ChallengeUnavailable)),
        (Decision::PayAuthenticated, _) => Step::Done(Verdict::Authenticated(proof)),
        (Decision::PolicyDecides, _) => Step::Done(Verdict::NoAnswer),
        (Decision::Refuse(why), _) => Step::Done(Verdict::Refused(why)),
    }
}

fn outcome(enrolled: Option<Enrolled>, pares: Option<PaResStatus>, sig: Option<&str>) -> ThreeDsOutcome {
    ThreeDsOutcome {
        enrolled,
        pares_status: pares,
        signature_verification: sig.and_then(SignatureVerification::parse),
        eci: None,
    }
}

// The database keeps only 3-D Secure values the domain knows: a blank or unknown letter from the service (a
// cancelled challenge has no PAResStatus) is stored as none rather than failing the write after the call.
fn known_signature(s: Option<&str>) -> Option<String> {
    s.and_then(SignatureVerification::parse).map(|v| v.to_string())
}

fn known_eci(s: Option<&str>) -> Option<String> {
    s.and_then(Eci::parse).map(|e| e.code().to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::threeds::Refusal;

    fn lookup(enrolled: &str, pares: &str, sig: &str, with_challenge: bool) -> wire::LookupResponse {
        let some = |s: &str| Some(s.to_owned()).filter(|s| !s.is_empty());
        wire::LookupResponse {
            authentication_id: some("auth-1"),
            enrolled: some(enrolled),
            pares_status: some(pares),
            signature_verification: some(sig),
            eci_flag: some("05"),
            cavv: some("AAABBBCCC"),
            card_brand: some("Visa"),
            acs_url: with_challenge.then(|| "https://acs.example/challenge".to_owned()),
            payload: with_challenge.then(|| "payload".to_owned()),
            transaction_id: some("txn-1"),
            ..wire::LookupResponse::default()
        }
    }

    fn label(a: &Authentication) -> &'static str {
        match &a.next {
            Step::Browser(_) => "challenge",
            Step::Done(Verdict::Authenticated(_)) => "pay authenticated",
            Step::Done(Verdict::NoAnswer) => "policy",
            Step::Done(Verdict::Refused(Refusal::NotAuthenticated)) => "refused",
            Step::Done(Verdict::Refused(Refusal::ChallengeNotPassed)) => "not passed",
            Step::Done(Verdict::Failed(AuthFailure::ChallengeUnavailable)) => "failed",
            Step::Done(Verdict::Failed(AuthFailure::NotThisOrder)) => "mismatch",
        }
    }

    #[test]
    fn lookup_table() {
        let table = [
            (("Y", "Y", "Y", false), "pay authenticated", true),
            (("Y", "A", "Y", false), "pay authenticated", true),
            (("Y", "Y", "N", false), "policy", false),
            (("U", "", "", false), "policy", false),
            (("B", "", "", false), "policy", false),
            (("Y", "U", "Y", false), "policy", false),
            (("Y", "N", "Y", false), "refused", false),
            (("Y", "R", "Y", false), "refused", false),
            (("Y", "C", "Y", true), "challenge", false),
            (("Y", "C", "Y", false), "failed", false),
        ];
        for ((enrolled, pares, sig, with_challenge), next, shifted) in table {
            let a = after_lookup(lookup(enrolled, pares, sig, with_challenge));
            let case = format!("{enrolled}/{pares}/{sig}/{with_challenge}");
            assert_eq!(label(&a), next, "{case}");
            assert_eq!(a.result.liability_shifted, shifted, "{case}");
            assert_eq!(a.brand, Some(crate::domain::card::CardBrand::Visa), "{case}");
        }
    }

    #[test]
    fn challenge_table() {
        let first = after_lookup(lookup("Y", "C", "Y", true)).result;
        let challenge = Challenge { acs_url: "u".into(), payload: "p".into(), transaction_id: "txn-1".into() };
        let validated = |id: &str, action: &str, pares: &str| wire::JwtValidateResponse {
            authentication_id: Some(id.to_owned()),
            action_code: Some(action.to_owned()),
            validation_result: wire::ValidationResult {
                pares_status: Some(pares.to_owned()),
                signature_verification: Some("Y".into()),
                cavv: Some("AAABBBCCC".into()),
                eci_flag: Some("05".into()),
                ..wire::ValidationResult::default()
            },
            ..wire::JwtValidateResponse::default()
        };
        let table = [
            (("auth-1", "SUCCESS", "Y"), "pay authenticated", true),
            (("auth-1", "FAILURE", "N"), "refused", false),
            (("auth-1", "NOACTION", "U"), "not passed", false),
            (("auth-1", "ERROR", ""), "not passed", false),
            (("auth-2", "SUCCESS", "Y"), "mismatch", false),
        ];
        for ((id, action, pares), next, shifted) in table {
            let a = after_challenge(&first, &challenge, validated(id, action, pares));
            assert_eq!(label(&a), next, "{id}/{action}/{pares}");
            assert_eq!(a.result.liability_shifted, shifted, "{id}/{action}/{pares}");
            assert_eq!(a.result.transaction_id.as_deref(), Some("txn-1"));
        }
    }
}
