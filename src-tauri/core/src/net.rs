//! Where a URL points, for the rules that differ for this machine (RFC 8252 §8.3: plain `http`
//! only to loopback; proxies never for loopback).

use url::{Host, Url};

/// The host is on this machine: 127.0.0.0/8, `::1` (also as `::ffff:127.x.y.z`) or
/// `localhost` (any case, with or without the root's trailing dot). A URL without a host is not.
pub fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => {
            ip.is_loopback() || ip.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
        }
        Some(Host::Domain(d)) => d
            .strip_suffix('.')
            .unwrap_or(d)
            .eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::is_loopback;

    #[test]
    fn loopback_hosts() {
        for yes in [
            "http://127.0.0.1:1/",
            "http://127.9.8.7/",
            "http://[::1]:5/",
            "http://[::ffff:127.0.0.1]/",
            "http://LOCALHOST/",
            "http://localhost./",
        ] {
            assert!(is_loopback(&yes.parse().unwrap()), "{yes}");
        }
        for no in [
            "http://128.0.0.1/",
            "http://[::2]/",
            "http://localhost.example/",
            "https://kauth.kakao.com/",
            "data:text/plain,x",
        ] {
            assert!(!is_loopback(&no.parse().unwrap()), "{no}");
        }
    }
}
