//! The back office's HTML, rendered on the server with Leptos views (escaped as any Leptos view) and sent
//! as whole documents without hydration scripts.

use super::{capitalized, list::ListQuery, threeds, timeline};
use crate::domain::{
    card::CardBrand,
    money::{Currency, Money},
    status::{Action, PaymentStatus},
};
use crate::server::{
    actions, clock,
    db::{
        merchants::MerchantUser,
        order_list::{OrderRow, Totals},
        orders::Order,
        payments::{Attempt, ThreeDsRow},
    },
    history::{CredentialView, OrderDetail},
};
use leptos::either::Either;
use leptos::prelude::*;
use leptos::tachys::view::RenderHtml;

fn document(title: &str, user: Option<&MerchantUser>, body: impl IntoView + 'static) -> String {
    let title = format!("{title} · Card Checkout");
    let who = user.map(|u| {
        view! {
            <span class="who">{u.email.clone()}</span>
            <form method="post" action="/merchant/sign-out" class="inline">
                <button type="submit" class="link">"Sign out"</button>
            </form>
        }
    });
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <title>{title}</title>
                <link rel="icon" href="/favicon.svg" type="image/svg+xml"/>
                <link rel="stylesheet" href="/pkg/card-checkout.css"/>
            </head>
            <body>
                <header class="site-header">
                    <a class="brand" href="/">"Card Checkout"</a>
                    <nav aria-label="Back office">
                        <a href="/merchant/orders">"Orders"</a>
                        <a href="/shop">"Shop"</a>
                        {who}
                    </nav>
                </header>
                <main id="main" class="wide">{body}</main>
            </body>
        </html>
    }
    .to_html()
}

pub fn problem(message: &str) -> String {
    let message = message.to_owned();
    document(
        "Back office",
        None,
        view! {
            <h1>"Back office"</h1>
            <p role="alert" class="alert">{message}</p>
            <p><a href="/merchant/orders">"Back to the orders"</a></p>
        },
    )
}

pub fn sign_in(error: Option<&str>, email: &str, next: &str) -> String {
    let (error, email, next) = (error.map(str::to_owned), email.to_owned(), next.to_owned());
    document(
        "Sign in",
        None,
        view! {
            <section class="panel narrow" aria-labelledby="sign-in-title">
                <h1 id="sign-in-title">"Merchant sign-in"</h1>
                {error.map(|e| view! { <p role="alert" class="alert">{e}</p> })}
                <form method="post" action="/merchant/sign-in" class="stack">
                    <input type="hidden" name="next" value=next/>
                    <label for="email">"Email"</label>
                    <input id="email" name="email" type="email" autocomplete="username" required value=email/>
                    <label for="password">"Password"</label>
                    <input id="password" name="password" type="password" autocomplete="current-password" required/>
                    <button type="submit" class="primary">"Sign in"</button>
                </form>
            </section>
        },
    )
}

fn options(current: &str, choices: Vec<(String, String)>) -> impl IntoView + use<> {
    let current = current.to_owned();
    choices
        .into_iter()
        .map(|(value, label)| {
            let selected = value == current;
            view! { <option value=value selected=selected>{label}</option> }
        })
        .collect_view()
}

fn money(minor: i64, currency: &str) -> String {
    Currency::parse(currency)
        .ok()
        .and_then(|c| Money::new(minor, c).ok())
        .map_or_else(|| minor.to_string(), |m| m.to_string())
}

fn status_badge(status: &str) -> impl IntoView + use<> {
    let label = PaymentStatus::parse(status).map_or(status.to_owned(), |s| s.label().to_owned());
    view! { <span class=format!("badge status-{status}")>{label}</span> }
}

fn liability_badge(shifted: Option<bool>) -> impl IntoView + use<> {
    let (class, label) = match shifted {
        Some(true) => ("badge shifted", "Shifted to issuer"),
        Some(false) => ("badge merchant", "Merchant liable"),
        None => ("badge none", "No 3-D Secure"),
    };
    view! { <span class=class>{label}</span> }
}

