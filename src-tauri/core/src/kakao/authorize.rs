//! URLs opened in the browser: authorize (REFERENCE §1) and Kakao account logout (§6).

use super::endpoints::Endpoints;
use super::pkce::{Nonce, StateToken};
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use url::Url;

/// Query values: everything but RFC 3986 unreserved characters is encoded (space → `%20`, not
/// `+`, so nothing depends on form-decoding), except `,` which Kakao's docs show literal as the
/// list separator (`scope=account_email,gender`) and which is legal in a query.
const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~')
    .remove(b',');

/// Values of the authorize `prompt` parameter (REFERENCE §1; OpenID Connect Core 1.0 §3.1.2.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Prompt {
    /// Ask for the Kakao account again even with a browser session ("use another account").
    Login,
    /// No interaction; fails with `login_required` / `consent_required` if some is needed.
    None,
    /// Sign-up page first.
    Create,
    /// Kakao account chooser.
    SelectAccount,
}

impl Prompt {
    /// The wire value: `login`, `none`, `create` or `select_account`.
    pub fn as_str(self) -> &'static str {
        match self {
            Prompt::Login => "login",
            Prompt::None => "none",
            Prompt::Create => "create",
            Prompt::SelectAccount => "select_account",
        }
    }
}

/// What varies between one authorize request and the next. `client_id` comes from the client.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuthorizeParams {
    /// The exact loopback redirect URI, e.g. `http://127.0.0.1:9212/oauth/callback`.
    pub redirect_uri: String,
    /// From [`super::pkce::PkceVerifier::challenge`].
    pub code_challenge: String,
    /// Consent item ids for additional consent; include `openid` when OIDC is on. Empty → omitted.
    pub scopes: Vec<String>,
    /// Sent comma-separated as `prompt`. Empty → omitted.
    pub prompts: Vec<Prompt>,
    /// Pre-fills the ID field of Kakao's login page (email, phone number or Kakao Mail ID); has
    /// effect only when that page is shown. `None` or empty → omitted.
    pub login_hint: Option<String>,
}

fn push(query: &mut String, name: &str, value: &str) {
    if !query.is_empty() {
        query.push('&');
    }
    query.push_str(name);
    query.push('=');
    query.extend(utf8_percent_encode(value, QUERY_VALUE));
}

/// `GET <auth>/oauth/authorize?...`
pub fn authorize_url(
    endpoints: &Endpoints,
    client_id: &str,
    params: &AuthorizeParams,
    state: &StateToken,
    nonce: Option<&Nonce>,
) -> Url {
    let mut q = String::new();
    push(&mut q, "client_id", client_id);
    push(&mut q, "redirect_uri", &params.redirect_uri);
    push(&mut q, "response_type", "code");
    push(&mut q, "state", state.as_str());
    if let Some(nonce) = nonce {
        push(&mut q, "nonce", nonce.as_str());
    }
    push(&mut q, "code_challenge", &params.code_challenge);
    push(&mut q, "code_challenge_method", "S256");
    let scopes: Vec<&str> = params
        .scopes
        .iter()
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
        .collect();
    if !scopes.is_empty() {
        // Kakao documents commas (Decision 8).
        push(&mut q, "scope", &scopes.join(","));
    }
    if !params.prompts.is_empty() {
        let prompts: Vec<&str> = params.prompts.iter().map(|p| p.as_str()).collect();
        push(&mut q, "prompt", &prompts.join(","));
    }
    if let Some(hint) = params.login_hint.as_deref().filter(|h| !h.is_empty()) {
        push(&mut q, "login_hint", hint);
    }
    let mut url = endpoints.authorize();
    url.set_query(Some(&q));
    url
}

