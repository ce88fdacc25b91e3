//! Drives the shopper's server functions over HTTP as the checkout page does.

use super::{TestApp, verifone::Sandbox};
use card_checkout::domain::card::CardNumber;
use serde_json::{Value, json};

pub struct Shopper<'a> {
    pub app: &'a TestApp,
    pub sb: Sandbox,
    /// Sent as `X-Forwarded-For` (an app behind `TRUSTED_PROXIES=127.0.0.1` reads the client from it).
    pub forwarded_for: Option<String>,
}

pub struct Placed {
    pub start: Value,
    /// What `place_order` was sent (to send it again).
    pub input: Value,
    pub next: Value,
    pub encrypted_card: String,
}

impl<'a> Shopper<'a> {
    pub async fn new(app: &'a TestApp) -> Shopper<'a> {
        Shopper { app, sb: Sandbox::of(app).await, forwarded_for: None }
    }

    /// A shopper at `address`, as a trusted proxy in front of the app reports it.
    pub async fn at(app: &'a TestApp, address: &str) -> Shopper<'a> {
        Shopper { forwarded_for: Some(address.to_owned()), ..Shopper::new(app).await }
    }

    pub async fn call(&self, name: &str, args: Value) -> (u16, Value) {
        let mut req = self.app.client.post(format!("{}/api/{name}", self.app.url)).json(&args);
        if let Some(address) = &self.forwarded_for {
            req = req.header("x-forwarded-for", address);
        }
        let res = req.send().await.unwrap();
        let status = res.status().as_u16();
        (status, res.json().await.unwrap_or(Value::Null))
    }

    pub fn billing() -> Value {
        json!({"first_name": "Ada", "last_name": "Lovelace", "address_1": "1 Main St", "city": "London",
               "country": "GB", "email": "ada@example.com"})
    }

    /// Start, Cardinal setup, card encryption and place_order, as the page does them.
    pub async fn place(&self, pan: &str, cart: &str) -> Placed {
        self.try_place(pan, pan, cart).await.unwrap_or_else(|(status, body)| panic!("{status}: {body}"))
    }

    /// As `place`, with the card summary (brand, first six, last four) of `claimed` while `pan` is the card
    /// encrypted; a refused start or place gives its status and body.
    pub async fn try_place(&self, pan: &str, claimed: &str, cart: &str) -> Result<Placed, (u16, Value)> {
        let (start, input, encrypted_card) = self.prepare(pan, claimed, cart).await?;
        let (status, next) = self.call("checkout/place", json!({"input": input})).await;
        if status != 200 {
            return Err((status, next));
        }
        Ok(Placed { start, input, next, encrypted_card })
    }

    /// A started checkout and the `place_order` input for it, not sent: (start, input, encrypted card).
    pub async fn prepare(&self, pan: &str, claimed: &str, cart: &str) -> Result<(Value, Value, String), (u16, Value)> {
        let (status, start) = self.call("checkout/start", json!({"cart": cart})).await;
        if status != 200 {
            return Err((status, start));
        }
        let session = self.sb.setup(start["plan"]["sdk"]["jwt"].as_str().unwrap()).await.unwrap();
        let (month, year) = super::verifone::test_card_expiry();
        let encrypted_card = self.sb.encrypt(pan, &month, &year);
        let card = CardNumber::parse(claimed).unwrap();
        let input = json!({
            "checkout_key": start["checkout_key"],
            "cart": cart,
            "billing": Self::billing(),
            "card": {"brand": card.brand(), "bin6": card.bin6(), "last4": card.last4(),
                     "expiry_month": month.parse::<u8>().unwrap(), "expiry_year": year.parse::<u16>().unwrap()},
            "session_id": session,
            "encrypted_card": encrypted_card,
        });
        Ok((start, input, encrypted_card))
    }

    /// Answers the challenge on the issuer's page and sends the JWT back; returns what the server says next.
    pub async fn challenge(&self, placed: &Placed, action: &str, code: &str) -> Value {
        let jwt = self.bank_answer(placed, action, code).await;
        let (status, next) = self.complete(placed, &jwt).await;
        assert_eq!(status, 200, "{next}");
        next
    }

    /// Answers the challenge on the issuer's page; returns the JWT `payments.validated` hands the page.
    pub async fn bank_answer(&self, placed: &Placed, action: &str, code: &str) -> String {
        let c = &placed.next["Challenge"];
        let lookup = json!({
            "acs_url": c["acs_url"], "payload": c["payload"], "transaction_id": c["transaction_id"],
            "acs_transaction_id": acs_id(c["payload"].as_str().unwrap()),
        });
        self.sb.answer_challenge(&lookup, action, code).await;
        let validated = self.sb.validated(&lookup).await;
        validated["jwt"].as_str().unwrap_or_default().to_owned()
    }

    /// Sends the JWT of a finished challenge, as the page does (the card is not sent again).
    pub async fn complete(&self, placed: &Placed, jwt: &str) -> (u16, Value) {
        let order_id = &placed.next["Challenge"]["order_id"];
        self.call("checkout/challenge", json!({"order_id": order_id, "jwt": jwt})).await
    }

    /// Submits a code on the issuer's page without finishing (for wrong-code tries).
    pub async fn answer_only(&self, placed: &Placed, code: &str) {
        let c = &placed.next["Challenge"];
        let lookup = json!({"acs_url": c["acs_url"], "payload": c["payload"], "acs_transaction_id": acs_id(c["payload"].as_str().unwrap())});
        self.sb.answer_challenge(&lookup, "submit", code).await;
    }

    pub async fn order(&self, order_id: &str) -> Value {
        let (status, order) = self.call("checkout/order", json!({"order_id": order_id})).await;
        assert_eq!(status, 200, "{order}");
        order
    }
}

/// The ACS transaction id inside a CReq payload.
fn acs_id(payload: &str) -> String {
    use base64::Engine;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).unwrap();
    let creq: Value = serde_json::from_slice(&bytes).unwrap();
    creq["acsTransID"].as_str().unwrap().to_owned()
}

pub fn order_id(next: &Value) -> String {
    ["Done", "Challenge", "Redirect"].iter().find_map(|step| next[step]["order_id"].as_str()).unwrap().to_owned()
}
