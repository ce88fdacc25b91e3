use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

#[component]
pub fn HomePage() -> impl IntoView {
    view! {
        <Title text="Welcome"/>
        <section class="hero">
            <h1>"Card payments with 3-D Secure"</h1>
            <p>
                "A self-hostable checkout for Verifone and Bambora. It runs against an embedded sandbox until "
                "you give it live credentials."
            </p>
        </section>
        <div class="tiles">
            <A href="/checkout" attr:class="tile">
                <h2>"Shop and pay"</h2>
                <p>"Buy from the demo shop with a test card, frictionless or through a challenge."</p>
            </A>
            <a href="/merchant/orders" rel="external" class="tile">
                <h2>"Merchant back office"</h2>
                <p>"See every order, its 3-D Secure outcome and liability shift; refund, capture or void."</p>
            </a>
        </div>
    }
}
