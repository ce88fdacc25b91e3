//! What every server-function error family shares: internal causes are logged on the server and replaced by
//! a plain message; nothing about them crosses to the browser; and each error leaves with its HTTP status
//! (bad input 400 or 422, not found 404, conflict 409; only a real fault is 5xx).

/// Logs an internal failure with its cause and returns the family's `Internal` variant.
#[cfg(feature = "ssr")]
pub fn internal<E: From<Internal>>(context: &'static str, cause: impl std::fmt::Display) -> E {
    tracing::error!(context, error = %cause, "internal error");
    E::from(Internal)
}

/// Marker for "something failed on our side"; each family turns it into its own variant.
#[derive(Clone, Copy, Debug)]
pub struct Internal;

/// The HTTP status each error of a family answers with.
pub trait HttpStatus {
    fn http_status(&self) -> u16;
}

/// Sets the status of the server function's response; `leptos_axum` applies it to the response whose body
/// is the error being encoded.
#[cfg(feature = "ssr")]
pub fn set_response_status(status: u16) {
    let options = leptos::prelude::use_context::<leptos_axum::ResponseOptions>();
    if let (Some(options), Ok(status)) = (options, axum::http::StatusCode::from_u16(status)) {
        options.set_status(status);
    }
}

/// Implements `FromServerFnError` (JSON on the wire, with the family's `HttpStatus`) and `From<Internal>` for
/// an error family whose enum has `Internal`, `Malformed` and `Transport(String)` variants.
///
/// On the server, the errors `server_fn` makes itself are of two kinds: a request whose arguments could not
/// be read (the caller's fault: `Malformed`, without the decoder's words, which may quote what was sent) and
/// anything else (ours: `Transport`). In the browser every such error is about reaching the server.
#[macro_export]
macro_rules! server_error_family {
    ($family:ty) => {
        impl leptos::server_fn::error::FromServerFnError for $family {
            type Encoder = leptos::server_fn::codec::JsonEncoding;

            fn from_server_fn_error(value: leptos::server_fn::error::ServerFnErrorErr) -> Self {
                match value {
                    #[cfg(feature = "ssr")]
                    leptos::server_fn::error::ServerFnErrorErr::Args(_)
                    | leptos::server_fn::error::ServerFnErrorErr::MissingArg(_)
                    | leptos::server_fn::error::ServerFnErrorErr::Deserialization(_) => <$family>::Malformed,
                    other => <$family>::Transport(other.to_string()),
                }
            }

            fn ser(&self) -> leptos::server_fn::Bytes {
                use leptos::server_fn::Encodes;
                #[cfg(feature = "ssr")]
                $crate::api::error::set_response_status($crate::api::error::HttpStatus::http_status(self));
                leptos::server_fn::codec::JsonEncoding::encode(self)
                    .or_else(|_| leptos::server_fn::codec::JsonEncoding::encode(&<$family>::Internal))
                    .unwrap_or_default()
            }
        }

        impl From<$crate::api::error::Internal> for $family {
            fn from(_: $crate::api::error::Internal) -> Self {
                <$family>::Internal
            }
        }
    };
}
