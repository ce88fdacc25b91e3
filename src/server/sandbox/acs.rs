//! The issuer's page (the ACS), one page for both emulations. Verifone's challenge opens it in the Cardinal SDK's
//! iframe (`GET ?creq=`) and hears back by postMessage; Bambora's bank page is opened by the auto-submitted
//! `form1` (`POST` with `PaReq`/`MD` or `creq`/`threeDSSessionData`) and answers by auto-posting a form to the
//! merchant's `term_url` (cross-site, so it needs no cookie). The page shows the merchant's name, the amount and
//! the masked card, takes the code (Verifone 1234, Bambora 12345), allows `CHALLENGE_ATTEMPTS` tries, and
//! Cancel ends it unauthenticated: for Verifone with the seed's "10011 Canceled by user" error (what Songbird
//! reports when the shopper closes the challenge), for Bambora as a failed authentication.

use super::{
    SandboxState,
    bambora::{self, cards::BANK_PASSWORD},
    scenarios::ChallengeBehaviour,
    threeds::{Authentication, ChallengeOutcome, new_cavv},
};
use crate::domain::{
    money::{Currency, Money},
    threeds::{Eci, EciMeaning},
};
use axum::{
    Form, Router,
    extract::{Query, State},
    http::{HeaderValue, StatusCode, header},
    response::{Html, IntoResponse, Response},
    routing::get,
};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use serde::Deserialize;
use tower_http::set_header::SetResponseHeaderLayer;

/// Verifone's (Cardinal's) sandbox challenge code.
pub const SANDBOX_CODE: &str = "1234";

/// Issuers' pages are framed by whichever merchant's page hosts the challenge, on its own origin:
/// `frame-ancestors *` lets them (and overrides the app-wide `X-Frame-Options: SAMEORIGIN`).
const FRAMED_ANYWHERE: HeaderValue = HeaderValue::from_static("frame-ancestors *");

pub fn router() -> Router<SandboxState> {
    Router::new()
        .route("/challenge", get(show).post(post))
        .layer(SetResponseHeaderLayer::overriding(header::CONTENT_SECURITY_POLICY, FRAMED_ANYWHERE))
}

/// What the page shows and which code it takes.
pub struct Prompt {
    pub merchant: String,
    pub amount: String,
    pub card: String,
    pub acs_transaction_id: String,
    pub code: &'static str,
    pub behaviour: ChallengeBehaviour,
}

