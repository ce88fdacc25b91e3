//! The demo shop's catalogue and cart. Prices are whole units of the shop's currency; totals are computed
//! on the server from the cart, never taken from the browser.

use super::money::{Currency, Money, MoneyError};
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Product {
    pub sku: &'static str,
    pub name: &'static str,
    pub description: &'static str,
    /// Price in whole (major) units of the shop's currency.
    pub price_major: i64,
}

pub const PRODUCTS: [Product; 4] = [
    Product { sku: "mug", name: "Enamel mug", description: "Holds 350 ml of anything hot.", price_major: 12 },
    Product { sku: "tee", name: "Organic T-shirt", description: "Heavy cotton, printed in Lisbon.", price_major: 24 },
    Product { sku: "cap", name: "Field cap", description: "Six panels, one size.", price_major: 9 },
    Product { sku: "bag", name: "Canvas tote", description: "Carries a week of groceries.", price_major: 39 },
];

pub const MAX_QUANTITY: u32 = 9;
/// Longer than any cart the shop makes (every product at the most is about 30 characters).
pub const MAX_CART_LEN: usize = 256;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CartLine {
    pub sku: String,
    pub quantity: u32,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PricedLine {
    pub sku: String,
    pub name: String,
    pub quantity: u32,
    pub unit: Money,
    pub total: Money,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Quote {
    pub lines: Vec<PricedLine>,
    pub total: Money,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CartError {
    #[error("the cart is empty")]
    Empty,
    #[error("unknown product {0}")]
    UnknownProduct(String),
    #[error("quantities are 1 to {MAX_QUANTITY}")]
    Quantity,
    #[error("the cart is not readable")]
    Malformed,
    #[error("amount: {0}")]
    Money(#[from] MoneyError),
}

pub fn product(sku: &str) -> Option<&'static Product> {
    PRODUCTS.iter().find(|p| p.sku == sku)
}

pub fn unit_price(p: &Product, currency: Currency) -> Result<Money, MoneyError> {
    let minor = p.price_major.checked_mul(10i64.pow(currency.exponent())).ok_or(MoneyError::Overflow)?;
    Money::new(minor, currency)
}

/// Parses the cart as the shop puts it in the URL: `tee:2,mug:1`. Repeated products add up.
pub fn parse_cart(s: &str) -> Result<Vec<CartLine>, CartError> {
    if s.len() > MAX_CART_LEN {
        return Err(CartError::Malformed);
    }
    let mut lines: Vec<CartLine> = Vec::new();
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (sku, qty) = part.split_once(':').ok_or(CartError::Malformed)?;
        let quantity: u32 = qty.trim().parse().map_err(|_| CartError::Quantity)?;
        let p = product(sku.trim()).ok_or_else(|| CartError::UnknownProduct(sku.trim().to_owned()))?;
        match lines.iter_mut().find(|l| l.sku == p.sku) {
            Some(l) => l.quantity = l.quantity.checked_add(quantity).ok_or(CartError::Quantity)?,
            None => lines.push(CartLine { sku: p.sku.to_owned(), quantity }),
        }
    }
    if lines.is_empty() {
        return Err(CartError::Empty);
    }
    if lines.iter().any(|l| l.quantity == 0 || l.quantity > MAX_QUANTITY) {
        return Err(CartError::Quantity);
    }
    Ok(lines)
}

pub fn cart_to_string(lines: &[CartLine]) -> String {
    lines.iter().map(|l| format!("{}:{}", l.sku, l.quantity)).collect::<Vec<_>>().join(",")
}

pub fn quote(lines: &[CartLine], currency: Currency) -> Result<Quote, CartError> {
    let mut total = Money::zero(currency);
    let mut priced = Vec::new();
    for line in lines {
        let p = product(&line.sku).ok_or_else(|| CartError::UnknownProduct(line.sku.clone()))?;
        let unit = unit_price(p, currency)?;
        let line_total = unit.checked_mul(line.quantity)?;
        total = total.checked_add(line_total)?;
        priced.push(PricedLine {
            sku: p.sku.into(),
            name: p.name.into(),
            quantity: line.quantity,
            unit,
            total: line_total,
        });
    }
    if total.is_zero() {
        return Err(CartError::Empty);
    }
    Ok(Quote { lines: priced, total })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn quotes_from_the_catalogue() {
        let cart = parse_cart("tee:2, mug:1,tee:1").unwrap();
        assert_eq!(
            cart,
            vec![CartLine { sku: "tee".into(), quantity: 3 }, CartLine { sku: "mug".into(), quantity: 1 }]
        );
        let q = quote(&cart, Currency::EUR).unwrap();
        assert_eq!(q.total.minor(), 3 * 2400 + 1200);
        assert_eq!(quote(&cart, Currency::JPY).unwrap().total.minor(), 3 * 24 + 12);
        assert_eq!(cart_to_string(&cart), "tee:3,mug:1");
    }

    #[test]
    fn refuses_bad_carts() {
        assert_eq!(parse_cart(""), Err(CartError::Empty));
        assert_eq!(parse_cart("ghost:1"), Err(CartError::UnknownProduct("ghost".into())));
        assert_eq!(parse_cart("tee:0"), Err(CartError::Quantity));
        assert_eq!(parse_cart("tee:10"), Err(CartError::Quantity));
        assert_eq!(parse_cart("tee:-1"), Err(CartError::Quantity));
        assert_eq!(parse_cart("tee"), Err(CartError::Malformed));
        assert_eq!(parse_cart("tee:4294967295,tee:1"), Err(CartError::Quantity), "no overflow");
        assert_eq!(parse_cart(&"tee:1,".repeat(60)), Err(CartError::Malformed), "too long");
    }

    proptest! {
        #[test]
        fn any_text_is_a_sane_cart_or_an_error(s in "\\PC{0,300}") {
            if let Ok(lines) = parse_cart(&s) {
                prop_assert!(!lines.is_empty() && s.len() <= MAX_CART_LEN);
                for l in &lines {
                    prop_assert!(product(&l.sku).is_some() && (1..=MAX_QUANTITY).contains(&l.quantity));
                    prop_assert_eq!(lines.iter().filter(|o| o.sku == l.sku).count(), 1);
                }
                prop_assert!(quote(&lines, Currency::KWD).is_ok());
            }
        }

        #[test]
        fn carts_of_any_quantities_never_panic(a in any::<u32>(), b in any::<u32>(), sku in "(tee|mug|cap|bag)") {
            let cart = format!("{sku}:{a},{sku}:{b}");
            let total = u64::from(a) + u64::from(b);
            match parse_cart(&cart) {
                Ok(lines) => prop_assert_eq!(u64::from(lines[0].quantity), total),
                Err(e) => prop_assert!(total == 0 || total > u64::from(MAX_QUANTITY), "{e}"),
            }
        }
    }
}
