//! The merchant back office under `/merchant`: server-rendered pages and plain HTML forms (post, then
//! redirect), so it needs no JavaScript and adds nothing to the shopper's wasm bundle. Every route except
//! the sign-in form takes a `Merchant`, which sends anonymous callers to sign in.

pub mod auth;
pub mod list;
mod pages;
mod threeds;
mod timeline;

use super::{
    actions, client_address,
    db::{self, merchants::MerchantUser, orders::OrderError},
    history::OrderDetail,
    state::AppState,
};
use crate::domain::{money::Money, status::Action};
use axum::{
    Form, Router,
    body::{Body, Bytes},
    extract::{FromRequestParts, Path, Query, State},
    http::{Extensions, HeaderMap, HeaderValue, StatusCode, header, request::Parts},
    response::{Html, IntoResponse, Redirect, Response},
    routing::{get, post},
};
use futures_util::StreamExt;
use serde::Deserialize;

/// Rows per page of the order history.
const PAGE_SIZE: i64 = 50;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/merchant", get(|| async { Redirect::to("/merchant/orders") }))
        .route("/merchant/sign-in", get(sign_in_form).post(sign_in))
        .route("/merchant/sign-out", post(sign_out))
        .route("/merchant/orders", get(order_list))
        .route("/merchant/orders.csv", get(order_csv))
        .route("/merchant/orders/{id}", get(order_detail))
        .route("/merchant/orders/{id}/actions", post(order_action))
        .route("/merchant/orders/{id}/charge", post(charge_saved_card))
}

/// A signed-in merchant. Extracting it from an anonymous request answers with a redirect to sign in.
pub struct Merchant {
    pub user: MerchantUser,
    token: String,
}

impl FromRequestParts<AppState> for Merchant {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Merchant, Response> {
        match auth::current_user(&state.pool, &state.settings, &parts.headers).await {
            Some((user, token)) => Ok(Merchant { user, token }),
            None => {
                // After signing in, come back here; a form post comes back to the list instead.
                let here = parts.uri.path_and_query().map_or("/merchant/orders", |p| p.as_str());
                let next = if parts.method == axum::http::Method::GET { here } else { "/merchant/orders" };
                let query = serde_urlencoded::to_string([("next", next)]).unwrap_or_default();
                Err(Redirect::to(&format!("/merchant/sign-in?{query}")).into_response())
            }
        }
    }
}

/// A back-office page: never cached, and allowed no script at all.
fn page(status: StatusCode, html: String) -> Response {
    let mut res = (status, Html(html)).into_response();
    let h = res.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; \
             base-uri 'none'",
        ),
    );
    res
}

