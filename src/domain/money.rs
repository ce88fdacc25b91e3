//! Money as integer minor units plus an ISO 4217 currency. No floats anywhere.

use serde::{Deserialize, Serialize};
use std::fmt;

/// The currencies the checkout accepts. Each knows its ISO 4217 alpha code, numeric code and exponent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Currency {
    USD,
    CAD,
    EUR,
    GBP,
    AUD,
    NZD,
    SEK,
    JPY,
    KWD,
}

impl Currency {
    pub const ALL: [Currency; 9] = [
        Currency::USD,
        Currency::CAD,
        Currency::EUR,
        Currency::GBP,
        Currency::AUD,
        Currency::NZD,
        Currency::SEK,
        Currency::JPY,
        Currency::KWD,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Currency::USD => "USD",
            Currency::CAD => "CAD",
            Currency::EUR => "EUR",
            Currency::GBP => "GBP",
            Currency::AUD => "AUD",
            Currency::NZD => "NZD",
            Currency::SEK => "SEK",
            Currency::JPY => "JPY",
            Currency::KWD => "KWD",
        }
    }

    /// ISO 4217 numeric code (Cardinal's `CurrencyCode` uses it).
    pub fn numeric(self) -> u16 {
        match self {
            Currency::USD => 840,
            Currency::CAD => 124,
            Currency::EUR => 978,
            Currency::GBP => 826,
            Currency::AUD => 36,
            Currency::NZD => 554,
            Currency::SEK => 752,
            Currency::JPY => 392,
            Currency::KWD => 414,
        }
    }

    /// Number of minor-unit digits (JPY 0, KWD 3, most others 2).
    pub fn exponent(self) -> u32 {
        match self {
            Currency::JPY => 0,
            Currency::KWD => 3,
            Currency::USD
            | Currency::CAD
            | Currency::EUR
            | Currency::GBP
            | Currency::AUD
            | Currency::NZD
            | Currency::SEK => 2,
        }
    }

    /// The most minor-unit digits any accepted currency has.
    pub const MAX_EXPONENT: u32 = 3;

    /// An HTML `pattern` for an amount input that `Money::parse_major` reads in this currency.
    pub fn amount_pattern(self) -> String {
        amount_pattern(self.exponent())
    }

    pub fn parse(code: &str) -> Result<Currency, MoneyError> {
        Currency::ALL
            .into_iter()
            .find(|c| c.code().eq_ignore_ascii_case(code.trim()))
            .ok_or(MoneyError::UnknownCurrency)
    }

    pub fn from_numeric(n: u16) -> Option<Currency> {
        Currency::ALL.into_iter().find(|c| c.numeric() == n)
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("unknown currency")]
    UnknownCurrency,
    #[error("enter an amount such as 12.34")]
    Malformed,
    #[error("too many decimal places for this currency")]
    TooPrecise,
    #[error("amount must not be negative")]
    Negative,
    #[error("amount is too large")]
    Overflow,
    #[error("currencies differ")]
    CurrencyMismatch,
}

/// An HTML `pattern` for an amount with at most `decimals` digits after its decimal point or comma.
pub fn amount_pattern(decimals: u32) -> String {
    if decimals == 0 { "[0-9]+".to_owned() } else { format!("[0-9]+([.,][0-9]{{1,{decimals}}})?") }
}

/// An amount of money: `minor` units (cents, yen, fils) of `currency`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Money {
    minor: i64,
    currency: Currency,
}

impl Money {
    pub fn new(minor: i64, currency: Currency) -> Result<Money, MoneyError> {
        if minor < 0 {
            return Err(MoneyError::Negative);
        }
        Ok(Money { minor, currency })
    }

    pub fn zero(currency: Currency) -> Money {
        Money { minor: 0, currency }
    }

    pub fn minor(self) -> i64 {
        self.minor
    }

    pub fn currency(self) -> Currency {
        self.currency
    }

    pub fn is_zero(self) -> bool {
        self.minor == 0
    }

    pub fn checked_add(self, other: Money) -> Result<Money, MoneyError> {
        self.same_currency(other)?;
        let minor = self.minor.checked_add(other.minor).ok_or(MoneyError::Overflow)?;
        Ok(Money { minor, ..self })
    }

    /// `self - other`, refusing to go below zero.
    pub fn checked_sub(self, other: Money) -> Result<Money, MoneyError> {
        self.same_currency(other)?;
        let minor = self.minor.checked_sub(other.minor).ok_or(MoneyError::Overflow)?;
        Money::new(minor, self.currency)
    }

    pub fn checked_mul(self, quantity: u32) -> Result<Money, MoneyError> {
        let minor = self.minor.checked_mul(i64::from(quantity)).ok_or(MoneyError::Overflow)?;
        Ok(Money { minor, ..self })
    }

    fn same_currency(self, other: Money) -> Result<(), MoneyError> {
        if self.currency == other.currency { Ok(()) } else { Err(MoneyError::CurrencyMismatch) }
    }

