//! Our Bambora client (`src/server/providers/bambora`) against the embedded sandbox over HTTP: payments by
//! card and token, declines, 3-D Secure frictionless and challenged (the bank page driven as a browser
//! would), pre-authorizations, completions, returns, voids, reads, the Reporting search after a lost
//! answer, and amounts in currencies with 0 and 2 decimals. The test cards are README's.

mod common;

use card_checkout::domain::card::{CardBrand, CardNumber, Cvv, Expiry};
use card_checkout::domain::money::{Currency, Money};
use card_checkout::domain::threeds::EciMeaning;
use card_checkout::server::config::{BamboraSettings, sandbox_defaults as d};
use card_checkout::server::providers::{
    DeclineReason, ProviderError,
    bambora::{
        BamboraClient, BankResponse, BrowserData, Challenge, Liability, Outcome, PayAnswer, Payment, PaymentMethod,
        PaymentRequest, ThreeDs, ThreeDsStatus, TxnAnswer,
    },
};
use common::{
    TestApp,
    bambora::{Bambora, BankPage, BankStep, Browser, TermUrl, field, forms},
};
use serde_json::json;

const APPROVED_VISA: &str = "4030000010001234";
const APPROVED_MC: &str = "5100000010001004";
const DECLINED_VISA: &str = "4003050500040005";
const THREEDS1_VISA: &str = "4123450131003312";
const CHALLENGE_VISA: &str = "4716519788977219";
const FAILING_VISA: &str = "4635691262664247";
/// README `[I]` cards.
const ATTEMPTED_VISA: &str = "4030000010002000";
const UNAVAILABLE_VISA: &str = "4030000010003008";
/// Any other Luhn-valid card: non participating.
const OTHER_VISA: &str = "4111111111111111";
const BANK_PASSWORD: &str = "12345";

fn settings(app: &TestApp) -> BamboraSettings {
    BamboraSettings {
        base_url: format!("{}/sandbox/bambora/v1", app.url),
        merchant_id: d::BAMBORA_MERCHANT_ID.into(),
        api_passcode: d::BAMBORA_API_PASSCODE.into(),
        report_passcode: d::BAMBORA_REPORT_PASSCODE.into(),
        timeout_ms: 10_000,
        checkout_js_url: String::new(),
        account_currency: card_checkout::domain::money::Currency::CAD,
    }
}

fn client(app: &TestApp) -> BamboraClient {
    BamboraClient::new(settings(app))
}

fn cad(minor: i64) -> Money {
    Money::new(minor, Currency::CAD).unwrap()
}

struct Card {
    number: CardNumber,
    expiry: Expiry,
    cvv: Cvv,
}

fn card(number: &str) -> Card {
    let today = card_checkout::server::clock::today();
    let number = CardNumber::parse(number).unwrap();
    let cvv = Cvv::parse(if number.brand() == CardBrand::Amex { "1234" } else { "123" }, number.brand()).unwrap();
    Card { expiry: Expiry::new(1, today.year + 3, today).unwrap(), number, cvv }
}

fn order(tag: &str) -> String {
    format!("{tag}-{}", &uuid::Uuid::new_v4().simple().to_string()[..12])
}

fn browser_data() -> BrowserData {
    BrowserData {
        accept_header: "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8".into(),
        java_enabled: false,
        language: "en-CA".into(),
        color_depth: 24,
        screen_height: 1080,
        screen_width: 1920,
        time_zone: 300,
        user_agent: "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0".into(),
        javascript_enabled: true,
    }
}

fn by_card<'a>(card: &'a Card, order_number: &'a str, amount: Money) -> PaymentRequest<'a> {
    PaymentRequest {
        order_number,
        amount,
        method: PaymentMethod::Card { name: "Ada Lovelace", number: &card.number, expiry: card.expiry, cvv: &card.cvv },
        complete: true,
        customer_ip: Some("203.0.113.7"),
        term_url: None,
        three_d_secure: None,
    }
}

fn by_token<'a>(code: &'a str, order_number: &'a str) -> PaymentRequest<'a> {
    PaymentRequest {
        order_number,
        amount: cad(2000),
        method: PaymentMethod::Token { code, name: "Ada Lovelace" },
        complete: true,
        customer_ip: Some("203.0.113.7"),
        term_url: None,
        three_d_secure: None,
    }
}

