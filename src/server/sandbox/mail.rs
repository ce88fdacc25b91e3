//! The sandbox's mail outbox: what our server "sends" lands here instead of a mailbox. `POST /mail` takes
//! `{to, subject, body}`; `GET /mail` lists the messages per recipient, newest first (`?to=` for one).
//! Kept in memory, for as long as the sandbox runs.

use axum::{
    Json, Router,
    extract::{Query, State},
    http::StatusCode,
    response::{Html, IntoResponse},
    routing::get,
};
use serde::Deserialize;
use std::sync::{Arc, Mutex};

/// Enough for any test run; the oldest go first.
const KEPT: usize = 1000;

#[derive(Clone, Default)]
struct Outbox(Arc<Mutex<Vec<Message>>>);

#[derive(Clone, Deserialize)]
struct Message {
    to: String,
    subject: String,
    body: String,
}

/// The outbox's routes, with their own state, for `/sandbox/mail`.
pub fn router<S>() -> Router<S> {
    Router::new().route("/", get(list).post(store)).with_state(Outbox::default())
}

async fn store(State(outbox): State<Outbox>, Json(m): Json<Message>) -> impl IntoResponse {
    if m.to.is_empty() || m.to.len() > 254 || m.subject.len() > 200 || m.body.len() > 10_000 {
        return StatusCode::UNPROCESSABLE_ENTITY;
    }
    let mut kept = outbox.0.lock().unwrap_or_else(|p| p.into_inner());
    if kept.len() >= KEPT {
        kept.remove(0);
    }
    kept.push(m);
    StatusCode::CREATED
}

#[derive(Deserialize)]
struct Filter {
    to: Option<String>,
}

async fn list(State(outbox): State<Outbox>, Query(f): Query<Filter>) -> Html<String> {
    let kept = outbox.0.lock().unwrap_or_else(|p| p.into_inner()).clone();
    let wanted = f.to.map(|t| t.trim().to_lowercase());
    let mut recipients: Vec<String> = Vec::new();
    for m in kept.iter().rev() {
        let to = m.to.to_lowercase();
        if wanted.as_ref().is_none_or(|w| *w == to) && !recipients.contains(&to) {
            recipients.push(to);
        }
    }
    let mut html = String::from(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Sandbox mail</title></head><body>\
         <h1>Sandbox mail</h1>",
    );
    if recipients.is_empty() {
        html.push_str("<p>No messages.</p>");
    }
    for to in recipients {
        html.push_str(&format!("<section aria-label=\"{0}\"><h2>{0}</h2>", escape(&to)));
        for m in kept.iter().rev().filter(|m| m.to.to_lowercase() == to) {
            html.push_str(&format!("<article><h3>{}</h3><pre>{}</pre></article>", escape(&m.subject), escape(&m.body)));
        }
        html.push_str("</section>");
    }
    html.push_str("</body></html>");
    Html(html)
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}
