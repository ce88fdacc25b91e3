//! What every server-function error family shares: internal causes are logged on the server and replaced by
//! a plain message; nothing about them crosses to the browser.

/// Logs an internal failure with its cause and returns the family's `Internal` variant.
#[cfg(feature = "ssr")]
pub fn internal<E: From<Internal>>(context: &'static str, cause: impl std::fmt::Display) -> E {
    tracing::error!(context, error = %cause, "internal error");
    E::from(Internal)
}

/// Marker for "something failed on our side"; each family turns it into its own variant.
#[derive(Clone, Copy, Debug)]
pub struct Internal;

/// Implements `FromServerFnError` (JSON on the wire) and `From<Internal>` for an error family whose enum has
/// `Internal` and `Transport(String)` variants.
#[macro_export]
macro_rules! server_error_family {
    ($family:ty) => {
        impl leptos::server_fn::error::FromServerFnError for $family {
            type Encoder = leptos::server_fn::codec::JsonEncoding;

            fn from_server_fn_error(value: leptos::server_fn::error::ServerFnErrorErr) -> Self {
                <$family>::Transport(value.to_string())
            }
        }

        impl From<$crate::api::error::Internal> for $family {
            fn from(_: $crate::api::error::Internal) -> Self {
                <$family>::Internal
            }
        }
    };
}
