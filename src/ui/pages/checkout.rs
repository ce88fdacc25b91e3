//! The checkout: order summary, card and billing form, 3-D Secure (frictionless, the authenticator's challenge or
//! the bank's page, both in the page's own modal), then the result page. The card number and CVV never reach our
//! server: typed into our inputs (which have no `name`), only ciphertext and the acquirer's single-use token are
//! sent; typed into the acquirer's own fields, they never enter this page at all. Only `CheckoutForm` runs in the
//! browser (an island), following the start's browser plan; the page around it is rendered on the server.

use crate::api::checkout::{CheckoutFnError, complete_challenge, place_order, start_checkout};
use crate::api::saved_cards::list_cards;
use crate::domain::{
    card::{CardBrand, CardNumber, CardSummary, Cvv, Expiry},
    catalog::{CartLine, PRODUCTS, Quote, cart_to_string},
    checkout::{BrowserPlan, CardPlan, CheckoutStart, NextStep, PlaceOrderInput, TestCard},
    customer::{BillingDetails, FieldError},
    saved_card::{SavedCardPayment, SavedCardsNotice, SavedShopper},
};
use crate::ui::{bridge, hydrated};
use leptos::either::{Either, EitherOf3};
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_meta::{Meta, Script, Title};
use leptos_router::hooks::use_query_map;

pub const COUNTRIES: [(&str, &str); 14] = [
    ("GB", "United Kingdom"),
    ("US", "United States"),
    ("CA", "Canada"),
    ("IE", "Ireland"),
    ("DE", "Germany"),
    ("FR", "France"),
    ("NL", "Netherlands"),
    ("ES", "Spain"),
    ("IT", "Italy"),
    ("PT", "Portugal"),
    ("SE", "Sweden"),
    ("AU", "Australia"),
    ("NZ", "New Zealand"),
    ("JP", "Japan"),
];

#[component]
pub fn CheckoutPage() -> impl IntoView {
    let query = use_query_map();
    // The shop's form puts quantities in the URL: /checkout?tee=2&mug=1.
    let cart = move || {
        let q = query.read();
        let lines: Vec<CartLine> = PRODUCTS
            .iter()
            .filter_map(|p| {
                q.get(p.sku)
                    .and_then(|v| v.parse::<u32>().ok())
                    .filter(|n| *n > 0)
                    .map(|n| CartLine { sku: p.sku.into(), quantity: n })
            })
            .collect();
        cart_to_string(&lines)
    };
    // An empty cart needs no server: nothing to start.
    let start =
        Resource::new(
            cart,
            |cart| async move { if cart.is_empty() { None } else { Some(start_checkout(cart).await) } },
        );
    view! {
        <Title text="Checkout"/>
        <h1>"Checkout"</h1>
        <Suspense fallback=|| view! { <p>"Preparing your checkout…"</p> }>
            {move || Suspend::new(async move {
                match start.await {
                    Some(Ok(s)) => {
                        // A shopper whose email a code confirmed: their saved cards, for the picker.
                        let shopper = if s.saved_cards { list_cards().await.ok() } else { None };
                        let (notice, awaiting) = query.with_untracked(|q| {
                            (q.get("saved").and_then(|w| SavedCardsNotice::parse(&w)), q.get("saved_email"))
                        });
                        EitherOf3::A(view! {
                        // The SDK's set-up in <head>, before checkout.js: the script starts it as soon as it runs,
                        // while the page is still parsed and long before the form has hydrated.
                        {s.plan.sdk.as_ref().map(|sdk| view! {
                            <Meta name="checkout-sdk-url" content=sdk.url.clone()/>
                            <Meta name="checkout-sdk-jwt" content=sdk.jwt.clone()/>
                        })}
                        // It loads the provider scripts itself when the form needs them.
                        <Script src="/checkout.js"/>
                        <TestCards cards=s.test_cards.clone()/>
                        <div class="checkout">
                            <OrderSummary quote=s.quote.clone()/>
                            <div class="pay-column">
                                {s.saved_cards.then(|| view! {
                                    <SavedCards cart=cart() shopper=shopper.clone() notice awaiting/>
                                })}
                                <CheckoutForm
                                    plan=s.plan.clone() checkout_key=s.checkout_key.clone() pay_label=pay_label(&s) cart=cart()
                                    saved_cards=s.saved_cards
                                    shopper_email=shopper.as_ref().map(|s| s.email.clone()).unwrap_or_default()
                                    cards=shopper.iter().flat_map(|s| &s.cards).map(|c| (c.id.clone(), c.label())).collect()
                                />
                            </div>
                        </div>
                        })
                    }
                    None | Some(Err(CheckoutFnError::Invalid(_))) => EitherOf3::B(view! {
                        <p>"Your cart is empty."</p>
                        <p><a href="/shop">"Choose something in the shop"</a></p>
                    }),
                    Some(Err(e)) => EitherOf3::C(view! { <p class="alert" role="alert">{e.to_string()}</p> }),
                }
            })}
        </Suspense>
    }
}

