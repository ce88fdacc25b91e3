//! The checkout's saved-card forms: ask for a code, confirm the email with it, remove a saved card. Plain HTML
//! forms (post, then a redirect back to the checkout with a notice), as the back office does, so they work
//! before and without the wasm and add nothing to it: the island only picks a saved card and takes its
//! security code. A cross-site post is refused by the same-origin guard (`startup::same_origin_api`), the
//! session cookie is SameSite=Lax, and every value is checked by the saved-cards service.

use super::{client_address, saved_cards, state::AppState};
use crate::domain::{
    catalog::parse_cart,
    customer::is_email,
    saved_card::{SavedCardsNotice as Notice, email_key},
};
use axum::{
    Form, Router,
    extract::State,
    http::{Extensions, HeaderMap, HeaderValue, header},
    response::{IntoResponse, Redirect, Response},
    routing::post,
};
use serde::Deserialize;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/checkout/saved-cards/code", post(send_code))
        .route("/checkout/saved-cards/confirm", post(confirm))
        .route("/checkout/saved-cards/remove", post(remove))
}

/// Every form carries the cart of the checkout it was posted from (`tee:1,mug:2`), to go back to it. Missing
/// fields read as empty, so the service answers them as it answers any bad value.
#[derive(Deserialize)]
struct SavedCardForm {
    #[serde(default)]
    cart: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    code: String,
    #[serde(default)]
    card_id: String,
}

/// Sends a code; the page then asks for it, for this email.
async fn send_code(
    State(state): State<AppState>,
    headers: HeaderMap,
    extensions: Extensions,
    Form(form): Form<SavedCardForm>,
) -> Response {
    let address = client_address::of_request(&extensions, &headers, &state.settings.trusted_proxies);
    match state.saved_cards().send_code(&form.email, &address).await {
        Ok(()) => back(&form.cart, Notice::CodeSent, Some(&form.email)),
        Err(e) => back(&form.cart, notice(e), None),
    }
}

/// Confirms the email with its code: the session cookie, and back to the checkout, which lists the cards.
async fn confirm(State(state): State<AppState>, Form(form): Form<SavedCardForm>) -> Response {
    let service = state.saved_cards();
    let session = match service.confirm(&form.email, &form.code).await {
        Ok(session) => session,
        // The code form stays for another try.
        Err(e @ saved_cards::SavedCardError::WrongCode) => return back(&form.cart, notice(e), Some(&form.email)),
        Err(e) => return back(&form.cart, notice(e), None),
    };
    let told = match service.list(&email_key(&form.email)).await {
        Ok(cards) if cards.is_empty() => Notice::NoCards,
        Ok(_) => Notice::Confirmed,
        Err(e) => notice(e),
    };
    let mut res = back(&form.cart, told, None);
    let cookie = saved_cards::cookie(&state.settings, &session.token, session.max_age_secs);
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        res.headers_mut().insert(header::SET_COOKIE, value);
    }
    res
}

/// Removes one of the confirmed email's saved cards.
async fn remove(State(state): State<AppState>, headers: HeaderMap, Form(form): Form<SavedCardForm>) -> Response {
    let service = state.saved_cards();
    let token = saved_cards::session_token(&state.settings, &headers);
    let removed = async {
        let email = service.email_of(token.as_deref()).await?;
        service.delete(&email, &form.card_id).await
    };
    match removed.await {
        Ok(()) => back(&form.cart, Notice::Removed, None),
        Err(e) => back(&form.cart, notice(e), None),
    }
}

fn notice(e: saved_cards::SavedCardError) -> Notice {
    use saved_cards::SavedCardError as E;
    match e {
        E::Off => Notice::Off,
        E::Invalid(_) => Notice::BadEmail,
        E::TooMany => Notice::TooMany,
        E::WrongCode => Notice::WrongCode,
        E::NotConfirmed => Notice::NotConfirmed,
        E::NotFound => Notice::NotFound,
        E::MailFailed(e) => failed("sending a code", e),
        E::Store(e) => failed("saved cards store", e),
    }
}

fn failed(context: &'static str, e: impl std::fmt::Display) -> Notice {
    tracing::error!(context, error = %e, "internal error");
    Notice::Failed
}

/// See Other to the checkout of `cart` (rebuilt from its parsed lines: never an address the form chose), with
/// the notice, and the email a code was sent to while it waits for that code.
fn back(cart: &str, notice: Notice, awaiting_code: Option<&str>) -> Response {
    let mut query: Vec<(String, String)> =
        parse_cart(cart).unwrap_or_default().into_iter().map(|l| (l.sku, l.quantity.to_string())).collect();
    query.push(("saved".into(), notice.as_str().into()));
    if let Some(email) = awaiting_code.map(email_key).filter(|e| is_email(e)) {
        query.push(("saved_email".into(), email));
    }
    let query = serde_urlencoded::to_string(&query).unwrap_or_default();
    Redirect::to(&format!("/checkout?{query}#saved-cards")).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn location(res: &Response) -> &str {
        res.headers().get(header::LOCATION).and_then(|v| v.to_str().ok()).unwrap_or_default()
    }

    #[test]
    fn the_way_back_is_the_checkout_of_the_posted_cart_only() {
        let res = back("tee:1,mug:2", Notice::CodeSent, Some(" Ada@Example.com"));
        assert_eq!(res.status(), 303);
        assert_eq!(location(&res), "/checkout?tee=1&mug=2&saved=code_sent&saved_email=ada%40example.com#saved-cards");
        assert_eq!(
            location(&back("https://evil.example/", Notice::Removed, None)),
            "/checkout?saved=removed#saved-cards"
        );
        assert_eq!(
            location(&back("", Notice::WrongCode, Some("not an email"))),
            "/checkout?saved=wrong_code#saved-cards"
        );
    }
}
