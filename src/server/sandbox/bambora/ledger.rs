//! The sandbox's books for Bambora: payments and pre-authorizations, their completions, returns and voids,
//! each a transaction with its own numeric id, and the rules that allow an adjustment.

use super::{cards::Status, errors::Message, threeds::Session};
use crate::domain::{card::CardBrand, money::Money};
use crate::server::sandbox::Table;
use std::collections::BTreeMap;

/// Bambora's test accounts number their transactions from here.
pub const FIRST_ID: u64 = 10_000_001;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Purchase,
    PreAuth,
    Completion,
    Return,
    VoidPurchase,
    VoidReturn,
}

impl Kind {
    /// The response's `type`.
    pub fn code(self) -> &'static str {
        match self {
            Kind::Purchase => "P",
            Kind::PreAuth => "PA",
            Kind::Completion => "PAC",
            Kind::Return => "R",
            Kind::VoidPurchase => "VP",
            Kind::VoidReturn => "VR",
        }
    }
}

/// What is kept of a card: no number, no CVD.
#[derive(Clone, Debug)]
pub struct CardFacts {
    pub brand: CardBrand,
    pub bin: String,
    pub last4: String,
    /// At most the first six and last four digits.
    pub masked: String,
    pub expiry: (u8, u16),
    pub holder: String,
    pub cvd_given: bool,
}

/// What 3-D Secure did for a payment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Secure {
    /// Bambora's own 3-D Secure, frictionless or after the bank page.
    Integrated { status: Status, challenged: bool, version: u8 },
    /// The merchant's own process: the ECI it sent and how the CAVV verified.
    OwnProcess { eci: u8, cavv_result: u8 },
}

/// A payment or pre-authorization about to be recorded (or waiting for its bank page).
#[derive(Clone, Debug)]
pub struct Payment {
    pub kind: Kind,
    pub amount: Money,
    pub order_number: Option<String>,
    pub card: CardFacts,
    pub custom: [String; 5],
    pub customer_ip: String,
    pub billing_name: String,
    pub billing_email: String,
    pub comments: String,
}

#[derive(Clone, Debug)]
pub struct Txn {
    pub id: u64,
    pub kind: Kind,
    pub approved: bool,
    pub created_ms: i64,
    pub order_number: String,
    pub amount: Money,
    pub card: CardFacts,
    pub secure: Option<Secure>,
    pub custom: [String; 5],
    pub customer_ip: String,
    pub billing_name: String,
    pub billing_email: String,
    pub comments: String,
    /// The transaction this one adjusts (completions, returns, voids).
    pub parent: Option<u64>,
    pub adjusted_by: Vec<u64>,
    pub voided: bool,
}

#[derive(Default)]
pub struct Ledger {
    txns: BTreeMap<u64, Txn>,
    /// 3-D Secure sessions waiting for the bank page and `continue`, by `3d_session_data`.
    pub sessions: Table<Session>,
}

impl Ledger {
    pub fn get(&self, id: u64) -> Option<&Txn> {
        self.txns.get(&id)
    }

    pub fn all(&self) -> impl Iterator<Item = &Txn> {
        self.txns.values()
    }

    fn next_id(&self) -> u64 {
        self.txns.last_key_value().map_or(FIRST_ID, |(id, _)| id + 1)
    }

    /// An approved payment or pre-authorization holds this order number.
    pub fn order_taken(&self, order_number: &str) -> bool {
        self.txns
            .values()
            .any(|t| t.approved && matches!(t.kind, Kind::Purchase | Kind::PreAuth) && t.order_number == order_number)
    }

    /// Records a payment; its order number must be free (`788`). Without one, the id is its order number.
    pub fn record(&mut self, p: Payment, approved: bool, secure: Option<Secure>, now_ms: i64) -> Result<&Txn, Message> {
        if p.order_number.as_deref().is_some_and(|o| self.order_taken(o)) {
            return Err(Message::DuplicateOrder);
        }
        let id = self.next_id();
        let txn = Txn {
            id,
            kind: p.kind,
            approved,
            created_ms: now_ms,
            order_number: p.order_number.unwrap_or_else(|| id.to_string()),
            amount: p.amount,
            card: p.card,
            secure,
            custom: p.custom,
            customer_ip: p.customer_ip,
            billing_name: p.billing_name,
            billing_email: p.billing_email,
            comments: p.comments,
            parent: None,
            adjusted_by: Vec::new(),
            voided: false,
        };
        Ok(self.txns.entry(id).or_insert(txn))
    }

    /// What has been returned of a purchase or completion (voided returns do not count).
    pub fn returned(&self, id: u64) -> i64 {
        self.children(id).filter(|c| c.kind == Kind::Return && !c.voided).map(|c| c.amount.minor()).sum()
    }

    /// The completion of a pre-authorization, if it has one.
    pub fn completion(&self, id: u64) -> Option<&Txn> {
        self.children(id).find(|c| c.kind == Kind::Completion)
    }

