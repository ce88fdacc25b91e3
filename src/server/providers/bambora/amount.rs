//! Amounts at Bambora's wire edge: a JSON number in major units ("a decimal value in dollars, or relevant
//! currency"). Written from the exact decimal text of our minor units (a `RawValue`, so no float is ever
//! involved) and read back from the number's text, strictly.

use crate::domain::money::{Currency, Money};
use serde_json::value::RawValue;

/// The JSON number for `money`: "12.34" for EUR 1234, "1500" for JPY 1500, "1.250" for KWD 1250.
pub fn to_wire(money: Money) -> Box<RawValue> {
    // `major_string` is digits with at most one point: always a valid JSON number.
    RawValue::from_string(money.major_string()).expect("a decimal is a JSON number")
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("the amount {0:?} is not a plain decimal in this currency")]
pub struct AmountError(pub String);

/// Minor units of a wire amount in `currency`: a plain decimal ("15.99", "15.9", "1500", "1500.00" for
/// JPY), as a JSON number or a numeric string. Refused: signs, exponents, and digits beyond the currency's
/// exponent unless they are zeros (a value we would have to round).
pub fn from_wire(raw: &RawValue, currency: Currency) -> Result<Money, AmountError> {
    let text = raw.get().trim();
    let text = text.strip_prefix('"').and_then(|t| t.strip_suffix('"')).unwrap_or(text);
    parse(text, currency).ok_or_else(|| AmountError(text.chars().take(32).collect()))
}

fn parse(text: &str, currency: Currency) -> Option<Money> {
    let (whole, frac) = text.split_once('.').unwrap_or((text, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() || !digits(whole) || !digits(frac) || (text.contains('.') && frac.is_empty()) {
        return None;
    }
    let exp = currency.exponent() as usize;
    let (kept, rest) = frac.split_at(frac.len().min(exp));
    if rest.bytes().any(|b| b != b'0') {
        return None;
    }
    let scale = 10i64.checked_pow(exp as u32)?;
    let frac_minor: i64 = if exp == 0 { 0 } else { format!("{kept:0<exp$}").parse().ok()? };
    let minor = whole.parse::<i64>().ok()?.checked_mul(scale)?.checked_add(frac_minor)?;
    Money::new(minor, currency).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn money(minor: i64, currency: Currency) -> Money {
        Money::new(minor, currency).unwrap()
    }

    #[test]
    fn writes_the_exact_decimal_as_a_json_number() {
        let table = [
            (0, Currency::JPY, "0"),
            (1500, Currency::JPY, "1500"),
            (0, Currency::CAD, "0.00"),
            (5, Currency::CAD, "0.05"),
            (1234, Currency::CAD, "12.34"),
            (1250, Currency::KWD, "1.250"),
            // Beyond f64's 2^53: a float on the way would change the last digit.
            (9_007_199_254_740_993, Currency::CAD, "90071992547409.93"),
        ];
        for (minor, currency, text) in table {
            let raw = to_wire(money(minor, currency));
            assert_eq!(raw.get(), text);
            #[derive(serde::Serialize)]
            struct Body<'a> {
                amount: &'a RawValue,
            }
            let body = serde_json::to_string(&Body { amount: &raw }).unwrap();
            assert_eq!(body, format!("{{\"amount\":{text}}}"), "a number, not a string");
            assert_eq!(from_wire(&raw, currency), Ok(money(minor, currency)), "round trip of {text}");
        }
    }

    #[test]
    fn reads_amounts_strictly_by_the_currencys_exponent() {
        let ok = [
            ("15.99", Currency::CAD, 1599),
            ("15.9", Currency::CAD, 1590),
            ("15", Currency::CAD, 1500),
            ("15.990", Currency::CAD, 1599),
            ("\"15.99\"", Currency::CAD, 1599),
            ("1500", Currency::JPY, 1500),
            ("1500.00", Currency::JPY, 1500),
            ("1.25", Currency::KWD, 1250),
            ("0", Currency::CAD, 0),
        ];
        for (text, currency, minor) in ok {
            let raw = RawValue::from_string(text.to_owned()).unwrap();
            assert_eq!(from_wire(&raw, currency), Ok(money(minor, currency)), "{text}");
        }
        let refused = [
            ("15.999", Currency::CAD),
            ("1500.5", Currency::JPY),
            ("-1.00", Currency::CAD),
            ("1e3", Currency::CAD),
            ("1.5E2", Currency::CAD),
            ("\"\"", Currency::CAD),
            ("\"15.\"", Currency::CAD),
            ("\".5\"", Currency::CAD),
            ("\"1,5\"", Currency::CAD),
            ("null", Currency::CAD),
            ("true", Currency::CAD),
            ("99999999999999999999", Currency::CAD),
        ];
        for (text, currency) in refused {
            let raw = RawValue::from_string(text.to_owned()).unwrap();
            assert!(from_wire(&raw, currency).is_err(), "{text} must be refused");
        }
    }
}
