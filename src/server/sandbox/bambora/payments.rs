//! The Payment API's routes: payments (with 3-D Secure: frictionless, the bank page, or the merchant's own
//! process), `continue`, returns, voids, completions and reads.

use super::{
    auth::{self, Api},
    books,
    cards::{self, Authentication, Scenario, Status},
    errors::{ApiError, Message},
    ledger::{CardFacts, Kind, Payment, Secure},
    threeds::{self, Session},
    tokens::TokenError,
    views::{self, Context},
    wire::{self, Method, ThreeDs},
};
use crate::server::{
    clock::today,
    db::now_ms,
    sandbox::{SandboxState, scenarios::amount_rule},
};
use axum::{
    Json, Router,
    body::Bytes,
    extract::{Path, State},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::{get, post},
};

/// The `3d_secure.status` of a 311: the issuer refused the cardholder, or the service could not ask it.
const REJECTED: &str = "Rejected";
const UNAVAILABLE: &str = "Unavailable";

pub fn router() -> Router<SandboxState> {
    Router::new()
        .route("/v1/payments", post(create))
        .route("/v1/payments/{id}", get(read))
        .route("/v1/payments/{id}/continue", post(resume))
        .route("/v1/payments/{id}/returns", post(give_back))
        .route("/v1/payments/{id}/void", post(void))
        .route("/v1/payments/{id}/completions", post(complete))
}

type Answer = Result<Response, ApiError>;

async fn create(State(sb): State<SandboxState>, headers: HeaderMap, body: Bytes) -> Answer {
    auth::check(&sb, &headers, Api::Payments)?;
    let req = wire::payment(&body, today())?;
    if req.order_number.as_deref().is_some_and(|o| books(&sb).order_taken(o)) {
        return Err(ApiError::new(Message::DuplicateOrder));
    }
    let card = match req.method {
        Method::Card(card) => card,
        Method::Token { code, name } => redeem(&sb, &code, name)?,
    };
    let scenario = cards::scenario(card.number.expose());
    let payment = Payment {
        kind: if req.complete { Kind::Purchase } else { Kind::PreAuth },
        amount: req.amount,
        order_number: req.order_number,
        card: CardFacts {
            brand: card.number.brand(),
            bin: card.number.bin6().to_owned(),
            last4: card.number.last4().to_owned(),
            masked: card.number.masked(),
            expiry: (card.expiry.month(), card.expiry.year()),
            holder: card.name,
            cvd_given: card.cvd,
        },
        custom: req.custom,
        customer_ip: req.customer_ip,
        billing_name: req.billing_name,
        billing_email: req.billing_email,
        comments: req.comments,
    };
    let secure = match req.three_ds {
        ThreeDs::Off => None,
        ThreeDs::OwnProcess { cavv, eci } => {
            let cavv_result = threeds::verify_cavv(&sb, &card.number, req.amount, &cavv, eci)
                .ok_or_else(|| ApiError::three_d_secure(REJECTED))?;
            Some(Secure::OwnProcess { eci, cavv_result })
        }
        ThreeDs::Integrated { version, auth_required } => match scenario.authentication(version) {
            Authentication::Rejected => return Err(ApiError::three_d_secure(REJECTED)),
            Authentication::Frictionless(Status::Unavailable) if auth_required => {
                return Err(ApiError::three_d_secure(UNAVAILABLE));
            }
            Authentication::Frictionless(status) => Some(Secure::Integrated { status, challenged: false, version }),
            Authentication::Challenge { version } => {
                let term_url = req.term_url.ok_or_else(|| {
                    ApiError::field(Message::InvalidTermUrl, "term_url", "is required when the bank may challenge")
                })?;
                let session = Session::new(payment, scenario, version, term_url, now_ms());
                let body = session.redirect(&sb.config);
                books(&sb).sessions.insert(session.id.clone(), session);
                // A 302 whose body the client reads: no Location header, so HTTP clients do not follow it.
                return Ok((StatusCode::FOUND, Json(body)).into_response());
            }
        },
    };
    let answer = settle(&sb, payment, scenario, secure);
    if scenario == Scenario::Slow {
        // The payment is on the books; only its answer is late (a client's read or search finds it).
        tokio::time::sleep(sb.config.timeout_delay).await;
    }
    answer
}

