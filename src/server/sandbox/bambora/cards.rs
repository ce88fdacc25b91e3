//! The Bambora test cards (README, "Bambora"), what 3-D Secure does for each, and the tables that turn an
//! authentication into the response's `3d_secure`, `eci` and `cavv_result`.

use crate::domain::card::CardBrand;

/// What a test card does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scenario {
    /// Approved; with 3-D Secure, frictionless and authenticated.
    Authenticated,
    /// Declined by the issuer (message 7).
    Declined,
    /// The bank page; a 3-D Secure 1 issuer, whatever version is asked for.
    Challenge1,
    /// The bank page; 3-D Secure 2 (1 if the payment asks for version 1).
    Challenge2,
    /// 3-D Secure 2 refuses the cardholder outright: 311, no bank page.
    Rejected,
    /// Frictionless, attempted (`status_id` 2) `[I]`.
    Attempted,
    /// The 3-D Secure service is unavailable (`status_id` 4, `error_id` 2) `[I]`.
    Unavailable,
    /// Approved, but the answer is held for the sandbox's timeout delay `[I]`.
    Slow,
    /// Any other card: approved, its issuer does not take part in 3-D Secure.
    NonParticipating,
}

/// The published test cards and the sandbox's own `[I]` ones (chosen in the published approved card's range).
pub const TEST_CARDS: [(&str, Scenario); 14] = [
    ("4030000010001234", Scenario::Authenticated),
    ("5100000010001004", Scenario::Authenticated),
    ("371100001000131", Scenario::Authenticated),
    ("4003050500040005", Scenario::Declined),
    ("5100000020002000", Scenario::Declined),
    ("342400001000180", Scenario::Declined),
    ("4123450131003312", Scenario::Challenge1),
    ("5105105105105100", Scenario::Challenge1),
    ("375987000000088", Scenario::Challenge1),
    ("4716519788977219", Scenario::Challenge2),
    ("4635691262664247", Scenario::Rejected),
    ("4030000010002000", Scenario::Attempted),
    ("4030000010003008", Scenario::Unavailable),
    ("4030000010004006", Scenario::Slow),
];

/// The bank page's password for every challenge card.
pub const BANK_PASSWORD: &str = "12345";

pub fn scenario(pan: &str) -> Scenario {
    TEST_CARDS.iter().find(|(card, _)| *card == pan).map_or(Scenario::NonParticipating, |(_, s)| *s)
}

/// What 3-D Secure answers a payment that asks for it (version 1 or 2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Authentication {
    Frictionless(Status),
    Challenge { version: u8 },
    Rejected,
}

impl Scenario {
    pub fn authentication(self, version: u8) -> Authentication {
        match self {
            Scenario::Authenticated => Authentication::Frictionless(Status::Authenticated),
            Scenario::Attempted => Authentication::Frictionless(Status::Attempted),
            Scenario::Unavailable => Authentication::Frictionless(Status::Unavailable),
            Scenario::Declined | Scenario::Slow | Scenario::NonParticipating => {
                Authentication::Frictionless(Status::NonParticipating)
            }
            Scenario::Challenge1 => Authentication::Challenge { version: 1 },
            Scenario::Challenge2 => Authentication::Challenge { version: version.min(2) },
            Scenario::Rejected => Authentication::Rejected,
        }
    }

    /// Whether the issuer declines the authorization, whatever the amount.
    pub fn declines(self) -> bool {
        self == Scenario::Declined
    }
}

/// The seed's `3d_secure.status_id` values and their texts; `error_id` 2 goes with `Unavailable`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    Authenticated,
    Attempted,
    NonParticipating,
    Unavailable,
}

/// The seed's `error_id` 2.
pub const ERROR_UNAVAILABLE: (u8, &str) = (2, "Service temporarily unavailable");

impl Status {
    pub fn id(self) -> u8 {
        match self {
            Status::Authenticated => 1,
            Status::Attempted => 2,
            Status::NonParticipating => 3,
            Status::Unavailable => 4,
        }
    }

