use crate::ui::components::error_page::ErrorPage;
use leptos::prelude::*;

/// Rendered for any path no route matches, with HTTP status 404 on the server.
#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(axum::http::StatusCode::NOT_FOUND);
    }
    view! {
        <ErrorPage
            code=404
            title="Page not found"
            message="There is nothing at this address. Check the link, or start again from the start page."
        />
    }
}
