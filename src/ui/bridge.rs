//! Calls into `public/checkout.js` (the bridge to the provider scripts and the browser) from the browser
//! build. Every call takes strings and resolves to a string. On the server these are never called (they run
//! from event handlers and effects only).

/// Calls `checkoutBridge[name](...args)` and awaits the promise it returns.
async fn call(name: &str, args: &[&str]) -> Result<String, String> {
    #[cfg(feature = "hydrate")]
    {
        let v = call_for_value(name, args).await?;
        Ok(v.as_string().unwrap_or_else(|| v.as_bool().map(|b| b.to_string()).unwrap_or_default()))
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = (name, args);
        Err("runs in the browser only".into())
    }
}

/// `call`, resolving to the JavaScript value itself.
#[cfg(feature = "hydrate")]
async fn call_for_value(name: &str, args: &[&str]) -> Result<wasm_bindgen::JsValue, String> {
    use wasm_bindgen::{JsCast, JsValue};
    let message = |e: JsValue| {
        e.dyn_ref::<js_sys::Error>().map(|e| String::from(e.message())).unwrap_or_else(|| format!("{e:?}"))
    };
    let bridge = js_sys::Reflect::get(&js_sys::global(), &"checkoutBridge".into()).map_err(message)?;
    let function: js_sys::Function = js_sys::Reflect::get(&bridge, &name.into()).map_err(message)?.unchecked_into();
    let args: js_sys::Array = args.iter().map(|a| JsValue::from_str(a)).collect();
    let promise = js_sys::Promise::resolve(&function.apply(&bridge, &args).map_err(message)?);
    wasm_bindgen_futures::JsFuture::from(promise).await.map_err(message)
}

/// A string property of a JavaScript object (`None` if it is missing or not a string).
#[cfg(feature = "hydrate")]
fn string_of(object: &wasm_bindgen::JsValue, key: &str) -> Option<String> {
    js_sys::Reflect::get(object, &key.into()).ok()?.as_string()
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

/// Runs the authenticator's challenge in the modal; resolves to the JWT of its result.
pub async fn challenge(acs_url: &str, payload: &str, transaction_id: &str) -> Result<String, String> {
    call("challenge", &[acs_url, payload, transaction_id]).await
}

/// Mounts the acquirer's own card fields.
pub async fn fields(script_url: &str) -> Result<String, String> {
    call("fields", &[script_url]).await
}

/// What the acquirer's own fields tokenized (two-digit month and year, the brand's code).
pub struct FieldsToken {
    pub token: String,
    pub last4: String,
    pub expiry_month: String,
    pub expiry_year: String,
    pub brand: String,
}

/// Tokenizes what was typed into the acquirer's fields. The answer is read as an object, not JSON: a
/// deserializer would cost the wasm more than these reads.
pub async fn tokenize() -> Result<FieldsToken, String> {
    #[cfg(feature = "hydrate")]
    {
        let t = call_for_value("tokenize", &[]).await?;
        let field = |key: &str| string_of(&t, key).ok_or_else(|| format!("the card fields gave no {key}"));
        Ok(FieldsToken {
            token: field("token")?,
            last4: field("last4")?,
            expiry_month: field("expiry_month")?,
            expiry_year: field("expiry_year")?,
            brand: field("brand")?,
        })
    }
    #[cfg(not(feature = "hydrate"))]
    {
        Err("runs in the browser only".into())
    }
}

/// Exchanges a card our page holds (JSON) for the acquirer's single-use token.
pub async fn tokenize_card(url: &str, card_json: &str) -> Result<String, String> {
    call("tokenizeCard", &[url, card_json]).await
}

/// What 3-D Secure 2 asks of the browser (EMV's browser fields); the server adds the Accept header. Read here
/// rather than in `checkout.js`: taking them as JSON would add a deserializer to the wasm. None on the server.
pub fn browser_info() -> Option<crate::domain::checkout::BrowserInfo> {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsValue;
        let get = |o: &JsValue, key: &str| js_sys::Reflect::get(o, &key.into()).unwrap_or(JsValue::UNDEFINED);
        let global = JsValue::from(js_sys::global());
        let (navigator, screen) = (get(&global, "navigator"), get(&global, "screen"));
        let number = |key: &str| get(&screen, key).as_f64().unwrap_or(0.0);
        Some(crate::domain::checkout::BrowserInfo {
            accept_header: String::new(),
            user_agent: string_of(&navigator, "userAgent").unwrap_or_default(),
            java_enabled: false,
            javascript_enabled: true,
            language: string_of(&navigator, "language").unwrap_or_else(|| "en".to_owned()),
            color_depth: number("colorDepth") as u8,
            screen_height: number("height") as u32,
            screen_width: number("width") as u32,
            time_zone: js_sys::Date::new_0().get_timezone_offset() as i32,
        })
    }
    #[cfg(not(feature = "hydrate"))]
    {
        None
    }
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
