//! The Content-Security-Policy of our pages: exactly the scripts and frames the payment page needs. In
//! sandbox mode every provider script and the issuer's page are our own origin; in live mode the hosts of
//! the configured scripts, and Cardinal's frames, are added.

use super::config::{ProviderMode, Settings};
use super::db::orders::Provider;

pub fn policy(settings: &Settings, nonce: &str) -> String {
    let roles = settings.roles;
    let mut scripts: Vec<String> = Vec::new();
    let mut frames: Vec<String> = Vec::new();
    let mut connect: Vec<String> = Vec::new();
    let live = settings.mode == ProviderMode::Live;
    if roles.uses(Provider::Verifone) {
        let v = &settings.verifone;
        for host in [&v.songbird_js_url, &v.verifone_js_url].into_iter().filter_map(|u| origin(u)) {
            add(&mut scripts, &host);
            add(&mut frames, &host);
            add(&mut connect, &host);
        }
        // Songbird talks to and frames Cardinal's hosts; the issuer's page opens inside Cardinal's frame.
        if live {
            add(&mut frames, "https://*.cardinalcommerce.com");
            add(&mut connect, "https://*.cardinalcommerce.com");
        }
    }
    if roles.payment == Provider::Bambora {
        let b = &settings.bambora;
        // Custom Checkout's script and its card-field frames; the tokenization endpoint our page calls when it
        // holds the card itself (own process: the card is also encrypted for Verifone).
        if let Some(host) = origin(&b.checkout_js_url) {
            add(&mut scripts, &host);
            add(&mut frames, &host);
        }
        if let Some(host) = origin(&b.base_url) {
            add(&mut connect, &host);
        }
    }
    // Bambora's 3-D Secure opens the card issuer's own page in the modal's frame: any bank, over HTTPS.
    if roles.threeds == Provider::Bambora && live {
        add(&mut frames, "https:");
    }
    let list = |hosts: &[String]| hosts.iter().map(|h| format!(" {h}")).collect::<String>();
    [
        "default-src 'self'".to_owned(),
        format!("script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'{}", list(&scripts)),
        "style-src 'self'".to_owned(),
        "img-src 'self' data:".to_owned(),
        format!("connect-src 'self'{}", list(&connect)),
        format!("frame-src 'self'{}", list(&frames)),
        "form-action 'self'".to_owned(),
        "frame-ancestors 'self'".to_owned(),
        "base-uri 'none'".to_owned(),
        "object-src 'none'".to_owned(),
    ]
    .join("; ")
}

fn add(hosts: &mut Vec<String>, host: &str) {
    if !hosts.iter().any(|h| h == host) {
        hosts.push(host.to_owned());
    }
}

/// `https://host:port` of a URL.
pub fn origin(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let host = rest.split('/').next()?;
    Some(format!("{scheme}://{host}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn settings(pairs: &[(&str, &str)]) -> Settings {
        Settings::from_vars(&pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect::<HashMap<_, _>>())
            .unwrap()
    }

    #[test]
    fn sandbox_mode_allows_only_our_origin() {
        let p = policy(&settings(&[]), "abc");
        assert!(p.contains("script-src 'self' 'nonce-abc' 'wasm-unsafe-eval' http://127.0.0.1:3000"), "{p}");
        assert!(p.contains("frame-src 'self' http://127.0.0.1:3000;"), "{p}");
        assert!(!p.contains("unsafe-inline") && !p.contains("cardinalcommerce"), "{p}");
    }

    #[test]
    fn live_mode_lists_the_seeds_script_hosts() {
        let live = [
            ("PROVIDER_MODE", "live"),
            ("VERIFONE_BASE_URL", "https://cst.test-gsc.vfims.com"),
            ("VERIFONE_USER_UID", "u"),
            ("VERIFONE_API_KEY", "k"),
            ("VERIFONE_3DS_CONTRACT_ID", "c"),
            ("VERIFONE_PAYMENT_CONTRACT", "p"),
            ("VERIFONE_PUBLIC_KEY_ALIAS", "a"),
            ("VERIFONE_ENCRYPTION_KEY", "-----BEGIN PGP PUBLIC KEY BLOCK-----"),
            ("VERIFONE_NOTIFICATION_SECRET", "s"),
            ("BAMBORA_BASE_URL", "https://api.na.bambora.com/v1"),
            ("BAMBORA_MERCHANT_ID", "m"),
            ("BAMBORA_API_PASSCODE", "x"),
            ("BAMBORA_REPORT_PASSCODE", "r"),
            ("BAMBORA_ACCOUNT_CURRENCY", "CAD"),
        ];
        let p = policy(&settings(&live), "n");
        assert!(p.contains("https://cst.jsclient.vficloud.net"), "{p}");
        assert!(p.contains("https://songbirdstag.cardinalcommerce.com"), "{p}");
        assert!(p.contains("frame-src 'self' https://songbirdstag.cardinalcommerce.com https://cst.jsclient.vficloud.net https://*.cardinalcommerce.com"), "{p}");
        assert!(!p.contains("bambora"), "only the configured providers' hosts: {p}");

        let bambora = [&live[..], &[("PAYMENT_PROVIDER", "bambora")]].concat();
        let p = policy(&settings(&bambora), "n");
        assert!(p.contains("script-src 'self' 'nonce-n' 'wasm-unsafe-eval' https://libs.na.bambora.com;"), "{p}");
        assert!(p.contains("frame-src 'self' https://libs.na.bambora.com https:;"), "any bank's page: {p}");
        assert!(p.contains("connect-src 'self' https://api.na.bambora.com;"), "{p}");
        assert!(!p.contains("cardinalcommerce") && !p.contains("vficloud"), "{p}");

        let own_process = [&bambora[..], &[("THREEDS_PROVIDER", "verifone")]].concat();
        let p = policy(&settings(&own_process), "n");
        assert!(p.contains("https://songbirdstag.cardinalcommerce.com") && p.contains("https://libs.na.bambora.com"));
        assert!(!p.contains(" https:;"), "no bank page of Bambora's: {p}");
    }
}
