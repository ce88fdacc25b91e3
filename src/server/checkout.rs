//! The one service that orders the checkout's steps: order → 3DS lookup → (challenge → JWT validation) →
//! payment. Every step is persisted before its provider call and its answer after, and appended to the
//! order's event log. Browser-reported 3DS values are never trusted: the challenge's result comes from the
//! 3DS service's validation of the JWT.

pub use crate::api::checkout::NextStep;
use crate::domain::{
    card::{CardBrand, CardSummary, Expiry},
    catalog::{self, CartLine},
    customer::{BillingDetails, FieldError},
    status::PaymentStatus,
    threeds::{Enrolled, PaResStatus, SignatureVerification, ThreeDsOutcome},
};
use crate::server::{
    config::{Settings, ThreeDsPolicy},
    db::{
        self,
        orders::{self, CaptureMode, NewOrder, OrderError, Provider},
        payments::{self, AttemptAnswer, AttemptKind, AttemptStatus, ThreeDsRow},
    },
    providers::{
        ProviderError,
        verifone::{TxnOutcome, VerifoneClient, wire},
    },
};
use serde_json::json;

pub struct PlaceOrder {
    /// One per checkout page view: a double submit or a retried request finds the same order.
    pub checkout_key: String,
    pub cart: Vec<CartLine>,
    pub billing: BillingDetails,
    /// What the browser may tell us of the card: brand, first six, last four, expiry.
    pub card: CardSummary,
    /// Cardinal's `sessionId` from `payments.setupComplete`.
    pub session_id: String,
    /// verifone.js output: the card encrypted to the provider's key. We cannot read it.
    pub encrypted_card: String,
}

#[derive(Debug, thiserror::Error)]
pub enum CheckoutError {
    #[error("some details need correcting")]
    Invalid(Vec<FieldError>),
    #[error("order not found")]
    NotFound,
    #[error("{0}")]
    Conflict(String),
    #[error(transparent)]
    Store(#[from] OrderError),
}

impl From<sqlx::Error> for CheckoutError {
    fn from(e: sqlx::Error) -> Self {
        CheckoutError::Store(OrderError::Db(e))
    }
}

pub struct Checkout<'a> {
    pub pool: &'a db::Database,
    pub verifone: &'a VerifoneClient,
    pub settings: &'a Settings,
}

/// Plain-language reasons the result page shows.
mod reason {
    pub const APPROVED: &str = "Your payment was approved.";
    pub const AUTHORIZED: &str = "Your payment was authorized; you will be charged when the order ships.";
    pub const NOT_AUTHENTICATED: &str =
        "Your bank did not confirm it was you, so the payment was not made. You have not been charged.";
    pub const NO_3DS: &str = "We could not confirm the payment with your bank, so it was not made. You have not been charged. Try again or use another card.";
    pub const MISMATCH: &str =
        "The bank's confirmation did not match this order, so the payment was not made. You have not been charged.";
    pub const FAILED: &str = "The payment could not be processed. You have not been charged. Please try again.";
    pub const UNKNOWN: &str =
        "We are confirming the payment with the bank. Refresh this page in a minute; you will not be charged twice.";
    pub const EXPIRED: &str = "This checkout was not completed in time. You have not been charged.";
}

/// Declines by response code, in words.
fn decline_reason(code: Option<&str>) -> String {
    let why = match code {
        Some("51") => "The card has insufficient funds.",
        Some("54") => "The card has expired.",
        Some("05") | Some("59") => "The bank declined the payment.",
        _ => "The payment was declined.",
    };
    format!("{why} You have not been charged. Try another card.")
}

