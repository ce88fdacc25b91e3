//! Crash points for the crash test (`tests/crash.rs`): the process aborts at a named step of a payment or an
//! action, where no kill from outside could land reliably (e.g. between the intent's commit and the call).
//! Inert unless `CHECKOUT_CRASH_AT` names the point AND the app runs against the sandbox.

use super::config::Settings;
use std::sync::OnceLock;

pub const VAR: &str = "CHECKOUT_CRASH_AT";

/// The armed point, `<attempt kind>:<step>` (e.g. `refund:after_intent`); set once at start-up.
static ARMED: OnceLock<Option<String>> = OnceLock::new();

/// Reads `CHECKOUT_CRASH_AT`, in sandbox mode only.
pub fn arm(settings: &Settings) {
    let point = settings.mounts_sandbox().then(|| std::env::var(VAR).ok()).flatten();
    let _ = ARMED.set(point);
}

/// Aborts the process (as SIGKILL would: no unwinding, no flush) if `kind:step` is the armed point.
pub fn point(kind: &str, step: &str) {
    if let Some(Some(armed)) = ARMED.get()
        && armed.split_once(':') == Some((kind, step))
    {
        std::process::abort();
    }
}
