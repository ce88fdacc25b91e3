//! The Reporting API's search (`POST /v1/reports`, with the Reporting passcode): transactions in a date range,
//! filtered by criteria (`field` by its number, a URL-encoded `operator`, a `value`) and paged by rows. It is
//! how a client learns what became of a payment whose answer was lost: search by order number.

use super::{
    auth::{self, Api},
    books, cards,
    errors::{ApiError, Message},
    ledger::Txn,
    views::{self, Context},
    wire,
};
use crate::domain::money::Money;
use crate::server::{clock::parse_date, sandbox::SandboxState};
use axum::{
    Json, Router,
    body::Bytes,
    extract::State,
    http::HeaderMap,
    response::{IntoResponse, Response},
    routing::post,
};
use serde_json::{Value, json};
use std::cmp::Ordering;

/// The reference's paging limit.
const MAX_ROWS: usize = 500;
const DAY_MS: i64 = 86_400_000;

pub fn router() -> Router<SandboxState> {
    Router::new().route("/v1/reports", post(search))
}

async fn search(State(sb): State<SandboxState>, headers: HeaderMap, body: Bytes) -> Result<Response, ApiError> {
    auth::check(&sb, &headers, Api::Reporting)?;
    let q = query(&wire::object(&body)?)?;
    let ctx = Context::of(&sb.config);
    let books = books(&sb);
    let records: Vec<Value> = books
        .all()
        .filter(|t| (q.start_ms..=q.end_ms).contains(&t.created_ms))
        .filter(|t| q.criteria.iter().all(|c| c.matches(t)))
        .enumerate()
        .skip(q.start_row - 1)
        .take(q.rows)
        .map(|(i, t)| views::record(&ctx, &books, i + 1, t, q.minimal))
        .collect();
    Ok(Json(json!({"records": records})).into_response())
}

#[derive(Debug)]
struct Query {
    minimal: bool,
    start_ms: i64,
    end_ms: i64,
    start_row: usize,
    rows: usize,
    criteria: Vec<Criterion>,
}

#[derive(Debug, PartialEq, Eq)]
struct Criterion {
    field: u8,
    op: Op,
    value: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Op {
    Eq,
    Ne,
    Lt,
    Gt,
    Le,
    Ge,
    StartsWith,
}

fn invalid(field: &str, why: &str) -> ApiError {
    ApiError::field(Message::InvalidPaymentInfo, field, why)
}

fn query(req: &Value) -> Result<Query, ApiError> {
    let minimal = match req.get("name").and_then(Value::as_str) {
        Some("Search") => false,
        Some("TransHistoryMinimal") => true,
        _ => return Err(invalid("name", "\"Search\" or \"TransHistoryMinimal\"")),
    };
    let date = |key: &str, end: bool| {
        req.get(key)
            .and_then(Value::as_str)
            .and_then(|s| parse_datetime(s, end))
            .ok_or_else(|| invalid(key, "a date and time such as 2017-01-01T01:01:03"))
    };
    let (start_ms, end_ms) = (date("start_date", false)?, date("end_date", true)?);
    if end_ms < start_ms {
        return Err(invalid("end_date", "must not be before start_date"));
    }
    let row = |key: &str| {
        req.get(key).and_then(as_number).filter(|r| *r >= 1).ok_or_else(|| invalid(key, "a row number from 1"))
    };
    let (start_row, end_row) = (row("start_row")?, row("end_row")?);
    if end_row < start_row {
        return Err(invalid("end_row", "must not be below start_row"));
    }
    // "To retrieve one row, set the start row to 1 and the end row to 2": the end row is not included.
    let rows = ((end_row - start_row) as usize).clamp(1, MAX_ROWS);
    let criteria = match req.get("criteria") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items.iter().map(criterion).collect::<Result<_, _>>()?,
        Some(one @ Value::Object(_)) => vec![criterion(one)?],
        Some(_) => return Err(invalid("criteria", "an array of {field, operator, value}")),
    };
    Ok(Query { minimal, start_ms, end_ms, start_row: start_row as usize, rows, criteria })
}

