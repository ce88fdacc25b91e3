//! The demo shop: a few products and quantities; the form leads to the checkout (GET, no script needed).

use crate::api::shop::shop_currency;
use crate::domain::catalog::{MAX_QUANTITY, PRODUCTS, Product, unit_price};
use crate::domain::money::Currency;
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn ShopPage() -> impl IntoView {
    // From the server (a server function), so the page shows prices in the currency the checkout charges
    // whether it is hydrated or rendered on the server only.
    let currency = Resource::new(|| (), |_| shop_currency());
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
                            <p class="price" data-testid=format!("price-{}", p.sku)>
                                <Suspense fallback=|| "Price loading…">
                                    {move || Suspend::new(async move {
                                        currency.await.map_or_else(|_| "Price unavailable".to_owned(), |c| price(p, c))
                                    })}
                                </Suspense>
                            </p>
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

/// "EUR 12.00 each": the unit price the checkout's quote uses (whole units scaled by the currency's exponent).
fn price(p: &Product, currency: Currency) -> String {
    unit_price(p, currency).map_or_else(|_| "Price unavailable".to_owned(), |m| format!("{m} each"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::catalog::product;

    #[test]
    fn prices_show_in_the_currency_with_its_decimals() {
        let mug = product("mug").unwrap();
        assert_eq!(price(mug, Currency::EUR), "EUR 12.00 each");
        assert_eq!(price(mug, Currency::JPY), "JPY 12 each");
        assert_eq!(price(mug, Currency::KWD), "KWD 12.000 each");
    }
}
