//! Merchant sign-in: argon2id passwords (ASVS: t=2, 19 MiB, p=1), database sessions behind a random
//! cookie token, and throttling of failed attempts per account and per address.

use crate::server::{
    config::Settings,
    db::{self, Database, merchants, merchants::MerchantUser},
};
use argon2::{Algorithm, Argon2, Params, PasswordHash, PasswordHasher, PasswordVerifier, Version};
use axum::http::{HeaderMap, header};
use base64::Engine;
use sha2::{Digest, Sha256};

/// Failed attempts allowed in `THROTTLE_WINDOW_MS` before sign-in is refused for an account / an address.
const MAX_FAILURES_PER_ACCOUNT: i64 = 5;
const MAX_FAILURES_PER_ADDRESS: i64 = 20;
const THROTTLE_WINDOW_MS: i64 = 15 * 60_000;
/// A session's last-seen time is written at most this often.
const TOUCH_EVERY_MS: i64 = 60_000;
pub const MIN_PASSWORD_LEN: usize = 12;
const MAX_PASSWORD_LEN: usize = 128;

#[derive(Debug, thiserror::Error)]
pub enum SignInError {
    #[error("the email or password is not right")]
    Invalid,
    #[error("too many failed sign-ins; try again in {minutes} minute(s)")]
    Throttled { minutes: i64 },
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

pub async fn hash_password(password: String) -> String {
    tokio::task::spawn_blocking(move || {
        let salt = argon2::password_hash::SaltString::generate(&mut rand::rngs::OsRng);
        argon2().hash_password(password.as_bytes(), &salt).expect("argon2 hashing").to_string()
    })
    .await
    .expect("hashing task")
}

async fn verify_password(password: String, hash: String) -> bool {
    tokio::task::spawn_blocking(move || {
        PasswordHash::new(&hash).is_ok_and(|h| argon2().verify_password(password.as_bytes(), &h).is_ok())
    })
    .await
    .unwrap_or(false)
}

/// Creates the user (or sets its password). Used by the `create-merchant` command and `MERCHANT_EMAIL`.
pub async fn create_user(db: &Database, email: &str, password: &str) -> Result<i64, String> {
    let email = email.trim();
    if !email.contains('@') {
        return Err("the merchant email must be an email address".into());
    }
    check_new_password(password)?;
    let hash = hash_password(password.to_owned()).await;
    let mut tx = db::begin_write(db).await.map_err(|e| e.to_string())?;
    let id = merchants::upsert_user(&mut tx, email, &hash).await.map_err(|e| e.to_string())?;
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
    let now = db::now_ms();
    let (by_account, by_address, oldest) =
        merchants::recent_failures(db, email, address, now - THROTTLE_WINDOW_MS).await?;
    if by_account >= MAX_FAILURES_PER_ACCOUNT || by_address >= MAX_FAILURES_PER_ADDRESS {
        let minutes = ((oldest + THROTTLE_WINDOW_MS - now) / 60_000).max(0) + 1;
        return Err(SignInError::Throttled { minutes });
    }
    let found = merchants::user_by_email(db, email).await?;
    let hash = found.as_ref().map_or_else(|| DECOY_HASH.clone(), |(_, h)| h.clone());
    let verified = verify_password(password.to_owned(), hash).await;
    match found {
        Some((user, _)) if verified => {
            let token = new_token();
            merchants::start_session(db, user.id, email, &token_hash(&token), replaced.map(token_hash).as_deref())
                .await?;
            Ok((user, token))
        }
        _ => {
            merchants::record_failure(db, email, address).await?;
            Err(SignInError::Invalid)
        }
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
    let secure = if settings.merchant.secure_cookies { "; Secure" } else { "" };
    format!("{}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}", cookie_name(settings))
}

pub fn session_cookie(settings: &Settings, token: &str) -> String {
    cookie(settings, token, settings.merchant.session_max_hours * 3600)
}

pub fn cleared_cookie(settings: &Settings) -> String {
    cookie(settings, "", 0)
}

/// The session token the browser presents, live or not.
pub fn session_token(settings: &Settings, headers: &HeaderMap) -> Option<String> {
    let name = cookie_name(settings);
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
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

    #[test]
    fn short_passwords_are_refused() {
        assert!(check_new_password("short").is_err());
        assert!(check_new_password("long enough passphrase").is_ok());
    }
}