fn approved(answer: PayAnswer, what: &str) -> Payment {
    match answer {
        PayAnswer::Approved(p) => {
            assert!(p.approved && p.message_id == 1 && p.outcome == Outcome::Approved, "{what}: {p:?}");
            p
        }
        other => panic!("{what}: expected approval, got {other:?}"),
    }
}

fn txn_approved(answer: TxnAnswer, what: &str) -> Payment {
    match answer {
        TxnAnswer::Approved(p) => p,
        other => panic!("{what}: expected approval, got {other:?}"),
    }
}

fn challenge(answer: PayAnswer, what: &str) -> Challenge {
    match answer {
        PayAnswer::Challenge(c) => c,
        other => panic!("{what}: expected a challenge, got {other:?}"),
    }
}

/// What the shopper's browser does with the challenge: posts our parsed form to the bank, answers its page
/// (clicking `button` after typing `code`), and follows the bank's hand-off to `term_url`. Returns the
/// fields the bank posted there.
async fn at_the_bank(challenge: &Challenge, term: &TermUrl, button: &str, code: &str) -> Vec<(String, String)> {
    let browser = Browser::default();
    let (url, html) = browser.submit("POST", &challenge.form.action, &challenge.form.fields).await;
    let form = forms(&html)
        .into_iter()
        .find(|f| f.code_field.is_some())
        .unwrap_or_else(|| panic!("our parsed form reaches the bank's page: {html}"));
    let page = BankPage { url, html, form };
    let BankStep::Left { to, fields } = browser.answer(&page, button, code).await else {
        panic!("the bank let the shopper go after one answer")
    };
    assert_eq!(to, term.url, "the bank posts to our term_url");
    assert_eq!(term.received().last(), Some(&fields), "term_url received the bank's form");
    fields
}

#[tokio::test]
async fn payments_by_card_and_token_declines_reads_and_amounts() {
    let app = TestApp::spawn().await;
    let client = client(&app);

    let visa = card(APPROVED_VISA);
    let o = order("ok");
    let p = approved(client.pay(&by_card(&visa, &o, cad(1234))).await.unwrap(), "approved Visa");
    assert_eq!((p.amount, p.kind.as_deref(), p.order_number.as_deref()), (cad(1234), Some("P"), Some(o.as_str())));
    let seen = p.card.as_ref().unwrap();
    assert_eq!((seen.brand, seen.last_four.as_deref()), (Some(CardBrand::Visa), Some("1234")));
    assert_eq!(p.liability, Liability::Merchant, "no 3-D Secure asked");

    let read = client.read(&p.id, Currency::CAD).await.unwrap().expect("the payment is there");
    assert_eq!((read.id.as_str(), read.amount, read.approved), (p.id.as_str(), cad(1234), true));
    assert_eq!(read.order_number.as_deref(), Some(o.as_str()));
    assert_eq!(client.read("999999999", Currency::CAD).await.unwrap(), None, "unknown id");

    let declined = card(DECLINED_VISA);
    match client.pay(&by_card(&declined, &order("no"), cad(1000))).await.unwrap() {
        PayAnswer::Declined(d) => {
            assert_eq!((d.message_id, d.outcome), (7, Outcome::Declined(DeclineReason::Issuer)));
            assert!(d.reason.contains("declined"), "{}", d.reason);
        }
        other => panic!("declined card: {other:?}"),
    }
    match client.pay(&by_card(&visa, &order("amt"), cad(1051))).await.unwrap() {
        PayAnswer::Declined(d) => assert_eq!(d.outcome, Outcome::Declined(DeclineReason::Issuer), "amount ending 51"),
        other => panic!("amount ending 51: {other:?}"),
    }
    match client.pay(&by_card(&visa, &o, cad(1000))).await.unwrap() {
        PayAnswer::Refused(r) => assert_eq!((r.message_id, r.outcome), (788, Outcome::Duplicate), "{r:?}"),
        other => panic!("a repeated order number: {other:?}"),
    }

    // A Custom Checkout token, single use.
    let token = Bambora::of(&app).tokenize(APPROVED_MC).await;
    let code = token["token"].as_str().unwrap().to_owned();
    let first = order("tok");
    let p = approved(client.pay(&by_token(&code, &first)).await.unwrap(), "token");
    assert_eq!((p.kind.as_deref(), p.card.unwrap().brand), (Some("P"), Some(CardBrand::Mastercard)));
    match client.pay(&by_token(&code, &order("tok2"))).await.unwrap() {
        PayAnswer::Declined(d) => assert_eq!((d.message_id, d.outcome), (936, Outcome::TokenUnusable)),
        other => panic!("a used token: {other:?}"),
    }

    // Amounts: a currency without decimals and one with two, written exactly and read back exactly.
    let jpy = Money::new(1500, Currency::JPY).unwrap();
    let p = approved(client.pay(&by_card(&visa, &order("jpy"), jpy)).await.unwrap(), "JPY");
    assert_eq!(p.amount, jpy);
    assert_eq!(client.read(&p.id, Currency::JPY).await.unwrap().unwrap().amount, jpy);
    let p = approved(client.pay(&by_card(&visa, &order("cents"), cad(7))).await.unwrap(), "CAD 0.07");
    assert_eq!(client.read(&p.id, Currency::CAD).await.unwrap().unwrap().amount, cad(7));
}

