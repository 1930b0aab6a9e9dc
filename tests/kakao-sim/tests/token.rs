//! Conformance: `/oauth/token`, `/oauth/tokeninfo`, discovery and JWKS over HTTP.

mod common;
use common::*;
use kakao_sim::{Sim, SimConfig};
use reqwest::StatusCode;
use serde_json::{json, Value};

fn assert_kauth_error(status: StatusCode, v: &Value, want_status: u16, error: &str, code: &str) {
    assert_eq!(status.as_u16(), want_status, "{v}");
    assert_eq!(v["error"], error, "{v}");
    assert_eq!(v["error_code"], code, "{v}");
    assert!(v["error_description"].is_string(), "{v}");
    assert_eq!(
        v.as_object().unwrap().len(),
        3,
        "exactly error/error_description/error_code: {v}"
    );
}

async fn code_for(sim: &Sim, extra: &[(&str, &str)]) -> String {
    let b = Browser::new();
    browser_flow(sim, &b, "full@kakao.test", extra, Consent::All).await["code"].clone()
}

#[tokio::test]
async fn code_grant_success_shape_and_headers() {
    let sim = demo().await;
    let code = code_for(&sim, &[]).await;
    let r = api()
        .post(format!("{}/oauth/token", sim.base_url()))
        .form(&[
            ("grant_type", "authorization_code"),
            ("client_id", CLIENT_ID),
            ("redirect_uri", REDIRECT),
            ("code", &code),
            ("client_secret", "ignored-when-setting-is-off"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.headers()["content-type"],
        "application/json;charset=UTF-8"
    );
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["token_type"], "bearer");
    assert_eq!(v["expires_in"], 21599);
    assert_eq!(v["refresh_token_expires_in"], 5183999);
    let scope = v["scope"].as_str().unwrap();
    assert!(scope.split(' ').any(|s| s == "openid"), "{scope}");
    assert!(scope.split(' ').any(|s| s == "profile_nickname"), "{scope}");
    assert!(!scope.contains(','), "space separated");
    let at = at(&v);
    assert!(
        at.len() >= 40
            && at
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    );
    assert!(v["id_token"].is_string(), "OIDC on → id_token");
    assert!(sim.is_access_token_live(&at));
    assert!(sim.is_refresh_token_live(&rt(&v)));
    assert_eq!(sim.stats().token_requests["authorization_code"], 1);
}

#[tokio::test]
async fn code_is_single_use_koe320() {
    let sim = demo().await;
    let code = code_for(&sim, &[]).await;
    let form = [
        ("grant_type", "authorization_code"),
        ("client_id", CLIENT_ID),
        ("redirect_uri", REDIRECT),
        ("code", code.as_str()),
    ];
    assert_eq!(exchange(&sim, &form).await.0, 200);
    let (s, v) = exchange(&sim, &form).await;
    assert_kauth_error(s, &v, 400, "invalid_grant", "KOE320");
    assert_eq!(
        v["error_description"],
        format!("authorization code not found for code={code}")
    );
    let (s, v) = exchange(
        &sim,
        &[
            ("grant_type", "authorization_code"),
            ("client_id", CLIENT_ID),
            ("redirect_uri", REDIRECT),
            ("code", "nope"),
        ],
    )
    .await;
    assert_kauth_error(s, &v, 400, "invalid_grant", "KOE320");
    assert_eq!(sim.stats().token_errors["KOE320"], 2);
}

#[tokio::test]
async fn code_expires_after_ten_minutes_koe320() {
    let sim = demo().await;
    // At the boundary a second ticking by decides: only advance_clock moves time here.
    sim.stop_clock();
    let fresh = code_for(&sim, &[]).await;
    let old = code_for(&sim, &[]).await;
    sim.advance_clock(599);
    let form = |c: &str| {
        vec![
            ("grant_type", "authorization_code".to_string()),
            ("client_id", CLIENT_ID.into()),
            ("redirect_uri", REDIRECT.into()),
            ("code", c.to_string()),
        ]
    };
    let post = |f: Vec<(&'static str, String)>| {
        let sim_url = sim.base_url();
        async move {
            api()
                .post(format!("{sim_url}/oauth/token"))
                .form(&f)
                .send()
                .await
                .unwrap()
        }
    };
    assert_eq!(post(form(&fresh)).await.status(), 200, "599 s: still valid");
    sim.advance_clock(2);
    let r = post(form(&old)).await;
    assert_eq!(r.status(), 400);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error_code"], "KOE320");
}

#[tokio::test]
async fn redirect_uri_mismatch_koe303() {
    let sim = demo().await;
    let code = code_for(&sim, &[]).await;
    let (s, v) = exchange(
        &sim,
        &[
            ("grant_type", "authorization_code"),
            ("client_id", CLIENT_ID),
            ("redirect_uri", "http://127.0.0.1:18683/callback"),
            ("code", &code),
        ],
    )
    .await;
    assert_kauth_error(s, &v, 400, "invalid_grant", "KOE303");
    assert_eq!(v["error_description"], "Redirect URI mismatch.");
}

#[tokio::test]
async fn pkce_missing_or_wrong_verifier_decision_2() {
    let sim = demo().await;
    let (verifier, challenge) = pkce();
    let extra = [
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
    ];
    for bad in [
        None,
        Some("wrong-verifier-wrong-verifier-wrong-verifier-0123456789"),
    ] {
        let code = code_for(&sim, &extra).await;
        let mut form = vec![
            ("grant_type", "authorization_code"),
            ("client_id", CLIENT_ID),
            ("redirect_uri", REDIRECT),
            ("code", code.as_str()),
        ];
        if let Some(b) = bad {
            form.push(("code_verifier", b));
        }
        let (s, v) = exchange(&sim, &form).await;
        assert_kauth_error(s, &v, 400, "invalid_grant", "KOE320");
        assert_eq!(v["error_description"], "PKCE verification failed");
    }
    let code = code_for(&sim, &extra).await;
    let (s, _) = exchange(
        &sim,
        &[
            ("grant_type", "authorization_code"),
            ("client_id", CLIENT_ID),
            ("redirect_uri", REDIRECT),
            ("code", &code),
            ("code_verifier", &verifier),
        ],
    )
    .await;
    assert_eq!(s, 200);
}

#[tokio::test]
async fn client_secret_on_koe010_401() {
    let mut cfg = SimConfig::demo();
    cfg.app.client_secret = Some("s3cret".into());
    let sim = Sim::start(cfg).await.unwrap();
    for secret in [None, Some("wrong")] {
        let code = code_for(&sim, &[]).await;
        let mut form = vec![
            ("grant_type", "authorization_code"),
            ("client_id", CLIENT_ID),
            ("redirect_uri", REDIRECT),
            ("code", code.as_str()),
        ];
        if let Some(s) = secret {
            form.push(("client_secret", s));
        }
        let (s, v) = exchange(&sim, &form).await;
        assert_kauth_error(s, &v, 401, "invalid_client", "KOE010");
        assert_eq!(v["error_description"], "Bad client credentials");
    }
    let code = code_for(&sim, &[]).await;
    let (s, v) = exchange(
        &sim,
        &[
            ("grant_type", "authorization_code"),
            ("client_id", CLIENT_ID),
            ("redirect_uri", REDIRECT),
            ("code", &code),
            ("client_secret", "s3cret"),
        ],
    )
    .await;
    assert_eq!(s, 200);
    // Refresh also needs the secret.
    let (s, e) = refresh(&sim, &rt(&v)).await;
    assert_kauth_error(s, &e, 401, "invalid_client", "KOE010");
}

#[tokio::test]
async fn unknown_client_koe101_unsupported_grant_koe310_missing_refresh_koe319() {
    let sim = demo().await;
    let (s, v) = exchange(
        &sim,
        &[
            ("grant_type", "authorization_code"),
            ("client_id", "other-key"),
            ("code", "x"),
        ],
    )
    .await;
    assert_kauth_error(s, &v, 401, "invalid_client", "KOE101");
    let (s, v) = exchange(
        &sim,
        &[("grant_type", "password"), ("client_id", CLIENT_ID)],
    )
    .await;
    assert_kauth_error(s, &v, 400, "invalid_request", "KOE310");
    let (s, v) = exchange(&sim, &[("client_id", CLIENT_ID)]).await;
    assert_kauth_error(s, &v, 400, "invalid_request", "KOE310");
    let (s, v) = exchange(
        &sim,
        &[("grant_type", "refresh_token"), ("client_id", CLIENT_ID)],
    )
    .await;
    assert_kauth_error(s, &v, 400, "invalid_grant", "KOE319");
    let (s, v) = refresh(&sim, "not-a-token").await;
    assert_kauth_error(s, &v, 400, "invalid_grant", "KOE322");
    assert_eq!(v["error_description"], "expired_or_invalid_refresh_token");
    let st = sim.stats();
    assert_eq!(st.token_requests["(other)"], 1);
    assert_eq!(st.token_requests["(missing)"], 1);
}

#[tokio::test]
async fn refresh_without_rotation_then_rotation_under_a_month() {
    let sim = demo().await;
    let t = sign_in(&sim, "full@kakao.test").await;
    let rt0 = rt(&t);
    let (s, v) = refresh(&sim, &rt0).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["token_type"], "bearer");
    assert_eq!(v["expires_in"], 21599);
    assert!(
        v.get("refresh_token").is_none(),
        "more than a month left: no new refresh token"
    );
    assert!(v.get("refresh_token_expires_in").is_none());
    assert!(
        v["id_token"].is_string(),
        "refresh token came with an ID token"
    );
    assert!(sim.is_refresh_token_live(&rt0));
    assert!(sim.is_access_token_live(&at(&v)));
    // 31 days later: < 30 days left → rotation, old one dead at once (Decision 9).
    sim.advance_clock(31 * 86_400);
    let (s, v) = refresh(&sim, &rt0).await;
    assert_eq!(s, 200, "{v}");
    let rt1 = rt(&v);
    assert_eq!(v["refresh_token_expires_in"], 5183999);
    assert_ne!(rt0, rt1);
    assert!(!sim.is_refresh_token_live(&rt0));
    let (s, e) = refresh(&sim, &rt0).await;
    assert_kauth_error(s, &e, 400, "invalid_grant", "KOE322");
    let st = sim.stats();
    assert_eq!(st.refreshes, 2);
    assert_eq!(st.refresh_rotations, 1);
    // Refresh token expiry.
    sim.advance_clock(5_184_000);
    let (s, e) = refresh(&sim, &rt1).await;
    assert_kauth_error(s, &e, 400, "invalid_grant", "KOE322");
}

