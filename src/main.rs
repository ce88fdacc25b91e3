#[cfg(feature = "ssr")]
#[tokio::main]
async fn main() {
    if let Err(e) = card_checkout::server::startup::run().await {
        eprintln!("card-checkout could not start: {e}");
        std::process::exit(1);
    }
}

#[cfg(not(feature = "ssr"))]
fn main() {
    // The browser build starts from `hydrate()` in lib.rs.
}