/// Where to go after signing in: only a back-office path of ours.
fn safe_next(next: &str) -> &str {
    const MAX_LEN: usize = 2048;
    if next.len() <= MAX_LEN && next.starts_with("/merchant/") && !next.starts_with("//") && !next.contains("\\") {
        next
    } else {
        "/merchant/orders"
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct NextParam {
    next: String,
}

async fn sign_in_form(State(state): State<AppState>, headers: HeaderMap, Query(q): Query<NextParam>) -> Response {
    if auth::current_user(&state.pool, &state.settings, &headers).await.is_some() {
        return Redirect::to(safe_next(&q.next)).into_response();
    }
    page(StatusCode::OK, pages::sign_in(None, "", safe_next(&q.next)))
}

#[derive(Deserialize)]
struct SignInForm {
    email: String,
    password: String,
    #[serde(default)]
    next: String,
}

async fn sign_in(
    State(state): State<AppState>,
    headers: HeaderMap,
    extensions: Extensions,
    Form(form): Form<SignInForm>,
) -> Response {
    let next = safe_next(&form.next);
    // Typed back into the form only if it could be an email address at all.
    let email = if form.email.len() <= auth::MAX_EMAIL_LEN { form.email.as_str() } else { "" };
    if form.email.trim().is_empty() || form.password.is_empty() {
        let html = pages::sign_in(Some("Enter your email and password."), email, next);
        return page(StatusCode::UNPROCESSABLE_ENTITY, html);
    }
    let address = client_address::of_request(&extensions, &headers, &state.settings.trusted_proxies);
    // A session the browser had before ends here: sign-in always starts a new one.
    let previous = auth::session_token(&state.settings, &headers);
    match auth::sign_in(&state.pool, &form.email, &form.password, &address, previous.as_deref()).await {
        Ok((user, token)) => {
            tracing::info!(user_id = user.id, "merchant signed in");
            let mut res = Redirect::to(next).into_response();
            if let Ok(cookie) = HeaderValue::from_str(&auth::session_cookie(&state.settings, &token)) {
                res.headers_mut().insert(header::SET_COOKIE, cookie);
            }
            res
        }
        Err(e) => {
            let status = match e {
                auth::SignInError::Invalid => StatusCode::UNAUTHORIZED,
                auth::SignInError::Throttled { .. } => StatusCode::TOO_MANY_REQUESTS,
                auth::SignInError::Busy => StatusCode::SERVICE_UNAVAILABLE,
                auth::SignInError::Db(ref cause) => {
                    tracing::error!(error = %cause, "sign-in failed");
                    StatusCode::INTERNAL_SERVER_ERROR
                }
            };
            let message = match e {
                auth::SignInError::Db(_) => "Something went wrong on our side; please try again.".to_owned(),
                other => sentence(other),
            };
            page(status, pages::sign_in(Some(&message), email, next))
        }
    }
}

/// What was typed, quoted for a message: cut short, so a page never echoes a huge value back.
fn quoted(typed: &str) -> String {
    const SHOWN: usize = 40;
    if typed.chars().count() <= SHOWN {
        format!("{typed:?}")
    } else {
        format!("{:?}…", typed.chars().take(SHOWN).collect::<String>())
    }
}

/// An error's message as a sentence for the page ("The refund can be at most EUR 14.00.").
fn sentence(e: impl std::fmt::Display) -> String {
    format!("{}.", capitalized(&e.to_string()))
}

fn capitalized(s: &str) -> String {
    let mut c = s.chars();
    c.next().map_or_else(String::new, |f| f.to_uppercase().chain(c).collect())
}

async fn sign_out(State(state): State<AppState>, merchant: Merchant) -> Response {
    if let Err(e) = auth::sign_out(&state.pool, &merchant.token).await {
        tracing::error!(error = %e, "sign-out failed");
    }
    let mut res = Redirect::to("/merchant/sign-in").into_response();
    if let Ok(cookie) = HeaderValue::from_str(&auth::cleared_cookie(&state.settings)) {
        res.headers_mut().insert(header::SET_COOKIE, cookie);
    }
    res
}

fn internal(context: &'static str, e: impl std::fmt::Display) -> Response {
    tracing::error!(context, error = %e, "internal error");
    page(StatusCode::INTERNAL_SERVER_ERROR, pages::problem("Something went wrong on our side; please try again."))
}

async fn order_list(State(state): State<AppState>, merchant: Merchant, Query(q): Query<list::ListQuery>) -> Response {
    let filter = match q.filter(state.settings.shop.currency) {
        Ok(f) => f,
        Err(errors) => {
            let html = pages::order_list(&merchant.user, &q, &errors, &[], &[], None);
            return page(StatusCode::BAD_REQUEST, html);
        }
    };
    let cursor = q.cursor();
    let history = state.history();
    let (rows, totals) = tokio::join!(history.page(&filter, cursor.as_ref(), PAGE_SIZE + 1), history.totals(&filter));
    let (mut rows, totals) = match (rows, totals) {
        (Ok(r), Ok(t)) => (r, t),
        (Err(e), _) | (_, Err(e)) => return internal("order list", e),
    };
    let more = rows.len() as i64 > PAGE_SIZE;
    rows.truncate(PAGE_SIZE as usize);
    let next = if more { rows.last().map(|last| q.to_query_string(Some(last))) } else { None };
    page(StatusCode::OK, pages::order_list(&merchant.user, &q, &[], &rows, &totals, next))
}

async fn order_csv(State(state): State<AppState>, _merchant: Merchant, Query(q): Query<list::ListQuery>) -> Response {
    let Ok(filter) = q.filter(state.settings.shop.currency) else {
        return (StatusCode::BAD_REQUEST, "the filters are not valid; correct them on the order list").into_response();
    };
    // Streamed a page at a time, so memory stays flat however long the history is. A database error after the
    // first bytes ends the body early: the client sees a broken download, never a file that looks complete.
    let rows = state.history().all_pages(filter, 2000).map(|page| {
        let rows = page.inspect_err(|e| tracing::error!(error = %e, "order export failed"))?;
        let mut out = String::with_capacity(rows.len() * 160);
        for r in &rows {
            list::csv_line(&mut out, r);
        }
        Ok::<_, sqlx::Error>(Bytes::from(out))
    });
    let body = Body::from_stream(
        futures_util::stream::once(async { Ok(Bytes::from_static(list::CSV_HEADER.as_bytes())) }).chain(rows),
    );
    let name = format!("attachment; filename=\"orders-{}.csv\"", super::clock::format_date(db::now_ms()));
    let mut res = body.into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/csv; charset=utf-8"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Ok(v) = HeaderValue::from_str(&name) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    res
}

/// The order's page again, with why what the merchant asked was refused.
fn refused(merchant: &Merchant, detail: &OrderDetail, message: &str) -> Response {
    page(StatusCode::UNPROCESSABLE_ENTITY, pages::order_detail(&merchant.user, detail, None, Some(message)))
}

/// The order and everything about it, or the page that says why not.
async fn load_detail(state: &AppState, id: &str) -> Result<OrderDetail, Response> {
    state.history().detail(id).await.map_err(|e| match e {
        OrderError::NotFound => page(StatusCode::NOT_FOUND, pages::problem("There is no such order.")),
        other => internal("order detail", other),
    })
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct DetailParams {
    /// The attempt whose outcome to announce (after an action).
    result: String,
}

async fn order_detail(
    State(state): State<AppState>,
    merchant: Merchant,
    Path(id): Path<String>,
    Query(p): Query<DetailParams>,
) -> Response {
    let detail = match load_detail(&state, &id).await {
        Ok(d) => d,
        Err(page) => return page,
    };
    let result = detail.attempts.iter().find(|a| a.id == p.result && a.order_id == id);
    page(StatusCode::OK, pages::order_detail(&merchant.user, &detail, result, None))
}

#[derive(Deserialize)]
struct ActionForm {
    action: String,
    #[serde(default)]
    amount: String,
    /// Made when the form was shown: the action's idempotency key.
    key: String,
    /// Absent: show the confirmation; present: do it.
    #[serde(default)]
    confirmed: String,
}

async fn order_action(
    State(state): State<AppState>,
    merchant: Merchant,
    Path(id): Path<String>,
    Form(form): Form<ActionForm>,
) -> Response {
    let detail = match load_detail(&state, &id).await {
        Ok(d) => d,
        Err(page) => return page,
    };
    let refuse = |message: String| refused(&merchant, &detail, &message);
    let Some(action) = Action::parse(&form.action) else {
        return refuse(format!("Unknown action {}.", quoted(&form.action)));
    };
    if uuid::Uuid::parse_str(&form.key).is_err() {
        return refuse("This form has expired; reload the page and try again.".into());
    }
    let currency = detail.order.amount.currency();
    let amount = match form.amount.trim() {
        "" => None,
        typed => match Money::parse_major(typed, currency) {
            Ok(m) => Some(m),
            Err(e) => return refuse(format!("The amount {} is not valid: {e}.", quoted(typed))),
        },
    };
    if form.confirmed.is_empty() {
        // Checked now so the confirmation never offers what would be refused.
        return match actions::check(&detail.order, action, amount) {
            Ok(amount) => {
                page(StatusCode::OK, pages::confirm(&merchant.user, &detail.order, action, amount, &form.key))
            }
            Err(e) => refuse(sentence(e)),
        };
    }
    let service = state.actions();
    match service.act(&id, action, amount, &form.key).await {
        Ok(attempt) => Redirect::to(&format!("/merchant/orders/{id}?result={attempt}")).into_response(),
        Err(actions::ActionError::Store(e)) => internal("order action", e),
        Err(e) => {
            // The order may have moved on meanwhile: show it as it is now.
            let detail = load_detail(&state, &id).await.unwrap_or(detail);
            refused(&merchant, &detail, &sentence(e))
        }
    }
}

#[derive(Deserialize)]
struct ChargeForm {
    amount: String,
    description: String,
    /// Made when the form was shown: the new order's checkout key, so a double submit charges once.
    key: String,
    /// Absent: show the confirmation; present: charge.
    #[serde(default)]
    confirmed: String,
}

/// Charges the saved card an order was paid with (merchant-initiated): confirmed first, then a new order.
async fn charge_saved_card(
    State(state): State<AppState>,
    merchant: Merchant,
    Path(id): Path<String>,
    Form(form): Form<ChargeForm>,
) -> Response {
    use crate::server::checkout::CheckoutError;
    let detail = match load_detail(&state, &id).await {
        Ok(d) => d,
        Err(page) => return page,
    };
    let refuse = |message: String| refused(&merchant, &detail, &message);
    let currency = detail.order.amount.currency();
    let typed = form.amount.trim();
    let amount = match Money::parse_major(typed, currency) {
        Ok(m) => m,
        Err(e) => return refuse(format!("The amount {} is not valid: {e}.", quoted(typed))),
    };
    let checkout = state.checkout();
    let sentence_of = |e: CheckoutError| match e {
        CheckoutError::Invalid(fields) => {
            capitalized(&fields.into_iter().map(|f| f.message).collect::<Vec<_>>().join("; ")) + "."
        }
        other => sentence(other),
    };
    if form.confirmed.is_empty() {
        // Checked now so the confirmation never offers what would be refused.
        let checked = async {
            checkout.chargeable_card(&detail.order).await?;
            checkout.check_merchant_charge(&detail.order, amount)
        };
        let description = form.description.trim();
        if description.is_empty() || description.chars().count() > 200 {
            return refuse("Say what the charge is for (at most 200 characters).".into());
        }
        return match checked.await {
            Ok(()) => page(
                StatusCode::OK,
                pages::confirm_charge(&merchant.user, &detail.order, amount, description, &form.key),
            ),
            Err(CheckoutError::Store(e)) => internal("charge saved card", e),
            Err(e) => refuse(sentence_of(e)),
        };
    }
    match checkout.charge_saved_card(&id, amount, &form.description, &form.key).await {
        Ok(order_id) => Redirect::to(&format!("/merchant/orders/{order_id}")).into_response(),
        Err(CheckoutError::Store(e)) => internal("charge saved card", e),
        Err(CheckoutError::NotFound) => page(StatusCode::NOT_FOUND, pages::problem("There is no such order.")),
        Err(e) => {
            let detail = load_detail(&state, &id).await.unwrap_or(detail);
            refused(&merchant, &detail, &sentence_of(e))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_values_are_quoted_short() {
        assert_eq!(quoted("1,2"), "\"1,2\"");
        assert_eq!(quoted(&"9".repeat(1000)), format!("\"{}\"…", "9".repeat(40)));
    }
}
