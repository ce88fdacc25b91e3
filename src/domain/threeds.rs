//! 3-D Secure results as Verifone's lookup and Cardinal's `payments.validated` report them, the
//! liability-shift rule of the Verifone guide, and what the checkout does with a result.

use super::card::CardBrand;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Single-letter codes shared by the 3DS enums: parse from and print to the wire letter.
macro_rules! letter_enum {
    ($(#[$m:meta])* $name:ident { $($variant:ident = $letter:literal : $meaning:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn letter(self) -> &'static str {
                match self { $($name::$variant => $letter),+ }
            }

            pub fn meaning(self) -> &'static str {
                match self { $($name::$variant => $meaning),+ }
            }

            /// Parses the wire letter; an empty or unknown value is `None` (treated as "blank").
            pub fn parse(s: &str) -> Option<$name> {
                match s.trim() { $($letter => Some($name::$variant),)+ _ => None }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.letter())
            }
        }
    };
}

letter_enum!(
    /// Whether the card's issuer takes part in 3-D Secure (lookup `enrolled`).
    Enrolled {
        Y = "Y": "issuer participates",
        N = "N": "issuer does not participate",
        U = "U": "enrollment status unavailable",
        B = "B": "enrollment check bypassed",
    }
);

letter_enum!(
    /// The authentication outcome (`pares_status` / `PAResStatus`).
    PaResStatus {
        Y = "Y": "authenticated",
        N = "N": "failed",
        U = "U": "unavailable",
        A = "A": "attempted",
        C = "C": "challenge required",
        R = "R": "rejected",
    }
);

letter_enum!(
    /// Whether the issuer's response signature verified (`signature_verification`).
    SignatureVerification {
        Y = "Y": "signature valid",
        N = "N": "signature invalid",
    }
);

impl PaResStatus {
    /// N and R must never be authorized, whatever the merchant's policy.
    pub fn forbids_authorization(self) -> bool {
        matches!(self, PaResStatus::N | PaResStatus::R)
    }
}

/// Electronic Commerce Indicator, as the two-digit code the networks use.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Eci(String);

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum EciMeaning {
    FullyAuthenticated,
    Attempted,
    NotAuthenticated,
}

impl Eci {
    pub fn parse(s: &str) -> Option<Eci> {
        let s = s.trim();
        (s.len() == 2 && s.chars().all(|c| c.is_ascii_digit())).then(|| Eci(s.to_owned()))
    }

    pub fn code(&self) -> &str {
        &self.0
    }

    /// The ECI a brand uses for an outcome: Mastercard 02/01/00, the others 05/06/07.
    pub fn for_outcome(brand: CardBrand, outcome: EciMeaning) -> Eci {
        let code = match (brand, outcome) {
            (CardBrand::Mastercard, EciMeaning::FullyAuthenticated) => "02",
            (CardBrand::Mastercard, EciMeaning::Attempted) => "01",
            (CardBrand::Mastercard, EciMeaning::NotAuthenticated) => "00",
            (_, EciMeaning::FullyAuthenticated) => "05",
            (_, EciMeaning::Attempted) => "06",
            (_, EciMeaning::NotAuthenticated) => "07",
        };
        Eci(code.to_owned())
    }

    pub fn meaning(&self, brand: CardBrand) -> Option<EciMeaning> {
        [EciMeaning::FullyAuthenticated, EciMeaning::Attempted, EciMeaning::NotAuthenticated]
            .into_iter()
            .find(|m| Eci::for_outcome(brand, *m) == *self)
    }
}

impl fmt::Display for Eci {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The fields of a 3-D Secure authentication that decide liability. `None` is a blank or absent value.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ThreeDsOutcome {
    pub enrolled: Option<Enrolled>,
    /// The final status: after a challenge, the challenge's result; otherwise the lookup's.
    pub pares_status: Option<PaResStatus>,
    pub signature_verification: Option<SignatureVerification>,
    pub eci: Option<Eci>,
}

/// Why liability stayed with the merchant: each rule of the Verifone guide that was not met.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum LiabilityRule {
    /// The final PAResStatus was not Y or A (the value it had, if any).
    AuthenticationNotSuccessful(Option<PaResStatus>),
    /// SignatureVerification was not Y.
    SignatureNotVerified(Option<SignatureVerification>),
    /// The issuer was not enrolled (N, U, B) or the value was blank.
    NotEnrolled(Option<Enrolled>),
}

