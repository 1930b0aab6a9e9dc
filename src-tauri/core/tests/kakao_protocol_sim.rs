//! The protocol layer against the Kakao simulator over real HTTP: the URLs it builds, the
//! requests it sends and the answers (and errors) it reads, as the simulator implements the
//! reference. The browser part is driven with plain form posts, as a person would.

use kakao_signin_core::clock::SystemClock;
use kakao_signin_core::kakao::{
    AuthorizeParams, Endpoints, Error, IdTokenError, KakaoClient, Nonce, PkceVerifier, Prompt,
    ReqwestHttp, StateToken,
};
use kakao_signin_core::secret::Secret;
use kakao_sim::{Endpoint, Fault, Sim, SimConfig};
use std::collections::HashMap;
use std::sync::Arc;

const REDIRECT: &str = "http://127.0.0.1:18682/callback";
const FULL: i64 = 3_000_000_000_000_000_001;
const FULL_LOGIN: &str = "full@kakao.test";

async fn sim() -> Sim {
    Sim::start(SimConfig::demo())
        .await
        .expect("simulator starts")
}

fn client(sim: &Sim) -> KakaoClient {
    let base = sim.base_url();
    KakaoClient::new(
        Arc::new(ReqwestHttp::with_default_timeouts()),
        Endpoints::new(&base, &base).unwrap(),
        "sandbox-rest-api-key",
        None,
        Arc::new(SystemClock),
    )
}

/// A browser without cookies that does not follow redirects, nor proxies (the simulator is on
/// loopback).
fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .build()
        .unwrap()
}

