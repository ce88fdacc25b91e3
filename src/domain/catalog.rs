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
    let mut lines: Vec<CartLine> = Vec::new();
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (sku, qty) = part.split_once(':').ok_or(CartError::Malformed)?;
        let quantity: u32 = qty.trim().parse().map_err(|_| CartError::Quantity)?;
        product(sku.trim()).ok_or_else(|| CartError::UnknownProduct(sku.trim().to_owned()))?;
        match lines.iter_mut().find(|l| l.sku == sku.trim()) {
            Some(l) => l.quantity += quantity,
            None => lines.push(CartLine { sku: sku.trim().to_owned(), quantity }),
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
    }
}
