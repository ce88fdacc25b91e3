//! A saved card as the shopper sees it, and how a checkout pays with one. The acquirer's token never leaves
//! the server: the page names a saved card by our id.

use super::card::CardBrand;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedCardView {
    pub id: String,
    pub brand: CardBrand,
    pub last4: String,
    pub expiry_month: u8,
    pub expiry_year: u16,
}

impl SavedCardView {
    /// "Visa ending 1111, expires 01/29".
    pub fn label(&self) -> String {
        format!(
            "{} ending {}, expires {:02}/{:02}",
            self.brand.display_name(),
            self.last4,
            self.expiry_month,
            self.expiry_year % 100
        )
    }
}

/// A checkout paid with a saved card: which one (the shopper's confirmed session must own it), and the CVV
/// the shopper typed again, encrypted in the browser to the acquirer's key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedCardPayment {
    pub card_id: String,
    pub encrypted_cvv: String,
}

/// Normalizes an email for matching saved cards: trimmed, lower-cased.
pub fn email_key(email: &str) -> String {
    email.trim().to_ascii_lowercase()
}

/// The last four characters of a reuse token: all the merchant, a log or the timeline is ever shown of it.
pub fn token_last_four(token: &str) -> &str {
    let start = token.char_indices().rev().nth(3).map_or(0, |(i, _)| i);
    &token[start..]
}

/// Whether a one-time code is six ASCII digits.
pub fn is_code(code: &str) -> bool {
    code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_six_digits() {
        assert!(is_code("012345"));
        assert!(!is_code("12345"));
        assert!(!is_code("1234567"));
        assert!(!is_code("12345a"));
        assert!(!is_code("１２３４５６"));
    }

    #[test]
    fn a_card_is_labelled_without_more_than_its_last_four() {
        let card = SavedCardView {
            id: "x".into(),
            brand: CardBrand::Visa,
            last4: "1111".into(),
            expiry_month: 1,
            expiry_year: 2029,
        };
        assert_eq!(card.label(), "Visa ending 1111, expires 01/29");
        assert_eq!(email_key("  Ada@Example.COM "), "ada@example.com");
        assert_eq!(token_last_four("tok_0123456789abcdef"), "cdef");
        assert_eq!(token_last_four("ab"), "ab");
    }
}
