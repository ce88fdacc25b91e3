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
                <IslandScripts options/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

/// What `<HydrationScripts islands=true/>` renders, less its wait for the browser to be idle: the bundle is
/// imported as soon as the page is parsed, so the card form hydrates while the payment SDK sets up instead
/// of after it (the SDK's scripts kept the page from being idle). Our pages have one island and no nested
/// ones, so hydrating is a loop over the `leptos-island` elements.
#[component]
fn IslandScripts(options: LeptosOptions) -> impl IntoView {
    // As `HydrationScripts` does in islands mode: only the islands' own HTML carries hydration markers.
    if let Some(context) = Owner::current_shared_context() {
        context.set_is_hydrating(false);
    }
    let pkg = format!("/{}/{}", options.site_pkg_dir, options.output_name);
    // cargo-leptos names the bundle `<output-name>.wasm` (not wasm-bindgen's `_bg.wasm`), and a server built
    // by plain cargo (the tests' debug build, serving a site cargo-leptos built) must find it too.
    let wasm = format!("{pkg}.wasm");
    let nonce = leptos::nonce::use_nonce();
    let script = format!(
        "import init, * as islands from '{pkg}.js';\
         await init({{module_or_path: '{wasm}'}});\
         islands.hydrate();\
         for (const el of document.querySelectorAll('leptos-island')) {{\
           const island = islands[el.dataset.component];\
           if (island) await island(el); else console.warn('no island named', el.dataset.component);\
         }}"
    );
    view! {
        <link rel="modulepreload" href=format!("{pkg}.js") crossorigin=""/>
        <link rel="preload" href=wasm r#as="fetch" r#type="application/wasm" crossorigin=""/>
        <script type="module" nonce=nonce>{script}</script>
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
