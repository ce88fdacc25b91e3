//! The shop page as a new shopper sees it: every price in the shop's currency, with the currency's decimals,
//! and the same amounts the checkout then charges (its quote is computed again on the server).

mod common;

use card_checkout::domain::{catalog::PRODUCTS, money::Money};
use common::{TestApp, checkout::Shopper};
use serde_json::json;

#[tokio::test]
async fn prices_show_in_the_shop_currency_and_match_the_checkout() {
    for (currency, mug) in [("EUR", "EUR 12.00 each"), ("JPY", "JPY 12 each"), ("KWD", "KWD 12.000 each")] {
        let app = TestApp::spawn_with(&[("SHOP_CURRENCY", currency)]).await;
        let res = app.get("/shop").await;
        assert_eq!(res.status(), 200);
        let html = res.text().await.unwrap();
        // Rendered into the page itself, so it reads the same before (or without) any script.
        assert!(html.contains(&format!(">{mug}</p>")), "{currency}: {html}");
        for p in PRODUCTS {
            assert!(!html.contains(&format!(">{} each<", p.price_major)), "{currency}: a bare price: {html}");
        }

        // What the checkout quotes for one of each is what the shop showed.
        let cart = PRODUCTS.iter().map(|p| format!("{}:1", p.sku)).collect::<Vec<_>>().join(",");
        let (status, start) = Shopper::new(&app).await.call("checkout/start", json!({"cart": cart})).await;
        assert_eq!(status, 200, "{start}");
        let lines = start["quote"]["lines"].as_array().unwrap();
        assert_eq!(lines.len(), PRODUCTS.len());
        for line in lines {
            let unit: Money = serde_json::from_value(line["unit"].clone()).unwrap();
            assert_eq!(unit.currency().code(), currency);
            let shown = format!(">{unit} each</p>");
            assert!(html.contains(&shown), "{currency}: the checkout charges {unit} for {}: {html}", line["sku"]);
        }
    }
}