/// `GET <auth>/oauth/logout?client_id&logout_redirect_uri&state`: logs the browser out of the
/// Kakao account (does not revoke tokens; that is `POST /v1/user/logout`).
pub fn account_logout_url(
    endpoints: &Endpoints,
    client_id: &str,
    logout_redirect_uri: &str,
    state: &StateToken,
) -> Url {
    let mut q = String::new();
    push(&mut q, "client_id", client_id);
    push(&mut q, "logout_redirect_uri", logout_redirect_uri);
    push(&mut q, "state", state.as_str());
    let mut url = endpoints.account_logout();
    url.set_query(Some(&q));
    url
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn pairs(url: &Url) -> BTreeMap<String, String> {
        url.query_pairs().into_owned().collect()
    }

    #[test]
    fn minimal_authorize_url() {
        let state = StateToken::from_string("st-123");
        let nonce = Nonce::from_string("n-456");
        let params = AuthorizeParams {
            redirect_uri: "http://127.0.0.1:9212/oauth/callback".into(),
            code_challenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM".into(),
            ..Default::default()
        };
        let url = authorize_url(
            &Endpoints::kakao(),
            "rest-key",
            &params,
            &state,
            Some(&nonce),
        );
        assert_eq!(
            url.as_str(),
            "https://kauth.kakao.com/oauth/authorize?client_id=rest-key\
             &redirect_uri=http%3A%2F%2F127.0.0.1%3A9212%2Foauth%2Fcallback\
             &response_type=code&state=st-123&nonce=n-456\
             &code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM\
             &code_challenge_method=S256"
        );
    }

    #[test]
    fn full_authorize_url_round_trips() {
        let state = StateToken::from_string("s");
        let params = AuthorizeParams {
            redirect_uri: "http://127.0.0.1:9212/cb?x=1&y=2".into(),
            code_challenge: "c".into(),
            scopes: vec!["account_email".into(), " gender ".into(), "openid".into()],
            prompts: vec![Prompt::Login, Prompt::SelectAccount],
            login_hint: Some("+82 10-1234-5678 & 홍길동@kakao.com".into()),
        };
        let url = authorize_url(
            &Endpoints::new("http://127.0.0.1:7777", "http://127.0.0.1:7777").unwrap(),
            "sandbox-rest-api-key",
            &params,
            &state,
            None,
        );
        assert!(url
            .as_str()
            .starts_with("http://127.0.0.1:7777/oauth/authorize?"));
        let q = url.query().unwrap();
        assert!(q.contains("&scope=account_email,gender,openid&"), "{q}");
        assert!(q.contains("&prompt=login,select_account&"), "{q}");
        assert!(
            q.ends_with(
                "login_hint=%2B82%2010-1234-5678%20%26%20%ED%99%8D%EA%B8%B8%EB%8F%99%40kakao.com"
            ),
            "{q}"
        );
        assert!(!q.contains("nonce="));
        let p = pairs(&url);
        assert_eq!(p["redirect_uri"], "http://127.0.0.1:9212/cb?x=1&y=2");
        assert_eq!(p["login_hint"], "+82 10-1234-5678 & 홍길동@kakao.com");
        assert_eq!(p["scope"], "account_email,gender,openid");
        assert_eq!(p["response_type"], "code");
        assert_eq!(p["code_challenge_method"], "S256");
        assert_eq!(p.len(), 9);
    }

    #[test]
    fn every_prompt_value() {
        let all = [
            Prompt::Login,
            Prompt::None,
            Prompt::Create,
            Prompt::SelectAccount,
        ];
        let s: Vec<_> = all.iter().map(|p| p.as_str()).collect();
        assert_eq!(s, ["login", "none", "create", "select_account"]);
    }

    #[test]
    fn logout_url() {
        let url = account_logout_url(
            &Endpoints::kakao(),
            "rest-key",
            "http://127.0.0.1:9212/logout",
            &StateToken::from_string("abc"),
        );
        assert_eq!(
            url.as_str(),
            "https://kauth.kakao.com/oauth/logout?client_id=rest-key\
             &logout_redirect_uri=http%3A%2F%2F127.0.0.1%3A9212%2Flogout&state=abc"
        );
    }
}