/// "Pay CAD 24.00", or "Authorize …" when the payment is only held.
fn pay_label(start: &CheckoutStart) -> String {
    let verb = if start.pre_auth { "Authorize" } else { "Pay" };
    format!("{verb} {}", start.quote.total)
}

/// What the shopper buys, as the server priced it (server HTML).
#[component]
fn OrderSummary(quote: Quote) -> impl IntoView {
    view! {
        <section class="summary" aria-labelledby="summary-title">
            <h2 id="summary-title">"Your order"</h2>
            <ul>
                {quote.lines.into_iter().map(|l| view! {
                    <li><span>{format!("{} × {}", l.quantity, l.name)}</span><span>{l.total.to_string()}</span></li>
                }).collect_view()}
            </ul>
            <p class="total"><span>"Total"</span><strong data-testid="total">{quote.total.to_string()}</strong></p>
        </section>
    }
}

/// In sandbox mode, the configured providers' test cards, folded: what a provider's test mode would show.
/// Server HTML only; in live mode the list is empty and nothing is rendered.
#[component]
fn TestCards(cards: Vec<TestCard>) -> impl IntoView {
    (!cards.is_empty()).then(|| {
        view! {
            <details class="test-cards">
                <summary>"Test cards (sandbox: no real money moves)"</summary>
                <p>"Any future expiry date and any security code."</p>
                <table>
                    <thead><tr><th scope="col">"Card number"</th><th scope="col">"What it does"</th></tr></thead>
                    <tbody>
                        {cards.into_iter().map(|c| view! { <tr><td><code>{c.number}</code></td><td>{c.does}</td></tr> }).collect_view()}
                    </tbody>
                </table>
            </details>
        }
    })
}

/// Saved cards as plain forms (server HTML, answered by `server::saved_card_forms`), so the wasm holds none of
/// it: the email, the code sent to it, and a form per saved card that its Remove button in the picker posts.
#[component]
fn SavedCards(
    cart: String,
    shopper: Option<SavedShopper>,
    notice: Option<SavedCardsNotice>,
    /// The email a code was just sent to: the page asks for that code.
    awaiting: Option<String>,
) -> impl IntoView {
    let email = awaiting.clone().or_else(|| shopper.as_ref().map(|s| s.email.clone()));
    let cart_field = move || view! { <input type="hidden" name="cart" value=cart.clone()/> };
    view! {
        <section class="saved-cards" id="saved-cards" aria-labelledby="saved-cards-title">
            <h2 id="saved-cards-title">"Saved cards"</h2>
            <form method="post" action="/checkout/saved-cards/code">
                {cart_field()}
                <div class="field">
                    <label for="saved_email">"Your e-mail for saved cards"</label>
                    <input id="saved_email" name="email" type="email" autocomplete="email" value=email/>
                </div>
                <button type="submit">"Send me a code"</button>
            </form>
            {awaiting.map(|email| view! {
                <form method="post" action="/checkout/saved-cards/confirm">
                    {cart_field()}
                    <input type="hidden" name="email" value=email/>
                    <div class="field">
                        <label for="saved_code">"Code we sent you"</label>
                        <input id="saved_code" name="code" inputmode="numeric" autocomplete="one-time-code" maxlength="6"/>
                    </div>
                    <button type="submit">"Confirm"</button>
                </form>
            })}
            {notice.map(|n| view! { <p class="status" class:alert=n.is_problem() role="status">{n.message()}</p> })}
            {shopper.map(|s| s.cards.into_iter().map(|c| {
                let form_id = remove_form(&c.id);
                view! {
                    <form id=form_id method="post" action="/checkout/saved-cards/remove" hidden>
                        {cart_field()}
                        <input type="hidden" name="card_id" value=c.id/>
                    </form>
                }
            }).collect_view())}
        </section>
    }
}

