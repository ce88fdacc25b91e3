//! The life of a payment, as one small state machine shared by every provider.

use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum PaymentStatus {
    /// Order recorded; nothing sent to a provider yet.
    Pending,
    /// 3-D Secure under way (lookup sent, or the shopper is in a challenge).
    Authenticating,
    /// Payment request sent; its answer not recorded yet.
    Authorizing,
    /// The provider did not answer clearly (timeout, 5xx, nonsense): resolve by reading the transaction.
    Unknown,
    /// Pre-authorization approved; funds held, nothing captured.
    Authorized,
    /// Sale approved or pre-authorization captured.
    Captured,
    PartiallyRefunded,
    Refunded,
    Voided,
    Declined,
    Failed,
    /// Abandoned before payment (e.g. the tab closed mid-challenge).
    Expired,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("a payment cannot go from {from} to {to}")]
pub struct IllegalTransition {
    pub from: PaymentStatus,
    pub to: PaymentStatus,
}

impl PaymentStatus {
    pub const ALL: [PaymentStatus; 12] = [
        PaymentStatus::Pending,
        PaymentStatus::Authenticating,
        PaymentStatus::Authorizing,
        PaymentStatus::Unknown,
        PaymentStatus::Authorized,
        PaymentStatus::Captured,
        PaymentStatus::PartiallyRefunded,
        PaymentStatus::Refunded,
        PaymentStatus::Voided,
        PaymentStatus::Declined,
        PaymentStatus::Failed,
        PaymentStatus::Expired,
    ];

    /// No further move is possible from a terminal status.
    pub fn is_terminal(self) -> bool {
        self.allowed_next().is_empty()
    }

    fn allowed_next(self) -> &'static [PaymentStatus] {
        use PaymentStatus::*;
        match self {
            Pending => &[Authenticating, Authorizing, Declined, Failed, Expired],
            Authenticating => &[Authenticating, Authorizing, Declined, Failed, Expired],
            // Expired: sent to the bank's page by the acquirer's payment, and never back (nothing was charged).
            Authorizing => &[Authorized, Captured, Declined, Failed, Unknown, Expired],
            Unknown => &[Authorized, Captured, Declined, Failed],
            Authorized => &[Captured, Voided],
            Captured => &[PartiallyRefunded, Refunded],
            PartiallyRefunded => &[PartiallyRefunded, Refunded],
            Refunded | Voided | Declined | Failed | Expired => &[],
        }
    }

    /// The one way to change a status: refuses moves the state machine does not allow.
    pub fn transition(self, to: PaymentStatus) -> Result<PaymentStatus, IllegalTransition> {
        if self.allowed_next().contains(&to) { Ok(to) } else { Err(IllegalTransition { from: self, to }) }
    }

    /// Stable name stored in the database and used in URLs.
    pub fn as_str(self) -> &'static str {
        use PaymentStatus::*;
        match self {
            Pending => "pending",
            Authenticating => "authenticating",
            Authorizing => "authorizing",
            Unknown => "unknown",
            Authorized => "authorized",
            Captured => "captured",
            PartiallyRefunded => "partially_refunded",
            Refunded => "refunded",
            Voided => "voided",
            Declined => "declined",
            Failed => "failed",
            Expired => "expired",
        }
    }

    pub fn parse(s: &str) -> Option<PaymentStatus> {
        PaymentStatus::ALL.into_iter().find(|st| st.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        use PaymentStatus::*;
        match self {
            Pending => "Pending",
            Authenticating => "Authenticating",
            Authorizing => "Authorizing",
            Unknown => "Needs attention",
            Authorized => "Authorized",
            Captured => "Paid",
            PartiallyRefunded => "Partially refunded",
            Refunded => "Refunded",
            Voided => "Voided",
            Declined => "Declined",
            Failed => "Failed",
            Expired => "Expired",
        }
    }
}

/// What the merchant may do to a payment after it was made.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Action {
    Refund,
    Capture,
    Void,
}

impl Action {
    pub const ALL: [Action; 3] = [Action::Refund, Action::Capture, Action::Void];

    pub fn as_str(self) -> &'static str {
        match self {
            Action::Refund => "refund",
            Action::Capture => "capture",
            Action::Void => "void",
        }
    }

    pub fn parse(s: &str) -> Option<Action> {
        Action::ALL.into_iter().find(|a| a.as_str() == s)
    }
}

impl fmt::Display for PaymentStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::PaymentStatus::{self, *};

    #[test]
    fn terminal_statuses() {
        let terminal: Vec<_> = PaymentStatus::ALL.into_iter().filter(|s| s.is_terminal()).collect();
        assert_eq!(terminal, [Refunded, Voided, Declined, Failed, Expired]);
    }

    #[test]
    fn legal_and_illegal_moves() {
        assert_eq!(Pending.transition(Authenticating), Ok(Authenticating));
        assert_eq!(Authorizing.transition(Unknown), Ok(Unknown));
        assert_eq!(Unknown.transition(Captured), Ok(Captured));
        assert_eq!(Authorized.transition(Voided), Ok(Voided));
        assert_eq!(Captured.transition(PartiallyRefunded), Ok(PartiallyRefunded));
        // Never charge without an authorization attempt, never revive a final state.
        assert!(Pending.transition(Captured).is_err());
        assert!(Authenticating.transition(Captured).is_err());
        assert!(Declined.transition(Captured).is_err());
        assert!(Captured.transition(Voided).is_err());
        assert!(Refunded.transition(PartiallyRefunded).is_err());
        assert!(Authorized.transition(Refunded).is_err());
        let err = Voided.transition(Captured).unwrap_err();
        assert_eq!(err.to_string(), "a payment cannot go from voided to captured");
    }

    #[test]
    fn every_terminal_refuses_every_move_and_names_round_trip() {
        for from in PaymentStatus::ALL {
            assert_eq!(PaymentStatus::parse(from.as_str()), Some(from));
            for to in PaymentStatus::ALL {
                if from.is_terminal() {
                    assert!(from.transition(to).is_err(), "{from} -> {to}");
                }
            }
        }
    }
}