#[tokio::test]
async fn no_id_token_on_refresh_when_not_issued_with_one() {
    let mut cfg = SimConfig::demo();
    cfg.app.oidc = false;
    cfg.app.consent_items.retain(|i| i.id != "openid");
    let sim = Sim::start(cfg).await.unwrap();
    let t = sign_in(&sim, "full@kakao.test").await;
    assert!(t.get("id_token").is_none(), "OIDC off: no id_token");
    assert!(!t["scope"].as_str().unwrap().contains("openid"));
    let (_, v) = refresh(&sim, &rt(&t)).await;
    assert!(v.get("id_token").is_none());
}

#[tokio::test]
async fn expire_refresh_tokens_of_stages_koe322() {
    let sim = demo().await;
    let t = sign_in(&sim, "full@kakao.test").await;
    sim.expire_refresh_tokens_of(FULL);
    let (s, v) = refresh(&sim, &rt(&t)).await;
    assert_kauth_error(s, &v, 400, "invalid_grant", "KOE322");
}

#[tokio::test]
async fn access_token_issuance_limit_koe237() {
    let sim = demo().await;
    let t = sign_in(&sim, "full@kakao.test").await; // 1 access token
    for i in 0..19 {
        let (s, v) = refresh(&sim, &rt(&t)).await;
        assert_eq!(s, 200, "refresh {i}: {v}");
    }
    let (s, v) = refresh(&sim, &rt(&t)).await;
    assert_kauth_error(s, &v, 400, "invalid_request", "KOE237");
    assert_eq!(v["error_description"], "token request rate limit exceeded");
    sim.advance_clock(601);
    assert_eq!(
        refresh(&sim, &rt(&t)).await.0,
        200,
        "window of 10 minutes passed"
    );
}

