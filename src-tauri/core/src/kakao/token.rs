//! `POST <auth>/oauth/token`: code exchange and refresh (REFERENCE §2), and reading kauth
//! answers, success or error (§3).

use super::endpoints::Endpoints;
use super::error::Error;
use super::http::{HttpRequest, HttpResponse};
use super::pkce::PkceVerifier;
use crate::secret::Secret;
use serde::de::DeserializeOwned;
use serde::Deserialize;

/// A token response. Refresh responses carry `refresh_token` (and its lifetime) only when Kakao
/// rotated it; otherwise keep the old one. `scope` is `None` when absent (keep the old scopes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenResponse {
    /// `bearer`, in lower case whatever case the server wrote (the value is case-insensitive,
    /// RFC 6749 §5.1, §7.1); assumed when absent. Any other type is refused at parsing.
    pub token_type: String,
    /// Sent to kapi as `Authorization: Bearer` (REFERENCE §4).
    pub access_token: Secret,
    /// Seconds the access token (and ID token) live.
    pub expires_in: i64,
    /// Always after a code exchange; after a refresh only when Kakao rotated it, i.e. the old one
    /// had under 1 month left (REFERENCE §2).
    pub refresh_token: Option<Secret>,
    /// Seconds the new refresh token lives (about 60 days, e.g. `5183999`); present only with
    /// `refresh_token`.
    pub refresh_token_expires_in: Option<i64>,
    /// The ID token, a JWT not yet verified: when OIDC is on for the app or `openid` was in the
    /// scope; after a refresh only if the refresh token came with one (REFERENCE §2, §7).
    pub id_token: Option<Secret>,
    /// Granted consent items, split from Kakao's space-separated string.
    pub scope: Option<Vec<String>>,
}

#[derive(Deserialize)]
struct RawToken {
    #[serde(default)]
    token_type: Option<String>,
    access_token: String,
    expires_in: i64,
    #[serde(default)]
    refresh_token: Option<String>,
    #[serde(default)]
    refresh_token_expires_in: Option<i64>,
    #[serde(default)]
    id_token: Option<String>,
    #[serde(default)]
    scope: Option<String>,
}

impl TokenResponse {
    /// Whether `scope` lists this id (e.g. `openid`); `false` when Kakao sent no `scope`.
    pub fn has_scope(&self, scope: &str) -> bool {
        self.scope
            .as_ref()
            .is_some_and(|s| s.iter().any(|x| x == scope))
    }
}

/// The exchange request. `client_secret` only when configured (Decision 10).
pub fn exchange_request(
    endpoints: &Endpoints,
    client_id: &str,
    client_secret: Option<&Secret>,
    redirect_uri: &str,
    code: &Secret,
    verifier: &PkceVerifier,
) -> HttpRequest {
    let mut form = vec![
        ("grant_type".to_owned(), "authorization_code".to_owned()),
        ("client_id".to_owned(), client_id.to_owned()),
        ("redirect_uri".to_owned(), redirect_uri.to_owned()),
        ("code".to_owned(), code.expose().to_owned()),
        (
            "code_verifier".to_owned(),
            verifier.secret().expose().to_owned(),
        ),
    ];
    push_secret(&mut form, client_secret);
    HttpRequest::post_form(endpoints.token(), form)
}

/// The refresh request (REFERENCE §2b, RFC 6749 §6): `grant_type=refresh_token`, `client_id`,
/// `refresh_token`, and `client_secret` only when configured (Decision 10).
pub fn refresh_request(
    endpoints: &Endpoints,
    client_id: &str,
    client_secret: Option<&Secret>,
    refresh_token: &Secret,
) -> HttpRequest {
    let mut form = vec![
        ("grant_type".to_owned(), "refresh_token".to_owned()),
        ("client_id".to_owned(), client_id.to_owned()),
        (
            "refresh_token".to_owned(),
            refresh_token.expose().to_owned(),
        ),
    ];
    push_secret(&mut form, client_secret);
    HttpRequest::post_form(endpoints.token(), form)
}

fn push_secret(form: &mut Vec<(String, String)>, secret: Option<&Secret>) {
    if let Some(secret) = secret.filter(|s| !s.is_empty()) {
        form.push(("client_secret".to_owned(), secret.expose().to_owned()));
    }
}