impl Checkout<'_> {
    pub async fn place_order(&self, input: PlaceOrder) -> Result<NextStep, CheckoutError> {
        let billing = input.billing.clone().validated().map_err(CheckoutError::Invalid)?;
        check_card_summary(&input.card)?;
        if input.session_id.trim().is_empty() || input.encrypted_card.trim().is_empty() {
            return Err(CheckoutError::Invalid(vec![FieldError::new(
                "card_number",
                "the card could not be prepared; reload the page",
            )]));
        }
        let quote = catalog::quote(&input.cart, self.settings.shop.currency)
            .map_err(|e| CheckoutError::Invalid(vec![FieldError::new("cart", e.to_string())]))?;
        if let Some(order_id) = orders::by_checkout_key(self.pool, &input.checkout_key).await? {
            return Ok(NextStep::Done { order_id });
        }
        let capture_mode = if self.settings.shop.pre_auth { CaptureMode::PreAuth } else { CaptureMode::Sale };
        let mut tx = db::begin_write(self.pool).await?;
        let new = NewOrder {
            checkout_key: Some(input.checkout_key.clone()),
            merchant_reference: format!("CO-{}", &uuid::Uuid::new_v4().simple().to_string()[..12].to_uppercase()),
            amount: quote.total,
            billing: billing.clone(),
            card: Some(input.card.clone()),
            provider: Provider::Verifone,
            capture_mode,
        };
        let order_id = match orders::insert(&mut tx, &new).await {
            Ok(id) => id,
            // Two submits raced: the other one created the order.
            Err(OrderError::Db(e)) if is_unique_violation(&e) => {
                drop(tx);
                let id =
                    orders::by_checkout_key(self.pool, &input.checkout_key).await?.ok_or(CheckoutError::NotFound)?;
                return Ok(NextStep::Done { order_id: id });
            }
            Err(e) => return Err(e.into()),
        };
        payments::insert_items(&mut tx, &order_id, &quote.lines).await?;
        orders::transition(&mut tx, &order_id, PaymentStatus::Authenticating).await?;
        orders::append_event(&mut tx, &order_id, "lookup_requested", &json!({"device_info_id": input.session_id}))
            .await?;
        tx.commit().await?;

        let s = &self.verifone.settings();
        let request = wire::LookupRequest {
            amount: quote.total.minor(),
            billing_first_name: &billing.first_name,
            billing_last_name: &billing.last_name,
            billing_address_1: &billing.address_1,
            billing_city: &billing.city,
            billing_country_code: &billing.country,
            currency_code: quote.total.currency().code(),
            device_info_id: &input.session_id,
            email: &billing.email,
            merchant_reference: &new.merchant_reference,
            threeds_contract_id: &s.threeds_contract_id,
            encrypted_card: &input.encrypted_card,
            public_key_alias: &s.public_key_alias,
        };
        let lookup = self.verifone.lookup(&request).await;
        let ctx = PayContext { order_id: &order_id, brand: input.card.brand, encrypted_card: &input.encrypted_card };
        match lookup {
            Err(e) => {
                let mut tx = db::begin_write(self.pool).await?;
                orders::append_event(&mut tx, &order_id, "lookup_failed", &json!({"error": e.to_string()})).await?;
                if let ProviderError::Refused { status: 400..=499, .. } = e {
                    return self.conclude(tx, &order_id, PaymentStatus::Failed, reason::FAILED).await;
                }
                tx.commit().await?;
                self.without_authentication(&ctx).await
            }
            Ok(answer) => self.after_lookup(&ctx, answer).await,
        }
    }

    async fn after_lookup(&self, ctx: &PayContext<'_>, l: wire::LookupResponse) -> Result<NextStep, CheckoutError> {
        let enrolled = l.enrolled.as_deref().and_then(Enrolled::parse);
        let pares = l.pares_status.as_deref().and_then(PaResStatus::parse);
        let outcome = outcome(enrolled, pares, l.signature_verification.as_deref());
        let row = ThreeDsRow {
            stage: "lookup".into(),
            authentication_id: l.authentication_id.clone(),
            transaction_id: l.transaction_id.clone(),
            acs_transaction_id: l.acs_transaction_id.clone(),
            ds_transaction_id: l.ds_transaction_id.clone(),
            threeds_version: l.threeds_version.clone(),
            enrolled: l.enrolled.clone(),
            pares_status: l.pares_status.clone(),
            signature_verification: l.signature_verification.clone(),
            eci_flag: l.eci_flag.clone(),
            cavv_present: l.cavv.as_deref().is_some_and(|c| !c.is_empty()),
            challenge_required: l.challenge_required.clone(),
            status_reason: l.status_reason.clone(),
            action_code: None,
            error_no: l.error_no.clone(),
            error_desc: l.error_desc.clone(),
            liability_shifted: outcome.liability_shift().is_shifted(),
        };
        let mut tx = db::begin_write(self.pool).await?;
        payments::insert_threeds(&mut tx, ctx.order_id, &row).await?;
        orders::append_event(&mut tx, ctx.order_id, "lookup_answered", &json!(row)).await?;
        match pares {
            Some(PaResStatus::C) => {
                let (Some(acs_url), Some(payload), Some(transaction_id)) = (l.acs_url, l.payload, l.transaction_id)
                else {
                    return self.conclude(tx, ctx.order_id, PaymentStatus::Failed, reason::FAILED).await;
                };
                orders::append_event(
                    &mut tx,
                    ctx.order_id,
                    "challenge_started",
                    &json!({"transaction_id": transaction_id}),
                )
                .await?;
                tx.commit().await?;
                Ok(NextStep::Challenge { order_id: ctx.order_id.to_owned(), acs_url, payload, transaction_id })
            }
            Some(PaResStatus::Y | PaResStatus::A) => {
                // The lookup's answer and the payment's intent share one commit.
                let threed = wire::ThreedAuthentication {
                    eci_flag: l.eci_flag,
                    enrolled: l.enrolled,
                    cavv: l.cavv,
                    pares_status: l.pares_status,
                    threeds_version: l.threeds_version,
                    ds_transaction_id: l.ds_transaction_id,
                    signature_verification: l.signature_verification,
                    error_desc: l.error_desc,
                    error_no: l.error_no,
                };
                self.pay(ctx, Some(threed), Some(tx)).await
            }
            Some(PaResStatus::N | PaResStatus::R) => {
                self.conclude(tx, ctx.order_id, PaymentStatus::Declined, reason::NOT_AUTHENTICATED).await
            }
            Some(PaResStatus::U) | None => {
                tx.commit().await?;
                self.without_authentication(ctx).await
            }
        }
    }

    /// Ends the checkout in `status` with `reason`, in the caller's open transaction, and sends the shopper
    /// to the receipt.
    async fn conclude(
        &self,
        mut tx: db::Tx,
        order_id: &str,
        status: PaymentStatus,
        reason: &str,
    ) -> Result<NextStep, CheckoutError> {
        orders::finish(&mut tx, order_id, status, reason).await?;
        tx.commit().await?;
        Ok(NextStep::Done { order_id: order_id.to_owned() })
    }

    /// 3-D Secure gave no answer (U, B, errors, timeouts): the merchant's policy decides.
    async fn without_authentication(&self, ctx: &PayContext<'_>) -> Result<NextStep, CheckoutError> {
        match self.settings.shop.threeds_policy {
            ThreeDsPolicy::Decline => {
                self.conclude(db::begin_write(self.pool).await?, ctx.order_id, PaymentStatus::Declined, reason::NO_3DS)
                    .await
            }
            ThreeDsPolicy::ProceedWithoutShift => self.pay(ctx, None, None).await,
        }
    }

    /// After the challenge: the JWT from `payments.validated`, checked by the 3DS service, decides.
    pub async fn complete_challenge(
        &self,
        order_id: &str,
        jwt: &str,
        encrypted_card: &str,
    ) -> Result<NextStep, CheckoutError> {
        let order = orders::get(self.pool, order_id).await.map_err(|e| match e {
            OrderError::NotFound => CheckoutError::NotFound,
            other => other.into(),
        })?;
        if order.status != PaymentStatus::Authenticating {
            // A replayed or late completion: the order has moved on; show where it is.
            return Ok(NextStep::Done { order_id: order.id });
        }
        let lookup =
            payments::latest_threeds(self.pool, order_id).await?.filter(|r| r.pares_status.as_deref() == Some("C"));
        let Some(lookup) = lookup else {
            return Err(CheckoutError::Conflict("this order is not waiting for a challenge".into()));
        };
        let ctx =
            PayContext { order_id, brand: order.card.as_ref().map_or(CardBrand::Visa, |c| c.brand), encrypted_card };
        let v = match self.verifone.validate_jwt(jwt).await {
            Ok(v) => v,
            Err(e) => {
                let mut tx = db::begin_write(self.pool).await?;
                orders::append_event(
                    &mut tx,
                    order_id,
                    "challenge_validation_failed",
                    &json!({"error": e.to_string()}),
                )
                .await?;
                return self.conclude(tx, order_id, PaymentStatus::Failed, reason::MISMATCH).await;
            }
        };
        let belongs = v.transaction_id == lookup.transaction_id
            && v.amount == Some(order.amount.minor())
            && v.currency_code.as_deref() == Some(order.amount.currency().code());
        let enrolled = lookup.enrolled.as_deref().and_then(Enrolled::parse);
        let pares = v.pares_status.as_deref().and_then(PaResStatus::parse);
        let outcome = outcome(enrolled, pares, v.signature_verification.as_deref());
        let row = ThreeDsRow {
            stage: "challenge".into(),
            authentication_id: v.authentication_id.clone(),
            transaction_id: v.transaction_id.clone(),
            ds_transaction_id: v.ds_transaction_id.clone(),
            threeds_version: v.threeds_version.clone(),
            enrolled: lookup.enrolled.clone(),
            pares_status: v.pares_status.clone(),
            signature_verification: v.signature_verification.clone(),
            eci_flag: v.eci_flag.clone(),
            cavv_present: v.cavv.as_deref().is_some_and(|c| !c.is_empty()),
            action_code: v.action_code.clone(),
            error_no: v.error_number.as_ref().map(|n| n.to_string().trim_matches('"').to_owned()),
            error_desc: v.error_description.clone(),
            liability_shifted: belongs && outcome.liability_shift().is_shifted(),
            ..ThreeDsRow::default()
        };
        let mut tx = db::begin_write(self.pool).await?;
        payments::insert_threeds(&mut tx, order_id, &row).await?;
        orders::append_event(&mut tx, order_id, "challenge_validated", &json!(row)).await?;
        if !belongs || v.valid == Some(false) {
            return self.conclude(tx, order_id, PaymentStatus::Failed, reason::MISMATCH).await;
        }
        tx.commit().await?;
        match (v.action_code.as_deref(), pares) {
            (Some("SUCCESS"), Some(PaResStatus::Y | PaResStatus::A)) => {
                let threed = wire::ThreedAuthentication {
                    eci_flag: v.eci_flag,
                    enrolled: lookup.enrolled,
                    cavv: v.cavv,
                    pares_status: v.pares_status,
                    threeds_version: v.threeds_version,
                    ds_transaction_id: v.ds_transaction_id,
                    signature_verification: v.signature_verification,
                    error_desc: v.error_description,
                    error_no: Some("0".into()),
                };
                self.pay(&ctx, Some(threed), None).await
            }
            (_, Some(PaResStatus::N | PaResStatus::R)) | (Some("FAILURE"), _) => {
                let tx = db::begin_write(self.pool).await?;
                self.conclude(tx, order_id, PaymentStatus::Declined, reason::NOT_AUTHENTICATED).await
            }
            _ => self.without_authentication(&ctx).await,
        }
    }

    /// Authorizes (and for a sale, captures) once: the attempt and its idempotency key are stored first, in
    /// `open` when the caller has a write transaction going.
    async fn pay(
        &self,
        ctx: &PayContext<'_>,
        threed: Option<wire::ThreedAuthentication>,
        open: Option<db::Tx>,
    ) -> Result<NextStep, CheckoutError> {
        let order = orders::get(self.pool, ctx.order_id).await?;
        let s = self.verifone.settings();
        let pre_auth = order.capture_mode == CaptureMode::PreAuth;
        let request = wire::PaymentRequest {
            payment_provider_contract: &s.payment_provider_contract,
            amount: order.amount.minor(),
            currency_code: order.amount.currency().code(),
            merchant_reference: &order.merchant_reference,
            card_brand: ctx.brand.code(),
            public_key_alias: &s.public_key_alias,
            encrypted_card: ctx.encrypted_card,
            threed_authentication: threed,
            capture_now: !pre_auth,
            auth_type: pre_auth.then_some("PRE_AUTH"),
        };
        let stored = serde_json::to_string(&request).map_err(|e| CheckoutError::Conflict(e.to_string()))?;
        let mut tx = match open {
            Some(tx) => tx,
            None => db::begin_write(self.pool).await?,
        };
        let key = uuid::Uuid::new_v4().to_string();
        let attempt_id = payments::insert_attempt(
            &mut tx,
            ctx.order_id,
            AttemptKind::Authorize,
            order.amount.minor(),
            &key,
            &stored,
        )
        .await?;
        orders::transition(&mut tx, ctx.order_id, PaymentStatus::Authorizing).await?;
        let mut logged = serde_json::to_value(&request).unwrap_or_default();
        // The timeline keeps what the merchant needs, not the encrypted card or the single-use CAVV.
        logged["encrypted_card"] = json!("[removed]");
        if let Some(t) = logged.get_mut("threed_authentication").filter(|t| !t["cavv"].is_null()) {
            t["cavv"] = json!("[removed]");
        }
        orders::append_event(
            &mut tx,
            ctx.order_id,
            "payment_requested",
            &json!({"idempotency_key": key, "request": logged}),
        )
        .await?;
        tx.commit().await?;

        let answer = self.verifone.pay(&request, &key).await;
        self.record_payment(ctx.order_id, &attempt_id, pre_auth, order.amount.minor(), answer).await?;
        Ok(NextStep::Done { order_id: ctx.order_id.to_owned() })
    }

    async fn record_payment(
        &self,
        order_id: &str,
        attempt_id: &str,
        pre_auth: bool,
        amount: i64,
        answer: Result<wire::Transaction, ProviderError>,
    ) -> Result<(), CheckoutError> {
        let mut tx = db::begin_write(self.pool).await?;
        if payments::attempt_answered(&mut tx, attempt_id).await? {
            // Resolved meanwhile (the sweeper, a notification and a page view can race): nothing to do.
            return Ok(());
        }
        match answer {
            Ok(t) => {
                let outcome = t.outcome();
                let (attempt, status, why) = match outcome {
                    TxnOutcome::Approved if pre_auth => {
                        (AttemptStatus::Succeeded, PaymentStatus::Authorized, reason::AUTHORIZED.to_owned())
                    }
                    TxnOutcome::Approved => {
                        (AttemptStatus::Succeeded, PaymentStatus::Captured, reason::APPROVED.to_owned())
                    }
                    TxnOutcome::Declined => {
                        (AttemptStatus::Declined, PaymentStatus::Declined, decline_reason(t.reason_code.as_deref()))
                    }
                    TxnOutcome::Failed | TxnOutcome::Voided => {
                        (AttemptStatus::Failed, PaymentStatus::Failed, reason::FAILED.to_owned())
                    }
                    TxnOutcome::Pending | TxnOutcome::Unknown => {
                        (AttemptStatus::Unknown, PaymentStatus::Unknown, reason::UNKNOWN.to_owned())
                    }
                };
                payments::record_attempt(
                    &mut tx,
                    attempt_id,
                    &AttemptAnswer {
                        status: attempt,
                        provider_transaction_id: Some(&t.id),
                        provider_status: Some(&t.status),
                        reason_code: t.reason_code.as_deref(),
                        message: t.message.as_deref(),
                    },
                )
                .await?;
                orders::append_event(&mut tx, order_id, "payment_answered", &json!(t)).await?;
                if status == PaymentStatus::Captured {
                    orders::add(&mut tx, order_id, orders::Tally::Captured, amount).await?;
                }
                orders::finish(&mut tx, order_id, status, &why).await?;
            }
            Err(e) => {
                let unknown = e.outcome_unknown();
                let attempt = if unknown { AttemptStatus::Unknown } else { AttemptStatus::Failed };
                let message = e.to_string();
                let answer = AttemptAnswer {
                    status: attempt,
                    provider_transaction_id: None,
                    provider_status: None,
                    reason_code: None,
                    message: Some(&message),
                };
                payments::record_attempt(&mut tx, attempt_id, &answer).await?;
                orders::append_event(
                    &mut tx,
                    order_id,
                    "payment_failed",
                    &json!({"error": message, "outcome_unknown": unknown}),
                )
                .await?;
                let (status, why) = if unknown {
                    (PaymentStatus::Unknown, reason::UNKNOWN)
                } else {
                    (PaymentStatus::Failed, reason::FAILED)
                };
                orders::finish(&mut tx, order_id, status, why).await?;
            }
        }
        tx.commit().await?;
        Ok(())
    }

    /// An order whose payment answer was lost: resend the same request with the same idempotency key, so
    /// the provider answers what it did the first time (or does it now, once).
    pub async fn resolve_unknown(&self, order_id: &str) -> Result<(), CheckoutError> {
        let order = orders::get(self.pool, order_id).await?;
        if order.status != PaymentStatus::Unknown {
            return Ok(());
        }
        let Some((attempt_id, key, request)) = payments::unknown_attempt(self.pool, order_id).await? else {
            return Ok(());
        };
        let answer = self.verifone.pay_again(&request, &key).await;
        if matches!(&answer, Err(e) if e.outcome_unknown()) {
            return Ok(()); // still no answer: leave it unknown for the next try
        }
        {
            let mut tx = db::begin_write(self.pool).await?;
            orders::append_event(&mut tx, order_id, "payment_resolution", &json!({"idempotency_key": key})).await?;
            tx.commit().await?;
        }
        self.record_payment(
            order_id,
            &attempt_id,
            order.capture_mode == CaptureMode::PreAuth,
            order.amount.minor(),
            answer,
        )
        .await
    }

    /// Expires checkouts the shopper left (e.g. a tab closed mid-challenge).
    pub async fn expire_abandoned(&self) -> Result<usize, CheckoutError> {
        let cutoff = db::now_ms() - self.settings.shop.abandon_after_minutes * 60_000;
        let ids = orders::abandoned(self.pool, cutoff).await?;
        for id in &ids {
            let mut tx = db::begin_write(self.pool).await?;
            orders::finish(&mut tx, id, PaymentStatus::Expired, reason::EXPIRED).await?;
            tx.commit().await?;
        }
        Ok(ids.len())
    }
}

