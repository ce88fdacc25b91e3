//! Card data types. A full card number or CVV exists only in the shopper's browser and inside the sandbox
//! (which plays the provider); neither type can be printed, serialized or logged in the clear.

use super::customer::FieldError;
use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum CardBrand {
    Visa,
    Mastercard,
    Amex,
    Discover,
    Jcb,
}

impl CardBrand {
    pub const ALL: [CardBrand; 5] =
        [CardBrand::Visa, CardBrand::Mastercard, CardBrand::Amex, CardBrand::Discover, CardBrand::Jcb];

    /// The brand a card number's leading digits belong to, if we accept it. Works on a partial number.
    pub fn from_prefix(digits: &str) -> Option<CardBrand> {
        let p = |n: usize| digits.get(..n).and_then(|s| s.parse::<u32>().ok());
        if digits.starts_with('4') {
            return Some(CardBrand::Visa);
        }
        if matches!(p(2), Some(34 | 37)) {
            return Some(CardBrand::Amex);
        }
        if matches!(p(2), Some(51..=55)) || matches!(p(4), Some(2221..=2720)) {
            return Some(CardBrand::Mastercard);
        }
        if matches!(p(4), Some(6011)) || matches!(p(2), Some(64 | 65)) || matches!(p(6), Some(622126..=622925)) {
            return Some(CardBrand::Discover);
        }
        if matches!(p(4), Some(3528..=3589)) {
            return Some(CardBrand::Jcb);
        }
        None
    }

    /// Upper-case name as Verifone's `card_brand` field spells it.
    pub fn code(self) -> &'static str {
        match self {
            CardBrand::Visa => "VISA",
            CardBrand::Mastercard => "MASTERCARD",
            CardBrand::Amex => "AMEX",
            CardBrand::Discover => "DISCOVER",
            CardBrand::Jcb => "JCB",
        }
    }

    pub fn parse(code: &str) -> Option<CardBrand> {
        CardBrand::ALL.into_iter().find(|b| b.code().eq_ignore_ascii_case(code.trim()))
    }

    pub fn display_name(self) -> &'static str {
        match self {
            CardBrand::Visa => "Visa",
            CardBrand::Mastercard => "Mastercard",
            CardBrand::Amex => "American Express",
            CardBrand::Discover => "Discover",
            CardBrand::Jcb => "JCB",
        }
    }

    pub fn cvv_len(self) -> usize {
        if self == CardBrand::Amex { 4 } else { 3 }
    }

    fn valid_lengths(self) -> &'static [usize] {
        match self {
            CardBrand::Visa => &[13, 16, 19],
            CardBrand::Mastercard => &[16],
            CardBrand::Amex => &[15],
            CardBrand::Discover | CardBrand::Jcb => &[16, 17, 18, 19],
        }
    }
}

impl fmt::Display for CardBrand {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.display_name())
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CardError {
    #[error("enter the card number")]
    Empty,
    #[error("a card number has only digits")]
    NotDigits,
    #[error("this card number is too short or too long")]
    Length,
    #[error("this card number is not valid; check the digits")]
    Luhn,
    #[error("this card brand is not accepted")]
    UnsupportedBrand,
    #[error("enter the expiry as MM/YY")]
    ExpiryMalformed,
    #[error("this card has expired")]
    Expired,
    #[error("enter the security code from the card")]
    CvvMalformed,
}

/// A full primary account number, checked: 12–19 digits, Luhn-valid, of an accepted brand.
#[derive(Clone, PartialEq, Eq)]
pub struct CardNumber {
    digits: String,
    brand: CardBrand,
}

impl CardNumber {
    /// Accepts the number as typed: spaces and dashes are ignored.
    pub fn parse(input: &str) -> Result<CardNumber, CardError> {
        let digits: String = input.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
        if digits.is_empty() {
            return Err(CardError::Empty);
        }
        if !digits.chars().all(|c| c.is_ascii_digit()) {
            return Err(CardError::NotDigits);
        }
        if !(12..=19).contains(&digits.len()) {
            return Err(CardError::Length);
        }
        if !luhn_valid(&digits) {
            return Err(CardError::Luhn);
        }
        let brand = CardBrand::from_prefix(&digits).ok_or(CardError::UnsupportedBrand)?;
        if !brand.valid_lengths().contains(&digits.len()) {
            return Err(CardError::Length);
        }
        Ok(CardNumber { digits, brand })
    }

    pub fn brand(&self) -> CardBrand {
        self.brand
    }

