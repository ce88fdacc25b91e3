//! Calls into `public/checkout.js` (the bridge to Cardinal and verifone.js) from the browser build. On the
//! server these are never called (they run from event handlers and effects only).

#[cfg(feature = "hydrate")]
mod js {
    use wasm_bindgen::prelude::*;

    #[wasm_bindgen]
    extern "C" {
        #[wasm_bindgen(js_namespace = checkoutBridge, catch)]
        pub fn setup(songbird_url: &str, jwt: &str) -> Result<js_sys::Promise, JsValue>;
        #[wasm_bindgen(js_namespace = checkoutBridge, catch)]
        pub fn bin(digits: &str) -> Result<js_sys::Promise, JsValue>;
        #[wasm_bindgen(js_namespace = checkoutBridge, catch)]
        pub fn encrypt(verifone_url: &str, card: &str, key: &str) -> Result<js_sys::Promise, JsValue>;
        #[wasm_bindgen(js_namespace = checkoutBridge, catch)]
        pub fn challenge(acs_url: &str, payload: &str, transaction_id: &str) -> Result<js_sys::Promise, JsValue>;
    }

    pub async fn string(p: Result<js_sys::Promise, JsValue>) -> Result<String, String> {
        let message = |e: JsValue| {
            e.dyn_ref::<js_sys::Error>().map(|e| String::from(e.message())).unwrap_or_else(|| format!("{e:?}"))
        };
        let v = wasm_bindgen_futures::JsFuture::from(p.map_err(message)?).await.map_err(message)?;
        Ok(v.as_string().unwrap_or_else(|| v.as_bool().map(|b| b.to_string()).unwrap_or_default()))
    }
}

#[cfg(feature = "hydrate")]
pub async fn setup(songbird_url: &str, jwt: &str) -> Result<String, String> {
    js::string(js::setup(songbird_url, jwt)).await
}

#[cfg(feature = "hydrate")]
pub async fn bin(digits: &str) -> Result<String, String> {
    js::string(js::bin(digits)).await
}

#[cfg(feature = "hydrate")]
pub async fn encrypt(verifone_url: &str, card_json: &str, key: &str) -> Result<String, String> {
    js::string(js::encrypt(verifone_url, card_json, key)).await
}

#[cfg(feature = "hydrate")]
pub async fn challenge(acs_url: &str, payload: &str, transaction_id: &str) -> Result<String, String> {
    js::string(js::challenge(acs_url, payload, transaction_id)).await
}

#[cfg(not(feature = "hydrate"))]
mod server_side {
    const BROWSER_ONLY: &str = "runs in the browser only";
    pub async fn setup(_: &str, _: &str) -> Result<String, String> {
        Err(BROWSER_ONLY.into())
    }
    pub async fn bin(_: &str) -> Result<String, String> {
        Err(BROWSER_ONLY.into())
    }
    pub async fn encrypt(_: &str, _: &str, _: &str) -> Result<String, String> {
        Err(BROWSER_ONLY.into())
    }
    pub async fn challenge(_: &str, _: &str, _: &str) -> Result<String, String> {
        Err(BROWSER_ONLY.into())
    }
}

#[cfg(not(feature = "hydrate"))]
pub use server_side::*;

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