/// An email address that a narrow column breaks before its "@" rather than inside a word.
fn email(address: &str) -> impl IntoView + use<> {
    match address.split_once('@') {
        Some((local, domain)) => Either::Left(view! { {local.to_owned()}<wbr/>{format!("@{domain}")} }),
        None => Either::Right(address.to_owned()),
    }
}

fn verdict_badge(verdict: threeds::Verdict) -> impl IntoView + use<> {
    match verdict {
        threeds::Verdict::Shifted => Either::Left(liability_badge(Some(true))),
        threeds::Verdict::NotShifted => Either::Left(liability_badge(Some(false))),
        threeds::Verdict::AwaitsChallenge => {
            Either::Right(view! { <span class="badge none">"Challenge decides"</span> })
        }
    }
}

/// "Enrolled Y · PARes Y · ECI 05", in parts a narrow column may put on lines of their own.
fn threeds_summary(r: &OrderRow) -> impl IntoView + use<> {
    let parts = match (&r.threeds_enrolled, &r.threeds_pares_status, &r.threeds_eci) {
        (None, None, None) => vec!["–".to_owned()],
        (e, p, eci) => {
            let v = |o: &Option<String>| o.clone().unwrap_or_else(|| "–".into());
            vec![format!("Enrolled {}", v(e)), format!("PARes {}", v(p)), format!("ECI {}", v(eci))]
        }
    };
    let last = parts.len() - 1;
    parts
        .into_iter()
        .enumerate()
        .map(|(i, part)| {
            // The separator stays on the line of the part before it.
            let part = if i < last { format!("{part} ·") } else { part };
            view! { <span class="part">{part}</span>{(i < last).then_some(" ")} }
        })
        .collect_view()
}

