//! Builds the router and serves it.

use super::{
    bank, config::Settings, db, merchant, notifications, routes, sandbox, saved_card_forms, state::AppState, telemetry,
};
use crate::app::{App, shell};
use crate::domain::status::PaymentStatus;
use axum::{Router, http::HeaderValue, routing::get};
use leptos::config::{Env, LeptosOptions};
use leptos_axum::{LeptosRoutes, generate_route_list};
use std::{io, net::SocketAddr, time::Duration};
use tokio::net::TcpListener;
use tower_http::{
    set_header::SetResponseHeaderLayer,
    trace::{DefaultOnRequest, TraceLayer},
};

pub struct Application {
    listener: TcpListener,
    router: Router,
    pub state: AppState,
}

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("cannot open the database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("cannot bind the address: {0}")]
    Bind(#[from] io::Error),
    #[error("cannot create the merchant user from MERCHANT_EMAIL/MERCHANT_PASSWORD: {0}")]
    MerchantUser(String),
    #[error(transparent)]
    SandboxKey(#[from] sandbox::cards::KeyFileError),
    #[error(transparent)]
    Seal(#[from] db::sealed::SealError),
}

impl Application {
    /// Binds `settings.addr` and builds the app.
    pub async fn build(settings: Settings) -> Result<Application, StartupError> {
        let listener = TcpListener::bind(settings.addr).await?;
        Application::with_listener(settings, listener).await
    }

    /// Builds the app on a listener bound already (tests bind port 0 first, then derive the settings).
    pub async fn with_listener(settings: Settings, listener: TcpListener) -> Result<Application, StartupError> {
        let pool = db::connect(&settings.database_url).await?;
        let seal = db::sealed::Seal::start(settings.seal_key_file.as_deref(), &pool).await?;
        if let Some((email, password)) = &settings.merchant.bootstrap_user {
            use secrecy::ExposeSecret;
            merchant::auth::create_user(&pool, email, password.expose_secret())
                .await
                .map_err(StartupError::MerchantUser)?;
            tracing::info!("merchant user from MERCHANT_EMAIL is ready");
        }
        let leptos_options = leptos_options(&settings, listener.local_addr()?);
        super::crash::arm(&settings);
        let sandbox =
            settings.mounts_sandbox().then(|| sandbox::Sandbox::open(sandbox_config(&settings))).transpose()?;
        let state = AppState::new(leptos_options, pool, seal, settings);
        let router = router(state.clone(), sandbox);
        tokio::spawn(sweep(state.clone()));
        Ok(Application { listener, router, state })
    }

    pub fn addr(&self) -> SocketAddr {
        self.listener.local_addr().expect("a bound listener has an address")
    }

    pub async fn run_until_stopped(self) -> io::Result<()> {
        // The peer address is kept for per-address sign-in throttling.
        let service = self.router.into_make_service_with_connect_info::<SocketAddr>();
        axum::serve(self.listener, service).with_graceful_shutdown(shutdown_signal()).await
    }
}

/// Periodically: resolve payments and actions whose answer was lost, expire checkouts left unfinished,
/// forget sessions, sign-in failures and checkout limit counters that no longer count, and scrub the card
/// data of ended checkouts from the database files.
async fn sweep(state: AppState) {
    let mut tick = tokio::time::interval(Duration::from_secs(state.settings.shop.sweep_interval_secs.max(1)));
    loop {
        tick.tick().await;
        let checkout = state.checkout();
        if let Err(e) = checkout.expire_abandoned().await {
            tracing::warn!(error = %e, "expiring abandoned checkouts failed");
        }
        // Lost answers, and calls a stopped process never recorded (their orders still say authorizing).
        for status in [PaymentStatus::Unknown, PaymentStatus::Authorizing] {
            for id in db::orders::with_status(&state.pool, status).await.unwrap_or_default() {
                if let Err(e) = checkout.resolve_unknown(&id).await {
                    tracing::warn!(error = %e, "resolving an unknown payment failed");
                }
            }
        }
        let actions = state.actions();
        if let Err(e) = actions.resolve_unknown().await {
            tracing::warn!(error = %e, "resolving an unknown refund, capture or void failed");
        }
        if let Err(e) = merchant::auth::prune(&state.pool, &state.settings).await {
            tracing::warn!(error = %e, "pruning merchant sessions failed");
        }
        if let Err(e) = state.limits().prune().await {
            tracing::warn!(error = %e, "pruning checkout limit counters failed");
        }
        if let Err(e) = state.saved_cards().prune().await {
            tracing::warn!(error = %e, "pruning shopper codes and sessions failed");
        }
        // Moves the sealing keys on at midnight, so the day before yesterday's is destroyed.
        if let Err(e) = state.seal.keep_up(&state.pool).await {
            tracing::error!(error = %e, "the sealing keys could not be moved on or checked");
        }
        // Last, so what this sweep ended is scrubbed from the files too.
        if let Err(e) = db::retention::scrub(&state.pool).await {
            tracing::warn!(error = %e, "scrubbing ended checkouts' card data failed");
        }
    }
}

fn sandbox_config(settings: &Settings) -> sandbox::SandboxConfig {
    let mut config = sandbox::SandboxConfig::new(&format!("{}/sandbox", settings.public_url));
    config.notification_url = settings.sandbox_notification_url.clone();
    config.timeout_delay = Duration::from_millis(settings.sandbox_timeout_delay_ms);
    config.site_root = settings.site_root.clone();
    config.key_file = settings.sandbox_key_file.clone();
    config
}

fn leptos_options(settings: &Settings, addr: SocketAddr) -> LeptosOptions {
    let env = match std::env::var("LEPTOS_ENV").as_deref() {
        Ok("PROD") | Ok("prod") | Ok("production") => Env::PROD,
        _ => Env::DEV,
    };
    LeptosOptions::builder()
        .output_name(env!("CARGO_PKG_NAME"))
        .site_root(settings.site_root.as_str())
        .site_pkg_dir("pkg")
        .site_addr(addr)
        .env(env)
        .build()
}

/// The app's routes, with the sandbox under `/sandbox` if there is one.
pub fn router(state: AppState, sandbox: Option<sandbox::SandboxState>) -> Router {
    let routes = generate_route_list(App);
    let options = state.leptos_options.clone();
    let mut router = Router::new()
        .route("/health", get(routes::health))
        .route("/notifications/{provider}", axum::routing::post(notifications::receive))
        .route("/checkout/{order}/bank", get(bank::page))
        // The bank's page posts here cross-site: no same-origin guard (it is not under /api/), a small body.
        .route(
            "/checkout/{order}/3ds-return",
            axum::routing::post(bank::back).layer(axum::extract::DefaultBodyLimit::max(256 * 1024)),
        )
        .merge(merchant::router())
        .merge(saved_card_forms::router());
    if let Some(sandbox) = sandbox {
        router = router.nest_service("/sandbox", sandbox::router(sandbox));
    }
    let router = router
        .leptos_routes(&state, routes, move || shell(options.clone()))
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(shell));
    with_security_headers(router)
        .layer(axum::middleware::from_fn(telemetry::server_timing))
        .layer(axum::middleware::from_fn_with_state(state.clone(), same_origin_api))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(telemetry::request_span)
                .on_request(DefaultOnRequest::new().level(tracing::Level::DEBUG))
                .on_response(|res: &axum::http::Response<_>, latency: Duration, span: &tracing::Span| {
                    span.record("status", res.status().as_u16());
                    tracing::info!(status = res.status().as_u16(), latency_ms = latency.as_millis() as u64, "response");
                }),
        )
        .with_state(state)
}

/// CSRF defence for server functions, back-office and saved-card forms: a browser's cross-site POST (its Origin or
/// Sec-Fetch-Site says so) is refused before it reaches one. The Origin is compared with `PUBLIC_URL`'s, not
/// with the Host header, which a reverse proxy may rewrite. State-changing server functions also take JSON
/// only, which a cross-site form cannot send, and the merchant's session cookie is SameSite=Lax.
async fn same_origin_api(
    axum::extract::State(state): axum::extract::State<AppState>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::{
        http::{Method, StatusCode, header},
        response::IntoResponse,
    };
    let headers = request.headers();
    let ours = origin_of(&state.settings.public_url);
    let foreign_origin = headers
        .get(header::ORIGIN)
        .is_some_and(|o| o.to_str().ok().and_then(origin_of).is_none_or(|o| Some(o) != ours));
    let cross_site = headers.get("sec-fetch-site").is_some_and(|v| v == "cross-site");
    let path = request.uri().path();
    let guarded =
        path.starts_with("/api/") || path.starts_with("/merchant/") || path.starts_with("/checkout/saved-cards/");
    if request.method() == Method::POST && guarded && (cross_site || foreign_origin) {
        return (StatusCode::FORBIDDEN, "cross-site request refused").into_response();
    }
    next.run(request).await
}

/// A URL's origin as browsers send it: `scheme://host[:port]`, lower case, without the scheme's default port.
fn origin_of(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let authority = rest.split(['/', '?', '#']).next().filter(|a| !a.is_empty())?.to_ascii_lowercase();
    let scheme = scheme.to_ascii_lowercase();
    let authority = match (scheme.as_str(), authority.rsplit_once(':')) {
        ("http", Some((host, "80"))) | ("https", Some((host, "443"))) => host.to_owned(),
        _ => authority,
    };
    Some(format!("{scheme}://{authority}"))
}

/// Headers every response carries. The payment page's Content-Security-Policy is set where it is served.
fn with_security_headers(router: Router<AppState>) -> Router<AppState> {
    use axum::http::header;
    let header = |name, value| SetResponseHeaderLayer::if_not_present(name, HeaderValue::from_static(value));
    router
        .layer(header(header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .layer(header(header::REFERRER_POLICY, "same-origin"))
        .layer(header(header::X_FRAME_OPTIONS, "SAMEORIGIN"))
}

/// Stops on Ctrl-C or SIGTERM, letting requests in flight finish.
async fn shutdown_signal() {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = async { match term.as_mut() { Some(t) => { t.recv().await; } None => std::future::pending().await } } => {}
    }
}

/// The binary's entry: settings → telemetry → app → serve; or `sandbox --port N` for the sandbox alone,
/// `sandbox-rotate-key`, `create-merchant EMAIL`.
pub async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let settings = Settings::from_env()?;
    telemetry::init(&settings, std::io::stdout);
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("create-merchant") {
        return create_merchant(&settings, args.get(1).map(String::as_str)).await;
    }
    if args.first().map(String::as_str) == Some("sandbox-rotate-key") {
        return rotate_sandbox_key(&settings);
    }
    if args.first().map(String::as_str) == Some("sandbox") {
        let port = match args.get(1).map(String::as_str) {
            Some("--port") => {
                args.get(2).and_then(|p| p.parse().ok()).ok_or("usage: card-checkout sandbox --port N")?
            }
            _ => 4000,
        };
        let mut config = sandbox_config(&settings);
        config.public_url = format!("http://127.0.0.1:{port}/sandbox");
        sandbox::run_standalone(port, config).await?;
        return Ok(());
    }
    let app = Application::build(settings).await?;
    tracing::info!(addr = %app.addr(), mode = ?app.state.settings.mode, "listening on http://{}", app.addr());
    app.run_until_stopped().await?;
    Ok(())
}

/// `card-checkout sandbox-rotate-key`: replaces the sandbox's card-encryption key with a fresh one. A running
/// app or sandbox keeps the old key until it is restarted.
fn rotate_sandbox_key(settings: &Settings) -> Result<(), Box<dyn std::error::Error>> {
    let path = settings
        .sandbox_key_file
        .as_deref()
        .ok_or("no SQLite file to keep it beside: set SANDBOX_KEY_FILE to say where the sandbox key is kept")?;
    sandbox::cards::EncryptionKey::rotate(path, &sandbox_config(settings).public_key_alias)?;
    println!("New sandbox card-encryption key in {}; restart the app or sandbox to use it", path.display());
    Ok(())
}

/// `card-checkout create-merchant EMAIL`: creates a back-office user (or sets its password). The password
/// comes from `MERCHANT_PASSWORD` or, if that is unset, the first line of standard input.
async fn create_merchant(settings: &Settings, email: Option<&str>) -> Result<(), Box<dyn std::error::Error>> {
    let email = email.ok_or("usage: card-checkout create-merchant EMAIL (password from MERCHANT_PASSWORD or stdin)")?;
    let password = match std::env::var("MERCHANT_PASSWORD") {
        Ok(p) if !p.is_empty() => p,
        _ => {
            eprintln!("Password for {email} (at least {} characters):", merchant::auth::MIN_PASSWORD_LEN);
            let mut line = String::new();
            std::io::stdin().read_line(&mut line)?;
            line.trim_end_matches(['\r', '\n']).to_owned()
        }
    };
    let pool = db::connect(&settings.database_url).await?;
    merchant::auth::create_user(&pool, email, &password).await?;
    println!("Merchant user {email} can now sign in at {}/merchant/sign-in", settings.public_url);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_are_compared_as_browsers_send_them() {
        assert_eq!(origin_of("https://Shop.Example.com/").as_deref(), Some("https://shop.example.com"));
        assert_eq!(origin_of("https://shop.example.com:443/checkout").as_deref(), Some("https://shop.example.com"));
        assert_eq!(origin_of("http://127.0.0.1:3000").as_deref(), Some("http://127.0.0.1:3000"));
        assert_eq!(origin_of("http://[::1]:80").as_deref(), Some("http://[::1]"));
        assert_eq!(origin_of("null"), None);
        assert_eq!(origin_of("https://"), None);
    }
}
