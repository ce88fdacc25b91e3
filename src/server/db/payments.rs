//! Payment attempts, 3-D Secure results and order items: the rows the checkout writes around each call.

use super::Pool;
use super::sealed::Seal;
use super::{
    Tx, now_ms,
    orders::{OrderError, Provider},
};
use crate::domain::catalog::PricedLine;
use sqlx::Row;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AttemptKind {
    Authorize,
    Capture,
    Refund,
    Void,
}

impl AttemptKind {
    pub fn parse(s: &str) -> Option<AttemptKind> {
        [AttemptKind::Authorize, AttemptKind::Capture, AttemptKind::Refund, AttemptKind::Void]
            .into_iter()
            .find(|k| k.as_str() == s)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            AttemptKind::Authorize => "authorize",
            AttemptKind::Capture => "capture",
            AttemptKind::Refund => "refund",
            AttemptKind::Void => "void",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AttemptStatus {
    Pending,
    Succeeded,
    Declined,
    Failed,
    Unknown,
}

impl AttemptStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            AttemptStatus::Pending => "pending",
            AttemptStatus::Succeeded => "succeeded",
            AttemptStatus::Declined => "declined",
            AttemptStatus::Failed => "failed",
            AttemptStatus::Unknown => "unknown",
        }
    }
}

/// Records the intent before the call: the key the provider will see, and (until answered) the request,
/// sealed. Returns the attempt's id.
pub async fn insert_attempt(
    tx: &mut Tx,
    seal: &Seal,
    order_id: &str,
    kind: AttemptKind,
    amount_minor: i64,
    key: &str,
    pending_request: &str,
) -> Result<String, OrderError> {
    let id = uuid::Uuid::new_v4().to_string();
    let now = now_ms();
    sqlx::query(
        "INSERT INTO payment_attempts (id, order_id, kind, idempotency_key, amount_minor, status, pending_request,
            created_at, updated_at) VALUES ($1, $2, $3, $4, $5, 'pending', $6, $7, $8)",
    )
    .bind(&id)
    .bind(order_id)
    .bind(kind.as_str())
    .bind(key)
    .bind(amount_minor)
    .bind(seal.seal_request(&id, pending_request))
    .bind(now)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(id)
}

pub struct AttemptAnswer<'a> {
    pub status: AttemptStatus,
    pub provider_transaction_id: Option<&'a str>,
    pub provider_status: Option<&'a str>,
    pub reason_code: Option<&'a str>,
    pub message: Option<&'a str>,
}

/// Records an attempt that arrives answered (an action the provider reports having done): it is never in
/// flight, so it can be recorded while one of ours is. Returns its id.
pub async fn insert_answered_attempt(
    tx: &mut Tx,
    order_id: &str,
    kind: AttemptKind,
    amount_minor: i64,
    key: &str,
    a: &AttemptAnswer<'_>,
) -> Result<String, OrderError> {
    let id = uuid::Uuid::new_v4().to_string();
    let now = now_ms();
    sqlx::query(
        "INSERT INTO payment_attempts (id, order_id, kind, idempotency_key, amount_minor, status,
            provider_transaction_id, provider_status, reason_code, message, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
    )
    .bind(&id)
    .bind(order_id)
    .bind(kind.as_str())
    .bind(key)
    .bind(amount_minor)
    .bind(a.status.as_str())
    .bind(a.provider_transaction_id)
    .bind(a.provider_status)
    .bind(a.reason_code)
    .bind(a.message)
    .bind(now)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(id)
}