/// A number, also as a string of digits (the reference's examples send both).
fn as_number(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn criterion(c: &Value) -> Result<Criterion, ApiError> {
    let field = c
        .get("field")
        .and_then(as_number)
        .and_then(|f| u8::try_from(f).ok())
        .filter(|f| (1..=24).contains(f))
        .ok_or_else(|| invalid("criteria.field", "a field number from 1 to 24"))?;
    let op = match percent_decode(c.get("operator").and_then(Value::as_str).unwrap_or_default()).trim() {
        "=" => Op::Eq,
        "<>" => Op::Ne,
        "<" => Op::Lt,
        ">" => Op::Gt,
        "<=" => Op::Le,
        ">=" => Op::Ge,
        s if s.eq_ignore_ascii_case("START WITH") => Op::StartsWith,
        _ => return Err(invalid("criteria.operator", "%3D, %3C, %3E, %3C%3D, %3E%3D, %3C%3E or START%20WITH")),
    };
    let value = match c.get("value") {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => return Err(invalid("criteria.value", "a string or number")),
    };
    Ok(Criterion { field, op, value })
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex =
            b.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok()).and_then(|h| u8::from_str_radix(h, 16).ok());
        match (b[i], hex) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (other, _) => {
                out.push(other);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// "2017-01-01T01:01:03", with optional fraction and zone; a bare date is the day's start (or, as an end
/// date, its end). Without a zone, the merchant account's time zone, UTC in the sandbox `[I]`.
fn parse_datetime(s: &str, end: bool) -> Option<i64> {
    let s = s.trim();
    let (date, time) = s.split_once(['T', ' ']).unwrap_or((s, ""));
    let day = parse_date(date)?;
    if time.is_empty() {
        return Some(if end { day + DAY_MS - 1 } else { day });
    }
    let (clock, offset_ms) = match time.find(['Z', 'z', '+', '-']) {
        None => (time, 0),
        Some(i) => {
            let zone = &time[i..];
            let offset = if zone.eq_ignore_ascii_case("z") {
                0
            } else {
                let sign = if zone.starts_with('-') { -1 } else { 1 };
                let (h, m) = zone[1..].split_once(':').unwrap_or((&zone[1..], "0"));
                sign * (h.parse::<i64>().ok()? * 60 + m.parse::<i64>().ok()?) * 60_000
            };
            (&time[..i], offset)
        }
    };
    let (hms, fraction) = clock.split_once('.').unwrap_or((clock, ""));
    let mut parts = hms.split(':').map(|p| p.parse::<i64>().ok());
    let (h, m, sec) = (parts.next()??, parts.next().unwrap_or(Some(0))?, parts.next().unwrap_or(Some(0))?);
    if h > 23 || m > 59 || sec > 59 {
        return None;
    }
    let millis: i64 =
        if fraction.is_empty() { 0 } else { format!("{:0<3}", &fraction[..fraction.len().min(3)]).parse().ok()? };
    Some(day + ((h * 60 + m) * 60 + sec) * 1000 + millis - offset_ms)
}

impl Criterion {
    fn matches(&self, t: &Txn) -> bool {
        let number = |n: i64| self.value.trim().parse::<i64>().is_ok_and(|v| self.compare(n.cmp(&v)));
        match self.field {
            1 => number(t.id as i64),
            2 => Money::parse_major(&self.value, t.amount.currency())
                .is_ok_and(|v| self.compare(t.amount.minor().cmp(&v.minor()))),
            10 => number(i64::from(t.approved)),
            23 => t.parent.is_some_and(|p| number(p as i64)),
            24 => t.adjusted_by.iter().any(|a| number(*a as i64)),
            f => self.text(&text_field(f, t)),
        }
    }

    fn compare(&self, ord: Ordering) -> bool {
        match self.op {
            Op::Eq | Op::StartsWith => ord == Ordering::Equal,
            Op::Ne => ord != Ordering::Equal,
            Op::Lt => ord == Ordering::Less,
            Op::Gt => ord == Ordering::Greater,
            Op::Le => ord != Ordering::Greater,
            Op::Ge => ord != Ordering::Less,
        }
    }

    fn text(&self, actual: &str) -> bool {
        match self.op {
            Op::StartsWith => actual.starts_with(self.value.as_str()),
            _ => self.compare(actual.cmp(self.value.as_str())),
        }
    }
}

/// The text fields by the reference's numbering; fields the sandbox does not record are empty.
fn text_field(field: u8, t: &Txn) -> String {
    match field {
        3 => t.card.masked.clone(),
        4 => t.card.holder.clone(),
        5 => t.order_number.clone(),
        6 => t.customer_ip.clone(),
        7 => {
            if t.approved {
                "TEST".into()
            } else {
                String::new()
            }
        }
        8 => t.kind.code().into(),
        9 => cards::card_type(t.card.brand).into(),
        11 => t.billing_name.clone(),
        12 => t.billing_email.clone(),
        15..=19 => t.custom[usize::from(field - 15)].clone(),
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::sandbox::bambora::ledger::{Kind, Ledger, tests::payment};

    #[test]
    fn dates_in_the_references_forms() {
        let day = parse_date("2017-01-01").unwrap();
        assert_eq!(parse_datetime("2017-01-01T01:01:03", false), Some(day + 3_663_000));
        assert_eq!(parse_datetime("2017-01-01T01:01:03.5", false), Some(day + 3_663_500));
        assert_eq!(parse_datetime("2017-01-01T01:01:03.815-07:00", false), Some(day + 3_663_815 + 7 * 3_600_000));
        assert_eq!(parse_datetime("2017-01-01T01:01:03Z", false), Some(day + 3_663_000));
        assert_eq!(parse_datetime("2017-01-01", true), Some(day + DAY_MS - 1));
        assert_eq!(parse_datetime("2017-01-01T25:00:00", false), None);
        assert_eq!(parse_datetime("yesterday", false), None);
    }

    #[test]
    fn queries_as_the_examples_send_them() {
        let q =
            query(&json!({"name": "Search", "start_date": "2017-01-01T01:01:03", "end_date": "2018-06-05T16:05:00",
                              "start_row": "1", "end_row": "2",
                              "criteria": [{"field": "5", "operator": "%3D", "value": "o-1"},
                                           {"field": 2, "operator": "%3E%3D", "value": 100.00},
                                           {"field": 4, "operator": "START%20WITH", "value": "Jo"}]}))
            .unwrap();
        assert_eq!((q.start_row, q.rows, q.minimal), (1, 1, false));
        assert_eq!(q.criteria[0], Criterion { field: 5, op: Op::Eq, value: "o-1".into() });
        assert_eq!(q.criteria[1], Criterion { field: 2, op: Op::Ge, value: "100.0".into() });
        assert_eq!(q.criteria[2].op, Op::StartsWith);
        let base = json!({"name": "TransHistoryMinimal", "start_date": "2017-01-01", "end_date": "2017-01-02",
                          "start_row": 1, "end_row": 1000});
        let q = query(&base).unwrap();
        assert_eq!((q.rows, q.minimal), (MAX_ROWS, true));
        let refused = |patch: Value| {
            let mut v = base.clone();
            for (k, val) in patch.as_object().unwrap() {
                v[k] = val.clone();
            }
            query(&v).unwrap_err().body()["details"][0]["field"].clone()
        };
        assert_eq!(refused(json!({"name": "All"})), json!("name"));
        assert_eq!(refused(json!({"end_date": "2016-01-01"})), json!("end_date"));
        assert_eq!(refused(json!({"start_row": 0})), json!("start_row"));
        assert_eq!(
            refused(json!({"criteria": [{"field": 25, "operator": "%3D", "value": "x"}]})),
            json!("criteria.field")
        );
        assert_eq!(
            refused(json!({"criteria": [{"field": 1, "operator": "LIKE", "value": "x"}]})),
            json!("criteria.operator")
        );
    }

    #[test]
    fn criteria_match_transactions() {
        let mut l = Ledger::default();
        let p = l.record(payment(Kind::Purchase, 10000, Some("order-7")), true, None, 0).unwrap().id;
        let r = l.refund(p, Money::new(100, crate::domain::money::Currency::CAD).unwrap(), None, 0).unwrap().id;
        let c = |field, op, value: &str| Criterion { field, op, value: value.into() };
        let t = l.get(p).unwrap();
        assert!(c(5, Op::Eq, "order-7").matches(t));
        assert!(!c(5, Op::Eq, "order-8").matches(t));
        assert!(c(5, Op::StartsWith, "order").matches(t));
        assert!(c(2, Op::Eq, "100.00").matches(t));
        assert!(c(2, Op::Gt, "99.99").matches(t));
        assert!(!c(2, Op::Lt, "100").matches(t));
        assert!(c(1, Op::Le, &p.to_string()).matches(t));
        assert!(c(10, Op::Eq, "1").matches(t));
        assert!(c(8, Op::Eq, "P").matches(t));
        assert!(c(24, Op::Eq, &r.to_string()).matches(t));
        assert!(c(23, Op::Eq, &p.to_string()).matches(l.get(r).unwrap()));
        assert!(c(4, Op::StartsWith, "Test").matches(t));
        assert_eq!(percent_decode("START%20WITH"), "START WITH");
        assert_eq!(percent_decode("%3C%3D"), "<=");
        assert_eq!(percent_decode("100%"), "100%");
    }
}
