//! The one service that orders the checkout's steps: order → 3DS lookup → (challenge → JWT validation) →
//! payment. Every step is persisted before its provider call and its answer after, and appended to the
//! order's event log. Browser-reported 3DS values are never trusted: the challenge's result comes from the
//! 3DS service's validation of the JWT.

pub use crate::api::checkout::NextStep;
use crate::domain::{
    card::{CardBrand, CardSummary},
    catalog::{self, CartLine},
    customer::{BillingDetails, FieldError},
    status::PaymentStatus,
    threeds::{
        ActionCode, Decision, Eci, Enrolled, PaResStatus, Refusal, SignatureVerification, Stage, ThreeDsOutcome,
    },
};
use crate::server::{
    clock::today,
    config::{Settings, ThreeDsPolicy},
    crash,
    db::{
        self,
        orders::{self, CaptureMode, NewOrder, OrderError, Provider},
        payments::{self, AttemptAnswer, AttemptKind, AttemptStatus, ThreeDsRow},
    },
    providers::{
        ProviderError,
        verifone::{self, TxnOutcome, VerifoneClient, wire},
    },
};
use serde::{Deserialize, Serialize};
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
    pub const CHALLENGE_NOT_PASSED: &str = "The check with your bank was not completed, so the payment was not made. You have not been charged. Try again or use another card.";
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
        let card = input.card.clone().validated(today()).map_err(|e| CheckoutError::Invalid(vec![e]))?;
        if uuid::Uuid::parse_str(&input.checkout_key).is_err() {
            return Err(invalid("checkout_key", "this checkout has expired; reload the page"));
        }
        if !is_token(&input.session_id, MAX_SESSION_ID) || !is_token(&input.encrypted_card, MAX_ENCRYPTED_CARD) {
            return Err(invalid("card_number", CARD_NOT_PREPARED));
        }
        let quote = catalog::quote(&input.cart, self.settings.shop.currency)
            .map_err(|e| CheckoutError::Invalid(vec![FieldError::new("cart", e.to_string())]))?;
        if let Some(order_id) = orders::by_checkout_key(self.pool, &input.checkout_key).await? {
            return self.replayed(order_id).await;
        }
        let capture_mode = if self.settings.shop.pre_auth { CaptureMode::PreAuth } else { CaptureMode::Sale };
        let mut tx = db::begin_write(self.pool).await?;
        let new = NewOrder {
            checkout_key: Some(input.checkout_key.clone()),
            merchant_reference: format!("CO-{}", &uuid::Uuid::new_v4().simple().to_string()[..12].to_uppercase()),
            amount: quote.total,
            billing: billing.clone(),
            card: Some(card),
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
                return self.replayed(id).await;
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
            enrolled: enrolled.map(|e| e.to_string()),
            pares_status: pares.map(|p| p.to_string()),
            signature_verification: known_signature(l.signature_verification.as_deref()),
            eci_flag: known_eci(l.eci_flag.as_deref()),
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
        // The provider read the encrypted card: its brand, not the browser's, goes to the payment and the order.
        let brand = l.card_brand.as_deref().and_then(verifone::brand_of);
        self.correct_card(&mut tx, ctx.order_id, "lookup", brand, None).await?;
        let ctx = &PayContext { brand: brand.unwrap_or(ctx.brand), ..*ctx };
        let challenge = match (l.acs_url, l.payload, l.transaction_id) {
            (Some(acs_url), Some(payload), Some(transaction_id)) => {
                Some(Challenge { acs_url, payload, transaction_id })
            }
            _ => None,
        };
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
        self.follow(ctx, tx, outcome.decide(Stage::Lookup), threed, challenge).await
    }

    /// Does what the 3-D Secure decision says, continuing the caller's open transaction (which holds the
    /// result's record): waits for the challenge (keeping it and the card until the shopper is back), pays with
    /// the authentication (the answer and the payment's intent share one commit), leaves it to the policy, or
    /// declines. A challenge the issuer asked for without the means to run it fails the order.
    async fn follow(
        &self,
        ctx: &PayContext<'_>,
        mut tx: db::Tx,
        decision: Decision,
        threed: wire::ThreedAuthentication,
        challenge: Option<Challenge>,
    ) -> Result<NextStep, CheckoutError> {
        match (decision, challenge) {
            (Decision::Challenge, Some(challenge)) => {
                let event = json!({"transaction_id": challenge.transaction_id});
                let awaiting = Awaiting { challenge, encrypted_card: ctx.encrypted_card.to_owned() };
                orders::set_awaiting(&mut tx, ctx.order_id, &json!(awaiting).to_string()).await?;
                orders::append_event(&mut tx, ctx.order_id, "challenge_started", &event).await?;
                tx.commit().await?;
                Ok(awaiting.challenge.step(ctx.order_id))
            }
            (Decision::Challenge, None) => self.conclude(tx, ctx.order_id, PaymentStatus::Failed, reason::FAILED).await,
            (Decision::PayAuthenticated, _) => self.pay(ctx, Some(threed), Some(tx)).await,
            (Decision::PolicyDecides, _) => {
                tx.commit().await?;
                self.without_authentication(ctx).await
            }
            (Decision::Refuse(why), _) => {
                let why = match why {
                    Refusal::NotAuthenticated => reason::NOT_AUTHENTICATED,
                    Refusal::ChallengeNotPassed => reason::CHALLENGE_NOT_PASSED,
                };
                self.conclude(tx, ctx.order_id, PaymentStatus::Declined, why).await
            }
        }
    }

    /// Keeps what the provider reported of the card where the browser said otherwise (a browser cannot be
    /// trusted to describe the card it encrypted), noting the correction in the timeline.
    async fn correct_card(
        &self,
        tx: &mut db::Tx,
        order_id: &str,
        reported_by: &str,
        brand: Option<CardBrand>,
        digits: Option<(&str, &str)>,
    ) -> Result<(), CheckoutError> {
        if orders::correct_card(tx, order_id, brand, digits).await? {
            let (bin6, last4) = digits.unzip();
            let event = json!({"reported_by": reported_by, "brand": brand.map(CardBrand::code), "bin6": bin6,
                               "last4": last4});
            orders::append_event(tx, order_id, "card_corrected", &event).await?;
        }
        Ok(())
    }

    /// A submit repeated with a checkout key that has its order (a double click, a retried request) gets what
    /// the first one got: the pending challenge while the order waits for it, otherwise the order.
    async fn replayed(&self, order_id: String) -> Result<NextStep, CheckoutError> {
        match orders::awaiting(self.pool, &order_id).await? {
            Some(stored) => Ok(Awaiting::parse(&stored)?.challenge.step(&order_id)),
            None => Ok(NextStep::Done { order_id }),
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

    /// No trusted 3-D Secure answer (U, B, errors, timeouts, a Y or A that cannot be trusted): the merchant's
    /// policy decides, and a payment it allows carries no 3-D Secure data.
    async fn without_authentication(&self, ctx: &PayContext<'_>) -> Result<NextStep, CheckoutError> {
        match self.settings.shop.threeds_policy {
            ThreeDsPolicy::Decline => {
                self.conclude(db::begin_write(self.pool).await?, ctx.order_id, PaymentStatus::Declined, reason::NO_3DS)
                    .await
            }
            ThreeDsPolicy::ProceedWithoutShift => self.pay(ctx, None, None).await,
        }
    }

    /// After the challenge: the JWT from `payments.validated`, checked by the 3DS service, decides, and the
    /// payment uses the card the lookup authenticated, kept with the order (never one sent with the answer).
    /// The first completion takes what the order waits with, so it alone resumes the order; a concurrent,
    /// replayed or late one is told where the order is.
    pub async fn complete_challenge(&self, order_id: &str, jwt: &str) -> Result<NextStep, CheckoutError> {
        if !is_token(jwt, MAX_JWT) {
            return Err(invalid("challenge", "the bank's answer could not be read; try again"));
        }
        let mut tx = db::begin_write(self.pool).await?;
        let order = orders::get_locked(&mut tx, order_id).await.map_err(|e| match e {
            OrderError::NotFound => CheckoutError::NotFound,
            other => other.into(),
        })?;
        let taken = match order.status {
            PaymentStatus::Authenticating => orders::take_awaiting(&mut tx, order_id).await?,
            _ => None,
        };
        let Some(taken) = taken else {
            drop(tx);
            return self.where_it_is(order).await;
        };
        tx.commit().await?;
        let awaiting = Awaiting::parse(&taken)?;
        let ctx = PayContext {
            order_id,
            // The brand the lookup reported, kept on the order.
            brand: order.card.as_ref().map(|c| c.brand).ok_or(OrderError::Corrupt("card"))?,
            encrypted_card: &awaiting.encrypted_card,
        };
        // Nothing is recorded while the order waits: its latest 3-D Secure answer is the lookup's, whose
        // authentication the JWT must carry the outcome of (the 3DS service checks it).
        let lookup = payments::latest_threeds(self.pool, order_id).await?.unwrap_or_default();
        let validated = match lookup.authentication_id.as_deref() {
            Some(authentication_id) => self.verifone.validate_jwt(authentication_id, jwt).await.map_err(|e| e.to_string()),
            None => Err("the lookup gave no authentication_id".to_owned()),
        };
        let v = match validated {
            Ok(v) => v,
            Err(error) => {
                let mut tx = db::begin_write(self.pool).await?;
                orders::append_event(&mut tx, order_id, "challenge_validation_failed", &json!({"error": error}))
                    .await?;
                return self.conclude(tx, order_id, PaymentStatus::Failed, reason::MISMATCH).await;
            }
        };
        let belongs = v.authentication_id.is_some() && v.authentication_id == lookup.authentication_id;
        let r = v.validation_result;
        let enrolled = lookup.enrolled.as_deref().and_then(Enrolled::parse);
        let pares = r.pares_status.as_deref().and_then(PaResStatus::parse);
        let outcome = outcome(enrolled, pares, r.signature_verification.as_deref());
        let row = ThreeDsRow {
            stage: "challenge".into(),
            authentication_id: v.authentication_id.clone(),
            transaction_id: Some(awaiting.challenge.transaction_id.clone()),
            acs_transaction_id: r.acs_transaction_id.clone(),
            ds_transaction_id: r.ds_transaction_id.clone(),
            threeds_version: lookup.threeds_version.clone(),
            enrolled: enrolled.map(|e| e.to_string()),
            pares_status: pares.map(|p| p.to_string()),
            signature_verification: known_signature(r.signature_verification.as_deref()),
            eci_flag: known_eci(r.eci_flag.as_deref()),
            cavv_present: r.cavv.as_deref().is_some_and(|c| !c.is_empty()),
            status_reason: r.reason_code.clone().filter(|c| !c.is_empty()),
            action_code: v.action_code.clone(),
            error_no: v.error_no.clone(),
            error_desc: v.error_desc.clone(),
            liability_shifted: belongs && outcome.liability_shift().is_shifted(),
            ..ThreeDsRow::default()
        };
        let mut tx = db::begin_write(self.pool).await?;
        payments::insert_threeds(&mut tx, order_id, &row).await?;
        orders::append_event(&mut tx, order_id, "challenge_validated", &json!(row)).await?;
        if !belongs {
            return self.conclude(tx, order_id, PaymentStatus::Failed, reason::MISMATCH).await;
        }
        let stage = Stage::Challenge(v.action_code.as_deref().and_then(ActionCode::parse));
        let threed = wire::ThreedAuthentication {
            eci_flag: r.eci_flag,
            enrolled: lookup.enrolled,
            cavv: r.cavv,
            pares_status: r.pares_status,
            threeds_version: lookup.threeds_version,
            ds_transaction_id: r.ds_transaction_id,
            signature_verification: r.signature_verification,
            error_desc: v.error_desc,
            error_no: v.error_no,
        };
        self.follow(&ctx, tx, outcome.decide(stage), threed, None).await
    }

    /// A completion that does not resume the order is told where the order is: it has moved on, or another
    /// completion is resuming it. One for an order that never waited for a challenge is a conflict.
    async fn where_it_is(&self, order: orders::Order) -> Result<NextStep, CheckoutError> {
        if order.status == PaymentStatus::Authenticating {
            let answers = payments::all_threeds(self.pool, &order.id).await?;
            if !answers.iter().any(|r| r.stage == "lookup" && r.pares_status.as_deref() == Some("C")) {
                return Err(CheckoutError::Conflict("this order is not waiting for a challenge".into()));
            }
        }
        Ok(NextStep::Done { order_id: order.id })
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
        crash::point("authorize", "before_intent");
        tx.commit().await?;
        crash::point("authorize", "after_intent");

        // The call and its record run on their own task: a shopper who goes away (the handler is dropped)
        // does not cancel them, so the provider's answer is recorded all the same.
        let (pool, verifone, settings) = (self.pool.clone(), self.verifone.clone(), self.settings.clone());
        let (order_id, amount) = (ctx.order_id.to_owned(), order.amount.minor());
        let call = tokio::spawn(async move {
            let answer = verifone.pay(&stored, &key).await;
            crash::point("authorize", "after_answer");
            let checkout = Checkout { pool: &pool, verifone: &verifone, settings: &settings };
            checkout.record_payment(&order_id, &attempt_id, pre_auth, amount, answer, None).await
        });
        // Should the task fail, the attempt stays pending: the receipt shows it as being confirmed, and it is
        // resolved like a lost answer.
        match call.await {
            Ok(recorded) => recorded?,
            Err(e) => tracing::error!(error = %e, "the payment call's task failed; it is left to the sweeper"),
        }
        Ok(NextStep::Done { order_id: ctx.order_id.to_owned() })
    }

    async fn record_payment(
        &self,
        order_id: &str,
        attempt_id: &str,
        pre_auth: bool,
        amount: i64,
        answer: Result<wire::Transaction, ProviderError>,
        lease: Option<&str>,
    ) -> Result<(), CheckoutError> {
        let mut tx = db::begin_write(self.pool).await?;
        // A resolver records only while it holds the order (one whose lease was taken over leaves it), and
        // gives the order back in the same commit.
        if let Some(owner) = lease {
            let held = orders::holds_lease(&mut tx, order_id, owner).await?;
            orders::release_lease(&mut tx, order_id, owner).await?;
            if !held {
                return Ok(());
            }
        }
        if payments::attempt_answered(&mut tx, attempt_id).await? {
            // Recorded meanwhile (the call's own task, a resolver, a notification): nothing to add.
            tx.commit().await?;
            return Ok(());
        }
        let already_unknown = orders::get_locked(&mut tx, order_id).await?.status == PaymentStatus::Unknown;
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
                let (brand, digits) = t.reported_card();
                self.correct_card(
                    &mut tx,
                    order_id,
                    "payment",
                    brand,
                    digits.as_ref().map(|(b, l)| (b.as_str(), l.as_str())),
                )
                .await?;
                if status == PaymentStatus::Captured {
                    orders::add(&mut tx, order_id, orders::Tally::Captured, amount).await?;
                }
                if !(status == PaymentStatus::Unknown && already_unknown) {
                    orders::finish(&mut tx, order_id, status, &why).await?;
                }
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
                if !(status == PaymentStatus::Unknown && already_unknown) {
                    orders::finish(&mut tx, order_id, status, why).await?;
                }
            }
        }
        tx.commit().await?;
        Ok(())
    }

    /// An order whose payment answer was lost, or whose call a stopped process never recorded (still
    /// `authorizing` after the provider's timeout). One resolver at a time holds the order (a lease in the
    /// database) and asks the provider what happened: it reads the transaction when its id is known, and
    /// otherwise sends the same request again with the same idempotency key, the one way to learn about a
    /// payment whose id never reached us (the eCommerce API reads transactions by id only). Only a transaction
    /// is an outcome: a refusal of a resend (a 409 "in use", "CAVV used") says nothing about the first send,
    /// so the order stays `unknown`, visible to the merchant, and is asked about again by the next sweep.
    pub async fn resolve_unknown(&self, order_id: &str) -> Result<(), CheckoutError> {
        let order = orders::get(self.pool, order_id).await?;
        if !matches!(order.status, PaymentStatus::Unknown | PaymentStatus::Authorizing) {
            return Ok(());
        }
        let stale_before = self.verifone.unanswered_before();
        let Some(attempt) = payments::unresolved_authorization(self.pool, order_id, stale_before).await? else {
            return Ok(());
        };
        let owner = uuid::Uuid::new_v4().to_string();
        let mut tx = db::begin_write(self.pool).await?;
        let held = orders::take_lease(&mut tx, order_id, &owner, self.verifone.lease_until()).await?;
        tx.commit().await?;
        if !held {
            return Ok(()); // another resolver holds it
        }
        let answer = match (&attempt.provider_transaction_id, &attempt.pending_request) {
            (Some(id), _) => self.verifone.read(id).await,
            (None, Some(request)) => self.verifone.pay(request, &attempt.idempotency_key).await,
            (None, None) => {
                Err(ProviderError::Malformed("the attempt kept neither its transaction nor its request".into()))
            }
        };
        let pre_auth = order.capture_mode == CaptureMode::PreAuth;
        let answer = match answer {
            Ok(t) => {
                let mut tx = db::begin_write(self.pool).await?;
                let details =
                    json!({"idempotency_key": attempt.idempotency_key, "read": attempt.provider_transaction_id});
                orders::append_event(&mut tx, order_id, "payment_resolution", &details).await?;
                tx.commit().await?;
                Ok(t)
            }
            // Still nothing to go by: an order the timeline shows as unknown already is left as it is.
            Err(e) if attempt.status == "unknown" => {
                tracing::info!(order_id, error = %e, "a lost payment answer is still unknown");
                let mut tx = db::begin_write(self.pool).await?;
                orders::release_lease(&mut tx, order_id, &owner).await?;
                tx.commit().await?;
                return Ok(());
            }
            // A call never answered, and no transaction now either (a refusal, no answer): unknown, not failed.
            Err(e) => Err(ProviderError::Malformed(format!("no outcome from the provider ({e})"))),
        };
        self.record_payment(order_id, &attempt.id, pre_auth, attempt.amount_minor, answer, Some(&owner)).await
    }

    /// Waits a moment for a resolver that holds the order to let it go, so the receipt page can show what
    /// it learnt; a longer resolution (a slow provider) is left to the page's next refresh.
    pub async fn await_resolver(&self, order_id: &str) -> Result<(), CheckoutError> {
        let until = std::time::Instant::now() + AWAIT_RESOLVER;
        while orders::lease_held(self.pool, order_id).await? && std::time::Instant::now() < until {
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        Ok(())
    }

    /// Expires checkouts the shopper left (e.g. a tab closed mid-challenge). One that cannot be expired is
    /// logged and left for the next sweep; the others are expired all the same.
    pub async fn expire_abandoned(&self) -> Result<usize, CheckoutError> {
        let cutoff = db::now_ms() - self.settings.shop.abandon_after_minutes * 60_000;
        let mut expired = 0;
        for id in orders::abandoned(self.pool, cutoff).await? {
            let expire = async {
                let mut tx = db::begin_write(self.pool).await?;
                orders::finish(&mut tx, &id, PaymentStatus::Expired, reason::EXPIRED).await?;
                tx.commit().await.map_err(OrderError::from)
            };
            match expire.await {
                Ok(()) => expired += 1,
                Err(e) => tracing::warn!(order_id = %id, error = %e, "expiring an abandoned checkout failed"),
            }
        }
        Ok(expired)
    }
}

