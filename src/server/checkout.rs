//! The one service that orders the checkout's steps: order → authenticate (→ the shopper's challenge →
//! its result) → pay → record. Every step is persisted before its provider call and its answer after, and
//! appended to the order's event log. Browser-reported 3DS values are never trusted: a challenge's result
//! is what the authenticator vouches for.

use crate::domain::{
    card::CardBrand,
    catalog::{self, Quote},
    checkout::{
        BrowserInfo, BrowserPlan, CardPlan, CheckoutStart, NextStep, OrderView, PlaceOrder, SdkSetup, TestCard,
        ThreeDsView,
    },
    customer::FieldError,
    money::Money,
    saved_card::SavedCardPayment,
    status::PaymentStatus,
    threeds::{PaResStatus, Refusal},
};
use crate::server::db::saved_cards::{self, Initiator, NewSavedCard, OrderCredential, SavedCard};
use crate::server::{
    clock::today,
    config::{Settings, ThreeDsPolicy},
    crash,
    db::{
        self,
        orders::{self, CaptureMode, NewOrder, OrderError},
        payments::{self, AttemptAnswer, AttemptKind, AttemptStatus},
        sealed::Seal,
    },
    limits::{LimitError, Limits},
    providers::{
        Acquirer, AuthFailure, AuthRequest, Authentication, Authenticator, BankAnswer, BankReturn, BankVisit, CardForm,
        Challenge, Credential, DeclineReason, InlineAuthentication, LostPayment, PaymentOrder, Proof, ProviderError,
        Providers, RedirectForm, Step, Txn, TxnOutcome, Verdict,
    },
};
use serde::{Deserialize, Serialize};
use serde_json::json;

#[derive(Debug, thiserror::Error)]
pub enum CheckoutError {
    #[error("some details need correcting")]
    Invalid(Vec<FieldError>),
    #[error("order not found")]
    NotFound,
    #[error("{0}")]
    Conflict(String),
    /// A card-testing brake (`limits`).
    #[error(transparent)]
    Limited(#[from] LimitError),
    #[error(transparent)]
    Store(#[from] OrderError),
    /// A provider could not prepare what the browser needs: nothing was charged, try again.
    #[error(transparent)]
    Unavailable(ProviderError),
}

impl From<sqlx::Error> for CheckoutError {
    fn from(e: sqlx::Error) -> Self {
        CheckoutError::Store(OrderError::Db(e))
    }
}

pub struct Checkout<'a> {
    pub pool: &'a db::Database,
    pub seal: &'a Seal,
    pub providers: &'a Providers,
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
    pub const AT_BANK: &str = "Waiting for your bank's confirmation. You have not been charged yet.";
    pub const CARD_GONE: &str =
        "The saved card was removed before the payment, so it was not made. You have not been charged.";
    pub const NOT_RESUMED: &str =
        "The check with your bank could not be finished, so the payment was not made. You have not been charged.";
}

/// A decline, in words.
fn decline_sentence(reason: DeclineReason) -> String {
    let why = match reason {
        DeclineReason::InsufficientFunds => "The card has insufficient funds.",
        DeclineReason::ExpiredCard => "The card has expired.",
        DeclineReason::Issuer => "The bank declined the payment.",
        DeclineReason::NotAuthenticated => "Your bank did not confirm it was you.",
        DeclineReason::Unspecified => "The payment was declined.",
    };
    format!("{why} You have not been charged. Try another card.")
}

impl Checkout<'_> {
    /// What the page needs to take the card and run the authenticator's part, for a new checkout key.
    pub async fn start(&self, quote: Quote, test_cards: Vec<TestCard>) -> Result<CheckoutStart, CheckoutError> {
        let (authenticator, acquirer) = self.roles()?;
        let unavailable = CheckoutError::Unavailable;
        let (sdk, card) = match (&authenticator, acquirer.tokenization()) {
            // The authenticator reads the card encrypted; an acquirer that takes a token gets one as well.
            (Some(a), tokenization) => {
                let session = a.browser_session().await.map_err(unavailable)?;
                let capture = a.card_capture().await.map_err(unavailable)?;
                let card = match tokenization {
                    None => CardPlan::Encrypt { script_url: capture.script_url, key: capture.key },
                    Some(t) => CardPlan::EncryptAndTokenize {
                        script_url: capture.script_url,
                        key: capture.key,
                        tokenize_url: t.tokenize_url,
                    },
                };
                (Some(SdkSetup { url: session.sdk_url, jwt: session.jwt }), card)
            }
            // The acquirer authenticates inside its payment: its own card fields, nothing of ours holds the card.
            (None, Some(t)) => (None, CardPlan::Fields { script_url: t.fields_url }),
            (None, None) => return Err(CheckoutError::Conflict("no way to take the card for this acquirer".into())),
        };
        Ok(CheckoutStart {
            checkout_key: uuid::Uuid::new_v4().to_string(),
            quote,
            plan: BrowserPlan { sdk, card, browser_data: authenticator.is_none() },
            pre_auth: self.settings.shop.pre_auth,
            test_cards,
            saved_cards: self.settings.saved_cards.enabled && authenticator.is_some(),
        })
    }