    fn children(&self, id: u64) -> impl Iterator<Item = &Txn> {
        self.txns.get(&id).into_iter().flat_map(|t| t.adjusted_by.iter()).filter_map(|c| self.txns.get(c))
    }

    fn adjustable(&self, id: u64) -> Result<&Txn, Message> {
        let t = self.txns.get(&id).ok_or(Message::NoTransaction)?;
        if !t.approved {
            return Err(Message::CannotAdjust);
        }
        if t.voided {
            return Err(Message::OriginalVoided);
        }
        Ok(t)
    }

    /// A return of up to what remains of a purchase or completion. Asked of a completed pre-authorization,
    /// it returns from the completion, where the money moved `[I]`.
    pub fn refund(&mut self, id: u64, amount: Money, order: Option<String>, now_ms: i64) -> Result<&Txn, Message> {
        let t = self.adjustable(id)?;
        let base = match t.kind {
            Kind::Purchase | Kind::Completion => t,
            Kind::PreAuth => self.completion(id).ok_or(Message::CannotAdjust)?,
            Kind::Return | Kind::VoidPurchase | Kind::VoidReturn => return Err(Message::CannotAdjust),
        };
        let base = self.adjustable(base.id)?;
        if amount.minor() > base.amount.minor() - self.returned(base.id) {
            return Err(Message::ExceedsReturnLimit);
        }
        self.adjust(base.id, Kind::Return, amount, order, now_ms)
    }

    /// A void cancels a whole transaction: purchases, completions and returns (the reference) and uncompleted
    /// pre-authorizations (the reference's `Void` schema); a purchase with returns can no longer be voided.
    pub fn void(&mut self, id: u64, amount: Money, order: Option<String>, now_ms: i64) -> Result<&Txn, Message> {
        let t = self.adjustable(id)?;
        let kind = match t.kind {
            Kind::Purchase | Kind::Completion if self.returned(id) > 0 => return Err(Message::VoidAfterReturn),
            Kind::PreAuth if self.completion(id).is_some() => return Err(Message::AlreadyCompleted),
            Kind::Purchase | Kind::Completion | Kind::PreAuth => Kind::VoidPurchase,
            Kind::Return => Kind::VoidReturn,
            Kind::VoidPurchase | Kind::VoidReturn => return Err(Message::CannotAdjust),
        };
        if amount != t.amount {
            return Err(Message::AmountMismatch);
        }
        if let Some(t) = self.txns.get_mut(&id) {
            t.voided = true;
        }
        self.adjust(id, kind, amount, order, now_ms)
    }

    /// Completes a pre-authorization once, for up to its amount.
    pub fn complete(&mut self, id: u64, amount: Money, order: Option<String>, now_ms: i64) -> Result<&Txn, Message> {
        let t = self.adjustable(id)?;
        if t.kind != Kind::PreAuth {
            return Err(Message::CannotAdjust);
        }
        if self.completion(id).is_some() {
            return Err(Message::AlreadyCompleted);
        }
        if amount.minor() > t.amount.minor() {
            return Err(Message::CompletionTooLarge);
        }
        self.adjust(id, Kind::Completion, amount, order, now_ms)
    }

    fn adjust(
        &mut self,
        parent: u64,
        kind: Kind,
        amount: Money,
        order: Option<String>,
        now_ms: i64,
    ) -> Result<&Txn, Message> {
        let id = self.next_id();
        let p = self.txns.get_mut(&parent).ok_or(Message::NoTransaction)?;
        p.adjusted_by.push(id);
        let child = Txn {
            id,
            kind,
            approved: true,
            created_ms: now_ms,
            order_number: order.unwrap_or_else(|| p.order_number.clone()),
            amount,
            card: p.card.clone(),
            secure: None,
            custom: p.custom.clone(),
            customer_ip: p.customer_ip.clone(),
            billing_name: p.billing_name.clone(),
            billing_email: p.billing_email.clone(),
            comments: String::new(),
            parent: Some(parent),
            adjusted_by: Vec::new(),
            voided: false,
        };
        Ok(self.txns.entry(id).or_insert(child))
    }
}

#[cfg(test)]
pub mod tests {
    use super::*;
    use crate::domain::money::Currency;

    pub fn payment(kind: Kind, cents: i64, order: Option<&str>) -> Payment {
        Payment {
            kind,
            amount: cad(cents),
            order_number: order.map(str::to_owned),
            card: CardFacts {
                brand: CardBrand::Visa,
                bin: "403000".into(),
                last4: "1234".into(),
                masked: "403000******1234".into(),
                expiry: (9, 2029),
                holder: "Test User".into(),
                cvd_given: true,
            },
            custom: Default::default(),
            customer_ip: String::new(),
            billing_name: String::new(),
            billing_email: String::new(),
            comments: String::new(),
        }
    }

    fn cad(cents: i64) -> Money {
        Money::new(cents, Currency::CAD).unwrap()
    }