struct PayContext<'a> {
    order_id: &'a str,
    brand: CardBrand,
    encrypted_card: &'a str,
}

/// The issuer's challenge as the shopper is given it.
#[derive(Serialize, Deserialize)]
struct Challenge {
    acs_url: String,
    payload: String,
    transaction_id: String,
}

impl Challenge {
    fn step(&self, order_id: &str) -> NextStep {
        NextStep::Challenge {
            order_id: order_id.to_owned(),
            acs_url: self.acs_url.clone(),
            payload: self.payload.clone(),
            transaction_id: self.transaction_id.clone(),
        }
    }
}

/// What an order waiting for its challenge keeps (`orders.awaiting`) until the shopper is back, and no longer.
#[derive(Serialize, Deserialize)]
struct Awaiting {
    /// Given again to a retried submit.
    challenge: Challenge,
    /// The card the lookup authenticated, encrypted to the provider: the only card the payment after the
    /// challenge may use.
    encrypted_card: String,
}

impl Awaiting {
    fn parse(stored: &str) -> Result<Awaiting, OrderError> {
        serde_json::from_str(stored).map_err(|_| OrderError::Corrupt("awaiting"))
    }
}

fn outcome(enrolled: Option<Enrolled>, pares: Option<PaResStatus>, sig: Option<&str>) -> ThreeDsOutcome {
    ThreeDsOutcome {
        enrolled,
        pares_status: pares,
        signature_verification: sig.and_then(SignatureVerification::parse),
        eci: None,
    }
}