/// The id of the form that removes a saved card (its button sits in the island's picker).
fn remove_form(card_id: &str) -> String {
    format!("remove-card-{card_id}")
}

/// Groups the digits as printed on the card: 4-6-5 for Amex, blocks of four otherwise.
fn format_card(digits: &str) -> String {
    let groups: &[usize] =
        if CardBrand::from_prefix(digits) == Some(CardBrand::Amex) { &[4, 6, 5] } else { &[4, 4, 4, 4, 3] };
    let mut out = String::new();
    let mut rest = digits;
    for g in groups {
        if rest.is_empty() {
            break;
        }
        let (head, tail) = rest.split_at((*g).min(rest.len()));
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(head);
        rest = tail;
    }
    out
}

fn digits(s: &str) -> String {
    s.chars().filter(char::is_ascii_digit).collect()
}

/// The only island of the app: the one part of any page that runs in the browser. Its props travel in the
/// HTML (`data-props`), so they are serializable and few (the summary around it is server HTML). It follows
/// the start's browser plan and names no provider.
#[island]
fn CheckoutForm(
    plan: BrowserPlan,
    checkout_key: String,
    pay_label: String,
    cart: String,
    saved_cards: bool,
    /// The confirmed shopper's email, empty if none.
    shopper_email: String,
    /// The confirmed shopper's saved cards as (id, label): labelled on the server, so the wasm neither reads
    /// nor formats a card.
    cards: Vec<(String, String)>,
) -> impl IntoView {
    let field = || RwSignal::new(String::new());
    let (card_number, expiry, cvv, holder) = (field(), field(), field(), field());
    let (first_name, last_name, address, city) = (field(), field(), field(), field());
    let country = RwSignal::new("GB".to_owned());
    // Few fields, so a list: a map would add hashing code to the wasm.
    let errors = RwSignal::new(Vec::<FieldError>::new());
    let message = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let own_fields = matches!(plan.card, CardPlan::Fields { .. });
    // The authenticator's SDK session, or the acquirer's fields mounted.
    let ready = RwSignal::new(None::<String>);
    // The form is live (hydrated) and its set-up has not failed. Our own inputs take the card from then on: the
    // SDK's session, set up since the page loaded, is awaited when the form is submitted if it is not ready by
    // then, so the Pay button does not wait for it. The acquirer's fields must be mounted first.
    let (live, broken) = (RwSignal::new(false), RwSignal::new(false));
    let can_pay = move || live.get() && !broken.get() && (!own_fields || ready.get().is_some());
    let modal = RwSignal::new(Modal::Closed);
    let brand = Memo::new(move |_| CardBrand::from_prefix(&digits(&card_number.get())));
    // Saved cards: "save this card", or pay with one of the confirmed shopper's cards (the first at first).
    let save_card = RwSignal::new(false);
    let chosen = RwSignal::new(cards.first().map(|(id, _)| id.clone()));
    // The order must be in the confirmed email's name.
    let email = RwSignal::new(shopper_email);
    // Effects run once the island has hydrated: the page is live (see `ui::hydrated`).
    Effect::new(move |_| {
        live.set(true);
        hydrated::mark();
    });

    // The authenticator's SDK, or the acquirer's card fields, once the page is live in the browser.
    let setup = plan.clone();
    Effect::new(move |_| {
        let setup = setup.clone();
        spawn_local(async move {
            let answer = match (&setup.sdk, &setup.card) {
                (Some(sdk), _) => bridge::setup(&sdk.url, &sdk.jwt).await,
                (None, CardPlan::Fields { script_url }) => bridge::fields(script_url).await,
                (None, _) => Ok(String::new()),
            };
            match answer {
                Ok(session) => ready.set(Some(session)),
                Err(e) => {
                    broken.set(true);
                    message.set(Some(not_started(&e)));
                }
            }
        });
    });
    // BIN detection: the first nine digits, again whenever they change.
    let last_bin = StoredValue::new(String::new());
    let detects_bin = plan.sdk.is_some();
    Effect::new(move |_| {
        let d = digits(&card_number.get());
        if detects_bin && d.len() >= 9 && ready.get().is_some() && d[..9] != last_bin.get_value() {
            last_bin.set_value(d[..9].to_owned());
            let bin = d[..9].to_owned();
            spawn_local(async move {
                let _ = bridge::bin(&bin).await;
            });
        }
    });

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return; // a double click does nothing twice
        }
        let billing = BillingDetails {
            first_name: first_name.get_untracked(),
            last_name: last_name.get_untracked(),
            address_1: address.get_untracked(),
            city: city.get_untracked(),
            country: country.get_untracked(),
            email: email.get_untracked(),
        };
        let mut found: Vec<FieldError> = Vec::new();
        let using = chosen.get_untracked();
        // The acquirer's own fields check themselves; ours are checked here and again on the server. A saved
        // card needs its security code only.
        let typed = (!own_fields && using.is_none()).then(|| typed_card(&card_number, &expiry, &cvv, &mut found));
        let code_typed = cvv.get_untracked().trim().to_owned();
        let code_ok = (3..=4).contains(&code_typed.len()) && code_typed.bytes().all(|b| b.is_ascii_digit());
        if using.is_some() && !code_ok {
            found.push(FieldError::new("cvv", "enter the card's security code"));
        }
        if holder.get_untracked().trim().is_empty() {
            found.push(FieldError::new("holder", "enter the name on the card"));
        }
        let billing = billing.validated().map_err(|e| found.extend(e)).ok();
        let valid = found.is_empty();
        errors.set(found);
        let (Some(billing), true) = (billing, valid) else {
            message.set(Some("Please correct the highlighted fields.".into()));
            return;
        };
        let session = ready.get_untracked();
        if own_fields && session.is_none() {
            message.set(Some("The payment form is still starting; try again in a moment.".into()));
            return;
        }
        busy.set(true);
        message.set(Some("Securing your card details…".into()));
        let mut input = PlaceOrderInput {
            checkout_key: checkout_key.clone(),
            cart: cart.clone(),
            billing,
            card: CardSummary {
                brand: CardBrand::Visa,
                bin6: None,
                last4: String::new(),
                expiry_month: 0,
                expiry_year: 0,
            },
            session_id: String::new(),
            encrypted_card: String::new(),
            card_token: None,
            browser: None,
            save_card: using.is_none() && save_card.get_untracked(),
            saved_card: None,
        };
        let (plan, holder) = (plan.clone(), holder.get_untracked().trim().to_owned());
        spawn_local(async move {
            let outcome = async {
                input.session_id = match (session, &plan.sdk) {
                    (Some(session), _) => session,
                    // The same set-up the page started, awaited until it is done.
                    (None, Some(sdk)) => bridge::setup(&sdk.url, &sdk.jwt)
                        .await
                        .map_err(|e| CheckoutFnError::Conflict(not_started(&e)))?,
                    (None, None) => String::new(),
                };
                let input = match using {
                    Some(card_id) => with_saved_card(input, &plan, card_id, &code_typed).await?,
                    None => prepare(input, &plan, typed.flatten(), &holder).await?,
                };
                message.set(Some("Checking with your bank…".into()));
                pay(input, modal, message).await
            };
            match outcome.await {
                Ok(order_id) => {
                    message.set(Some("Done. Showing your receipt…".into()));
                    let _ = window().location().set_href(&format!("/checkout/{order_id}"));
                }
                Err(CheckoutFnError::Invalid(fields)) => {
                    errors.set(fields);
                    message.set(Some("Please correct the highlighted fields.".into()));
                    busy.set(false);
                }
                Err(e) => {
                    message.set(Some(e.to_string()));
                    busy.set(false);
                }
            }
        });
    };

    let error_of = move |name: &'static str| {
        Signal::derive(move || errors.with(|e| e.iter().find(|e| e.field == name).map(|e| e.message.clone())))
    };
    let brand_shown = move || brand.get().map(|b| b.display_name()).unwrap_or("");
    let card_inputs = if own_fields {
        // The acquirer's iframes hold the card: its number, expiry and code never enter this page.
        Either::Left(view! {
            <div class="field">
                <span class="label" id="cc-number-label">"Card number"</span>
                <div id="cc-number" class="provider-field" aria-labelledby="cc-number-label"></div>
                <span id="card-brand" class="card-brand" aria-live="polite"></span>
            </div>
            <div class="row">
                <div class="field">
                    <span class="label" id="cc-expiry-label">"Expiry (MM/YY)"</span>
                    <div id="cc-expiry" class="provider-field" aria-labelledby="cc-expiry-label"></div>
                </div>
                <div class="field">
                    <span class="label" id="cc-cvv-label">"Security code"</span>
                    <div id="cc-cvv" class="provider-field" aria-labelledby="cc-cvv-label"></div>
                </div>
            </div>
        })
    } else {
        let new_card = move || chosen.get().is_some();
        Either::Right(view! {
            <div hidden=new_card>
            {labelled("Card number", "card_number", error_of("card_number"), view! {
                <input id="card_number" inputmode="numeric" autocomplete="cc-number" maxlength="23"
                    aria-describedby="card_number-error card-brand"
                    prop:value=move || card_number.get()
                    on:input=move |ev| {
                        let d = digits(&event_target_value(&ev));
                        card_number.set(format_card(&d[..d.len().min(19)]));
                    }/>
                <span id="card-brand" class="card-brand" aria-live="polite">{brand_shown}</span>
            })}
            </div>
            <div class="row">
                <div hidden=new_card>
                {text_field("Expiry (MM/YY)", "expiry", Input { placeholder: Some("MM/YY"), maxlength: Some("7"), ..Input::digits("cc-exp") }, expiry, error_of("expiry"))}
                </div>
                {text_field("Security code", "cvv", Input { maxlength: Some("4"), ..Input::digits("cc-csc") }, cvv, error_of("cvv"))}
            </div>
        })
    };
    view! {
        <form class="pay-form" on:submit=submit novalidate>
            <fieldset>
                <legend>"Card"</legend>
                {(!cards.is_empty()).then(|| view! {
                    <div role="radiogroup" aria-label="Pay with" class="saved-card-picker">
                        {cards.into_iter().enumerate().map(|(i, (id, label))| {
                            let form = remove_form(&id);
                            view! {
                                <div class="saved-card">
                                    // `checked` in the HTML: the server's page shows the first chosen before any wasm.
                                    <label>
                                        <input type="radio" name="saved_card" checked=i == 0
                                            on:change=move |_| chosen.set(Some(id.clone()))/>
                                        {label.clone()}
                                    </label>
                                    // Submits the server-rendered form outside this one (see `SavedCards`).
                                    <button type="submit" form=form class="link" aria-label=format!("Remove {label}")>"Remove"</button>
                                </div>
                            }
                        }).collect_view()}
                        <label>
                            <input type="radio" name="saved_card" on:change=move |_| chosen.set(None)/>
                            "A new card"
                        </label>
                    </div>
                })}
                {card_inputs}
                {text_field("Name on card", "holder", Input::text("cc-name"), holder, error_of("holder"))}
                {(saved_cards && !own_fields).then(|| view! {
                    <label class="check" hidden=move || chosen.get().is_some()>
                        <input type="checkbox" bind:checked=save_card/>
                        "Save this card for next time"
                    </label>
                })}
            </fieldset>
            <fieldset>
                <legend>"Billing"</legend>
                <div class="row">
                    {text_field("First name", "first_name", Input::billing("first_name", "given-name"), first_name, error_of("first_name"))}
                    {text_field("Last name", "last_name", Input::billing("last_name", "family-name"), last_name, error_of("last_name"))}
                </div>
                {text_field("Address", "address_1", Input::billing("address_1", "address-line1"), address, error_of("address_1"))}
                <div class="row">
                    {text_field("City", "city", Input::billing("city", "address-level2"), city, error_of("city"))}
                    {labelled("Country", "country", error_of("country"), view! {
                        <select id="country" name="country" autocomplete="country" bind:value=country>
                            {COUNTRIES.iter().map(|(code, name)| view! { <option value=*code>{*name}</option> }).collect_view()}
                        </select>
                    })}
                </div>
                {text_field("Email", "email", Input { kind: Some("email"), ..Input::billing("email", "email") }, email, error_of("email"))}
            </fieldset>
            <p class="status" role="status" aria-live="polite">{move || message.get()}</p>
            <button type="submit" class="pay" disabled=move || busy.get() || !can_pay()>
                {move || if busy.get() { "Processing…".to_owned() } else { pay_label.clone() }}
            </button>
        </form>
        <div class="modal-backdrop" hidden=move || modal.get() == Modal::Closed>
            <div class="modal" role="dialog" aria-modal="true" aria-labelledby="challenge-title">
                <h2 id="challenge-title">"Confirm the payment with your bank"</h2>
                <p>"Your bank asks you to confirm this payment. Keep this page open."</p>
                <div id="challenge-host"></div>
                {move || match modal.get() {
                    // Should the bank's page not show in the frame, it opens in this window instead.
                    Modal::Bank(url) => Some(view! { <p class="fallback"><a href=url>"Open your bank's page in this window"</a></p> }),
                    _ => None,
                }}
            </div>
        </div>
    }
}