/// Records the provider's answer; the stored request is dropped unless the outcome is still unknown.
pub async fn record_attempt(tx: &mut Tx, attempt_id: &str, a: &AttemptAnswer<'_>) -> Result<(), OrderError> {
    sqlx::query(
        "UPDATE payment_attempts SET status = $1, provider_transaction_id = COALESCE($2, provider_transaction_id),
            provider_status = $3, reason_code = $4, message = $5,
            pending_request = CASE WHEN $6 = 'unknown' THEN pending_request ELSE NULL END, updated_at = $7
         WHERE id = $8",
    )
    .bind(a.status.as_str())
    .bind(a.provider_transaction_id)
    .bind(a.provider_status)
    .bind(a.reason_code)
    .bind(a.message)
    .bind(a.status.as_str())
    .bind(now_ms())
    .bind(attempt_id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Whether the attempt's answer has been recorded already (it is no longer pending or unknown).
/// Whether this writer may record `attempt_id`'s answer: it holds the order (when it resolves under a lease,
/// which it gives back in this transaction; one whose lease was taken over leaves the order), and nobody recorded
/// the answer meanwhile (the call's own task, a resolver, a notification).
pub async fn may_record(
    tx: &mut Tx,
    order_id: &str,
    attempt_id: &str,
    lease: Option<&str>,
) -> Result<bool, OrderError> {
    if let Some(owner) = lease {
        let held = super::orders::holds_lease(tx, order_id, owner).await?;
        super::orders::release_lease(tx, order_id, owner).await?;
        if !held {
            return Ok(false);
        }
    }
    Ok(!attempt_answered(tx, attempt_id).await?)
}

async fn attempt_answered(tx: &mut Tx, attempt_id: &str) -> Result<bool, OrderError> {
    let status: Option<String> = sqlx::query_scalar("SELECT status FROM payment_attempts WHERE id = $1")
        .bind(attempt_id)
        .fetch_optional(&mut **tx)
        .await?;
    Ok(!matches!(status.as_deref(), Some("pending" | "unknown")))
}

/// The order's authorization whose answer is missing: lost (`unknown`), or last sent before `stale_before` and
/// never recorded (the process stopped during the call). "Last sent": a payment that went on after the bank's
/// page was sent again then (`updated_at`). Newest first.
pub async fn unresolved_authorization(
    pool: &Pool,
    order_id: &str,
    stale_before: i64,
) -> Result<Option<Attempt>, OrderError> {
    let sql = format!(
        "SELECT {ATTEMPT_COLUMNS} FROM payment_attempts WHERE order_id = $1 AND kind = 'authorize'
            AND (status = 'unknown' OR (status = 'pending' AND updated_at < $2)) ORDER BY created_at DESC LIMIT 1"
    );
    Ok(sqlx::query_as(&sql).bind(order_id).bind(stale_before).fetch_optional(pool).await?)
}

/// Keeps the request that goes on with a payment after the bank's page, before it is sent: until answered, it
/// is what a resolver looks for (and sends again) should the answer be lost.
pub async fn resend_with(tx: &mut Tx, seal: &Seal, attempt_id: &str, request: &str) -> Result<(), OrderError> {
    sqlx::query(
        "UPDATE payment_attempts SET pending_request = $1, updated_at = $2 WHERE id = $3 AND status = 'pending'",
    )
    .bind(seal.seal_request(attempt_id, request))
    .bind(now_ms())
    .bind(attempt_id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Notes the provider's id of an order's authorization whose answer is missing (a signed event named it), so
/// that resolving it reads the transaction instead of sending the payment again.
pub async fn note_authorization(tx: &mut Tx, order_id: &str, provider_id: &str) -> Result<(), OrderError> {
    sqlx::query(
        "UPDATE payment_attempts SET provider_transaction_id = $1, updated_at = $2
         WHERE order_id = $3 AND kind = 'authorize' AND status IN ('pending', 'unknown')
            AND provider_transaction_id IS NULL",
    )
    .bind(provider_id)
    .bind(now_ms())
    .bind(order_id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// A payment attempt as the back office shows it.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Attempt {
    pub id: String,
    pub order_id: String,
    pub kind: String,
    pub idempotency_key: String,
    pub amount_minor: i64,
    pub status: String,
    pub provider_transaction_id: Option<String>,
    pub provider_status: Option<String>,
    pub reason_code: Option<String>,
    pub message: Option<String>,
    /// The request as stored: sealed (`request` opens it).
    #[sqlx(rename = "pending_request")]
    pub sealed_request: Option<String>,
    pub created_at: i64,
}

impl Attempt {
    /// The request kept while the answer is awaited or lost; none once cleared or if it cannot be opened any
    /// more (its key is gone): nothing to send again.
    pub fn request(&self, seal: &Seal) -> Option<String> {
        self.sealed_request.as_deref().and_then(|stored| seal.open_request(&self.id, stored))
    }
}

const ATTEMPT_COLUMNS: &str = "id, order_id, kind, idempotency_key, amount_minor, status, provider_transaction_id,
    provider_status, reason_code, message, pending_request, created_at";

pub async fn attempts(pool: &Pool, order_id: &str) -> Result<Vec<Attempt>, OrderError> {
    let sql = format!("SELECT {ATTEMPT_COLUMNS} FROM payment_attempts WHERE order_id = $1 ORDER BY created_at, rowid");
    Ok(sqlx::query_as(&sql).bind(order_id).fetch_all(pool).await?)
}

pub async fn attempt(pool: &Pool, id: &str) -> Result<Option<Attempt>, OrderError> {
    let sql = format!("SELECT {ATTEMPT_COLUMNS} FROM payment_attempts WHERE id = $1");
    Ok(sqlx::query_as(&sql).bind(id).fetch_optional(pool).await?)
}

pub async fn attempt_by_key(tx: &mut Tx, key: &str) -> Result<Option<Attempt>, OrderError> {
    let sql = format!("SELECT {ATTEMPT_COLUMNS} FROM payment_attempts WHERE idempotency_key = $1");
    Ok(sqlx::query_as(&sql).bind(key).fetch_optional(&mut **tx).await?)
}

/// The provider's id of the order's approved authorization, which refunds, captures and voids act on.
pub async fn authorization_transaction(tx: &mut Tx, order_id: &str) -> Result<Option<String>, OrderError> {
    Ok(sqlx::query_scalar(
        "SELECT provider_transaction_id FROM payment_attempts
         WHERE order_id = $1 AND kind = 'authorize' AND status = 'succeeded'",
    )
    .bind(order_id)
    .fetch_optional(&mut **tx)
    .await?
    .flatten())
}

/// Whether a succeeded attempt already accounts for this provider transaction of `kind`.
pub async fn transaction_recorded(tx: &mut Tx, kind: AttemptKind, provider_id: &str) -> Result<bool, OrderError> {
    let n: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM payment_attempts WHERE kind = $1 AND provider_transaction_id = $2 AND status = 'succeeded'",
    )
    .bind(kind.as_str())
    .bind(provider_id)
    .fetch_one(&mut **tx)
    .await?;
    Ok(n > 0)
}

/// Whether a refund, capture or void of this order is in flight (sent, answer not recorded).
pub async fn action_in_flight(tx: &mut Tx, order_id: &str) -> Result<bool, OrderError> {
    let n: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM payment_attempts WHERE order_id = $1 AND kind IN ('capture', 'refund', 'void')
            AND status IN ('pending', 'unknown')",
    )
    .bind(order_id)
    .fetch_one(&mut **tx)
    .await?;
    Ok(n > 0)
}

/// Refunds, captures and voids whose answer is missing: lost (`unknown`), or sent before `stale_before` and
/// never recorded (the process stopped during the call). Oldest first.
pub async fn unresolved_actions(pool: &Pool, stale_before: i64) -> Result<Vec<Attempt>, OrderError> {
    let sql = format!(
        "SELECT {ATTEMPT_COLUMNS} FROM payment_attempts WHERE kind IN ('capture', 'refund', 'void')
            AND (status = 'unknown' OR (status = 'pending' AND created_at < $1)) ORDER BY created_at"
    );
    Ok(sqlx::query_as(&sql).bind(stale_before).fetch_all(pool).await?)
}

/// Notes a provider event as received; false if its id was seen before (a retry or a replay).
pub async fn record_notification(
    tx: &mut Tx,
    provider: Provider,
    event_id: &str,
    event: &str,
    transaction_id: Option<&str>,
    order_id: Option<&str>,
) -> Result<bool, OrderError> {
    let inserted = sqlx::query(
        "INSERT INTO notifications_received (event_id, provider, event, transaction_id, order_id, received_at)
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (event_id) DO NOTHING",
    )
    .bind(event_id)
    .bind(provider.as_str())
    .bind(event)
    .bind(transaction_id)
    .bind(order_id)
    .bind(now_ms())
    .execute(&mut **tx)
    .await?
    .rows_affected();
    Ok(inserted == 1)
}

pub async fn insert_items(tx: &mut Tx, order_id: &str, lines: &[PricedLine]) -> Result<(), OrderError> {
    for l in lines {
        sqlx::query("INSERT INTO order_items (order_id, sku, name, unit_minor, quantity) VALUES ($1, $2, $3, $4, $5)")
            .bind(order_id)
            .bind(&l.sku)
            .bind(&l.name)
            .bind(l.unit.minor())
            .bind(i64::from(l.quantity))
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

pub async fn items(pool: &Pool, order_id: &str) -> Result<Vec<(String, i64, i64)>, OrderError> {
    let rows = sqlx::query("SELECT name, unit_minor, quantity FROM order_items WHERE order_id = $1 ORDER BY rowid")
        .bind(order_id)
        .fetch_all(pool)
        .await?;
    rows.iter().map(|r| Ok((r.try_get("name")?, r.try_get("unit_minor")?, r.try_get("quantity")?))).collect()
}

/// One 3-D Secure answer as stored (the CAVV itself is not kept).
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct ThreeDsRow {
    pub stage: String,
    pub authentication_id: Option<String>,
    pub transaction_id: Option<String>,
    pub acs_transaction_id: Option<String>,
    pub ds_transaction_id: Option<String>,
    pub threeds_version: Option<String>,
    pub enrolled: Option<String>,
    pub pares_status: Option<String>,
    pub signature_verification: Option<String>,
    pub eci_flag: Option<String>,
    pub cavv_present: bool,
    pub challenge_required: Option<String>,
    pub status_reason: Option<String>,
    pub action_code: Option<String>,
    pub error_no: Option<String>,
    pub error_desc: Option<String>,
    pub liability_shifted: bool,
    /// The issuer's check of the CAVV, as an acquirer that authenticated reported it.
    pub cavv_result: Option<String>,
}

/// The flags are stored as 0/1 in both engines, which `Any` does not decode as `bool`.
impl<'r> sqlx::FromRow<'r, super::Row> for ThreeDsRow {
    fn from_row(r: &'r super::Row) -> Result<Self, sqlx::Error> {
        let flag = |col: &str| -> Result<bool, sqlx::Error> { Ok(r.try_get::<i64, _>(col)? == 1) };
        Ok(ThreeDsRow {
            stage: r.try_get("stage")?,
            authentication_id: r.try_get("authentication_id")?,
            transaction_id: r.try_get("transaction_id")?,
            acs_transaction_id: r.try_get("acs_transaction_id")?,
            ds_transaction_id: r.try_get("ds_transaction_id")?,
            threeds_version: r.try_get("threeds_version")?,
            enrolled: r.try_get("enrolled")?,
            pares_status: r.try_get("pares_status")?,
            signature_verification: r.try_get("signature_verification")?,
            eci_flag: r.try_get("eci_flag")?,
            cavv_present: flag("cavv_present")?,
            challenge_required: r.try_get("challenge_required")?,
            status_reason: r.try_get("status_reason")?,
            action_code: r.try_get("action_code")?,
            error_no: r.try_get("error_no")?,
            error_desc: r.try_get("error_desc")?,
            liability_shifted: flag("liability_shifted")?,
            cavv_result: r.try_get("cavv_result")?,
        })
    }
}

pub async fn insert_threeds(tx: &mut Tx, order_id: &str, r: &ThreeDsRow) -> Result<(), OrderError> {
    sqlx::query(
        "INSERT INTO threeds_results (order_id, stage, authentication_id, transaction_id, acs_transaction_id,
            ds_transaction_id, threeds_version, enrolled, pares_status, signature_verification, eci_flag,
            cavv_present, challenge_required, status_reason, action_code, error_no, error_desc,
            liability_shifted, cavv_result, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20)",
    )
    .bind(order_id)
    .bind(&r.stage)
    .bind(&r.authentication_id)
    .bind(&r.transaction_id)
    .bind(&r.acs_transaction_id)
    .bind(&r.ds_transaction_id)
    .bind(&r.threeds_version)
    .bind(&r.enrolled)
    .bind(&r.pares_status)
    .bind(&r.signature_verification)
    .bind(&r.eci_flag)
    .bind(i64::from(r.cavv_present))
    .bind(&r.challenge_required)
    .bind(&r.status_reason)
    .bind(&r.action_code)
    .bind(&r.error_no)
    .bind(&r.error_desc)
    .bind(i64::from(r.liability_shifted))
    .bind(&r.cavv_result)
    .bind(now_ms())
    .execute(&mut **tx)
    .await?;
    sqlx::query(
        "UPDATE orders SET liability_shifted = $1, threeds_enrolled = $2, threeds_pares_status = $3, threeds_eci = $4,
            updated_at = $5 WHERE id = $6",
    )
    .bind(i64::from(r.liability_shifted))
    .bind(&r.enrolled)
    .bind(&r.pares_status)
    .bind(&r.eci_flag)
    .bind(now_ms())
    .bind(order_id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

const THREEDS_COLUMNS: &str = "stage, authentication_id, transaction_id, acs_transaction_id, ds_transaction_id,
    threeds_version, enrolled, pares_status, signature_verification, eci_flag, cavv_present, challenge_required,
    status_reason, action_code, error_no, error_desc, liability_shifted, cavv_result";

/// The latest 3-D Secure answer of an order.
pub async fn latest_threeds(pool: &Pool, order_id: &str) -> Result<Option<ThreeDsRow>, OrderError> {
    let sql = format!("SELECT {THREEDS_COLUMNS} FROM threeds_results WHERE order_id = $1 ORDER BY id DESC LIMIT 1");
    Ok(sqlx::query_as::<_, ThreeDsRow>(&sql).bind(order_id).fetch_optional(pool).await?)
}

/// Every 3-D Secure answer of an order, first to last.
pub async fn all_threeds(pool: &Pool, order_id: &str) -> Result<Vec<ThreeDsRow>, OrderError> {
    let sql = format!("SELECT {THREEDS_COLUMNS} FROM threeds_results WHERE order_id = $1 ORDER BY id");
    Ok(sqlx::query_as::<_, ThreeDsRow>(&sql).bind(order_id).fetch_all(pool).await?)
}