    /// Parses a major-unit amount typed by a person, exactly and with no floats: digits, then at most one
    /// decimal separator (a point, or the comma many people type) and at most the currency's exponent of digits
    /// after it: "12.34", "12,34", "12". Anything else is refused rather than guessed: group separators
    /// ("1,234.56", "1 000", "1_000"), two separators, signs, exponents. A refund of "1,2" is EUR 1.20 or an
    /// error, never 12.00.
    pub fn parse_major(input: &str, currency: Currency) -> Result<Money, MoneyError> {
        let input = input.trim();
        if input.starts_with('-') {
            return Err(MoneyError::Negative);
        }
        let (whole, frac) = match input.split_once(['.', ',']) {
            Some((w, f)) => (w, Some(f)),
            None => (input, None),
        };
        let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        let frac_ok = frac.is_none_or(|f| !f.is_empty() && digits(f));
        if (whole.is_empty() && frac.is_none()) || !digits(whole) || !frac_ok {
            return Err(MoneyError::Malformed);
        }
        let frac = frac.unwrap_or_default();
        let exp = currency.exponent() as usize;
        if frac.len() > exp {
            return Err(MoneyError::TooPrecise);
        }
        let scale = 10i64.pow(exp as u32);
        let whole: i64 = if whole.is_empty() { 0 } else { whole.parse().map_err(|_| MoneyError::Overflow)? };
        let frac_minor: i64 =
            if frac.is_empty() { 0 } else { format!("{frac:0<exp$}").parse().map_err(|_| MoneyError::Malformed)? };
        let minor = whole.checked_mul(scale).and_then(|m| m.checked_add(frac_minor)).ok_or(MoneyError::Overflow)?;
        Money::new(minor, currency)
    }

    /// The amount in major units as a decimal string with exactly the currency's exponent ("12.34",
    /// "1500", "1.250"): the form Bambora's wire format and our amount inputs use.
    pub fn major_string(self) -> String {
        let exp = self.currency.exponent();
        if exp == 0 {
            return self.minor.to_string();
        }
        let scale = 10i64.pow(exp);
        format!("{}.{:0width$}", self.minor / scale, self.minor % scale, width = exp as usize)
    }
}

