//! The order's timeline in the merchant's words: one line per event, read from its kind and stored details
//! (and the payment calls the details point to). The stored JSON itself stays on the page, folded.

use super::capitalized;
use crate::domain::{
    card::CardBrand,
    money::{Currency, Money},
    status::{Action, PaymentStatus},
    threeds::{Enrolled, PaResStatus},
};
use crate::server::db::payments::Attempt;
use serde_json::Value;

/// What a line may look up besides the event: the order's currency and its payment calls.
pub struct Context<'a> {
    pub currency: Currency,
    pub attempts: &'a [Attempt],
}

/// Every kind of event the services append to an order's timeline.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    OrderCreated,
    StatusChanged,
    LookupRequested,
    LookupFailed,
    LookupAnswered,
    ChallengeStarted,
    ChallengeValidated,
    ChallengeValidationFailed,
    CardCorrected,
    PaymentRequested,
    PaymentAnswered,
    PaymentFailed,
    PaymentResolution,
    /// The acquirer sent the shopper to the bank's page (3-D Secure inside its payment), and the bank sent
    /// the shopper back.
    BankRedirect,
    BankReturned,
    /// `refund_requested`, `capture_answered`, `void_failed`, …: a merchant action and what became of it.
    Action(Action, ActionStep),
    NotificationReceived,
    NotificationNotApplied,
    StoredCredential,
    CardSaved,
    CardNotSaved,
    MerchantChargeCreated,
    MerchantChargeRequested,
    MerchantChargeAnswered,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ActionStep {
    Requested,
    /// The provider did it.
    Answered,
    /// The provider said no.
    Refused,
    /// No clear answer: confirmed with the provider later.
    Failed,
}

impl Kind {
    fn parse(kind: &str) -> Option<Kind> {
        Some(match kind {
            "order_created" => Kind::OrderCreated,
            "status_changed" => Kind::StatusChanged,
            "lookup_requested" => Kind::LookupRequested,
            "lookup_failed" => Kind::LookupFailed,
            "lookup_answered" => Kind::LookupAnswered,
            "challenge_started" => Kind::ChallengeStarted,
            "challenge_validated" => Kind::ChallengeValidated,
            "challenge_validation_failed" => Kind::ChallengeValidationFailed,
            "card_corrected" => Kind::CardCorrected,
            "payment_requested" => Kind::PaymentRequested,
            "payment_answered" => Kind::PaymentAnswered,
            "payment_failed" => Kind::PaymentFailed,
            "payment_resolution" => Kind::PaymentResolution,
            "bank_redirect" => Kind::BankRedirect,
            "bank_returned" => Kind::BankReturned,
            "notification_received" => Kind::NotificationReceived,
            "notification_not_applied" => Kind::NotificationNotApplied,
            "stored_credential" => Kind::StoredCredential,
            "card_saved" => Kind::CardSaved,
            "card_not_saved" => Kind::CardNotSaved,
            "merchant_charge_created" => Kind::MerchantChargeCreated,
            "merchant_charge_requested" => Kind::MerchantChargeRequested,
            "merchant_charge_answered" => Kind::MerchantChargeAnswered,
            other => {
                let (action, step) = other.split_once('_')?;
                let step = match step {
                    "requested" => ActionStep::Requested,
                    "answered" => ActionStep::Answered,
                    "refused" => ActionStep::Refused,
                    "failed" => ActionStep::Failed,
                    _ => return None,
                };
                Kind::Action(Action::parse(action)?, step)
            }
        })
    }
}

