//! Typed settings, read once at start-up from the environment (and an optional `.env`). Every setting has a
//! default that serves the embedded sandbox; live mode refuses to start without its credentials.

use crate::domain::money::Currency;
use crate::server::db::orders::Provider;
use secrecy::SecretString;
use std::{collections::HashMap, net::SocketAddr, str::FromStr};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    Human,
    Json,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProviderMode {
    /// Providers are emulated by the sandbox mounted in this process (or at `SANDBOX_BASE_URL`).
    Sandbox,
    /// Real provider endpoints and credentials.
    Live,
}

/// Who plays each role in a new checkout: the acquirer moves the money, the authenticator runs 3-D Secure.
/// Bambora authenticates only inside its own payment, so it never authenticates for another acquirer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Roles {
    pub payment: Provider,
    pub threeds: Provider,
}

impl Roles {
    /// Whether `provider` plays a role (live mode needs credentials for these only).
    pub fn uses(self, provider: Provider) -> bool {
        self.payment == provider || self.threeds == provider
    }
}

#[derive(Clone, Debug)]
pub struct VerifoneSettings {
    /// Host of the 3DS service and the eCommerce API (both live under `/oidc`).
    pub base_url: String,
    pub user_uid: String,
    pub api_key: SecretString,
    pub threeds_contract_id: String,
    pub payment_provider_contract: String,
    pub public_key_alias: String,
    /// The card-capture public key (armored OpenPGP). In sandbox mode it is fetched from the sandbox.
    pub encryption_key: Option<String>,
    /// Browser scripts: Verifone's card encryption and Cardinal's Songbird.
    pub verifone_js_url: String,
    pub songbird_js_url: String,
    /// How long we wait for any Verifone call before treating it as unanswered.
    pub timeout_ms: u64,
    /// Shared secret that signs the transaction events Verifone POSTs to us.
    pub notification_secret: SecretString,
    /// The token scope (Verifone Central's vault) saved cards' reuse tokens are created under.
    pub token_scope: String,
}

#[derive(Clone, Debug)]
pub struct BamboraSettings {
    /// The Payment API base, `…/v1` (the Reporting API lives under it too).
    pub base_url: String,
    pub merchant_id: String,
    pub api_passcode: SecretString,
    /// The Reporting API's own passcode (searching by order number after a lost answer).
    pub report_passcode: SecretString,
    /// How long we wait for any Bambora call before treating it as unanswered.
    pub timeout_ms: u64,
    /// Custom Checkout, the browser script that tokenizes the card.
    pub checkout_js_url: String,
    /// The merchant account's currency: a payment request names none, so every amount is in this one.
    pub account_currency: Currency,
}

/// What to do when 3-D Secure cannot give an answer (enrolled U/B, lookup error or timeout, step-up
/// unavailable): decline, or authorize without liability shift. N and R are never authorized.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ThreeDsPolicy {
    Decline,
    ProceedWithoutShift,
}

#[derive(Clone, Debug)]
pub struct ShopSettings {
    pub currency: crate::domain::money::Currency,
    /// Sale (authorize and capture) or pre-authorization (capture later).
    pub pre_auth: bool,
    pub threeds_policy: ThreeDsPolicy,
    /// Minutes after which an unfinished checkout (e.g. a tab closed mid-challenge) expires.
    pub abandon_after_minutes: i64,
    /// How often unfinished checkouts are expired and lost payment answers resolved.
    pub sweep_interval_secs: u64,
}

/// Card-testing brakes: each start costs a 3DS JWT, each place a lookup and an authorization. Defaults are
/// far above what a shopper (or the test suites, from one address) does.
#[derive(Clone, Debug)]
pub struct CheckoutLimits {
    /// `checkout/start` calls per client address per address window.
    pub starts_per_address: i64,
    /// `checkout/place` calls per client address per address window.
    pub places_per_address: i64,
    pub address_window_minutes: i64,
    /// Declined or failed payments per card fingerprint per card window, after which the card is refused.
    pub card_failures: i64,
    pub card_window_minutes: i64,
}

