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

    /// Parses a major-unit amount typed by a person ("12.34", "12", "1,234.5") exactly, with no floats.
    pub fn parse_major(input: &str, currency: Currency) -> Result<Money, MoneyError> {
        let cleaned: String = input.trim().chars().filter(|c| *c != ',' && *c != '_').collect();
        if cleaned.starts_with('-') {
            return Err(MoneyError::Negative);
        }
        let (whole, frac) = match cleaned.split_once('.') {
            Some((w, f)) => (w, f),
            None => (cleaned.as_str(), ""),
        };
        let digits = |s: &str| s.chars().all(|c| c.is_ascii_digit());
        if (whole.is_empty() && frac.is_empty()) || !digits(whole) || !digits(frac) {
            return Err(MoneyError::Malformed);
        }
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
        assert_eq!(usd("1,234.56"), Ok(123456));
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

    proptest! {
        #[test]
        fn major_string_round_trips(minor in 0i64..1_000_000_000_000, idx in 0usize..Currency::ALL.len()) {
            let c = Currency::ALL[idx];
            let m = Money::new(minor, c).unwrap();
            prop_assert_eq!(Money::parse_major(&m.major_string(), c), Ok(m));
            prop_assert_eq!(Money::parse_major(&m.to_string()[4..], c), Ok(m));
        }

        #[test]
        fn add_then_sub_is_identity(a in 0i64..1_000_000_000, b in 0i64..1_000_000_000) {
            let x = Money::new(a, Currency::GBP).unwrap();
            let y = Money::new(b, Currency::GBP).unwrap();
            prop_assert_eq!(x.checked_add(y).unwrap().checked_sub(y), Ok(x));
        }
    }
}
