//! Where kauth and kapi live. Configurable so the same code talks to Kakao and to the
//! simulator on loopback; plain http is refused anywhere but loopback, because tokens and the
//! client secret travel in these requests.

use super::error::Error;
use url::Url;

/// kauth: authorize, token, logout, JWKS (REFERENCE §1, §2, §6, §7).
pub const DEFAULT_AUTH_BASE: &str = "https://kauth.kakao.com";
/// kapi: the user APIs (REFERENCE §4).
pub const DEFAULT_API_BASE: &str = "https://kapi.kakao.com";

/// The kauth and kapi base URLs every Kakao URL is built from: `https`, or `http` on a
/// loopback host (the simulator). A path prefix on a base is kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoints {
    auth_base: Url,
    api_base: Url,
}

impl Default for Endpoints {
    fn default() -> Self {
        Endpoints::kakao()
    }
}

impl Endpoints {
    /// Kakao's production hosts.
    pub fn kakao() -> Self {
        Endpoints::new(DEFAULT_AUTH_BASE, DEFAULT_API_BASE).expect("default endpoints are valid")
    }

    /// Checks both bases. `Err` is [`Error::InvalidEndpoint`] when one is not a URL, holds a user,
    /// password, query or fragment, has no host, or is not `https` (`http` passes on loopback).
    pub fn new(auth_base: &str, api_base: &str) -> Result<Self, Error> {
        Ok(Endpoints {
            auth_base: parse_base(auth_base)?,
            api_base: parse_base(api_base)?,
        })
    }

    /// The kauth base.
    pub fn auth_base(&self) -> &Url {
        &self.auth_base
    }

    /// The kapi base.
    pub fn api_base(&self) -> &Url {
        &self.api_base
    }

    /// The expected ID token `iss`: the auth base as a string without trailing slash
    /// (`https://kauth.kakao.com`, or `http://127.0.0.1:PORT` for the simulator).
    pub fn issuer(&self) -> String {
        self.auth_base.as_str().trim_end_matches('/').to_owned()
    }

    /// `<auth>/oauth/authorize` (REFERENCE §1).
    pub fn authorize(&self) -> Url {
        join(&self.auth_base, "oauth/authorize")
    }
    /// `<auth>/oauth/token` (REFERENCE §2).
    pub fn token(&self) -> Url {
        join(&self.auth_base, "oauth/token")
    }
    /// Kakao account logout in the browser (REFERENCE §6).
    pub fn account_logout(&self) -> Url {
        join(&self.auth_base, "oauth/logout")
    }
    /// `<auth>/.well-known/jwks.json`: the ID token signing keys (REFERENCE §7, RFC 7517 §5).
    pub fn jwks(&self) -> Url {
        join(&self.auth_base, ".well-known/jwks.json")
    }
    /// `<api>/v2/user/me` (REFERENCE §4a).
    pub fn user_me(&self) -> Url {
        join(&self.api_base, "v2/user/me")
    }
    /// `<api>/v1/user/access_token_info` (REFERENCE §4b).
    pub fn access_token_info(&self) -> Url {
        join(&self.api_base, "v1/user/access_token_info")
    }
    /// `<api>/v1/user/logout`: token revocation, not the browser logout (REFERENCE §4c).
    pub fn logout(&self) -> Url {
        join(&self.api_base, "v1/user/logout")
    }
    /// `<api>/v1/user/unlink` (REFERENCE §4d).
    pub fn unlink(&self) -> Url {
        join(&self.api_base, "v1/user/unlink")
    }
    /// `<api>/v2/user/scopes` (REFERENCE §4e).
    pub fn scopes(&self) -> Url {
        join(&self.api_base, "v2/user/scopes")
    }
    /// `<api>/v2/user/revoke/scopes` (REFERENCE §4f).
    pub fn revoke_scopes(&self) -> Url {
        join(&self.api_base, "v2/user/revoke/scopes")
    }
    /// `<api>/v1/oidc/userinfo` (REFERENCE §4g).
    pub fn oidc_userinfo(&self) -> Url {
        join(&self.api_base, "v1/oidc/userinfo")
    }
}

/// Appends `path` to the base's path, so a base with a path prefix keeps it.
fn join(base: &Url, path: &str) -> Url {
    let mut url = base.clone();
    let prefix = base.path().trim_end_matches('/');
    url.set_path(&format!("{prefix}/{path}"));
    url
}

