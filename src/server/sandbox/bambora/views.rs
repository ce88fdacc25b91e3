//! The JSON the Payment API answers with: the payment response (`POST /payments` and its adjustments), the
//! 402 body of a declined payment, the transaction of `GET /payments/{id}` and the Reporting API's record.
//! Shapes and value types follow the seed's examples where it has them, else the API reference.

use super::{
    cards::{self, ECI_NONE},
    errors::{ApiError, Message},
    ledger::{Kind, Ledger, Secure, Txn},
};
use crate::domain::money::Money;
use crate::server::{clock::format_date, sandbox::SandboxConfig};
use serde_json::{Value, json};

/// What every answer needs from the sandbox's configuration.
pub struct Context {
    /// `{sandbox}/bambora/v1/payments`, for links.
    pub payments_url: String,
    pub merchant_id: Value,
    pub merchant_name: String,
}

impl Context {
    pub fn of(config: &SandboxConfig) -> Context {
        let id = &config.bambora_merchant_id;
        Context {
            payments_url: format!("{}/bambora/v1/payments", config.public_url),
            merchant_id: id.parse::<u64>().map_or_else(|_| json!(id), |n| json!(n)),
            merchant_name: config.merchant_name.clone(),
        }
    }
}

/// An amount as the wire has it: a JSON number in major units.
pub fn major(m: Money) -> Value {
    serde_json::from_str(&m.major_string()).unwrap_or_else(|_| json!(m.major_string()))
}

/// "2017-02-23T17:26:26" (the sandbox's clock is UTC).
pub fn created(ms: i64) -> String {
    let secs = ms.div_euclid(1000).rem_euclid(86_400);
    format!("{}T{:02}:{:02}:{:02}", format_date(ms), secs / 3600, secs / 60 % 60, secs % 60)
}

/// "2015-04-22T10:03:19.323+00:00", the form of the reports and adjustments.
pub fn stamp(ms: i64) -> String {
    format!("{}.{:03}+00:00", created(ms), ms.rem_euclid(1000))
}

fn message(t: &Txn) -> Message {
    if t.approved { Message::Approved } else { Message::Declined }
}

fn auth_code(t: &Txn) -> &'static str {
    if t.approved { "TEST" } else { "" }
}

fn custom(t: &Txn) -> Value {
    let [r1, r2, r3, r4, r5] = &t.custom;
    json!({"ref1": r1, "ref2": r2, "ref3": r3, "ref4": r4, "ref5": r5})
}

/// CVD result 1 (match) when one was given, 6 (not provided) otherwise.
fn cvd_result(t: &Txn) -> u8 {
    if t.card.cvd_given { 1 } else { 6 }
}

fn eci_and_cavv(t: &Txn) -> (u8, Option<u8>) {
    match t.secure {
        None => (ECI_NONE, None),
        Some(Secure::Integrated { status, .. }) => (status.eci(t.card.brand), status.cavv_result()),
        Some(Secure::OwnProcess { eci, cavv_result }) => (eci, Some(cavv_result)),
    }
}

fn links(ctx: &Context, t: &Txn) -> Value {
    let rels: &[(&str, &str)] = match (t.approved, t.kind) {
        (false, _) | (_, Kind::VoidPurchase | Kind::VoidReturn) => &[],
        (true, Kind::Purchase | Kind::Completion) => &[("void", "void"), ("return", "returns")],
        (true, Kind::PreAuth) => &[("complete", "completions"), ("void", "void")],
        (true, Kind::Return) => &[("void", "void")],
    };
    let links: Vec<Value> = rels
        .iter()
        .map(|(rel, path)| json!({"rel": rel, "href": format!("{}/{}/{path}", ctx.payments_url, t.id), "method": "POST"}))
        .collect();
    json!(links)
}

