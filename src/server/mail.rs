//! Sending mail: one call, `send(to, subject, body)`, posted as JSON (`{to, subject, body}`) to the
//! configured endpoint: the sandbox's outbox (`/sandbox/mail`) by default, or `MAIL_URL` in live mode (a
//! relay of the operator's choosing that takes the same JSON).

use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("no mailer is configured")]
    NotConfigured,
    #[error("the mailer did not take the message: {0}")]
    Refused(String),
    #[error("the mailer could not be reached: {0}")]
    Unreachable(#[from] reqwest::Error),
}

#[derive(Clone)]
pub struct Mailer {
    http: reqwest::Client,
    url: Option<String>,
}

#[derive(serde::Serialize)]
struct Message<'a> {
    to: &'a str,
    subject: &'a str,
    body: &'a str,
}

impl Mailer {
    pub fn new(url: Option<String>) -> Mailer {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(3))
            .timeout(Duration::from_secs(10))
            .build()
            .expect("http client");
        Mailer { http, url }
    }

    pub async fn send(&self, to: &str, subject: &str, body: &str) -> Result<(), MailError> {
        let url = self.url.as_deref().ok_or(MailError::NotConfigured)?;
        let res = self.http.post(url).json(&Message { to, subject, body }).send().await?;
        match res.status() {
            s if s.is_success() => Ok(()),
            s => Err(MailError::Refused(s.to_string())),
        }
    }
}
