//! The issuer's challenge page (the ACS), shown in the iframe the Cardinal SDK hands the page. Sandbox code:
//! 1234. Wrong codes are allowed `CHALLENGE_ATTEMPTS` times; Cancel gives the cancel outcome.

use super::{
    SandboxState,
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
    http::StatusCode,
    response::{Html, IntoResponse, Response},
    routing::get,
};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use serde::Deserialize;

pub const SANDBOX_CODE: &str = "1234";

pub fn router() -> Router<SandboxState> {
    Router::new().route("/challenge", get(show).post(answer))
}

#[derive(Deserialize)]
struct Open {
    creq: String,
}

#[derive(Deserialize)]
struct Answer {
    acs_transaction_id: String,
    #[serde(default)]
    code: String,
    /// "submit", "cancel" or "continue".
    action: String,
}

async fn show(State(sb): State<SandboxState>, Query(open): Query<Open>) -> Response {
    let acs_id = URL_SAFE_NO_PAD
        .decode(open.creq.trim())
        .ok()
        .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
        .and_then(|v| v["acsTransID"].as_str().map(str::to_owned));
    let store = sb.threeds.lock().unwrap();
    match acs_id.and_then(|id| store.authentications.values().find(|a| a.acs_transaction_id == id)) {
        Some(a) if a.challenge.as_ref().is_some_and(|c| c.outcome.is_none()) => Html(page(a, None)).into_response(),
        Some(a) => Html(done_page(a)).into_response(),
        None => (
            StatusCode::BAD_REQUEST,
            Html(shell("Verification failed", "<p>This verification request is not valid.</p>")),
        )
            .into_response(),
    }
}

async fn answer(State(sb): State<SandboxState>, Form(answer): Form<Answer>) -> Response {
    let mut store = sb.threeds.lock().unwrap();
    let Some(a) = store.authentications.values_mut().find(|a| a.acs_transaction_id == answer.acs_transaction_id) else {
        return (StatusCode::BAD_REQUEST, Html(shell("Verification failed", "<p>Unknown verification.</p>")))
            .into_response();
    };
    let Some(challenge) = a.challenge.as_mut() else {
        return (StatusCode::BAD_REQUEST, Html(shell("Verification failed", "<p>No verification is pending.</p>")))
            .into_response();
    };
    if challenge.outcome.is_some() {
        return Html(done_page(a)).into_response();
    }
    let result = match (challenge.behaviour, answer.action.as_str()) {
        (_, "cancel") => Finish::Cancelled,
        (ChallengeBehaviour::Unavailable, _) => Finish::Unavailable,
        (ChallengeBehaviour::Error, _) => Finish::Error,
        (ChallengeBehaviour::AlwaysFails, _) => Finish::Failed,
        (ChallengeBehaviour::CodeDecides, _) if answer.code.trim() == SANDBOX_CODE => Finish::Authenticated,
        (ChallengeBehaviour::CodeDecides, _) => {
            challenge.attempts_left = challenge.attempts_left.saturating_sub(1);
            if challenge.attempts_left > 0 {
                let left = challenge.attempts_left;
                let plural = if left == 1 { "" } else { "s" };
                return Html(page(a, Some(&format!("That code is not right. {left} attempt{plural} left."))))
                    .into_response();
            }
            Finish::Failed
        }
    };
    finish(a, result);
    Html(done_page(a)).into_response()
}

enum Finish {
    Authenticated,
    Failed,
    Cancelled,
    Unavailable,
    Error,
}

/// Records the challenge's outcome on the authentication: what `payments.validated` will report.
fn finish(a: &mut Authentication, result: Finish) {
    let none = Eci::for_outcome(a.brand, EciMeaning::NotAuthenticated).code().to_owned();
    let (action_code, pares, sig, eci, error_number, error_description) = match result {
        Finish::Authenticated => {
            let full = Eci::for_outcome(a.brand, EciMeaning::FullyAuthenticated).code().to_owned();
            ("SUCCESS", "Y", Some("Y"), full, "0", "Success")
        }
        Finish::Failed => ("FAILURE", "N", Some("Y"), none, "0", "Success"),
        Finish::Cancelled => ("FAILURE", "N", Some("Y"), none, "10011", "Canceled by user"),
        Finish::Unavailable => ("NOACTION", "U", Some("Y"), none, "0", "Success"),
        Finish::Error => ("ERROR", "U", None, none, "1020", "Error processing authentication"),
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

fn amount(a: &Authentication) -> String {
    Currency::parse(&a.currency_code)
        .ok()
        .and_then(|c| Money::new(a.amount, c).ok())
        .map_or_else(|| a.amount.to_string(), |m| m.to_string())
}

fn page(a: &Authentication, error: Option<&str>) -> String {
    let behaviour = a.challenge.as_ref().map(|c| c.behaviour);
    let summary = format!(
        r#"<dl><dt>Merchant</dt><dd>{}</dd><dt>Amount</dt><dd>{}</dd><dt>Card</dt><dd>{}</dd></dl>"#,
        escape(&a.merchant_reference),
        escape(&amount(a)),
        escape(&a.masked_card)
    );
    let hidden =
        format!(r#"<input type="hidden" name="acs_transaction_id" value="{}">"#, escape(&a.acs_transaction_id));
    let body = match behaviour {
        Some(ChallengeBehaviour::Unavailable) => format!(
            r#"{summary}<p role="alert">Verification is not available for this card right now.</p>
            <form method="post">{hidden}<button name="action" value="continue">Continue</button></form>"#
        ),
        Some(ChallengeBehaviour::Error) => format!(
            r#"{summary}<p role="alert">Something went wrong at the bank while verifying this payment.</p>
            <form method="post">{hidden}<button name="action" value="continue">Continue</button></form>"#
        ),
        _ => {
            let error =
                error.map(|e| format!(r#"<p class="error" role="alert">{}</p>"#, escape(e))).unwrap_or_default();
            format!(
                r#"{summary}<p>We sent a one-time code to the phone number registered with your card.
                <small>(Sandbox: the code is {SANDBOX_CODE}.)</small></p>{error}
                <form method="post">{hidden}
                  <label for="code">Verification code</label>
                  <input id="code" name="code" inputmode="numeric" autocomplete="one-time-code" maxlength="8" autofocus>
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

/// After the outcome: tells the Cardinal SDK in the parent page that the challenge is over.
fn done_page(a: &Authentication) -> String {
    let tx = serde_json::to_string(&a.transaction_id).unwrap_or_default();
    shell(
        "Verification complete",
        &format!(
            r#"<p>Returning you to the shop…</p>
            <script>parent.postMessage({{type: "cardinal.acs.complete", transactionId: {tx}}}, "*");</script>"#
        ),
    )
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
