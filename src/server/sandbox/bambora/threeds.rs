//! Bambora's 3-D Secure: the session a challenge opens, the 302 answer that sends the cardholder to the bank
//! page (`contents`: an auto-submitting `form1`, form-URL-encoded as the seed shows it), what the bank posts
//! back to the merchant's `term_url`, the single-use `continue`, and the "own process" CAVV check.

use super::{
    cards::{BANK_PASSWORD, CAVV_ATTEMPT, CAVV_AUTHENTICATION, Scenario},
    errors::{ApiError, Message},
    ledger::Payment,
    wire::BankAnswer,
};
use crate::domain::{card::CardNumber, money::Money};
use crate::server::{
    clock::format_date,
    sandbox::{
        Sandbox, SandboxConfig,
        acs::{Back, Prompt, Verdict},
        random_alnum,
        scenarios::ChallengeBehaviour,
        threeds::{CHALLENGE_ATTEMPTS, card_hash},
    },
};
use base64::{
    Engine,
    engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD},
};
use serde_json::{Value, json};
use std::sync::PoisonError;

/// The EMV message version of the sandbox's 3-D Secure 2 messages.
const MESSAGE_VERSION: &str = "2.2.0";

/// A payment waiting for the bank page and then for `continue`.
pub struct Session {
    /// `3d_session_data` (and `merchant_data`): 32 hex digits, within `merchant_data`'s 32 characters.
    pub id: String,
    pub acs_transaction_id: String,
    /// 1: the bank page takes `PaReq`/`MD` and posts `PaRes`/`MD`; 2: `creq`/`threeDSSessionData` and `cres`.
    pub version: u8,
    pub payment: Payment,
    pub scenario: Scenario,
    pub term_url: String,
    pub created_ms: i64,
    pub attempts_left: u8,
    /// The `PaReq` or `creq` the bank page must be opened with.
    pub request: String,
    pub answer: Option<Answer>,
    pub continued: bool,
}

/// The bank's decision and what it posts to the merchant's `term_url`.
pub struct Answer {
    pub authenticated: bool,
    /// The `cres` or `PaRes`: `continue` must present exactly this.
    pub value: String,
    pub fields: Vec<(&'static str, String)>,
}

impl Session {
    pub fn new(payment: Payment, scenario: Scenario, version: u8, term_url: String, now_ms: i64) -> Session {
        let id = uuid::Uuid::new_v4().simple().to_string();
        let acs_transaction_id = uuid::Uuid::new_v4().to_string();
        let request = if version == 1 {
            STANDARD.encode(json!({"messageType": "PAReq", "acsTransID": acs_transaction_id, "MD": id}).to_string())
        } else {
            URL_SAFE_NO_PAD.encode(
                json!({"threeDSServerTransID": id, "acsTransID": acs_transaction_id, "challengeWindowSize": "05",
                       "messageType": "CReq", "messageVersion": MESSAGE_VERSION})
                .to_string(),
            )
        };
        Session {
            id,
            acs_transaction_id,
            version,
            payment,
            scenario,
            term_url,
            created_ms: now_ms,
            attempts_left: CHALLENGE_ATTEMPTS,
            request,
            answer: None,
            continued: false,
        }
    }

    fn masked(&self) -> String {
        format!("XXXX XXXX XXXX {}", self.payment.card.last4)
    }

