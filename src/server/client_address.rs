//! Who a request comes from, for throttling (back-office sign-in, the checkout's rate limits): one rule,
//! shared, so a proxy in front of us is trusted the same way everywhere.

use axum::{
    extract::ConnectInfo,
    http::{Extensions, HeaderMap},
};
use std::net::{IpAddr, SocketAddr};

/// The client of a request whose peer address `axum` put in its extensions (served with connect info).
pub fn of_request(extensions: &Extensions, headers: &HeaderMap, trusted: &[IpAddr]) -> String {
    let peer = extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip());
    client_address(peer, headers, trusted)
}

/// The client's address for throttling: the peer, or, when the peer is a trusted proxy, the nearest
/// `X-Forwarded-For` hop that is not one (hops further left could be made up by the client).
pub fn client_address(peer: Option<IpAddr>, headers: &HeaderMap, trusted: &[IpAddr]) -> String {
    let Some(peer) = peer else { return "unknown".into() };
    if !trusted.contains(&peer) {
        return peer.to_string();
    }
    let hops: Vec<&str> =
        headers.get_all("x-forwarded-for").iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(',')).collect();
    // From the right: each trusted hop vouches for the one before it; stop at anything unreadable.
    let mut client = peer;
    for hop in hops.iter().rev() {
        match hop.trim().parse::<IpAddr>() {
            Ok(ip) if trusted.contains(&ip) => client = ip,
            Ok(ip) => return ip.to_string(),
            Err(_) => break,
        }
    }
    client.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn forwarded_addresses_count_only_behind_a_trusted_proxy() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        let mut headers = HeaderMap::new();
        headers.insert("x-forwarded-for", HeaderValue::from_static("198.51.100.9, 203.0.113.7, 10.0.0.2"));
        let proxies = [ip("10.0.0.1"), ip("10.0.0.2")];
        assert_eq!(client_address(Some(ip("10.0.0.1")), &headers, &proxies), "203.0.113.7");
        assert_eq!(client_address(Some(ip("192.0.2.5")), &headers, &proxies), "192.0.2.5", "untrusted peer");
        assert_eq!(client_address(Some(ip("10.0.0.1")), &HeaderMap::new(), &proxies), "10.0.0.1");
        assert_eq!(client_address(Some(ip("10.0.0.1")), &headers, &[]), "10.0.0.1", "no proxies configured");
        assert_eq!(client_address(None, &headers, &proxies), "unknown");
        headers.insert("x-forwarded-for", HeaderValue::from_static("made-up, 203.0.113.7"));
        assert_eq!(client_address(Some(ip("10.0.0.1")), &headers, &proxies), "203.0.113.7");
        headers.insert("x-forwarded-for", HeaderValue::from_static("203.0.113.7, garbage"));
        assert_eq!(client_address(Some(ip("10.0.0.1")), &headers, &proxies), "10.0.0.1");
    }
}
