pub mod api;
pub mod app;
pub mod domain;
pub mod ui;

#[cfg(feature = "ssr")]
pub mod server;

#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_islands();
    // Leptos's islands script hydrates each island right after this returns; an island marks the page itself.
    if !ui::hydrated::page_has_islands() {
        ui::hydrated::mark();
    }
}