/// Reads a token endpoint answer (REFERENCE §2, §3). `Err`: [`Error::Auth`] for a kauth error
/// body (e.g. KOE320, KOE322), [`Error::Status`] for any other non-2xx, [`Error::Decode`] for a
/// 2xx that is not a token response or has an empty `access_token`.
pub fn parse_token_response(response: &HttpResponse) -> Result<TokenResponse, Error> {
    let raw: RawToken = parse_auth_json(response)?;
    if raw.access_token.is_empty() {
        return Err(Error::decode(response.status, "empty access_token"));
    }
    let token_type = raw
        .token_type
        .map_or_else(|| "bearer".to_owned(), |t| t.to_ascii_lowercase());
    if token_type != "bearer" {
        // RFC 6749 §7.1: a token of a type the client does not understand must not be used.
        return Err(Error::decode(
            response.status,
            format!("unsupported token_type {token_type}"),
        ));
    }
    Ok(TokenResponse {
        token_type,
        access_token: Secret::new(raw.access_token),
        expires_in: raw.expires_in,
        refresh_token: raw.refresh_token.filter(|t| !t.is_empty()).map(Secret::new),
        refresh_token_expires_in: raw.refresh_token_expires_in,
        id_token: raw.id_token.filter(|t| !t.is_empty()).map(Secret::new),
        scope: raw
            .scope
            .map(|s| s.split_whitespace().map(str::to_owned).collect()),
    })
}

#[derive(Deserialize)]
struct RawAuthError {
    error: String,
    #[serde(default)]
    error_description: Option<String>,
    #[serde(default)]
    error_code: Option<String>,
}

