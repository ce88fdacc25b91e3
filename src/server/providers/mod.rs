//! Our client side of each provider's API.

pub mod verifone;

/// How a call to a provider failed. A decline is not an error: it is an answer.
#[derive(Debug, thiserror::Error)]
pub enum ProviderError {
    /// Nothing was sent (connection refused, DNS): safe to try again.
    #[error("the provider could not be reached")]
    Unreachable,
    /// Sent, but no complete answer in time (timeout, dropped connection): the outcome is unknown.
    #[error("the provider did not answer in time")]
    NoAnswer,
    /// The provider answered with something we cannot read: the outcome is unknown.
    #[error("the provider's answer could not be read: {0}")]
    Malformed(String),
    /// The provider refused the request (4xx) or failed (5xx).
    #[error("the provider answered {status}: {message}")]
    Refused { status: u16, message: String },
}

impl ProviderError {
    /// Whether the request may have taken effect at the provider (so it must be resolved, not resent blindly).
    pub fn outcome_unknown(&self) -> bool {
        match self {
            ProviderError::Unreachable => false,
            ProviderError::NoAnswer | ProviderError::Malformed(_) => true,
            ProviderError::Refused { status, .. } => *status >= 500,
        }
    }
}

impl From<reqwest::Error> for ProviderError {
    fn from(e: reqwest::Error) -> ProviderError {
        if e.is_connect() && !e.is_timeout() {
            ProviderError::Unreachable
        } else if e.is_decode() {
            ProviderError::Malformed(e.to_string())
        } else {
            ProviderError::NoAnswer
        }
    }
}