struct PayContext<'a> {
    order_id: &'a str,
    brand: CardBrand,
    encrypted_card: &'a str,
}

fn outcome(enrolled: Option<Enrolled>, pares: Option<PaResStatus>, sig: Option<&str>) -> ThreeDsOutcome {
    ThreeDsOutcome {
        enrolled,
        pares_status: pares,
        signature_verification: sig.and_then(SignatureVerification::parse),
        eci: None,
    }
}

/// The card summary the browser sends must look like one (brand matching the first six, digits only) and
/// the expiry must not have passed: the checks of the browser, again. The number itself only the provider sees.
fn check_card_summary(c: &CardSummary) -> Result<(), CheckoutError> {
    let digits = |s: &str, n: usize| s.len() == n && s.chars().all(|c| c.is_ascii_digit());
    let brand_ok = CardBrand::from_prefix(&c.bin6) == Some(c.brand);
    if !digits(&c.bin6, 6) || !digits(&c.last4, 4) || !brand_ok {
        return Err(CheckoutError::Invalid(vec![FieldError::new("card_number", "check the card number")]));
    }
    if let Err(e) = Expiry::new(c.expiry_month, c.expiry_year, crate::server::clock::today()) {
        return Err(CheckoutError::Invalid(vec![FieldError::new("expiry", e.to_string())]));
    }
    Ok(())
}

fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.is_unique_violation())
}
