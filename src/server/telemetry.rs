//! Logging: `tracing` with an env filter, human or JSON lines, one span per request named after the matched
//! route. Request URIs, query strings, headers and bodies are never logged: they may carry card data.

use super::config::{LogFormat, Settings};
use axum::{extract::MatchedPath, http::Request};
use tracing::Span;
use tracing_subscriber::{EnvFilter, fmt::MakeWriter, layer::SubscriberExt, util::SubscriberInitExt};

/// Installs the global subscriber writing to `writer` (stdout in the binary, a buffer in tests).
pub fn init<W>(settings: &Settings, writer: W)
where
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    let filter = EnvFilter::try_new(&settings.log_level).unwrap_or_else(|_| EnvFilter::new("info"));
    let registry = tracing_subscriber::registry().with(filter);
    let fmt = tracing_subscriber::fmt::layer().with_writer(writer).with_target(true);
    let result = match settings.log_format {
        LogFormat::Human => registry.with(fmt).try_init(),
        LogFormat::Json => registry.with(fmt.json().flatten_event(true).with_current_span(true)).try_init(),
    };
    // A second init (tests spawning several apps in one process) keeps the first subscriber.
    let _ = result;
}

/// The span for one request: method and the route pattern it matched (`/checkout/{order}`), never the
/// concrete path or query.
pub fn request_span<B>(request: &Request<B>) -> Span {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| route_family(request.uri().path()));
    tracing::info_span!("request", method = %request.method(), route = %route, status = tracing::field::Empty)
}

/// For paths no axum route matched (Leptos pages, static files, 404s): the first segment only, so ids and
/// anything typed into a URL stay out of the log.
fn route_family(path: &str) -> String {
    let first = path.trim_start_matches('/').split('/').next().unwrap_or("");
    let safe = !first.is_empty() && first.chars().all(|c| c.is_ascii_alphabetic() || c == '-' || c == '_');
    if first.is_empty() {
        "/".to_owned()
    } else if safe {
        format!("/{first}/*")
    } else {
        "/*".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::route_family;

    #[test]
    fn route_family_drops_everything_after_the_first_segment() {
        assert_eq!(route_family("/"), "/");
        assert_eq!(route_family("/checkout/4111111111111111"), "/checkout/*");
        assert_eq!(route_family("/4111111111111111"), "/*");
        assert_eq!(route_family("/pkg/app.wasm"), "/pkg/*");
    }
}

tokio::task_local! {
    /// Time this request has spent waiting on providers so far.
    static PROVIDER_TIME: std::cell::Cell<std::time::Duration>;
}

/// Counts `spent` as time the current request waited on a provider (nothing outside a request).
pub fn add_provider_time(spent: std::time::Duration) {
    let _ = PROVIDER_TIME.try_with(|t| t.set(t.get() + spent));
}

/// Adds `Server-Timing: app;dur=…, provider;dur=…` to server-function answers: how long we took of our own
/// and how long the providers took inside the same request, so our overhead is measured, not estimated.
pub async fn server_timing(request: axum::extract::Request, next: axum::middleware::Next) -> axum::response::Response {
    if !request.uri().path().starts_with("/api/") {
        return next.run(request).await;
    }
    let started = std::time::Instant::now();
    let (provider, mut response) = PROVIDER_TIME
        .scope(std::cell::Cell::new(std::time::Duration::ZERO), async {
            let response = next.run(request).await;
            (PROVIDER_TIME.with(|t| t.get()), response)
        })
        .await;
    let ms = |d: std::time::Duration| d.as_secs_f64() * 1000.0;
    let own = started.elapsed().saturating_sub(provider);
    let value = format!("app;dur={:.2}, provider;dur={:.2}", ms(own), ms(provider));
    if let Ok(v) = axum::http::HeaderValue::from_str(&value) {
        response.headers_mut().insert("server-timing", v);
    }
    response
}