fn not_started(e: &str) -> String {
    format!("The payment form could not start ({e}). Reload the page.")
}

/// What the modal shows: nothing, the authenticator's challenge, or the bank's page (our page at this URL).
#[derive(Clone, Debug, PartialEq, Eq)]
enum Modal {
    Closed,
    Challenge,
    Bank(String),
}

/// The card as typed into our own inputs, checked; its errors are added to `found`.
fn typed_card(
    number: &RwSignal<String>,
    expiry: &RwSignal<String>,
    cvv: &RwSignal<String>,
    found: &mut Vec<FieldError>,
) -> Option<(CardNumber, Expiry, String)> {
    let card = CardNumber::parse(&number.get_untracked())
        .map_err(|e| found.push(FieldError::new("card_number", e.to_string())));
    let exp = Expiry::parse(&expiry.get_untracked(), bridge::today())
        .map_err(|e| found.push(FieldError::new("expiry", e.to_string())));
    let cvv = cvv.get_untracked().trim().to_owned();
    if let Ok(c) = &card
        && let Err(e) = Cvv::parse(&cvv, c.brand())
    {
        found.push(FieldError::new("cvv", format!("{e} ({} digits)", c.brand().cvv_len())));
    }
    Some((card.ok()?, exp.ok()?, cvv))
}

