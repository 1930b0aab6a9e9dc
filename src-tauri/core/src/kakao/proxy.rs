//! Which way a request goes: straight to its host, or through a proxy.
//!
//! Kakao's hosts (and profile pictures on Kakao's CDN) honour the proxy variables that curl and
//! reqwest read, by reqwest's rules: `HTTPS_PROXY` for `https://` URLs, `HTTP_PROXY` for
//! `http://` ones, `ALL_PROXY` for either when its own is unset, each name in upper case before
//! lower case. `NO_PROXY` lists hosts that go direct, in curl's syntax: a name matches itself
//! and its subdomains, IP addresses and CIDR ranges match addresses, `*` matches everything. A
//! proxy is `http://`, `https://`, `socks4://`, `socks4a://`, `socks5://` or `socks5h://`
//! (`http://` when the value has no scheme), with `user:password@` for credentials. On macOS and
//! Windows, when none of the proxy variables is set, the system's proxy settings are used as
//! reqwest reads them (without credentials).
//!
//! Loopback (127.0.0.0/8, `::1`, `localhost`) always goes direct, whatever the variables say:
//! the simulator, the sandbox and the redirect listener (RFC 8252 §7.3) are on this machine,
//! where a proxy elsewhere cannot reach them. reqwest on its own sends loopback requests through
//! `HTTP_PROXY` unless `NO_PROXY` lists them.
//!
//! [`ProxySettings`] decides once, for both the client ([`crate::kakao::ReqwestHttp`]) and the
//! diagnostics ([`ProxySettings::describe`]), so the two cannot disagree.

use hyper_util::client::proxy::matcher::Matcher;
use std::borrow::Cow;
use std::fmt;
use url::Url;

/// Every environment variable [`ProxySettings::from_env`] reads, in lookup order within each
/// pair (upper case first).
pub const VARIABLES: [&str; 8] = [
    "HTTPS_PROXY",
    "https_proxy",
    "HTTP_PROXY",
    "http_proxy",
    "ALL_PROXY",
    "all_proxy",
    "NO_PROXY",
    "no_proxy",
];

/// Proxy URL schemes reqwest can speak (with its `socks` feature).
const SCHEMES: [&str; 6] = ["http", "https", "socks4", "socks4a", "socks5", "socks5h"];

/// Where the system settings came from, as diagnostics name it.
const SYSTEM: &str = "system settings";

/// One configured proxy: its URL as given (credentials included) and the variable it came from.
#[derive(Clone)]
struct Configured {
    url: Url,
    from: &'static str,
}

/// The proxies for Kakao's hosts, read once (from the environment, or from a map in tests).
/// `Debug` shows proxies without credentials.
pub struct ProxySettings {
    /// For `http://` URLs.
    http: Option<Configured>,
    /// For `https://` URLs.
    https: Option<Configured>,
    /// `NO_PROXY` (and, when `system`, the system's proxies) with reqwest's own matching rules.
    matcher: Matcher,
    /// Which variable `NO_PROXY`'s value came from, when one was set.
    no_proxy_from: Option<&'static str>,
    /// `matcher` holds the system's settings (macOS, Windows), not `http`/`https`.
    system: bool,
    /// Variables that were set but hold no usable proxy URL; ignored as if unset.
    ignored: Vec<&'static str>,
}

/// How one request goes out. `Display` is the diagnostics' wording.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// Direct: no proxy is configured for the URL's scheme.
    Direct,
    /// Direct: the host is loopback, which is never proxied.
    Loopback,
    /// Direct: the variable named (`NO_PROXY` or `no_proxy`) lists the host.
    NoProxy {
        /// `NO_PROXY` or `no_proxy`.
        from: &'static str,
    },
    /// Through a proxy.
    Proxy {
        /// `scheme://host:port` of the proxy, credentials and path removed.
        proxy: String,
        /// The variable it came from (`HTTPS_PROXY`, …) or `system settings`.
        from: &'static str,
    },
}

impl fmt::Display for Route {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Route::Direct => f.write_str("none"),
            Route::Loopback => f.write_str("none (loopback is never proxied)"),
            Route::NoProxy { from } => write!(f, "none (listed in {from})"),
            Route::Proxy { proxy, from } => write!(f, "{proxy} (from {from})"),
        }
    }
}

/// What [`ProxySettings::decide`] found, borrowing the configured URL.
enum Decision<'a> {
    Direct,
    Loopback,
    NoProxy(&'static str),
    Via(Cow<'a, Url>, &'static str),
}