#[derive(Clone, Debug)]
pub struct MerchantSettings {
    /// A session ends after this many minutes without a request...
    pub session_idle_minutes: i64,
    /// ...and this many hours after sign-in in any case.
    pub session_max_hours: i64,
    /// `MERCHANT_EMAIL` and `MERCHANT_PASSWORD`: this user is created (or its password set) at start-up.
    pub bootstrap_user: Option<(String, SecretString)>,
    /// Session cookies are `Secure` with the `__Host-` prefix: served over HTTPS, or on a loopback address,
    /// which browsers treat as secure.
    pub secure_cookies: bool,
}

#[derive(Clone, Debug)]
pub struct Settings {
    pub addr: SocketAddr,
    /// Where shoppers reach us; used for redirect targets and notification URLs.
    pub public_url: String,
    pub database_url: String,
    pub log_format: LogFormat,
    pub log_level: String,
    /// Folder with the built site (`/pkg`, assets), as cargo-leptos lays it out.
    pub site_root: String,
    pub mode: ProviderMode,
    pub roles: Roles,
    /// In live mode, a provider that plays no role keeps empty credentials and is not configured.
    pub verifone: VerifoneSettings,
    pub bambora: BamboraSettings,
    pub shop: ShopSettings,
    pub merchant: MerchantSettings,
    pub limits: CheckoutLimits,
    pub saved_cards: SavedCardSettings,
    /// Where the embedded sandbox POSTs transaction events (none by default).
    pub sandbox_notification_url: Option<String>,
    /// How long the sandbox's "timeout" test cards hold a lookup.
    pub sandbox_timeout_delay_ms: u64,
    /// Where the sandbox keeps its card-encryption key (`SANDBOX_KEY_FILE`; by default `sandbox-key.asc`
    /// beside the SQLite file), so a page or client given the public key keeps working across restarts.
    /// None for an in-memory database: the key then lives as long as the process.
    pub sandbox_key_file: Option<std::path::PathBuf>,
    /// Where the key that seals the database's transient secrets is kept (`SEAL_KEY_FILE`; by default `seal.key`
    /// beside the SQLite file; none with PostgreSQL, whose instances must share one: the app refuses to start
    /// without it). None for an in-memory SQLite database: the key then lives as long as the process.
    pub seal_key_file: Option<std::path::PathBuf>,
    /// Reverse proxies in front of us: from these peers, the client is read from `X-Forwarded-For`.
    pub trusted_proxies: Vec<std::net::IpAddr>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    #[error("{name} is required when PROVIDER_MODE=live; set it in the environment or .env")]
    Missing { name: &'static str },
    #[error("{name} must be set together with {with}")]
    Incomplete { name: &'static str, with: &'static str },
    #[error("{name} has an invalid value {value:?}: {expected}")]
    Invalid { name: &'static str, value: String, expected: &'static str },
    #[error(
        "THREEDS_PROVIDER=bambora needs PAYMENT_PROVIDER=bambora: Bambora authenticates only within its own \
         payments (for Bambora payments authenticated by Verifone, set THREEDS_PROVIDER=verifone)"
    )]
    ImpossibleRoles,
    #[error(
        "SHOP_CURRENCY={shop} but the Bambora account takes {account} (BAMBORA_ACCOUNT_CURRENCY): a Bambora payment \
         names no currency, so the shop must sell in the account's"
    )]
    CurrencyMismatch { shop: String, account: String },
}

/// Saved cards (Verifone reuse tokens) and the shopper's email confirmation that guards them.
#[derive(Clone, Debug)]
pub struct SavedCardSettings {
    /// Offered only when Verifone is the acquirer (`SAVED_CARDS`: on by default in sandbox mode, off live).
    pub enabled: bool,
    /// Where mail is sent: the sandbox's outbox, or `MAIL_URL` in live mode (required when saved cards are on).
    pub mail_url: Option<String>,
    pub code_minutes: i64,
    pub code_tries: i64,
    /// Codes sent per email and per client address per window.
    pub codes_per_window: i64,
    pub code_window_minutes: i64,
    pub session_minutes: i64,
    /// A merchant-initiated charge may be at most the original order's amount times this percentage.
    pub merchant_charge_percent: i64,
}