fn redeem(sb: &SandboxState, code: &str, name: String) -> Result<wire::Card, ApiError> {
    let card = sb.bambora.tokens.redeem(code, now_ms()).map_err(|e| {
        let why = match e {
            TokenError::Unknown => "no such single-use token",
            TokenError::Expired => "the single-use token has expired",
            TokenError::Used => "the single-use token has been used",
        };
        ApiError::field(Message::InvalidToken, "token.code", why)
    })?;
    Ok(wire::Card { name, number: card.number, expiry: card.expiry, cvd: card.cvv.is_some() })
}

/// The issuer's authorization (the card's scenario and the amount's rule), recorded, and the answer.
fn settle(sb: &SandboxState, payment: Payment, scenario: Scenario, secure: Option<Secure>) -> Answer {
    let approved = !scenario.declines() && amount_rule(payment.amount.minor()).is_none();
    let ctx = Context::of(&sb.config);
    let mut books = books(sb);
    let txn = books.record(payment, approved, secure, now_ms()).map_err(ApiError::new)?;
    if approved { Ok(Json(views::payment(&ctx, txn)).into_response()) } else { Err(views::declined(txn)) }
}

/// `continue` after the bank page: once per session, with the bank's own `cres`/`PaRes`.
async fn resume(State(sb): State<SandboxState>, headers: HeaderMap, Path(id): Path<String>, body: Bytes) -> Answer {
    auth::check(&sb, &headers, Api::Payments)?;
    let presented = wire::continuation(&body)?;
    let (payment, scenario, version) = {
        let mut books = books(&sb);
        let session = books.sessions.get_mut(&id.to_ascii_lowercase()).ok_or(ApiError::new(Message::NoTransaction))?;
        if !session.take(&presented)? {
            return Err(ApiError::three_d_secure(REJECTED));
        }
        (session.payment.clone(), session.scenario, session.version)
    };
    let secure = Secure::Integrated { status: Status::Authenticated, challenged: true, version };
    settle(&sb, payment, scenario, Some(secure))
}

async fn read(State(sb): State<SandboxState>, headers: HeaderMap, Path(id): Path<String>) -> Answer {
    auth::check(&sb, &headers, Api::Payments)?;
    let ctx = Context::of(&sb.config);
    let books = books(&sb);
    let txn = id.parse().ok().and_then(|id| books.get(id)).ok_or(ApiError::new(Message::NoTransaction))?;
    Ok(Json(views::transaction(&ctx, &books, txn)).into_response())
}

#[derive(Clone, Copy)]
enum Adjust {
    Return,
    Void,
    Complete,
}

async fn give_back(State(sb): State<SandboxState>, headers: HeaderMap, Path(id): Path<String>, body: Bytes) -> Answer {
    adjust(&sb, &headers, &id, &body, Adjust::Return)
}

async fn void(State(sb): State<SandboxState>, headers: HeaderMap, Path(id): Path<String>, body: Bytes) -> Answer {
    adjust(&sb, &headers, &id, &body, Adjust::Void)
}

async fn complete(State(sb): State<SandboxState>, headers: HeaderMap, Path(id): Path<String>, body: Bytes) -> Answer {
    adjust(&sb, &headers, &id, &body, Adjust::Complete)
}

fn adjust(sb: &SandboxState, headers: &HeaderMap, id: &str, body: &[u8], op: Adjust) -> Answer {
    auth::check(sb, headers, Api::Payments)?;
    let req = wire::adjustment(body)?;
    let ctx = Context::of(&sb.config);
    let mut books = books(sb);
    let id: u64 = id.parse().map_err(|_| ApiError::new(Message::NoTransaction))?;
    let currency = books.get(id).ok_or(ApiError::new(Message::NoTransaction))?.amount.currency();
    let amount = wire::amount(req.amount.as_ref(), currency, "amount")?;
    let now = now_ms();
    let txn = match op {
        Adjust::Return => books.refund(id, amount, req.order_number, now),
        Adjust::Void => books.void(id, amount, req.order_number, now),
        Adjust::Complete => books.complete(id, amount, req.order_number, now),
    }
    .map_err(ApiError::new)?;
    Ok(Json(views::payment(&ctx, txn)).into_response())
}
