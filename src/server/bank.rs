//! The shopper's way to the bank's page and back, for an acquirer that runs 3-D Secure inside its payment:
//! `GET /checkout/{order}/bank` posts the browser on to the bank with the stored form (our page, rendered
//! from stored fields, whose CSP lets it post to the bank's origin only: the provider's HTML is never served
//! from our origin), and `POST /checkout/{order}/3ds-return` (the `term_url`) takes the bank's answer. The
//! bank posts it cross-site, so it is outside the same-origin guard and needs no cookie: the order's
//! single-use waiting state is what it is checked against.

use super::{checkout::CheckoutError, csp, providers::BankAnswer, providers::BankReturn, state::AppState};
use axum::{
    Form,
    extract::{Path, State},
    http::{HeaderValue, StatusCode, header},
    response::{Html, IntoResponse, Redirect, Response},
};
use leptos::prelude::*;
use serde::Deserialize;

/// The bank's answer as the EMV 3-D Secure specifications name its fields.
#[derive(Deserialize)]
pub struct Posted {
    cres: Option<String>,
    #[serde(rename = "threeDSSessionData")]
    three_ds_session_data: Option<String>,
    #[serde(rename = "PaRes")]
    pa_res: Option<String>,
    #[serde(rename = "MD")]
    md: Option<String>,
}

impl Posted {
    fn read(self) -> Option<BankReturn> {
        match (self.cres, self.pa_res) {
            (Some(cres), None) => {
                Some(BankReturn { answer: BankAnswer::Cres(cres), session: self.three_ds_session_data })
            }
            (None, Some(pa_res)) => Some(BankReturn { answer: BankAnswer::PaRes(pa_res), session: self.md }),
            _ => None,
        }
    }
}

/// The page that posts the shopper's browser on to the bank.
pub async fn page(State(state): State<AppState>, Path(order_id): Path<String>) -> Response {
    match state.checkout().bank_form(&order_id).await {
        Ok(Some(form)) => {
            let nonce = uuid::Uuid::new_v4().simple().to_string();
            let bank = csp::origin(&form.action).unwrap_or_default();
            let policy = format!(
                "default-src 'none'; script-src 'nonce-{nonce}'; style-src 'self'; form-action {bank}; \
                 frame-ancestors 'self'; base-uri 'none'"
            );
            let mut res = Html(redirect_page(form.action, form.fields, nonce)).into_response();
            if let Ok(value) = HeaderValue::from_str(&policy) {
                res.headers_mut().insert(header::CONTENT_SECURITY_POLICY, value);
            }
            res.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            res
        }
        // No longer waiting for the bank (back already, expired, or never sent there): the order shows where it is.
        Ok(None) => receipt(&order_id),
        Err(e) => problem(&order_id, e),
    }
}

/// `term_url`: the bank's answer resumes the order at most once; the shopper lands on the order either way.
pub async fn back(State(state): State<AppState>, Path(order_id): Path<String>, Form(posted): Form<Posted>) -> Response {
    let Some(posted) = posted.read() else {
        return problem(&order_id, CheckoutError::Invalid(Vec::new()));
    };
    match state.checkout().return_from_bank(&order_id, posted).await {
        Ok(()) => receipt(&order_id),
        Err(e) => problem(&order_id, e),
    }
}

/// 303: the browser fetches the result page with a GET.
fn receipt(order_id: &str) -> Response {
    Redirect::to(&format!("/checkout/{}", urlencode(order_id))).into_response()
}

fn problem(order_id: &str, e: CheckoutError) -> Response {
    let (status, message) = match e {
        CheckoutError::NotFound => (StatusCode::NOT_FOUND, "We could not find this order."),
        CheckoutError::Invalid(_) => (StatusCode::BAD_REQUEST, "The bank's answer could not be read."),
        other => {
            tracing::error!(order_id, error = %other, "a bank return could not be handled");
            (StatusCode::INTERNAL_SERVER_ERROR, "Something went wrong on our side; you have not been charged twice.")
        }
    };
    let href = format!("/checkout/{}", urlencode(order_id));
    let html = view! {
        <!DOCTYPE html>
        <html lang="en">
            <head><meta charset="utf-8"/><title>"Your payment"</title><link rel="stylesheet" href="/pkg/card-checkout.css"/></head>
            <body><main id="main"><p role="alert" class="alert">{message}</p><p><a href=href target="_top">"See your order"</a></p></main></body>
        </html>
    }
    .to_html();
    (status, Html(html)).into_response()
}

/// The form, posted by a script at once; without scripts, by the shopper's click.
fn redirect_page(action: String, fields: Vec<(String, String)>, nonce: String) -> String {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <title>"Your bank"</title>
                <link rel="stylesheet" href="/pkg/card-checkout.css"/>
            </head>
            <body>
                <main id="main">
                    <form id="bank" method="post" action=action>
                        {fields.into_iter().map(|(name, value)| view! { <input type="hidden" name=name value=value/> }).collect_view()}
                        <p>"Taking you to your bank to confirm the payment…"</p>
                        <button type="submit" class="pay">"Continue to your bank"</button>
                    </form>
                </main>
                <script nonce=nonce>"document.getElementById('bank').submit();"</script>
            </body>
        </html>
    }
    .to_html()
}

/// Order ids are ours (UUIDs), but a path segment is never trusted to be URL-safe.
fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}
