//! The Leptos app: the HTML shell and the routes. Pages live in `ui::pages`.
//!
//! Islands mode: every page is rendered on the server (its resources resolve there) and links are full page
//! loads; only `#[island]` components (the checkout form) are hydrated, so only they reach the wasm bundle.

use crate::ui::{
    components::layout::Layout,
    pages::{checkout::CheckoutPage, home::HomePage, not_found::NotFound, receipt::ReceiptPage, shop::ShopPage},
};
use leptos::prelude::*;
use leptos_meta::{MetaTags, Stylesheet, Title, provide_meta_context};
use leptos_router::{
    ParamSegment, SsrMode, StaticSegment,
    components::{Route, Router, Routes},
};

pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <link rel="icon" href="/favicon.svg" type="image/svg+xml"/>
                <AutoReload options=options.clone()/>
                <HydrationScripts options islands=true/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    #[cfg(feature = "ssr")]
    set_content_security_policy();

    view! {
        <Stylesheet id="leptos" href="/pkg/card-checkout.css"/>
        <Title formatter=|page: String| format!("{page} · Card Checkout")/>
        <Router>
            <Layout>
                // Whole pages, sent once their data is in: they are server HTML (only the card form hydrates),
                // so nothing should depend on a script swapping streamed parts in (prices, the receipt).
                <Routes fallback=NotFound>
                    <Route path=StaticSegment("") view=HomePage ssr=SsrMode::Async/>
                    <Route path=StaticSegment("shop") view=ShopPage ssr=SsrMode::Async/>
                    <Route path=StaticSegment("checkout") view=CheckoutPage ssr=SsrMode::Async/>
                    <Route path=(StaticSegment("checkout"), ParamSegment("order")) view=ReceiptPage ssr=SsrMode::Async/>
                </Routes>
            </Layout>
        </Router>
    }
}

/// Sends our Content-Security-Policy with this response's nonce (Leptos puts it on its inline scripts).
#[cfg(feature = "ssr")]
fn set_content_security_policy() {
    use axum::http::{HeaderValue, header};
    let (Some(nonce), Some(state), Some(response)) = (
        leptos::nonce::use_nonce(),
        use_context::<crate::server::state::AppState>(),
        use_context::<leptos_axum::ResponseOptions>(),
    ) else {
        return;
    };
    if let Ok(value) = HeaderValue::from_str(&crate::server::csp::policy(&state.settings, &nonce)) {
        response.insert_header(header::CONTENT_SECURITY_POLICY, value);
    }
}
