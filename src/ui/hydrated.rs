//! `data-hydrated="true"` on `<body>` says the page's browser code is live; the end-to-end tests wait for it.
//!
//! In islands mode only islands hydrate. A page with one (the checkout form) is marked by the island itself,
//! from an effect, which runs once it has hydrated. A page without one has nothing to hydrate: `hydrate()`
//! marks it as soon as the wasm has started, so the mark still means "the wasm loaded and nothing on this
//! page is waiting for it". With a second kind of island, the last one to hydrate would have to mark instead.

const ATTRIBUTE: &str = "data-hydrated";

/// Marks the body as hydrated (browser only: effects and `hydrate()` call it).
pub fn mark() {
    if let Some(body) = leptos::prelude::document().body() {
        let _ = body.set_attribute(ATTRIBUTE, "true");
    }
}

/// Whether the page has an island, which will then mark the body itself.
pub fn page_has_islands() -> bool {
    leptos::prelude::document().query_selector("leptos-island").ok().flatten().is_some()
}