/// The event's line. A kind this code does not know still gets one: its name in words.
pub fn describe(kind: &str, details: &Value, ctx: &Context) -> String {
    let Some(k) = Kind::parse(kind) else { return capitalized(&kind.replace('_', " ")) };
    let text = |key: &'static str| field(details, key);
    let money = |minor: Option<i64>, currency: Currency| minor.and_then(|m| Money::new(m, currency).ok());
    let of = |amount: Option<Money>| amount.map_or_else(String::new, |m| format!(" of {m}"));
    let txn = |id: Option<&str>| id.map_or_else(String::new, |id| format!(" (transaction {id})"));
    let said = || text("message").or(text("reason")).or(text("error")).unwrap_or("no reason given");
    let id = text("id");
    match k {
        Kind::OrderCreated => {
            let currency = text("currency").and_then(|c| Currency::parse(c).ok()).unwrap_or(ctx.currency);
            let amount = money(details["amount_minor"].as_i64(), currency);
            let mut line = format!("Order created{}", amount.map_or_else(String::new, |m| format!(" for {m}")));
            match text("capture_mode") {
                Some("pre_auth") => line.push_str(", to be captured later"),
                Some("sale") => line.push_str(", paid at once"),
                _ => {}
            }
            let acquirer = text("provider").map(provider_name);
            match (text("authenticator").map(provider_name), acquirer) {
                (Some(a), Some(p)) => line.push_str(&format!(": 3-D Secure by {a}, payment by {p}")),
                (None, Some(p)) => line.push_str(&format!(": payment by {p}")),
                (Some(a), None) => line.push_str(&format!(": 3-D Secure by {a}")),
                (None, None) => {}
            }
            line
        }
        Kind::StatusChanged => {
            let label = |key| text(key).map(|s| PaymentStatus::parse(s).map_or(s.to_owned(), |p| p.label().to_owned()));
            match (label("from"), label("to")) {
                (Some(from), Some(to)) => format!("Status changed from {from} to {to}"),
                (None, Some(to)) => format!("Status changed to {to}"),
                _ => "Status changed".into(),
            }
        }
        Kind::LookupRequested => "3-D Secure lookup requested".into(),
        Kind::LookupFailed => format!("3-D Secure lookup failed: {}", said()),
        Kind::LookupAnswered => format!("3-D Secure lookup answered: {}", threeds_answer(details)),
        Kind::ChallengeStarted => "Challenge shown: the card's bank asks the shopper to confirm the payment".into(),
        Kind::ChallengeValidated => format!("Challenge result checked: {}", threeds_answer(details)),
        Kind::ChallengeValidationFailed => format!("The challenge's result could not be checked: {}", said()),
        Kind::CardCorrected => {
            let by = match text("reported_by") {
                Some("lookup") => " (as the 3-D Secure lookup read it)",
                Some("payment") => " (as the payment answer read it)",
                _ => "",
            };
            let brand = text("brand").map(|b| CardBrand::parse(b).map_or(b.to_owned(), |b| b.to_string()));
            let card = match (brand, text("last4")) {
                (Some(b), Some(l)) => format!(": {b} •••• {l}"),
                (Some(b), None) => format!(": {b}"),
                (None, Some(l)) => format!(": •••• {l}"),
                (None, None) => String::new(),
            };
            format!("Card details corrected by the provider{by}{card}")
        }
        Kind::PaymentRequested => {
            let key = text("idempotency_key");
            let attempt = ctx.attempts.iter().find(|a| Some(a.idempotency_key.as_str()) == key);
            format!("Payment{} requested", of(attempt.and_then(|a| money(Some(a.amount_minor), ctx.currency))))
        }
        Kind::PaymentAnswered => {
            // The payment call recorded for this transaction says what the answer meant; without one, the
            // answer's own approved flag (Bambora) or status word (Verifone).
            let attempt =
                id.and_then(|id| ctx.attempts.iter().find(|a| a.provider_transaction_id.as_deref() == Some(id)));
            let outcome = match (attempt.map(|a| a.status.as_str()), details["approved"].as_bool()) {
                (Some(s), _) => s,
                (None, Some(true)) => "succeeded",
                (None, Some(false)) => "declined",
                (None, None) if id.is_none() && text("reason").is_some() => "declined",
                (None, None) => "",
            };
            let why = attempt.and_then(|a| a.message.as_deref()).filter(|m| !m.is_empty()).unwrap_or_else(said);
            match outcome {
                "succeeded" => format!("Payment approved{}", txn(id)),
                "declined" => format!("Payment declined{}: {why}", txn(id)),
                "failed" => format!("Payment failed at the provider{}: {why}", txn(id)),
                "unknown" | "pending" => {
                    format!("Unclear payment answer{}; it is confirmed with the provider", txn(id))
                }
                _ => format!("Payment answered{}: status {}", txn(id), text("status").unwrap_or("not given")),
            }
        }
        Kind::PaymentFailed if details["outcome_unknown"].as_bool() == Some(true) => {
            format!("No clear answer to the payment ({}); it is confirmed with the provider, never sent twice", said())
        }
        Kind::PaymentFailed => format!("Payment failed: {}", said()),
        Kind::PaymentResolution => match text("read") {
            Some(id) => format!("Lost payment answer read again from the provider (transaction {id})"),
            None => "Lost payment answer asked for again, with the same idempotency key".into(),
        },
        Kind::BankRedirect => match text("bank") {
            Some(bank) => format!("Shopper sent to the card's bank to confirm the payment ({bank})"),
            None => "Shopper sent to the card's bank to confirm the payment".into(),
        },
        Kind::BankReturned => match text("answer") {
            Some("pa_res") => "Back from the bank (3-D Secure 1): the payment goes on".into(),
            _ => "Back from the bank (3-D Secure 2): the payment goes on".into(),
        },
        Kind::StoredCredential => match text("use") {
            Some("signup") => "The shopper asked to save the card with this payment".into(),
            Some("customer") => "The shopper pays with a saved card".into(),
            _ => "The payment uses a saved card".into(),
        },
        Kind::CardSaved => match text("token_last4") {
            Some(tail) => format!("Card saved for the shopper (token …{tail})"),
            None => "Card saved for the shopper".into(),
        },
        Kind::CardNotSaved => format!("The card could not be saved: {}", text("why").unwrap_or("no reason given")),
        Kind::MerchantChargeCreated => {
            let original = text("original_order_id").unwrap_or("another order");
            format!(
                "Merchant-initiated charge of the saved card of order {original}: {}",
                text("description").unwrap_or("")
            )
        }
        Kind::MerchantChargeRequested | Kind::MerchantChargeAnswered => {
            let amount = &details["amount"];
            let currency = amount["currency"].as_str().and_then(|c| Currency::parse(c).ok()).unwrap_or(ctx.currency);
            let order = text("order_id").unwrap_or("a new order");
            match (k, text("status")) {
                (Kind::MerchantChargeRequested, _) => {
                    format!(
                        "Saved card charged{} by the merchant: order {order}",
                        of(money(amount["amount_minor"].as_i64(), currency))
                    )
                }
                (_, Some(status)) => {
                    let status = PaymentStatus::parse(status).map_or(status.to_owned(), |p| p.label().to_owned());
                    format!("Merchant-initiated charge {order}: {status}")
                }
                _ => format!("Merchant-initiated charge {order} answered"),
            }
        }
        Kind::Action(action, step) => {
            let noun = capitalized(action.as_str());
            match step {
                ActionStep::Requested => {
                    let currency = text("currency").and_then(|c| Currency::parse(c).ok()).unwrap_or(ctx.currency);
                    format!("{noun}{} requested", of(money(details["amount_minor"].as_i64(), currency)))
                }
                ActionStep::Answered => {
                    let attempt = id
                        .and_then(|id| ctx.attempts.iter().find(|a| a.provider_transaction_id.as_deref() == Some(id)));
                    let amount = attempt.and_then(|a| money(Some(a.amount_minor), ctx.currency));
                    format!("{noun}{} approved{}", of(amount), txn(id))
                }
                ActionStep::Refused => format!("{noun} refused by the provider: {}", said()),
                ActionStep::Failed => format!(
                    "No clear answer to the {} ({}); it is confirmed with the provider, never sent twice",
                    action.as_str(),
                    said()
                ),
            }
        }
        Kind::NotificationReceived => {
            let mut line = format!("Provider notification {}", text("event").unwrap_or("without a name"));
            let facts: Vec<String> = [
                text("transaction_id").map(|t| format!("transaction {t}")),
                text("status").map(|s| format!("status {s}")),
                money(details["amount_minor"].as_i64(), ctx.currency).map(|m| m.to_string()),
            ]
            .into_iter()
            .flatten()
            .collect();
            if !facts.is_empty() {
                line.push_str(&format!(" ({})", facts.join(", ")));
            }
            line
        }
        Kind::NotificationNotApplied => {
            format!("Provider notification {} not applied: {}", text("event").unwrap_or("without a name"), said())
        }
    }
}