fn tx_of(html: &str) -> String {
    let i = html
        .find(r#"name="tx" value=""#)
        .expect("page has a tx field")
        + 17;
    html[i..].split('"').next().unwrap().to_owned()
}

struct Attempt {
    state: StateToken,
    nonce: Nonce,
    verifier: PkceVerifier,
}

/// Opens the authorize URL built by the client, logs in, agrees to everything, and returns the
/// query of the redirect back to the app.
async fn browser_sign_in(
    sim: &Sim,
    c: &KakaoClient,
    scopes: &[&str],
    cancel: bool,
) -> (Attempt, HashMap<String, String>) {
    let attempt = Attempt {
        state: StateToken::generate(),
        nonce: Nonce::generate(),
        verifier: PkceVerifier::generate(),
    };
    let params = AuthorizeParams {
        redirect_uri: REDIRECT.into(),
        code_challenge: attempt.verifier.challenge(),
        scopes: scopes.iter().map(|s| s.to_string()).collect(),
        prompts: vec![Prompt::Login],
        login_hint: Some(FULL_LOGIN.into()),
    };
    let url = c.authorize_url(&params, &attempt.state, Some(&attempt.nonce));
    let b = browser();
    let mut r = b.get(url.as_str()).send().await.unwrap();
    for _ in 0..4 {
        if r.status() == 302 {
            let loc = r.headers()["location"].to_str().unwrap().to_owned();
            assert!(loc.starts_with(REDIRECT), "{loc}");
            let q = url::Url::parse(&loc)
                .unwrap()
                .query_pairs()
                .into_owned()
                .collect();
            return (attempt, q);
        }
        assert_eq!(r.status(), 200);
        let html = r.text().await.unwrap();
        let tx = tx_of(&html);
        let base = sim.base_url();
        r = if html.contains(r#"id="login-submit""#) {
            b.post(format!("{base}/oauth/login"))
                .form(&[
                    ("tx", tx.as_str()),
                    ("login_id", FULL_LOGIN),
                    ("password", "demo1234"),
                ])
                .send()
                .await
                .unwrap()
        } else if html.contains(r#"id="consent-agree""#) {
            let form: &[(&str, &str)] = if cancel {
                &[("action", "cancel")]
            } else {
                &[("consent_all", "1"), ("action", "agree")]
            };
            let mut form = form.to_vec();
            form.push(("tx", &tx));
            b.post(format!("{base}/oauth/consent"))
                .form(&form)
                .send()
                .await
                .unwrap()
        } else {
            panic!("unexpected page: {html}");
        };
    }
    panic!("no redirect back to the app");
}

async fn signed_in(
    sim: &Sim,
    c: &KakaoClient,
) -> (Attempt, kakao_signin_core::kakao::TokenResponse) {
    let (attempt, q) = browser_sign_in(sim, c, &[], false).await;
    assert_eq!(attempt.state.as_str(), q["state"]);
    let code = Secret::new(q["code"].clone());
    let tokens = c
        .exchange_code(&code, REDIRECT, &attempt.verifier)
        .await
        .expect("code exchange");
    (attempt, tokens)
}

#[tokio::test]
async fn sign_in_verify_profile_refresh_logout() {
    let sim = sim().await;
    let c = client(&sim);
    let (attempt, tokens) = signed_in(&sim, &c).await;
    assert_eq!(tokens.token_type, "bearer");
    assert!(tokens.refresh_token.is_some());
    assert!(tokens.expires_in > 0);

    let claims = c
        .verify_id_token(
            tokens.id_token.as_ref().expect("OIDC is on"),
            &attempt.nonce,
        )
        .await
        .expect("ID token verifies against the simulator's JWKS and issuer");
    assert_eq!(claims.member_id, FULL);
    assert_eq!(claims.iss, sim.base_url().trim_end_matches('/'));

    let at = &tokens.access_token;
    let me = c.user_me(at).await.unwrap();
    assert_eq!(me.id, FULL);
    let account = me.kakao_account.expect("kakao_account");
    assert_eq!(account.email.as_deref(), Some("full@kakao.test"));
    assert_eq!(account.email_needs_agreement, Some(false));

    let info = c.access_token_info(at).await.unwrap();
    assert_eq!(info.id, FULL);
    assert!(info.expires_in > 0);

    let scopes = c.scopes(at, None).await.unwrap();
    assert!(scopes
        .scopes
        .iter()
        .any(|s| s.id == "account_email" && s.agreed));
    let userinfo = c.oidc_userinfo(at).await.unwrap();
    assert_eq!(userinfo.member_id(), Some(FULL));

    let after = c
        .revoke_scopes(at, &["account_email".into()])
        .await
        .unwrap();
    assert!(after
        .scopes
        .iter()
        .any(|s| s.id == "account_email" && !s.agreed));
    let err = c
        .revoke_scopes(at, &["profile_nickname".into()])
        .await
        .unwrap_err();
    assert_eq!(err.kind(), "scope_not_revocable", "{err}");

    // Refresh: a fresh refresh token has two months left, so it is not rotated.
    let refreshed = c
        .refresh(tokens.refresh_token.as_ref().unwrap())
        .await
        .unwrap();
    assert!(refreshed.refresh_token.is_none());
    let at2 = &refreshed.access_token;
    assert_eq!(c.user_me(at2).await.unwrap().id, FULL);

    assert_eq!(c.logout(at2).await.unwrap(), FULL);
    let err = c.access_token_info(at2).await.unwrap_err();
    assert!(err.is_access_token_invalid(), "{err}");
    sim.shutdown().await;
}

#[tokio::test]
async fn code_errors_are_typed() {
    let sim = sim().await;
    let c = client(&sim);
    let (attempt, q) = browser_sign_in(&sim, &c, &[], false).await;
    let code = Secret::new(q["code"].clone());

    // Different redirect_uri at the token step: KOE303, with the URI sent in the fix.
    let other = "http://127.0.0.1:18683/callback";
    let err = c
        .exchange_code(&code, other, &attempt.verifier)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), "redirect_uri_mismatch", "{err}");
    assert!(err.fix().unwrap().en.contains(other));

    // Wrong verifier: PKCE failure (KOE320, Decision 2).
    let (attempt, q) = browser_sign_in(&sim, &c, &[], false).await;
    let code = Secret::new(q["code"].clone());
    let err = c
        .exchange_code(&code, REDIRECT, &PkceVerifier::generate())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), "code_expired_or_used", "{err}");

    // Replay: the first use succeeds, the second is KOE320, and no code leaks into the error.
    let (attempt2, q2) = browser_sign_in(&sim, &c, &[], false).await;
    let code2 = Secret::new(q2["code"].clone());
    c.exchange_code(&code2, REDIRECT, &attempt2.verifier)
        .await
        .unwrap();
    let err = c
        .exchange_code(&code2, REDIRECT, &attempt2.verifier)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), "code_expired_or_used");
    assert!(!format!("{err}{err:?}").contains(code2.expose()));
    drop(attempt);
    sim.shutdown().await;
}

#[tokio::test]
async fn cancelled_consent_is_access_denied() {
    let sim = sim().await;
    let c = client(&sim);
    let (attempt, q) = browser_sign_in(&sim, &c, &[], true).await;
    assert_eq!(attempt.state.as_str(), q["state"]);
    assert!(!q.contains_key("code"));
    let err = Error::redirect(
        &q["error"],
        q.get("error_description").map(String::as_str),
        None,
    );
    assert_eq!(err.kind(), "access_denied");
    sim.shutdown().await;
}

