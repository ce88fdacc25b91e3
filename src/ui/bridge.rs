//! Calls into `public/checkout.js` (the bridge to the provider scripts and the browser) from the browser
//! build. Every call takes strings and resolves to a string. On the server these are never called (they run
//! from event handlers and effects only).

/// Calls `checkoutBridge[name](...args)` and awaits the promise it returns.
async fn call(name: &str, args: &[&str]) -> Result<String, String> {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::{JsCast, JsValue};
        let message = |e: JsValue| {
            e.dyn_ref::<js_sys::Error>().map(|e| String::from(e.message())).unwrap_or_else(|| format!("{e:?}"))
        };
        let bridge = js_sys::Reflect::get(&js_sys::global(), &"checkoutBridge".into()).map_err(message)?;
        let function: js_sys::Function = js_sys::Reflect::get(&bridge, &name.into()).map_err(message)?.unchecked_into();
        let args: js_sys::Array = args.iter().map(|a| JsValue::from_str(a)).collect();
        let promise = js_sys::Promise::resolve(&function.apply(&bridge, &args).map_err(message)?);
        let v = wasm_bindgen_futures::JsFuture::from(promise).await.map_err(message)?;
        Ok(v.as_string().unwrap_or_else(|| v.as_bool().map(|b| b.to_string()).unwrap_or_default()))
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = (name, args);
        Err("runs in the browser only".into())
    }
}

/// Loads the authenticator's SDK and sets it up with its token; resolves to the device session id.
pub async fn setup(sdk_url: &str, jwt: &str) -> Result<String, String> {
    call("setup", &[sdk_url, jwt]).await
}

/// BIN detection with the first digits of the card (9 or more).
pub async fn bin(digits: &str) -> Result<String, String> {
    call("bin", &[digits]).await
}

/// Encrypts the card (JSON) for the provider; resolves to the ciphertext.
pub async fn encrypt(script_url: &str, card_json: &str, key: &str) -> Result<String, String> {
    call("encrypt", &[script_url, card_json, key]).await
}

/// Runs the authenticator's challenge in the modal; resolves to its result (JSON).
pub async fn challenge(acs_url: &str, payload: &str, transaction_id: &str) -> Result<String, String> {
    call("challenge", &[acs_url, payload, transaction_id]).await
}

/// Mounts the acquirer's own card fields.
pub async fn fields(script_url: &str) -> Result<String, String> {
    call("fields", &[script_url]).await
}

/// Tokenizes what was typed into the acquirer's fields; resolves to JSON (see `checkout.js`).
pub async fn tokenize() -> Result<String, String> {
    call("tokenize", &[]).await
}

/// Exchanges a card our page holds (JSON) for the acquirer's single-use token.
pub async fn tokenize_card(url: &str, card_json: &str) -> Result<String, String> {
    call("tokenizeCard", &[url, card_json]).await
}

/// The browser's 3-D Secure 2 details (JSON).
pub async fn browser_info() -> Result<String, String> {
    call("browserInfo", &[]).await
}

/// Opens the bank's page in the modal; resolves to the result page's path once the bank sent the shopper back.
pub async fn bank(url: &str) -> Result<String, String> {
    call("bank", &[url]).await
}

/// Today's year and month, for expiry checks in the browser.
pub fn today() -> crate::domain::card::YearMonth {
    #[cfg(feature = "hydrate")]
    {
        let d = js_sys::Date::new_0();
        crate::domain::card::YearMonth { year: d.get_full_year() as u16, month: (d.get_month() + 1) as u8 }
    }
    #[cfg(not(feature = "hydrate"))]
    {
        crate::domain::card::YearMonth { year: 2000, month: 1 }
    }
}