impl ProxySettings {
    /// The settings of this process: the variables in [`VARIABLES`], and on macOS and Windows
    /// the system's proxy settings when no proxy variable is set.
    pub fn from_env() -> Self {
        #[allow(unused_mut)]
        let mut settings = Self::from_vars(|name| std::env::var(name).ok());
        #[cfg(any(target_os = "macos", windows))]
        if settings.http.is_none() && settings.https.is_none() {
            // hyper-util reads the variables again (all unset, or unusable, here) and then the
            // system's settings, exactly as reqwest would on its own.
            settings.matcher = Matcher::from_system();
            settings.system = true;
        }
        settings
    }

    /// The settings `get` describes: `get(name)` is a variable's value, `None` when unset.
    /// Empty values count as unset; a value that is not a proxy URL is ignored as if unset and
    /// named by [`Self::describe`]. Reads nothing else (no system settings), so tests can pass
    /// a map without touching the process environment.
    pub fn from_vars(get: impl Fn(&str) -> Option<String>) -> Self {
        let mut ignored = Vec::new();
        let mut first = |names: [&'static str; 2]| -> Option<Configured> {
            for name in names {
                let Some(value) = get(name) else { continue };
                let value = value.trim();
                if value.is_empty() {
                    continue;
                }
                match parse_proxy(value) {
                    Some(url) => return Some(Configured { url, from: name }),
                    None => ignored.push(name),
                }
            }
            None
        };
        let all = first(["ALL_PROXY", "all_proxy"]);
        let http = first(["HTTP_PROXY", "http_proxy"]).or_else(|| all.clone());
        let https = first(["HTTPS_PROXY", "https_proxy"]).or(all);
        let no_proxy = ["NO_PROXY", "no_proxy"].into_iter().find_map(|name| {
            get(name)
                .filter(|v| !v.trim().is_empty())
                .map(|v| (name, v))
        });
        let mut builder = Matcher::builder();
        if let Some((_, value)) = &no_proxy {
            builder = builder.no(value.as_str());
        }
        if let Some(p) = &http {
            builder = builder.http(p.url.as_str());
        }
        if let Some(p) = &https {
            builder = builder.https(p.url.as_str());
        }
        ProxySettings {
            http,
            https,
            matcher: builder.build(),
            no_proxy_from: no_proxy.map(|(name, _)| name),
            system: false,
            ignored,
        }
    }

    /// No proxy at all: every request goes direct.
    pub fn none() -> Self {
        Self::from_vars(|_| None)
    }

    /// No proxy is configured for any scheme (variables or system settings).
    pub fn is_none(&self) -> bool {
        self.http.is_none() && self.https.is_none() && !self.system
    }

    /// How a request to `url` goes out.
    pub fn route(&self, url: &Url) -> Route {
        match self.decide(url) {
            Decision::Direct => Route::Direct,
            Decision::Loopback => Route::Loopback,
            Decision::NoProxy(from) => Route::NoProxy { from },
            Decision::Via(proxy, from) => Route::Proxy {
                proxy: redacted(&proxy),
                from,
            },
        }
    }

    /// The proxy to send a request to `url` through, credentials included (reqwest turns them
    /// into `Proxy-Authorization` or the SOCKS login); `None` to go direct.
    pub(crate) fn proxy_for(&self, url: &Url) -> Option<Url> {
        match self.decide(url) {
            Decision::Via(proxy, _) => Some(proxy.into_owned()),
            _ => None,
        }
    }

    /// One diagnostics line for requests to `urls` (kauth and kapi): the [`Route`] they share,
    /// or `host: route` for each host when they differ, then the variables that were ignored.
    /// Never shows credentials.
    pub fn describe(&self, urls: &[&Url]) -> String {
        let mut routes: Vec<(&str, Route)> = Vec::new();
        for url in urls {
            let host = url.host_str().unwrap_or("");
            if !routes.iter().any(|(h, _)| *h == host) {
                routes.push((host, self.route(url)));
            }
        }
        let mut out = match routes.split_first() {
            None => Route::Direct.to_string(),
            Some(((_, first), rest)) if rest.iter().all(|(_, r)| r == first) => first.to_string(),
            Some(_) => routes
                .iter()
                .map(|(host, route)| format!("{host}: {route}"))
                .collect::<Vec<_>>()
                .join("; "),
        };
        for name in &self.ignored {
            out.push_str(&format!("; {name} ignored (not a proxy URL)"));
        }
        out
    }