#[tokio::test]
async fn dead_refresh_token_after_unlink() {
    let sim = sim().await;
    let c = client(&sim);
    let (_, tokens) = signed_in(&sim, &c).await;
    assert_eq!(c.unlink(&tokens.access_token).await.unwrap(), FULL);
    let err = c
        .refresh(tokens.refresh_token.as_ref().unwrap())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), "refresh_token_expired", "{err}");
    assert!(err.is_refresh_token_dead());
    assert!(!err.is_transient());
    sim.shutdown().await;
}

#[tokio::test]
async fn faults_are_transient_and_never_kill_the_refresh_token() {
    let sim = sim().await;
    let c = client(&sim);
    let (_, tokens) = signed_in(&sim, &c).await;
    let rt = tokens.refresh_token.clone().unwrap();
    let cases: Vec<(Endpoint, Fault, &str)> = vec![
        (Endpoint::Token, Fault::Status(503), "kakao_temporary"),
        (Endpoint::Token, Fault::Drop, "network"),
        (Endpoint::Token, Fault::Malformed, "malformed_response"),
        (Endpoint::Token, Fault::KakaoTransient, "kakao_temporary"),
        (Endpoint::Token, Fault::RateLimit, "rate_limited"),
        (Endpoint::UserMe, Fault::KakaoTransient, "kakao_temporary"),
        (Endpoint::UserMe, Fault::RateLimit, "rate_limited"),
        (Endpoint::UserMe, Fault::Status(502), "kakao_temporary"),
    ];
    for (endpoint, fault, kind) in cases {
        sim.set_fault(endpoint, Fault::Times(1, Box::new(fault.clone())));
        let err = if endpoint == Endpoint::Token {
            c.refresh(&rt).await.unwrap_err()
        } else {
            c.user_me(&tokens.access_token).await.unwrap_err()
        };
        assert_eq!(err.kind(), kind, "{endpoint:?} {fault:?}: {err}");
        assert!(err.is_transient(), "{endpoint:?} {fault:?}");
        assert!(!err.is_refresh_token_dead());
    }
    // The refresh token survived all of that.
    c.refresh(&rt).await.expect("still valid");
    sim.shutdown().await;
}

#[tokio::test]
async fn timeout_is_its_own_kind() {
    let sim = sim().await;
    let base = sim.base_url();
    let c = KakaoClient::new(
        Arc::new(ReqwestHttp::new(
            std::time::Duration::from_secs(2),
            std::time::Duration::from_millis(200),
        )),
        Endpoints::new(&base, &base).unwrap(),
        "sandbox-rest-api-key",
        None,
        Arc::new(SystemClock),
    );
    sim.set_fault(
        Endpoint::AccessTokenInfo,
        Fault::Latency(std::time::Duration::from_secs(2)),
    );
    let err = c.access_token_info(&Secret::new("x")).await.unwrap_err();
    assert_eq!(err.kind(), "timeout", "{err}");
    assert!(err.is_transient());
    sim.shutdown().await;
}

#[tokio::test]
async fn signing_key_rotation_refetches_jwks_once() {
    let sim = sim().await;
    let c = client(&sim);
    let (a1, t1) = signed_in(&sim, &c).await;
    c.verify_id_token(t1.id_token.as_ref().unwrap(), &a1.nonce)
        .await
        .unwrap();
    let hits = |sim: &Sim| sim.stats().endpoint_hits.get("jwks").copied().unwrap_or(0);
    assert_eq!(hits(&sim), 1);
    sim.rotate_signing_key();
    let (a2, t2) = signed_in(&sim, &c).await;
    c.verify_id_token(t2.id_token.as_ref().unwrap(), &a2.nonce)
        .await
        .unwrap();
    assert_eq!(hits(&sim), 2, "one refetch for the new kid");
    // Wrong nonce on a genuine token is still refused.
    let err = c
        .verify_id_token(t2.id_token.as_ref().unwrap(), &Nonce::generate())
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::IdToken(IdTokenError::Nonce)),
        "{err:?}"
    );
    // Another client id: aud mismatch.
    let base = sim.base_url();
    let other = KakaoClient::new(
        Arc::new(ReqwestHttp::with_default_timeouts()),
        Endpoints::new(&base, &base).unwrap(),
        "another-key",
        None,
        Arc::new(SystemClock),
    );
    let err = other
        .verify_id_token(t2.id_token.as_ref().unwrap(), &a2.nonce)
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::IdToken(IdTokenError::Audience)),
        "{err:?}"
    );
    sim.shutdown().await;
}
