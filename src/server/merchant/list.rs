//! The order history's URL: filters as query parameters, parsed into an `OrderFilter` with a clear message
//! for each value that does not make sense, and written back so links keep them.

use super::quoted;
use crate::domain::{card::CardBrand, money::Currency, money::Money, status::PaymentStatus};
use crate::server::{
    clock,
    db::{
        order_list::{Cursor, OrderFilter, OrderRow},
        orders::Provider,
    },
};
use serde::{Deserialize, Serialize};

/// Longer than any order id, reference, email or last four.
const MAX_SEARCH_LEN: usize = 254;

/// The query string as typed; empty values mean "any".
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct ListQuery {
    pub q: String,
    pub status: String,
    pub from: String,
    pub to: String,
    pub liability: String,
    pub brand: String,
    pub provider: String,
    pub currency: String,
    pub min: String,
    pub max: String,
    /// Keyset cursor: `<created_at>.<id>` of the last row of the previous page.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub after: String,
}

impl ListQuery {
    /// The filter, or the messages of the values that could not be read.
    pub fn filter(&self, shop_currency: Currency) -> Result<OrderFilter, Vec<String>> {
        let mut errors = Vec::new();
        let mut f =
            OrderFilter { search: Some(self.q.trim().to_owned()).filter(|s| !s.is_empty()), ..Default::default() };
        if self.q.chars().count() > MAX_SEARCH_LEN {
            errors.push(format!("the search can have at most {MAX_SEARCH_LEN} characters"));
        }
        let given = |s: &str| Some(s.trim()).filter(|s| !s.is_empty()).map(str::to_owned);
        if let Some(s) = given(&self.status) {
            f.status = PaymentStatus::parse(&s).or_else(|| {
                errors.push(format!("unknown status {}", quoted(&s)));
                None
            });
        }
        let day = |s: &str, errors: &mut Vec<String>| {
            given(s).and_then(|d| {
                clock::parse_date(&d).or_else(|| {
                    errors.push(format!("{} is not a date (YYYY-MM-DD)", quoted(&d)));
                    None
                })
            })
        };
        f.from_ms = day(&self.from, &mut errors);
        // "to" is inclusive: orders before the next midnight.
        f.until_ms = day(&self.to, &mut errors).map(|ms| ms + 86_400_000);
        f.liability_shifted = match self.liability.as_str() {
            "" => None,
            "yes" => Some(true),
            "no" => Some(false),
            other => {
                errors.push(format!("liability must be yes or no, not {}", quoted(other)));
                None
            }
        };
        if let Some(b) = given(&self.brand) {
            f.brand = CardBrand::parse(&b).or_else(|| {
                errors.push(format!("unknown card brand {}", quoted(&b)));
                None
            });
        }
        if let Some(p) = given(&self.provider) {
            f.provider = Provider::parse(&p).or_else(|| {
                errors.push(format!("unknown provider {}", quoted(&p)));
                None
            });
        }
        if let Some(c) = given(&self.currency) {
            match Currency::parse(&c) {
                Ok(c) => f.currency = Some(c),
                Err(_) => errors.push(format!("unknown currency {}", quoted(&c))),
            }
        }
        // Amounts are typed in major units of the chosen currency (the shop's if none is chosen).
        let amount_currency = f.currency.unwrap_or(shop_currency);
        let amount = |s: &str, errors: &mut Vec<String>| {
            given(s).and_then(|a| match Money::parse_major(&a, amount_currency) {
                Ok(m) => Some(m.minor()),
                Err(e) => {
                    errors.push(format!("amount {}: {e}", quoted(&a)));
                    None
                }
            })
        };
        f.min_minor = amount(&self.min, &mut errors);
        f.max_minor = amount(&self.max, &mut errors);
        if f.min_minor.is_some() || f.max_minor.is_some() {
            f.currency = Some(amount_currency);
        }
        if errors.is_empty() { Ok(f) } else { Err(errors) }
    }

    pub fn cursor(&self) -> Option<Cursor> {
        let (at, id) = self.after.split_once('.')?;
        Some(Cursor { created_at: at.parse().ok()?, id: id.to_owned() })
    }