/// Sandbox credentials: public on purpose, accepted only by the embedded sandbox.
pub mod sandbox_defaults {
    pub const VERIFONE_USER_UID: &str = "sandbox-user";
    pub const VERIFONE_API_KEY: &str = "sandbox-api-key";
    pub const VERIFONE_3DS_CONTRACT_ID: &str = "sandbox-3ds-contract";
    pub const VERIFONE_PAYMENT_CONTRACT: &str = "sandbox-payment-contract";
    pub const VERIFONE_PUBLIC_KEY_ALIAS: &str = "sandbox-key";
    /// The sandbox's token scope (a uuid, as Verifone Central names a token vault).
    pub const VERIFONE_TOKEN_SCOPE: &str = "5a0c2d6e-8f4b-4c1a-9e3d-7b2f1a6c0d94";
    pub const BAMBORA_MERCHANT_ID: &str = "300200578";
    pub const BAMBORA_API_PASSCODE: &str = "sandbox-passcode";
    pub const BAMBORA_REPORT_PASSCODE: &str = "sandbox-report-passcode";
    pub const NOTIFICATION_SECRET: &str = "sandbox-notification-secret";
}

/// Where transaction events are received (the sandbox's default target, and the URL to give Verifone).
pub const VERIFONE_NOTIFICATION_PATH: &str = "/notifications/verifone";

impl Settings {
    /// Reads the process environment, after loading `.env` if there is one.
    pub fn from_env() -> Result<Settings, ConfigError> {
        let _ = dotenvy::dotenv();
        Settings::from_vars(&std::env::vars().collect())
    }

    /// Builds settings from a map of variables; tests pass their own.
    pub fn from_vars(vars: &HashMap<String, String>) -> Result<Settings, ConfigError> {
        let get = |name: &str| vars.get(name).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
        let addr = parse(&get, "APP_ADDR", "127.0.0.1:3000", "an address such as 127.0.0.1:3000")?;
        let mode = match get("PROVIDER_MODE").as_deref().unwrap_or("sandbox") {
            "sandbox" => ProviderMode::Sandbox,
            "live" => ProviderMode::Live,
            other => return Err(invalid("PROVIDER_MODE", other, "sandbox or live")),
        };
        let log_format = match get("LOG_FORMAT").as_deref().unwrap_or("human") {
            "human" => LogFormat::Human,
            "json" => LogFormat::Json,
            other => return Err(invalid("LOG_FORMAT", other, "human or json")),
        };
        let public_url = get("PUBLIC_URL").unwrap_or_else(|| format!("http://{addr}"));
        let public_url = public_url.trim_end_matches('/').to_owned();
        // In sandbox mode the providers live under our own /sandbox unless pointed elsewhere.
        let sandbox_url = get("SANDBOX_BASE_URL").unwrap_or_else(|| format!("{public_url}/sandbox"));

        let provider = |name: &'static str, default: Provider| match get(name) {
            None => Ok(default),
            Some(v) => Provider::parse(&v).ok_or_else(|| invalid(name, &v, "verifone or bambora")),
        };
        let payment = provider("PAYMENT_PROVIDER", Provider::Verifone)?;
        let roles = Roles { payment, threeds: provider("THREEDS_PROVIDER", payment)? };
        if roles == (Roles { payment: Provider::Verifone, threeds: Provider::Bambora }) {
            return Err(ConfigError::ImpossibleRoles);
        }