/// The seed's `3d_secure` block of a payment Bambora authenticated itself.
fn three_d_secure(t: &Txn) -> Option<Value> {
    let Some(Secure::Integrated { status, .. }) = t.secure else { return None };
    let (error_id, error) = status.error().map_or((Value::Null, ""), |(id, text)| (json!(id), text));
    Some(json!({"status_id": status.id(), "status": status.text(), "error_id": error_id, "error": error}))
}

/// The payment response: approved payments, pre-authorizations and adjustments.
pub fn payment(ctx: &Context, t: &Txn) -> Value {
    let (eci, cavv_result) = eci_and_cavv(t);
    let mut card = json!({
        "card_type": cards::card_type(t.card.brand),
        "last_four": t.card.last4,
        "card_bin": t.card.bin,
        "address_match": 0,
        "postal_result": 0,
        "avs_result": "0",
        "cvd_result": cvd_result(t),
        "avs": {"id": "U", "message": "Address information is unavailable.", "processed": false},
        "eci": eci,
    });
    if let Some(result) = cavv_result {
        card["cavv_result"] = json!(result);
    }
    let m = message(t);
    let mut body = json!({
        "id": t.id.to_string(),
        "authorizing_merchant_id": ctx.merchant_id,
        "approved": if t.approved { "1" } else { "0" },
        "message_id": m.id().to_string(),
        "message": m.text(),
        "auth_code": auth_code(t),
        "created": created(t.created_ms),
        "order_number": t.order_number,
        "type": t.kind.code(),
        "payment_method": "CC",
        "risk_score": 0.0,
        "amount": major(t.amount),
        "custom": custom(t),
        "card": card,
        "links": links(ctx, t),
    });
    if let Some(block) = three_d_secure(t) {
        body["3d_secure"] = block;
    }
    body
}

/// A declined payment: HTTP 402, code 7, with the reference's `validation` object naming the transaction.
pub fn declined(t: &Txn) -> ApiError {
    let m = message(t);
    ApiError::new(m).with(
        "validation",
        json!({
            "id": t.id.to_string(),
            "approved": 0,
            "message_id": m.id(),
            "message": m.text(),
            "auth_code": "",
            "trans_date": stamp(t.created_ms),
            "order_number": t.order_number,
            "type": t.kind.code(),
            "amount": major(t.amount),
            "cvd_id": cvd_result(t),
        }),
    )
}

/// `GET /payments/{id}`: the reference's `Transaction`, with its adjustments.
pub fn transaction(ctx: &Context, ledger: &Ledger, t: &Txn) -> Value {
    let m = message(t);
    let (eci, cavv_result) = eci_and_cavv(t);
    let money = |minor: i64| major(Money::new(minor, t.amount.currency()).unwrap_or(t.amount));
    let completed = ledger.completion(t.id).map_or(0, |c| c.amount.minor());
    // A pre-authorization's returns are its completion's.
    let refunded = ledger.returned(ledger.completion(t.id).map_or(t.id, |c| c.id));
    let adjusted_by: Vec<Value> = t
        .adjusted_by
        .iter()
        .filter_map(|id| ledger.get(*id))
        .map(|a| {
            json!({
                "id": a.id,
                "type": a.kind.code(),
                "approval": 1,
                "message": Message::Approved.text(),
                "amount": major(a.amount),
                "created": stamp(a.created_ms),
                "url": format!("{}/{}", ctx.payments_url, a.id),
            })
        })
        .collect();
    let mut card = json!({
        "card_type": cards::card_type(t.card.brand),
        "last_four": t.card.last4,
        "cvd_result": cvd_result(t),
        "address_match": 0,
        "avs_result": "0",
        "expiry_month": format!("{:02}", t.card.expiry.0),
        "expiry_year": format!("{:02}", t.card.expiry.1 % 100),
        "eci": eci,
    });
    if let Some(result) = cavv_result {
        card["cavv_result"] = json!(result);
    }
    let mut body = json!({
        "id": t.id,
        "authorizing_merchant_id": ctx.merchant_id,
        "approved": u8::from(t.approved),
        "message_id": m.id(),
        "message": m.text(),
        "auth_code": auth_code(t),
        "created": created(t.created_ms),
        "amount": major(t.amount),
        "order_number": t.order_number,
        "type": t.kind.code(),
        "comments": t.comments,
        "batch_number": "",
        "total_refunds": money(refunded),
        "total_completions": money(completed),
        "payment_method": "CC",
        "card": card,
        "billing": {"name": t.billing_name, "email_address": t.billing_email},
        "custom": custom(t),
        "adjusted_by": adjusted_by,
        "links": links(ctx, t),
    });
    if let Some(Secure::Integrated { status, challenged, version }) = t.secure {
        body["3d_secure"] = json!({
            "version": if version == 1 { "1.0.2" } else { "2.2.0" },
            "flow_type": if challenged { "C" } else { "F" },
            "status_id": status.id(),
            "status": status.text(),
            "downgraded": false,
        });
    }
    body
}

