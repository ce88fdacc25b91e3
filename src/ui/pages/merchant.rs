use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn MerchantPage() -> impl IntoView {
    view! {
        <Title text="Merchant"/>
        <h1>"Merchant back office"</h1>
        <p>"Order history, refunds, captures and voids open here after sign-in."</p>
    }
}
