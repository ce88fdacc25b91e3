//! Refund, capture and void, one service for the back office, the notifications and the sweeper, sent to
//! the order's acquirer: checked against the order first (never above what remains), stored with the
//! page's idempotency key before the provider call, so a double submit or a retry acts once; the answer, or
//! the refusal, is recorded in the order's timeline.

use crate::domain::{
    money::Money,
    status::{Action, PaymentStatus},
};
use crate::server::{
    crash,
    db::{
        self,
        orders::{self, Order, OrderError},
        payments::{self, AttemptAnswer, AttemptKind, AttemptStatus},
        sealed::Seal,
    },
    providers::{Acquirer, ProviderError, Providers, Txn, TxnOutcome},
};
use serde_json::json;

#[derive(Debug, thiserror::Error)]
pub enum ActionError {
    /// Our own rules refuse it (wrong status, amount too high): nothing was sent.
    #[error("{0}")]
    Refused(String),
    #[error("order not found")]
    NotFound,
    #[error(transparent)]
    Store(#[from] OrderError),
}

impl From<sqlx::Error> for ActionError {
    fn from(e: sqlx::Error) -> Self {
        ActionError::Store(OrderError::Db(e))
    }
}

pub fn kind_of(action: Action) -> AttemptKind {
    match action {
        Action::Refund => AttemptKind::Refund,
        Action::Capture => AttemptKind::Capture,
        Action::Void => AttemptKind::Void,
    }
}

/// What may be done to an order now, and up to which amount.
pub fn allowed(order: &Order) -> Vec<(Action, Money)> {
    let currency = order.amount.currency();
    let money = |minor| Money::new(minor, currency).unwrap_or(Money::zero(currency));
    match order.status {
        PaymentStatus::Authorized => vec![(Action::Capture, order.amount), (Action::Void, order.amount)],
        PaymentStatus::Captured | PaymentStatus::PartiallyRefunded => {
            vec![(Action::Refund, money(order.captured.minor() - order.refunded.minor()))]
        }
        _ => vec![],
    }
}

/// Checks `action` of `amount` against the order; returns the amount to send. A void releases the whole
/// authorization and takes no amount; a refund or capture must say how much.
pub fn check(order: &Order, action: Action, amount: Option<Money>) -> Result<Money, ActionError> {
    let verb = kind_of(action).as_str();
    let Some((_, limit)) = allowed(order).into_iter().find(|(a, _)| *a == action) else {
        let status = order.status.label().to_lowercase();
        return Err(ActionError::Refused(format!("an order that is {status} cannot be given a {verb}")));
    };
    let amount = match (action, amount) {
        (Action::Void, _) => limit,
        (_, Some(a)) => a,
        (_, None) => return Err(ActionError::Refused(format!("enter the amount of the {verb}"))),
    };
    if amount.currency() != limit.currency() {
        return Err(ActionError::Refused(format!("the amount must be in {}", limit.currency())));
    }
    if amount.minor() <= 0 {
        return Err(ActionError::Refused("the amount must be more than zero".into()));
    }
    if amount.minor() > limit.minor() {
        return Err(ActionError::Refused(format!("the {verb} can be at most {limit}")));
    }
    Ok(amount)
}

pub struct Actions<'a> {
    pub pool: &'a db::Database,
    pub seal: &'a Seal,
    pub providers: &'a Providers,
}

/// The acquirer that made the order's payment.
fn acquirer_of(providers: &Providers, order: &Order) -> Result<Acquirer, ActionError> {
    providers.acquirer(order.provider).ok_or_else(|| {
        ActionError::Refused(format!(
            "{} is not configured here, so its orders cannot be changed",
            order.provider.as_str()
        ))
    })
}

