//! The demo shop: a few products and quantities; the form leads to the checkout (GET, no script needed).

use crate::domain::catalog::{MAX_QUANTITY, PRODUCTS};
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn ShopPage() -> impl IntoView {
    view! {
        <Title text="Shop"/>
        <h1>"Demo shop"</h1>
        <p class="lead">"Choose quantities, then pay with a test card. Prices are computed again on the server."</p>
        <form class="shop" method="get" action="/checkout">
            <ul class="products">
                {PRODUCTS.iter().map(|p| {
                    let id = format!("qty-{}", p.sku);
                    view! {
                        <li class="product">
                            <h2>{p.name}</h2>
                            <p>{p.description}</p>
                            <p class="price">{format!("{} each", p.price_major)}</p>
                            <label for=id.clone()>{format!("Quantity of {}", p.name)}</label>
                            <input id=id name=p.sku type="number" min="0" max=MAX_QUANTITY.to_string() value="0"/>
                        </li>
                    }
                }).collect_view()}
            </ul>
            <button type="submit" class="pay">"Go to checkout"</button>
        </form>
    }
}
