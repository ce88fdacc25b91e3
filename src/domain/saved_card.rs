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

/// A shopper whose email a code confirmed (the session cookie says so), and that email's saved cards.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedShopper {
    pub email: String,
    pub cards: Vec<SavedCardView>,
}

/// What the checkout says after one of its saved-card forms was posted. The forms redirect back to the page
/// with one of these words in its address: a fixed set, so the address never carries a sentence to show.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SavedCardsNotice {
    CodeSent,
    BadEmail,
    TooMany,
    WrongCode,
    Confirmed,
    NoCards,
    Removed,
    NotConfirmed,
    NotFound,
    Off,
    Failed,
}

impl SavedCardsNotice {
    const ALL: [SavedCardsNotice; 11] = [
        SavedCardsNotice::CodeSent,
        SavedCardsNotice::BadEmail,
        SavedCardsNotice::TooMany,
        SavedCardsNotice::WrongCode,
        SavedCardsNotice::Confirmed,
        SavedCardsNotice::NoCards,
        SavedCardsNotice::Removed,
        SavedCardsNotice::NotConfirmed,
        SavedCardsNotice::NotFound,
        SavedCardsNotice::Off,
        SavedCardsNotice::Failed,
    ];

    /// The word in the page's address (`?saved=code_sent`).
    pub fn as_str(self) -> &'static str {
        match self {
            SavedCardsNotice::CodeSent => "code_sent",
            SavedCardsNotice::BadEmail => "bad_email",
            SavedCardsNotice::TooMany => "too_many",
            SavedCardsNotice::WrongCode => "wrong_code",
            SavedCardsNotice::Confirmed => "confirmed",
            SavedCardsNotice::NoCards => "no_cards",
            SavedCardsNotice::Removed => "removed",
            SavedCardsNotice::NotConfirmed => "not_confirmed",
            SavedCardsNotice::NotFound => "not_found",
            SavedCardsNotice::Off => "off",
            SavedCardsNotice::Failed => "failed",
        }
    }

    pub fn parse(word: &str) -> Option<SavedCardsNotice> {
        SavedCardsNotice::ALL.into_iter().find(|n| n.as_str() == word)
    }

    /// Whether it reports a refusal (shown as an alert) rather than a step done.
    pub fn is_problem(self) -> bool {
        !matches!(
            self,
            SavedCardsNotice::CodeSent
                | SavedCardsNotice::Confirmed
                | SavedCardsNotice::NoCards
                | SavedCardsNotice::Removed
        )
    }

    pub fn message(self) -> &'static str {
        match self {
            SavedCardsNotice::CodeSent => "If this email has saved cards, a code is on its way to it.",
            SavedCardsNotice::BadEmail => "Enter an email address such as name@example.com.",
            SavedCardsNotice::TooMany => "Too many codes have been asked for; please wait a while, then try again.",
            SavedCardsNotice::WrongCode => "That code is not right or has expired; ask for a new one.",
            SavedCardsNotice::Confirmed => "Email confirmed.",
            SavedCardsNotice::NoCards => "This email has no saved cards.",
            SavedCardsNotice::Removed => "Card removed.",
            SavedCardsNotice::NotConfirmed => "Confirm your email first.",
            SavedCardsNotice::NotFound => "There is no such saved card.",
            SavedCardsNotice::Off => "Saved cards are not offered here.",
            SavedCardsNotice::Failed => "Something went wrong on our side; please try again.",
        }
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

    #[test]
    fn notices_round_trip_through_the_address() {
        for n in SavedCardsNotice::ALL {
            assert_eq!(SavedCardsNotice::parse(n.as_str()), Some(n));
        }
        assert_eq!(SavedCardsNotice::parse("<script>"), None);
    }
}
