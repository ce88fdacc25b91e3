//! Merchant sign-in: argon2id passwords (ASVS: t=2, 19 MiB, p=1), database sessions behind a random
//! cookie token, and throttling per account and per address: each attempt is counted before its password
//! is checked, and only a few checks (19 MiB each) run at once.

use crate::server::{
    config::Settings,
    cookies,
    db::{self, Database, merchants, merchants::MerchantUser},
};
use argon2::{Algorithm, Argon2, Params, PasswordHash, PasswordHasher, PasswordVerifier, Version};
use axum::http::HeaderMap;
use base64::Engine;
use sha2::{Digest, Sha256};

/// Attempts allowed in `THROTTLE_WINDOW_MS` before sign-in is refused for an account / an address; a
/// successful sign-in clears the account's.
const MAX_FAILURES_PER_ACCOUNT: i64 = 5;
const MAX_FAILURES_PER_ADDRESS: i64 = 20;
const THROTTLE_WINDOW_MS: i64 = 15 * 60_000;
/// Password hashes computed at once (19 MiB each), and how long an attempt waits for its turn.
const MAX_CONCURRENT_HASHES: usize = 4;
const HASH_QUEUE_WAIT: std::time::Duration = std::time::Duration::from_secs(5);
static HASHING: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(MAX_CONCURRENT_HASHES);
/// A session's last-seen time is written at most this often.
const TOUCH_EVERY_MS: i64 = 60_000;
pub const MIN_PASSWORD_LEN: usize = 12;
const MAX_PASSWORD_LEN: usize = 128;
pub const MAX_EMAIL_LEN: usize = 254;

#[derive(Debug, thiserror::Error)]
pub enum SignInError {
    #[error("the email or password is not right")]
    Invalid,
    #[error("too many failed sign-ins; try again in {minutes} minute(s)")]
    Throttled { minutes: i64 },
    #[error("too many sign-ins at once; try again in a moment")]
    Busy,
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

fn argon2() -> Argon2<'static> {
    let params = Params::new(19 * 1024, 2, 1, None).expect("valid argon2 parameters");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Refuses passwords too short to resist guessing, or too long to hash cheaply.
pub fn check_new_password(password: &str) -> Result<(), String> {
    let len = password.chars().count();
    if len < MIN_PASSWORD_LEN {
        return Err(format!("the password needs at least {MIN_PASSWORD_LEN} characters"));
    }
    if len > MAX_PASSWORD_LEN {
        return Err(format!("the password can have at most {MAX_PASSWORD_LEN} characters"));
    }
    Ok(())
}

/// Runs an argon2 computation on the blocking pool once one of the few places for one is free.
async fn hashing<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> Result<T, SignInError> {
    let permit = tokio::time::timeout(HASH_QUEUE_WAIT, HASHING.acquire())
        .await
        .map_err(|_| SignInError::Busy)?
        .map_err(|_| SignInError::Busy)?;
    let result = tokio::task::spawn_blocking(work).await.map_err(|_| SignInError::Busy);
    drop(permit);
    result
}

async fn hash_password(password: String) -> Result<String, SignInError> {
    hashing(move || {
        let salt = argon2::password_hash::SaltString::generate(&mut rand::rngs::OsRng);
        argon2().hash_password(password.as_bytes(), &salt).expect("argon2 hashing").to_string()
    })
    .await
}

async fn verify_password(password: String, hash: String) -> Result<bool, SignInError> {
    hashing(move || PasswordHash::new(&hash).is_ok_and(|h| argon2().verify_password(password.as_bytes(), &h).is_ok()))
        .await
}

/// Creates the user, or sets its password. Used by the `create-merchant` command and `MERCHANT_EMAIL`, which
/// runs at every start: the same password again changes nothing, a new one ends every session of the user.
pub async fn create_user(db: &Database, email: &str, password: &str) -> Result<i64, String> {
    let email = email.trim();
    if !email.contains('@') || email.len() > MAX_EMAIL_LEN {
        return Err("the merchant email must be an email address".into());
    }
    check_new_password(password)?;
    if let Some((user, hash)) = merchants::user_by_email(db, email).await.map_err(|e| e.to_string())?
        && verify_password(password.to_owned(), hash).await.map_err(|e| e.to_string())?
    {
        return Ok(user.id);
    }
    let hash = hash_password(password.to_owned()).await.map_err(|e| e.to_string())?;
    let mut tx = db::begin_write(db).await.map_err(|e| e.to_string())?;
    let id = merchants::set_password(&mut tx, email, &hash).await.map_err(|e| e.to_string())?;
    tx.commit().await.map_err(|e| e.to_string())?;
    Ok(id)
}

/// A hash of nothing anyone types, verified when the account does not exist so both cases take as long.
static DECOY_HASH: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    let salt = argon2::password_hash::SaltString::generate(&mut rand::rngs::OsRng);
    argon2().hash_password(b"decoy password for timing", &salt).expect("argon2 hashing").to_string()
});

