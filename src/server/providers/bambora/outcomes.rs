//! What Bambora's answers mean, mapped once: every `message_id` (and error `code`, the same numbering) to an
//! outcome and a sentence a shopper or merchant can read; the `3d_secure` status and the card's ECI to
//! whether liability shifted.
//!
//! Sources: the seed and PROVIDERS.md `[P]` (1, 7, 16, 52, 191, 194, 203, 208, 311, 314, 559, 788), the
//! reference's gateway response codes `[P]` (14, 21, 22, 26, 49, 50, 51), the README's published sandbox
//! conventions (192–200, 317, 825, 936). Bambora says to map message ids, never message strings.

use crate::domain::card::CardBrand;
use crate::domain::threeds::{Eci, EciMeaning};
use crate::server::providers::DeclineReason;

/// What a message id means for the request that got it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Approved,
    /// The issuer (or the gateway for it) said no: the shopper may try another card.
    Declined(DeclineReason),
    /// The card details themselves are wrong: the shopper can correct them.
    InvalidCard,
    /// The single-use card token is unknown, expired or used: the card must be entered again.
    TokenUnusable,
    /// 3-D Secure authentication failed or was refused (311).
    ThreeDsFailed,
    /// Our request was malformed or incomplete: a bug on our side, not the shopper's.
    InvalidRequest,
    /// The transaction or order number was already processed.
    Duplicate,
    /// A business rule refused the operation (over-refund, completing twice, completing more than held).
    NotAllowed,
    /// No transaction with that id.
    NotFound,
    /// Our credentials were refused.
    Unauthorized,
    /// A message id this table does not know.
    Unrecognized,
}

/// The one message-id table: outcome and a plain-language reason. Exhaustive by construction (`_` is
/// `Unrecognized`), so a new id is a one-line change here and nowhere else.
pub fn message(message_id: i64) -> (Outcome, &'static str) {
    use Outcome::*;
    match message_id {
        1 => (Approved, "Approved."),
        7 | 51 => (Declined(DeclineReason::Issuer), "The card issuer declined the payment. Try another card."),
        14 | 26 => (InvalidCard, "The card's expiry date is not valid."),
        52 => (InvalidCard, "The card number is not valid."),
        936 => (TokenUnusable, "The card details expired before the payment was sent. Enter the card again."),
        311 => (
            ThreeDsFailed,
            "The card issuer could not confirm it is you (3-D Secure failed). Try again or use another card.",
        ),
        16 => (Duplicate, "This transaction was already processed."),
        788 => (Duplicate, "This order number was already used for a payment."),
        21 => (InvalidRequest, "The amount is below the minimum the account accepts."),
        22 => (InvalidRequest, "The amount is above the maximum the account accepts."),
        49 | 50 => (InvalidRequest, "The payment provider could not read the request."),
        191 => (InvalidRequest, "The amount is not valid."),
        314 => (InvalidRequest, "Payment information is missing or invalid."),
        825 => (InvalidRequest, "The 3-D Secure return address (term_url) is missing or invalid."),
        194 => (NotAllowed, "The refund is more than what is left to refund on this payment."),
        203 => (NotAllowed, "This pre-authorization was already completed."),
        208 => (NotAllowed, "The capture is more than the pre-authorized amount."),
        192 | 193 | 195..=200 => (NotAllowed, "The payment provider does not allow this operation on this payment."),
        559 => (NotFound, "The payment provider has no transaction with this id."),
        317 => (Unauthorized, "The payment provider refused our credentials."),
        _ => (Unrecognized, "The payment provider refused the request."),
    }
}

/// `3d_secure.status_id` (seed: 1 Authenticated, 2 Attempted, 3 Non participating, 4 Failed).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ThreeDsStatus {
    Authenticated,
    Attempted,
    NonParticipating,
    Failed,
}

impl ThreeDsStatus {
    pub fn from_id(id: i64) -> Option<ThreeDsStatus> {
        match id {
            1 => Some(ThreeDsStatus::Authenticated),
            2 => Some(ThreeDsStatus::Attempted),
            3 => Some(ThreeDsStatus::NonParticipating),
            4 => Some(ThreeDsStatus::Failed),
            _ => None,
        }
    }
}