pub fn order_list(
    user: &MerchantUser,
    q: &ListQuery,
    errors: &[String],
    rows: &[OrderRow],
    totals: &[Totals],
    next: Option<String>,
) -> String {
    let pair = |v: &str, l: &str| (v.to_owned(), l.to_owned());
    let statuses: Vec<_> = std::iter::once(pair("", "Any status"))
        .chain(PaymentStatus::ALL.iter().map(|s| pair(s.as_str(), s.label())))
        .collect();
    let brands: Vec<_> = [
        ("", "Any brand"),
        ("VISA", "Visa"),
        ("MASTERCARD", "Mastercard"),
        ("AMEX", "American Express"),
        ("DISCOVER", "Discover"),
        ("JCB", "JCB"),
    ]
    .iter()
    .map(|(v, l)| pair(v, l))
    .collect();
    let liability = vec![pair("", "Any liability"), pair("yes", "Shifted to issuer"), pair("no", "Merchant liable")];
    let providers = vec![pair("", "Any provider"), pair("verifone", "Verifone"), pair("bambora", "Bambora")];
    let currencies: Vec<_> = std::iter::once(pair("", "Any currency"))
        .chain(Currency::ALL.iter().map(|c| pair(c.code(), c.code())))
        .collect();
    // Amounts are read in the chosen currency, so the pattern allows the most decimals any has.
    let any_amount = crate::domain::money::amount_pattern(Currency::MAX_EXPONENT);
    let csv = format!("/merchant/orders.csv?{}", q.to_query_string(None));
    let first_page = (!q.after.is_empty()).then(|| format!("/merchant/orders?{}", q.to_query_string(None)));
    let errors = errors.to_vec();
    let totals = totals.to_vec();
    let rows = rows.to_vec();
    let empty = rows.is_empty() && errors.is_empty();
    let q = q.clone();
    document(
        "Orders",
        Some(user),
        view! {
            <h1>"Orders"</h1>
            <form method="get" action="/merchant/orders" class="filters" aria-label="Filter orders">
                <label>"Search"
                    <input type="search" name="q" value=q.q.clone() placeholder="Order id, reference, email or last four"/>
                </label>
                <label>"Status"<select name="status">{options(&q.status, statuses)}</select></label>
                <label>"From"<input type="date" name="from" value=q.from.clone()/></label>
                <label>"To"<input type="date" name="to" value=q.to.clone()/></label>
                <label>"Liability"<select name="liability">{options(&q.liability, liability)}</select></label>
                <label>"Card brand"<select name="brand">{options(&q.brand, brands)}</select></label>
                <label>"Provider"<select name="provider">{options(&q.provider, providers)}</select></label>
                <label>"Currency"<select name="currency">{options(&q.currency, currencies)}</select></label>
                <label>"Min amount"<input name="min" inputmode="decimal" pattern=any_amount.clone() value=q.min.clone()/></label>
                <label>"Max amount"<input name="max" inputmode="decimal" pattern=any_amount value=q.max.clone()/></label>
                <div class="filter-actions">
                    <button type="submit" class="primary">"Apply"</button>
                    <a href="/merchant/orders">"Clear"</a>
                    <a href=csv download>"Export CSV"</a>
                </div>
            </form>
            {(!errors.is_empty()).then(|| view! {
                <ul role="alert" class="alert">{errors.into_iter().map(|e| view! { <li>{e}</li> }).collect_view()}</ul>
            })}
            <section class="totals" aria-label="Totals of the filtered orders">
                {totals.into_iter().map(|t| view! {
                    <p data-testid="totals">
                        <strong>{format!("{} orders in {}", t.orders, t.currency)}</strong>
                        {format!(" · amount {} · captured {} · refunded {}", money(t.amount_minor, &t.currency),
                            money(t.captured_minor, &t.currency), money(t.refunded_minor, &t.currency))}
                    </p>
                }).collect_view()}
            </section>
            {empty.then(|| view! { <p class="empty">"No orders match these filters."</p> })}
            // Fits a 1280 px window; narrower, it scrolls inside its own box with the order column pinned, and
            // the columns a merchant scans for first (amount, status, liability) come first.
            <div class="table-scroll" role="region" aria-label="Orders" tabindex="0">
                <table class="orders">
                    <thead><tr>
                        <th scope="col">"Order"</th><th scope="col">"Created"</th>
                        <th scope="col" class="num">"Amount"</th><th scope="col">"Status"</th>
                        <th scope="col">"Liability"</th><th scope="col">"3-D Secure"</th>
                        <th scope="col">"Card"</th><th scope="col">"Email"</th>
                    </tr></thead>
                    <tbody>
                        {rows.into_iter().map(|r| {
                            let brand = r.card_brand.as_deref().and_then(CardBrand::parse);
                            // Brand and last four each stay whole when a narrow column wraps the card.
                            let card = match (brand, &r.card_last4) {
                                (Some(b), Some(l)) => {
                                    Either::Left(view! { <span>{b.to_string()}</span>" "<span>{format!("•••• {l}")}</span> })
                                }
                                _ => Either::Right("–"),
                            };
                            let created = clock::format_time(r.created_at);
                            let (day, time) = created.split_once(' ').map_or((created.clone(), String::new()), |(d, t)| (d.to_owned(), t.to_owned()));
                            view! {
                                <tr>
                                    <th scope="row"><a href=format!("/merchant/orders/{}", r.id)>{r.merchant_reference.clone()}</a></th>
                                    <td class="when"><span>{day}</span>" "<span>{time}</span></td>
                                    <td class="num">{money(r.amount_minor, &r.currency)}</td>
                                    <td class="fit">{status_badge(&r.status)}</td>
                                    <td class="fit">{liability_badge(r.liability_shifted)}</td>
                                    <td class="threeds">{threeds_summary(&r)}</td>
                                    <td class="card">{card}</td>
                                    <td class="email">{email(&r.email)}</td>
                                </tr>
                            }
                        }).collect_view()}
                    </tbody>
                </table>
            </div>
            <nav class="pager" aria-label="Pages">
                {first_page.map(|href| view! { <a href=href>"← Newest"</a> })}
                {next.map(|qs| view! { <a href=format!("/merchant/orders?{qs}") rel="next">"Older →"</a> })}
            </nav>
        },
    )
}

