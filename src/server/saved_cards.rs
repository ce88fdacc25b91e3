//! Saved cards as the shopper reaches them: a one-time code sent to the email confirms it (no passwords),
//! and gives a short session that sees, pays with and deletes that email's cards only. Whether an email has
//! saved cards is never told before it is confirmed: every well-formed request for a code is answered alike.

use crate::domain::{
    customer::{FieldError, is_email},
    saved_card::{SavedCardView, email_key, is_code},
};
use crate::server::{
    config::Settings,
    db::{
        Database, now_ms,
        saved_cards::{self as store, CodeCheck, SavedCard},
    },
    mail::Mailer,
};
use base64::Engine;
use sha2::{Digest, Sha256};

#[derive(Debug, thiserror::Error)]
pub enum SavedCardError {
    #[error("saved cards are not offered here")]
    Off,
    #[error("{}", .0.message)]
    Invalid(FieldError),
    #[error("too many codes have been asked for; please wait a while, then try again")]
    TooMany,
    /// Wrong, expired, used up or never sent: the shopper is told the same in each case.
    #[error("that code is not right or has expired; ask for a new one")]
    WrongCode,
    #[error("confirm your email first")]
    NotConfirmed,
    #[error("there is no such saved card")]
    NotFound,
    #[error("the code could not be sent; please try again")]
    MailFailed(#[source] crate::server::mail::MailError),
    #[error(transparent)]
    Store(#[from] sqlx::Error),
}

pub struct SavedCards<'a> {
    pub pool: &'a Database,
    pub settings: &'a Settings,
    pub mailer: &'a Mailer,
}

/// A confirmed email's session: the cookie's value (shown once) and when it ends.
pub struct Session {
    pub token: String,
    pub max_age_secs: i64,
}

pub fn hash(value: &str) -> String {
    Sha256::digest(value.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

fn code_hash(email: &str, code: &str) -> String {
    hash(&format!("{email}\n{code}"))
}

impl SavedCards<'_> {
    fn on(&self) -> Result<(), SavedCardError> {
        if self.settings.saved_cards.enabled { Ok(()) } else { Err(SavedCardError::Off) }
    }

    /// Sends a one-time code to `email`, whether or not it has saved cards, within the per-email and
    /// per-address limits.
    pub async fn send_code(&self, email: &str, address: &str) -> Result<(), SavedCardError> {
        self.on()?;
        let email = email_key(email);
        if !is_email(&email) {
            return Err(SavedCardError::Invalid(FieldError::new(
                "email",
                "enter an email address such as name@example.com",
            )));
        }
        let s = &self.settings.saved_cards;
        let code = format!("{:06}", rand::random::<u32>() % 1_000_000);
        let expires = now_ms() + s.code_minutes * 60_000;
        let since = now_ms() - s.code_window_minutes * 60_000;
        let hashed = code_hash(&email, &code);
        if !store::insert_code(self.pool, &email, address, &hashed, expires, s.codes_per_window, since).await? {
            return Err(SavedCardError::TooMany);
        }
        let body = format!(
            "Your code to see your saved cards is {code}.\n\nIt works once, for {} minutes. If you did not ask for \
             it, ignore this message: nobody can use your cards without it.",
            s.code_minutes
        );
        self.mailer.send(&email, "Your checkout code", &body).await.map_err(SavedCardError::MailFailed)
    }

    /// Confirms `email` with its code: a new session.
    pub async fn confirm(&self, email: &str, code: &str) -> Result<Session, SavedCardError> {
        self.on()?;
        let email = email_key(email);
        let code = code.trim();
        if !is_email(&email) || !is_code(code) {
            return Err(SavedCardError::WrongCode);
        }
        let s = &self.settings.saved_cards;
        match store::check_code(self.pool, &email, &code_hash(&email, code), s.code_tries).await? {
            CodeCheck::Confirmed => {}
            CodeCheck::Wrong | CodeCheck::NoCode => return Err(SavedCardError::WrongCode),
        }
        let token = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>());
        let max_age_secs = s.session_minutes * 60;
        store::insert_session(self.pool, &hash(&token), &email, now_ms() + max_age_secs * 1000).await?;
        Ok(Session { token, max_age_secs })
    }

    /// The email a session token confirmed, if it is live.
    pub async fn email_of(&self, token: Option<&str>) -> Result<String, SavedCardError> {
        self.on()?;
        let token = token.filter(|t| !t.is_empty() && t.len() <= 128).ok_or(SavedCardError::NotConfirmed)?;
        store::session_email(self.pool, &hash(token)).await?.ok_or(SavedCardError::NotConfirmed)
    }

    pub async fn list(&self, email: &str) -> Result<Vec<SavedCardView>, SavedCardError> {
        Ok(store::cards_of(self.pool, email).await?.into_iter().map(|c| c.view).collect())
    }

    /// The card `id` if `email` owns it; another's card is as absent as one that never was.
    pub async fn owned(&self, email: &str, id: &str) -> Result<SavedCard, SavedCardError> {
        match store::card(self.pool, id).await? {
            Some(card) if card.email == email => Ok(card),
            _ => Err(SavedCardError::NotFound),
        }
    }

    /// Deletes our record of the card. Verifone's published eCommerce API documents creating and updating a
    /// reuse token (`PUT /v2/card`) but no call that deletes one, so nothing is sent to the provider.
    pub async fn delete(&self, email: &str, id: &str) -> Result<(), SavedCardError> {
        if store::delete_card(self.pool, id, email).await? { Ok(()) } else { Err(SavedCardError::NotFound) }
    }

    /// Forgets codes no window counts and ended sessions.
    pub async fn prune(&self) -> Result<(), sqlx::Error> {
        let s = &self.settings.saved_cards;
        store::prune(self.pool, now_ms() - s.code_window_minutes.max(s.code_minutes) * 60_000).await
    }
}

/// The cookie that carries a shopper's session: HttpOnly, SameSite=Lax, for the whole site.
pub fn cookie(settings: &Settings, value: &str, max_age_secs: i64) -> String {
    super::cookies::session(cookie_name(settings), settings.merchant.secure_cookies, value, max_age_secs)
}

pub fn cookie_name(settings: &Settings) -> &'static str {
    if settings.merchant.secure_cookies { "__Host-shopper_session" } else { "shopper_session" }
}

/// The shopper session token a request presents.
pub fn session_token(settings: &Settings, headers: &axum::http::HeaderMap) -> Option<String> {
    super::cookies::value(headers, cookie_name(settings))
}