/// Where the cardholder goes once the bank has decided.
pub enum Back {
    /// Tell the Cardinal SDK in the parent page.
    Frame { transaction_id: String },
    /// Auto-post these fields to the merchant's `term_url`.
    Post { action: String, fields: Vec<(&'static str, String)> },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Authenticated,
    Failed,
    Cancelled,
    Unavailable,
    Error,
}

/// One answer on the page: another try, or the bank's verdict.
#[derive(Debug, PartialEq, Eq)]
enum Step {
    Retry(String),
    Done(Verdict),
}

fn judge(behaviour: ChallengeBehaviour, action: &str, code: &str, expected: &str, attempts_left: &mut u8) -> Step {
    match (behaviour, action) {
        (_, "cancel") => Step::Done(Verdict::Cancelled),
        (ChallengeBehaviour::Unavailable, _) => Step::Done(Verdict::Unavailable),
        (ChallengeBehaviour::Error, _) => Step::Done(Verdict::Error),
        (ChallengeBehaviour::AlwaysFails, _) => Step::Done(Verdict::Failed),
        (ChallengeBehaviour::CodeDecides, _) if code.trim() == expected => Step::Done(Verdict::Authenticated),
        (ChallengeBehaviour::CodeDecides, _) => {
            *attempts_left = attempts_left.saturating_sub(1);
            match *attempts_left {
                0 => Step::Done(Verdict::Failed),
                left => {
                    let plural = if left == 1 { "" } else { "s" };
                    Step::Retry(format!("That code is not right. {left} attempt{plural} left."))
                }
            }
        }
    }
}

#[derive(Deserialize)]
struct Open {
    creq: String,
}

/// Verifone: the Cardinal SDK's iframe opens the page with the lookup's `creq`.
async fn show(State(sb): State<SandboxState>, Query(open): Query<Open>) -> Response {
    let acs_id = URL_SAFE_NO_PAD
        .decode(open.creq.trim())
        .ok()
        .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
        .and_then(|v| v["acsTransID"].as_str().map(str::to_owned));
    let store = sb.threeds.lock().unwrap();
    match acs_id.and_then(|id| store.authentications.values().find(|a| a.acs_transaction_id == id)) {
        Some(a) if a.challenge.as_ref().is_some_and(|c| c.outcome.is_none()) => {
            Html(page(&verifone_prompt(&sb, a), None)).into_response()
        }
        Some(a) => Html(done_page(&verifone_back(a))).into_response(),
        None => refused("This verification request is not valid."),
    }
}

/// Everything posted to the page: Bambora's `form1` (opening it) or the page's own form (an answer).
#[derive(Deserialize)]
struct Posted {
    acs_transaction_id: Option<String>,
    /// "submit", "cancel" or "continue".
    action: Option<String>,
    #[serde(default)]
    code: String,
    creq: Option<String>,
    #[serde(rename = "PaReq")]
    pareq: Option<String>,
    #[serde(rename = "threeDSSessionData")]
    session_data: Option<String>,
    #[serde(rename = "MD")]
    md: Option<String>,
}

async fn post(State(sb): State<SandboxState>, Form(posted): Form<Posted>) -> Response {
    match (posted.action.as_deref(), posted.acs_transaction_id.as_deref()) {
        (Some(action), Some(id)) => answer(&sb, id, action, &posted.code),
        _ => open_bambora(&sb, &posted),
    }
}

/// Bambora's `form1`: the session named by `threeDSSessionData`/`MD`, opened with its own `creq`/`PaReq`.
fn open_bambora(sb: &SandboxState, posted: &Posted) -> Response {
    let session =
        posted.session_data.as_deref().or(posted.md.as_deref()).unwrap_or_default().trim().to_ascii_lowercase();
    let request = posted.creq.as_deref().or(posted.pareq.as_deref()).unwrap_or_default().trim();
    let books = bambora::books(sb);
    match books.sessions.get(&session).filter(|s| s.request == request) {
        Some(s) => match s.back() {
            Some(back) => Html(done_page(&back)).into_response(),
            None => Html(page(&s.prompt(&sb.config.merchant_name), None)).into_response(),
        },
        None => refused("This verification request is not valid."),
    }
}

fn answer(sb: &SandboxState, acs_id: &str, action: &str, code: &str) -> Response {
    {
        let mut store = sb.threeds.lock().unwrap();
        if let Some(a) = store.authentications.values_mut().find(|a| a.acs_transaction_id == acs_id) {
            let Some(challenge) = a.challenge.as_mut() else { return refused("No verification is pending.") };
            if challenge.outcome.is_some() {
                return Html(done_page(&verifone_back(a))).into_response();
            }
            return match judge(challenge.behaviour, action, code, SANDBOX_CODE, &mut challenge.attempts_left) {
                Step::Retry(message) => Html(page(&verifone_prompt(sb, a), Some(&message))).into_response(),
                Step::Done(verdict) => {
                    finish_verifone(a, verdict);
                    Html(done_page(&verifone_back(a))).into_response()
                }
            };
        }
    }
    let mut books = bambora::books(sb);
    let Some(s) = books.sessions.values_mut().find(|s| s.acs_transaction_id == acs_id) else {
        return refused("Unknown verification.");
    };
    if let Some(back) = s.back() {
        return Html(done_page(&back)).into_response();
    }
    let merchant = &sb.config.merchant_name;
    match judge(ChallengeBehaviour::CodeDecides, action, code, BANK_PASSWORD, &mut s.attempts_left) {
        Step::Retry(message) => Html(page(&s.prompt(merchant), Some(&message))).into_response(),
        Step::Done(verdict) => Html(done_page(&s.finish(verdict, merchant))).into_response(),
    }
}

fn refused(why: &str) -> Response {
    (StatusCode::BAD_REQUEST, Html(shell("Verification failed", &format!("<p>{}</p>", escape(why))))).into_response()
}

fn verifone_prompt(sb: &SandboxState, a: &Authentication) -> Prompt {
    let amount = Currency::parse(&a.currency_code)
        .ok()
        .and_then(|c| Money::new(a.amount, c).ok())
        .map_or_else(|| a.amount.to_string(), |m| m.to_string());
    Prompt {
        merchant: sb.config.merchant_name.clone(),
        amount,
        card: a.masked_card.clone(),
        acs_transaction_id: a.acs_transaction_id.clone(),
        code: SANDBOX_CODE,
        behaviour: a.challenge.as_ref().map_or(ChallengeBehaviour::CodeDecides, |c| c.behaviour),
    }
}

fn verifone_back(a: &Authentication) -> Back {
    Back::Frame { transaction_id: a.transaction_id.clone() }
}

/// Records the challenge's outcome on the authentication: what `payments.validated` will report.
fn finish_verifone(a: &mut Authentication, verdict: Verdict) {
    let none = Eci::for_outcome(a.brand, EciMeaning::NotAuthenticated).code().to_owned();
    let (action_code, pares, sig, eci, error_number, error_description) = match verdict {
        Verdict::Authenticated => {
            let full = Eci::for_outcome(a.brand, EciMeaning::FullyAuthenticated).code().to_owned();
            ("SUCCESS", "Y", Some("Y"), full, "0", "Success")
        }
        Verdict::Failed => ("FAILURE", "N", Some("Y"), none, "0", "Success"),
        // An error raised in the SDK, not an issuer's answer: no status, no signature [I: ERROR from Cardinal's
        // action codes, as for its other errors].
        Verdict::Cancelled => ("ERROR", "", None, none, "10011", "Canceled by user"),
        Verdict::Unavailable => ("NOACTION", "U", Some("Y"), none, "0", "Success"),
        Verdict::Error => ("ERROR", "U", None, none, "1020", "Error processing authentication"),
    };
    a.pares_status = Some(pares.to_owned());
    a.signature_verification = sig.map(str::to_owned);
    a.eci_flag = eci;
    a.cavv = (action_code == "SUCCESS").then(new_cavv);
    if let Some(c) = a.challenge.as_mut() {
        c.outcome = Some(ChallengeOutcome {
            action_code,
            pares_status: pares.to_owned(),
            signature_verification: sig.map(str::to_owned),
            error_number: error_number.to_owned(),
            error_description: error_description.to_owned(),
        });
    }
}

fn page(p: &Prompt, error: Option<&str>) -> String {
    let summary = format!(
        r#"<dl><dt>Merchant</dt><dd>{}</dd><dt>Amount</dt><dd>{}</dd><dt>Card</dt><dd>{}</dd></dl>"#,
        escape(&p.merchant),
        escape(&p.amount),
        escape(&p.card)
    );
    let hidden =
        format!(r#"<input type="hidden" name="acs_transaction_id" value="{}">"#, escape(&p.acs_transaction_id));
    let body = match p.behaviour {
        ChallengeBehaviour::Unavailable => format!(
            r#"{summary}<p role="alert">Verification is not available for this card right now.</p>
            <form method="post">{hidden}<button name="action" value="continue">Continue</button></form>"#
        ),
        ChallengeBehaviour::Error => format!(
            r#"{summary}<p role="alert">Something went wrong at the bank while verifying this payment.</p>
            <form method="post">{hidden}<button name="action" value="continue">Continue</button></form>"#
        ),
        ChallengeBehaviour::CodeDecides | ChallengeBehaviour::AlwaysFails => {
            let error =
                error.map(|e| format!(r#"<p class="error" role="alert">{}</p>"#, escape(e))).unwrap_or_default();
            let code = p.code;
            format!(
                r#"{summary}<p>We sent a one-time code to the phone number registered with your card.
                <small>(Sandbox: the code is {code}.)</small></p>{error}
                <form method="post">{hidden}
                  <label for="code">Verification code</label>
                  <input id="code" name="code" inputmode="numeric" autocomplete="one-time-code" maxlength="8">
                  <div class="actions">
                    <button name="action" value="submit">Submit</button>
                    <button name="action" value="cancel" class="secondary" formnovalidate>Cancel</button>
                  </div>
                </form>"#
            )
        }
    };
    shell("Verify your purchase", &body)
}

/// After the verdict: back to the Cardinal SDK frame, or an auto-posted form to the merchant's `term_url`.
fn done_page(back: &Back) -> String {
    let body = match back {
        Back::Frame { transaction_id } => {
            let tx = serde_json::to_string(transaction_id).unwrap_or_default();
            format!(
                r#"<p>Returning you to the shop…</p>
            <script>parent.postMessage({{type: "cardinal.acs.complete", transactionId: {tx}}}, "*");</script>"#
            )
        }
        Back::Post { action, fields } => {
            let inputs: String = fields
                .iter()
                .map(|(name, value)| format!(r#"<input type="hidden" name="{name}" value="{}">"#, escape(value)))
                .collect();
            format!(
                r#"<p>Returning you to the shop…</p>
            <form id="return" method="post" action="{}">{inputs}<noscript><button>Continue</button></noscript></form>
            <script>document.getElementById("return").submit();</script>"#,
                escape(action)
            )
        }
    };
    shell("Verification complete", &body)
}

fn shell(title: &str, body: &str) -> String {
    format!(
        r#"<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>{title}</title><style>
body{{font-family:system-ui,sans-serif;margin:0;padding:1.25rem;color:#1b2430;background:#fff}}
h1{{font-size:1.2rem;margin:0 0 .25rem}} .bank{{color:#6b7280;font-size:.85rem;margin:0 0 1rem}}
dl{{display:grid;grid-template-columns:max-content 1fr;gap:.25rem 1rem;margin:0 0 1rem}} dt{{color:#6b7280}} dd{{margin:0}}
label{{display:block;font-weight:600;margin:.5rem 0 .25rem}} input{{font-size:1.1rem;padding:.4rem;width:10rem}}
.actions{{margin-top:1rem;display:flex;gap:.5rem}} button{{font-size:1rem;padding:.45rem 1rem;border-radius:6px;border:1px solid #0b5;background:#0b5;color:#fff}}
button.secondary{{background:#fff;color:#1b2430;border-color:#9aa3af}} .error{{color:#b42318}}
</style></head><body><h1>{title}</h1><p class="bank">Sandbox Issuer Bank · 3-D Secure</p>{body}</body></html>"#
    )
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn three_wrong_codes_fail_and_cancel_cancels() {
        let mut left = 3;
        let code = |c: &str, left: &mut u8| judge(ChallengeBehaviour::CodeDecides, "submit", c, "12345", left);
        assert_eq!(code("1", &mut left), Step::Retry("That code is not right. 2 attempts left.".into()));
        assert_eq!(code("2", &mut left), Step::Retry("That code is not right. 1 attempt left.".into()));
        assert_eq!(code(" 12345 ", &mut left), Step::Done(Verdict::Authenticated));
        assert_eq!(code("3", &mut left), Step::Done(Verdict::Failed));
        let mut left = 3;
        assert_eq!(
            judge(ChallengeBehaviour::CodeDecides, "cancel", "12345", "12345", &mut left),
            Step::Done(Verdict::Cancelled)
        );
        assert_eq!(
            judge(ChallengeBehaviour::AlwaysFails, "submit", "1234", "1234", &mut left),
            Step::Done(Verdict::Failed)
        );
        assert_eq!(
            judge(ChallengeBehaviour::Unavailable, "continue", "", "1234", &mut left),
            Step::Done(Verdict::Unavailable)
        );
        assert_eq!(left, 3);
    }

    #[test]
    fn the_page_shows_merchant_amount_card_and_escapes() {
        let p = Prompt {
            merchant: "Shop & Co".into(),
            amount: "CAD 100.00".into(),
            card: "412345******3312".into(),
            acs_transaction_id: "acs-1".into(),
            code: "12345",
            behaviour: ChallengeBehaviour::CodeDecides,
        };
        let html = page(&p, Some("<b>"));
        for needle in [
            "Shop &amp; Co",
            "CAD 100.00",
            "412345******3312",
            "the code is 12345",
            "&lt;b&gt;",
            r#"<label for="code">Verification code</label>"#,
            ">Submit<",
            ">Cancel<",
            "value=\"acs-1\"",
        ] {
            assert!(html.contains(needle), "{needle}");
        }
        let back = done_page(&Back::Post {
            action: "https://shop/3ds?a=1&b=2".into(),
            fields: vec![("cres", "abc".into()), ("threeDSSessionData", "s1".into())],
        });
        assert!(back.contains(r#"action="https://shop/3ds?a=1&amp;b=2""#), "{back}");
        assert!(back.contains(r#"<input type="hidden" name="cres" value="abc">"#));
        assert!(back.contains(r#"document.getElementById("return").submit()"#));
        let frame = done_page(&Back::Frame { transaction_id: "tx".into() });
        assert!(frame.contains(r#"parent.postMessage({type: "cardinal.acs.complete", transactionId: "tx"}, "*")"#));
    }
}