/// Checks the password; on success starts a new session (ending `replaced`) and returns its cookie token.
pub async fn sign_in(
    db: &Database,
    email: &str,
    password: &str,
    address: &str,
    replaced: Option<&str>,
) -> Result<(MerchantUser, String), SignInError> {
    let email = email.trim();
    // Nothing that long was ever an account or a password: refused without storing or hashing it.
    if email.len() > MAX_EMAIL_LEN || password.chars().count() > MAX_PASSWORD_LEN {
        return Err(SignInError::Invalid);
    }
    let now = db::now_ms();
    // Counted before the slow check, in one write: parallel guesses are counted one after another.
    let limits = merchants::Limits {
        per_account: MAX_FAILURES_PER_ACCOUNT,
        per_address: MAX_FAILURES_PER_ADDRESS,
        since_ms: now - THROTTLE_WINDOW_MS,
    };
    if let merchants::Attempt::Refused { oldest } = merchants::count_attempt(db, email, address, &limits).await? {
        let minutes = ((oldest + THROTTLE_WINDOW_MS - now) / 60_000).max(0) + 1;
        return Err(SignInError::Throttled { minutes });
    }
    let found = merchants::user_by_email(db, email).await?;
    let hash = found.as_ref().map_or_else(|| DECOY_HASH.clone(), |(_, h)| h.clone());
    let verified = verify_password(password.to_owned(), hash).await?;
    match found {
        Some((user, _)) if verified => {
            let token = new_token();
            merchants::start_session(db, user.id, email, &token_hash(&token), replaced.map(token_hash).as_deref())
                .await?;
            Ok((user, token))
        }
        _ => Err(SignInError::Invalid),
    }
}

/// The signed-in merchant of a request, if its session cookie names a live session.
pub async fn current_user(db: &Database, settings: &Settings, headers: &HeaderMap) -> Option<(MerchantUser, String)> {
    let token = session_token(settings, headers)?;
    let hash = token_hash(&token);
    let now = db::now_ms();
    let m = &settings.merchant;
    let (user, last_seen) =
        merchants::session(db, &hash, now - m.session_idle_minutes * 60_000, now - m.session_max_hours * 3_600_000)
            .await
            .ok()??;
    if now - last_seen > TOUCH_EVERY_MS
        && let Err(e) = merchants::touch_session(db, &hash).await
    {
        tracing::warn!(error = %e, "could not extend a merchant session");
    }
    Some((user, token))
}

pub async fn sign_out(db: &Database, token: &str) -> Result<(), sqlx::Error> {
    merchants::end_session(db, &token_hash(token)).await
}

fn new_token() -> String {
    let bytes: [u8; 32] = rand::random();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn token_hash(token: &str) -> String {
    Sha256::digest(token.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

/// `__Host-` needs `Secure`; without a secure origin the cookie goes without both (plain-HTTP deployments).
pub fn cookie_name(settings: &Settings) -> &'static str {
    if settings.merchant.secure_cookies { "__Host-merchant_session" } else { "merchant_session" }
}

fn cookie(settings: &Settings, value: &str, max_age: i64) -> String {
    cookies::session(cookie_name(settings), settings.merchant.secure_cookies, value, max_age)
}

pub fn session_cookie(settings: &Settings, token: &str) -> String {
    cookie(settings, token, settings.merchant.session_max_hours * 3600)
}

pub fn cleared_cookie(settings: &Settings) -> String {
    cookie(settings, "", 0)
}

/// The session token the browser presents, live or not.
pub fn session_token(settings: &Settings, headers: &HeaderMap) -> Option<String> {
    cookies::value(headers, cookie_name(settings))
}

/// Prunes what can no longer sign anyone in (run by the sweeper).
pub async fn prune(db: &Database, settings: &Settings) -> Result<(), sqlx::Error> {
    let now = db::now_ms();
    merchants::prune(db, now - settings.merchant.session_idle_minutes * 60_000, now - THROTTLE_WINDOW_MS).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_argon2id_with_asvs_parameters() {
        let salt = argon2::password_hash::SaltString::generate(&mut rand::rngs::OsRng);
        let hash = argon2().hash_password(b"correct horse battery", &salt).unwrap().to_string();
        assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{hash}");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn only_a_few_hashes_run_at_once() {
        use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
        static RUNNING: AtomicUsize = AtomicUsize::new(0);
        static MOST: AtomicUsize = AtomicUsize::new(0);
        let jobs = (0..4 * MAX_CONCURRENT_HASHES).map(|_| {
            tokio::spawn(hashing(|| {
                MOST.fetch_max(RUNNING.fetch_add(1, SeqCst) + 1, SeqCst);
                std::thread::sleep(std::time::Duration::from_millis(20));
                RUNNING.fetch_sub(1, SeqCst);
            }))
        });
        for job in jobs.collect::<Vec<_>>() {
            job.await.unwrap().unwrap();
        }
        assert_eq!(MOST.load(SeqCst), MAX_CONCURRENT_HASHES);
    }

    #[test]
    fn short_passwords_are_refused() {
        assert!(check_new_password("short").is_err());
        assert!(check_new_password("long enough passphrase").is_ok());
    }
}
