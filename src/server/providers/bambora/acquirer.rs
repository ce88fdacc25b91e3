//! Bambora as the acquirer the services see: the payment request kept before its call, answers read as
//! neutral transactions, and a lost answer found by its order number before anything is sent again.

use super::{
    BamboraClient, BankResponse, BrowserData, Decline, EciSeen, Outcome, PayAnswer, Payment, PaymentMethod,
    PaymentRequest, ThreeDs, ThreeDsStatus, TxnAnswer, outcomes, payment_json,
};
use crate::domain::checkout::BrowserInfo;
use crate::domain::{
    card::CardBrand,
    money::{Currency, Money},
    status::Action,
    threeds::Eci,
};
use crate::server::db::payments::ThreeDsRow;
use crate::server::providers::{
    BankAnswer, BankVisit, DeclineReason, PaymentOrder, PreparedPayment, Proof, ProviderError, Step, Tokenization, Txn,
    TxnOutcome,
};
use serde::{Deserialize, Serialize};
use serde_json::json;

/// Time for a call's answer to be recorded after its timeout.
const RECORD_GRACE_MS: i64 = 2_000;
/// A resolver's calls: a search, a read, and a resend when the search found nothing.
const RESOLVER_CALLS: i64 = 3;
/// The search's transaction types of a payment: purchase and pre-authorization.
const PAYMENT_KINDS: [&str; 2] = ["P", "PA"];

impl BamboraClient {
    /// Custom Checkout's fields, or the tokenization endpoint they call (`{api}/scripts/tokenization/tokens`,
    /// beside the Payment API's `/v1`); neither needs a key of ours.
    pub fn tokenization(&self) -> Tokenization {
        let api = self.settings.base_url.trim_end_matches('/').trim_end_matches("/v1");
        Tokenization {
            fields_url: self.settings.checkout_js_url.clone(),
            tokenize_url: format!("{api}/scripts/tokenization/tokens"),
        }
    }

    /// The payment as it will be sent, by its single-use token: with a proof, as "your own process"; asked to
    /// authenticate, with Bambora's 3-D Secure 2 (the shopper's browser, and where the bank sends it back). The
    /// timeline keeps it without the token or the CAVV.
    pub fn prepare(&self, p: &PaymentOrder<'_>) -> Result<PreparedPayment, ProviderError> {
        let browser = p.authenticate.as_ref().map(|a| browser_data(a.browser));
        let three_d_secure = match (&p.proof, &p.authenticate, &browser) {
            (Some(proof), _, _) => Some(own_process(proof, p.brand)?),
            (None, Some(auth), Some(browser)) => {
                Some(ThreeDs::Bambora { browser, version: None, auth_required: auth.required })
            }
            (None, _, _) => None,
        };
        let request = PaymentRequest {
            order_number: p.merchant_reference,
            amount: p.amount,
            method: PaymentMethod::Token { code: p.card, name: p.cardholder },
            complete: !p.pre_auth,
            customer_ip: None,
            term_url: p.authenticate.as_ref().map(|a| a.return_url),
            three_d_secure,
        };
        let stored = payment_json(&request);
        let mut logged: serde_json::Value = serde_json::from_str(&stored).map_err(super::malformed)?;
        logged["token"]["code"] = json!("[removed]");
        if logged["token"].get("3d_secure").is_some() {
            logged["token"]["3d_secure"]["cavv"] = json!("[removed]");
        }
        Ok(PreparedPayment { stored, logged })
    }

    pub async fn pay_stored(&self, stored: &str, currency: Currency) -> Result<Step<Txn, BankVisit>, ProviderError> {
        match self.send_payment(stored.to_owned(), currency).await? {
            PayAnswer::Challenge(c) => Ok(Step::Browser(BankVisit { form: c.form, session: c.session })),
            answer => payment_txn(answer).map(Step::Done),
        }
    }

    /// The `continue` after the bank's page, as kept before it is sent.
    pub fn prepare_continue(&self, session: &str, answer: &BankAnswer) -> Result<String, ProviderError> {
        let stored = StoredContinue { session: session.to_owned(), answer: answer.clone() };
        serde_json::to_string(&stored).map_err(super::malformed)
    }

    pub async fn continue_stored(&self, stored: &str, currency: Currency) -> Result<Txn, ProviderError> {
        let c: StoredContinue = serde_json::from_str(stored).map_err(super::malformed)?;
        let response = match &c.answer {
            BankAnswer::Cres(cres) => BankResponse::Cres(cres),
            BankAnswer::PaRes(pa_res) => BankResponse::PaRes(pa_res),
        };
        match self.continue_payment(&c.session, response, currency).await? {
            PayAnswer::Challenge(_) => Err(ProviderError::Malformed("a second challenge in answer to continue".into())),
            answer => payment_txn(answer),
        }
    }