        // A setting that has a sandbox default and must be given explicitly in live mode, when its provider
        // plays a role.
        let credential_of = |provider: Provider| {
            let needed = mode == ProviderMode::Sandbox || roles.uses(provider);
            move |name: &'static str, sandbox: &str| -> Result<String, ConfigError> {
                match (get(name), mode) {
                    (Some(v), _) => Ok(v),
                    (None, ProviderMode::Sandbox) => Ok(sandbox.to_owned()),
                    (None, ProviderMode::Live) if needed => Err(ConfigError::Missing { name }),
                    (None, ProviderMode::Live) => Ok(String::new()),
                }
            }
        };
        let credential = credential_of(Provider::Verifone);
        use sandbox_defaults as d;
        let verifone = VerifoneSettings {
            base_url: credential("VERIFONE_BASE_URL", &format!("{sandbox_url}/verifone"))?,
            user_uid: credential("VERIFONE_USER_UID", d::VERIFONE_USER_UID)?,
            api_key: credential("VERIFONE_API_KEY", d::VERIFONE_API_KEY)?.into(),
            threeds_contract_id: credential("VERIFONE_3DS_CONTRACT_ID", d::VERIFONE_3DS_CONTRACT_ID)?,
            payment_provider_contract: credential("VERIFONE_PAYMENT_CONTRACT", d::VERIFONE_PAYMENT_CONTRACT)?,
            public_key_alias: credential("VERIFONE_PUBLIC_KEY_ALIAS", d::VERIFONE_PUBLIC_KEY_ALIAS)?,
            encryption_key: match mode {
                ProviderMode::Sandbox => get("VERIFONE_ENCRYPTION_KEY"),
                ProviderMode::Live => Some(credential("VERIFONE_ENCRYPTION_KEY", "")?).filter(|k| !k.is_empty()),
            },
            verifone_js_url: get("VERIFONE_JS_URL").unwrap_or_else(|| match mode {
                ProviderMode::Sandbox => format!("{sandbox_url}/verifone/verifone.js"),
                ProviderMode::Live => "https://cst.jsclient.vficloud.net/verifone.js".to_owned(),
            }),
            songbird_js_url: get("SONGBIRD_JS_URL").unwrap_or_else(|| match mode {
                ProviderMode::Sandbox => format!("{sandbox_url}/cardinal/songbird.js"),
                ProviderMode::Live => "https://songbirdstag.cardinalcommerce.com/edge/v1/songbird.js".to_owned(),
            }),
            timeout_ms: parse(&get, "VERIFONE_TIMEOUT_MS", "10000", "milliseconds")?,
            notification_secret: credential("VERIFONE_NOTIFICATION_SECRET", d::NOTIFICATION_SECRET)?.into(),
            token_scope: get("VERIFONE_TOKEN_SCOPE").unwrap_or_else(|| d::VERIFONE_TOKEN_SCOPE.to_owned()),
        };
        let bootstrap_user = match (get("MERCHANT_EMAIL"), get("MERCHANT_PASSWORD")) {
            (Some(email), Some(password)) => Some((email, SecretString::from(password))),
            (None, None) => None,
            (Some(_), None) => {
                return Err(ConfigError::Incomplete { name: "MERCHANT_PASSWORD", with: "MERCHANT_EMAIL" });
            }
            // A password alone is for `create-merchant EMAIL`.
            (None, Some(_)) => None,
        };
        let host = public_url.split_once("://").map_or("", |(_, rest)| rest).split(['/', ':']).next().unwrap_or("");
        let merchant = MerchantSettings {
            session_idle_minutes: parse(&get, "MERCHANT_SESSION_IDLE_MINUTES", "30", "whole minutes")?,
            session_max_hours: parse(&get, "MERCHANT_SESSION_MAX_HOURS", "12", "whole hours")?,
            bootstrap_user,
            secure_cookies: public_url.starts_with("https://") || matches!(host, "localhost" | "127.0.0.1" | "[::1]"),
        };
        let credential = credential_of(Provider::Bambora);
        let bambora = BamboraSettings {
            base_url: credential("BAMBORA_BASE_URL", &format!("{sandbox_url}/bambora/v1"))?,
            merchant_id: credential("BAMBORA_MERCHANT_ID", d::BAMBORA_MERCHANT_ID)?,
            api_passcode: credential("BAMBORA_API_PASSCODE", d::BAMBORA_API_PASSCODE)?.into(),
            report_passcode: credential("BAMBORA_REPORT_PASSCODE", d::BAMBORA_REPORT_PASSCODE)?.into(),
            timeout_ms: parse(&get, "BAMBORA_TIMEOUT_MS", "10000", "milliseconds")?,
            checkout_js_url: get("BAMBORA_CHECKOUT_JS_URL").unwrap_or_else(|| match mode {
                ProviderMode::Sandbox => format!("{sandbox_url}/bambora/customcheckout/1/customcheckout.js"),
                ProviderMode::Live => "https://libs.na.bambora.com/customcheckout/1/customcheckout.js".to_owned(),
            }),
            account_currency: {
                let code = credential("BAMBORA_ACCOUNT_CURRENCY", "CAD")?;
                Currency::parse(&code).map_err(|_| invalid("BAMBORA_ACCOUNT_CURRENCY", &code, "an ISO 4217 code"))?
            },
        };
        // A Bambora shop sells in its account's currency unless told otherwise (and then it must match).
        let shop_currency = match get("SHOP_CURRENCY") {
            Some(code) => {
                Currency::parse(&code).map_err(|_| invalid("SHOP_CURRENCY", &code, "an ISO 4217 code such as EUR"))?
            }
            None if roles.payment == Provider::Bambora => bambora.account_currency,
            None => Currency::EUR,
        };
        if roles.payment == Provider::Bambora && shop_currency != bambora.account_currency {
            return Err(ConfigError::CurrencyMismatch {
                shop: shop_currency.code().to_owned(),
                account: bambora.account_currency.code().to_owned(),
            });
        }
        // The embedded sandbox notifies us, as Verifone would; "none" turns that off.
        let sandbox_notification_url = match get("SANDBOX_NOTIFICATION_URL") {
            Some(off) if off == "none" => None,
            Some(url) => Some(url),
            None => Some(format!("{public_url}{VERIFONE_NOTIFICATION_PATH}")),
        };
        let saved_cards = {
            let enabled = match get("SAVED_CARDS").as_deref() {
                None => mode == ProviderMode::Sandbox,
                Some("on") => true,
                Some("off") => false,
                Some(other) => return Err(invalid("SAVED_CARDS", other, "on or off")),
            } && roles.payment == Provider::Verifone;
            let mail_url = match mode {
                ProviderMode::Sandbox => Some(get("MAIL_URL").unwrap_or_else(|| format!("{sandbox_url}/mail"))),
                ProviderMode::Live => get("MAIL_URL"),
            };
            // The confirmation code is the only way in to saved cards: without a mailer they cannot be offered.
            if enabled && mail_url.is_none() {
                return Err(ConfigError::Missing { name: "MAIL_URL" });
            }
            SavedCardSettings {
                enabled,
                mail_url,
                code_minutes: parse(&get, "SHOPPER_CODE_MINUTES", "10", "whole minutes")?,
                code_tries: parse(&get, "SHOPPER_CODE_TRIES", "5", "a whole number")?,
                codes_per_window: parse(&get, "SHOPPER_CODES_PER_WINDOW", "5", "a whole number")?,
                code_window_minutes: parse(&get, "SHOPPER_CODE_WINDOW_MINUTES", "60", "whole minutes")?,
                session_minutes: parse(&get, "SHOPPER_SESSION_MINUTES", "30", "whole minutes")?,
                merchant_charge_percent: parse(&get, "MERCHANT_CHARGE_PERCENT", "100", "a whole percentage")?,
            }
        };
        let database_url = get("DATABASE_URL").unwrap_or_else(|| "sqlite://data/checkout.db".to_owned());
        let sandbox_key_file =
            get("SANDBOX_KEY_FILE").map(Into::into).or_else(|| beside_database(&database_url, "sandbox-key.asc"));
        // PostgreSQL: no default (the app refuses to start without one; other commands need none).
        let seal_key_file = get("SEAL_KEY_FILE").map(Into::into).or_else(|| beside_database(&database_url, "seal.key"));
        Ok(Settings {
            addr,
            public_url,
            database_url,
            log_format,
            log_level: get("LOG_LEVEL").unwrap_or_else(|| "info".to_owned()),
            site_root: get("LEPTOS_SITE_ROOT").unwrap_or_else(|| "target/site".to_owned()),
            mode,
            roles,
            verifone,
            bambora,
            shop: ShopSettings {
                currency: shop_currency,
                pre_auth: match get("CAPTURE_MODE").as_deref().unwrap_or("sale") {
                    "sale" => false,
                    "pre_auth" => true,
                    other => return Err(invalid("CAPTURE_MODE", other, "sale or pre_auth")),
                },
                threeds_policy: match get("THREEDS_POLICY").as_deref().unwrap_or("decline") {
                    "decline" => ThreeDsPolicy::Decline,
                    "proceed" => ThreeDsPolicy::ProceedWithoutShift,
                    other => return Err(invalid("THREEDS_POLICY", other, "decline or proceed")),
                },
                abandon_after_minutes: parse(&get, "CHECKOUT_ABANDON_MINUTES", "30", "whole minutes")?,
                sweep_interval_secs: parse(&get, "SWEEP_INTERVAL_SECS", "30", "whole seconds")?,
            },
            merchant,
            limits: CheckoutLimits {
                starts_per_address: parse(&get, "CHECKOUT_STARTS_PER_ADDRESS", "240", "a whole number")?,
                places_per_address: parse(&get, "CHECKOUT_PLACES_PER_ADDRESS", "120", "a whole number")?,
                address_window_minutes: parse(&get, "CHECKOUT_ADDRESS_WINDOW_MINUTES", "10", "whole minutes")?,
                card_failures: parse(&get, "CHECKOUT_CARD_FAILURES", "5", "a whole number")?,
                card_window_minutes: parse(&get, "CHECKOUT_CARD_WINDOW_MINUTES", "60", "whole minutes")?,
            },
            saved_cards,
            sandbox_notification_url,
            sandbox_timeout_delay_ms: parse(&get, "SANDBOX_TIMEOUT_DELAY_MS", "20000", "milliseconds")?,
            sandbox_key_file,
            seal_key_file,
            trusted_proxies: match get("TRUSTED_PROXIES") {
                None => Vec::new(),
                Some(list) => list
                    .split(',')
                    .map(|ip| {
                        ip.trim().parse().map_err(|_| invalid("TRUSTED_PROXIES", ip, "IP addresses, comma-separated"))
                    })
                    .collect::<Result<_, _>>()?,
            },
        })
    }

    /// Whether a provider's client is set up here: all of them against the sandbox, only those playing a role
    /// live.
    pub fn configures(&self, provider: Provider) -> bool {
        self.mode == ProviderMode::Sandbox || self.roles.uses(provider)
    }

    /// Whether the embedded sandbox is mounted in this process.
    pub fn mounts_sandbox(&self) -> bool {
        self.mode == ProviderMode::Sandbox
    }
}