    fn decide(&self, url: &Url) -> Decision<'_> {
        if is_loopback(url) {
            return Decision::Loopback;
        }
        let Ok(uri) = url.as_str().parse::<http::Uri>() else {
            return Decision::Direct;
        };
        if self.system {
            return match self.matcher.intercept(&uri) {
                Some(found) => match Url::parse(&found.uri().to_string()) {
                    Ok(proxy) => Decision::Via(Cow::Owned(proxy), SYSTEM),
                    Err(_) => Decision::Direct,
                },
                None => Decision::Direct,
            };
        }
        let configured = match url.scheme() {
            "http" => self.http.as_ref(),
            "https" => self.https.as_ref(),
            _ => None,
        };
        let Some(proxy) = configured else {
            return Decision::Direct;
        };
        // The matcher knows the same proxies; it answers `None` only for a NO_PROXY host.
        match self.matcher.intercept(&uri) {
            Some(_) => Decision::Via(Cow::Borrowed(&proxy.url), proxy.from),
            None => Decision::NoProxy(self.no_proxy_from.unwrap_or("NO_PROXY")),
        }
    }
}

impl fmt::Debug for ProxySettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shown = |p: &Option<Configured>| p.as_ref().map(|p| (redacted(&p.url), p.from));
        f.debug_struct("ProxySettings")
            .field("http", &shown(&self.http))
            .field("https", &shown(&self.https))
            .field("no_proxy_from", &self.no_proxy_from)
            .field("system", &self.system)
            .field("ignored", &self.ignored)
            .finish()
    }
}

/// A proxy variable's value as a URL: `http://` is assumed without a scheme; only schemes
/// reqwest speaks, with a host.
fn parse_proxy(value: &str) -> Option<Url> {
    let with_scheme = if value.contains("://") {
        Cow::Borrowed(value)
    } else {
        Cow::Owned(format!("http://{value}"))
    };
    let url = Url::parse(&with_scheme).ok()?;
    let has_host = url.host_str().is_some_and(|h| !h.is_empty());
    (SCHEMES.contains(&url.scheme()) && has_host).then_some(url)
}

/// `scheme://host:port`: no user, password, path or query.
fn redacted(url: &Url) -> String {
    let host = url.host_str().unwrap_or("");
    match url.port_or_known_default() {
        Some(port) => format!("{}://{host}:{port}", url.scheme()),
        None => format!("{}://{host}", url.scheme()),
    }
}

