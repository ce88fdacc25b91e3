//! The Content-Security-Policy of our pages: exactly the scripts and frames the payment page needs. In
//! sandbox mode every provider script and the issuer's page are our own origin; in live mode the hosts of
//! the configured scripts, and Cardinal's frames, are added.

use super::config::{ProviderMode, Settings};

pub fn policy(settings: &Settings, nonce: &str) -> String {
    let v = &settings.verifone;
    let mut script_hosts: Vec<String> = Vec::new();
    for host in [&v.songbird_js_url, &v.verifone_js_url].into_iter().filter_map(|u| origin(u)) {
        if !script_hosts.contains(&host) {
            script_hosts.push(host);
        }
    }
    let (frames, connect) = match settings.mode {
        ProviderMode::Sandbox => (script_hosts.join(" "), script_hosts.join(" ")),
        // Songbird talks to and frames Cardinal's hosts; the issuer's page opens inside Cardinal's frame.
        ProviderMode::Live => {
            let cardinal = "https://*.cardinalcommerce.com";
            (format!("{} {cardinal}", script_hosts.join(" ")), format!("{} {cardinal}", script_hosts.join(" ")))
        }
    };
    let scripts = script_hosts.join(" ");
    [
        "default-src 'self'".to_owned(),
        format!("script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval' {scripts}"),
        "style-src 'self'".to_owned(),
        "img-src 'self' data:".to_owned(),
        format!("connect-src 'self' {connect}"),
        format!("frame-src 'self' {frames}"),
        "form-action 'self'".to_owned(),
        "frame-ancestors 'self'".to_owned(),
        "base-uri 'none'".to_owned(),
        "object-src 'none'".to_owned(),
    ]
    .join("; ")
    .replace("  ", " ")
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
        ];
        let p = policy(&settings(&live), "n");
        assert!(p.contains("https://cst.jsclient.vficloud.net"), "{p}");
        assert!(p.contains("https://songbirdstag.cardinalcommerce.com"), "{p}");
        assert!(p.contains("frame-src 'self' https://songbirdstag.cardinalcommerce.com https://cst.jsclient.vficloud.net https://*.cardinalcommerce.com"), "{p}");
    }
}