#[tokio::test]
async fn frictionless_3ds_and_liability() {
    let app = TestApp::spawn().await;
    let client = client(&app);
    let browser = browser_data();
    let with_3ds = |auth_required| ThreeDs::Bambora { browser: &browser, version: Some(2), auth_required };
    let term = "https://shop.example/checkout/3ds-return";

    let cases = [
        (APPROVED_VISA, ThreeDsStatus::Authenticated, Liability::Authenticated),
        (APPROVED_MC, ThreeDsStatus::Authenticated, Liability::Authenticated),
        (ATTEMPTED_VISA, ThreeDsStatus::Attempted, Liability::Attempted),
        (OTHER_VISA, ThreeDsStatus::NonParticipating, Liability::Merchant),
        (UNAVAILABLE_VISA, ThreeDsStatus::Failed, Liability::Merchant),
    ];
    for (number, status, liability) in cases {
        let c = card(number);
        let o = order("fl");
        let req = PaymentRequest {
            three_d_secure: Some(with_3ds(false)),
            term_url: Some(term),
            ..by_card(&c, &o, cad(3000))
        };
        let p = approved(client.pay(&req).await.unwrap(), number);
        let threeds = p.three_d_secure.clone().unwrap_or_else(|| panic!("{number}: a 3d_secure block"));
        assert_eq!((threeds.status, p.liability), (Some(status), liability), "{number}: {p:?}");
        if status == ThreeDsStatus::Failed {
            assert!(threeds.error.unwrap().contains("temporarily unavailable"), "{number}");
        }
    }

    for (number, auth_required) in [(FAILING_VISA, false), (UNAVAILABLE_VISA, true)] {
        let c = card(number);
        let o = order("fail");
        let req = PaymentRequest {
            three_d_secure: Some(with_3ds(auth_required)),
            term_url: Some(term),
            ..by_card(&c, &o, cad(3000))
        };
        match client.pay(&req).await.unwrap() {
            PayAnswer::Declined(d) => assert_eq!((d.message_id, d.outcome), (311, Outcome::ThreeDsFailed), "{number}"),
            other => panic!("{number}: {other:?}"),
        }
    }

    // "Own process": a CAVV the 3-D Secure service never issued is refused as a network would.
    let c = card(APPROVED_MC);
    let o = order("own");
    let own = ThreeDs::OwnProcess {
        xid: "1368023",
        cavv: "AAABAXlHEQAAAAGXAEcRAAAAAAA=",
        brand: CardBrand::Mastercard,
        eci: EciMeaning::FullyAuthenticated,
    };
    let req = PaymentRequest { three_d_secure: Some(own), ..by_card(&c, &o, cad(3000)) };
    match client.pay(&req).await.unwrap() {
        PayAnswer::Declined(d) => assert_eq!(d.outcome, Outcome::ThreeDsFailed),
        other => panic!("an unissued CAVV: {other:?}"),
    }

    // Wrong credentials are not an answer about the payment.
    let wrong = BamboraClient::new(BamboraSettings { api_passcode: "wrong".into(), ..settings(&app) });
    let c = card(APPROVED_VISA);
    let o = order("auth");
    assert!(matches!(wrong.pay(&by_card(&c, &o, cad(100))).await, Err(ProviderError::Refused { status: 401, .. })));
}

