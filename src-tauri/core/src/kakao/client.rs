//! [`KakaoClient`]: one object holding the seams and the app's identity, with one async method
//! per Kakao call. Cheap to clone (everything inside is shared).

use super::api::{self, AccessTokenInfo, OidcUserInfo, Scopes, UserId, UserMe};
use super::authorize::{self, AuthorizeParams};
use super::endpoints::Endpoints;
use super::error::IdTokenError;
use super::error::{ApiCall, Error};
use super::http::{HttpClient, HttpRequest, HttpResponse};
use super::idtoken::{self, Expected, IdTokenClaims, JwksCache};
use super::pkce::{Nonce, PkceVerifier, StateToken};
use super::skew::KakaoClock;
use super::token::{self, TokenResponse};
use crate::clock::Clock;
use crate::secret::Secret;
use serde::de::DeserializeOwned;
use std::sync::Arc;
use url::Url;

/// The Kakao client of one app (REST API key): browser URLs, code exchange and refresh, ID token
/// verification with a JWKS cache shared by clones, and the kapi calls. Every answer's `Date`
/// header sets [`KakaoClient::kakao_clock`], on which ID tokens are judged. `Debug` redacts the
/// client secret.
#[derive(Clone)]
pub struct KakaoClient {
    http: Arc<dyn HttpClient>,
    endpoints: Endpoints,
    client_id: String,
    client_secret: Option<Secret>,
    clock: KakaoClock,
    jwks: JwksCache,
}

impl std::fmt::Debug for KakaoClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KakaoClient")
            .field("endpoints", &self.endpoints)
            .field("client_id", &self.client_id)
            .field("client_secret", &self.client_secret)
            .field("clock", &self.clock)
            .field("jwks", &self.jwks)
            .finish()
    }
}

impl KakaoClient {
    /// `client_secret`: `None` (or empty) when the app's client secret setting is off. `clock`
    /// is this computer's; the client corrects it to Kakao's from the answers.
    pub fn new(
        http: Arc<dyn HttpClient>,
        endpoints: Endpoints,
        client_id: impl Into<String>,
        client_secret: Option<Secret>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        KakaoClient {
            http,
            endpoints,
            client_id: client_id.into(),
            client_secret: client_secret.filter(|s| !s.is_empty()),
            jwks: JwksCache::new(clock.clone(), None),
            clock: KakaoClock::new(clock),
        }
    }

    /// Keeps the JWKS in `file` across runs (REFERENCE §7: cache the keys), so the first
    /// sign-in after a restart does not wait for it. See
    /// [`JwksCache`](crate::kakao::idtoken::JwksCache).
    pub fn with_jwks_file(mut self, file: std::path::PathBuf) -> Self {
        self.jwks = self.jwks.with_file(file);
        self
    }

    /// Fetches the JWKS now unless a fresh one is held (memory or file): done while the person
    /// is at Kakao's pages, so the ID token check after the code exchange costs no round trip.
    /// Errors as for the fetch in [`KakaoClient::verify_id_token`]; nothing else depends on it.
    pub async fn prefetch_jwks(&self) -> Result<(), Error> {
        idtoken::prefetch(&*self.http, &self.endpoints, &self.jwks).await
    }

    /// Gets the HTTP client ready for a request known to come soon ([`HttpClient::prepare`]):
    /// the first request then does not pay for building it. Never fails.
    pub async fn prepare(&self) {
        self.http.prepare().await
    }

    /// The kauth and kapi bases this client talks to.
    pub fn endpoints(&self) -> &Endpoints {
        &self.endpoints
    }

    /// The URL to open in the browser.
    pub fn authorize_url(
        &self,
        params: &AuthorizeParams,
        state: &StateToken,
        nonce: Option<&Nonce>,
    ) -> Url {
        authorize::authorize_url(&self.endpoints, &self.client_id, params, state, nonce)
    }

    /// Kakao account logout in the browser (S07).
    pub fn account_logout_url(&self, logout_redirect_uri: &str, state: &StateToken) -> Url {
        authorize::account_logout_url(&self.endpoints, &self.client_id, logout_redirect_uri, state)
    }