impl LiabilityRule {
    pub fn explain(self) -> String {
        fn shown<T: fmt::Display>(v: Option<T>) -> String {
            v.map_or_else(|| "blank".to_owned(), |v| v.to_string())
        }
        match self {
            LiabilityRule::AuthenticationNotSuccessful(s) => {
                format!("PAResStatus was {} (needs Y or A)", shown(s))
            }
            LiabilityRule::SignatureNotVerified(s) => format!("signature verification was {} (needs Y)", shown(s)),
            LiabilityRule::NotEnrolled(s) => format!("enrolled was {} (needs Y)", shown(s)),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum LiabilityShift {
    /// Liability for fraud chargebacks moved to the issuer.
    Shifted,
    /// Liability stays with the merchant, for these reasons (never empty).
    Merchant(Vec<LiabilityRule>),
}

impl LiabilityShift {
    pub fn is_shifted(&self) -> bool {
        matches!(self, LiabilityShift::Shifted)
    }
}

impl ThreeDsOutcome {
    /// Shifted only when final PAResStatus ∈ {Y, A} AND SignatureVerification = Y AND enrolled = Y.
    pub fn liability_shift(&self) -> LiabilityShift {
        let mut failed = Vec::new();
        if !matches!(self.pares_status, Some(PaResStatus::Y | PaResStatus::A)) {
            failed.push(LiabilityRule::AuthenticationNotSuccessful(self.pares_status));
        }
        if self.signature_verification != Some(SignatureVerification::Y) {
            failed.push(LiabilityRule::SignatureNotVerified(self.signature_verification));
        }
        if self.enrolled != Some(Enrolled::Y) {
            failed.push(LiabilityRule::NotEnrolled(self.enrolled));
        }
        if failed.is_empty() { LiabilityShift::Shifted } else { LiabilityShift::Merchant(failed) }
    }
}

/// Cardinal's `ActionCode` in `payments.validated`, as the 3DS service reads it from the challenge's JWT.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ActionCode {
    /// Authenticated: the result may be used for the payment.
    Success,
    /// Nothing more to do, with no authentication (not enrolled, or a validation error).
    NoAction,
    /// The cardholder failed authentication.
    Failure,
    /// A service-level error, or the shopper cancelled (Songbird's 10011 "Canceled by user"; ERROR is `[I]`).
    Error,
}

impl ActionCode {
    pub const ALL: [ActionCode; 4] =
        [ActionCode::Success, ActionCode::NoAction, ActionCode::Failure, ActionCode::Error];

    /// The wire word; anything else (or nothing) is `None`.
    pub fn parse(s: &str) -> Option<ActionCode> {
        match s.trim() {
            "SUCCESS" => Some(ActionCode::Success),
            "NOACTION" => Some(ActionCode::NoAction),
            "FAILURE" => Some(ActionCode::Failure),
            "ERROR" => Some(ActionCode::Error),
            _ => None,
        }
    }
}

/// Which answer a 3-D Secure result is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    /// The lookup's answer, before any challenge.
    Lookup,
    /// The validated result of a challenge the issuer required, with its action code (`None`: absent or unknown).
    Challenge(Option<ActionCode>),
}

/// What the checkout does with a 3-D Secure result.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    /// The issuer wants the shopper to prove it is them: show the challenge.
    Challenge,
    /// Authenticated and trusted: pay with this authentication; liability shifts to the issuer.
    PayAuthenticated,
    /// No trusted authentication, and no refusal: the merchant's policy decides (pay without its 3-D Secure
    /// data and without a liability shift, or decline).
    PolicyDecides,
    /// Never pay, whatever the policy.
    Refuse(Refusal),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// The issuer said no (N, R) or the shopper failed the challenge.
    NotAuthenticated,
    /// A challenge was required and not passed: cancelled, errored, unavailable or inconclusive.
    ChallengeNotPassed,
}