/// `name` in the SQLite file's folder; none for an in-memory database.
fn beside_database(database_url: &str, name: &str) -> Option<std::path::PathBuf> {
    use sqlx::sqlite::SqliteConnectOptions;
    // SQLite's parser takes a postgres:// URL for a relative file name: only a SQLite file has a folder.
    let sqlite = super::db::Engine::of_url(database_url) == Some(super::db::Engine::Sqlite);
    if !sqlite || database_url.contains(":memory:") || database_url.contains("mode=memory") {
        return None;
    }
    let options = SqliteConnectOptions::from_str(database_url).ok()?;
    Some(options.get_filename().parent().unwrap_or(std::path::Path::new("")).join(name))
}

fn invalid(name: &'static str, value: &str, expected: &'static str) -> ConfigError {
    ConfigError::Invalid { name, value: value.to_owned(), expected }
}

fn parse<T: FromStr>(
    get: &impl Fn(&str) -> Option<String>,
    name: &'static str,
    default: &str,
    expected: &'static str,
) -> Result<T, ConfigError> {
    let value = get(name).unwrap_or_else(|| default.to_owned());
    value.parse().map_err(|_| invalid(name, &value, expected))
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    fn vars(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn saved_cards_need_a_mailer_in_live_mode() {
        let live = [
            ("PROVIDER_MODE", "live"),
            ("VERIFONE_BASE_URL", "https://cst.test-gsc.vfims.com"),
            ("VERIFONE_USER_UID", "u"),
            ("VERIFONE_API_KEY", "k"),
            ("VERIFONE_3DS_CONTRACT_ID", "c"),
            ("VERIFONE_PAYMENT_CONTRACT", "p"),
            ("VERIFONE_PUBLIC_KEY_ALIAS", "a"),
            ("VERIFONE_ENCRYPTION_KEY", "key"),
            ("VERIFONE_NOTIFICATION_SECRET", "s"),
            ("BAMBORA_ACCOUNT_CURRENCY", "EUR"),
        ];
        let with = |extra: &[(&str, &str)]| {
            let mut pairs = live.to_vec();
            pairs.extend_from_slice(extra);
            Settings::from_vars(&vars(&pairs))
        };
        assert!(!with(&[]).unwrap().saved_cards.enabled, "off by default in live mode");
        assert_eq!(with(&[("SAVED_CARDS", "on")]).unwrap_err(), ConfigError::Missing { name: "MAIL_URL" });
        let on = with(&[("SAVED_CARDS", "on"), ("MAIL_URL", "https://mail.example/send")]).unwrap();
        assert!(on.saved_cards.enabled);
        let sandbox = Settings::from_vars(&HashMap::new()).unwrap();
        assert!(sandbox.saved_cards.enabled);
        assert_eq!(sandbox.saved_cards.mail_url.as_deref(), Some("http://127.0.0.1:3000/sandbox/mail"));
        let bambora = Settings::from_vars(&vars(&[("PAYMENT_PROVIDER", "bambora")])).unwrap();
        assert!(!bambora.saved_cards.enabled, "only Verifone offers saved cards");
    }

    #[test]
    fn defaults_serve_the_sandbox() {
        let s = Settings::from_vars(&HashMap::new()).unwrap();
        assert_eq!(s.addr.to_string(), "127.0.0.1:3000");
        assert_eq!(s.mode, ProviderMode::Sandbox);
        assert_eq!(s.database_url, "sqlite://data/checkout.db");
        assert_eq!(s.verifone.base_url, "http://127.0.0.1:3000/sandbox/verifone");
        assert_eq!(s.verifone.api_key.expose_secret(), sandbox_defaults::VERIFONE_API_KEY);
        assert_eq!(s.log_format, LogFormat::Human);
    }

    #[test]
    fn the_sandbox_key_is_kept_beside_the_database_unless_told_otherwise() {
        let key_file = |pairs: &[(&str, &str)]| Settings::from_vars(&vars(pairs)).unwrap().sandbox_key_file;
        assert_eq!(key_file(&[]), Some("data/sandbox-key.asc".into()));
        assert_eq!(
            key_file(&[("DATABASE_URL", "sqlite:///var/lib/shop/db.sqlite?mode=rwc")]),
            Some("/var/lib/shop/sandbox-key.asc".into())
        );
        assert_eq!(key_file(&[("DATABASE_URL", "sqlite://shop.db")]), Some("sandbox-key.asc".into()));
        assert_eq!(key_file(&[("DATABASE_URL", "sqlite::memory:")]), None);
        assert_eq!(key_file(&[("DATABASE_URL", "postgres://app@db.internal:5432/shop")]), None, "no folder");
        assert_eq!(
            key_file(&[("DATABASE_URL", "sqlite::memory:"), ("SANDBOX_KEY_FILE", "/etc/k.asc")]),
            Some("/etc/k.asc".into())
        );
    }

    #[test]
    fn the_seal_key_is_kept_beside_the_database_and_named_for_postgres() {
        let key_file = |pairs: &[(&str, &str)]| Settings::from_vars(&vars(pairs)).unwrap().seal_key_file;
        assert_eq!(key_file(&[]), Some("data/seal.key".into()));
        assert_eq!(
            key_file(&[("DATABASE_URL", "sqlite:///var/lib/shop/db.sqlite")]),
            Some("/var/lib/shop/seal.key".into())
        );
        assert_eq!(key_file(&[("DATABASE_URL", "sqlite::memory:")]), None);
        let postgres = ("DATABASE_URL", "postgres://shop@db:5432/checkout");
        assert_eq!(key_file(&[postgres]), None, "no default: the instances must share one");
        assert_eq!(key_file(&[postgres, ("SEAL_KEY_FILE", "/etc/shop/seal.key")]), Some("/etc/shop/seal.key".into()));
    }

    #[test]
    fn live_mode_names_the_missing_variable() {
        let err = Settings::from_vars(&vars(&[("PROVIDER_MODE", "live")])).unwrap_err();
        assert_eq!(err, ConfigError::Missing { name: "VERIFONE_BASE_URL" });
        assert!(err.to_string().starts_with("VERIFONE_BASE_URL is required"));
        let err = Settings::from_vars(&vars(&[
            ("PROVIDER_MODE", "live"),
            ("VERIFONE_BASE_URL", "https://cst.test-gsc.vfims.com"),
            ("VERIFONE_USER_UID", "u"),
        ]))
        .unwrap_err();
        assert_eq!(err, ConfigError::Missing { name: "VERIFONE_API_KEY" });
    }

    #[test]
    fn the_roles_default_to_verifone_and_follow_the_payment_provider() {
        let roles = |pairs: &[(&str, &str)]| Settings::from_vars(&vars(pairs)).map(|s| s.roles);
        let (v, b) = (Provider::Verifone, Provider::Bambora);
        assert_eq!(roles(&[]), Ok(Roles { payment: v, threeds: v }));
        assert_eq!(roles(&[("PAYMENT_PROVIDER", "bambora")]), Ok(Roles { payment: b, threeds: b }));
        // The own process: Verifone authenticates, Bambora moves the money.
        assert_eq!(
            roles(&[("PAYMENT_PROVIDER", "bambora"), ("THREEDS_PROVIDER", "verifone")]),
            Ok(Roles { payment: b, threeds: v })
        );
        let err = roles(&[("THREEDS_PROVIDER", "bambora")]).unwrap_err();
        assert_eq!(err, ConfigError::ImpossibleRoles);
        assert!(err.to_string().contains("PAYMENT_PROVIDER=bambora"));
        let err = roles(&[("PAYMENT_PROVIDER", "adyen")]).unwrap_err();
        assert!(err.to_string().contains("PAYMENT_PROVIDER"));
    }

    #[test]
    fn live_mode_needs_the_credentials_of_the_chosen_providers_only() {
        let bambora_live = [
            ("PROVIDER_MODE", "live"),
            ("PAYMENT_PROVIDER", "bambora"),
            ("BAMBORA_BASE_URL", "https://api.na.bambora.com/v1"),
            ("BAMBORA_MERCHANT_ID", "300200578"),
            ("BAMBORA_API_PASSCODE", "p"),
            ("BAMBORA_REPORT_PASSCODE", "r"),
            ("BAMBORA_ACCOUNT_CURRENCY", "CAD"),
        ];
        let s = Settings::from_vars(&vars(&bambora_live)).unwrap();
        assert!(s.configures(Provider::Bambora) && !s.configures(Provider::Verifone));
        let err = Settings::from_vars(&vars(&bambora_live[..5])).unwrap_err();
        assert_eq!(err, ConfigError::Missing { name: "BAMBORA_REPORT_PASSCODE" });
        // The own process needs both.
        let own = [&bambora_live[..], &[("THREEDS_PROVIDER", "verifone")]].concat();
        let err = Settings::from_vars(&vars(&own)).unwrap_err();
        assert_eq!(err, ConfigError::Missing { name: "VERIFONE_BASE_URL" });
        // Verifone alone does not need Bambora's.
        let err = Settings::from_vars(&vars(&[("PROVIDER_MODE", "live")])).unwrap_err();
        assert_eq!(err, ConfigError::Missing { name: "VERIFONE_BASE_URL" });
        let sandbox = Settings::from_vars(&HashMap::new()).unwrap();
        assert!(sandbox.configures(Provider::Bambora) && sandbox.configures(Provider::Verifone));
    }

    #[test]
    fn a_bambora_shop_sells_in_its_accounts_currency() {
        let shop = |pairs: &[(&str, &str)]| Settings::from_vars(&vars(pairs)).map(|s| s.shop.currency);
        assert_eq!(shop(&[]), Ok(Currency::EUR));
        assert_eq!(shop(&[("PAYMENT_PROVIDER", "bambora")]), Ok(Currency::CAD), "the sandbox account's");
        let usd = [("PAYMENT_PROVIDER", "bambora"), ("BAMBORA_ACCOUNT_CURRENCY", "USD")];
        assert_eq!(shop(&usd).map(Currency::code), Ok("USD"));
        let err = shop(&[("PAYMENT_PROVIDER", "bambora"), ("SHOP_CURRENCY", "EUR")]).unwrap_err();
        assert_eq!(err, ConfigError::CurrencyMismatch { shop: "EUR".into(), account: "CAD".into() });
        assert!(err.to_string().contains("BAMBORA_ACCOUNT_CURRENCY"));
        // Verifone takes any currency: Bambora's account does not matter then.
        assert_eq!(shop(&[("SHOP_CURRENCY", "JPY")]).map(Currency::code), Ok("JPY"));
    }

    #[test]
    fn rejects_bad_values_by_name() {
        let err = Settings::from_vars(&vars(&[("LOG_FORMAT", "xml")])).unwrap_err();
        assert!(err.to_string().contains("LOG_FORMAT"));
        let err = Settings::from_vars(&vars(&[("APP_ADDR", "nowhere")])).unwrap_err();
        assert!(err.to_string().contains("APP_ADDR"));
    }

    #[test]
    fn secrets_do_not_debug_print() {
        let s = Settings::from_vars(&HashMap::new()).unwrap();
        assert!(!format!("{s:?}").contains(sandbox_defaults::VERIFONE_API_KEY));
    }
}