/// What the encryption script takes (it adds `captureTime`). Lives only in the browser.
#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct PlainCard<'a> {
    card_number: &'a str,
    expiry_month: String,
    expiry_year: String,
    cvv: &'a str,
    cardholder_name: &'a str,
}

/// What an acquirer's tokenization endpoint takes (two-digit month and year). Lives only in the browser.
#[derive(serde::Serialize)]
struct TokenCard<'a> {
    number: &'a str,
    expiry_month: String,
    expiry_year: String,
    cvd: &'a str,
}

/// Prepares the card as the plan says (encrypted, tokenized, or both) and reads the browser if asked.
async fn prepare(
    mut input: PlaceOrderInput,
    plan: &BrowserPlan,
    typed: Option<(CardNumber, Expiry, String)>,
    holder: &str,
) -> Result<PlaceOrderInput, CheckoutFnError> {
    let failed = |e: String| CheckoutFnError::Conflict(format!("Your card could not be secured ({e}). Try again."));
    match (&plan.card, typed) {
        (CardPlan::Fields { .. }, _) => {
            let t = bridge::tokenize().await.map_err(failed)?;
            let brand = CardBrand::parse(&t.brand).ok_or_else(|| failed("this card brand is not accepted".into()))?;
            let number = |s: &str| s.parse().map_err(|_| failed("its expiry could not be read".into()));
            input.card = CardSummary {
                brand,
                bin6: None,
                last4: t.last4,
                expiry_month: number(&t.expiry_month)?,
                expiry_year: 2000 + number(&t.expiry_year)? as u16,
            };
            input.card_token = Some(t.token);
        }
        (
            CardPlan::Encrypt { script_url, key } | CardPlan::EncryptAndTokenize { script_url, key, .. },
            Some((card, exp, cvv)),
        ) => {
            let plain = PlainCard {
                card_number: card.expose(),
                expiry_month: format!("{:02}", exp.month()),
                expiry_year: exp.year().to_string(),
                cvv: &cvv,
                cardholder_name: holder,
            };
            let plain = serde_json::to_string(&plain).unwrap_or_default();
            input.encrypted_card = bridge::encrypt(script_url, &plain, key).await.map_err(failed)?;
            if let CardPlan::EncryptAndTokenize { tokenize_url, .. } = &plan.card {
                let token = TokenCard {
                    number: card.expose(),
                    expiry_month: format!("{:02}", exp.month()),
                    expiry_year: format!("{:02}", exp.year() % 100),
                    cvd: &cvv,
                };
                let token = serde_json::to_string(&token).unwrap_or_default();
                input.card_token = Some(bridge::tokenize_card(tokenize_url, &token).await.map_err(failed)?);
            }
            input.card = CardSummary::of(&card, exp);
        }
        (_, None) => return Err(CheckoutFnError::Invalid(Vec::new())),
    }
    if plan.browser_data {
        input.browser = bridge::browser_info();
    }
    Ok(input)
}