impl ThreeDsStatus {
    /// In the EMV letters the order keeps: whether the card takes part (`enrolled`), and the authentication's
    /// transaction status (none when it did not take part).
    pub fn letters(self) -> (&'static str, Option<&'static str>) {
        match self {
            ThreeDsStatus::Authenticated => ("Y", Some("Y")),
            ThreeDsStatus::Attempted => ("Y", Some("A")),
            ThreeDsStatus::NonParticipating => ("N", None),
            // Bambora's "failed" is 3-D Secure that could not run (error_id: disabled, unavailable, error).
            ThreeDsStatus::Failed => ("U", Some("U")),
        }
    }
}

/// Why liability did or did not shift, in the merchant's words: stored with the order's 3-D Secure result.
pub fn liability_reason(status: Option<ThreeDsStatus>, eci: EciSeen, liability: Liability) -> &'static str {
    use ThreeDsStatus::*;
    match (liability, status, eci) {
        (Liability::Authenticated, _, _) => "The issuer authenticated the cardholder: liability moved to the issuer.",
        (Liability::Attempted, _, _) => {
            "Authentication was attempted (the issuer or its stand-in vouched for it): liability moved to the issuer."
        }
        (Liability::Merchant, Some(NonParticipating), _) => {
            "The card does not take part in 3-D Secure: liability stays with the merchant."
        }
        (Liability::Merchant, Some(Failed), _) => "3-D Secure could not run: liability stays with the merchant.",
        (Liability::Merchant, Some(Authenticated | Attempted), _) => {
            "Bambora's 3-D Secure status and the ECI disagree: liability stays with the merchant."
        }
        (Liability::Merchant, None, EciSeen::Absent) => {
            "Bambora reported no 3-D Secure result: liability stays with the merchant."
        }
        (Liability::Merchant, None, EciSeen::Known(_) | EciSeen::Unrecognized) => {
            "The ECI does not show an authentication: liability stays with the merchant."
        }
    }
}

/// `3d_secure.error_id` when the status is Failed (seed).
pub fn threeds_error(error_id: i64) -> &'static str {
    match error_id {
        1 => "3-D Secure is not enabled for this account.",
        2 => "3-D Secure was temporarily unavailable.",
        3 => "3-D Secure had an internal error.",
        _ => "3-D Secure failed for an unstated reason.",
    }
}

/// The card's ECI as Bambora writes it (one digit, `5`), read by the brand's convention: Visa, Amex and
/// the others 5 / 6 / 7, Mastercard 2 / 1 / 0 (README; the 3-D Secure 2 guide's table).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EciSeen {
    Absent,
    Known(EciMeaning),
    /// A value that is not one of the brand's three (or no brand to read it by): trusted as nothing.
    Unrecognized,
}

impl EciSeen {
    pub fn read(eci: Option<i64>, brand: Option<CardBrand>) -> EciSeen {
        let (Some(eci), Some(brand)) = (eci, brand) else {
            return if eci.is_some() { EciSeen::Unrecognized } else { EciSeen::Absent };
        };
        Eci::parse(&format!("{eci:02}")).and_then(|e| e.meaning(brand)).map_or(EciSeen::Unrecognized, EciSeen::Known)
    }
}

/// The ECI to send with an "own process" payment: one digit, by the brand's convention (the seed's "5 –
/// authenticated; 6 – attempted" is Visa's; Mastercard's are 2 and 1).
pub fn own_process_eci(brand: CardBrand, meaning: EciMeaning) -> u8 {
    Eci::for_outcome(brand, meaning).code().parse().expect("ECI codes are two digits")
}

/// Whether fraud liability moved to the issuer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Liability {
    /// Fully authenticated: shifted.
    Authenticated,
    /// Authentication attempted (the issuer or its stand-in vouched): shifted.
    Attempted,
    /// Stays with the merchant.
    Merchant,
}