/// One record of the Reporting API's `Search` (`minimal`: `TransHistoryMinimal`'s subset).
pub fn record(ctx: &Context, ledger: &Ledger, row_id: usize, t: &Txn, minimal: bool) -> Value {
    let m = message(t);
    let completion = ledger.completion(t.id);
    let money =
        |minor: i64| Money::new(minor, t.amount.currency()).map_or_else(|_| String::new(), |x| x.major_string());
    let voided = u8::from(t.voided);
    let [r1, r2, r3, r4, r5] = &t.custom;
    let mut r = json!({
        "row_id": row_id,
        "trn_id": t.id,
        "trn_date_time": stamp(t.created_ms),
        "trn_type": t.kind.code(),
        "trn_order_number": t.order_number,
        "trn_masked_card": t.card.masked,
        "trn_amount": t.amount.major_string(),
        "trn_returns": money(ledger.returned(completion.map_or(t.id, |c| c.id))),
        "trn_completions": money(completion.map_or(0, |c| c.amount.minor())),
        "trn_voided": voided,
        "trn_response": u8::from(t.approved),
        "trn_card_type": cards::card_type(t.card.brand),
        "message_id": m.id(),
        "message_text": m.text(),
        "trn_card_owner": t.card.holder,
        "b_name": t.billing_name,
        "b_email": t.billing_email,
        "ref1": r1, "ref2": r2, "ref3": r3, "ref4": r4, "ref5": r5,
    });
    if minimal {
        return r;
    }
    let (status_3ds, flow, version) = match t.secure {
        Some(Secure::Integrated { status, challenged, version }) => (
            match status {
                cards::Status::Authenticated => "Success",
                cards::Status::Attempted => "Attempted",
                cards::Status::NonParticipating | cards::Status::Unavailable => "Unavailable",
            },
            if challenged { "C" } else { "F" },
            version,
        ),
        _ => ("", "", 0),
    };
    let extra = json!({
        "trn_payment_method": "CC",
        "trn_comments": t.comments,
        "trn_batch_no": 0,
        "trn_avs_result": "U",
        "trn_cvd_result": cvd_result(t),
        "trn_cavv_result": eci_and_cavv(t).1.map_or_else(String::new, |c| c.to_string()),
        "trn_card_expiry": format!("{:02}{:02}", t.card.expiry.0, t.card.expiry.1 % 100),
        "trn_ip": t.customer_ip,
        "trn_approval_code": auth_code(t),
        "trn_reference": t.parent.unwrap_or(0),
        "currency_abbr": t.amount.currency().code(),
        "merchant_id": ctx.merchant_id,
        "merchant_name": ctx.merchant_name,
        "entry_method": "N",
        "authorizing_merchant_id": ctx.merchant_id,
        "version_3ds": version,
        "flow_type_3ds": flow,
        "status_3ds": status_3ds,
    });
    if let (Some(r), Some(extra)) = (r.as_object_mut(), extra.as_object()) {
        r.extend(extra.clone());
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::sandbox::bambora::{cards::Status, ledger::tests::payment as new_payment};

    fn ctx() -> Context {
        Context::of(&SandboxConfig::new("http://sb/sandbox"))
    }

    #[test]
    fn times_and_amounts() {
        assert_eq!(created(1_487_870_786_000), "2017-02-23T17:26:26");
        assert_eq!(stamp(1_487_870_786_323), "2017-02-23T17:26:26.323+00:00");
        let cad = |c| Money::new(c, crate::domain::money::Currency::CAD).unwrap();
        assert_eq!(major(cad(1599)).to_string(), "15.99");
        assert_eq!(major(cad(1500)), json!(15.0));
    }

    #[test]
    fn a_payment_response_has_the_references_fields() {
        let mut l = Ledger::default();
        let secure = Some(Secure::Integrated { status: Status::Authenticated, challenged: true, version: 2 });
        let t = l.record(new_payment(Kind::PreAuth, 1599, Some("MyOrderId")), true, secure, 1_487_870_786_000).unwrap();
        let body = payment(&ctx(), t);
        assert_eq!(body["id"], "10000001");
        assert_eq!(body["authorizing_merchant_id"], 300200578);
        assert_eq!((body["approved"].as_str(), body["message_id"].as_str()), (Some("1"), Some("1")));
        assert_eq!((body["type"].as_str(), body["amount"].as_f64()), (Some("PA"), Some(15.99)));
        assert_eq!(body["created"], "2017-02-23T17:26:26");
        assert_eq!(body["card"]["card_type"], "VI");
        assert_eq!((body["card"]["eci"].as_u64(), body["card"]["cavv_result"].as_u64()), (Some(5), Some(2)));
        assert_eq!(
            body["3d_secure"],
            json!({"status_id": 1, "status": "Authenticated", "error_id": null, "error": ""})
        );
        assert_eq!(
            body["links"][0],
            json!({"rel": "complete", "href": "http://sb/sandbox/bambora/v1/payments/10000001/completions", "method": "POST"})
        );
        for key in ["custom", "auth_code", "order_number", "payment_method"] {
            assert!(body.get(key).is_some(), "{key}");
        }
        assert_eq!(body["card"]["avs"]["processed"], false);
    }

    #[test]
    fn a_transaction_shows_its_adjustments() {
        let mut l = Ledger::default();
        let p = l.record(new_payment(Kind::Purchase, 1000, None), true, None, 0).unwrap().id;
        let r = l.refund(p, Money::new(250, crate::domain::money::Currency::CAD).unwrap(), None, 0).unwrap().id;
        let t = l.get(p).unwrap();
        let body = transaction(&ctx(), &l, t);
        assert_eq!((body["id"].as_u64(), body["approved"].as_u64()), (Some(p), Some(1)));
        assert_eq!(body["total_refunds"].as_f64(), Some(2.5));
        assert_eq!(body["adjusted_by"][0]["id"].as_u64(), Some(r));
        assert_eq!(body["adjusted_by"][0]["type"], "R");
        assert_eq!(body["card"]["expiry_year"], "29");
        assert!(body.get("3d_secure").is_none());
        let rec = record(&ctx(), &l, 1, t, false);
        assert_eq!((rec["trn_id"].as_u64(), rec["trn_returns"].as_str()), (Some(p), Some("2.50")));
        assert_eq!(rec["trn_masked_card"], "403000******1234");
        assert!(record(&ctx(), &l, 1, t, true).get("merchant_name").is_none());
    }

    #[test]
    fn a_declined_payment_is_a_402_naming_its_transaction() {
        let mut l = Ledger::default();
        let t = l.record(new_payment(Kind::Purchase, 1005, Some("o-9")), false, None, 0).unwrap();
        let e = declined(t);
        assert_eq!(e.message.status().as_u16(), 402);
        let body = e.body();
        assert_eq!((body["code"].as_u64(), body["category"].as_u64()), (Some(7), Some(1)));
        assert_eq!(body["validation"]["id"], "10000001");
        assert_eq!(body["validation"]["message_id"], 7);
        assert_eq!(body["validation"]["order_number"], "o-9");
    }
}