pub use crate::net::is_loopback;

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn settings(pairs: &[(&str, &str)]) -> ProxySettings {
        let map: BTreeMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        ProxySettings::from_vars(|name| map.get(name).cloned())
    }

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    fn via(proxy: &str, from: &'static str) -> Route {
        Route::Proxy {
            proxy: proxy.into(),
            from,
        }
    }

    #[test]
    fn loopback_goes_direct_whatever_the_variables_say() {
        let s = settings(&[
            ("HTTP_PROXY", "http://127.0.0.1:9"),
            ("HTTPS_PROXY", "http://127.0.0.1:9"),
            ("ALL_PROXY", "socks5://127.0.0.1:9"),
        ]);
        for u in [
            "http://127.0.0.1:8080/oauth/token",
            "http://127.1.2.3/",
            "https://127.0.0.1/",
            "http://[::1]:8080/",
            "http://[::ffff:127.0.0.1]:8080/",
            "http://localhost:8080/",
            "http://LOCALHOST./x",
        ] {
            assert_eq!(s.route(&url(u)), Route::Loopback, "{u}");
            assert_eq!(s.proxy_for(&url(u)), None, "{u}");
        }
        // Names that only look local are not loopback.
        for u in [
            "http://localhost.example/",
            "http://128.0.0.1/",
            "http://[::2]/",
        ] {
            assert_eq!(
                s.route(&url(u)),
                via("http://127.0.0.1:9", "HTTP_PROXY"),
                "{u}"
            );
        }
    }

    #[test]
    fn each_scheme_takes_its_own_variable_then_all_proxy() {
        let s = settings(&[
            ("HTTPS_PROXY", "http://secure.proxy:3128"),
            ("ALL_PROXY", "socks5h://any.proxy:1080"),
        ]);
        assert_eq!(
            s.route(&url("https://kauth.kakao.com/oauth/token")),
            via("http://secure.proxy:3128", "HTTPS_PROXY")
        );
        assert_eq!(
            s.route(&url("http://kauth.example/")),
            via("socks5h://any.proxy:1080", "ALL_PROXY")
        );
        let s = settings(&[("http_proxy", "plain.proxy:8080")]);
        assert_eq!(
            s.route(&url("http://kauth.example/")),
            via("http://plain.proxy:8080", "http_proxy")
        );
        assert_eq!(s.route(&url("https://kauth.kakao.com/")), Route::Direct);
        assert_eq!(
            ProxySettings::none().route(&url("https://kauth.kakao.com/")),
            Route::Direct
        );
        assert!(ProxySettings::none().is_none() && !s.is_none());
    }

    #[test]
    fn upper_case_wins_and_empty_counts_as_unset() {
        let s = settings(&[
            ("HTTPS_PROXY", "http://upper:1"),
            ("https_proxy", "http://lower:2"),
        ]);
        assert_eq!(
            s.route(&url("https://kapi.kakao.com/")),
            via("http://upper:1", "HTTPS_PROXY")
        );
        let s = settings(&[("HTTPS_PROXY", "  "), ("https_proxy", "http://lower:2")]);
        assert_eq!(
            s.route(&url("https://kapi.kakao.com/")),
            via("http://lower:2", "https_proxy")
        );
    }

    #[test]
    fn no_proxy_hosts_go_direct_by_curls_rules() {
        let s = settings(&[
            ("HTTPS_PROXY", "http://p:3128"),
            ("NO_PROXY", "kauth.kakao.com, 10.0.0.0/8"),
        ]);
        assert_eq!(
            s.route(&url("https://kauth.kakao.com/oauth/token")),
            Route::NoProxy { from: "NO_PROXY" }
        );
        assert_eq!(
            s.route(&url("https://sub.kauth.kakao.com/")),
            Route::NoProxy { from: "NO_PROXY" }
        );
        assert_eq!(
            s.route(&url("https://10.1.2.3/")),
            Route::NoProxy { from: "NO_PROXY" }
        );
        assert_eq!(
            s.route(&url("https://kapi.kakao.com/v2/user/me")),
            via("http://p:3128", "HTTPS_PROXY")
        );
        let s = settings(&[("HTTPS_PROXY", "http://p:3128"), ("no_proxy", "*")]);
        assert_eq!(
            s.route(&url("https://kapi.kakao.com/")),
            Route::NoProxy { from: "no_proxy" }
        );
    }

    #[test]
    fn credentials_reach_the_client_but_never_the_diagnostics() {
        let s = settings(&[("HTTPS_PROXY", "http://alice:s3cr%40t@corp.proxy:8080/path")]);
        let kauth = url("https://kauth.kakao.com/");
        let proxy = s.proxy_for(&kauth).unwrap();
        assert_eq!(
            (proxy.username(), proxy.password()),
            ("alice", Some("s3cr%40t"))
        );
        let line = s.describe(&[&kauth, &url("https://kapi.kakao.com/")]);
        assert_eq!(line, "http://corp.proxy:8080 (from HTTPS_PROXY)");
        let dbg = format!("{s:?}");
        assert!(!dbg.contains("alice") && !dbg.contains("s3cr"), "{dbg}");
    }

    #[test]
    fn describe_names_each_host_when_routes_differ_and_the_ignored_variables() {
        let s = settings(&[
            ("HTTPS_PROXY", "http://p:3128"),
            ("NO_PROXY", "kapi.kakao.com"),
            ("HTTP_PROXY", "ftp://user:pw@nope:21"),
            ("ALL_PROXY", "not a url"),
        ]);
        let line = s.describe(&[
            &url("https://kauth.kakao.com/"),
            &url("https://kapi.kakao.com/"),
        ]);
        assert_eq!(
            line,
            "kauth.kakao.com: http://p:3128 (from HTTPS_PROXY); \
             kapi.kakao.com: none (listed in NO_PROXY); \
             ALL_PROXY ignored (not a proxy URL); HTTP_PROXY ignored (not a proxy URL)"
        );
        assert!(!line.contains("pw"), "{line}");
        let sim = url("http://127.0.0.1:18080/");
        assert_eq!(
            s.describe(&[&sim, &sim]),
            "none (loopback is never proxied); ALL_PROXY ignored (not a proxy URL); \
             HTTP_PROXY ignored (not a proxy URL)"
        );
        assert_eq!(
            ProxySettings::none().describe(&[&sim]),
            "none (loopback is never proxied)"
        );
        assert_eq!(
            ProxySettings::none().describe(&[&url("https://kauth.kakao.com/")]),
            "none"
        );
    }
}
