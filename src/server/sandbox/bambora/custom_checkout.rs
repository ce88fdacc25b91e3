//! Custom Checkout, emulated: `customcheckout.js` with the real library's global API, and the field pages it
//! mounts in iframes, so the merchant's page never sees the card.
//!
//! Design: each input is an iframe of `/customcheckout/1/field?type=…&id=…&origin=…` served from the sandbox's
//! origin. The frames tell the merchant's page (`postMessage` to the `origin` they were given, which must be
//! their parent's) only brand / empty / complete / error / focus metadata. On `createToken` the page asks the
//! card-number frame, which gathers the CVV and expiry from its sibling frames over a `BroadcastChannel` named
//! after the instance `id` (same-origin only: the merchant's page cannot join it), calls the tokenization
//! endpoint itself (same origin) and hands the page the token, last four digits and expiry.

use super::super::SandboxState;
use axum::{
    Json, Router,
    extract::{Query, rejection::QueryRejection},
    http::{StatusCode, header},
    response::{IntoResponse, Response},
    routing::get,
};
use serde::Deserialize;
use serde_json::json;

const CUSTOMCHECKOUT_JS: &str = include_str!("assets/customcheckout.js");
const FIELD_JS: &str = include_str!("assets/customcheckout-field.js");

/// The field page's own policy: its script and its calls stay on the sandbox's origin, any merchant may frame
/// it (`frame-ancestors *` also overrides the app-wide `X-Frame-Options: SAMEORIGIN`), and styles come only
/// from the script's constructed stylesheets.
const FIELD_CSP: &str = "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'none'; \
                         img-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors *";

pub fn router() -> Router<SandboxState> {
    Router::new()
        .route("/customcheckout/1/customcheckout.js", get(|| async { javascript(CUSTOMCHECKOUT_JS) }))
        .route("/customcheckout/1/field", get(field_page))
        .route("/customcheckout/1/field.js", get(|| async { javascript(FIELD_JS) }))
}

fn javascript(source: &'static str) -> Response {
    ([(header::CONTENT_TYPE, "text/javascript; charset=utf-8"), (header::CACHE_CONTROL, "no-cache")], source)
        .into_response()
}

/// The three inputs, as `customcheckout.create(type)` names them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Field {
    CardNumber,
    Cvv,
    Expiry,
}

impl Field {
    fn parse(name: &str) -> Option<Field> {
        match name {
            "card-number" => Some(Field::CardNumber),
            "cvv" => Some(Field::Cvv),
            "expiry" => Some(Field::Expiry),
            _ => None,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Field::CardNumber => "card-number",
            Field::Cvv => "cvv",
            Field::Expiry => "expiry",
        }
    }

    /// The input's accessible name (release 1.0.2 of the library added `aria-label`s; the words are ours `[I]`).
    fn label(self) -> &'static str {
        match self {
            Field::CardNumber => "Card number",
            Field::Cvv => "CVV",
            Field::Expiry => "Expiry (MM / YY)",
        }
    }

    fn autocomplete(self) -> &'static str {
        match self {
            Field::CardNumber => "cc-number",
            Field::Cvv => "cc-csc",
            Field::Expiry => "cc-exp",
        }
    }
}

#[derive(Deserialize)]
struct FieldQuery {
    #[serde(rename = "type")]
    field: Option<String>,
}

/// One input, styled and driven by `field.js`; the instance id and the parent's origin stay in the query for
/// the script (the server needs only the type).
async fn field_page(query: Result<Query<FieldQuery>, QueryRejection>) -> Response {
    let field = query.ok().and_then(|Query(q)| q.field).as_deref().and_then(Field::parse);
    let Some(field) = field else {
        let message = "type must be card-number, cvv or expiry";
        return (StatusCode::BAD_REQUEST, Json(json!({"message": message}))).into_response();
    };
    let page = format!(
        r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{label}</title>
<script src="field.js" defer></script>
</head>
<body>
<input id="field" type="text" inputmode="numeric" autocomplete="{autocomplete}" aria-label="{label}" aria-invalid="false" spellcheck="false" data-field="{name}">
</body>
</html>
"#,
        label = field.label(),
        autocomplete = field.autocomplete(),
        name = field.name(),
    );
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
            (header::CONTENT_SECURITY_POLICY, FIELD_CSP),
            (header::REFERRER_POLICY, "no-referrer"),
        ],
        page,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::sandbox::{Sandbox, SandboxConfig};
    use axum::{body::Body, http::Request};
    use tower::ServiceExt;

    async fn get(uri: &str) -> (StatusCode, axum::http::HeaderMap, String) {
        let app = router().with_state(Sandbox::new(SandboxConfig::new("http://127.0.0.1:1/sandbox")));
        let response = app.oneshot(Request::get(uri).body(Body::empty()).unwrap()).await.unwrap();
        let (parts, body) = response.into_parts();
        let bytes = axum::body::to_bytes(body, 1 << 20).await.unwrap();
        (parts.status, parts.headers, String::from_utf8(bytes.to_vec()).unwrap())
    }

    #[tokio::test]
    async fn serves_the_library_as_javascript() {
        let (status, headers, body) = get("/customcheckout/1/customcheckout.js").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(headers[header::CONTENT_TYPE], "text/javascript; charset=utf-8");
        assert_eq!(headers[header::CACHE_CONTROL], "no-cache");
        assert!(body.contains("global.customcheckout = customcheckout"));
    }

    #[tokio::test]
    async fn serves_a_frameable_labelled_field_per_type() {
        for (field, label) in [("card-number", "Card number"), ("cvv", "CVV"), ("expiry", "Expiry (MM / YY)")] {
            let (status, headers, body) = get(&format!("/customcheckout/1/field?type={field}&id=x&origin=y")).await;
            assert_eq!(status, StatusCode::OK, "{field}");
            assert!(headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap().contains("frame-ancestors *"));
            assert!(!headers.contains_key(header::X_FRAME_OPTIONS));
            assert!(
                body.contains(&format!(r#"aria-label="{label}""#))
                    && body.contains(&format!(r#"data-field="{field}""#))
            );
        }
    }

    #[tokio::test]
    async fn refuses_an_unknown_field_type() {
        assert_eq!(get("/customcheckout/1/field?type=pin").await.0, StatusCode::BAD_REQUEST);
        assert_eq!(get("/customcheckout/1/field").await.0, StatusCode::BAD_REQUEST);
    }
}
