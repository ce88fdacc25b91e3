//! The cards a shopper can try in sandbox mode, as the checkout page lists them (a provider's test mode would
//! show the same): for the configured roles only, each with what the sandbox does with it.

use crate::domain::checkout::TestCard;
use crate::server::{config::Roles, db::orders::Provider};

/// Verifone's 3-D Secure service (the Cardinal test matrix), then the payment.
const VERIFONE_3DS: [(&str, &str); 6] = [
    ("4000000000001000", "Frictionless: authenticated, paid"),
    ("4000000000001091", "Challenge: enter code 1234 to pass"),
    ("4000000000001109", "Challenge that fails"),
    ("4000000000001018", "Frictionless, not authenticated: declined"),
    ("4000000000001034", "3-D Secure unavailable: declined (or paid without liability shift, by policy)"),
    ("4000000000001075", "The 3-D Secure lookup times out"),
];

/// Bambora running 3-D Secure inside its payment.
const BAMBORA_3DS: [(&str, &str); 6] = [
    ("4030000010001234", "Frictionless: authenticated, paid"),
    ("4716519788977219", "3-D Secure 2 challenge at the bank: password 12345"),
    ("4123450131003312", "3-D Secure 1 challenge at the bank: password 12345"),
    ("4635691262664247", "3-D Secure fails (311): declined"),
    ("4003050500040005", "Declined by the issuer"),
    ("4030000010004006", "Slow: paid, its answer held (shown as being confirmed)"),
];

/// Bambora paying after Verifone's 3-D Secure (own process).
const BAMBORA_PAYMENT: [(&str, &str); 1] = [("4003050500040005", "Authenticated, then declined by the issuer")];

pub fn test_cards(roles: Roles) -> Vec<TestCard> {
    let mut cards: Vec<(&str, &str)> = match roles.threeds {
        Provider::Verifone => VERIFONE_3DS.to_vec(),
        Provider::Bambora => BAMBORA_3DS.to_vec(),
    };
    if roles.threeds != roles.payment && roles.payment == Provider::Bambora {
        cards.extend(BAMBORA_PAYMENT);
    }
    cards.into_iter().map(|(number, does)| TestCard { number: number.into(), does: does.into() }).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::card::CardNumber;

    #[test]
    fn every_listed_card_is_a_valid_number_and_each_configuration_has_its_own_list() {
        let roles = |payment, threeds| Roles { payment, threeds };
        for (payment, threeds) in [
            (Provider::Verifone, Provider::Verifone),
            (Provider::Bambora, Provider::Bambora),
            (Provider::Bambora, Provider::Verifone),
        ] {
            let cards = test_cards(roles(payment, threeds));
            assert!(cards.len() >= 5, "{payment:?}/{threeds:?}");
            for c in &cards {
                assert!(CardNumber::parse(&c.number).is_ok(), "{}", c.number);
            }
        }
        let bambora = test_cards(roles(Provider::Bambora, Provider::Bambora));
        assert!(bambora.iter().any(|c| c.does.contains("password 12345")));
        assert!(!bambora.iter().any(|c| c.does.contains("1234 ")), "no Verifone card in Bambora's list");
    }
}
