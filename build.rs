//! Writes the table of active ISO 4217 currencies that `src/domain/money.rs` includes, from the maintained
//! `iso_currency` crate. Generating it here keeps the crate out of both binaries: the browser's wasm carries
//! three letters and a digit per currency rather than the crate's lookup code (about 1 KB gzip).

use iso_currency::Currency;
use std::fmt::Write;

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    // `sqlx::migrate!` embeds the migrations at compile time: a new one must rebuild the crate.
    println!("cargo::rerun-if-changed=migrations");
    // Numeric codes are distinct and below 1000: asking for each one walks the crate's whole table.
    // Active: has minor units, not superseded, not a special unit (gold, SDR, the testing code XTS).
    let mut active: Vec<(&str, u16, u16)> = (0..1000)
        .filter_map(Currency::from_numeric)
        .filter(|c| c.is_superseded().is_none() && !c.is_special())
        .filter_map(|c| Some((c.code(), c.numeric(), c.exponent()?)))
        .collect();
    active.sort();
    assert!(!active.is_empty() && active.len() <= 256, "a currency is a u8 index into the table");
    assert!(
        active
            .iter()
            .all(|(code, _, exp)| code.len() == 3 && code.bytes().all(|b| b.is_ascii_uppercase()) && *exp <= 9)
    );

    let codes: String = active.iter().map(|(code, ..)| *code).collect();
    let exponents: String = active.iter().map(|(.., exp)| exp.to_string()).collect();
    let mut numeric = String::new();
    for (_, n, _) in &active {
        write!(numeric, "{n},").unwrap();
    }
    let out = format!(
        "/// How many active currencies there are.\n\
         pub const COUNT: usize = {count};\n\
         /// Their alpha codes, three letters each, sorted.\n\
         pub const CODES: &str = \"{codes}\";\n\
         /// Their exponents, one digit each, in the order of `CODES`.\n\
         pub const EXPONENTS: &[u8; COUNT] = b\"{exponents}\";\n\
         /// Their numeric codes, in the order of `CODES`.\n\
         pub const NUMERIC: [u16; COUNT] = [{numeric}];\n",
        count = active.len(),
    );
    let path = std::path::Path::new(&std::env::var("OUT_DIR").unwrap()).join("iso4217.rs");
    std::fs::write(path, out).unwrap();
}