/// What a stored 3-D Secure answer said: "challenge required", "authenticated, ECI 05".
fn threeds_answer(details: &Value) -> String {
    let text = |key: &'static str| field(details, key);
    let status = text("pares_status").and_then(PaResStatus::parse).map(PaResStatus::meaning);
    let enrolled = text("enrolled").and_then(Enrolled::parse).filter(|e| *e != Enrolled::Y).map(Enrolled::meaning);
    // Error number 0 is Cardinal's "Success": no error.
    let error = text("error_no").filter(|n| *n != "0").map(|n| (n, text("error_desc").unwrap_or("no description")));
    let mut answer = match (status, enrolled, error) {
        (Some(s), _, _) => s.to_owned(),
        (None, Some(e), _) => e.to_owned(),
        (None, None, Some((n, d))) => format!("error {n}: {d}"),
        (None, None, None) => "no authentication status".to_owned(),
    };
    // A challenge's ECI comes with its result; the lookup's says nothing yet.
    let challenged = text("pares_status").and_then(PaResStatus::parse) == Some(PaResStatus::C);
    if let Some(eci) = text("eci_flag").filter(|_| !challenged) {
        answer.push_str(&format!(", ECI {eci}"));
    }
    answer
}

/// A text field of the details, if it has any.
fn field<'a>(details: &'a Value, key: &str) -> Option<&'a str> {
    details.get(key).and_then(Value::as_str).filter(|s| !s.trim().is_empty())
}

