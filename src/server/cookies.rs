//! Session cookies (the merchant's and the shopper's): made and read one way.

use axum::http::{HeaderMap, header};

/// A session cookie for the whole site: HttpOnly, SameSite=Lax, and Secure when `secure` (its name then
/// carries the `__Host-` prefix).
pub fn session(name: &str, secure: bool, value: &str, max_age_secs: i64) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age_secs}{secure}")
}

/// The value of the cookie `name` a request presents.
pub fn value(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
}