    pub async fn read_txn(&self, id: &str, currency: Currency) -> Result<Txn, ProviderError> {
        match self.read(id, currency).await? {
            Some(p) => Ok(txn(p, None)),
            None => Err(ProviderError::Refused { status: 404, message: format!("no transaction {id}") }),
        }
    }

    /// A payment (or its `continue` after the bank's page) whose answer was lost: Bambora has no idempotency
    /// key, so the payment is looked for by its order number and read; only when none was made is the same
    /// request sent again (a second payment with that order number would be refused, 788; a second
    /// `continue`, 16).
    pub async fn recover(
        &self,
        stored: &str,
        order_number: &str,
        currency: Currency,
        sent_at_ms: i64,
    ) -> Result<Step<Txn, BankVisit>, ProviderError> {
        let found = self.search_by_order_number(order_number, currency, sent_at_ms).await?;
        if let Some(record) = found.iter().find(|r| PAYMENT_KINDS.contains(&r.kind.as_str())) {
            return self.read_txn(&record.id, currency).await.map(Step::Done);
        }
        if serde_json::from_str::<StoredContinue>(stored).is_ok() {
            return self.continue_stored(stored, currency).await.map(Step::Done);
        }
        self.pay_stored(stored, currency).await
    }

    /// Refund (a return), capture (a completion) or void; a void names the whole amount of the transaction.
    pub async fn act_txn(&self, id: &str, action: Action, amount: Money) -> Result<Txn, ProviderError> {
        let answer = match action {
            Action::Refund => self.refund(id, amount).await?,
            Action::Capture => self.complete(id, amount).await?,
            Action::Void => self.void(id, amount).await?,
        };
        match answer {
            // An approved void is what the services call a voided transaction.
            TxnAnswer::Approved(p) if action == Action::Void => Ok(txn(p, Some(TxnOutcome::Voided))),
            TxnAnswer::Approved(p) => Ok(txn(p, None)),
            TxnAnswer::Declined(d) => declined(d),
            TxnAnswer::Refused(r) => Err(ProviderError::Refused {
                status: r.http_status,
                message: format!("{} ({}: {})", r.reason, r.message_id, r.message),
            }),
        }
    }

    /// Calls sent before this instant (Unix ms) that have no recorded answer never will.
    pub fn unanswered_before(&self) -> i64 {
        crate::server::db::now_ms() - self.timeout_ms() - RECORD_GRACE_MS
    }

    /// Until when (Unix ms) a resolver taking an order now may hold it.
    pub fn lease_until(&self) -> i64 {
        crate::server::db::now_ms() + RESOLVER_CALLS * (self.timeout_ms() + 3_000) + RECORD_GRACE_MS
    }

    fn timeout_ms(&self) -> i64 {
        i64::try_from(self.settings.timeout_ms).unwrap_or(i64::MAX / 4)
    }
}

/// A `continue` as kept with its attempt until answered (the `cres` or `PaRes` is no card data).
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct StoredContinue {
    session: String,
    answer: BankAnswer,
}

/// The shopper's browser in Bambora's words.
fn browser_data(b: &BrowserInfo) -> BrowserData {
    BrowserData {
        accept_header: b.accept_header.clone(),
        java_enabled: b.java_enabled,
        language: b.language.clone(),
        color_depth: b.color_depth,
        screen_height: b.screen_height,
        screen_width: b.screen_width,
        time_zone: b.time_zone,
        user_agent: b.user_agent.clone(),
        javascript_enabled: b.javascript_enabled,
    }
}

/// Bambora's 3-D Secure block of a payment as the order keeps it, its liability decided by Bambora's rule.
fn authentication(p: &Payment) -> Option<ThreeDsRow> {
    let status = p.three_d_secure.as_ref().and_then(|t| t.status);
    let eci = p.card.as_ref().and_then(|c| c.eci);
    if status.is_none() && eci.is_none() {
        return None;
    }
    let seen = p.card.as_ref().map_or(EciSeen::Absent, |c| EciSeen::read(c.eci, c.brand));
    let (enrolled, pares) = status.map(ThreeDsStatus::letters).unzip();
    Some(ThreeDsRow {
        stage: "provider".into(),
        transaction_id: Some(p.id.clone()),
        enrolled: enrolled.map(str::to_owned),
        pares_status: pares.flatten().map(str::to_owned),
        eci_flag: eci.filter(|e| (0..=99).contains(e)).map(|e| format!("{e:02}")),
        status_reason: Some(outcomes::liability_reason(status, seen, p.liability).to_owned()),
        error_desc: p.three_d_secure.as_ref().and_then(|t| t.error).map(str::to_owned),
        cavv_result: p.card.as_ref().and_then(|c| c.cavv_result).map(|r| r.to_string()),
        liability_shifted: p.liability.is_shifted(),
        ..ThreeDsRow::default()
    })
}