fn invalid(url: &str, reason: &'static str) -> Error {
    Error::InvalidEndpoint {
        url: url.to_owned(),
        reason,
    }
}

fn parse_base(raw: &str) -> Result<Url, Error> {
    let url = Url::parse(raw.trim()).map_err(|_| invalid(raw, "not a URL"))?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(invalid(raw, "must not contain user or password"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(invalid(raw, "must not contain a query or fragment"));
    }
    match url.scheme() {
        "https" => {}
        "http" if crate::net::is_loopback(&url) => {}
        "http" => return Err(invalid(
            raw,
            "plain http is allowed only for a loopback host (127.0.0.1, ::1, localhost); use https",
        )),
        _ => return Err(invalid(raw, "scheme must be https")),
    }
    if url.host().is_none() {
        return Err(invalid(raw, "has no host"));
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_derived_urls() {
        let e = Endpoints::default();
        assert_eq!(e.issuer(), "https://kauth.kakao.com");
        assert_eq!(
            e.authorize().as_str(),
            "https://kauth.kakao.com/oauth/authorize"
        );
        assert_eq!(e.token().as_str(), "https://kauth.kakao.com/oauth/token");
        assert_eq!(
            e.account_logout().as_str(),
            "https://kauth.kakao.com/oauth/logout"
        );
        assert_eq!(
            e.jwks().as_str(),
            "https://kauth.kakao.com/.well-known/jwks.json"
        );
        assert_eq!(e.user_me().as_str(), "https://kapi.kakao.com/v2/user/me");
        assert_eq!(
            e.access_token_info().as_str(),
            "https://kapi.kakao.com/v1/user/access_token_info"
        );
        assert_eq!(e.logout().as_str(), "https://kapi.kakao.com/v1/user/logout");
        assert_eq!(e.unlink().as_str(), "https://kapi.kakao.com/v1/user/unlink");
        assert_eq!(e.scopes().as_str(), "https://kapi.kakao.com/v2/user/scopes");
        assert_eq!(
            e.revoke_scopes().as_str(),
            "https://kapi.kakao.com/v2/user/revoke/scopes"
        );
        assert_eq!(
            e.oidc_userinfo().as_str(),
            "https://kapi.kakao.com/v1/oidc/userinfo"
        );
    }

    #[test]
    fn loopback_http_is_allowed_and_keeps_port_and_prefix() {
        let e = Endpoints::new("http://127.0.0.1:18080/", "http://127.0.0.1:18080/api").unwrap();
        assert_eq!(e.issuer(), "http://127.0.0.1:18080");
        assert_eq!(e.token().as_str(), "http://127.0.0.1:18080/oauth/token");
        assert_eq!(
            e.user_me().as_str(),
            "http://127.0.0.1:18080/api/v2/user/me"
        );
        for ok in [
            "http://127.0.0.2:1",
            "http://[::1]:9",
            "http://localhost:9",
            "http://LOCALHOST",
            "https://example.com/prefix/",
        ] {
            Endpoints::new(ok, ok).unwrap_or_else(|e| panic!("{ok}: {e}"));
        }
        assert_eq!(
            Endpoints::new("https://auth.example/prefix/", DEFAULT_API_BASE)
                .unwrap()
                .issuer(),
            "https://auth.example/prefix"
        );
    }

    #[test]
    fn rejects_plain_http_elsewhere_and_junk() {
        for bad in [
            "http://kauth.kakao.com",
            "http://10.0.0.1",
            "http://localhost.evil.com",
            "ftp://127.0.0.1",
            "not a url",
            "https://u:p@kauth.kakao.com",
            "https://kauth.kakao.com/?x=1",
        ] {
            let err = Endpoints::new(bad, DEFAULT_API_BASE).unwrap_err();
            assert_eq!(err.kind(), "invalid_endpoint", "{bad}");
            assert!(err.to_string().contains(bad.trim()), "{err}");
            let err = Endpoints::new(DEFAULT_AUTH_BASE, bad).unwrap_err();
            assert_eq!(err.kind(), "invalid_endpoint", "{bad}");
        }
        let msg = Endpoints::new("http://kauth.kakao.com", DEFAULT_API_BASE)
            .unwrap_err()
            .to_string();
        assert!(msg.contains("loopback"), "{msg}");
    }
}