#[tokio::test]
async fn refresh_token_issuance_limit_koe237() {
    let sim = demo().await;
    // 30 sign-ins within an hour, spread so that the 20/10 min access limit is not hit.
    for i in 0..30 {
        if i % 15 == 14 {
            sim.advance_clock(601);
        }
        sign_in(&sim, "noemail@kakao.test").await;
    }
    let b = Browser::new();
    let code =
        browser_flow(&sim, &b, "noemail@kakao.test", &[], Consent::All).await["code"].clone();
    let (s, v) = exchange(
        &sim,
        &[
            ("grant_type", "authorization_code"),
            ("client_id", CLIENT_ID),
            ("redirect_uri", REDIRECT),
            ("code", &code),
        ],
    )
    .await;
    assert_kauth_error(s, &v, 400, "invalid_request", "KOE237");
}

#[tokio::test]
async fn id_token_claims_and_signature() {
    let sim = demo().await;
    let t = sign_in(&sim, "full@kakao.test").await;
    let idt = t["id_token"].as_str().unwrap();
    let header = jsonwebtoken::decode_header(idt).unwrap();
    assert_eq!(header.alg, jsonwebtoken::Algorithm::RS256);
    let kid = header.kid.unwrap();
    let jwks: Value = api()
        .get(format!("{}/.well-known/jwks.json", sim.base_url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let jwk = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kid"] == kid.as_str())
        .expect("kid published")
        .clone();
    assert_eq!(jwk["kty"], "RSA");
    assert_eq!(jwk["alg"], "RS256");
    assert_eq!(jwk["use"], "sig");
    assert_eq!(jwk["e"], "AQAB");
    let key = jsonwebtoken::DecodingKey::from_rsa_components(
        jwk["n"].as_str().unwrap(),
        jwk["e"].as_str().unwrap(),
    )
    .unwrap();
    let mut val = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    val.set_audience(&[CLIENT_ID]);
    val.set_issuer(&[sim.base_url()]);
    let c = jsonwebtoken::decode::<Value>(idt, &key, &val)
        .unwrap()
        .claims;
    assert_eq!(c["sub"], FULL.to_string());
    assert_eq!(c["nonce"], "n-1");
    assert_eq!(c["nickname"], "김카카오");
    assert_eq!(c["email"], "full@kakao.test");
    assert!(c["picture"].as_str().unwrap().starts_with(&sim.base_url()));
    assert_eq!(
        c["exp"].as_i64().unwrap() - c["iat"].as_i64().unwrap(),
        21599
    );
    assert!(c["auth_time"].as_i64().unwrap() <= c["iat"].as_i64().unwrap());
}

#[tokio::test]
async fn id_token_email_only_when_valid_and_verified_and_agreed() {
    let sim = demo().await;
    sim.update_user(NONICK, |u| u.profile.is_email_verified = false);
    let t = sign_in(&sim, "nonick@kakao.test").await;
    let payload = t["id_token"]
        .as_str()
        .unwrap()
        .split('.')
        .nth(1)
        .unwrap()
        .to_string();
    use base64::Engine;
    let c: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .unwrap(),
    )
    .unwrap();
    assert!(
        c.get("email").is_none(),
        "unverified email not in the ID token: {c}"
    );
    assert_eq!(c["nickname"], kakao_sim::DEFAULT_NICKNAME);
}

#[tokio::test]
async fn tokeninfo_ok_and_koe400() {
    let sim = demo().await;
    let t = sign_in(&sim, "full@kakao.test").await;
    let post = |idt: String| {
        let u = format!("{}/oauth/tokeninfo", sim.base_url());
        async move {
            api()
                .post(u)
                .form(&[("id_token", idt)])
                .send()
                .await
                .unwrap()
        }
    };
    let r = post(t["id_token"].as_str().unwrap().to_string()).await;
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["sub"], FULL.to_string());
    assert_eq!(v["aud"], CLIENT_ID);
    assert_eq!(v["iss"], sim.base_url());
    for bad in [
        "garbage".to_string(),
        format!("{}x", t["id_token"].as_str().unwrap()),
    ] {
        let r = post(bad).await;
        let s = r.status();
        let v: Value = r.json().await.unwrap();
        assert_kauth_error(s, &v, 400, "invalid_token", "KOE400");
    }
    sim.advance_clock(21_600);
    let r = post(t["id_token"].as_str().unwrap().to_string()).await;
    assert_eq!(r.status(), 400, "expired");
}

