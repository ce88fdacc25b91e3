//! What the sandbox answers for which test data: the Cardinal EMV 3DS test-case matrix (the JSON file beside
//! this one, copied from the spec, read as is) and the payment outcomes selected by the amount.

use crate::domain::card::CardBrand;
use serde::Deserialize;
use std::collections::HashMap;

#[derive(Clone, Debug, Deserialize)]
pub struct TestCase {
    pub case: u8,
    pub name: String,
    pub card_number: Option<String>,
    pub brand: String,
    pub protocol_version: String,
    pub expected: Expected,
}

#[derive(Clone, Debug, Deserialize)]
pub struct Expected {
    pub enrolled: Option<String>,
    pub pares_status_lookup: Option<String>,
    pub challenge_required: String,
    pub pares_status_final: Option<String>,
    pub signature_verification: Option<String>,
    pub eci_flag: String,
    pub cavv_present: bool,
    pub action_code: Option<String>,
    pub liability_shift: bool,
}

#[derive(Deserialize)]
struct MatrixFile {
    cases: Vec<TestCase>,
}

/// What the lookup does for a case number of the matrix. The case numbers are Cardinal's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LookupBehaviour {
    /// Answer the lookup values at once (cases 1–6, 9).
    Answer,
    /// Answer with a lookup error (case 7).
    Error,
    /// Hold the request longer than a client waits, then answer blank (case 8).
    Timeout,
    /// Ask for a challenge (cases 10–13).
    Challenge,
}

/// What the issuer's challenge page does (cases 10–13).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChallengeBehaviour {
    /// The right code (1234) authenticates; wrong codes fail after the allowed attempts.
    CodeDecides,
    /// Whatever is entered, the issuer fails the authentication.
    AlwaysFails,
    /// The issuer cannot step up: the page says so and the result is U / NOACTION.
    Unavailable,
    /// The ACS errors: U / ERROR with no signature verification.
    Error,
}

/// Lookup error for case 7 [S: transcription of the Cardinal matrix].
pub const LOOKUP_ERROR: (&str, &str) = ("1001", "Error Processing Message Request");
/// Lookup error for case 8 once the delay has passed [I].
pub const LOOKUP_TIMEOUT_ERROR: (&str, &str) = ("1004", "Timeout on cmpi_lookup");

impl TestCase {
    pub fn lookup_behaviour(&self) -> LookupBehaviour {
        match self.case {
            7 => LookupBehaviour::Error,
            8 => LookupBehaviour::Timeout,
            _ if self.expected.pares_status_lookup.as_deref() == Some("C") => LookupBehaviour::Challenge,
            _ => LookupBehaviour::Answer,
        }
    }

    pub fn challenge_behaviour(&self) -> ChallengeBehaviour {
        match self.expected.action_code.as_deref() {
            Some("FAILURE") => ChallengeBehaviour::AlwaysFails,
            Some("NOACTION") => ChallengeBehaviour::Unavailable,
            Some("ERROR") => ChallengeBehaviour::Error,
            _ => ChallengeBehaviour::CodeDecides,
        }
    }

    pub fn brand(&self) -> Option<CardBrand> {
        match self.brand.as_str() {
            "visa" => Some(CardBrand::Visa),
            "mastercard" => Some(CardBrand::Mastercard),
            "amex" => Some(CardBrand::Amex),
            _ => None,
        }
    }
}

pub struct Matrix {
    by_card: HashMap<String, TestCase>,
    all: Vec<TestCase>,
}

impl Matrix {
    pub fn load() -> Matrix {
        let file: MatrixFile =
            serde_json::from_str(include_str!("cardinal-test-cases.json")).expect("test-case matrix parses");
        let by_card = file.cases.iter().filter_map(|c| c.card_number.clone().map(|n| (n, c.clone()))).collect();
        Matrix { by_card, all: file.cases }
    }

    pub fn find(&self, card_number: &str) -> Option<&TestCase> {
        self.by_card.get(card_number)
    }

    pub fn all(&self) -> &[TestCase] {
        &self.all
    }
}

/// A payment outcome chosen by the last two digits of the amount in minor units (so any card can test
/// any decline). Reason codes follow ISO 8583 response codes [I].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AmountRule {
    pub cents: i64,
    pub status: &'static str,
    pub reason_code: &'static str,
    pub message: &'static str,
}

pub const AMOUNT_RULES: [AmountRule; 5] = [
    AmountRule { cents: 5, status: "DECLINED", reason_code: "05", message: "Do not honour" },
    AmountRule { cents: 51, status: "DECLINED", reason_code: "51", message: "Insufficient funds" },
    AmountRule { cents: 54, status: "DECLINED", reason_code: "54", message: "Expired card" },
    AmountRule { cents: 59, status: "DECLINED", reason_code: "59", message: "Suspected fraud" },
    AmountRule { cents: 91, status: "FAILED", reason_code: "91", message: "Issuer or switch inoperative" },
];

pub fn amount_rule(amount_minor: i64) -> Option<AmountRule> {
    AMOUNT_RULES.into_iter().find(|r| amount_minor % 100 == r.cents)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::card::CardNumber;

    #[test]
    fn every_matrix_card_is_a_valid_card_of_its_brand() {
        let matrix = Matrix::load();
        assert_eq!(matrix.all().len(), 73);
        for case in matrix.all() {
            let Some(pan) = &case.card_number else { continue };
            let card = CardNumber::parse(pan).unwrap_or_else(|e| panic!("{pan}: {e}"));
            assert_eq!(Some(card.brand()), case.brand(), "{pan}");
            assert_eq!(matrix.find(pan).map(|c| c.case), Some(case.case));
        }
    }

    #[test]
    fn behaviours_follow_the_case_numbers() {
        let matrix = Matrix::load();
        let by = |pan: &str| matrix.find(pan).unwrap();
        assert_eq!(by("4000000000001000").lookup_behaviour(), LookupBehaviour::Answer);
        assert_eq!(by("4000000000001067").lookup_behaviour(), LookupBehaviour::Error);
        assert_eq!(by("4000000000001075").lookup_behaviour(), LookupBehaviour::Timeout);
        assert_eq!(by("4000000000001091").challenge_behaviour(), ChallengeBehaviour::CodeDecides);
        assert_eq!(by("4000000000001109").challenge_behaviour(), ChallengeBehaviour::AlwaysFails);
        assert_eq!(by("4000000000001117").challenge_behaviour(), ChallengeBehaviour::Unavailable);
        assert_eq!(by("4000000000001125").challenge_behaviour(), ChallengeBehaviour::Error);
    }

    #[test]
    fn amount_rules() {
        assert_eq!(amount_rule(1051).map(|r| r.reason_code), Some("51"));
        assert_eq!(amount_rule(1005).map(|r| r.reason_code), Some("05"));
        assert_eq!(amount_rule(1000), None);
    }
}