    /// Kakao's time, from the `Date` of its answers so far (this computer's clock until the
    /// first). Clones share the measurement.
    pub fn kakao_clock(&self) -> KakaoClock {
        self.clock.clone()
    }

    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, Error> {
        let response = self.http.send(request).await?;
        self.clock.observe(&response);
        Ok(response)
    }

    /// Code → tokens. Errors carry `redirect_uri` so KOE303/KOE006 fixes can name it.
    pub async fn exchange_code(
        &self,
        code: &Secret,
        redirect_uri: &str,
        verifier: &PkceVerifier,
    ) -> Result<TokenResponse, Error> {
        let request = token::exchange_request(
            &self.endpoints,
            &self.client_id,
            self.client_secret.as_ref(),
            redirect_uri,
            code,
            verifier,
        );
        let response = self.send(request).await?;
        let tokens = token::parse_token_response(&response)
            .map_err(|e| e.with_redirect_uri(redirect_uri))?;
        // `openid` granted means Kakao issues an ID token with the code exchange (REFERENCE
        // §7, OIDC Core 3.1.3.3): tokens without one are not the answer we asked for.
        if tokens.id_token.is_none() && tokens.has_scope("openid") {
            return Err(IdTokenError::Missing.into());
        }
        Ok(tokens)
    }

    /// Refresh. `refresh_token` in the result is `Some` only when Kakao rotated it; the caller
    /// must persist a rotated one before using the new access token.
    pub async fn refresh(&self, refresh_token: &Secret) -> Result<TokenResponse, Error> {
        let request = token::refresh_request(
            &self.endpoints,
            &self.client_id,
            self.client_secret.as_ref(),
            refresh_token,
        );
        let response = self.send(request).await?;
        token::parse_token_response(&response)
    }

    /// Verifies the ID token from a code exchange against the nonce of that sign-in.
    pub async fn verify_id_token(
        &self,
        id_token: &Secret,
        nonce: &Nonce,
    ) -> Result<IdTokenClaims, Error> {
        self.verify(id_token, Some(nonce)).await
    }

    /// Verifies an ID token that came with a refresh (Kakao sends no nonce then): its `sub`
    /// must be `member_id`, the member signed in (OIDC Core 12.2), else
    /// [`IdTokenError::Subject`].
    pub async fn verify_refreshed_id_token(
        &self,
        id_token: &Secret,
        member_id: i64,
    ) -> Result<IdTokenClaims, Error> {
        let claims = self.verify(id_token, None).await?;
        if claims.member_id != member_id {
            return Err(IdTokenError::Subject.into());
        }
        Ok(claims)
    }

    async fn verify(
        &self,
        id_token: &Secret,
        nonce: Option<&Nonce>,
    ) -> Result<IdTokenClaims, Error> {
        let issuer = self.endpoints.issuer();
        let expected = Expected {
            issuer: &issuer,
            client_id: &self.client_id,
            nonce,
            // Kakao's time, measured from the answer that brought the token at the latest.
            now: self.clock.now_unix(),
            leeway: idtoken::DEFAULT_LEEWAY_SECS,
        };
        idtoken::verify(
            &*self.http,
            &self.endpoints,
            &self.jwks,
            id_token,
            &expected,
        )
        .await
    }

    async fn call<T: DeserializeOwned>(
        &self,
        request: HttpRequest,
        call: ApiCall,
    ) -> Result<T, Error> {
        let response = self.send(request).await?;
        api::parse_api_json(&response, call)
    }

    /// `GET /v2/user/me` (REFERENCE §4a). `Err`: [`Error::Api`] for a kapi error body (-401:
    /// refresh and retry, see [`Error::is_access_token_invalid`]), else [`Error::Transport`],
    /// [`Error::Status`] or [`Error::Decode`].
    pub async fn user_me(&self, access_token: &Secret) -> Result<UserMe, Error> {
        self.call(
            api::user_me_request(&self.endpoints, access_token),
            ApiCall::UserMe,
        )
        .await
    }

