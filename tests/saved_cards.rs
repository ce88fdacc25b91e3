//! Saved cards (issue 10): a returning shopper confirms the email with a one-time code from the sandbox's
//! outbox; the session sees, pays with and deletes that email's cards only; nothing says whether an email
//! has saved cards before it is confirmed.

mod common;

use common::{TestApp, saved_cards::Returning};
use serde_json::json;

async fn app_with(extra: &[(&str, &str)]) -> TestApp {
    let mut vars = vec![("TRUSTED_PROXIES", "127.0.0.1")];
    vars.extend_from_slice(extra);
    TestApp::spawn_with(&vars).await
}

#[tokio::test]
async fn a_code_confirms_the_email_once_and_a_wrong_one_never() {
    let app = app_with(&[]).await;
    let shopper = Returning::new(&app, "grace@example.com", "203.0.113.10");
    assert_eq!(shopper.send_code().await, "code_sent");
    let code = shopper.code().await.expect("the code was mailed");
    let wrong = if code == "000000" { "000001" } else { "000000" };
    assert_eq!(shopper.confirm_with(wrong).await, "wrong_code");
    assert!(shopper.cookie().is_none(), "a wrong code gave a session");
    assert_eq!(shopper.confirm_with(&code).await, "no_cards");
    let cookie = shopper.cookie().expect("a session cookie");
    let set = shopper.set_cookie.lock().unwrap().clone().unwrap();
    assert!(cookie.contains("shopper_session="), "{set}");
    assert!(set.contains("HttpOnly") && set.contains("SameSite=Lax") && set.contains("Path=/"), "{set}");
    assert_eq!(shopper.list().await, (200, json!([])));
    // Used once: the same code again is refused.
    let again = Returning::new(&app, "grace@example.com", "203.0.113.11");
    assert_eq!(again.confirm_with(&code).await, "wrong_code");
    // Codes and sessions are kept hashed.
    let kept: Vec<String> =
        sqlx::query_scalar("SELECT code_hash FROM shopper_codes").fetch_all(&app.pool).await.unwrap();
    assert!(kept.iter().all(|h| h.len() == 64 && !h.contains(&code)), "{kept:?}");
    let token = cookie.split_once('=').unwrap().1;
    let sessions: Vec<String> =
        sqlx::query_scalar("SELECT token_hash FROM shopper_sessions").fetch_all(&app.pool).await.unwrap();
    assert!(!sessions.iter().any(|s| s == token), "the session token is stored in the clear");
}

#[tokio::test]
async fn a_code_has_five_tries_and_ten_minutes() {
    let app = app_with(&[]).await;
    let shopper = Returning::new(&app, "tries@example.com", "203.0.113.12");
    shopper.send_code().await;
    let code = shopper.code().await.unwrap();
    let wrong = if code == "000000" { "000001" } else { "000000" };
    for _ in 0..5 {
        assert_eq!(shopper.confirm_with(wrong).await, "wrong_code");
    }
    assert_eq!(shopper.confirm_with(&code).await, "wrong_code", "the right code after five wrong tries");

    let expired = app_with(&[("SHOPPER_CODE_MINUTES", "0")]).await;
    let shopper = Returning::new(&expired, "late@example.com", "203.0.113.13");
    shopper.send_code().await;
    let code = shopper.code().await.unwrap();
    assert_eq!(shopper.confirm_with(&code).await, "wrong_code", "an expired code");
}

#[tokio::test]
async fn codes_are_limited_per_email_and_per_address() {
    let app = app_with(&[("SHOPPER_CODES_PER_WINDOW", "2")]).await;
    let shopper = Returning::new(&app, "limit@example.com", "203.0.113.20");
    for _ in 0..2 {
        assert_eq!(shopper.send_code().await, "code_sent");
    }
    assert_eq!(shopper.send_code().await, "too_many");
    // The same email from elsewhere is limited as well...
    assert_eq!(Returning::new(&app, "limit@example.com", "203.0.113.21").send_code().await, "too_many");
    // ...and one address asking for many emails.
    let spray = |n: usize| format!("spray{n}@example.com");
    for n in 0..2 {
        assert_eq!(Returning::new(&app, &spray(n), "203.0.113.22").send_code().await, "code_sent");
    }
    assert_eq!(Returning::new(&app, &spray(3), "203.0.113.22").send_code().await, "too_many");
}