#[tokio::test]
async fn threeds2_challenge_passed_and_failed() {
    let app = TestApp::spawn().await;
    let client = client(&app);
    let term = TermUrl::start().await;
    let browser = browser_data();
    let c = card(CHALLENGE_VISA);

    let o = order("c2");
    let req = PaymentRequest {
        three_d_secure: Some(ThreeDs::Bambora { browser: &browser, version: Some(2), auth_required: true }),
        term_url: Some(&term.url),
        ..by_card(&c, &o, cad(4200))
    };
    let ch = challenge(client.pay(&req).await.unwrap(), "3DS2 card");
    assert!(ch.form.action.starts_with(&app.url), "the bank page is the sandbox's: {}", ch.form.action);
    let posted = at_the_bank(&ch, &term, "Submit", BANK_PASSWORD).await;
    assert_eq!(field(&posted, "threeDSSessionData"), Some(ch.session.as_str()), "{posted:?}");
    let cres = field(&posted, "cres").expect("the bank posts cres").to_owned();
    let p = approved(
        client.continue_payment(&ch.session, BankResponse::Cres(&cres), Currency::CAD).await.unwrap(),
        "after the challenge",
    );
    assert_eq!((p.amount, p.order_number.as_deref()), (cad(4200), Some(o.as_str())));
    assert_eq!(p.liability, Liability::Authenticated, "{p:?}");
    match client.continue_payment(&ch.session, BankResponse::Cres(&cres), Currency::CAD).await.unwrap() {
        PayAnswer::Refused(r) => assert_eq!(r.outcome, Outcome::Duplicate, "continue is single use: {r:?}"),
        other => panic!("a replayed continue: {other:?}"),
    }

    let o = order("c2x");
    let req = PaymentRequest {
        three_d_secure: Some(ThreeDs::Bambora { browser: &browser, version: Some(2), auth_required: true }),
        term_url: Some(&term.url),
        ..by_card(&c, &o, cad(4300))
    };
    let ch = challenge(client.pay(&req).await.unwrap(), "3DS2 card again");
    let posted = at_the_bank(&ch, &term, "Cancel", "").await;
    let cres = field(&posted, "cres").expect("a cancelled challenge still posts cres").to_owned();
    match client.continue_payment(&ch.session, BankResponse::Cres(&cres), Currency::CAD).await.unwrap() {
        PayAnswer::Declined(d) => assert_eq!((d.message_id, d.outcome), (311, Outcome::ThreeDsFailed)),
        other => panic!("a cancelled challenge: {other:?}"),
    }
}

#[tokio::test]
async fn threeds1_pares() {
    let app = TestApp::spawn().await;
    let client = client(&app);
    let term = TermUrl::start().await;
    let browser = browser_data();
    let c = card(THREEDS1_VISA);
    let o = order("c1");
    let req = PaymentRequest {
        three_d_secure: Some(ThreeDs::Bambora { browser: &browser, version: None, auth_required: true }),
        term_url: Some(&term.url),
        ..by_card(&c, &o, cad(1599))
    };
    let ch = challenge(client.pay(&req).await.unwrap(), "3DS1 card");
    assert!(ch.form.fields.iter().any(|(k, _)| k == "PaReq"), "a 3-D Secure 1 form: {:?}", ch.form.fields);
    let posted = at_the_bank(&ch, &term, "Submit", BANK_PASSWORD).await;
    let md = field(&posted, "MD").expect("the bank posts MD");
    assert!(md.eq_ignore_ascii_case(&ch.session), "MD names the session: {md} vs {}", ch.session);
    let pa_res = field(&posted, "PaRes").expect("the bank posts PaRes").to_owned();
    let p = approved(
        client.continue_payment(&ch.session, BankResponse::PaRes(&pa_res), Currency::CAD).await.unwrap(),
        "after the 3DS1 page",
    );
    assert_eq!(p.amount, cad(1599));
    assert!(p.liability.is_shifted(), "{p:?}");
}

