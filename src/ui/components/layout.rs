//! The frame around every page: header with navigation, main content, footer with the service status.

use crate::api::status::service_status;
use leptos::either::Either;
use leptos::prelude::*;
use leptos_router::components::A;

#[component]
pub fn Layout(children: Children) -> impl IntoView {
    view! {
        <header class="site-header">
            <a class="brand" href="/">"Card Checkout"</a>
            <nav aria-label="Main">
                <A href="/shop">"Shop"</A>
                <A href="/checkout">"Checkout"</A>
                // The back office is server-rendered on its own (no hydration): a full page load.
                <a href="/merchant/orders" rel="external">"Merchant"</a>
            </nav>
        </header>
        <main id="main">{children()}</main>
        <footer class="site-footer">
            <StatusLine/>
        </footer>
    }
}

#[component]
fn StatusLine() -> impl IntoView {
    let status = Resource::new(|| (), |_| service_status());
    view! {
        <Suspense fallback=|| view! { <span>"Checking service status…"</span> }>
            {move || Suspend::new(async move {
                match status.await {
                    Ok(s) => {
                        let mode = if s.sandbox { "Embedded sandbox: no real money moves" } else { "Live payments" };
                        let db = if s.database_reachable { "database OK" } else { "database unreachable" };
                        Either::Left(view! { <span data-testid="service-status">{format!("{mode} · {db}")}</span> })
                    }
                    Err(e) => Either::Right(view! { <span role="alert">{e.to_string()}</span> }),
                }
            })}
        </Suspense>
    }
}
