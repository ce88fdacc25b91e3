//! The embedded provider sandbox: Verifone's 3DS service and eCommerce API, the Cardinal browser SDK, the
//! issuer's challenge page and card encryption, emulated over real HTTP under `/sandbox`. It shares no wire
//! types with our provider clients: each side is written from the spec on its own.

pub mod acs;
pub mod auth;
pub mod bambora;
pub mod cardinal;
pub mod cards;
pub mod ecommerce;
pub mod faults;
pub mod jwt;
pub mod mail;
pub mod notifications;
pub mod scenarios;
mod test_cards;
pub mod threeds;
pub mod tokens;

pub use test_cards::test_cards;

use crate::server::config::sandbox_defaults;
use axum::{Router, middleware};
use std::{
    collections::BTreeMap,
    sync::{Arc, Mutex},
    time::Duration,
};

/// The sandbox merchant account's name `[I]`: the app's own.
pub const MERCHANT_NAME: &str = "Card Checkout";

/// How the sandbox is set up. Defaults match the app's sandbox credentials.
#[derive(Clone, Debug)]
pub struct SandboxConfig {
    pub user_uid: String,
    pub api_key: String,
    pub threeds_contract_id: String,
    pub payment_provider_contract: String,
    pub public_key_alias: String,
    /// The token scope (vault) reuse tokens are issued under.
    pub token_scope: String,
    pub bambora_merchant_id: String,
    pub bambora_api_passcode: String,
    /// The Reporting API has a passcode of its own.
    pub bambora_report_passcode: String,
    /// The merchant's name as the providers have it on file: the issuer's page shows it.
    pub merchant_name: String,
    /// Where the sandbox itself is reachable from a browser (for acs_url and script URLs).
    pub public_url: String,
    /// How long the "timeout" test card holds the lookup.
    pub timeout_delay: Duration,
    /// Where transaction events are POSTed, if anywhere.
    pub notification_url: Option<String>,
    pub notification_secret: String,
    /// The built site's folder, where the vendored OpenPGP.js lives.
    pub site_root: String,
    /// Where the card-encryption key is kept; none: a fresh key for this process only.
    pub key_file: Option<std::path::PathBuf>,
}

impl SandboxConfig {
    pub fn new(public_url: &str) -> SandboxConfig {
        use sandbox_defaults as d;
        SandboxConfig {
            user_uid: d::VERIFONE_USER_UID.into(),
            api_key: d::VERIFONE_API_KEY.into(),
            threeds_contract_id: d::VERIFONE_3DS_CONTRACT_ID.into(),
            payment_provider_contract: d::VERIFONE_PAYMENT_CONTRACT.into(),
            public_key_alias: d::VERIFONE_PUBLIC_KEY_ALIAS.into(),
            token_scope: d::VERIFONE_TOKEN_SCOPE.into(),
            bambora_merchant_id: d::BAMBORA_MERCHANT_ID.into(),
            bambora_api_passcode: d::BAMBORA_API_PASSCODE.into(),
            bambora_report_passcode: d::BAMBORA_REPORT_PASSCODE.into(),
            merchant_name: MERCHANT_NAME.into(),
            public_url: public_url.trim_end_matches('/').to_owned(),
            timeout_delay: Duration::from_secs(20),
            notification_url: None,
            notification_secret: d::NOTIFICATION_SECRET.into(),
            site_root: "target/site".into(),
            key_file: None,
        }
    }
}

/// Everything the sandbox remembers. In memory, but for the card-encryption key (`SandboxConfig::key_file`): a
/// restart starts a clean sandbox, as a fresh CST account would, that still decrypts cards encrypted before.
pub struct Sandbox {
    pub config: SandboxConfig,
    pub key: cards::EncryptionKey,
    pub matrix: scenarios::Matrix,
    pub faults: faults::Faults,
    pub threeds: Mutex<threeds::Store>,
    pub ecommerce: Mutex<ecommerce::Store>,
    /// Stored cards. Never locked while `ecommerce` is wanted.
    pub vault: Mutex<tokens::Vault>,
    pub bambora: bambora::State,
    pub notifier: notifications::Notifier,
}