    /// The 302 body: `merchant_data`/`3d_session_data`, the URL-encoded bank form and the `continue` link.
    pub fn redirect(&self, config: &SandboxConfig) -> Value {
        let (request_name, session_name) =
            if self.version == 1 { ("PaReq", "MD") } else { ("creq", "threeDSSessionData") };
        let amount = self.payment.amount.major_string();
        let fields = [
            (request_name, self.request.as_str(), true),
            ("merchant_name", config.merchant_name.as_str(), false),
            ("trnDatetime", &trn_datetime(self.created_ms), false),
            ("trnAmount", &amount, false),
            ("trnEncCardNumber", &self.masked(), false),
            (session_name, &self.id, true),
            ("TermUrl", &self.term_url, true),
        ];
        let inputs: String = fields
            .iter()
            .map(|(name, value, upper)| {
                let tag = if *upper { "INPUT" } else { "input" };
                format!(r#"<{tag} type="hidden" name="{name}" value="{}">"#, escape(value))
            })
            .collect();
        let html = format!(
            r#"<HTML><HEAD></HEAD><BODY><FORM action="{}" method="POST" id="form1" name="form1">{inputs}</FORM><SCRIPT language="JavaScript">document.form1.submit();</SCRIPT></BODY></HTML>"#,
            escape(&format!("{}/acs/challenge", config.public_url))
        );
        json!({
            "merchant_data": self.id,
            "3d_session_data": self.id,
            "contents": form_urlencode(&html),
            "links": [{
                "rel": "continue",
                "href": format!("{}/bambora/v1/payments/{}/continue", config.public_url, self.id),
                "method": "POST",
            }],
        })
    }

    /// What the bank page shows.
    pub fn prompt(&self, merchant: &str) -> Prompt {
        let card = &self.payment.card;
        Prompt {
            merchant: merchant.to_owned(),
            amount: self.payment.amount.to_string(),
            card: card.masked.clone(),
            acs_transaction_id: self.acs_transaction_id.clone(),
            code: BANK_PASSWORD,
            behaviour: ChallengeBehaviour::CodeDecides,
        }
    }

    pub fn back(&self) -> Option<Back> {
        self.answer.as_ref().map(|a| Back::Post { action: self.term_url.clone(), fields: a.fields.clone() })
    }

    /// Records the bank's decision: what it posts to `term_url`, and what `continue` must then present.
    pub fn finish(&mut self, verdict: Verdict, merchant: &str) -> Back {
        let authenticated = verdict == Verdict::Authenticated;
        let status = if authenticated { "Y" } else { "N" };
        let answer = if self.version == 1 {
            let pares = STANDARD.encode(
                json!({"messageType": "PARes", "acsTransID": self.acs_transaction_id, "MD": self.id, "status": status})
                    .to_string(),
            );
            let retries = CHALLENGE_ATTEMPTS.saturating_sub(self.attempts_left).to_string();
            let fields = vec![
                ("trnAmount", self.payment.amount.major_string()),
                ("merchant_name", merchant.to_owned()),
                // The seed's post carries the password field empty; the bank never echoes it.
                ("password", String::new()),
                ("opResponse", String::new()),
                ("MD", self.id.clone()),
                ("trnDatetime", trn_datetime(self.created_ms)),
                ("PaRes", pares.clone()),
                ("termUrl", self.term_url.clone()),
                ("trnEncCardNumber", self.masked()),
                ("PAC", random_alnum(20)),
                ("retryAttempt", retries),
            ];
            Answer { authenticated, value: pares, fields }
        } else {
            let mut cres = json!({"threeDSServerTransID": self.id, "acsTransID": self.acs_transaction_id,
                                  "messageType": "CRes", "messageVersion": MESSAGE_VERSION, "transStatus": status});
            if verdict == Verdict::Cancelled {
                cres["challengeCancel"] = json!("01");
            }
            let cres = URL_SAFE_NO_PAD.encode(cres.to_string());
            let fields = vec![("cres", cres.clone()), ("threeDSSessionData", self.id.clone())];
            Answer { authenticated, value: cres, fields }
        };
        let back = Back::Post { action: self.term_url.clone(), fields: answer.fields.clone() };
        self.answer = Some(answer);
        back
    }

    /// `continue`, once: the bank must have answered and `presented` must be its answer; a `cres` of another
    /// session leaves this one waiting. Returns whether the cardholder was authenticated.
    pub fn take(&mut self, presented: &BankAnswer) -> Result<bool, ApiError> {
        if self.continued {
            return Err(ApiError::new(Message::Duplicate));
        }
        // The bank answered in its session's protocol: a 3-D Secure 2 `cres` is no `pa_res`, and back.
        if presented.version != self.version {
            let (field, expected) = match self.version {
                1 => ("card_response.pa_res", "is required: this is a 3-D Secure 1 session"),
                _ => ("card_response.cres", "is required: this is a 3-D Secure 2 session"),
            };
            return Err(ApiError::field(Message::InvalidPaymentInfo, field, expected));
        }
        let Some(answer) = self.answer.as_ref().filter(|a| a.value == presented.value.trim()) else {
            return Err(ApiError::field(
                Message::InvalidPaymentInfo,
                "card_response",
                "is not the bank's answer for this 3-D Secure session",
            ));
        };
        self.continued = true;
        Ok(answer.authenticated)
    }
}

/// The seed's `trnDatetime`: "2/23/2017 5:05:42 PM" (UTC here).
fn trn_datetime(ms: i64) -> String {
    let date = format_date(ms);
    let mut parts = date.split('-').map(|p| p.parse::<u32>().unwrap_or_default());
    let (y, m, d) =
        (parts.next().unwrap_or_default(), parts.next().unwrap_or_default(), parts.next().unwrap_or_default());
    let secs = ms.div_euclid(1000).rem_euclid(86_400);
    let (h, min, s) = (secs / 3600, secs / 60 % 60, secs % 60);
    let (h12, half) = match h {
        0 => (12, "AM"),
        1..=11 => (h, "AM"),
        12 => (12, "PM"),
        _ => (h - 12, "PM"),
    };
    format!("{m}/{d}/{y} {h12}:{min:02}:{s:02} {half}")
}

/// Form-URL-encoding as the seed's `contents` shows it: `+` for spaces, lower-case `%xx`, `-_.!*()` kept.
pub fn form_urlencode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 2);
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'!' | b'*' | b'(' | b')' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02x}")),
        }
    }
    out
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// "Own process": the CAVV must be one the sandbox's 3-D Secure service issued for this card and amount, with
/// the ECI it issued, and not used before, as a card network would check it. Returns the `cavv_result`.
/// The amount is compared in minor units only: a Bambora request names no currency (the account's is used),
/// so a shop authenticating in its own currency and authorizing on a CAD account must still match `[I]`.
pub fn verify_cavv(sb: &Sandbox, card: &CardNumber, amount: Money, cavv: &str, eci: u8) -> Option<u8> {
    let mut store = sb.threeds.lock().unwrap_or_else(PoisonError::into_inner);
    let a = store.authentications.values_mut().find(|a| a.cavv.as_deref() == Some(cavv))?;
    let same_eci = a.eci_flag.trim().parse::<u8>().ok() == Some(eci);
    let result = match a.pares_status.as_deref() {
        Some("Y") => CAVV_AUTHENTICATION,
        Some("A") => CAVV_ATTEMPT,
        _ => return None,
    };
    let fits = a.card_hash == card_hash(card.expose()) && a.amount == amount.minor() && same_eci;
    if !fits || a.cavv_used {
        return None;
    }
    a.cavv_used = true;
    Some(result)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::sandbox::bambora::ledger::{Kind, tests::payment};

    fn session(version: u8) -> Session {
        Session::new(
            payment(Kind::Purchase, 10000, Some("o-1")),
            Scenario::Challenge2,
            version,
            "http://shop/3ds?x=1".into(),
            0,
        )
    }

    fn decode(contents: &str) -> String {
        let spaced = contents.replace('+', " ");
        let mut out = Vec::new();
        let b = spaced.as_bytes();
        let mut i = 0;
        while i < b.len() {
            if b[i] == b'%' {
                out.push(u8::from_str_radix(&spaced[i + 1..i + 3], 16).unwrap());
                i += 3;
            } else {
                out.push(b[i]);
                i += 1;
            }
        }
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn form_encoding_matches_the_seed() {
        assert_eq!(
            form_urlencode(r#"<SCRIPT language="JavaScript">document.form1.submit();</SCRIPT>"#),
            "%3cSCRIPT+language%3d%22JavaScript%22%3edocument.form1.submit()%3b%3c%2fSCRIPT%3e"
        );
        assert_eq!(trn_datetime(1_487_869_542_000), "2/23/2017 5:05:42 PM");
        assert_eq!(trn_datetime(1_487_808_000_000), "2/23/2017 12:00:00 AM");
    }

    #[test]
    fn the_302_body_carries_the_seeds_form() {
        let config = SandboxConfig::new("http://127.0.0.1:9/sandbox");
        for (version, request, md) in [(1, "PaReq", "MD"), (2, "creq", "threeDSSessionData")] {
            let s = session(version);
            let body = s.redirect(&config);
            assert_eq!(body["merchant_data"], json!(s.id));
            assert_eq!(body["3d_session_data"], json!(s.id));
            assert_eq!(s.id.len(), 32);
            assert_eq!(
                body["links"],
                json!([{"rel": "continue", "method": "POST",
                        "href": format!("http://127.0.0.1:9/sandbox/bambora/v1/payments/{}/continue", s.id)}])
            );
            let contents = body["contents"].as_str().unwrap();
            assert!(!contents.contains(' ') && contents.starts_with("%3cHTML%3e%3cHEAD%3e%3c%2fHEAD%3e%3cBODY%3e%3cFORM+action%3d%22http%3a%2f%2f127.0.0.1%3a9%2fsandbox%2facs%2fchallenge%22+method%3d%22POST%22+id%3d%22form1%22+name%3d%22form1%22%3e"), "{contents}");
            let html = decode(contents);
            for needle in [
                format!(r#"<INPUT type="hidden" name="{request}" value="{}">"#, s.request),
                format!(r#"<INPUT type="hidden" name="{md}" value="{}">"#, s.id),
                r#"<INPUT type="hidden" name="TermUrl" value="http://shop/3ds?x=1">"#.to_owned(),
                r#"<input type="hidden" name="merchant_name" value="Card Checkout">"#.to_owned(),
                r#"<input type="hidden" name="trnAmount" value="100.00">"#.to_owned(),
                r#"<input type="hidden" name="trnEncCardNumber" value="XXXX XXXX XXXX 1234">"#.to_owned(),
                r#"<input type="hidden" name="trnDatetime" value="1/1/1970 12:00:00 AM">"#.to_owned(),
            ] {
                assert!(html.contains(&needle), "{needle} in {html}");
            }
            assert!(
                html.ends_with(
                    "</FORM><SCRIPT language=\"JavaScript\">document.form1.submit();</SCRIPT></BODY></HTML>"
                )
            );
        }
    }

    #[test]
    fn the_bank_posts_back_and_continue_takes_it_once() {
        let cres_of = |value: &str| BankAnswer { version: 2, value: value.into() };
        let pares_of = |value: &str| BankAnswer { version: 1, value: value.into() };
        let mut s = session(2);
        assert!(s.take(&cres_of("anything")).is_err(), "nothing to continue before the bank answers");
        assert!(!s.continued);
        let Back::Post { fields, .. } = s.finish(Verdict::Authenticated, "Shop") else { panic!("a post") };
        let names: Vec<&str> = fields.iter().map(|(n, _)| *n).collect();
        assert_eq!(names, ["cres", "threeDSSessionData"]);
        let cres = fields[0].1.clone();
        let decoded: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(&cres).unwrap()).unwrap();
        assert_eq!(decoded["transStatus"], "Y");
        assert_eq!(s.take(&cres_of("someone else's cres")).unwrap_err().message, Message::InvalidPaymentInfo);
        let sent_as_pa_res = s.take(&pares_of(&cres)).unwrap_err();
        assert_eq!(sent_as_pa_res.message, Message::InvalidPaymentInfo, "a 3-D Secure 2 answer sent as pa_res");
        assert!(!s.continued, "a refused continue leaves the session waiting");
        assert_eq!(s.take(&cres_of(&cres)).ok(), Some(true));
        assert_eq!(s.take(&cres_of(&cres)).unwrap_err().message, Message::Duplicate);

        let mut v1 = session(1);
        v1.attempts_left = 1;
        let Back::Post { fields, .. } = v1.finish(Verdict::Cancelled, "Shop") else { panic!("a post") };
        let names: Vec<&str> = fields.iter().map(|(n, _)| *n).collect();
        assert_eq!(
            names,
            [
                "trnAmount",
                "merchant_name",
                "password",
                "opResponse",
                "MD",
                "trnDatetime",
                "PaRes",
                "termUrl",
                "trnEncCardNumber",
                "PAC",
                "retryAttempt"
            ]
        );
        assert_eq!(fields[10].1, "2");
        assert_eq!(fields[2].1, "");
        let pares = fields[6].1.clone();
        assert!(v1.take(&cres_of(&pares)).is_err(), "a 3-D Secure 1 answer sent as cres");
        assert_eq!(v1.take(&pares_of(&pares)).ok(), Some(false));
    }

    fn issue(sb: &Sandbox, id: &str, pan: &str, amount: i64, cavv: &str) {
        use crate::server::sandbox::threeds::Authentication;
        let a = Authentication {
            authentication_id: id.into(),
            device_info_id: String::new(),
            transaction_id: id.into(),
            acs_transaction_id: id.into(),
            ds_transaction_id: id.into(),
            order_id: id.into(),
            threeds_version: MESSAGE_VERSION.into(),
            card_hash: card_hash(pan),
            masked_card: String::new(),
            brand: crate::domain::card::CardBrand::Visa,
            card_brand: "Visa".into(),
            amount,
            currency_code: "CAD".into(),
            merchant_reference: String::new(),
            email: String::new(),
            enrolled: Some("Y".into()),
            pares_status: Some("Y".into()),
            signature_verification: Some("Y".into()),
            eci_flag: "05".into(),
            cavv: Some(cavv.into()),
            challenge_required: "N".into(),
            error_no: "0".into(),
            error_desc: String::new(),
            status_reason: None,
            created_at: 0,
            challenge: None,
            cavv_used: false,
        };
        sb.threeds.lock().unwrap().authentications.insert(id.into(), a);
    }

    #[test]
    fn own_process_cavvs_verify_once_for_their_card_and_amount() {
        use crate::domain::money::Currency;
        let sb = Sandbox::new(SandboxConfig::new("http://127.0.0.1:1/sandbox"));
        let card = CardNumber::parse("4000000000001000").unwrap();
        let other = CardNumber::parse("4111111111111111").unwrap();
        let cad = |c| Money::new(c, Currency::CAD).unwrap();
        issue(&sb, "a", card.expose(), 1599, "AAABAXlHEQAAAAGXAEcRAAAAAAA=");
        assert_eq!(verify_cavv(&sb, &card, cad(1599), "forged", 5), None);
        assert_eq!(verify_cavv(&sb, &other, cad(1599), "AAABAXlHEQAAAAGXAEcRAAAAAAA=", 5), None);
        assert_eq!(verify_cavv(&sb, &card, cad(1600), "AAABAXlHEQAAAAGXAEcRAAAAAAA=", 5), None);
        assert_eq!(verify_cavv(&sb, &card, cad(1599), "AAABAXlHEQAAAAGXAEcRAAAAAAA=", 6), None);
        assert_eq!(verify_cavv(&sb, &card, cad(1599), "AAABAXlHEQAAAAGXAEcRAAAAAAA=", 5), Some(CAVV_AUTHENTICATION));
        assert_eq!(verify_cavv(&sb, &card, cad(1599), "AAABAXlHEQAAAAGXAEcRAAAAAAA=", 5), None, "a CAVV is used once");
    }
}