impl ThreeDsOutcome {
    /// The checkout's one rule for a 3-D Secure result. Only a trusted Y or A (the Verifone guide's liability
    /// rule: signature verified, issuer enrolled) pays with its authentication. A Y or A that cannot be trusted
    /// is a result without a liability shift like any other: the policy decides. N and R never pay. Once a
    /// challenge was required, only a passed one (SUCCESS with Y or A) may lead to a payment.
    pub fn decide(&self, stage: Stage) -> Decision {
        use {ActionCode::*, PaResStatus::*};
        let trusted = self.liability_shift().is_shifted();
        match (stage, self.pares_status) {
            (_, Some(N | R)) => Decision::Refuse(Refusal::NotAuthenticated),
            (Stage::Lookup, Some(C)) => Decision::Challenge,
            (Stage::Lookup, Some(Y | A)) if trusted => Decision::PayAuthenticated,
            (Stage::Lookup, Some(Y | A | U) | None) => Decision::PolicyDecides,
            (Stage::Challenge(Some(Failure)), _) => Decision::Refuse(Refusal::NotAuthenticated),
            (Stage::Challenge(Some(Success)), Some(Y | A)) if trusted => Decision::PayAuthenticated,
            (Stage::Challenge(Some(Success)), Some(Y | A)) => Decision::PolicyDecides,
            (Stage::Challenge(Some(Success | NoAction | Error) | None), Some(U | C) | None)
            | (Stage::Challenge(Some(NoAction | Error) | None), Some(Y | A)) => {
                Decision::Refuse(Refusal::ChallengeNotPassed)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all<T: Copy>(values: &[T]) -> Vec<Option<T>> {
        std::iter::once(None).chain(values.iter().copied().map(Some)).collect()
    }

    /// Every combination of enrolled × PAResStatus × SignatureVerification, blanks included.
    #[test]
    fn liability_shift_table() {
        let mut shifted = Vec::new();
        let mut count = 0;
        for enrolled in all(Enrolled::ALL) {
            for pares in all(PaResStatus::ALL) {
                for sig in all(SignatureVerification::ALL) {
                    count += 1;
                    let outcome =
                        ThreeDsOutcome { enrolled, pares_status: pares, signature_verification: sig, eci: None };
                    let expected = enrolled == Some(Enrolled::Y)
                        && sig == Some(SignatureVerification::Y)
                        && (pares == Some(PaResStatus::Y) || pares == Some(PaResStatus::A));
                    let got = outcome.liability_shift();
                    assert_eq!(got.is_shifted(), expected, "{enrolled:?} {pares:?} {sig:?}");
                    match got {
                        LiabilityShift::Shifted => shifted.push((enrolled, pares, sig)),
                        LiabilityShift::Merchant(rules) => {
                            assert!(!rules.is_empty());
                            let pares_failed = rules.contains(&LiabilityRule::AuthenticationNotSuccessful(pares));
                            assert_eq!(pares_failed, !matches!(pares, Some(PaResStatus::Y | PaResStatus::A)));
                            let sig_failed = rules.contains(&LiabilityRule::SignatureNotVerified(sig));
                            assert_eq!(sig_failed, sig != Some(SignatureVerification::Y));
                            let enrol_failed = rules.contains(&LiabilityRule::NotEnrolled(enrolled));
                            assert_eq!(enrol_failed, enrolled != Some(Enrolled::Y));
                        }
                    }
                }
            }
        }
        assert_eq!(count, 5 * 7 * 3);
        assert_eq!(
            shifted,
            vec![
                (Some(Enrolled::Y), Some(PaResStatus::Y), Some(SignatureVerification::Y)),
                (Some(Enrolled::Y), Some(PaResStatus::A), Some(SignatureVerification::Y)),
            ]
        );
    }

    #[test]
    fn explains_each_failed_rule() {
        let outcome = ThreeDsOutcome {
            enrolled: Some(Enrolled::U),
            pares_status: Some(PaResStatus::U),
            signature_verification: None,
            eci: None,
        };
        let LiabilityShift::Merchant(rules) = outcome.liability_shift() else { panic!("shifted") };
        let text: Vec<String> = rules.into_iter().map(LiabilityRule::explain).collect();
        assert_eq!(
            text,
            [
                "PAResStatus was U (needs Y or A)",
                "signature verification was blank (needs Y)",
                "enrolled was U (needs Y)"
            ]
        );
    }

    #[test]
    fn letters_round_trip_and_blank_is_none() {
        for s in PaResStatus::ALL {
            assert_eq!(PaResStatus::parse(s.letter()), Some(*s));
        }
        for s in Enrolled::ALL {
            assert_eq!(Enrolled::parse(s.letter()), Some(*s));
        }
        assert_eq!(PaResStatus::parse(""), None);
        assert_eq!(PaResStatus::parse("Z"), None);
        assert!(PaResStatus::R.forbids_authorization());
        assert!(PaResStatus::N.forbids_authorization());
        assert!(!PaResStatus::U.forbids_authorization());
    }

    #[test]
    fn eci_per_brand() {
        use EciMeaning::*;
        let mc = [(FullyAuthenticated, "02"), (Attempted, "01"), (NotAuthenticated, "00")];
        let others = [(FullyAuthenticated, "05"), (Attempted, "06"), (NotAuthenticated, "07")];
        for (m, code) in mc {
            assert_eq!(Eci::for_outcome(CardBrand::Mastercard, m).code(), code);
            assert_eq!(Eci::parse(code).unwrap().meaning(CardBrand::Mastercard), Some(m));
        }
        for brand in [CardBrand::Visa, CardBrand::Amex, CardBrand::Jcb, CardBrand::Discover] {
            for (m, code) in others {
                assert_eq!(Eci::for_outcome(brand, m).code(), code);
                assert_eq!(Eci::parse(code).unwrap().meaning(brand), Some(m));
            }
        }
        assert_eq!(Eci::parse("5"), None);
        assert_eq!(Eci::parse("05").unwrap().meaning(CardBrand::Mastercard), None);
    }

    /// The decision row by row: stage, enrolled, PAResStatus, SignatureVerification → what the checkout does.
    #[test]
    fn decision_table() {
        use {ActionCode::*, Decision::*, Refusal::*};
        let (e, p, s) = (Some(Enrolled::Y), |p| Some(p), Some(SignatureVerification::Y));
        let lookup = Stage::Lookup;
        let after = |a| Stage::Challenge(Some(a));
        let rows = [
            (lookup, e, p(PaResStatus::C), s, Challenge),
            (lookup, e, p(PaResStatus::Y), s, PayAuthenticated),
            (lookup, e, p(PaResStatus::A), s, PayAuthenticated),
            (lookup, e, p(PaResStatus::Y), Some(SignatureVerification::N), PolicyDecides),
            (lookup, e, p(PaResStatus::A), None, PolicyDecides),
            (lookup, Some(Enrolled::B), p(PaResStatus::Y), s, PolicyDecides),
            (lookup, None, p(PaResStatus::Y), s, PolicyDecides),
            (lookup, e, p(PaResStatus::U), s, PolicyDecides),
            (lookup, Some(Enrolled::U), None, None, PolicyDecides),
            (lookup, e, p(PaResStatus::N), s, Refuse(NotAuthenticated)),
            (lookup, e, p(PaResStatus::R), s, Refuse(NotAuthenticated)),
            (after(Success), e, p(PaResStatus::Y), s, PayAuthenticated),
            (after(Success), e, p(PaResStatus::A), s, PayAuthenticated),
            (after(Success), e, p(PaResStatus::Y), Some(SignatureVerification::N), PolicyDecides),
            (after(Success), Some(Enrolled::N), p(PaResStatus::Y), s, PolicyDecides),
            (after(Success), e, p(PaResStatus::U), s, Refuse(ChallengeNotPassed)),
            (after(Success), e, p(PaResStatus::C), s, Refuse(ChallengeNotPassed)),
            (after(Failure), e, p(PaResStatus::N), s, Refuse(NotAuthenticated)),
            (after(Failure), e, p(PaResStatus::Y), s, Refuse(NotAuthenticated)),
            (after(NoAction), e, p(PaResStatus::U), s, Refuse(ChallengeNotPassed)),
            (after(NoAction), e, p(PaResStatus::Y), s, Refuse(ChallengeNotPassed)),
            (after(Error), e, p(PaResStatus::U), None, Refuse(ChallengeNotPassed)),
            // Songbird's "Canceled by user": ERROR, PAResStatus still C or blank.
            (after(Error), e, p(PaResStatus::C), None, Refuse(ChallengeNotPassed)),
            (after(Error), e, None, None, Refuse(ChallengeNotPassed)),
            (after(Error), e, p(PaResStatus::R), None, Refuse(NotAuthenticated)),
            (Stage::Challenge(None), e, p(PaResStatus::Y), s, Refuse(ChallengeNotPassed)),
        ];
        for (stage, enrolled, pares, sig, expected) in rows {
            let outcome = ThreeDsOutcome { enrolled, pares_status: pares, signature_verification: sig, eci: None };
            assert_eq!(outcome.decide(stage), expected, "{stage:?} {enrolled:?} {pares:?} {sig:?}");
        }
    }

    /// Every stage × enrolled × PAResStatus × SignatureVerification keeps the rules that guard the money.
    #[test]
    fn no_combination_pays_what_it_must_not() {
        let stages: Vec<Stage> =
            std::iter::once(Stage::Lookup).chain(all(&ActionCode::ALL).into_iter().map(Stage::Challenge)).collect();
        let mut count = 0;
        for stage in stages {
            for enrolled in all(Enrolled::ALL) {
                for pares in all(PaResStatus::ALL) {
                    for sig in all(SignatureVerification::ALL) {
                        count += 1;
                        let outcome =
                            ThreeDsOutcome { enrolled, pares_status: pares, signature_verification: sig, eci: None };
                        let decision = outcome.decide(stage);
                        let label = format!("{stage:?} {enrolled:?} {pares:?} {sig:?}: {decision:?}");
                        let passed_challenge = matches!(stage, Stage::Challenge(Some(ActionCode::Success)))
                            && matches!(pares, Some(PaResStatus::Y | PaResStatus::A));
                        // Paying with an authentication is exactly a liability shift, at the lookup or after a
                        // passed challenge.
                        let pays_authenticated = decision == Decision::PayAuthenticated;
                        let shifted = outcome.liability_shift().is_shifted();
                        assert_eq!(
                            pays_authenticated,
                            shifted && (stage == Stage::Lookup || passed_challenge),
                            "{label}"
                        );
                        if pares.is_some_and(PaResStatus::forbids_authorization) {
                            assert_eq!(decision, Decision::Refuse(Refusal::NotAuthenticated), "{label}");
                        }
                        if matches!(stage, Stage::Challenge(_)) && !passed_challenge {
                            assert!(matches!(decision, Decision::Refuse(_)), "{label}");
                        }
                        assert_eq!(
                            decision == Decision::Challenge,
                            stage == Stage::Lookup && pares == Some(PaResStatus::C),
                            "{label}"
                        );
                    }
                }
            }
        }
        assert_eq!(count, 6 * 5 * 7 * 3);
    }

    #[test]
    fn action_codes_parse_and_unknown_is_none() {
        for (word, code) in ["SUCCESS", "NOACTION", "FAILURE", "ERROR"].into_iter().zip(ActionCode::ALL) {
            assert_eq!(ActionCode::parse(word), Some(code));
        }
        assert_eq!(ActionCode::parse("success"), None);
        assert_eq!(ActionCode::parse(""), None);
    }
}