    pub fn bin6(&self) -> &str {
        &self.digits[..6]
    }

    pub fn last4(&self) -> &str {
        &self.digits[self.digits.len() - 4..]
    }

    /// "411111******1111": at most the first six and last four, as PCI DSS allows.
    pub fn masked(&self) -> String {
        mask(self.bin6(), self.last4(), self.digits.len())
    }

    /// The digits themselves: only for encrypting in the browser and for the sandbox playing the provider.
    pub fn expose(&self) -> &str {
        &self.digits
    }
}

fn mask(bin6: &str, last4: &str, len: usize) -> String {
    format!("{bin6}{}{last4}", "*".repeat(len.saturating_sub(10)))
}

impl fmt::Debug for CardNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CardNumber({})", self.masked())
    }
}

impl fmt::Display for CardNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked())
    }
}

pub fn luhn_valid(digits: &str) -> bool {
    let mut sum = 0u32;
    for (i, c) in digits.chars().rev().enumerate() {
        let Some(mut d) = c.to_digit(10) else { return false };
        if i % 2 == 1 {
            d *= 2;
            if d > 9 {
                d -= 9;
            }
        }
        sum += d;
    }
    !digits.is_empty() && sum % 10 == 0
}

/// A year and month, e.g. today's, to compare expiries against without reading a clock here.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct YearMonth {
    pub year: u16,
    pub month: u8,
}

/// A card's expiry (valid through the end of its month).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Expiry(YearMonth);

impl Expiry {
    /// Month 1–12 and a two- or four-digit year, not before `today`'s month.
    pub fn new(month: u8, year: u16, today: YearMonth) -> Result<Expiry, CardError> {
        let year = match year {
            0..=99 => 2000 + year,
            2000..=2099 => year,
            _ => return Err(CardError::ExpiryMalformed),
        };
        if !(1..=12).contains(&month) {
            return Err(CardError::ExpiryMalformed);
        }
        let ym = YearMonth { year, month };
        if ym < today {
            return Err(CardError::Expired);
        }
        if year > today.year + 20 {
            return Err(CardError::ExpiryMalformed);
        }
        Ok(Expiry(ym))
    }

    /// Parses "MM/YY", "MM / YY", "MMYY" or "MM/YYYY".
    pub fn parse(input: &str, today: YearMonth) -> Result<Expiry, CardError> {
        let digits: String = input.chars().filter(|c| c.is_ascii_digit()).collect();
        let rest_ok = input.chars().all(|c| c.is_ascii_digit() || c == '/' || c == ' ');
        if !rest_ok || !(digits.len() == 4 || digits.len() == 6) {
            return Err(CardError::ExpiryMalformed);
        }
        let month: u8 = digits[..2].parse().map_err(|_| CardError::ExpiryMalformed)?;
        let year: u16 = digits[2..].parse().map_err(|_| CardError::ExpiryMalformed)?;
        Expiry::new(month, year, today)
    }

    pub fn month(self) -> u8 {
        self.0.month
    }

    pub fn year(self) -> u16 {
        self.0.year
    }
}

impl fmt::Display for Expiry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}/{:02}", self.0.month, self.0.year % 100)
    }
}

/// A card security code. Deliberately has no Display and no Serialize; Debug hides it.
#[derive(Clone, PartialEq, Eq)]
pub struct Cvv(String);

impl Cvv {
    pub fn parse(input: &str, brand: CardBrand) -> Result<Cvv, CardError> {
        let s = input.trim();
        if s.len() != brand.cvv_len() || !s.chars().all(|c| c.is_ascii_digit()) {
            return Err(CardError::CvvMalformed);
        }
        Ok(Cvv(s.to_owned()))
    }

    /// Only for encrypting in the browser and for the sandbox playing the provider.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Cvv {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Cvv(***)")
    }
}

/// All we ever keep of a card: brand, first six, last four and expiry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CardSummary {
    pub brand: CardBrand,
    /// Unknown when the card was typed into a provider's own fields (Bambora's Custom Checkout tells its
    /// brand, last four and expiry only).
    pub bin6: Option<String>,
    pub last4: String,
    pub expiry_month: u8,
    pub expiry_year: u16,
}

impl CardSummary {
    pub fn of(card: &CardNumber, expiry: Expiry) -> CardSummary {
        CardSummary {
            brand: card.brand(),
            bin6: Some(card.bin6().to_owned()),
            last4: card.last4().to_owned(),
            expiry_month: expiry.month(),
            expiry_year: expiry.year(),
        }
    }