    /// `GET /v1/user/access_token_info` (REFERENCE §4b): checks the token without reading the
    /// profile. Errors as for [`Self::user_me`]; -1 is transient, not a reason to sign out.
    pub async fn access_token_info(&self, access_token: &Secret) -> Result<AccessTokenInfo, Error> {
        self.call(
            api::access_token_info_request(&self.endpoints, access_token),
            ApiCall::AccessTokenInfo,
        )
        .await
    }

    /// `POST /v1/user/logout`; returns the member id.
    pub async fn logout(&self, access_token: &Secret) -> Result<i64, Error> {
        let id: UserId = self
            .call(
                api::logout_request(&self.endpoints, access_token),
                ApiCall::Logout,
            )
            .await?;
        Ok(id.id)
    }

    /// `POST /v1/user/unlink`; returns the member id.
    pub async fn unlink(&self, access_token: &Secret) -> Result<i64, Error> {
        let id: UserId = self
            .call(
                api::unlink_request(&self.endpoints, access_token),
                ApiCall::Unlink,
            )
            .await?;
        Ok(id.id)
    }

    /// `GET /v2/user/scopes`, optionally only the given ids.
    pub async fn scopes(
        &self,
        access_token: &Secret,
        filter: Option<&[String]>,
    ) -> Result<Scopes, Error> {
        self.call(
            api::scopes_request(&self.endpoints, access_token, filter),
            ApiCall::Scopes,
        )
        .await
    }

    /// `POST /v2/user/revoke/scopes`. A required item gives kind `scope_not_revocable`.
    pub async fn revoke_scopes(
        &self,
        access_token: &Secret,
        scopes: &[String],
    ) -> Result<Scopes, Error> {
        self.call(
            api::revoke_scopes_request(&self.endpoints, access_token, scopes),
            ApiCall::RevokeScopes,
        )
        .await
    }