/// For people: "USD 1,234.56".
impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let major = self.major_string();
        let (whole, frac) = match major.split_once('.') {
            Some((w, fr)) => (w, Some(fr)),
            None => (major.as_str(), None),
        };
        let mut grouped = String::new();
        for (i, c) in whole.chars().enumerate() {
            if i > 0 && (whole.len() - i) % 3 == 0 {
                grouped.push(',');
            }
            grouped.push(c);
        }
        match frac {
            Some(fr) => write!(f, "{} {}.{}", self.currency, grouped, fr),
            None => write!(f, "{} {}", self.currency, grouped),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn exponents_follow_iso_4217() {
        assert_eq!(Currency::JPY.exponent(), 0);
        assert_eq!(Currency::KWD.exponent(), 3);
        assert_eq!(Currency::USD.exponent(), 2);
        assert_eq!(Currency::EUR.numeric(), 978);
        assert_eq!(Currency::from_numeric(840), Some(Currency::USD));
    }

    #[test]
    fn displays_for_people() {
        assert_eq!(Money::new(123456, Currency::USD).unwrap().to_string(), "USD 1,234.56");
        assert_eq!(Money::new(5, Currency::USD).unwrap().to_string(), "USD 0.05");
        assert_eq!(Money::new(1500, Currency::JPY).unwrap().to_string(), "JPY 1,500");
        assert_eq!(Money::new(1250, Currency::KWD).unwrap().to_string(), "KWD 1.250");
        assert_eq!(Money::new(100, Currency::EUR).unwrap().to_string(), "EUR 1.00");
    }

    #[test]
    fn parses_major_amounts_exactly() {
        let usd = |s| Money::parse_major(s, Currency::USD).map(Money::minor);
        assert_eq!(usd("12.34"), Ok(1234));
        assert_eq!(usd("12.3"), Ok(1230));
        assert_eq!(usd("12"), Ok(1200));
        assert_eq!(usd(".5"), Ok(50));
        assert_eq!(usd("12,34"), Ok(1234), "a decimal comma");
        assert_eq!(usd("1,2"), Ok(120));
        assert_eq!(usd("1,234.56"), Err(MoneyError::Malformed), "a group separator");
        assert_eq!(usd("1_0"), Err(MoneyError::Malformed));
        assert_eq!(usd("1,,,"), Err(MoneyError::Malformed));
        assert_eq!(usd("1."), Err(MoneyError::Malformed));
        assert_eq!(usd("+1"), Err(MoneyError::Malformed));
        assert_eq!(usd("1,234"), Err(MoneyError::TooPrecise), "a thousand to some, one to others: neither");
        assert_eq!(usd("0.1"), Ok(10));
        assert_eq!(usd("12.345"), Err(MoneyError::TooPrecise));
        assert_eq!(usd("-1"), Err(MoneyError::Negative));
        assert_eq!(usd("abc"), Err(MoneyError::Malformed));
        assert_eq!(usd(""), Err(MoneyError::Malformed));
        assert_eq!(usd("1e5"), Err(MoneyError::Malformed));
        assert_eq!(usd("99999999999999999999"), Err(MoneyError::Overflow));
        assert_eq!(Money::parse_major("1500", Currency::JPY).map(Money::minor), Ok(1500));
        assert_eq!(Money::parse_major("15.5", Currency::JPY), Err(MoneyError::TooPrecise));
        assert_eq!(Money::parse_major("1.25", Currency::KWD).map(Money::minor), Ok(1250));
    }

    #[test]
    fn arithmetic_refuses_mixed_currencies_and_negatives() {
        let a = Money::new(100, Currency::USD).unwrap();
        let b = Money::new(100, Currency::EUR).unwrap();
        assert_eq!(a.checked_add(b), Err(MoneyError::CurrencyMismatch));
        assert_eq!(a.checked_sub(Money::new(101, Currency::USD).unwrap()), Err(MoneyError::Negative));
        assert_eq!(a.checked_mul(3).unwrap().minor(), 300);
        assert_eq!(Money::new(i64::MAX, Currency::USD).unwrap().checked_mul(2), Err(MoneyError::Overflow));
    }

    #[test]
    fn max_exponent_is_the_largest() {
        assert_eq!(Currency::ALL.into_iter().map(Currency::exponent).max(), Some(Currency::MAX_EXPONENT));
        assert_eq!(Currency::EUR.amount_pattern(), "[0-9]+([.,][0-9]{1,2})?");
        assert_eq!(Currency::JPY.amount_pattern(), "[0-9]+");
    }

    fn currency() -> impl Strategy<Value = Currency> {
        (0usize..Currency::ALL.len()).prop_map(|i| Currency::ALL[i])
    }

    proptest! {
        #[test]
        fn formatting_then_parsing_round_trips(minor in 0i64..1_000_000_000_000_000, c in currency()) {
            let m = Money::new(minor, c).unwrap();
            prop_assert_eq!(Money::parse_major(&m.major_string(), c), Ok(m));
            prop_assert_eq!(Money::parse_major(&m.major_string().replace('.', ","), c), Ok(m), "decimal comma");
            // What people read ("USD 1,234.56") is grouped: it parses only below a thousand.
            let shown = &m.to_string()[4..];
            if minor < 1000 * 10i64.pow(c.exponent()) {
                prop_assert_eq!(Money::parse_major(shown, c), Ok(m));
            } else {
                prop_assert!(Money::parse_major(shown, c).is_err(), "{}", shown);
            }
        }

        #[test]
        fn two_separators_never_parse(a in "[0-9]{0,6}", b in "[0-9]{0,4}", c in "[0-9]{0,4}",
                                      s1 in "[.,]", s2 in "[.,]", cur in currency()) {
            let typed = format!("{a}{s1}{b}{s2}{c}");
            prop_assert!(Money::parse_major(&typed, cur).is_err(), "{}", typed);
        }

        #[test]
        fn group_separators_never_parse(head in "[1-9][0-9]{0,2}", groups in prop::collection::vec("[0-9]{3}", 1..4),
                                        sep in "[_ '\u{a0}]", cur in currency()) {
            let typed = format!("{head}{sep}{}", groups.join(&sep));
            prop_assert!(Money::parse_major(&typed, cur).is_err(), "{}", typed);
            // Grouped with commas: two separators, or more decimals than the currency has, except one group
            // in a three-decimal currency, where the comma is read as a decimal comma: less, never more.
            let commas = format!("{head},{}", groups.join(","));
            if let Ok(m) = Money::parse_major(&commas, cur) {
                prop_assert!(groups.len() == 1 && cur.exponent() == 3 && m.minor() < 1_000_000);
            }
        }

        #[test]
        fn too_many_decimals_never_parse(whole in "[0-9]{1,6}", extra in 1usize..4, sep in "[.,]", cur in currency()) {
            let frac = "5".repeat(cur.exponent() as usize + extra);
            prop_assert_eq!(Money::parse_major(&format!("{whole}{sep}{frac}"), cur), Err(MoneyError::TooPrecise));
        }

        #[test]
        fn any_text_is_an_exact_amount_or_an_error(typed in "\\PC{0,24}", cur in currency()) {
            if let Ok(m) = Money::parse_major(&typed, cur) {
                prop_assert!(m.minor() >= 0);
                prop_assert!(typed.trim().bytes().all(|b| b.is_ascii_digit() || b == b'.' || b == b','), "{}", typed);
            }
        }

        #[test]
        fn add_then_sub_is_identity(a in 0i64..1_000_000_000, b in 0i64..1_000_000_000) {
            let x = Money::new(a, Currency::GBP).unwrap();
            let y = Money::new(b, Currency::GBP).unwrap();
            prop_assert_eq!(x.checked_add(y).unwrap().checked_sub(y), Ok(x));
        }
    }
}