#[tokio::test]
async fn preauth_completion_return_and_void() {
    let app = TestApp::spawn().await;
    let client = client(&app);
    let visa = card(APPROVED_VISA);

    let o = order("pa");
    let pa = approved(
        client.pay(&PaymentRequest { complete: false, ..by_card(&visa, &o, cad(1000)) }).await.unwrap(),
        "pre-auth",
    );
    assert_eq!(pa.kind.as_deref(), Some("PA"));
    let pac = txn_approved(client.complete(&pa.id, cad(600)).await.unwrap(), "partial completion");
    assert_eq!((pac.kind.as_deref(), pac.amount), (Some("PAC"), cad(600)));
    match client.complete(&pa.id, cad(100)).await.unwrap() {
        TxnAnswer::Refused(r) => assert_eq!((r.message_id, r.outcome), (203, Outcome::NotAllowed), "{r:?}"),
        other => panic!("a second completion: {other:?}"),
    }
    let o = order("pa2");
    let small = approved(
        client.pay(&PaymentRequest { complete: false, ..by_card(&visa, &o, cad(500)) }).await.unwrap(),
        "small pre-auth",
    );
    match client.complete(&small.id, cad(600)).await.unwrap() {
        TxnAnswer::Refused(r) => assert_eq!((r.message_id, r.outcome), (208, Outcome::NotAllowed), "{r:?}"),
        other => panic!("completing more than held: {other:?}"),
    }

    let o = order("ret");
    let p = approved(client.pay(&by_card(&visa, &o, cad(2500))).await.unwrap(), "purchase");
    let r = txn_approved(client.refund(&p.id, cad(1000)).await.unwrap(), "partial return");
    assert_eq!((r.kind.as_deref(), r.amount), (Some("R"), cad(1000)));
    match client.refund(&p.id, cad(2000)).await.unwrap() {
        TxnAnswer::Refused(r) => assert_eq!((r.message_id, r.outcome), (194, Outcome::NotAllowed), "{r:?}"),
        other => panic!("returning more than is left: {other:?}"),
    }
    let read = client.read(&p.id, Currency::CAD).await.unwrap().unwrap();
    assert_eq!(read.total_refunds, Some(cad(1000)), "{read:?}");

    let o = order("void");
    let p = approved(client.pay(&by_card(&visa, &o, cad(1200))).await.unwrap(), "purchase to void");
    let v = txn_approved(client.void(&p.id, cad(1200)).await.unwrap(), "void");
    assert_eq!((v.kind.as_deref(), v.amount), (Some("VP"), cad(1200)));
}

#[tokio::test]
async fn a_lost_answer_is_found_by_order_number() {
    let app = TestApp::spawn().await;
    let arm = |fault: serde_json::Value| {
        let url = format!("{}/sandbox/_control/faults", app.url);
        async move {
            let res = reqwest::Client::new().post(url).json(&fault).send().await.unwrap();
            assert_eq!(res.status(), 201, "{fault}");
        }
    };
    let visa = card(APPROVED_VISA);

    for (fault, timeout_ms) in [("drop", 10_000), ("slow", 1_000)] {
        let client = BamboraClient::new(BamboraSettings { timeout_ms, ..settings(&app) });
        let o = order(fault);
        arm(json!({"path": "/bambora/v1/payments", "fault": fault, "delay_ms": 4_000, "body_contains": o})).await;
        let sent_at = card_checkout::server::db::now_ms();
        let lost = client.pay(&by_card(&visa, &o, cad(3456))).await.unwrap_err();
        assert!(matches!(lost, ProviderError::NoAnswer) && lost.outcome_unknown(), "{fault}: {lost:?}");

        let found = client.search_by_order_number(&o, Currency::CAD, sent_at).await.unwrap();
        assert_eq!(found.len(), 1, "{fault}: {found:?}");
        let record = &found[0];
        assert_eq!((record.kind.as_str(), record.amount, record.approved), ("P", cad(3456), true), "{fault}");
        let read = client.read(&record.id, Currency::CAD).await.unwrap().unwrap();
        assert_eq!((read.approved, read.order_number.as_deref()), (true, Some(o.as_str())), "{fault}");
    }

    let client = client(&app);
    assert_eq!(
        client
            .search_by_order_number(&order("none"), Currency::CAD, card_checkout::server::db::now_ms())
            .await
            .unwrap(),
        vec![]
    );
    let wrong =
        BamboraClient::new(BamboraSettings { report_passcode: d::BAMBORA_API_PASSCODE.into(), ..settings(&app) });
    let refused = wrong.search_by_order_number("x", Currency::CAD, card_checkout::server::db::now_ms()).await;
    assert!(
        matches!(refused, Err(ProviderError::Refused { status: 401, .. })),
        "the Reporting API has its own passcode"
    );
}