/// A refused authentication (311) that came without a transaction.
fn not_authenticated() -> ThreeDsRow {
    ThreeDsRow {
        stage: "provider".into(),
        enrolled: Some("Y".into()),
        pares_status: Some("N".into()),
        status_reason: Some("The issuer did not authenticate the cardholder: the payment was refused.".into()),
        liability_shifted: false,
        ..ThreeDsRow::default()
    }
}

/// The authentication another provider ran, as Bambora takes it: the directory server's transaction id as
/// the `xid` (3-D Secure 2 has no XID; it is the authentication's identifier, ≤ 40 characters) `[I]`.
fn own_process(proof: &Proof, brand: CardBrand) -> Result<ThreeDs<'_>, ProviderError> {
    let missing = |what: &str| ProviderError::Malformed(format!("the authentication has no {what} to pay with"));
    let eci = proof.eci.as_deref().and_then(Eci::parse).and_then(|e| e.meaning(brand)).ok_or_else(|| missing("ECI"))?;
    Ok(ThreeDs::OwnProcess {
        xid: proof.ds_transaction_id.as_deref().ok_or_else(|| missing("transaction id"))?,
        cavv: proof.cavv.as_deref().ok_or_else(|| missing("CAVV"))?,
        brand,
        eci,
    })
}

fn payment_txn(answer: PayAnswer) -> Result<Txn, ProviderError> {
    match answer {
        PayAnswer::Approved(p) => Ok(txn(p, None)),
        PayAnswer::Declined(d) => declined(d),
        // A refusal of the request (a duplicate order number, bad fields) is no answer about a payment.
        PayAnswer::Refused(r) => Err(ProviderError::Refused {
            status: r.http_status,
            message: format!("{} ({}: {})", r.reason, r.message_id, r.message),
        }),
        PayAnswer::Challenge(_) => {
            Err(ProviderError::Malformed("a challenge to a payment that ran no 3-D Secure".into()))
        }
    }
}

fn declined(d: Decline) -> Result<Txn, ProviderError> {
    let outcome = match d.outcome {
        Outcome::Declined(reason) => TxnOutcome::Declined(reason),
        Outcome::ThreeDsFailed => TxnOutcome::Declined(DeclineReason::NotAuthenticated),
        Outcome::InvalidCard => TxnOutcome::Declined(DeclineReason::Unspecified),
        // The single-use token was unusable (expired, used): nothing was charged, the card said nothing.
        _ => TxnOutcome::Failed,
    };
    Ok(match d.payment {
        Some(p) => txn(p, Some(outcome)),
        None => Txn {
            status: "declined".into(),
            outcome,
            reason_code: Some(d.message_id.to_string()),
            message: Some(d.reason.to_owned()),
            details: json!({"message_id": d.message_id, "reason": d.reason}),
            authentication: (d.outcome == Outcome::ThreeDsFailed).then(not_authenticated),
            ..Txn::default()
        },
    })
}

/// A transaction Bambora reported; `outcome` overrides the approved flag for a decline.
fn txn(p: Payment, outcome: Option<TxnOutcome>) -> Txn {
    let details = json!({
        "id": p.id, "approved": p.approved, "message_id": p.message_id, "message": p.message, "type": p.kind,
        "order_number": p.order_number, "auth_code": p.auth_code, "created": p.created,
        "amount_minor": p.amount.minor(),
        "card_type": p.card.as_ref().map(|c| &c.card_type), "last_four": p.card.as_ref().map(|c| &c.last_four),
        "eci": p.card.as_ref().map(|c| c.eci), "cavv_result": p.card.as_ref().map(|c| c.cavv_result),
        "liability_shifted": p.liability.is_shifted(),
    });
    let outcome = outcome.unwrap_or(if p.approved {
        TxnOutcome::Approved
    } else {
        TxnOutcome::Declined(DeclineReason::Unspecified)
    });
    Txn {
        authentication: authentication(&p),
        status: if p.approved { "approved".into() } else { "declined".into() },
        outcome,
        amount: Some(p.amount.minor()),
        reason_code: Some(p.message_id.to_string()),
        message: Some(p.message),
        merchant_reference: p.order_number,
        brand: p.card.as_ref().and_then(|c| c.brand),
        // Bambora reports the last four only; the order keeps the browser's first six.
        digits: None,
        // Saved cards are offered with Verifone only.
        stored: None,
        details,
        id: p.id,
    }
}