/// "verifone" → "Verifone".
fn provider_name(p: &str) -> String {
    capitalized(p)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn attempt(key: &str, txn: &str, status: &str, minor: i64, message: Option<&str>) -> Attempt {
        Attempt {
            id: format!("a-{key}"),
            order_id: "o".into(),
            kind: "authorize".into(),
            idempotency_key: key.into(),
            amount_minor: minor,
            status: status.into(),
            provider_transaction_id: Some(txn.into()),
            provider_status: None,
            reason_code: None,
            message: message.map(str::to_owned),
            sealed_request: None,
            created_at: 0,
        }
    }

    #[test]
    fn every_kind_reads_as_a_sentence() {
        let attempts = vec![
            attempt("k-pay", "123", "succeeded", 2400, None),
            attempt("k-bad", "124", "declined", 2400, Some("Insufficient funds")),
            attempt("k-ref", "777", "succeeded", 500, None),
        ];
        let ctx = Context { currency: Currency::EUR, attempts: &attempts };
        let verifone_txn = json!({"id": "123", "status": "SETTLEMENT_REQUESTED", "amount": 2400});
        let bambora_txn = json!({"id": "10000001", "approved": true, "message": "Approved", "amount_minor": 2400});
        let cases: Vec<(&str, Value, &str)> = vec![
            (
                "order_created",
                json!({"amount_minor": 2400, "currency": "EUR", "authenticator": "verifone", "provider": "bambora",
                       "capture_mode": "sale"}),
                "Order created for EUR 24.00, paid at once: 3-D Secure by Verifone, payment by Bambora",
            ),
            (
                "order_created",
                json!({"amount_minor": 1500, "currency": "JPY", "authenticator": null, "provider": "bambora",
                       "capture_mode": "pre_auth"}),
                "Order created for JPY 1,500, to be captured later: payment by Bambora",
            ),
            (
                "status_changed",
                json!({"from": "authorizing", "to": "captured"}),
                "Status changed from Authorizing to Paid",
            ),
            ("lookup_requested", json!({"device_session": "s"}), "3-D Secure lookup requested"),
            ("lookup_failed", json!({"error": "timed out"}), "3-D Secure lookup failed: timed out"),
            (
                "lookup_answered",
                json!({"stage": "lookup", "enrolled": "Y", "pares_status": "C", "eci_flag": "07"}),
                "3-D Secure lookup answered: challenge required",
            ),
            (
                "lookup_answered",
                json!({"enrolled": "N", "pares_status": null, "eci_flag": "07"}),
                "3-D Secure lookup answered: issuer does not participate, ECI 07",
            ),
            (
                "lookup_answered",
                json!({"enrolled": null, "pares_status": null, "error_no": "1002", "error_desc": "Timeout"}),
                "3-D Secure lookup answered: error 1002: Timeout",
            ),
            (
                "lookup_answered",
                json!({"enrolled": "U", "pares_status": null, "error_no": "0", "error_desc": "Success"}),
                "3-D Secure lookup answered: enrollment status unavailable",
            ),
            (
                "challenge_started",
                json!({"transaction_id": "t"}),
                "Challenge shown: the card's bank asks the shopper to confirm the payment",
            ),
            (
                "challenge_validated",
                json!({"enrolled": "Y", "pares_status": "Y", "eci_flag": "05"}),
                "Challenge result checked: authenticated, ECI 05",
            ),
            (
                "challenge_validation_failed",
                json!({"error": "bad signature"}),
                "The challenge's result could not be checked: bad signature",
            ),
            (
                "card_corrected",
                json!({"reported_by": "lookup", "brand": "MASTERCARD", "bin6": null, "last4": null}),
                "Card details corrected by the provider (as the 3-D Secure lookup read it): Mastercard",
            ),
            (
                "card_corrected",
                json!({"reported_by": "payment", "brand": "VISA", "bin6": "411111", "last4": "1111"}),
                "Card details corrected by the provider (as the payment answer read it): Visa •••• 1111",
            ),
            ("payment_requested", json!({"idempotency_key": "k-pay", "request": {}}), "Payment of EUR 24.00 requested"),
            ("payment_answered", verifone_txn, "Payment approved (transaction 123)"),
            ("payment_answered", bambora_txn, "Payment approved (transaction 10000001)"),
            (
                "payment_answered",
                json!({"id": "124", "status": "DECLINED"}),
                "Payment declined (transaction 124): Insufficient funds",
            ),
            (
                "payment_answered",
                json!({"id": "555", "approved": false, "message": "DECLINE"}),
                "Payment declined (transaction 555): DECLINE",
            ),
            (
                "payment_answered",
                json!({"message_id": 311, "reason": "3-D Secure failed"}),
                "Payment declined: 3-D Secure failed",
            ),
            (
                "payment_answered",
                json!({"id": "999", "status": "ODD"}),
                "Payment answered (transaction 999): status ODD",
            ),
            (
                "payment_failed",
                json!({"error": "timed out", "outcome_unknown": true}),
                "No clear answer to the payment (timed out); it is confirmed with the provider, never sent twice",
            ),
            (
                "payment_failed",
                json!({"error": "refused: 401", "outcome_unknown": false}),
                "Payment failed: refused: 401",
            ),
            (
                "payment_resolution",
                json!({"idempotency_key": "k", "read": "123"}),
                "Lost payment answer read again from the provider (transaction 123)",
            ),
            (
                "payment_resolution",
                json!({"idempotency_key": "k", "read": null}),
                "Lost payment answer asked for again, with the same idempotency key",
            ),
            (
                "bank_redirect",
                json!({"bank": "https://acs.bank.example"}),
                "Shopper sent to the card's bank to confirm the payment (https://acs.bank.example)",
            ),
            ("bank_returned", json!({"answer": "pa_res"}), "Back from the bank (3-D Secure 1): the payment goes on"),
            ("bank_returned", json!({"answer": "cres"}), "Back from the bank (3-D Secure 2): the payment goes on"),
            (
                "refund_requested",
                json!({"amount_minor": 500, "currency": "EUR", "idempotency_key": "k"}),
                "Refund of EUR 5.00 requested",
            ),
            (
                "capture_requested",
                json!({"amount_minor": 1250, "currency": "KWD", "idempotency_key": "k"}),
                "Capture of KWD 1.250 requested",
            ),
            (
                "refund_answered",
                json!({"id": "777", "status": "APPROVED"}),
                "Refund of EUR 5.00 approved (transaction 777)",
            ),
            ("void_answered", json!({"id": "888", "approved": true}), "Void approved (transaction 888)"),
            (
                "refund_refused",
                json!({"id": "9", "message": "Nothing captured remains to refund"}),
                "Refund refused by the provider: Nothing captured remains to refund",
            ),
            (
                "capture_refused",
                json!({"error": "refused (422)", "outcome_unknown": false}),
                "Capture refused by the provider: refused (422)",
            ),
            (
                "void_failed",
                json!({"error": "timed out", "outcome_unknown": true}),
                "No clear answer to the void (timed out); it is confirmed with the provider, never sent twice",
            ),
            (
                "notification_received",
                json!({"event": "TxnRefundApproved", "event_id": "e", "transaction_id": "42", "status": "REFUNDED",
                       "amount_minor": 400, "parent_id": "123"}),
                "Provider notification TxnRefundApproved (transaction 42, status REFUNDED, EUR 4.00)",
            ),
            (
                "notification_not_applied",
                json!({"event": "TxnRefundApproved", "reason": "the refund can be at most EUR 1.00", "amount": 400}),
                "Provider notification TxnRefundApproved not applied: the refund can be at most EUR 1.00",
            ),
            ("redirect_started", json!({}), "Redirect started"),
            ("refund_exploded", json!({}), "Refund exploded"),
        ];
        for (kind, details, line) in cases {
            assert_eq!(describe(kind, &details, &ctx), line, "{kind} {details}");
        }
    }

    /// Every kind the services append (a literal third argument of `append_event(`) has its own line, and
    /// the kinds made with `format!` are the actions' (tested above).
    #[test]
    fn every_kind_the_services_append_is_known() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/server");
        let mut files = vec![root.clone()];
        let mut kinds = Vec::new();
        while let Some(path) = files.pop() {
            if path.is_dir() {
                files.extend(std::fs::read_dir(&path).unwrap().map(|e| e.unwrap().path()));
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") || path.ends_with("merchant/timeline.rs") {
                continue;
            }
            let source = std::fs::read_to_string(&path).unwrap();
            for (at, _) in source.match_indices("append_event(") {
                if source[..at].ends_with("fn ") {
                    continue;
                }
                let third = third_argument(&source[at + "append_event(".len()..]);
                if let Some(kind) = third.strip_prefix('"').and_then(|k| k.strip_suffix('"')) {
                    kinds.push((kind.to_owned(), path.display().to_string()));
                } else {
                    assert!(third.starts_with("&format!(\""), "{}: a kind made otherwise: {third}", path.display());
                }
            }
        }
        assert!(kinds.len() >= 15, "{kinds:?}");
        for (kind, file) in kinds {
            assert!(Kind::parse(&kind).is_some(), "{file} appends {kind:?}, which has no line of its own");
        }
    }

    /// The third argument of a call whose arguments start `s`: commas inside brackets do not count.
    fn third_argument(s: &str) -> &str {
        let (mut depth, mut start, mut index) = (0, 0, 0);
        for (i, c) in s.char_indices() {
            match c {
                '(' | '[' | '{' => depth += 1,
                ')' | ']' | '}' if depth == 0 => return s[start..i].trim(),
                ')' | ']' | '}' => depth -= 1,
                ',' if depth == 0 => {
                    index += 1;
                    if index == 3 {
                        return s[start..i].trim();
                    }
                    start = i + 1;
                }
                _ => {}
            }
        }
        ""
    }
}