impl Actions<'_> {
    /// Does `action` once per `key`; returns the attempt's id (the same one for a repeated key).
    pub async fn act(
        &self,
        order_id: &str,
        action: Action,
        amount: Option<Money>,
        key: &str,
    ) -> Result<String, ActionError> {
        let kind = kind_of(action);
        let mut tx = db::begin_write(self.pool).await?;
        if let Some(done) = payments::attempt_by_key(&mut tx, key).await? {
            return if done.order_id == order_id && done.kind == kind.as_str() {
                Ok(done.id)
            } else {
                Err(ActionError::Refused("this form was used for another action; reload the page".into()))
            };
        }
        let order = orders::get_locked(&mut tx, order_id).await.map_err(|e| match e {
            OrderError::NotFound => ActionError::NotFound,
            other => other.into(),
        })?;
        let amount = check(&order, action, amount)?;
        let acquirer = acquirer_of(self.providers, &order)?;
        if payments::action_in_flight(&mut tx, order_id).await? {
            return Err(ActionError::Refused("another action on this order is still being processed".into()));
        }
        let Some(transaction_id) = payments::authorization_transaction(&mut tx, order_id).await? else {
            return Err(ActionError::Refused("this order has no approved payment to act on".into()));
        };
        let request = json!({"transaction_id": transaction_id, "action": kind.as_str(), "amount": amount.minor()});
        let attempt_id =
            payments::insert_attempt(&mut tx, self.seal, order_id, kind, amount.minor(), key, &request.to_string())
                .await?;
        orders::append_event(
            &mut tx,
            order_id,
            &format!("{}_requested", kind.as_str()),
            &json!({"amount_minor": amount.minor(), "currency": amount.currency().code(), "idempotency_key": key}),
        );
        crash::point(kind.as_str(), "before_intent");
        tx.commit().await?;
        crash::point(kind.as_str(), "after_intent");

        // The call and its record run on their own task: a merchant who goes away (the handler is dropped)
        // does not cancel them, so the provider's answer is recorded all the same.
        let (pool, seal, providers) = (self.pool.clone(), self.seal.clone(), self.providers.clone());
        let (order_id, key, id) = (order_id.to_owned(), key.to_owned(), attempt_id.clone());
        let call = tokio::spawn(async move {
            let answer = acquirer.act(&transaction_id, action, amount, &key).await;
            crash::point(kind.as_str(), "after_answer");
            let actions = Actions { pool: &pool, seal: &seal, providers: &providers };
            actions.record(&order_id, &id, action, amount.minor(), answer, None).await
        });
        // Should the task fail, the attempt stays pending (its page says so) and is resolved like a lost answer.
        match call.await {
            Ok(recorded) => recorded?,
            Err(e) => tracing::error!(error = %e, "the action call's task failed; it is left to the sweeper"),
        }
        Ok(attempt_id)
    }

    async fn record(
        &self,
        order_id: &str,
        attempt_id: &str,
        action: Action,
        amount: i64,
        answer: Result<Txn, ProviderError>,
        lease: Option<&str>,
    ) -> Result<(), ActionError> {
        let kind = kind_of(action).as_str();
        let mut tx = db::begin_write(self.pool).await?;
        if !payments::may_record(&mut tx, order_id, attempt_id, lease).await? {
            tx.commit().await?;
            return Ok(());
        }
        match answer {
            Ok(t) => {
                let done = match action {
                    Action::Void => t.outcome == TxnOutcome::Voided,
                    _ => t.outcome == TxnOutcome::Approved,
                };
                let status = match t.outcome {
                    _ if done => AttemptStatus::Succeeded,
                    TxnOutcome::Pending | TxnOutcome::Unknown => AttemptStatus::Unknown,
                    _ => AttemptStatus::Declined,
                };
                // A notification may have told us of this very transaction already.
                let counted = payments::transaction_recorded(&mut tx, kind_of(action), &t.id).await?;
                payments::record_attempt(
                    &mut tx,
                    attempt_id,
                    &AttemptAnswer {
                        status,
                        provider_transaction_id: Some(&t.id),
                        provider_status: Some(&t.status),
                        reason_code: t.reason_code.as_deref(),
                        message: t.message.as_deref(),
                    },
                )
                .await?;
                let event = if done { "answered" } else { "refused" };
                orders::append_event(&mut tx, order_id, &format!("{kind}_{event}"), &t.details);
                if done && !counted {
                    apply(&mut tx, order_id, action, amount).await?;
                }
            }
            Err(e) => {
                let status = if e.outcome_unknown() {
                    AttemptStatus::Unknown
                } else if matches!(e, ProviderError::Refused { .. }) {
                    AttemptStatus::Declined
                } else {
                    AttemptStatus::Failed
                };
                let message = match &e {
                    ProviderError::Refused { message, .. } => message.clone(),
                    other => other.to_string(),
                };
                let answer = AttemptAnswer {
                    status,
                    provider_transaction_id: None,
                    provider_status: None,
                    reason_code: None,
                    message: Some(&message),
                };
                payments::record_attempt(&mut tx, attempt_id, &answer).await?;
                let event = if status == AttemptStatus::Unknown { "failed" } else { "refused" };
                orders::append_event(
                    &mut tx,
                    order_id,
                    &format!("{kind}_{event}"),
                    &json!({"error": e.to_string(), "outcome_unknown": e.outcome_unknown()}),
                );
            }
        }
        tx.commit().await?;
        Ok(())
    }

    /// Actions whose answer was lost, or whose call a stopped process never recorded (still `pending` after
    /// the provider's timeout). One resolver at a time holds the order (a lease in the database) and asks the
    /// provider: it reads the action's transaction when its id is known, and otherwise sends the action again
    /// with the same key, so the provider acts at most once. Only a transaction is an outcome: a refused resend
    /// (a 409 "in use") leaves the action unknown, asked about again by the next sweep. Fails only when the
    /// list of them cannot be read.
    pub async fn resolve_unknown(&self) -> Result<(), ActionError> {
        for attempt in payments::unresolved_actions(self.pool, self.providers.unanswered_before()).await? {
            // One that cannot be resolved waits for the next sweep; it does not hold up the others.
            if let Err(e) = self.resolve(&attempt).await {
                tracing::warn!(attempt_id = %attempt.id, error = %e, "resolving an action failed");
            }
        }
        Ok(())
    }

    async fn resolve(&self, attempt: &payments::Attempt) -> Result<(), ActionError> {
        // A request whose key is gone is as good as cleared: nothing is sent again.
        let request: serde_json::Value =
            serde_json::from_str(attempt.request(self.seal).as_deref().unwrap_or("{}")).unwrap_or_default();
        let (Some(txn), Some(action)) =
            (request["transaction_id"].as_str(), Action::parse(request["action"].as_str().unwrap_or_default()))
        else {
            return Ok(());
        };
        let order = orders::get(self.pool, &attempt.order_id).await?;
        let acquirer = acquirer_of(self.providers, &order)?;
        if attempt.status == "pending" && attempt.created_at >= acquirer.unanswered_before() {
            return Ok(()); // its own acquirer may still answer
        }
        let owner = uuid::Uuid::new_v4().to_string();
        let mut tx = db::begin_write(self.pool).await?;
        let held = orders::take_lease(&mut tx, &attempt.order_id, &owner, acquirer.lease_until()).await?;
        tx.commit().await?;
        if !held {
            return Ok(()); // another resolver holds the order
        }
        let currency = order.amount.currency();
        let answer = match (&attempt.provider_transaction_id, Money::new(attempt.amount_minor, currency)) {
            (Some(id), _) => acquirer.read(id, currency).await,
            (None, Ok(amount)) => acquirer.act_again(txn, action, amount, &attempt.idempotency_key).await,
            (None, Err(e)) => Err(ProviderError::Malformed(e.to_string())),
        };
        let answer = match answer {
            Ok(t) => Ok(t),
            Err(e) if attempt.status == "unknown" => {
                tracing::info!(attempt_id = %attempt.id, error = %e, "a lost action answer is still unknown");
                let mut tx = db::begin_write(self.pool).await?;
                orders::release_lease(&mut tx, &attempt.order_id, &owner).await?;
                tx.commit().await?;
                return Ok(());
            }
            // A call never answered, and no transaction now either (a refusal, no answer): unknown, not failed.
            Err(e) => Err(ProviderError::Malformed(format!("no outcome from the provider ({e})"))),
        };
        self.record(&attempt.order_id, &attempt.id, action, attempt.amount_minor, answer, Some(&owner)).await
    }
}