    /// What the browser says of the card, checked again: brand, first six and last four as the card number
    /// would give them, and an expiry not passed. The year comes back in full ("30" is 2030), as it is stored.
    pub fn validated(self, today: YearMonth) -> Result<CardSummary, FieldError> {
        let digits = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_digit());
        let bin_ok =
            self.bin6.as_deref().is_none_or(|bin6| digits(bin6, 6) && CardBrand::from_prefix(bin6) == Some(self.brand));
        if !bin_ok || !digits(&self.last4, 4) {
            return Err(FieldError::new("card_number", "check the card number"));
        }
        let expiry = Expiry::new(self.expiry_month, self.expiry_year, today)
            .map_err(|e| FieldError::new("expiry", e.to_string()))?;
        Ok(CardSummary { expiry_month: expiry.month(), expiry_year: expiry.year(), ..self })
    }

    /// "Visa •••• 1111".
    pub fn label(&self) -> String {
        format!("{} •••• {}", self.brand, self.last4)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const TODAY: YearMonth = YearMonth { year: 2026, month: 11 };

    #[test]
    fn detects_brands_including_mastercard_2_series() {
        let cases = [
            ("4000000000001000", CardBrand::Visa),
            ("5200000000001005", CardBrand::Mastercard),
            ("2221000000000009", CardBrand::Mastercard),
            ("2720990000000007", CardBrand::Mastercard),
            ("340000000001007", CardBrand::Amex),
            ("371449635398431", CardBrand::Amex),
            ("6011000990139424", CardBrand::Discover),
            ("6500000000000002", CardBrand::Discover),
            ("3530111333300000", CardBrand::Jcb),
        ];
        for (pan, brand) in cases {
            assert_eq!(CardNumber::parse(pan).map(|c| c.brand()), Ok(brand), "{pan}");
        }
        assert_eq!(CardBrand::from_prefix("2220"), None);
        assert_eq!(CardBrand::from_prefix("2721"), None);
        assert_eq!(CardBrand::from_prefix("3"), None);
    }

    #[test]
    fn rejects_bad_numbers_with_a_reason() {
        assert_eq!(CardNumber::parse(""), Err(CardError::Empty));
        assert_eq!(CardNumber::parse("4000 0000 0000 100a"), Err(CardError::NotDigits));
        assert_eq!(CardNumber::parse("40000000001"), Err(CardError::Length));
        assert_eq!(CardNumber::parse("4000000000001001"), Err(CardError::Luhn));
        assert_eq!(CardNumber::parse("9000000000000001"), Err(CardError::UnsupportedBrand));
        assert_eq!(CardNumber::parse("4000-0000-0000-1000").map(|c| c.last4().to_owned()), Ok("1000".into()));
    }

    #[test]
    fn never_prints_the_full_number() {
        let card = CardNumber::parse("4111111111111111").unwrap();
        assert_eq!(format!("{card:?}"), "CardNumber(411111******1111)");
        assert_eq!(card.to_string(), "411111******1111");
        let cvv = Cvv::parse("737", CardBrand::Visa).unwrap();
        assert_eq!(format!("{cvv:?}"), "Cvv(***)");
    }

    #[test]
    fn cvv_length_depends_on_brand() {
        assert!(Cvv::parse("123", CardBrand::Visa).is_ok());
        assert!(Cvv::parse("1234", CardBrand::Visa).is_err());
        assert!(Cvv::parse("1234", CardBrand::Amex).is_ok());
        assert!(Cvv::parse("123", CardBrand::Amex).is_err());
        assert!(Cvv::parse("12a", CardBrand::Visa).is_err());
    }

    #[test]
    fn a_two_digit_year_is_stored_whole() {
        let summary = CardSummary {
            brand: CardBrand::Visa,
            bin6: Some("411111".into()),
            last4: "1111".into(),
            expiry_month: 1,
            expiry_year: 30,
        };
        assert_eq!(summary.clone().validated(TODAY).map(|s| s.expiry_year), Ok(2030));
        let wrong_brand = CardSummary { brand: CardBrand::Amex, ..summary.clone() };
        assert_eq!(wrong_brand.validated(TODAY).unwrap_err().field, "card_number");
        let expired = CardSummary { expiry_year: 2020, ..summary.clone() };
        assert_eq!(expired.validated(TODAY).unwrap_err(), FieldError::new("expiry", "this card has expired"));
        // A provider's own card fields tell no first six: the brand stands on its own.
        let fields = CardSummary { bin6: None, brand: CardBrand::Amex, ..summary };
        assert_eq!(fields.validated(TODAY).map(|s| (s.brand, s.bin6)), Ok((CardBrand::Amex, None)));
    }

    #[test]
    fn expiry_is_not_in_the_past() {
        assert_eq!(Expiry::parse("11/26", TODAY).map(|e| e.to_string()), Ok("11/26".into()));
        assert_eq!(Expiry::parse("10/26", TODAY), Err(CardError::Expired));
        assert_eq!(Expiry::parse("01/2029", TODAY).map(|e| (e.month(), e.year())), Ok((1, 2029)));
        assert_eq!(Expiry::parse("0129", TODAY).map(|e| e.year()), Ok(2029));
        assert_eq!(Expiry::parse("13/29", TODAY), Err(CardError::ExpiryMalformed));
        assert_eq!(Expiry::parse("00/29", TODAY), Err(CardError::ExpiryMalformed));
        assert_eq!(Expiry::parse("1/29", TODAY), Err(CardError::ExpiryMalformed));
        assert_eq!(Expiry::parse("01/60", TODAY), Err(CardError::ExpiryMalformed));
    }

    fn with_check_digit(body: &str) -> String {
        (0..10).map(|d| format!("{body}{d}")).find(|s| luhn_valid(s)).unwrap()
    }

    proptest! {
        #[test]
        fn exactly_one_check_digit_is_valid(body in "[0-9]{11,18}") {
            let valid = (0..10).filter(|d| luhn_valid(&format!("{body}{d}"))).count();
            prop_assert_eq!(valid, 1);
        }

        #[test]
        fn any_valid_visa_parses_and_masks(body in "4[0-9]{14}") {
            let pan = with_check_digit(&body);
            let card = CardNumber::parse(&pan).unwrap();
            let masked = card.masked();
            prop_assert_eq!(masked.len(), 16);
            let debug = format!("{:?}", card);
            prop_assert!(!debug.contains(&pan));
            prop_assert_eq!(&masked[..6], &pan[..6]);
            prop_assert_eq!(&masked[12..], &pan[12..]);
        }

        #[test]
        fn a_card_summary_is_checked_and_its_year_made_whole(
            bin6 in "4[0-9]{5}|5[1-5][0-9]{4}|3[47][0-9]{4}|6011[0-9]{2}|[0-9]{5,7}",
            brand in prop_oneof![Just(None), (0usize..CardBrand::ALL.len()).prop_map(Some)],
            last4 in "[0-9]{4}|[0-9a]{3,5}",
            month in prop_oneof![1u8..=12, any::<u8>()],
            year in prop_oneof![20u16..=50, 2020u16..=2050, any::<u16>()],
        ) {
            // Mostly the brand the first six name, so that many summaries are valid.
            let brand = brand.map_or(CardBrand::from_prefix(&bin6).unwrap_or(CardBrand::Visa), |i| CardBrand::ALL[i]);
            let summary = CardSummary { brand, bin6: Some(bin6), last4, expiry_month: month, expiry_year: year };
            if let Ok(s) = summary.clone().validated(TODAY) {
                prop_assert!((1..=12).contains(&s.expiry_month) && (2000..=2099).contains(&s.expiry_year));
                let until = YearMonth { year: s.expiry_year, month: s.expiry_month };
                prop_assert!(until >= TODAY);
                prop_assert_eq!(s.expiry_year % 100, year % 100);
                let bin6 = s.bin6.clone().unwrap_or_default();
                prop_assert_eq!(CardBrand::from_prefix(&bin6), Some(s.brand));
                prop_assert!(bin6.len() == 6 && s.last4.len() == 4 && s.last4.bytes().all(|b| b.is_ascii_digit()));
                prop_assert_eq!((s.brand, s.bin6, s.last4), (summary.brand, summary.bin6, summary.last4));
            }
        }

        #[test]
        fn a_single_changed_digit_fails_luhn(body in "4[0-9]{14}", pos in 0usize..16, delta in 1u32..10) {
            let pan = with_check_digit(&body);
            let mut chars: Vec<char> = pan.chars().collect();
            let d = chars[pos].to_digit(10).unwrap();
            chars[pos] = char::from_digit((d + delta) % 10, 10).unwrap();
            let changed: String = chars.into_iter().collect();
            prop_assert!(!luhn_valid(&changed));
        }
    }
}