    pub fn text(self) -> &'static str {
        match self {
            Status::Authenticated => "Authenticated",
            Status::Attempted => "Attempted",
            Status::NonParticipating => "Non participating",
            Status::Unavailable => "Failed",
        }
    }

    pub fn error(self) -> Option<(u8, &'static str)> {
        (self == Status::Unavailable).then_some(ERROR_UNAVAILABLE)
    }

    /// ECI as the 3DS 2.0 guide's status table gives it: Visa/Amex 5 and 6, Mastercard 2 and 1, else 7.
    pub fn eci(self, brand: CardBrand) -> u8 {
        match (self, brand) {
            (Status::Authenticated, CardBrand::Mastercard) => 2,
            (Status::Authenticated, _) => 5,
            (Status::Attempted, CardBrand::Mastercard) => 1,
            (Status::Attempted, _) => 6,
            (Status::NonParticipating | Status::Unavailable, _) => 7,
        }
    }

    /// Visa's CAVV result codes: 2 authentication, 3 attempt verified; none without a CAVV `[I]`.
    pub fn cavv_result(self) -> Option<u8> {
        match self {
            Status::Authenticated => Some(CAVV_AUTHENTICATION),
            Status::Attempted => Some(CAVV_ATTEMPT),
            Status::NonParticipating | Status::Unavailable => None,
        }
    }
}

pub const CAVV_AUTHENTICATION: u8 = 2;
pub const CAVV_ATTEMPT: u8 = 3;

/// The ECI of a payment made without 3-D Secure (plain e-commerce).
pub const ECI_NONE: u8 = 7;

/// `card_type`: AM, DI, JB, MC, NN, VI, PV, MD.
pub fn card_type(brand: CardBrand) -> &'static str {
    match brand {
        CardBrand::Visa => "VI",
        CardBrand::Mastercard => "MC",
        CardBrand::Amex => "AM",
        CardBrand::Discover => "NN",
        CardBrand::Jcb => "JB",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::card::CardNumber;

    #[test]
    fn every_test_card_is_a_valid_card() {
        for (pan, _) in TEST_CARDS {
            assert!(CardNumber::parse(pan).is_ok(), "{pan}");
        }
    }

    #[test]
    fn cards_decide_the_authentication() {
        let auth = |pan: &str, version| scenario(pan).authentication(version);
        assert_eq!(auth("4030000010001234", 2), Authentication::Frictionless(Status::Authenticated));
        assert_eq!(auth("4123450131003312", 2), Authentication::Challenge { version: 1 });
        assert_eq!(auth("4716519788977219", 2), Authentication::Challenge { version: 2 });
        assert_eq!(auth("4716519788977219", 1), Authentication::Challenge { version: 1 });
        assert_eq!(auth("4635691262664247", 2), Authentication::Rejected);
        assert_eq!(auth("4030000010002000", 2), Authentication::Frictionless(Status::Attempted));
        assert_eq!(auth("4030000010003008", 2), Authentication::Frictionless(Status::Unavailable));
        assert_eq!(auth("4111111111111111", 2), Authentication::Frictionless(Status::NonParticipating));
        assert!(scenario("342400001000180").declines());
        assert!(!scenario("371100001000131").declines());
        assert_eq!(scenario("4030000010004006"), Scenario::Slow);
    }

    #[test]
    fn status_table() {
        let row = |s: Status, b| (s.id(), s.text(), s.eci(b), s.cavv_result(), s.error().map(|e| e.0));
        assert_eq!(row(Status::Authenticated, CardBrand::Visa), (1, "Authenticated", 5, Some(2), None));
        assert_eq!(row(Status::Authenticated, CardBrand::Mastercard), (1, "Authenticated", 2, Some(2), None));
        assert_eq!(row(Status::Attempted, CardBrand::Amex), (2, "Attempted", 6, Some(3), None));
        assert_eq!(row(Status::Attempted, CardBrand::Mastercard), (2, "Attempted", 1, Some(3), None));
        assert_eq!(row(Status::NonParticipating, CardBrand::Visa), (3, "Non participating", 7, None, None));
        assert_eq!(row(Status::Unavailable, CardBrand::Visa), (4, "Failed", 7, None, Some(2)));
        assert_eq!(card_type(CardBrand::Amex), "AM");
    }
}