#[tokio::test]
async fn discovery_document() {
    let sim = demo().await;
    let r = api()
        .get(format!(
            "{}/.well-known/openid-configuration",
            sim.base_url()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.headers()["content-type"],
        "application/json;charset=utf-8"
    );
    let v: Value = r.json().await.unwrap();
    let b = sim.base_url();
    assert_eq!(v["issuer"], b);
    assert_eq!(v["authorization_endpoint"], format!("{b}/oauth/authorize"));
    assert_eq!(v["token_endpoint"], format!("{b}/oauth/token"));
    assert_eq!(v["userinfo_endpoint"], format!("{b}/v1/oidc/userinfo"));
    assert_eq!(v["jwks_uri"], format!("{b}/.well-known/jwks.json"));
    assert_eq!(
        v["token_endpoint_auth_methods_supported"],
        json!(["client_secret_post"])
    );
    assert_eq!(v["code_challenge_methods_supported"], json!(["S256"]));
    assert_eq!(v["id_token_signing_alg_values_supported"], json!(["RS256"]));
    assert_eq!(v["response_types_supported"], json!(["code"]));
    assert_eq!(
        v["grant_types_supported"],
        json!(["authorization_code", "refresh_token"])
    );
    assert_eq!(v["request_uri_parameter_supported"], json!(false));
    assert_eq!(v["claims_supported"].as_array().unwrap().len(), 10);
}

#[tokio::test]
async fn key_rotation_keeps_old_key_published_for_a_while() {
    let sim = demo().await;
    let t = sign_in(&sim, "full@kakao.test").await;
    let old_kid = sim.current_kid();
    sim.rotate_signing_key();
    let new_kid = sim.current_kid();
    assert_ne!(old_kid, new_kid);
    let kids = |sim_url: String| async move {
        let v: Value = api()
            .get(format!("{sim_url}/.well-known/jwks.json"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        v["keys"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k["kid"].as_str().unwrap().to_string())
            .collect::<Vec<_>>()
    };
    let k = kids(sim.base_url()).await;
    assert!(k.contains(&old_kid) && k.contains(&new_kid), "{k:?}");
    // New ID tokens use the new key.
    let (_, v) = refresh(&sim, &rt(&t)).await;
    let h = jsonwebtoken::decode_header(v["id_token"].as_str().unwrap()).unwrap();
    assert_eq!(h.kid.unwrap(), new_kid);
    sim.advance_clock(21_600);
    let k = kids(sim.base_url()).await;
    assert_eq!(k, vec![new_kid], "old key dropped after one token lifetime");
    assert_eq!(sim.stats().signing_key_rotations, 1);
}