/// Each stored 3-D Secure answer: which it was, who ran it, what it said and what it meant for liability.
fn threeds_answers(order: &Order, rows: &[ThreeDsRow]) -> impl IntoView + use<> {
    let brand = order.card.as_ref().map(|c| c.brand);
    let answers: Vec<_> = rows.iter().map(|r| threeds::answer(r, order.authenticator, order.provider, brand)).collect();
    view! {
        <table class="threeds-answers" data-testid="threeds-answers">
            <thead><tr>
                <th scope="col">"Answer"</th><th scope="col">"Run by"</th><th scope="col">"Status"</th>
                <th scope="col">"ECI"</th><th scope="col">"Liability"</th>
            </tr></thead>
            <tbody>
                {answers.into_iter().map(|a| view! {
                    <tr>
                        <th scope="row">{a.stage}</th>
                        <td>{a.by}</td>
                        <td>{a.status}</td>
                        <td>{a.eci}</td>
                        <td class="why">{verdict_badge(a.verdict)}" "{a.liability}</td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
    }
}

fn threeds_table(rows: Vec<ThreeDsRow>) -> impl IntoView {
    let field = |name: &'static str, get: fn(&ThreeDsRow) -> Option<String>, rows: &[ThreeDsRow]| {
        let cells = rows.iter().map(|r| view! { <td>{get(r).unwrap_or_else(|| "–".into())}</td> }).collect_view();
        view! { <tr><th scope="row">{name}</th>{cells}</tr> }
    };
    let lines = vec![
        field("3DS version", |r| r.threeds_version.clone(), &rows),
        field("Enrolled", |r| r.enrolled.clone(), &rows),
        field("PAResStatus", |r| r.pares_status.clone(), &rows),
        field("Signature verification", |r| r.signature_verification.clone(), &rows),
        field("ECI", |r| r.eci_flag.clone(), &rows),
        field("CAVV present", |r| Some(if r.cavv_present { "yes" } else { "no" }.to_owned()), &rows),
        field("CAVV result (issuer's check)", |r| r.cavv_result.clone(), &rows),
        field("Challenge required", |r| r.challenge_required.clone(), &rows),
        field("Status reason", |r| r.status_reason.clone(), &rows),
        field("Action code", |r| r.action_code.clone(), &rows),
        field(
            "Error",
            |r| r.error_no.clone().map(|n| format!("{n} {}", r.error_desc.clone().unwrap_or_default())),
            &rows,
        ),
        field("Authentication id", |r| r.authentication_id.clone(), &rows),
        field("3DS transaction id", |r| r.transaction_id.clone(), &rows),
        field("DS transaction id", |r| r.ds_transaction_id.clone(), &rows),
        field("ACS transaction id", |r| r.acs_transaction_id.clone(), &rows),
    ];
    let heads = rows.iter().map(|r| view! { <th scope="col">{r.stage.clone()}</th> }).collect_view();
    view! {
        <table class="threeds">
            <thead><tr><th scope="col">"Field"</th>{heads}</tr></thead>
            <tbody>{lines}</tbody>
        </table>
    }
}

fn verb(action: Action) -> String {
    capitalized(actions::kind_of(action).as_str())
}

fn action_forms(order: &Order) -> impl IntoView + use<> {
    let id = order.id.clone();
    let pattern = order.amount.currency().amount_pattern();
    actions::allowed(order)
        .into_iter()
        .map(|(action, limit)| {
            let key = uuid::Uuid::new_v4().to_string();
            let name = actions::kind_of(action).as_str();
            let amount = (action != Action::Void).then(|| {
                let label = format!("{} amount ({}), at most {limit}", verb(action), limit.currency());
                view! {
                    <label>{label}
                        <input name="amount" inputmode="decimal" required pattern=pattern.clone()
                            value=limit.major_string()/>
                    </label>
                }
            });
            view! {
                <form method="post" action=format!("/merchant/orders/{id}/actions") class="action">
                    <input type="hidden" name="action" value=name/>
                    <input type="hidden" name="key" value=key/>
                    {amount}
                    <button type="submit">{format!("{}…", verb(action))}</button>
                </form>
            }
        })
        .collect_view()
}

/// The saved card an order stored, paid with or was charged to (its token by its last four only), the orders
/// linked to it, and the form that charges it again.
fn saved_card_panel(order: &Order, c: &CredentialView) -> impl IntoView + use<> {
    let how = match c.initiator {
        "signup" => "The shopper saved the card with this payment.",
        "customer" => "The shopper paid with a saved card.",
        _ => "The merchant charged the saved card (merchant-initiated, no 3-D Secure).",
    };
    let card = match &c.card {
        Some((label, tail)) => format!("{label} · token …{tail}"),
        None if c.initiator == "signup" => {
            "No card is kept: the provider gave no token, or the shopper removed it.".to_owned()
        }
        None => "The shopper has removed this card.".to_owned(),
    };
    let link = |id: &String| view! { <li><a href=format!("/merchant/orders/{id}")>{id.clone()}</a></li> };
    let original = c.original.as_ref().map(|id| {
        view! { <p>"Charged against order "<a href=format!("/merchant/orders/{id}") data-testid="original-order">{id.clone()}</a></p> }
    });
    let charges = (!c.charges.is_empty()).then(|| {
        view! { <p>"Merchant-initiated charges:"</p><ul data-testid="merchant-charges">{c.charges.iter().map(link).collect_view()}</ul> }
    });
    let description = c.description.clone().map(|d| view! { <p>"For: "{d}</p> });
    let paid = matches!(
        order.status,
        PaymentStatus::Captured
            | PaymentStatus::Authorized
            | PaymentStatus::PartiallyRefunded
            | PaymentStatus::Refunded
    );
    let form = (c.initiator != "merchant" && c.card.is_some() && paid).then(|| {
        let (id, key, pattern) =
            (order.id.clone(), uuid::Uuid::new_v4().to_string(), order.amount.currency().amount_pattern());
        let label = format!("Amount ({})", order.amount.currency());
        view! {
            <form method="post" action=format!("/merchant/orders/{id}/charge") class="action">
                <input type="hidden" name="key" value=key/>
                <label>{label}<input name="amount" inputmode="decimal" required pattern=pattern/></label>
                <label>"What it is for"<input name="description" required maxlength="200"/></label>
                <button type="submit">"Charge saved card…"</button>
            </form>
        }
    });
    view! {
        <section class="panel" aria-labelledby="saved-card">
            <h2 id="saved-card">"Saved card"</h2>
            <p>{how}</p>
            <p data-testid="saved-card">{card}</p>
            {description}
            {original}
            {charges}
            {form}
        </section>
    }
}

/// Asks before a merchant-initiated charge.
pub fn confirm_charge(user: &MerchantUser, order: &Order, amount: Money, description: &str, key: &str) -> String {
    let id = order.id.clone();
    let card = order.card.as_ref().map_or("the saved card".to_owned(), |c| c.label());
    let question = format!("Charge {amount} to {card} for \"{description}\", without the shopper?");
    let (key, major, description) = (key.to_owned(), amount.major_string(), description.to_owned());
    let title = format!("Charge the saved card of order {}", order.merchant_reference);
    document(
        &title.clone(),
        Some(user),
        view! {
            <section class="panel narrow" aria-labelledby="confirm-title">
                <h1 id="confirm-title">{title}</h1>
                <p data-testid="confirm-question">{question}</p>
                <p>"This makes a new order, charged at once."</p>
                <form method="post" action=format!("/merchant/orders/{id}/charge") class="inline">
                    <input type="hidden" name="amount" value=major/>
                    <input type="hidden" name="description" value=description/>
                    <input type="hidden" name="key" value=key/>
                    <input type="hidden" name="confirmed" value="yes"/>
                    <button type="submit" class="primary">"Confirm charge"</button>
                </form>
                " "<a href=format!("/merchant/orders/{id}")>"Cancel"</a>
            </section>
        },
    )
}

fn result_banner(a: &Attempt, currency: Currency) -> impl IntoView + use<> {
    let amount = money(a.amount_minor, currency.code());
    let what = format!("{} of {amount}", capitalized(&a.kind));
    let (class, text) = match a.status.as_str() {
        "succeeded" => ("notice ok", format!("{what} done: the provider approved it.")),
        "declined" | "failed" => (
            "notice bad",
            format!(
                "{what} was refused by the provider: {}",
                a.message.clone().unwrap_or_else(|| "no reason given".into())
            ),
        ),
        _ => (
            "notice wait",
            format!("{what}: no answer from the provider yet. It is confirmed automatically and never sent twice."),
        ),
    };
    view! { <p role="status" class=class data-testid="action-result">{text}</p> }
}

pub fn order_detail(user: &MerchantUser, d: &OrderDetail, result: Option<&Attempt>, error: Option<&str>) -> String {
    let o = d.order.clone();
    let currency = o.amount.currency();
    let m = |minor: i64| money(minor, currency.code());
    let remaining = match o.status {
        PaymentStatus::Authorized => format!("{} authorized, not captured", o.amount),
        _ => m(o.captured.minor() - o.refunded.minor()),
    };
    // The order's liability is its last answer's, as stored.
    let reasons = match d.threeds.last() {
        Some(last) => threeds::liability(last, o.card.as_ref().map(|c| c.brand)),
        None => "3-D Secure was not performed for this order.".to_owned(),
    };
    let card = o
        .card
        .as_ref()
        .map_or("–".to_owned(), |c| format!("{} (expires {:02}/{})", c.label(), c.expiry_month, c.expiry_year));
    let banner = result.map(|a| result_banner(a, currency));
    let error = error.map(str::to_owned);
    let forms = action_forms(&o);
    let saved = d.credential.as_ref().map(|c| saved_card_panel(&o, c));
    let threeds = (!d.threeds.is_empty()).then(|| {
        view! {
            {threeds_answers(&o, &d.threeds)}
            <details class="stored">
                <summary>"Every stored field"</summary>
                {threeds_table(d.threeds.clone())}
            </details>
        }
    });
    let context = timeline::Context { currency, attempts: &d.attempts };
    let events: Vec<_> =
        d.events.iter().map(|e| (e.clone(), timeline::describe(&e.kind, &e.details, &context))).collect();
    let attempts = d.attempts.clone();
    let title = format!("Order {}", o.merchant_reference);
    document(
        &title.clone(),
        Some(user),
        view! {
            <p><a href="/merchant/orders">"← All orders"</a></p>
            <h1>{title}" "{status_badge(o.status.as_str())}</h1>
            {banner}
            {error.map(|e| view! { <p role="alert" class="alert">{e}</p> })}
            <div class="detail-grid">
                <section class="panel" aria-labelledby="amounts">
                    <h2 id="amounts">"Amounts"</h2>
                    <dl>
                        <dt>"Amount"</dt><dd data-testid="amount">{o.amount.to_string()}</dd>
                        <dt>"Captured"</dt><dd data-testid="captured">{o.captured.to_string()}</dd>
                        <dt>"Refunded"</dt><dd data-testid="refunded">{o.refunded.to_string()}</dd>
                        <dt>"Remaining"</dt><dd data-testid="remaining">{remaining}</dd>
                        <dt>"Mode"</dt><dd>{if o.capture_mode.as_str() == "sale" { "Sale" } else { "Pre-authorization" }}</dd>
                        <dt>"Provider"</dt><dd>{o.provider.as_str()}</dd>
                    </dl>
                    <div class="actions">{forms}</div>
                </section>
                <section class="panel" aria-labelledby="customer">
                    <h2 id="customer">"Customer"</h2>
                    <dl>
                        <dt>"Order id"</dt><dd><code>{o.id.clone()}</code></dd>
                        <dt>"Created"</dt><dd>{clock::format_time(o.created_at)}</dd>
                        <dt>"Email"</dt><dd>{o.billing.email.clone()}</dd>
                        <dt>"Name"</dt><dd>{format!("{} {}", o.billing.first_name, o.billing.last_name)}</dd>
                        <dt>"Address"</dt><dd>{format!("{}, {}, {}", o.billing.address_1, o.billing.city, o.billing.country)}</dd>
                        <dt>"Card"</dt><dd data-testid="card">{card}</dd>
                        <dt>"Outcome"</dt><dd>{o.outcome_reason.clone().unwrap_or_else(|| "–".into())}</dd>
                    </dl>
                </section>
            </div>
            {saved}
            <section class="panel" aria-labelledby="threeds">
                <h2 id="threeds">"3-D Secure"</h2>
                <p>"Liability: "{liability_badge(o.liability_shifted)}</p>
                <p data-testid="liability-reasons">{reasons}</p>
                {threeds}
            </section>
            <section class="panel" aria-labelledby="attempts">
                <h2 id="attempts">"Payment calls"</h2>
                <table class="attempts">
                    <thead><tr><th scope="col">"When"</th><th scope="col">"Kind"</th><th scope="col" class="num">"Amount"</th>
                        <th scope="col">"Result"</th><th scope="col">"Provider transaction"</th><th scope="col">"Message"</th></tr></thead>
                    <tbody>{attempts.into_iter().map(|a| view! {
                        <tr>
                            <td>{clock::format_time(a.created_at)}</td>
                            <td>{a.kind.clone()}</td>
                            <td class="num">{m(a.amount_minor)}</td>
                            <td>{a.status.clone()}</td>
                            <td><code>{a.provider_transaction_id.clone().unwrap_or_default()}</code></td>
                            <td>{a.message.clone().unwrap_or_default()}</td>
                        </tr>
                    }).collect_view()}</tbody>
                </table>
            </section>
            <section class="panel" aria-labelledby="timeline">
                <h2 id="timeline">"Timeline"</h2>
                <ol class="timeline" data-testid="timeline">
                    {events.into_iter().map(|(e, line)| view! {
                        <li data-kind=e.kind.clone()>
                            <time>{clock::format_time(e.created_at)}</time>
                            <p class="what">{line}</p>
                            <details>
                                <summary>{format!("{} · details as stored", capitalized(&e.kind.replace('_', " ")))}</summary>
                                <pre>{serde_json::to_string_pretty(&e.details).unwrap_or_default()}</pre>
                            </details>
                        </li>
                    }).collect_view()}
                </ol>
            </section>
        },
    )
}

pub fn confirm(user: &MerchantUser, order: &Order, action: Action, amount: Money, key: &str) -> String {
    let id = order.id.clone();
    let card = order.card.as_ref().map_or("the card".to_owned(), |c| c.label());
    let question = match action {
        Action::Refund => format!("Refund {amount} to {card}?"),
        Action::Capture => format!("Capture {amount} of the {} authorized on {card}?", order.amount),
        Action::Void => format!("Void the authorization of {} on {card}? The funds are released.", order.amount),
    };
    let (name, key, major) = (actions::kind_of(action).as_str(), key.to_owned(), amount.major_string());
    let title = format!("{} order {}", verb(action), order.merchant_reference);
    document(
        &title.clone(),
        Some(user),
        view! {
            <section class="panel narrow" aria-labelledby="confirm-title">
                <h1 id="confirm-title">{title}</h1>
                <p data-testid="confirm-question">{question}</p>
                <p>"This cannot be undone."</p>
                <form method="post" action=format!("/merchant/orders/{id}/actions") class="inline">
                    <input type="hidden" name="action" value=name/>
                    <input type="hidden" name="amount" value=major/>
                    <input type="hidden" name="key" value=key/>
                    <input type="hidden" name="confirmed" value="yes"/>
                    <button type="submit" class="primary">{format!("Confirm {}", name)}</button>
                </form>
                " "<a href=format!("/merchant/orders/{id}")>"Cancel"</a>
            </section>
        },
    )
}