pub type SandboxState = Arc<Sandbox>;

impl Sandbox {
    /// A sandbox with the key kept in `config.key_file`, made there on first use.
    pub fn open(config: SandboxConfig) -> Result<SandboxState, cards::KeyFileError> {
        let key = match &config.key_file {
            Some(path) => cards::EncryptionKey::load_or_create(path, &config.public_key_alias)?,
            None => cards::EncryptionKey::generate(&config.public_key_alias),
        };
        Ok(Sandbox::with_key(config, key))
    }

    /// A sandbox with a fresh key of its own, whatever `config.key_file` says (unit tests).
    pub fn new(config: SandboxConfig) -> SandboxState {
        let key = cards::EncryptionKey::generate(&config.public_key_alias);
        Sandbox::with_key(config, key)
    }

    fn with_key(config: SandboxConfig, key: cards::EncryptionKey) -> SandboxState {
        let notifier = notifications::Notifier::new(config.notification_url.clone(), &config.notification_secret);
        Arc::new(Sandbox {
            key,
            matrix: scenarios::Matrix::load(),
            faults: faults::Faults::default(),
            threeds: Mutex::new(threeds::Store::default()),
            ecommerce: Mutex::new(ecommerce::Store::default()),
            vault: Mutex::new(tokens::Vault::default()),
            bambora: bambora::State::default(),
            notifier,
            config,
        })
    }

    /// The secret the sandbox signs its JWTs with (Cardinal signs with the merchant's API key).
    pub fn jwt_secret(&self) -> &[u8] {
        self.config.api_key.as_bytes()
    }
}

/// The sandbox's routes, to be nested under `/sandbox`.
pub fn router(sandbox: SandboxState) -> Router {
    Router::new()
        .nest("/verifone/oidc/3ds-service", threeds::router())
        .nest("/verifone/oidc/api", ecommerce::router().merge(tokens::router()))
        .nest("/verifone", cardinal::verifone_js_router())
        .nest("/cardinal", cardinal::router())
        .nest("/acs", acs::router())
        .nest("/bambora", bambora::router())
        .nest("/mail", mail::router())
        .nest("/_control", faults::control_router())
        .layer(middleware::from_fn_with_state(sandbox.clone(), faults::inject))
        .with_state(sandbox)
}

/// Seconds since the epoch.
pub fn now_secs() -> i64 {
    crate::server::db::now_ms() / 1000
}

/// A random string of `len` letters and digits (Cardinal-style transaction ids).
pub fn random_alnum(len: usize) -> String {
    use rand::{Rng, distributions::Alphanumeric};
    rand::thread_rng().sample_iter(&Alphanumeric).take(len).map(char::from).collect()
}

pub fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// Runs the sandbox on its own (`card-checkout sandbox --port N`), for pointing the app at another host.
pub async fn run_standalone(port: u16, config: SandboxConfig) -> Result<(), Box<dyn std::error::Error>> {
    let sandbox = Sandbox::open(config)?;
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    let addr = listener.local_addr()?;
    let app = Router::new().nest("/sandbox", router(sandbox));
    tracing::info!("sandbox listening on http://{addr}/sandbox");
    axum::serve(listener, app.into_make_service_with_connect_info::<std::net::SocketAddr>()).await?;
    Ok(())
}

/// Keyed store helper: many of the sandbox's records are maps from an id to a record. A B-tree, not a hash
/// map: a store grows by one record per payment, and a hash map's doubling moves every record at once under
/// the store's lock (tens of milliseconds at ~14,000 of them), which stalled every caller of the sandbox.
pub type Table<T> = BTreeMap<String, T>;