    /// `GET /v1/oidc/userinfo` (REFERENCE §4g); needs OIDC enabled for the app. Errors as for
    /// [`Self::user_me`].
    pub async fn oidc_userinfo(&self, access_token: &Secret) -> Result<OidcUserInfo, Error> {
        self.call(
            api::oidc_userinfo_request(&self.endpoints, access_token),
            ApiCall::OidcUserInfo,
        )
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;
    use crate::kakao::http::testing::FakeHttp;
    use crate::kakao::http::{Method, TransportError, TransportErrorKind};
    use crate::kakao::idtoken::test_support::{claims, jwks, sign, NOW};
    use serde_json::json;

    fn client(fake: &Arc<FakeHttp>, secret: Option<&str>) -> (KakaoClient, ManualClock) {
        let clock = ManualClock::new(NOW);
        let c = KakaoClient::new(
            fake.clone(),
            Endpoints::kakao(),
            "rest-key",
            secret.map(Secret::new),
            Arc::new(clock.clone()),
        );
        (c, clock)
    }

    #[tokio::test]
    async fn exchange_sends_exact_request_and_parses() {
        let fake = Arc::new(FakeHttp::new());
        let (c, _) = client(&fake, Some("sec"));
        fake.push_json(
            200,
            json!({"token_type":"bearer","access_token":"AT","expires_in":21599,
                   "refresh_token":"RT","refresh_token_expires_in":5183999,"scope":"profile_nickname"}),
        );
        let v = PkceVerifier::from_secret(Secret::new("verifier"));
        let t = c
            .exchange_code(&Secret::new("CODE"), "http://127.0.0.1:9212/cb", &v)
            .await
            .unwrap();
        assert_eq!(t.access_token.expose(), "AT");
        let r = fake.only_request();
        assert_eq!(r.method, Method::Post);
        assert_eq!(r.url.as_str(), "https://kauth.kakao.com/oauth/token");
        assert_eq!(
            r.encoded_form(),
            "grant_type=authorization_code&client_id=rest-key\
             &redirect_uri=http%3A%2F%2F127.0.0.1%3A9212%2Fcb&code=CODE&code_verifier=verifier\
             &client_secret=sec"
        );
        assert_eq!(
            r.header_value("content-type"),
            Some("application/x-www-form-urlencoded;charset=utf-8")
        );
    }

    #[tokio::test]
    async fn koe303_names_the_redirect_uri() {
        let fake = Arc::new(FakeHttp::new());
        let (c, _) = client(&fake, None);
        fake.push_json(
            400,
            json!({"error":"invalid_grant","error_description":"Redirect URI mismatch.","error_code":"KOE303"}),
        );
        let v = PkceVerifier::generate();
        let err = c
            .exchange_code(&Secret::new("CODE"), "http://127.0.0.1:9212/cb", &v)
            .await
            .unwrap_err();
        assert_eq!(err.kind(), "redirect_uri_mismatch");
        assert!(err.fix().unwrap().en.contains("http://127.0.0.1:9212/cb"));
        assert!(fake.only_request().form_value("client_secret").is_none());
    }

    /// The member of [`claims`]' `sub`.
    const MEMBER: i64 = 1376016924429759243;

    /// `openid` granted (in the answer's `scope`) but no `id_token`: not the answer asked for
    /// (OIDC Core 3.1.3.3). Without `openid` granted, none is needed.
    #[tokio::test]
    async fn exchange_with_openid_granted_needs_an_id_token() {
        let fake = Arc::new(FakeHttp::new());
        let (c, _) = client(&fake, None);
        let v = PkceVerifier::generate();
        fake.push_json(
            200,
            json!({"token_type":"bearer","access_token":"AT","expires_in":21599,
                   "refresh_token":"RT","refresh_token_expires_in":5183999,
                   "scope":"profile_nickname openid"}),
        );
        let err = c
            .exchange_code(&Secret::new("CODE"), "http://127.0.0.1:1/cb", &v)
            .await
            .unwrap_err();
        assert!(
            matches!(err, Error::IdToken(IdTokenError::Missing)),
            "{err:?}"
        );
        assert_eq!(err.kind(), "id_token_invalid");
        fake.push_json(
            200,
            json!({"token_type":"bearer","access_token":"AT","expires_in":21599,
                   "refresh_token":"RT","refresh_token_expires_in":5183999,
                   "scope":"profile_nickname"}),
        );
        c.exchange_code(&Secret::new("CODE"), "http://127.0.0.1:1/cb", &v)
            .await
            .unwrap();
    }

    /// A refreshed ID token must name the member signed in (OIDC Core 12.2).
    #[tokio::test]
    async fn refreshed_id_token_of_another_member_is_refused() {
        let fake = Arc::new(FakeHttp::new());
        let (c, _) = client(&fake, None);
        fake.push_json(200, jwks(&["k1"]));
        let tok = Secret::new(sign(
            "k1",
            &claims("https://kauth.kakao.com", "rest-key", "n1"),
        ));
        c.verify_refreshed_id_token(&tok, MEMBER).await.unwrap();
        let err = c
            .verify_refreshed_id_token(&tok, MEMBER + 1)
            .await
            .unwrap_err();
        assert!(
            matches!(err, Error::IdToken(IdTokenError::Subject)),
            "{err:?}"
        );
        assert_eq!(err.kind(), "id_token_invalid");
    }

    #[tokio::test]
    async fn refresh_and_transport_errors() {
        let fake = Arc::new(FakeHttp::new());
        let (c, _) = client(&fake, None);
        fake.push_json(
            200,
            json!({"token_type":"bearer","access_token":"AT2","expires_in":21599}),
        );
        let t = c.refresh(&Secret::new("RT")).await.unwrap();
        assert!(t.refresh_token.is_none());
        assert_eq!(
            fake.only_request().encoded_form(),
            "grant_type=refresh_token&client_id=rest-key&refresh_token=RT"
        );
        fake.push_error(TransportError::new(TransportErrorKind::Timeout, "deadline"));
        let err = c.refresh(&Secret::new("RT")).await.unwrap_err();
        assert_eq!(err.kind(), "timeout");
        assert!(err.is_transient() && !err.is_refresh_token_dead());
        fake.push_json(
            400,
            json!({"error":"invalid_grant","error_description":"expired_or_invalid_refresh_token","error_code":"KOE322"}),
        );
        let err = c.refresh(&Secret::new("RT")).await.unwrap_err();
        assert!(err.is_refresh_token_dead() && !err.is_transient());
    }

    #[tokio::test]
    async fn id_token_uses_clock_issuer_and_client_id() {
        let fake = Arc::new(FakeHttp::new());
        let (c, clock) = client(&fake, None);
        fake.push_json(200, jwks(&["k1"]));
        let nonce = Nonce::from_string("n1");
        let tok = Secret::new(sign(
            "k1",
            &claims("https://kauth.kakao.com", "rest-key", "n1"),
        ));
        let claims = c.verify_id_token(&tok, &nonce).await.unwrap();
        assert_eq!(claims.member_id, 1376016924429759243);
        // Same token, later: expired according to the injected clock.
        clock.advance(21599 + 61);
        let err = c.verify_id_token(&tok, &nonce).await.unwrap_err();
        assert!(matches!(
            err,
            Error::IdToken(crate::kakao::IdTokenError::Expired)
        ));
        clock.set(NOW);
        // No nonce check for refreshed ID tokens, but everything else still is.
        c.verify_refreshed_id_token(&tok, MEMBER).await.unwrap();
        let wrong_nonce = Nonce::from_string("n2");
        assert_eq!(
            c.verify_id_token(&tok, &wrong_nonce)
                .await
                .unwrap_err()
                .kind(),
            "id_token_invalid"
        );
        assert_eq!(fake.requests().len(), 1);
    }

    /// A token response as Kakao sends it, dated `date` (Unix seconds) by Kakao's clock.
    fn dated_token_response(date: i64, id_token: &str) -> HttpResponse {
        let mut r = HttpResponse::json(
            200,
            &json!({"token_type":"bearer","access_token":"AT","expires_in":21599,
                   "refresh_token":"RT","refresh_token_expires_in":5183999,
                   "id_token": id_token, "scope":"openid"}),
        );
        let at = std::time::UNIX_EPOCH + std::time::Duration::from_secs(date as u64);
        r.headers.push(("date".into(), httpdate::fmt_http_date(at)));
        r
    }

    #[tokio::test]
    async fn id_tokens_are_judged_on_kakaos_clock_from_the_answers_date() {
        // This computer's clock 3 minutes behind Kakao's, then 9 hours ahead (an RTC kept in
        // Korean local time read as UTC): Kakao's token, issued by Kakao's clock, passes both.
        for local_offset in [-180, 9 * 3600] {
            let fake = Arc::new(FakeHttp::new());
            let (c, clock) = client(&fake, None);
            clock.set(NOW + local_offset);
            let tok = sign("k1", &claims("https://kauth.kakao.com", "rest-key", "n1"));
            fake.push(dated_token_response(NOW, &tok));
            fake.push_json(200, jwks(&["k1"]));
            let v = PkceVerifier::generate();
            let t = c
                .exchange_code(&Secret::new("CODE"), "http://127.0.0.1:1/cb", &v)
                .await
                .unwrap();
            assert_eq!(c.kakao_clock().offset_secs(), Some(local_offset));
            let nonce = Nonce::from_string("n1");
            let claims = c
                .verify_id_token(t.id_token.as_ref().unwrap(), &nonce)
                .await
                .unwrap_or_else(|e| panic!("clock off by {local_offset} s: {e:?}"));
            assert_eq!(claims.member_id, 1376016924429759243);
            // Kakao's time runs on with this computer's clock: an hour later the token is
            // still good, a lifetime later it has expired.
            clock.advance(3600);
            c.verify_refreshed_id_token(t.id_token.as_ref().unwrap(), MEMBER)
                .await
                .unwrap();
            clock.advance(21599);
            assert!(matches!(
                c.verify_refreshed_id_token(t.id_token.as_ref().unwrap(), MEMBER)
                    .await
                    .unwrap_err(),
                Error::IdToken(crate::kakao::IdTokenError::Expired)
            ));
        }
    }

    #[tokio::test]
    async fn a_broken_date_header_is_no_measurement() {
        let fake = Arc::new(FakeHttp::new());
        let (c, clock) = client(&fake, None);
        clock.set(NOW - 180);
        let mut r = HttpResponse::json(200, &json!({"id": 5}));
        r.headers
            .push(("date".into(), "Thu, 01 Jan 1970 00:00:00 GMT".into()));
        fake.push(r);
        c.user_me(&Secret::new("AT")).await.unwrap();
        assert_eq!(c.kakao_clock().offset_secs(), None);
        // Without a measurement, this computer's clock is all there is (3 minutes behind).
        fake.push_json(200, jwks(&["k1"]));
        let tok = Secret::new(sign(
            "k1",
            &claims("https://kauth.kakao.com", "rest-key", "n1"),
        ));
        assert!(matches!(
            c.verify_refreshed_id_token(&tok, MEMBER).await.unwrap_err(),
            Error::IdToken(crate::kakao::IdTokenError::IssuedInFuture)
        ));
    }

    #[tokio::test]
    async fn api_calls() {
        let fake = Arc::new(FakeHttp::new());
        let (c, _) = client(&fake, None);
        let at = Secret::new("AT");
        fake.push_json(200, json!({"id": 1376016924429759243_i64}));
        assert_eq!(c.user_me(&at).await.unwrap().id, 1376016924429759243);
        fake.push_json(200, json!({"id": 5, "expires_in": 100, "app_id": 7}));
        assert_eq!(c.access_token_info(&at).await.unwrap().expires_in, 100);
        fake.push_json(200, json!({"id": 5}));
        assert_eq!(c.logout(&at).await.unwrap(), 5);
        fake.push_json(200, json!({"id": 5}));
        assert_eq!(c.unlink(&at).await.unwrap(), 5);
        fake.push_json(200, json!({"id": 5, "scopes": []}));
        assert!(c.scopes(&at, None).await.unwrap().scopes.is_empty());
        fake.push_json(403, json!({"msg":"[profile] is not revocable.","code":-3}));
        let err = c.revoke_scopes(&at, &["profile".into()]).await.unwrap_err();
        assert_eq!(err.kind(), "scope_not_revocable");
        fake.push_json(200, json!({"sub": "5"}));
        assert_eq!(c.oidc_userinfo(&at).await.unwrap().member_id(), Some(5));
        let urls: Vec<String> = fake
            .requests()
            .iter()
            .map(|r| format!("{:?} {}", r.method, r.url))
            .collect();
        assert_eq!(
            urls,
            [
                "Get https://kapi.kakao.com/v2/user/me?secure_resource=true",
                "Get https://kapi.kakao.com/v1/user/access_token_info",
                "Post https://kapi.kakao.com/v1/user/logout",
                "Post https://kapi.kakao.com/v1/user/unlink",
                "Get https://kapi.kakao.com/v2/user/scopes",
                "Post https://kapi.kakao.com/v2/user/revoke/scopes",
                "Get https://kapi.kakao.com/v1/oidc/userinfo",
            ]
        );
        assert!(fake
            .requests()
            .iter()
            .all(|r| r.header_value("authorization") == Some("Bearer AT")));
    }

    #[test]
    fn debug_redacts_secret() {
        let fake = Arc::new(FakeHttp::new());
        let (c, _) = client(&fake, Some("topsecret"));
        assert!(!format!("{c:?}").contains("topsecret"));
        let url = c.authorize_url(
            &AuthorizeParams {
                redirect_uri: "http://127.0.0.1:1/cb".into(),
                code_challenge: "ch".into(),
                ..Default::default()
            },
            &StateToken::from_string("s"),
            None,
        );
        assert!(url.as_str().contains("client_id=rest-key"));
        assert!(c
            .account_logout_url("http://127.0.0.1:1/lo", &StateToken::from_string("s"))
            .as_str()
            .starts_with("https://kauth.kakao.com/oauth/logout?client_id=rest-key"));
    }
}