/// Pays with a saved card: only its security code is typed again, encrypted to the acquirer's key like a
/// card (the server reads neither).
async fn with_saved_card(
    mut input: PlaceOrderInput,
    plan: &BrowserPlan,
    card_id: String,
    cvv: &str,
) -> Result<PlaceOrderInput, CheckoutFnError> {
    let failed = |e: String| CheckoutFnError::Conflict(format!("Your card could not be secured ({e}). Try again."));
    let (CardPlan::Encrypt { script_url, key } | CardPlan::EncryptAndTokenize { script_url, key, .. }) = &plan.card
    else {
        return Err(failed("saved cards need the card's encryption".into()));
    };
    // A typed struct, not `json!`: `serde_json::Value` would add its code to the wasm bundle.
    #[derive(serde::Serialize)]
    struct PlainCvv<'a> {
        cvv: &'a str,
    }
    let plain = serde_json::to_string(&PlainCvv { cvv }).unwrap_or_default();
    let encrypted_cvv = bridge::encrypt(script_url, &plain, key).await.map_err(failed)?;
    input.saved_card = Some(SavedCardPayment { card_id, encrypted_cvv });
    Ok(input)
}

/// Places the order and does what the server says next (the authenticator's challenge, or the bank's page);
/// the order id when done.
async fn pay(
    input: PlaceOrderInput,
    modal: RwSignal<Modal>,
    message: RwSignal<Option<String>>,
) -> Result<String, CheckoutFnError> {
    let bank_failed = |e: String| CheckoutFnError::Conflict(format!("The bank's page failed ({e})."));
    match place_order(input).await? {
        NextStep::Done { order_id } => Ok(order_id),
        NextStep::Challenge { order_id, acs_url, payload, transaction_id } => {
            modal.set(Modal::Challenge);
            message.set(Some("Waiting for your bank's confirmation…".into()));
            let result = bridge::challenge(&acs_url, &payload, &transaction_id).await;
            modal.set(Modal::Closed);
            // The JWT of `payments.validated`, which the server has the 3DS service verify.
            let jwt = result.map_err(bank_failed)?;
            message.set(Some("Finishing your payment…".into()));
            match complete_challenge(order_id.clone(), jwt).await? {
                NextStep::Done { order_id }
                | NextStep::Challenge { order_id, .. }
                | NextStep::Redirect { order_id, .. } => Ok(order_id),
            }
        }
        // The bank sends the frame back to our result page: the order has moved on by then.
        NextStep::Redirect { order_id, url } => {
            modal.set(Modal::Bank(url.clone()));
            message.set(Some("Waiting for your bank's confirmation…".into()));
            bridge::bank(&url).await.map_err(bank_failed)?;
            Ok(order_id)
        }
    }
}

