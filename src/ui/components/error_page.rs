//! A styled page for errors a person can see: a title, what happened in plain words, and a way back.

use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn ErrorPage(
    #[prop(into)] title: String,
    #[prop(into)] message: String,
    #[prop(optional)] code: Option<u16>,
) -> impl IntoView {
    view! {
        <Title text=title.clone()/>
        <section class="error-page" aria-labelledby="error-title">
            {code.map(|c| view! { <p class="error-code">{c}</p> })}
            <h1 id="error-title">{title}</h1>
            <p>{message}</p>
            <p><a href="/">"Back to the start page"</a></p>
        </section>
    }
}