impl Liability {
    pub fn is_shifted(self) -> bool {
        matches!(self, Liability::Authenticated | Liability::Attempted)
    }

    /// One exhaustive match over the 3-D Secure status (3DS2 answers) and the ECI (3DS1 and "own process"
    /// answers carry only that). When both are present they must agree; a disagreement counts as the
    /// weaker of the two `[I]`.
    pub fn decide(status: Option<ThreeDsStatus>, eci: EciSeen) -> Liability {
        use EciMeaning::{Attempted as EciAttempted, FullyAuthenticated as EciFull, NotAuthenticated as EciNone};
        use EciSeen::{Absent, Known, Unrecognized};
        use ThreeDsStatus::*;
        match (status, eci) {
            (Some(Authenticated), Absent | Known(EciFull)) => Liability::Authenticated,
            (Some(Authenticated), Known(EciAttempted)) => Liability::Attempted,
            (Some(Attempted), Absent | Known(EciFull | EciAttempted)) => Liability::Attempted,
            (Some(Authenticated | Attempted), Known(EciNone) | Unrecognized) => Liability::Merchant,
            (Some(NonParticipating | Failed), _) => Liability::Merchant,
            (None, Known(EciFull)) => Liability::Authenticated,
            (None, Known(EciAttempted)) => Liability::Attempted,
            (None, Absent | Known(EciNone) | Unrecognized) => Liability::Merchant,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn threeds_status_letters_table() {
        use ThreeDsStatus::*;
        let table = [
            (Authenticated, ("Y", Some("Y"))),
            (Attempted, ("Y", Some("A"))),
            (NonParticipating, ("N", None)),
            (Failed, ("U", Some("U"))),
        ];
        for (status, letters) in table {
            assert_eq!(status.letters(), letters, "{status:?}");
        }
    }

    #[test]
    fn the_liability_reason_matches_the_decision() {
        use ThreeDsStatus::*;
        let full = EciSeen::Known(EciMeaning::FullyAuthenticated);
        let none = EciSeen::Known(EciMeaning::NotAuthenticated);
        for (status, eci) in [
            (Some(Authenticated), full),
            (Some(Attempted), EciSeen::Absent),
            (Some(NonParticipating), none),
            (Some(Failed), EciSeen::Absent),
            (Some(Authenticated), none),
            (None, EciSeen::Absent),
            (None, EciSeen::Unrecognized),
        ] {
            let liability = Liability::decide(status, eci);
            let reason = liability_reason(status, eci, liability);
            assert_eq!(reason.contains("moved to the issuer"), liability.is_shifted(), "{status:?} {eci:?}: {reason}");
        }
    }

    #[test]
    fn message_id_table() {
        use Outcome::*;
        let table = [
            (1, Approved),
            (7, Declined(DeclineReason::Issuer)),
            (51, Declined(DeclineReason::Issuer)),
            (14, InvalidCard),
            (26, InvalidCard),
            (52, InvalidCard),
            (936, TokenUnusable),
            (311, ThreeDsFailed),
            (16, Duplicate),
            (788, Duplicate),
            (21, InvalidRequest),
            (22, InvalidRequest),
            (49, InvalidRequest),
            (50, InvalidRequest),
            (191, InvalidRequest),
            (314, InvalidRequest),
            (825, InvalidRequest),
            (192, NotAllowed),
            (193, NotAllowed),
            (194, NotAllowed),
            (195, NotAllowed),
            (200, NotAllowed),
            (203, NotAllowed),
            (208, NotAllowed),
            (559, NotFound),
            (317, Unauthorized),
            (0, Unrecognized),
            (2, Unrecognized),
            (201, Unrecognized),
            (99999, Unrecognized),
            (-1, Unrecognized),
        ];
        for (id, outcome) in table {
            let (got, reason) = message(id);
            assert_eq!(got, outcome, "message id {id}");
            assert!(reason.ends_with('.') && reason.len() > 8, "{id}: a sentence: {reason}");
            assert!(!reason.contains("message_id"), "{id}: plain language: {reason}");
        }
    }

    #[test]
    fn threeds_status_ids() {
        let table = [
            (1, Some(ThreeDsStatus::Authenticated)),
            (2, Some(ThreeDsStatus::Attempted)),
            (3, Some(ThreeDsStatus::NonParticipating)),
            (4, Some(ThreeDsStatus::Failed)),
            (0, None),
            (5, None),
        ];
        for (id, status) in table {
            assert_eq!(ThreeDsStatus::from_id(id), status, "{id}");
        }
        for (id, reason) in [(1, "not enabled"), (2, "temporarily unavailable"), (3, "internal error"), (9, "unstated")]
        {
            assert!(threeds_error(id).contains(reason), "{id}");
        }
    }

    #[test]
    fn eci_is_read_and_written_by_brand() {
        use CardBrand::*;
        use EciMeaning::*;
        let read = [
            (Some(5), Some(Visa), EciSeen::Known(FullyAuthenticated)),
            (Some(6), Some(Visa), EciSeen::Known(Attempted)),
            (Some(7), Some(Visa), EciSeen::Known(NotAuthenticated)),
            (Some(5), Some(Amex), EciSeen::Known(FullyAuthenticated)),
            (Some(2), Some(Mastercard), EciSeen::Known(FullyAuthenticated)),
            (Some(1), Some(Mastercard), EciSeen::Known(Attempted)),
            (Some(0), Some(Mastercard), EciSeen::Known(NotAuthenticated)),
            (Some(5), Some(Mastercard), EciSeen::Unrecognized),
            (Some(2), Some(Visa), EciSeen::Unrecognized),
            (Some(5), None, EciSeen::Unrecognized),
            (None, Some(Visa), EciSeen::Absent),
            (None, None, EciSeen::Absent),
        ];
        for (eci, brand, seen) in read {
            assert_eq!(EciSeen::read(eci, brand), seen, "{eci:?} {brand:?}");
        }
        let write = [
            (Visa, FullyAuthenticated, 5),
            (Visa, Attempted, 6),
            (Amex, FullyAuthenticated, 5),
            (Jcb, Attempted, 6),
            (Mastercard, FullyAuthenticated, 2),
            (Mastercard, Attempted, 1),
        ];
        for (brand, meaning, eci) in write {
            assert_eq!(own_process_eci(brand, meaning), eci, "{brand:?} {meaning:?}");
        }
    }

    #[test]
    fn liability_table() {
        use Liability as L;
        use ThreeDsStatus::*;
        let full = EciSeen::Known(EciMeaning::FullyAuthenticated);
        let attempted = EciSeen::Known(EciMeaning::Attempted);
        let none = EciSeen::Known(EciMeaning::NotAuthenticated);
        let (absent, odd) = (EciSeen::Absent, EciSeen::Unrecognized);
        let table = [
            (Some(Authenticated), absent, L::Authenticated),
            (Some(Authenticated), full, L::Authenticated),
            (Some(Authenticated), attempted, L::Attempted),
            (Some(Authenticated), none, L::Merchant),
            (Some(Authenticated), odd, L::Merchant),
            (Some(Attempted), absent, L::Attempted),
            (Some(Attempted), full, L::Attempted),
            (Some(Attempted), attempted, L::Attempted),
            (Some(Attempted), none, L::Merchant),
            (Some(Attempted), odd, L::Merchant),
            (Some(NonParticipating), absent, L::Merchant),
            (Some(NonParticipating), full, L::Merchant),
            (Some(Failed), absent, L::Merchant),
            (Some(Failed), full, L::Merchant),
            (None, full, L::Authenticated),
            (None, attempted, L::Attempted),
            (None, none, L::Merchant),
            (None, odd, L::Merchant),
            (None, absent, L::Merchant),
        ];
        for (status, eci, liability) in table {
            assert_eq!(Liability::decide(status, eci), liability, "{status:?} {eci:?}");
            assert_eq!(liability.is_shifted(), liability != L::Merchant);
        }
    }
}