    pub async fn place_order(&self, input: PlaceOrder) -> Result<NextStep, CheckoutError> {
        let billing = input.billing.clone().validated().map_err(CheckoutError::Invalid)?;
        if uuid::Uuid::parse_str(&input.checkout_key).is_err() {
            return Err(invalid("checkout_key", "this checkout has expired; reload the page"));
        }
        let (authenticator, acquirer) = self.roles()?;
        let offered = self.settings.saved_cards.enabled && authenticator.is_some();
        if (input.save_card || input.saved_card.is_some()) && !offered {
            return Err(invalid("saved_card", "saved cards are not offered here"));
        }
        // A saved card: the session's email must own it and be the order's; the card is described by what
        // the acquirer said when it stored it, not by the browser.
        let saved = match &input.saved_card {
            None => None,
            Some((payment, email)) => Some(self.saved_card_for(payment, email.as_deref(), &billing.email).await?),
        };
        let card = match &saved {
            Some(saved) => saved.summary(),
            None => input.card.clone().validated(today()).map_err(|e| CheckoutError::Invalid(vec![e]))?,
        };
        // The authenticator reads the encrypted card (or a saved card's token); the acquirer takes it encrypted
        // or as a token (a saved card: with the CVV typed again, encrypted).
        let payment_card = match (acquirer.card_form(), &input.saved_card) {
            (_, Some((payment, _))) => Some(payment.encrypted_cvv.as_str()),
            (CardForm::Encrypted, None) => Some(input.encrypted_card.as_str()),
            (CardForm::Token, None) => input.card_token.as_deref(),
        };
        let payment_card = payment_card.filter(|c| is_token(c, MAX_ENCRYPTED_CARD));
        let Some(payment_card) = payment_card else { return Err(invalid("card_number", CARD_NOT_PREPARED)) };
        // An authenticator of its own reads the encrypted card and its SDK's session; an acquirer that
        // authenticates inside its payment needs the shopper's browser instead.
        let browser = match &authenticator {
            Some(_) => {
                let card_ok = saved.is_some() || is_token(&input.encrypted_card, MAX_ENCRYPTED_CARD);
                if !is_token(&input.session_id, MAX_SESSION_ID) || !card_ok {
                    return Err(invalid("card_number", CARD_NOT_PREPARED));
                }
                None
            }
            None => {
                let browser = input.browser.clone().ok_or_else(|| invalid("browser", BROWSER_NOT_READ))?;
                Some(browser.validated().map_err(|e| CheckoutError::Invalid(vec![e]))?)
            }
        };
        let quote = catalog::quote(&input.cart, self.settings.shop.currency)
            .map_err(|e| CheckoutError::Invalid(vec![FieldError::new("cart", e.to_string())]))?;
        let capture_mode = if self.settings.shop.pre_auth { CaptureMode::PreAuth } else { CaptureMode::Sale };
        let mut tx = db::begin_write(self.pool).await?;
        Limits { pool: self.pool, settings: &self.settings.limits }.place(&mut tx, &input.client_address).await?;
        // A repeated submit (asked inside the write transaction, not before it: one read fewer for every
        // order). If the order of a submit that raced this one is not committed yet (readers cannot see it),
        // this empty transaction's commit returns once that order's has.
        if let Some(order_id) = orders::by_checkout_key_locked(&mut tx, &input.checkout_key).await? {
            tx.commit().await?;
            return self.replayed(order_id).await;
        }
        let new = NewOrder {
            checkout_key: Some(input.checkout_key.clone()),
            merchant_reference: format!("CO-{}", &uuid::Uuid::new_v4().simple().to_string()[..12].to_uppercase()),
            amount: quote.total,
            billing: billing.clone(),
            card: Some(card.clone()),
            authenticator: authenticator.as_ref().map(Authenticator::name),
            provider: acquirer.name(),
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
        let credential = match (&saved, input.save_card) {
            (Some(saved), _) => Some((Initiator::Customer, Some(saved.view.id.clone()))),
            (None, true) => Some((Initiator::Signup, None)),
            (None, false) => None,
        };
        if let Some((initiator, card_id)) = credential {
            let c = OrderCredential { initiator, card_id, parent_order_id: None, description: None };
            saved_cards::insert_credential(&mut tx, &order_id, &c).await?;
            orders::append_event(&mut tx, &order_id, "stored_credential", &json!({"use": initiator.as_str()}));
        }
        let ctx = PayContext {
            order_id: &order_id,
            brand: card.brand,
            payment_card,
            acquirer: &acquirer,
            browser: browser.as_ref(),
        };
        let Some(authenticator) = authenticator else {
            // The acquirer authenticates inside its payment (a stop before it leaves a pending order, expired
            // by the sweeper).
            tx.commit().await?;
            return self.pay(&ctx, None, None).await;
        };
        orders::transition(&mut tx, &order_id, PaymentStatus::Authenticating).await?;
        orders::append_event(&mut tx, &order_id, "lookup_requested", &json!({"device_session": input.session_id}));
        tx.commit().await?;

        let request = AuthRequest {
            amount: quote.total,
            billing: &billing,
            merchant_reference: &new.merchant_reference,
            device_session: &input.session_id,
            card: &input.encrypted_card,
            reuse_token: saved.as_ref().map(|c| c.reuse_token.as_str()),
        };
        let lookup = authenticator.authenticate(&request).await;
        match lookup {
            Err(e) => {
                let mut tx = db::begin_write(self.pool).await?;
                orders::append_event(&mut tx, &order_id, "lookup_failed", &json!({"error": e.to_string()}));
                if let ProviderError::Refused { status: 400..=499, .. } = e {
                    return self.conclude(tx, &order_id, PaymentStatus::Failed, reason::FAILED).await;
                }
                tx.commit().await?;
                self.without_authentication(&ctx).await
            }
            Ok(answer) => self.after_lookup(&ctx, answer).await,
        }
    }

    async fn after_lookup(&self, ctx: &PayContext<'_>, a: Authentication) -> Result<NextStep, CheckoutError> {
        let mut tx = db::begin_write(self.pool).await?;
        payments::insert_threeds(&mut tx, ctx.order_id, &a.result).await?;
        orders::append_event(&mut tx, ctx.order_id, "lookup_answered", &json!(a.result));
        // The authenticator read the card: its brand, not the browser's, goes to the payment and the order.
        self.correct_card(&mut tx, ctx.order_id, "lookup", a.brand, None).await?;
        let ctx = &PayContext { brand: a.brand.unwrap_or(ctx.brand), ..*ctx };
        self.follow(ctx, tx, a.next).await
    }

    /// Does what the authentication says, continuing the caller's open transaction (which holds its
    /// result's record): waits for the challenge (keeping it and the card until the shopper is back), pays
    /// with the proof (the answer and the payment's intent share one commit), leaves it to the policy,
    /// declines, or fails an answer that cannot be used.
    async fn follow(
        &self,
        ctx: &PayContext<'_>,
        mut tx: db::Tx,
        next: Step<Verdict>,
    ) -> Result<NextStep, CheckoutError> {
        match next {
            Step::Browser(challenge) => {
                let event = json!({"transaction_id": challenge.transaction_id});
                let next = step(&challenge, ctx.order_id);
                let awaiting = Awaiting::Challenge { challenge, encrypted_card: ctx.payment_card.to_owned() };
                orders::set_awaiting(&mut tx, self.seal, ctx.order_id, &json!(awaiting).to_string()).await?;
                orders::append_event(&mut tx, ctx.order_id, "challenge_started", &event);
                tx.commit().await?;
                Ok(next)
            }
            Step::Done(Verdict::Authenticated(proof)) => self.pay(ctx, Some(proof), Some(tx)).await,
            Step::Done(Verdict::NoAnswer) => {
                tx.commit().await?;
                self.without_authentication(ctx).await
            }
            Step::Done(Verdict::Refused(why)) => {
                let why = match why {
                    Refusal::NotAuthenticated => reason::NOT_AUTHENTICATED,
                    Refusal::ChallengeNotPassed => reason::CHALLENGE_NOT_PASSED,
                };
                self.conclude(tx, ctx.order_id, PaymentStatus::Declined, why).await
            }
            Step::Done(Verdict::Failed(failure)) => {
                let why = match failure {
                    AuthFailure::ChallengeUnavailable => reason::FAILED,
                    AuthFailure::NotThisOrder => reason::MISMATCH,
                };
                self.conclude(tx, ctx.order_id, PaymentStatus::Failed, why).await
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
            orders::append_event(tx, order_id, "card_corrected", &event);
        }
        Ok(())
    }

    /// The merchant charges the card an order was paid with (and the shopper saved), without the shopper: a
    /// merchant-initiated payment (no 3-D Secure, no CVV) with the stored-credential fields and the scheme
    /// reference of the payment that stored the card. It is a new order linked to the original, recorded in
    /// both timelines; `key` (made when the form was shown) is its checkout key, so a double submit charges
    /// once. At most the original's amount (times `MERCHANT_CHARGE_PERCENT`).
    pub async fn charge_saved_card(
        &self,
        original_id: &str,
        amount: Money,
        description: &str,
        key: &str,
    ) -> Result<String, CheckoutError> {
        if uuid::Uuid::parse_str(key).is_err() {
            return Err(CheckoutError::Conflict("this form has expired; reload the page and try again".into()));
        }
        if let Some(done) = orders::by_checkout_key(self.pool, key).await? {
            return match saved_cards::credential(self.pool, &done).await? {
                Some(c) if c.parent_order_id.as_deref() == Some(original_id) => Ok(done),
                _ => Err(CheckoutError::Conflict("this form was used for another order; reload the page".into())),
            };
        }
        let original = orders::get(self.pool, original_id).await.map_err(not_found)?;
        let card = self.chargeable_card(&original).await?;
        self.check_merchant_charge(&original, amount)?;
        let description = description.trim();
        if description.is_empty() || description.chars().count() > 200 {
            return Err(invalid("description", "say what the charge is for (at most 200 characters)"));
        }
        let acquirer = self.acquirer_of(&original)?;
        let mut tx = db::begin_write(self.pool).await?;
        // A double submit whose twin is being written now finds its order here.
        if let Some(done) = orders::by_checkout_key_locked(&mut tx, key).await? {
            return Ok(done);
        }
        let new = NewOrder {
            checkout_key: Some(key.to_owned()),
            merchant_reference: format!("MI-{}", &uuid::Uuid::new_v4().simple().to_string()[..12].to_uppercase()),
            amount,
            billing: original.billing.clone(),
            card: Some(card.summary()),
            // Out of the scope of strong customer authentication: nobody authenticates it.
            authenticator: None,
            provider: original.provider,
            capture_mode: CaptureMode::Sale,
        };
        let order_id = match orders::insert(&mut tx, &new).await {
            Ok(id) => id,
            Err(OrderError::Db(e)) if is_unique_violation(&e) => {
                drop(tx);
                return orders::by_checkout_key(self.pool, key).await?.ok_or(CheckoutError::NotFound);
            }
            Err(e) => return Err(e.into()),
        };
        let credential = OrderCredential {
            initiator: Initiator::Merchant,
            card_id: Some(card.view.id.clone()),
            parent_order_id: Some(original_id.to_owned()),
            description: Some(description.to_owned()),
        };
        saved_cards::insert_credential(&mut tx, &order_id, &credential).await?;
        let money = json!({"amount_minor": amount.minor(), "currency": amount.currency().code()});
        let event = json!({"original_order_id": original_id, "description": description, "amount": money});
        orders::append_event(&mut tx, &order_id, "merchant_charge_created", &event);
        let event = json!({"order_id": order_id, "description": description, "amount": money, "idempotency_key": key});
        orders::append_event(&mut tx, original_id, "merchant_charge_requested", &event);
        tx.commit().await?;
        let ctx = PayContext {
            order_id: &order_id,
            brand: card.view.brand,
            payment_card: "",
            acquirer: &acquirer,
            browser: None,
        };
        self.pay(&ctx, None, None).await?;
        let charged = orders::get(self.pool, &order_id).await?;
        let mut tx = db::begin_write(self.pool).await?;
        let event = json!({"order_id": order_id, "status": charged.status.as_str()});
        orders::append_event(&mut tx, original_id, "merchant_charge_answered", &event);
        tx.commit().await?;
        Ok(order_id)
    }

    /// The saved card an order stored or paid with, if the merchant may charge it now.
    pub async fn chargeable_card(&self, original: &orders::Order) -> Result<SavedCard, CheckoutError> {
        let refuse = |why: &str| Err(CheckoutError::Conflict(why.to_owned()));
        match saved_cards::credential(self.pool, &original.id).await? {
            Some(c) if matches!(c.initiator, Initiator::Signup | Initiator::Customer) => {}
            _ => return refuse("this order was not paid with a saved card"),
        }
        let paid = matches!(
            original.status,
            PaymentStatus::Captured
                | PaymentStatus::Authorized
                | PaymentStatus::PartiallyRefunded
                | PaymentStatus::Refunded
        );
        if !paid {
            return refuse("only an order that was paid can have its card charged again");
        }
        match saved_cards::card_of_order(self.pool, &original.id).await? {
            Some(card) => Ok(card),
            None => refuse("the shopper has removed this saved card"),
        }
    }

    /// The limit of a merchant-initiated charge: more than zero, in the order's currency, at most the
    /// original's amount times the configured percentage.
    pub fn check_merchant_charge(&self, original: &orders::Order, amount: Money) -> Result<(), CheckoutError> {
        let percent = self.settings.saved_cards.merchant_charge_percent;
        let currency = original.amount.currency();
        let limit = original.amount.minor().saturating_mul(percent) / 100;
        if amount.currency() != currency {
            return Err(invalid("amount", &format!("the amount must be in {currency}")));
        }
        if amount.minor() <= 0 {
            return Err(invalid("amount", "the amount must be more than zero"));
        }
        if amount.minor() > limit {
            let limit = Money::new(limit, currency).map(|m| m.to_string()).unwrap_or_default();
            return Err(invalid("amount", &format!("a charge can be at most {limit}")));
        }
        Ok(())
    }

    /// A submit repeated with a checkout key that has its order (a double click, a retried request) gets what
    /// the first one got: the pending challenge or bank page while the order waits for it, otherwise the order.
    async fn replayed(&self, order_id: String) -> Result<NextStep, CheckoutError> {
        match orders::awaiting(self.pool, self.seal, &order_id).await?.as_deref().map(Awaiting::parse).transpose()? {
            Some(Awaiting::Challenge { challenge, .. }) => Ok(step(&challenge, &order_id)),
            Some(Awaiting::Bank { .. }) => Ok(bank_step(&order_id)),
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

    /// After the challenge: the authenticator checks what the browser brought back and decides, and the
    /// payment uses the card the first authentication covered, kept with the order (never one sent with the
    /// answer). The first completion takes what the order waits with, so it alone resumes the order; a
    /// concurrent, replayed or late one is told where the order is.
    pub async fn complete_challenge(&self, order_id: &str, answer: &str) -> Result<NextStep, CheckoutError> {
        if !is_token(answer, MAX_JWT) {
            return Err(invalid("challenge", "the bank's answer could not be read; try again"));
        }
        let mut tx = db::begin_write(self.pool).await?;
        let order = orders::get_locked(&mut tx, order_id).await.map_err(not_found)?;
        let taken = match order.status {
            PaymentStatus::Authenticating => orders::take_awaiting(&mut tx, self.seal, order_id).await?,
            _ => None,
        };
        let Some(taken) = taken else {
            drop(tx);
            return self.where_it_is(order).await;
        };
        tx.commit().await?;
        let Awaiting::Challenge { challenge, encrypted_card } = Awaiting::parse(&taken)? else {
            return Err(OrderError::Corrupt("awaiting").into());
        };
        let authenticator = self.authenticator_of(&order)?;
        let acquirer = self.acquirer_of(&order)?;
        let ctx = PayContext {
            order_id,
            // The brand the first authentication reported, kept on the order.
            brand: order.card.as_ref().map(|c| c.brand).ok_or(OrderError::Corrupt("card"))?,
            payment_card: &encrypted_card,
            acquirer: &acquirer,
            browser: None,
        };
        // Nothing is recorded while the order waits: its latest 3-D Secure answer is the one the challenge
        // followed, whose authentication the answer must belong to (the authenticator checks it).
        let first = payments::latest_threeds(self.pool, order_id).await?.unwrap_or_default();
        let a = match authenticator.resume(&first, &challenge, answer).await {
            Ok(a) => a,
            Err(e) => {
                let mut tx = db::begin_write(self.pool).await?;
                let error = e.to_string();
                orders::append_event(&mut tx, order_id, "challenge_validation_failed", &json!({"error": error}));
                return self.conclude(tx, order_id, PaymentStatus::Failed, reason::MISMATCH).await;
            }
        };
        let mut tx = db::begin_write(self.pool).await?;
        payments::insert_threeds(&mut tx, order_id, &a.result).await?;
        orders::append_event(&mut tx, order_id, "challenge_validated", &json!(a.result));
        self.follow(&ctx, tx, a.next).await
    }

    /// A completion that does not resume the order is told where the order is: it has moved on, or another
    /// completion is resuming it. One for an order that never waited for a challenge is a conflict.
    async fn where_it_is(&self, order: orders::Order) -> Result<NextStep, CheckoutError> {
        if order.status == PaymentStatus::Authenticating {
            let answers = payments::all_threeds(self.pool, &order.id).await?;
            let challenged = |p: Option<&str>| p.and_then(PaResStatus::parse) == Some(PaResStatus::C);
            if !answers.iter().any(|r| r.stage == "lookup" && challenged(r.pares_status.as_deref())) {
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
        proof: Option<Proof>,
        open: Option<db::Tx>,
    ) -> Result<NextStep, CheckoutError> {
        let order = orders::get(self.pool, ctx.order_id).await?;
        let pre_auth = order.capture_mode == CaptureMode::PreAuth;
        let cardholder = format!("{} {}", order.billing.first_name, order.billing.last_name);
        let return_url = format!("{}/checkout/{}/3ds-return", self.settings.public_url, ctx.order_id);
        // A saved card is read at the last moment: one deleted meanwhile is not charged.
        let used = match saved_cards::credential(self.pool, ctx.order_id).await? {
            None => None,
            Some(c) if c.initiator == Initiator::Signup => Some((c, None)),
            Some(c) => {
                let card = saved_cards::card_of_order(self.pool, ctx.order_id).await?;
                let Some(card) = card.filter(|card| c.card_id.as_deref() == Some(card.view.id.as_str())) else {
                    let tx = match open {
                        Some(tx) => tx,
                        None => db::begin_write(self.pool).await?,
                    };
                    return self.conclude(tx, ctx.order_id, PaymentStatus::Failed, reason::CARD_GONE).await;
                };
                Some((c, Some(card)))
            }
        };
        let credential = used.as_ref().map(|(c, card)| match (c.initiator, card) {
            (Initiator::Customer, Some(card)) => Credential::Customer { token: &card.reuse_token },
            (Initiator::Merchant, Some(card)) => {
                Credential::Merchant { token: &card.reuse_token, scheme_reference: card.scheme_reference.as_deref() }
            }
            _ => Credential::Store,
        });
        let payment = PaymentOrder {
            amount: order.amount,
            merchant_reference: &order.merchant_reference,
            brand: ctx.brand,
            cardholder: &cardholder,
            card: ctx.payment_card,
            proof,
            pre_auth,
            authenticate: ctx.browser.map(|browser| InlineAuthentication {
                browser,
                return_url: &return_url,
                required: self.settings.shop.threeds_policy == ThreeDsPolicy::Decline,
            }),
            credential,
        };
        let prepared = ctx.acquirer.prepare(&payment).map_err(|e| CheckoutError::Conflict(e.to_string()))?;
        let mut tx = match open {
            Some(tx) => tx,
            None => db::begin_write(self.pool).await?,
        };
        let key = uuid::Uuid::new_v4().to_string();
        let attempt_id = payments::insert_attempt(
            &mut tx,
            self.seal,
            ctx.order_id,
            AttemptKind::Authorize,
            order.amount.minor(),
            &key,
            &prepared.stored,
        )
        .await?;
        orders::transition(&mut tx, ctx.order_id, PaymentStatus::Authorizing).await?;
        orders::append_event(
            &mut tx,
            ctx.order_id,
            "payment_requested",
            &json!({"idempotency_key": key, "request": prepared.logged}),
        );
        crash::point("authorize", "before_intent");
        tx.commit().await?;
        crash::point("authorize", "after_intent");

        // The call and its record run on their own task: a shopper who goes away (the handler is dropped)
        // does not cancel them, so the provider's answer is recorded all the same.
        let (pool, seal, providers, settings) =
            (self.pool.clone(), self.seal.clone(), self.providers.clone(), self.settings.clone());
        let (order_id, amount, acquirer, stored) =
            (ctx.order_id.to_owned(), order.amount.minor(), ctx.acquirer.clone(), prepared.stored);
        let currency = order.amount.currency();
        let call = tokio::spawn(async move {
            let answer = acquirer.pay(&stored, &key, currency).await;
            crash::point("authorize", "after_answer");
            let checkout = Checkout { pool: &pool, seal: &seal, providers: &providers, settings: &settings };
            match answer {
                Ok(Step::Browser(visit)) => checkout.record_bank_visit(&order_id, &attempt_id, visit).await,
                Ok(Step::Done(t)) => {
                    checkout.record_payment(&order_id, &attempt_id, pre_auth, amount, Ok(t), None).await
                }
                Err(e) => checkout.record_payment(&order_id, &attempt_id, pre_auth, amount, Err(e), None).await,
            }
        });
        // Should the task fail, the attempt stays pending: the receipt shows it as being confirmed, and it is
        // resolved like a lost answer.
        match call.await {
            Ok(recorded) => recorded?,
            Err(e) => tracing::error!(error = %e, "the payment call's task failed; it is left to the sweeper"),
        }
        self.replayed(ctx.order_id.to_owned()).await
    }

    /// The acquirer sent the shopper to the bank: the order waits (authorizing, its attempt sent) for the
    /// bank to send the shopper back to our return URL, with what the payment goes on with.
    async fn record_bank_visit(&self, order_id: &str, attempt_id: &str, visit: BankVisit) -> Result<(), CheckoutError> {
        let mut tx = db::begin_write(self.pool).await?;
        if !payments::may_record(&mut tx, order_id, attempt_id, None).await? {
            tx.commit().await?;
            return Ok(());
        }
        let event = json!({"bank": crate::server::csp::origin(&visit.form.action)});
        let awaiting = Awaiting::Bank { visit, attempt_id: attempt_id.to_owned() };
        orders::set_awaiting(&mut tx, self.seal, order_id, &json!(awaiting).to_string()).await?;
        orders::set_reason(&mut tx, order_id, reason::AT_BANK).await?;
        orders::append_event(&mut tx, order_id, "bank_redirect", &event);
        tx.commit().await?;
        Ok(())
    }

    /// The form that sends the shopper's browser on to the bank, while the order waits for it.
    pub async fn bank_form(&self, order_id: &str) -> Result<Option<RedirectForm>, CheckoutError> {
        let stored = orders::awaiting(self.pool, self.seal, order_id).await?;
        match stored.as_deref().map(Awaiting::parse).transpose()? {
            Some(Awaiting::Bank { visit, .. }) => Ok(Some(visit.form)),
            Some(Awaiting::Challenge { .. }) | None => {
                orders::get(self.pool, order_id).await.map_err(not_found)?;
                Ok(None)
            }
        }
    }

    /// What the bank posted to our return URL. The first return that names the session the order waits with
    /// takes it (single use, in the same transaction that keeps the request going on with the payment); a
    /// replayed, late or foreign one changes nothing, and the shopper is shown the order either way.
    pub async fn return_from_bank(&self, order_id: &str, posted: BankReturn) -> Result<(), CheckoutError> {
        // The answer's name for the timeline, and the protocol version the authentication followed.
        let (answer, kind, version) = match &posted.answer {
            BankAnswer::Cres(v) => (v, "cres", "2"),
            BankAnswer::PaRes(v) => (v, "pa_res", "1"),
        };
        // Checked before the single writer is taken: an unreadable post holds nobody up.
        if !is_token(answer, MAX_BANK_ANSWER)
            || posted.session.as_deref().is_some_and(|s| !is_token(s, MAX_BANK_ANSWER))
        {
            return Err(invalid("bank", "the bank's answer could not be read"));
        }
        let mut tx = db::begin_write(self.pool).await?;
        let order = orders::get_locked(&mut tx, order_id).await.map_err(not_found)?;
        let taken = match order.status {
            PaymentStatus::Authorizing => orders::take_awaiting(&mut tx, self.seal, order_id).await?,
            _ => None,
        };
        let Some(Awaiting::Bank { visit, attempt_id }) = taken.as_deref().map(Awaiting::parse).transpose()? else {
            return Ok(()); // nothing taken: the transaction rolls back
        };
        if !visit.names(posted.session.as_deref()) {
            tracing::warn!(order_id, "a bank return named another session than the order's; ignored");
            return Ok(());
        }
        let acquirer = self.acquirer_of(&order)?;
        let request =
            acquirer.prepare_return(&visit, &posted.answer).map_err(|e| CheckoutError::Conflict(e.to_string()))?;
        payments::resend_with(&mut tx, self.seal, &attempt_id, &request).await?;
        orders::append_event(&mut tx, order_id, "bank_returned", &json!({"answer": kind}));
        tx.commit().await?;

        // As with the payment itself: a shopper who goes away does not cancel the call or its record.
        let (pool, seal, providers, settings) =
            (self.pool.clone(), self.seal.clone(), self.providers.clone(), self.settings.clone());
        let (order_id, pre_auth) = (order_id.to_owned(), order.capture_mode == CaptureMode::PreAuth);
        let (amount, currency) = (order.amount.minor(), order.amount.currency());
        let call = tokio::spawn(async move {
            // The authentication it reports followed the bank's challenge, in this protocol version.
            let answer = acquirer.resume(&request, currency).await.map(|mut t| {
                if let Some(a) = &mut t.authentication {
                    a.challenge_required = Some("Y".into());
                    a.threeds_version = Some(version.into());
                }
                t
            });
            let checkout = Checkout { pool: &pool, seal: &seal, providers: &providers, settings: &settings };
            checkout.record_payment(&order_id, &attempt_id, pre_auth, amount, answer, None).await
        });
        match call.await {
            Ok(recorded) => recorded,
            Err(e) => {
                tracing::error!(error = %e, "the bank return's task failed; it is left to the sweeper");
                Ok(())
            }
        }
    }

    /// A saved card the shopper pays with: the session's email must own it, and be the order's email.
    async fn saved_card_for(
        &self,
        payment: &SavedCardPayment,
        confirmed: Option<&str>,
        billing_email: &str,
    ) -> Result<SavedCard, CheckoutError> {
        let not_yours = || invalid("saved_card", "confirm your email to pay with a saved card");
        let email = confirmed.ok_or_else(not_yours)?;
        let card = saved_cards::card(self.pool, &payment.card_id).await?;
        let card =
            card.filter(|c| c.email == email).ok_or_else(|| invalid("saved_card", "there is no such saved card"))?;
        if billing_email != email {
            return Err(invalid("email", "use the email your saved card belongs to"));
        }
        Ok(card)
    }

    /// Keeps the card an approved payment stored, for an order whose shopper asked for it: the acquirer's
    /// token against the order's email, with the card as the acquirer described it (or as the order has it).
    async fn keep_stored_card(&self, tx: &mut db::Tx, order_id: &str, t: &Txn) -> Result<(), CheckoutError> {
        let Some(credential) = saved_cards::credential(self.pool, order_id).await? else { return Ok(()) };
        if credential.initiator != Initiator::Signup {
            return Ok(());
        }
        let order = orders::get_locked(tx, order_id).await?;
        let (Some(stored), Some(card)) = (&t.stored, &order.card) else {
            orders::append_event(tx, order_id, "card_not_saved", &json!({"why": "the payment gave no reuse token"}));
            return Ok(());
        };
        let (month, year) = stored.expiry.unwrap_or((card.expiry_month, card.expiry_year));
        let last4 = stored.last4.clone().filter(|l| l.len() == 4).unwrap_or_else(|| card.last4.clone());
        let new = NewSavedCard {
            email: &order.billing.email,
            reuse_token: &stored.token,
            brand: stored.brand.unwrap_or(card.brand),
            bin6: card.bin6.as_deref(),
            last4: &last4,
            expiry_month: month,
            expiry_year: year,
            scheme_reference: stored.scheme_reference.as_deref(),
            first_order_id: order_id,
        };
        let id = saved_cards::insert_card(tx, &new).await?;
        let token_last4 = crate::domain::saved_card::token_last_four(&stored.token);
        orders::append_event(tx, order_id, "card_saved", &json!({"card_id": id, "token_last4": token_last4}));
        Ok(())
    }

    async fn record_payment(
        &self,
        order_id: &str,
        attempt_id: &str,
        pre_auth: bool,
        amount: i64,
        answer: Result<Txn, ProviderError>,
        lease: Option<&str>,
    ) -> Result<(), CheckoutError> {
        let mut tx = db::begin_write(self.pool).await?;
        if !payments::may_record(&mut tx, order_id, attempt_id, lease).await? {
            tx.commit().await?;
            return Ok(());
        }
        let order = orders::get_locked(&mut tx, order_id).await?;
        let already_unknown = order.status == PaymentStatus::Unknown;
        match answer {
            Ok(t) => {
                // The acquirer authenticated inside this payment: its 3-D Secure result is the order's.
                if let (None, Some(authentication)) = (order.authenticator, &t.authentication) {
                    payments::insert_threeds(&mut tx, order_id, authentication).await?;
                }
                let (attempt, status, why) = match t.outcome {
                    TxnOutcome::Approved if pre_auth => {
                        (AttemptStatus::Succeeded, PaymentStatus::Authorized, reason::AUTHORIZED.to_owned())
                    }
                    TxnOutcome::Approved => {
                        (AttemptStatus::Succeeded, PaymentStatus::Captured, reason::APPROVED.to_owned())
                    }
                    TxnOutcome::Declined(DeclineReason::NotAuthenticated) => {
                        (AttemptStatus::Declined, PaymentStatus::Declined, reason::NOT_AUTHENTICATED.to_owned())
                    }
                    TxnOutcome::Declined(reason) => {
                        (AttemptStatus::Declined, PaymentStatus::Declined, decline_sentence(reason))
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
                orders::append_event(&mut tx, order_id, "payment_answered", &t.details);
                let digits = t.digits.as_ref().map(|(b, l)| (b.as_str(), l.as_str()));
                self.correct_card(&mut tx, order_id, "payment", t.brand, digits).await?;
                if attempt == AttemptStatus::Succeeded {
                    self.keep_stored_card(&mut tx, order_id, &t).await?;
                }
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
                );
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
    /// payment whose id never reached us (an acquirer may read transactions by id only). Only a transaction
    /// is an outcome: a refusal of a resend (a 409 "in use", "CAVV used") says nothing about the first send,
    /// so the order stays `unknown`, visible to the merchant, and is asked about again by the next sweep.
    pub async fn resolve_unknown(&self, order_id: &str) -> Result<(), CheckoutError> {
        let order = orders::get(self.pool, order_id).await?;
        if !matches!(order.status, PaymentStatus::Unknown | PaymentStatus::Authorizing) {
            return Ok(());
        }
        // Sent to the bank and not back yet: nothing is lost; the sweeper expires it if the shopper never returns.
        if orders::awaiting(self.pool, self.seal, order_id).await?.is_some() {
            return Ok(());
        }
        let acquirer = self.acquirer_of(&order)?;
        let stale_before = acquirer.unanswered_before();
        let Some(attempt) = payments::unresolved_authorization(self.pool, order_id, stale_before).await? else {
            return Ok(());
        };
        let owner = uuid::Uuid::new_v4().to_string();
        let mut tx = db::begin_write(self.pool).await?;
        let held = orders::take_lease(&mut tx, order_id, &owner, acquirer.lease_until()).await?;
        tx.commit().await?;
        if !held {
            return Ok(()); // another resolver holds it
        }
        let currency = order.amount.currency();
        // A request whose key is gone is as good as cleared: nothing is sent again.
        let answer = match (&attempt.provider_transaction_id, attempt.request(self.seal)) {
            (Some(id), _) => acquirer.read(id, currency).await,
            (None, Some(request)) => {
                let lost = LostPayment {
                    stored_request: &request,
                    idempotency_key: &attempt.idempotency_key,
                    merchant_reference: &order.merchant_reference,
                    currency,
                    sent_at_ms: attempt.created_at,
                };
                acquirer.recover(&lost).await.map(|step| match step {
                    Step::Done(t) => t,
                    Step::Browser(_) => not_resumed(),
                })
            }
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
                orders::append_event(&mut tx, order_id, "payment_resolution", &details);
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

    /// The roles of a new checkout: no authenticator when the acquirer authenticates inside its payment.
    fn roles(&self) -> Result<(Option<Authenticator>, Acquirer), CheckoutError> {
        self.providers.for_checkout().map_err(CheckoutError::Unavailable)
    }

    fn authenticator_of(&self, order: &orders::Order) -> Result<Authenticator, CheckoutError> {
        let name = order.authenticator.ok_or(OrderError::Corrupt("authenticator"))?;
        self.providers.authenticator(name).ok_or_else(|| not_configured(name))
    }

    fn acquirer_of(&self, order: &orders::Order) -> Result<Acquirer, CheckoutError> {
        self.providers.acquirer(order.provider).ok_or_else(|| not_configured(order.provider))
    }

    /// The order as the shopper may see it. An order whose payment answer was lost (or never recorded) is
    /// resolved first.
    pub async fn order_view(&self, order_id: &str) -> Result<OrderView, CheckoutError> {
        let mut order = orders::get(self.pool, order_id).await.map_err(not_found)?;
        if matches!(order.status, PaymentStatus::Unknown | PaymentStatus::Authorizing) {
            self.resolve_unknown(order_id).await?;
            // Another resolver (the sweeper, a notification) may hold the order: its answer is moments away.
            self.await_resolver(order_id).await?;
            order = orders::get(self.pool, order_id).await.map_err(not_found)?;
        }
        let currency = order.amount.currency();
        let items = payments::items(self.pool, order_id)
            .await?
            .into_iter()
            .map(|(name, unit, qty)| {
                let total = Money::new(unit * qty, currency).unwrap_or(Money::zero(currency));
                (name, qty as u32, total)
            })
            .collect();
        let threeds = payments::latest_threeds(self.pool, order_id).await?.map(|t| ThreeDsView {
            // An authenticator's challenge is a result of its own; an acquirer's is marked on its block.
            challenged: t.stage == "challenge"
                || (t.stage == "provider" && t.challenge_required.as_deref() == Some("Y")),
            version: t.threeds_version,
            enrolled: t.enrolled,
            pares_status: t.pares_status,
            eci: t.eci_flag,
        });
        Ok(OrderView {
            id: order.id,
            reference: order.merchant_reference,
            status: order.status,
            reason: order.outcome_reason,
            amount: order.amount,
            items,
            card: order.card,
            threeds,
            liability_shifted: order.liability_shifted,
            pre_auth: order.capture_mode == CaptureMode::PreAuth,
        })
    }

    /// Waits a moment for a resolver that holds the order to let it go, so the receipt page can show what
    /// it learnt; a longer resolution (a slow provider) is left to the page's next refresh.
    async fn await_resolver(&self, order_id: &str) -> Result<(), CheckoutError> {
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
                // One at the bank expires only while it still waits (a return may have just taken it): its
                // payment never went past 3-D Secure, so nothing was charged.
                if orders::get_locked(&mut tx, &id).await?.status == PaymentStatus::Authorizing {
                    let taken = orders::take_awaiting(&mut tx, self.seal, &id).await?;
                    let Some(Awaiting::Bank { attempt_id, .. }) = taken.as_deref().map(Awaiting::parse).transpose()?
                    else {
                        return Ok(false);
                    };
                    let answer = AttemptAnswer {
                        status: AttemptStatus::Failed,
                        provider_transaction_id: None,
                        provider_status: None,
                        reason_code: None,
                        message: Some("the shopper did not come back from the bank's page"),
                    };
                    payments::record_attempt(&mut tx, &attempt_id, &answer).await?;
                }
                orders::finish(&mut tx, &id, PaymentStatus::Expired, reason::EXPIRED).await?;
                tx.commit().await.map_err(OrderError::from)?;
                Ok::<_, OrderError>(true)
            };
            match expire.await {
                Ok(true) => expired += 1,
                Ok(false) => {}
                Err(e) => tracing::warn!(order_id = %id, error = %e, "expiring an abandoned checkout failed"),
            }
        }
        Ok(expired)
    }
}

struct PayContext<'a> {
    order_id: &'a str,
    brand: CardBrand,
    /// The card as the browser prepared it for the acquirer (encrypted, or a single-use token).
    payment_card: &'a str,
    acquirer: &'a Acquirer,
    /// The shopper's browser, when the acquirer authenticates inside its payment.
    browser: Option<&'a BrowserInfo>,
}

/// The issuer's challenge as the shopper is given it.
fn step(challenge: &Challenge, order_id: &str) -> NextStep {
    NextStep::Challenge {
        order_id: order_id.to_owned(),
        acs_url: challenge.acs_url.clone(),
        payload: challenge.payload.clone(),
        transaction_id: challenge.transaction_id.clone(),
    }
}

/// Where the shopper's browser goes to see the bank's page (our page that posts it on).
fn bank_step(order_id: &str) -> NextStep {
    NextStep::Redirect { order_id: order_id.to_owned(), url: format!("/checkout/{order_id}/bank") }
}

/// A payment sent again after a lost answer met 3-D Secure again: nothing was paid, and the shopper is no
/// longer there to pass it.
fn not_resumed() -> Txn {
    Txn {
        status: "not_resumed".into(),
        outcome: TxnOutcome::Failed,
        message: Some(reason::NOT_RESUMED.into()),
        details: json!({"resent": "the payment asked for 3-D Secure again; nothing was paid"}),
        ..Txn::default()
    }
}

/// What an order waiting for the shopper keeps (`orders.awaiting`) until the shopper is back, and no longer.
#[derive(Serialize, Deserialize)]
#[serde(untagged)]
enum Awaiting {
    /// The authenticator's challenge, before any payment.
    Challenge {
        /// Given again to a retried submit.
        challenge: Challenge,
        /// The card the first authentication covered, as the browser prepared it for the acquirer (encrypted,
        /// or a single-use token): the only card the payment after the challenge may use.
        encrypted_card: String,
    },
    /// The bank's page of the acquirer's payment: its attempt is sent and waits for the bank's answer.
    Bank { visit: BankVisit, attempt_id: String },
}

impl Awaiting {
    fn parse(stored: &str) -> Result<Awaiting, OrderError> {
        serde_json::from_str(stored).map_err(|_| OrderError::Corrupt("awaiting"))
    }
}

/// How long the receipt page waits for another resolver of its order.
const AWAIT_RESOLVER: std::time::Duration = std::time::Duration::from_secs(3);

/// Bounds of the browser SDKs' tokens, far above any real one: nothing unbounded is stored or sent on.
const MAX_SESSION_ID: usize = 128;
const MAX_ENCRYPTED_CARD: usize = 16 * 1024;
const MAX_JWT: usize = 8 * 1024;
/// A 3-D Secure 1 `PaRes` (signed, deflated XML in base64) runs to a few KB.
const MAX_BANK_ANSWER: usize = 64 * 1024;
const CARD_NOT_PREPARED: &str = "the card could not be prepared; reload the page";
const BROWSER_NOT_READ: &str = "your browser's details could not be read; reload the page";

/// A token from a browser SDK (a device session id, a challenge's JWT, an encrypted card): present, at
/// most `max` bytes, printable ASCII without spaces (base64, base64url, dots, dashes, underscores).
fn is_token(value: &str, max: usize) -> bool {
    !value.is_empty() && value.len() <= max && value.bytes().all(|b| b.is_ascii_graphic())
}

fn invalid(field: &str, message: &str) -> CheckoutError {
    CheckoutError::Invalid(vec![FieldError::new(field, message)])
}

/// A missing order is the caller's 404; any other store error stays one.
fn not_found(e: OrderError) -> CheckoutError {
    match e {
        OrderError::NotFound => CheckoutError::NotFound,
        other => other.into(),
    }
}

fn not_configured(name: orders::Provider) -> CheckoutError {
    CheckoutError::Conflict(format!("{} is not configured here, so this order cannot go on", name.as_str()))
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
