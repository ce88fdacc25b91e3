//! The result of a checkout: approved, declined or failed, in plain words, with the amount, the masked card,
//! the 3-D Secure outcome and whether liability shifted. Reading it never repeats a charge.

use crate::api::checkout::order_result;
use crate::domain::checkout::OrderView;
use crate::domain::status::PaymentStatus;
use leptos::either::Either;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

#[component]
pub fn ReceiptPage() -> impl IntoView {
    let params = use_params_map();
    let order = Resource::new(move || params.read().get("order").unwrap_or_default(), order_result);
    view! {
        <Suspense fallback=|| view! { <p>"Loading your order…"</p> }>
            {move || Suspend::new(async move {
                match order.await {
                    Ok(o) => Either::Left(view! { <Receipt order=o/> }),
                    Err(e) => Either::Right(view! {
                        <Title text="Order"/>
                        <h1>"Order not available"</h1>
                        <p role="alert">{e.to_string()}</p>
                    }),
                }
            })}
        </Suspense>
    }
}

fn headline(status: PaymentStatus) -> (&'static str, &'static str) {
    use PaymentStatus::*;
    match status {
        Captured | PartiallyRefunded | Refunded => ("Payment approved", "ok"),
        Authorized => ("Payment authorized", "ok"),
        Declined => ("Payment declined", "bad"),
        Failed => ("Payment failed", "bad"),
        Expired => ("Checkout expired", "bad"),
        Voided => ("Payment cancelled", "bad"),
        Unknown | Pending | Authenticating | Authorizing => ("Payment being confirmed", "wait"),
    }
}

#[component]
fn Receipt(order: OrderView) -> impl IntoView {
    let (title, tone) = headline(order.status);
    let liability = match order.liability_shifted {
        Some(true) => "Yes: fraud liability moved to the card issuer",
        Some(false) => "No: liability stays with the merchant",
        None => "Not applicable",
    };
    let threeds = order.threeds.clone().map(|t| {
        let outcome = match t.pares_status.as_deref() {
            Some("Y") => "Authenticated",
            Some("A") => "Attempted",
            Some("N") => "Not authenticated",
            Some("R") => "Rejected by the issuer",
            Some("U") => "Unavailable",
            Some("C") => "Challenge not completed",
            _ => "No answer",
        };
        let how = if t.challenged { "with a challenge" } else { "without a challenge" };
        let version = t.version.map(|v| format!("3DS {v}, ")).unwrap_or_default();
        format!("{outcome} {how} ({version}ECI {})", t.eci.unwrap_or_else(|| "–".into()))
    });
    view! {
        <Title text=title/>
        <section class=format!("receipt {tone}") aria-labelledby="receipt-title">
            <h1 id="receipt-title">{title}</h1>
            <p class="reason">{order.reason.clone()}</p>
            <dl>
                <dt>"Order"</dt><dd data-testid="order-reference">{order.reference.clone()}</dd>
                <dt>"Amount"</dt><dd data-testid="amount">{order.amount.to_string()}</dd>
                <dt>"Card"</dt><dd data-testid="card">{order.card.as_ref().map(|c| c.label())}</dd>
                <dt>"3-D Secure"</dt><dd data-testid="threeds">{threeds.unwrap_or_else(|| "Not performed".into())}</dd>
                <dt>"Liability shift"</dt><dd data-testid="liability">{liability}</dd>
            </dl>
            <ul class="items">
                {order.items.iter().map(|(name, qty, total)| view! {
                    <li><span>{format!("{qty} × {name}")}</span><span>{total.to_string()}</span></li>
                }).collect_view()}
            </ul>
            <p><a href="/shop">"Back to the shop"</a></p>
        </section>
    }
}