/// Asking for a code says nothing about the email: the same answer with or without saved cards, and no
/// list without the code.
#[tokio::test]
async fn nothing_is_told_about_an_email_before_it_is_confirmed() {
    let app = app_with(&[]).await;
    let stranger = Returning::new(&app, "nobody@example.com", "203.0.113.30");
    assert_eq!(stranger.send_code().await, "code_sent");
    let (status, body) = stranger.list().await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(stranger.send_code_to("not an email").await, "bad_email");
    // A forged cookie is no session.
    stranger.use_cookie(Some("shopper_session=forged".into()));
    assert_eq!(stranger.list().await.0, 401);
    assert_eq!(stranger.delete("anything").await, "not_confirmed");
}

/// Only Verifone as the acquirer offers saved cards: with Bambora the page is not offered them, and the
/// server functions refuse them.
#[tokio::test]
async fn saved_cards_are_offered_with_verifone_only() {
    let app =
        app_with(&[("PAYMENT_PROVIDER", "bambora"), ("THREEDS_PROVIDER", "verifone"), ("SHOP_CURRENCY", "CAD")]).await;
    let shopper = common::checkout::Shopper::new(&app).await;
    let (status, start) = shopper.call("checkout/start", json!({"cart": "tee:1"})).await;
    assert_eq!(status, 200, "{start}");
    assert_eq!(start["saved_cards"], false, "{start}");
    let returning = Returning::new(&app, "ada@example.com", "203.0.113.40");
    assert_eq!(returning.send_code().await, "off");
    let input = json!({
        "checkout_key": start["checkout_key"], "cart": "tee:1", "billing": common::checkout::Shopper::billing(),
        "card": {"brand": "Visa", "bin6": "400000", "last4": "1000", "expiry_month": 1, "expiry_year": 2030},
        "session_id": "0_x", "encrypted_card": "x", "save_card": true,
    });
    let (status, body) = shopper.call("checkout/place", json!({"input": input})).await;
    assert_eq!(status, 422, "{body}");
    let orders: i64 = sqlx::query_scalar("SELECT count(*) FROM orders").fetch_one(&app.pool).await.unwrap();
    assert_eq!(orders, 0);
}

/// The forms are plain HTML forms: a browser's cross-site post is refused before it reaches them (the same
/// guard as the server functions and the back office), and nothing is mailed.
#[tokio::test]
async fn a_cross_site_form_post_is_refused() {
    let app = app_with(&[]).await;
    let url = format!("{}/checkout/saved-cards/code", app.url);
    let form = [("email", "victim@example.com"), ("cart", "tee:1")];
    for (name, value) in [("origin", "https://evil.example"), ("sec-fetch-site", "cross-site")] {
        let res = app.client.post(&url).header(name, value).form(&form).send().await.unwrap();
        assert_eq!(res.status(), 403, "{name}: {value}");
    }
    let page = common::saved_cards::outbox(&app, "victim@example.com").await;
    assert!(common::saved_cards::newest_code(&page).is_none(), "a cross-site post sent a code");
}

/// Without any wasm the page shows what the forms said: the code form for the email a code went to, and once
/// confirmed the email's cards to choose from, each with the form that removes it.
#[tokio::test]
async fn the_checkout_page_shows_the_forms_answers_as_server_html() {
    let app = app_with(&[]).await;
    let page = |query: &str, cookie: Option<String>| {
        let mut req = app.client.get(format!("{}/checkout?tee=1{query}", app.url));
        if let Some(cookie) = cookie {
            req = req.header("cookie", cookie);
        }
        async move { req.send().await.unwrap().text().await.unwrap() }
    };
    let first = page("", None).await;
    assert!(first.contains(r#"action="/checkout/saved-cards/code""#), "{first}");
    assert!(!first.contains("saved_code"), "the code is asked for before one was sent");
    let shopper = Returning::new(&app, "grace@example.com", "203.0.113.60");
    assert_eq!(shopper.send_code().await, "code_sent");
    let awaiting = page("&saved=code_sent&saved_email=grace%40example.com", None).await;
    assert!(awaiting.contains("a code is on its way"), "{awaiting}");
    assert!(awaiting.contains(r#"id="saved_code""#) && awaiting.contains(r#"value="grace@example.com""#));
    // A word the forms never send shows nothing.
    let odd = page("&saved=%3Cb%3Ehi", None).await;
    assert!(!odd.contains("&lt;b&gt;hi") && !odd.contains("<b>hi"), "{odd}");
    let code = shopper.code().await.unwrap();
    assert_eq!(shopper.confirm_with(&code).await, "no_cards");
    let confirmed = page("&saved=no_cards", shopper.cookie()).await;
    assert!(confirmed.contains("This email has no saved cards."), "{confirmed}");
    assert!(confirmed.contains(r#"value="grace@example.com""#), "the confirmed email is not filled in");
}