    /// This query as a URL query string, starting a page after `after` (or at the newest without it).
    pub fn to_query_string(&self, after: Option<&OrderRow>) -> String {
        let mut q = self.clone();
        q.after = after.map(|r| format!("{}.{}", r.created_at, r.id)).unwrap_or_default();
        serde_urlencoded::to_string(&q).unwrap_or_default()
    }
}

/// The filtered orders as CSV, one line per order; fields quoted where they need it.
pub fn csv_line(out: &mut String, r: &OrderRow) {
    let money = |minor: i64| {
        Currency::parse(&r.currency)
            .ok()
            .and_then(|c| Money::new(minor, c).ok())
            .map_or_else(|| minor.to_string(), Money::major_string)
    };
    let fields = [
        clock::format_time(r.created_at),
        r.id.clone(),
        r.merchant_reference.clone(),
        r.email.clone(),
        r.currency.clone(),
        money(r.amount_minor),
        money(r.captured_minor),
        money(r.refunded_minor),
        r.status.clone(),
        r.provider.clone(),
        r.card_brand.clone().unwrap_or_default(),
        r.card_last4.clone().unwrap_or_default(),
        r.threeds_enrolled.clone().unwrap_or_default(),
        r.threeds_pares_status.clone().unwrap_or_default(),
        r.threeds_eci.clone().unwrap_or_default(),
        r.liability_shifted.map_or("", |s| if s { "yes" } else { "no" }).to_owned(),
    ];
    for (i, f) in fields.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        // Quote what needs it, and defuse spreadsheet formulas in text typed by shoppers.
        let f = if f.starts_with(['=', '+', '-', '@']) { format!("'{f}") } else { f.clone() };
        if f.contains([',', '"', '\n', '\r']) {
            out.push('"');
            out.push_str(&f.replace('"', "\"\""));
            out.push('"');
        } else {
            out.push_str(&f);
        }
    }
    out.push_str("\r\n");
}

pub const CSV_HEADER: &str = "created_at,order_id,merchant_reference,email,currency,amount,captured,refunded,status,\
provider,card_brand,card_last4,threeds_enrolled,pares_status,eci,liability_shifted\r\n";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_parse_and_bad_values_are_named() {
        let q = ListQuery {
            status: "captured".into(),
            from: "2026-11-01".into(),
            to: "2026-11-23".into(),
            liability: "no".into(),
            min: "10".into(),
            max: "12.50".into(),
            ..Default::default()
        };
        let f = q.filter(Currency::EUR).unwrap();
        assert_eq!(f.status, Some(PaymentStatus::Captured));
        assert_eq!(f.until_ms, clock::parse_date("2026-11-24"));
        assert_eq!((f.min_minor, f.max_minor, f.currency), (Some(1000), Some(1250), Some(Currency::EUR)));
        assert_eq!(f.liability_shifted, Some(false));
        let bad = ListQuery { status: "paid".into(), from: "yesterday".into(), min: "1.234".into(), ..q };
        assert_eq!(bad.filter(Currency::EUR).unwrap_err().len(), 3);
    }

    #[test]
    fn cursor_round_trips_through_the_url() {
        let q = ListQuery { after: "1790000000000.abc-def".into(), ..Default::default() };
        assert_eq!(q.cursor(), Some(Cursor { created_at: 1_790_000_000_000, id: "abc-def".into() }));
        assert_eq!(ListQuery { after: "junk".into(), ..Default::default() }.cursor(), None);
    }

    #[test]
    fn csv_quotes_and_defuses_formulas() {
        let mut out = String::new();
        let row = OrderRow {
            id: "o1".into(),
            merchant_reference: "R,1".into(),
            email: "=cmd@example.com".into(),
            amount_minor: 1250,
            captured_minor: 1250,
            refunded_minor: 0,
            currency: "EUR".into(),
            status: "captured".into(),
            provider: "verifone".into(),
            capture_mode: "sale".into(),
            card_brand: Some("VISA".into()),
            card_last4: Some("1000".into()),
            liability_shifted: Some(true),
            threeds_enrolled: Some("Y".into()),
            threeds_pares_status: Some("Y".into()),
            threeds_eci: Some("05".into()),
            created_at: 0,
        };
        csv_line(&mut out, &row);
        assert_eq!(
            out,
            "1970-01-01 00:00:00 UTC,o1,\"R,1\",'=cmd@example.com,EUR,12.50,12.50,0.00,captured,verifone,VISA,1000,Y,Y,05,yes\r\n"
        );
    }
}