/// A refund, capture or void a provider's event reports: counted unless its transaction is already (the
/// answer to our own call came first), and only if the order allows it. It is applied even while one of ours
/// is in flight: if the event is of ours, our answer then finds its transaction counted and adds nothing; if
/// it is one made at the provider (its portal), both count, each once.
pub async fn apply_reported(
    tx: &mut db::Tx,
    order: &Order,
    action: Action,
    event: &str,
    t: &Txn,
    key: &str,
) -> Result<(), OrderError> {
    let kind = kind_of(action);
    if payments::transaction_recorded(tx, kind, &t.id).await? {
        return Ok(());
    }
    // The event says how much moved; without a valid amount it is refused, never taken as "all that remains".
    let amount = match t.amount.map(|a| Money::new(a, order.amount.currency())) {
        Some(Ok(a)) => check(order, action, Some(a)),
        _ => Err(ActionError::Refused("the event has no valid amount".into())),
    };
    let amount = match amount {
        Ok(a) => a,
        Err(e) => {
            let details = json!({"event": event, "reason": e.to_string(), "amount": t.amount});
            orders::append_event(tx, &order.id, "notification_not_applied", &details);
            return Ok(());
        }
    };
    let answer = AttemptAnswer {
        status: AttemptStatus::Succeeded,
        provider_transaction_id: Some(&t.id),
        provider_status: Some(&t.status),
        reason_code: t.reason_code.as_deref(),
        message: t.message.as_deref(),
    };
    payments::insert_answered_attempt(tx, &order.id, kind, amount.minor(), key, &answer).await?;
    apply(tx, &order.id, action, amount.minor()).await
}

/// Moves the order's amounts and status for an approved action.
async fn apply(tx: &mut db::Tx, order_id: &str, action: Action, amount: i64) -> Result<(), OrderError> {
    match action {
        Action::Capture => {
            orders::add(tx, order_id, orders::Tally::Captured, amount).await?;
            orders::transition(tx, order_id, PaymentStatus::Captured).await?;
        }
        Action::Void => {
            orders::transition(tx, order_id, PaymentStatus::Voided).await?;
        }
        Action::Refund => {
            orders::add(tx, order_id, orders::Tally::Refunded, amount).await?;
            let order = orders::get_locked(tx, order_id).await?;
            let to = if order.refunded == order.captured {
                PaymentStatus::Refunded
            } else {
                PaymentStatus::PartiallyRefunded
            };
            orders::transition(tx, order_id, to).await?;
        }
    }
    Ok(())
}