/// What differs between the form's text inputs. They are all rendered by `text_field`, so the wasm holds one
/// copy of that code instead of one per field (each distinct view is its own generic instantiation).
#[derive(Clone, Copy)]
struct Input {
    /// Billing fields have a name; the card's never do (see the module's comment).
    name: Option<&'static str>,
    kind: Option<&'static str>,
    inputmode: Option<&'static str>,
    autocomplete: &'static str,
    maxlength: Option<&'static str>,
    placeholder: Option<&'static str>,
}

impl Input {
    fn text(autocomplete: &'static str) -> Input {
        Input { name: None, kind: None, inputmode: None, autocomplete, maxlength: None, placeholder: None }
    }

    fn digits(autocomplete: &'static str) -> Input {
        Input { inputmode: Some("numeric"), ..Input::text(autocomplete) }
    }

    fn billing(name: &'static str, autocomplete: &'static str) -> Input {
        Input { name: Some(name), ..Input::text(autocomplete) }
    }
}

/// A labelled text input bound to `value`, with its inline error.
fn text_field(
    label: &'static str,
    id: &'static str,
    input: Input,
    value: RwSignal<String>,
    error: Signal<Option<String>>,
) -> impl IntoView {
    let Input { name, kind, inputmode, autocomplete, maxlength, placeholder } = input;
    labelled(
        label,
        id,
        error,
        view! {
            <input id=id name=name type=kind inputmode=inputmode autocomplete=autocomplete maxlength=maxlength
                placeholder=placeholder bind:value=value/>
        },
    )
}

/// A labelled form field with its inline error.
fn labelled(
    label: &'static str,
    id: &'static str,
    error: Signal<Option<String>>,
    input: impl IntoView,
) -> impl IntoView {
    let error_id = format!("{id}-error");
    view! {
        <div class="field" class:invalid=move || error.read().is_some()>
            <label for=id>{label}</label>
            {input}
            <p class="field-error" id=error_id>{move || error.get()}</p>
        </div>
    }
}