/// How long the receipt page waits for another resolver of its order.
const AWAIT_RESOLVER: std::time::Duration = std::time::Duration::from_secs(3);

/// Bounds of the browser SDKs' tokens, far above any real one: nothing unbounded is stored or sent on.
const MAX_SESSION_ID: usize = 128;
const MAX_ENCRYPTED_CARD: usize = 16 * 1024;
const MAX_JWT: usize = 8 * 1024;
const CARD_NOT_PREPARED: &str = "the card could not be prepared; reload the page";

/// A token from a browser SDK (Cardinal's session id, its JWT, verifone.js's encrypted card): present, at
/// most `max` bytes, printable ASCII without spaces (base64, base64url, dots, dashes, underscores).
fn is_token(value: &str, max: usize) -> bool {
    !value.is_empty() && value.len() <= max && value.bytes().all(|b| b.is_ascii_graphic())
}

fn invalid(field: &str, message: &str) -> CheckoutError {
    CheckoutError::Invalid(vec![FieldError::new(field, message)])
}

fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.is_unique_violation())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn tokens_of_the_browser_sdks_pass() {
        assert!(is_token("0_6f1c2f5e-5d0e-4c52-9f0a-3c2e4f5a6b7c", MAX_SESSION_ID));
        assert!(is_token("eyJhbGciOiJIUzI1NiJ9.eyJqdGkiOiIxIn0.c2lnbmF0dXJl", MAX_JWT));
        assert!(is_token("LS0tLS1CRUdJTiBQR1AgTUVTU0FHRS0tLS0tCg==", MAX_ENCRYPTED_CARD));
        assert!(!is_token("", MAX_JWT));
        assert!(!is_token("a b", MAX_JWT));
        assert!(!is_token(&"a".repeat(MAX_SESSION_ID + 1), MAX_SESSION_ID));
    }

    proptest! {
        #[test]
        fn a_token_is_bounded_and_printable(value in "\\PC{0,40}|[!-~]{0,200}", max in 0usize..150) {
            if is_token(&value, max) {
                prop_assert!(!value.is_empty() && value.len() <= max);
                prop_assert!(value.bytes().all(|b| (0x21..=0x7e).contains(&b)));
            }
        }
    }
}

// The database keeps only 3-D Secure values the domain knows: a blank or unknown letter from a provider (a
// cancelled challenge has no PAResStatus) is stored as none rather than failing the write after the call.
fn known_signature(s: Option<&str>) -> Option<String> {
    s.and_then(SignatureVerification::parse).map(|v| v.to_string())
}

fn known_eci(s: Option<&str>) -> Option<String> {
    s.and_then(Eci::parse).map(|e| e.code().to_owned())
}