    fn book(l: &mut Ledger, kind: Kind, cents: i64) -> u64 {
        l.record(payment(kind, cents, None), true, None, 0).unwrap().id
    }

    #[test]
    fn ids_are_sequential_and_orders_unique() {
        let mut l = Ledger::default();
        let first = l.record(payment(Kind::Purchase, 1000, Some("o-1")), true, None, 0).unwrap();
        assert_eq!((first.id, first.order_number.as_str()), (FIRST_ID, "o-1"));
        assert_eq!(
            l.record(payment(Kind::PreAuth, 1000, Some("o-1")), true, None, 0).err(),
            Some(Message::DuplicateOrder)
        );
        let declined = l.record(payment(Kind::Purchase, 1000, Some("o-2")), false, None, 0).unwrap().id;
        assert_eq!(declined, FIRST_ID + 1);
        // A declined payment does not hold its order number.
        assert!(l.record(payment(Kind::Purchase, 1000, Some("o-2")), true, None, 0).is_ok());
        let unnamed = book(&mut l, Kind::Purchase, 500);
        assert_eq!(l.get(unnamed).unwrap().order_number, unnamed.to_string());
    }

    #[test]
    fn returns_up_to_what_remains() {
        let mut l = Ledger::default();
        let p = book(&mut l, Kind::Purchase, 1000);
        assert_eq!(l.refund(p, cad(600), None, 0).map(|t| t.kind), Ok(Kind::Return));
        assert_eq!(l.refund(p, cad(401), None, 0).err(), Some(Message::ExceedsReturnLimit));
        let r = l.refund(p, cad(400), None, 0).unwrap().id;
        assert_eq!(l.returned(p), 1000);
        assert_eq!(l.void(p, cad(1000), None, 0).err(), Some(Message::VoidAfterReturn));
        assert_eq!(l.void(r, cad(400), None, 0).map(|t| t.kind), Ok(Kind::VoidReturn));
        assert_eq!(l.returned(p), 600);
        assert_eq!(l.refund(r, cad(1), None, 0).err(), Some(Message::OriginalVoided));
        assert_eq!(l.refund(99, cad(1), None, 0).err(), Some(Message::NoTransaction));
        let declined = l.record(payment(Kind::Purchase, 1000, None), false, None, 0).unwrap().id;
        assert_eq!(l.refund(declined, cad(1), None, 0).err(), Some(Message::CannotAdjust));
    }

    #[test]
    fn voids_take_the_whole_amount_once() {
        let mut l = Ledger::default();
        let p = book(&mut l, Kind::Purchase, 1000);
        assert_eq!(l.void(p, cad(999), None, 0).err(), Some(Message::AmountMismatch));
        let v = l.void(p, cad(1000), Some("void-1".into()), 0).unwrap();
        assert_eq!((v.kind, v.parent, v.order_number.as_str()), (Kind::VoidPurchase, Some(p), "void-1"));
        let v = v.id;
        assert_eq!(l.void(p, cad(1000), None, 0).err(), Some(Message::OriginalVoided));
        assert_eq!(l.refund(p, cad(100), None, 0).err(), Some(Message::OriginalVoided));
        assert_eq!(l.void(v, cad(1000), None, 0).err(), Some(Message::CannotAdjust));
        assert_eq!(l.get(p).unwrap().adjusted_by, vec![v]);
    }

    #[test]
    fn completions_once_and_within_the_reserve() {
        let mut l = Ledger::default();
        let pa = book(&mut l, Kind::PreAuth, 1000);
        assert_eq!(l.refund(pa, cad(100), None, 0).err(), Some(Message::CannotAdjust));
        assert_eq!(l.complete(pa, cad(1001), None, 0).err(), Some(Message::CompletionTooLarge));
        let c = l.complete(pa, cad(800), None, 0).unwrap().id;
        assert_eq!(l.complete(pa, cad(100), None, 0).err(), Some(Message::AlreadyCompleted));
        assert_eq!(l.void(pa, cad(1000), None, 0).err(), Some(Message::AlreadyCompleted));
        // A return asked of the pre-authorization comes from its completion.
        assert_eq!(l.refund(pa, cad(801), None, 0).err(), Some(Message::ExceedsReturnLimit));
        assert_eq!(l.refund(pa, cad(300), None, 0).map(|t| t.parent), Ok(Some(c)));
        assert_eq!(l.returned(c), 300);
        let p = book(&mut l, Kind::Purchase, 1000);
        assert_eq!(l.complete(p, cad(100), None, 0).err(), Some(Message::CannotAdjust));
        let open = book(&mut l, Kind::PreAuth, 1000);
        assert_eq!(l.void(open, cad(1000), None, 0).map(|t| t.kind), Ok(Kind::VoidPurchase));
        assert_eq!(l.complete(open, cad(100), None, 0).err(), Some(Message::OriginalVoided));
    }
}
