//! The checkout: order summary, card and billing form, 3-D Secure (frictionless, or a challenge in the
//! page's own modal), then the result page. The card number and CVV never leave the browser unencrypted:
//! their inputs have no `name`, and only verifone.js's ciphertext is sent to our server. Only `CheckoutForm`
//! runs in the browser (an island); the page around it is rendered on the server.

use crate::api::checkout::{CheckoutFnError, complete_challenge, place_order, start_checkout};
use crate::domain::{
    card::{CardBrand, CardNumber, CardSummary, Cvv, Expiry},
    catalog::{CartLine, PRODUCTS, cart_to_string},
    checkout::{CheckoutStart, NextStep, PlaceOrderInput},
    customer::{BillingDetails, FieldError},
};
use crate::ui::{bridge, hydrated};
use leptos::either::EitherOf3;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_meta::{Script, Title};
use leptos_router::hooks::use_query_map;
use std::collections::HashMap;

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
        // In <head> from the first byte: it loads the provider scripts itself when the form needs them.
        <Script src="/checkout.js"/>
        <h1>"Checkout"</h1>
        <Suspense fallback=|| view! { <p>"Preparing your checkout…"</p> }>
            {move || Suspend::new(async move {
                match start.await {
                    Some(Ok(s)) => EitherOf3::A(view! { <CheckoutForm start=s cart=cart()/> }),
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
/// HTML (`data-props`), so they are serializable; the rest of the checkout page is server HTML.
#[island]
fn CheckoutForm(start: CheckoutStart, cart: String) -> impl IntoView {
    let field = || RwSignal::new(String::new());
    let (card_number, expiry, cvv, holder) = (field(), field(), field(), field());
    let (first_name, last_name, address, city, email) = (field(), field(), field(), field(), field());
    let country = RwSignal::new("GB".to_owned());
    let errors = RwSignal::new(HashMap::<String, String>::new());
    let message = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let session = RwSignal::new(None::<String>);
    let challenge_open = RwSignal::new(false);
    let brand = Memo::new(move |_| CardBrand::from_prefix(&digits(&card_number.get())));
    // Effects run once the island has hydrated: the page is live (see `ui::hydrated`).
    Effect::new(|_| hydrated::mark());

    // Cardinal setup with the JWT, once the page is live in the browser.
    let (jwt, songbird_url) = (start.jwt.clone(), start.sdk_url.clone());
    Effect::new(move |_| {
        let (jwt, songbird_url) = (jwt.clone(), songbird_url.clone());
        spawn_local(async move {
            match bridge::setup(&songbird_url, &jwt).await {
                Ok(id) => session.set(Some(id)),
                Err(e) => message.set(Some(format!("3-D Secure could not start ({e}). Reload the page to try again."))),
            }
        });
    });
    // BIN detection: the first nine digits, again whenever they change.
    let last_bin = StoredValue::new(String::new());
    Effect::new(move |_| {
        let d = digits(&card_number.get());
        if d.len() >= 9 && session.get().is_some() && d[..9] != last_bin.get_value() {
            last_bin.set_value(d[..9].to_owned());
            let bin = d[..9].to_owned();
            spawn_local(async move {
                let _ = bridge::bin(&bin).await;
            });
        }
    });

    let key = start.card_key.clone();
    let verifone_url = start.card_script_url.clone();
    let checkout_key = start.checkout_key.clone();
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
        let card = CardNumber::parse(&card_number.get_untracked());
        if let Err(e) = &card {
            found.push(FieldError::new("card_number", e.to_string()));
        }
        let exp = Expiry::parse(&expiry.get_untracked(), bridge::today());
        if let Err(e) = &exp {
            found.push(FieldError::new("expiry", e.to_string()));
        }
        if let Ok(c) = &card {
            if let Err(e) = Cvv::parse(&cvv.get_untracked(), c.brand()) {
                found.push(FieldError::new("cvv", format!("{e} ({} digits)", c.brand().cvv_len())));
            }
        }
        if holder.get_untracked().trim().is_empty() {
            found.push(FieldError::new("holder", "enter the name on the card"));
        }
        let billing = match billing.validated() {
            Ok(b) => Some(b),
            Err(e) => {
                found.extend(e);
                None
            }
        };
        errors.set(found.iter().map(|e| (e.field.clone(), e.message.clone())).collect());
        let (Ok(card), Ok(exp), Some(billing), true) = (card, exp, billing, found.is_empty()) else {
            message.set(Some("Please correct the highlighted fields.".into()));
            return;
        };
        let Some(session_id) = session.get_untracked() else {
            message.set(Some("3-D Secure is still starting; try again in a moment.".into()));
            return;
        };
        busy.set(true);
        message.set(Some("Securing your card details…".into()));
        let plain = serde_json::to_string(&PlainCard {
            card_number: card.expose(),
            expiry_month: format!("{:02}", exp.month()),
            expiry_year: exp.year().to_string(),
            cvv: cvv.get_untracked().trim().to_owned(),
            cardholder_name: holder.get_untracked().trim().to_owned(),
        })
        .unwrap_or_default();
        let input = PlaceOrderInput {
            checkout_key: checkout_key.clone(),
            cart: cart.clone(),
            billing,
            card: CardSummary::of(&card, exp),
            session_id,
            encrypted_card: String::new(),
            card_token: None,
            browser: None,
        };
        let (key, verifone_url) = (key.clone(), verifone_url.clone());
        spawn_local(async move {
            let outcome = pay(input, &plain, &verifone_url, &key, challenge_open, message).await;
            match outcome {
                Ok(order_id) => {
                    message.set(Some("Done. Showing your receipt…".into()));
                    let _ = window().location().set_href(&format!("/checkout/{order_id}"));
                }
                Err(CheckoutFnError::Invalid(fields)) => {
                    errors.set(fields.into_iter().map(|e| (e.field, e.message)).collect());
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

    let error_of = move |name: &'static str| Signal::derive(move || errors.with(|e| e.get(name).cloned()));
    let quote = start.quote.clone();
    let total = quote.total.to_string();
    let pay_label = if start.pre_auth { format!("Authorize {total}") } else { format!("Pay {total}") };
    view! {
        <div class="checkout">
            <section class="summary" aria-labelledby="summary-title">
                <h2 id="summary-title">"Your order"</h2>
                <ul>
                    {quote.lines.into_iter().map(|l| view! {
                        <li><span>{format!("{} × {}", l.quantity, l.name)}</span><span>{l.total.to_string()}</span></li>
                    }).collect_view()}
                </ul>
                <p class="total"><span>"Total"</span><strong data-testid="total">{total.clone()}</strong></p>
            </section>
            <form class="pay-form" on:submit=submit novalidate>
                <fieldset>
                    <legend>"Card"</legend>
                    {labelled("Card number", "card_number", error_of("card_number"), view! {
                        <input id="card_number" inputmode="numeric" autocomplete="cc-number" maxlength="23"
                            aria-describedby="card_number-error card-brand"
                            prop:value=move || card_number.get()
                            on:input=move |ev| {
                                let d = digits(&event_target_value(&ev));
                                card_number.set(format_card(&d[..d.len().min(19)]));
                            }/>
                        <span id="card-brand" class="card-brand" aria-live="polite">{move || brand.get().map(|b| b.display_name()).unwrap_or("")}</span>
                    })}
                    <div class="row">
                        {labelled("Expiry (MM/YY)", "expiry", error_of("expiry"), view! {
                            <input id="expiry" inputmode="numeric" autocomplete="cc-exp" placeholder="MM/YY" maxlength="7" bind:value=expiry/>
                        })}
                        {labelled("Security code", "cvv", error_of("cvv"), view! {
                            <input id="cvv" inputmode="numeric" autocomplete="cc-csc" maxlength="4" bind:value=cvv/>
                        })}
                    </div>
                    {labelled("Name on card", "holder", error_of("holder"), view! {
                        <input id="holder" autocomplete="cc-name" bind:value=holder/>
                    })}
                </fieldset>
                <fieldset>
                    <legend>"Billing"</legend>
                    <div class="row">
                        {labelled("First name", "first_name", error_of("first_name"), view! {
                            <input id="first_name" name="first_name" autocomplete="given-name" bind:value=first_name/>
                        })}
                        {labelled("Last name", "last_name", error_of("last_name"), view! {
                            <input id="last_name" name="last_name" autocomplete="family-name" bind:value=last_name/>
                        })}
                    </div>
                    {labelled("Address", "address_1", error_of("address_1"), view! {
                        <input id="address_1" name="address_1" autocomplete="address-line1" bind:value=address/>
                    })}
                    <div class="row">
                        {labelled("City", "city", error_of("city"), view! {
                            <input id="city" name="city" autocomplete="address-level2" bind:value=city/>
                        })}
                        {labelled("Country", "country", error_of("country"), view! {
                            <select id="country" name="country" autocomplete="country" bind:value=country>
                                {COUNTRIES.iter().map(|(code, name)| view! { <option value=*code>{*name}</option> }).collect_view()}
                            </select>
                        })}
                    </div>
                    {labelled("Email", "email", error_of("email"), view! {
                        <input id="email" name="email" type="email" autocomplete="email" bind:value=email/>
                    })}
                </fieldset>
                <p class="status" role="status" aria-live="polite">{move || message.get()}</p>
                <button type="submit" class="pay" disabled=move || busy.get() || session.get().is_none()>
                    {move || if busy.get() { "Processing…".to_owned() } else { pay_label.clone() }}
                </button>
            </form>
        </div>
        <div class="modal-backdrop" hidden=move || !challenge_open.get()>
            <div class="modal" role="dialog" aria-modal="true" aria-labelledby="challenge-title">
                <h2 id="challenge-title">"Confirm the payment with your bank"</h2>
                <p>"Your bank asks you to confirm this payment. Keep this page open."</p>
                <div id="challenge-host"></div>
            </div>
        </div>
    }
}

/// What verifone.js encrypts (it adds `captureTime`). Lives only in the browser.
#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct PlainCard<'a> {
    card_number: &'a str,
    expiry_month: String,
    expiry_year: String,
    cvv: String,
    cardholder_name: String,
}

/// The part of `payments.validated` the server needs: the JWT it has the 3DS service verify.
#[derive(serde::Deserialize)]
struct Validated {
    jwt: String,
}

/// Encrypt, place the order, run the challenge if the bank asks for one; the order id when done.
async fn pay(
    mut input: PlaceOrderInput,
    plain_card: &str,
    verifone_url: &str,
    key: &str,
    challenge_open: RwSignal<bool>,
    message: RwSignal<Option<String>>,
) -> Result<String, CheckoutFnError> {
    input.encrypted_card = bridge::encrypt(verifone_url, plain_card, key).await.map_err(|e| {
        CheckoutFnError::Conflict(format!("Your card could not be encrypted ({e}). Reload the page and try again."))
    })?;
    message.set(Some("Checking with your bank…".into()));
    match place_order(input).await? {
        NextStep::Done { order_id } => Ok(order_id),
        NextStep::Challenge { order_id, acs_url, payload, transaction_id } => {
            challenge_open.set(true);
            message.set(Some("Waiting for your bank's confirmation…".into()));
            let result = bridge::challenge(&acs_url, &payload, &transaction_id).await;
            challenge_open.set(false);
            let result = result.map_err(|e| CheckoutFnError::Conflict(format!("The bank's page failed ({e}).")))?;
            let jwt = serde_json::from_str::<Validated>(&result).map(|v| v.jwt).unwrap_or_default();
            message.set(Some("Finishing your payment…".into()));
            match complete_challenge(order_id.clone(), jwt).await? {
                NextStep::Done { order_id }
                | NextStep::Challenge { order_id, .. }
                | NextStep::Redirect { order_id, .. } => Ok(order_id),
            }
        }
        // The Verifone page never meets the bank's redirect: that acquirer authenticates through its SDK.
        NextStep::Redirect { order_id, .. } => Ok(order_id),
    }
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