/// A kauth body: `T` on 2xx, [`Error::Auth`] from the error JSON, or a status/decode error.
pub(crate) fn parse_auth_json<T: DeserializeOwned>(response: &HttpResponse) -> Result<T, Error> {
    if response.is_success() {
        return serde_json::from_slice(&response.body)
            .map_err(|e| Error::decode(response.status, e));
    }
    match serde_json::from_slice::<RawAuthError>(&response.body) {
        Ok(raw) => Err(Error::auth(
            response.status,
            raw.error,
            raw.error_description.as_deref(),
            raw.error_code,
        )),
        Err(_) => Err(Error::Status {
            status: response.status,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn verifier() -> PkceVerifier {
        PkceVerifier::from_secret(Secret::new("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"))
    }

    #[test]
    fn exchange_request_is_exact() {
        let req = exchange_request(
            &Endpoints::kakao(),
            "rest-key",
            None,
            "http://127.0.0.1:9212/oauth/callback",
            &Secret::new("the-code"),
            &verifier(),
        );
        assert_eq!(req.method, super::super::http::Method::Post);
        assert_eq!(req.url.as_str(), "https://kauth.kakao.com/oauth/token");
        assert_eq!(
            req.header_value("content-type"),
            Some("application/x-www-form-urlencoded;charset=utf-8")
        );
        assert_eq!(
            req.form,
            [
                ("grant_type", "authorization_code"),
                ("client_id", "rest-key"),
                ("redirect_uri", "http://127.0.0.1:9212/oauth/callback"),
                ("code", "the-code"),
                (
                    "code_verifier",
                    "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
                ),
            ]
            .map(|(a, b)| (a.to_owned(), b.to_owned()))
        );
        assert_eq!(
            req.encoded_form(),
            "grant_type=authorization_code&client_id=rest-key\
             &redirect_uri=http%3A%2F%2F127.0.0.1%3A9212%2Foauth%2Fcallback&code=the-code\
             &code_verifier=dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
        );
    }

    #[test]
    fn secret_only_when_configured() {
        let secret = Secret::new("s3cret");
        let req = exchange_request(
            &Endpoints::kakao(),
            "k",
            Some(&secret),
            "http://127.0.0.1:1/cb",
            &Secret::new("c"),
            &verifier(),
        );
        assert_eq!(req.form_value("client_secret"), Some("s3cret"));
        let empty = Secret::new("");
        let req = refresh_request(&Endpoints::kakao(), "k", Some(&empty), &Secret::new("r"));
        assert_eq!(req.form_value("client_secret"), None);
        let req = refresh_request(&Endpoints::kakao(), "k", Some(&secret), &Secret::new("rt"));
        assert_eq!(
            req.form,
            [
                ("grant_type", "refresh_token"),
                ("client_id", "k"),
                ("refresh_token", "rt"),
                ("client_secret", "s3cret"),
            ]
            .map(|(a, b)| (a.to_owned(), b.to_owned()))
        );
        assert!(!format!("{req:?}").contains("s3cret"));
    }

    /// A provider that follows OAuth 2.0 to the letter: `token_type` in any letter case
    /// (RFC 6749 §5.1), no `refresh_token_expires_in` (Kakao's own field), no `scope`.
    #[test]
    fn standards_variants_of_a_token_response() {
        for token_type in ["Bearer", "BEARER", "bearer"] {
            let resp = HttpResponse::json(
                200,
                &json!({"token_type": token_type, "access_token":"AT","expires_in":3600,
                        "refresh_token":"RT"}),
            );
            let t = parse_token_response(&resp).unwrap();
            assert_eq!(t.token_type, "bearer");
            assert_eq!(t.refresh_token.as_ref().unwrap().expose(), "RT");
            assert_eq!(t.refresh_token_expires_in, None);
            assert_eq!(t.scope, None);
        }
        let mac = HttpResponse::json(
            200,
            &json!({"token_type":"mac","access_token":"AT","expires_in":3600}),
        );
        assert_eq!(
            parse_token_response(&mac).unwrap_err().kind(),
            "malformed_response"
        );
        // An error without Kakao's `error_code`, as RFC 6749 §5.2 has it.
        let dead = HttpResponse::json(400, &json!({"error":"invalid_grant"}));
        let e = parse_token_response(&dead).unwrap_err();
        assert!(e.is_refresh_token_dead(), "{e}");
        assert_eq!(e.error_code(), None);
    }

    #[test]
    fn parses_code_grant_response() {
        let resp = HttpResponse::json(
            200,
            &json!({"token_type":"bearer","access_token":"AT","expires_in":21599,
                    "refresh_token":"RT","refresh_token_expires_in":5183999,
                    "id_token":"a.b.c","scope":"account_email profile_nickname openid",
                    "unknown_field": 1}),
        );
        let t = parse_token_response(&resp).unwrap();
        assert_eq!(t.token_type, "bearer");
        assert_eq!(t.access_token.expose(), "AT");
        assert_eq!(t.expires_in, 21599);
        assert_eq!(t.refresh_token.as_ref().unwrap().expose(), "RT");
        assert_eq!(t.refresh_token_expires_in, Some(5183999));
        assert_eq!(t.id_token.as_ref().unwrap().expose(), "a.b.c");
        assert_eq!(
            t.scope.as_deref().unwrap(),
            ["account_email", "profile_nickname", "openid"]
        );
        assert!(t.has_scope("openid"));
        assert!(!format!("{t:?}").contains("AT\""));
    }

    #[test]
    fn parses_refresh_without_rotation() {
        let resp = HttpResponse::json(
            200,
            &json!({"token_type":"bearer","access_token":"AT2","expires_in":21599}),
        );
        let t = parse_token_response(&resp).unwrap();
        assert!(t.refresh_token.is_none());
        assert!(t.refresh_token_expires_in.is_none());
        assert!(t.id_token.is_none());
        assert!(t.scope.is_none());
    }

    #[test]
    fn auth_errors() {
        let resp = HttpResponse::json(
            400,
            &json!({"error":"invalid_grant","error_description":"authorization code not found for code=SVBIOeu9xQ3kW0Ptf2AmXnv","error_code":"KOE320"}),
        );
        let err = parse_token_response(&resp).unwrap_err();
        assert_eq!(err.kind(), "code_expired_or_used");
        assert_eq!(err.error_code(), Some("KOE320"));
        assert_eq!(err.status(), Some(400));
        assert!(!format!("{err:?}{err}").contains("SVBIOeu9"));

        let resp = HttpResponse::json(
            401,
            &json!({"error":"invalid_client","error_description":"Bad client credentials","error_code":"KOE010"}),
        );
        assert_eq!(
            parse_token_response(&resp).unwrap_err().kind(),
            "invalid_client_secret"
        );
        let resp = HttpResponse::json(
            400,
            &json!({"error":"invalid_grant","error_description":"expired_or_invalid_refresh_token","error_code":"KOE322"}),
        );
        let err = parse_token_response(&resp).unwrap_err();
        assert!(err.is_refresh_token_dead());
        assert!(err.to_string().contains("expired_or_invalid_refresh_token"));

        let html = HttpResponse::new(502, b"<html>Bad Gateway</html>".to_vec());
        let err = parse_token_response(&html).unwrap_err();
        assert_eq!(err.kind(), "kakao_temporary");
        assert!(err.is_transient());

        let garbage = HttpResponse::new(200, b"{\"access_token\":".to_vec());
        let err = parse_token_response(&garbage).unwrap_err();
        assert_eq!(err.kind(), "malformed_response");
        assert!(err.is_transient());
        let missing = HttpResponse::json(200, &json!({"token_type":"bearer"}));
        assert_eq!(
            parse_token_response(&missing).unwrap_err().kind(),
            "malformed_response"
        );
    }
}
