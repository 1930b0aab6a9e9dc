//! Conformance: kapi user endpoints over HTTP (`{msg, code}` errors, needs_agreement rules).

mod common;
use common::*;
use kakao_sim::{ConsentItem, ScopeType, Sim, SimConfig};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

fn assert_kapi_error(s: StatusCode, v: &Value, status: u16, code: i64) {
    assert_eq!(s.as_u16(), status, "{v}");
    assert_eq!(v["code"], code, "{v}");
    assert!(v["msg"].is_string(), "{v}");
}

/// Signs in ticking exactly `items` on the consent page.
async fn sign_in_with(sim: &Sim, login: &str, items: &[&str]) -> Value {
    let b = Browser::new();
    let q = browser_flow(sim, &b, login, &[], Consent::Only(items)).await;
    let (s, v) = exchange(
        sim,
        &[
            ("grant_type", "authorization_code"),
            ("client_id", CLIENT_ID),
            ("redirect_uri", REDIRECT),
            ("code", &q["code"]),
        ],
    )
    .await;
    assert_eq!(s, 200);
    v
}

#[tokio::test]
async fn user_me_full_user_all_agreed() {
    let sim = demo().await;
    let t = sign_in(&sim, "full@kakao.test").await;
    let (s, h, v) = kapi(&sim, Method::GET, "/v2/user/me", Some(&at(&t)), &[]).await;
    assert_eq!(s, 200);
    assert_eq!(h["content-type"], "application/json;charset=UTF-8");
    assert_eq!(v["id"], json!(FULL));
    assert!(v["connected_at"].as_str().unwrap().ends_with('Z'));
    let a = &v["kakao_account"];
    assert_eq!(a["profile_nickname_needs_agreement"], false);
    assert_eq!(a["profile_image_needs_agreement"], false);
    assert_eq!(a["profile"]["nickname"], "김카카오");
    assert_eq!(a["profile"]["is_default_nickname"], false);
    assert_eq!(a["profile"]["is_default_image"], false);
    assert!(a["profile"]["profile_image_url"]
        .as_str()
        .unwrap()
        .starts_with("http://127.0.0.1"));
    assert_eq!(a["email_needs_agreement"], false);
    assert_eq!(a["email"], "full@kakao.test");
    assert_eq!(a["is_email_valid"], true);
    assert_eq!(a["is_email_verified"], true);
    assert_eq!(a["name"], "김카카오");
    assert_eq!(a["gender"], "female");
    assert_eq!(a["age_range"], "30~39");
    assert_eq!(a["birthyear"], "1990");
    assert_eq!(a["birthday"], "0214");
    assert_eq!(a["birthday_type"], "SOLAR");
    assert_eq!(a["phone_number"], "+82 10-1234-5678");
    assert_eq!(a["phone_number_needs_agreement"], false);
    assert!(
        a.get("ci_needs_agreement").is_none(),
        "account_ci not configured → neither key"
    );
    assert!(a.get("ci").is_none());
    assert_eq!(v["properties"]["nickname"], "김카카오");
    // POST form variant is the same.
    let (s, _, v2) = kapi(&sim, Method::POST, "/v2/user/me", Some(&at(&t)), &[]).await;
    assert_eq!(s, 200);
    assert_eq!(v2, v);
}

#[tokio::test]
async fn user_me_needs_agreement_four_states() {
    let sim = demo().await;
    // Optional items unticked except email: gender etc. not agreed → needs_agreement true.
    let t = sign_in_with(
        &sim,
        "noemail@kakao.test",
        &["profile_nickname", "profile_image"],
    )
    .await;
    let (_, _, v) = kapi(&sim, Method::GET, "/v2/user/me", Some(&at(&t)), &[]).await;
    let a = &v["kakao_account"];
    // agreed + value
    assert_eq!(a["profile_nickname_needs_agreement"], false);
    assert_eq!(a["profile"]["nickname"], "이메일없음");
    // not agreed, has value → true, value absent
    assert_eq!(a["gender_needs_agreement"], true);
    assert!(a.get("gender").is_none());
    // no value (email, phone): not on the consent page, agreed-but-empty → false, absent
    assert_eq!(a["email_needs_agreement"], false);
    assert!(a.get("email").is_none());
    assert!(a.get("is_email_valid").is_none());
    assert_eq!(a["phone_number_needs_agreement"], false);
    assert!(a.get("phone_number").is_none());
    // not configured → neither key
    assert!(a.get("ci_needs_agreement").is_none());
    // nonick: default nickname
    let t = sign_in(&sim, "nonick@kakao.test").await;
    let (_, _, v) = kapi(&sim, Method::GET, "/v2/user/me", Some(&at(&t)), &[]).await;
    assert_eq!(
        v["kakao_account"]["profile"]["nickname"],
        "닉네임을 등록해주세요"
    );
    assert_eq!(v["kakao_account"]["profile"]["is_default_nickname"], true);
    assert_eq!(v["kakao_account"]["profile"]["is_default_image"], true);
    // notalk: no phone number even though agreed-to-all
    let t = sign_in(&sim, "notalk@kakao.test").await;
    let (_, _, v) = kapi(&sim, Method::GET, "/v2/user/me", Some(&at(&t)), &[]).await;
    assert_eq!(v["kakao_account"]["phone_number_needs_agreement"], false);
    assert!(v["kakao_account"].get("phone_number").is_none());
    assert_eq!(v["kakao_account"]["email"], "notalk@kakao.test");
}

#[tokio::test]
async fn user_me_property_keys_and_secure_resource() {
    let mut cfg = SimConfig::demo();
    cfg.users[0].profile.profile_image_url = Some("http://k.kakaocdn.test/full_640.jpg".into());
    cfg.users[0].profile.thumbnail_image_url = None;
    let sim = Sim::start(cfg).await.unwrap();
    let t = sign_in(&sim, "full@kakao.test").await;
    let (s, _, v) = kapi(
        &sim,
        Method::GET,
        "/v2/user/me",
        Some(&at(&t)),
        &[("property_keys", r#"["kakao_account.email"]"#)],
    )
    .await;
    assert_eq!(s, 200);
    let a = v["kakao_account"].as_object().unwrap();
    assert_eq!(a["email"], "full@kakao.test");
    assert!(
        a.get("gender").is_none() && a.get("profile").is_none(),
        "{a:?}"
    );
    let (_, _, v) = kapi(
        &sim,
        Method::POST,
        "/v2/user/me",
        Some(&at(&t)),
        &[
            ("secure_resource", "true"),
            ("property_keys", r#"["kakao_account.profile"]"#),
        ],
    )
    .await;
    assert_eq!(
        v["kakao_account"]["profile"]["profile_image_url"],
        "https://k.kakaocdn.test/full_640.jpg"
    );
    let (_, _, v) = kapi(&sim, Method::GET, "/v2/user/me", Some(&at(&t)), &[]).await;
    assert_eq!(
        v["kakao_account"]["profile"]["profile_image_url"],
        "http://k.kakaocdn.test/full_640.jpg"
    );
    let (s, _, v) = kapi(
        &sim,
        Method::GET,
        "/v2/user/me",
        Some(&at(&t)),
        &[("property_keys", "not json")],
    )
    .await;
    assert_kapi_error(s, &v, 400, -2);
    let (s, _, v) = kapi(
        &sim,
        Method::GET,
        "/v2/user/me",
        Some(&at(&t)),
        &[("property_keys", r#"["kakao_account.shoe_size"]"#)],
    )
    .await;
    assert_kapi_error(s, &v, 400, -2);
}

#[tokio::test]
async fn invalid_tokens_minus_401_with_www_authenticate() {
    let sim = demo().await;
    let t = sign_in(&sim, "full@kakao.test").await;
    for path in [
        "/v2/user/me",
        "/v1/user/access_token_info",
        "/v2/user/scopes",
        "/v1/oidc/userinfo",
    ] {
        for tok in [None, Some("unknown-token")] {
            let (s, h, v) = kapi(&sim, Method::GET, path, tok, &[]).await;
            assert_kapi_error(s, &v, 401, -401);
            assert_eq!(
                h["www-authenticate"], "Bearer error=invalid_token",
                "{path}"
            );
        }
    }
    for path in [
        "/v1/user/logout",
        "/v1/user/unlink",
        "/v2/user/revoke/scopes",
    ] {
        let (s, h, v) = kapi(&sim, Method::POST, path, Some("unknown"), &[]).await;
        assert_kapi_error(s, &v, 401, -401);
        assert_eq!(h["www-authenticate"], "Bearer error=invalid_token");
    }
    let (s, _, v) = kapi(
        &sim,
        Method::GET,
        "/v2/user/me",
        Some("bad token with spaces"),
        &[],
    )
    .await;
    assert_kapi_error(s, &v, 400, -2);
    sim.advance_clock(21_599);
    let (s, h, v) = kapi(
        &sim,
        Method::GET,
        "/v1/user/access_token_info",
        Some(&at(&t)),
        &[],
    )
    .await;
    assert_kapi_error(s, &v, 401, -401);
    assert_eq!(v["msg"], "this access token is already expired");
    assert_eq!(h["www-authenticate"], "Bearer error=invalid_token");
}

#[tokio::test]
async fn access_token_info_shape() {
    let sim = demo().await;
    let t = sign_in(&sim, "full@kakao.test").await;
    sim.advance_clock(100);
    let (s, _, v) = kapi(
        &sim,
        Method::GET,
        "/v1/user/access_token_info",
        Some(&at(&t)),
        &[],
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(v["id"], json!(FULL));
    assert_eq!(v["app_id"], 1_000_001);
    let e = v["expires_in"].as_i64().unwrap();
    assert!((21_497..=21_499).contains(&e), "{e}");
    assert_eq!(v.as_object().unwrap().len(), 3);
}

/// REFERENCE §4c, Decision 12: a Bearer logout revokes that access token and its refresh
/// token (with the access tokens refreshed from it); another session of the same member (another
/// device) stays signed in.
#[tokio::test]
async fn logout_revokes_only_that_session() {
    let sim = demo().await;
    let t1 = sign_in(&sim, "full@kakao.test").await;
    let t2 = sign_in(&sim, "full@kakao.test").await;
    let other = sign_in(&sim, "notalk@kakao.test").await;
    // t1's refresh issued a second access token of the same session: it goes too.
    let (s, t1b) = refresh(&sim, &rt(&t1)).await;
    assert_eq!(s, 200, "{t1b}");
    let (s, _, v) = kapi(&sim, Method::POST, "/v1/user/logout", Some(&at(&t1)), &[]).await;
    assert_eq!(s, 200);
    assert_eq!(v, json!({"id": FULL}));
    assert!(!sim.is_access_token_live(&at(&t1)));
    assert!(!sim.is_access_token_live(&at(&t1b)));
    assert!(!sim.is_refresh_token_live(&rt(&t1)));
    let (s, _, v) = kapi(&sim, Method::GET, "/v2/user/me", Some(&at(&t1)), &[]).await;
    assert_kapi_error(s, &v, 401, -401);
    let (s, v) = refresh(&sim, &rt(&t1)).await;
    assert_eq!(
        (s.as_u16(), v["error_code"].as_str()),
        (400, Some("KOE322"))
    );
    // The member's other session works on: its access token and its refresh token.
    assert!(sim.is_access_token_live(&at(&t2)));
    let (s, _, v) = kapi(&sim, Method::GET, "/v2/user/me", Some(&at(&t2)), &[]).await;
    assert_eq!((s.as_u16(), v["id"].as_i64()), (200, Some(FULL)), "{v}");
    let (s, v) = refresh(&sim, &rt(&t2)).await;
    assert_eq!(s, 200, "{v}");
    assert!(sim.is_access_token_live(&at(&other)));
    assert!(!sim.user_consents(FULL).is_empty(), "logout keeps consents");
    assert_eq!(sim.stats().revoked_access_tokens, 2);
    assert_eq!(sim.stats().revoked_refresh_tokens, 1);
}

/// REFERENCE §5: `openid` is a scope value, not a consent item: `/v2/user/scopes` does not list
/// it and it cannot be revoked, though the token response's `scope` carries it.
#[tokio::test]
async fn openid_is_not_a_consent_item() {
    let sim = demo().await;
    let t = sign_in(&sim, "full@kakao.test").await;
    assert!(t["scope"]
        .as_str()
        .unwrap()
        .split(' ')
        .any(|s| s == "openid"));
    let (s, _, v) = kapi(&sim, Method::GET, "/v2/user/scopes", Some(&at(&t)), &[]).await;
    assert_eq!(s, 200);
    let ids: Vec<&str> = v["scopes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    assert!(!ids.contains(&"openid"), "{ids:?}");
    assert!(ids.contains(&"profile_nickname"), "{ids:?}");
    let (s, _, v) = kapi(
        &sim,
        Method::POST,
        "/v2/user/revoke/scopes",
        Some(&at(&t)),
        &[("scopes", r#"["openid"]"#)],
    )
    .await;
    assert_kapi_error(s, &v, 400, -2);
}

#[tokio::test]
async fn unlink_kills_tokens_and_withdraws_consents() {
    let sim = demo().await;
    let t = sign_in(&sim, "full@kakao.test").await;
    let (s, _, v) = kapi(&sim, Method::POST, "/v1/user/unlink", Some(&at(&t)), &[]).await;
    assert_eq!(s, 200);
    assert_eq!(v, json!({"id": FULL}));
    assert!(!sim.is_access_token_live(&at(&t)));
    assert!(!sim.is_refresh_token_live(&rt(&t)));
    assert!(sim.user_consents(FULL).is_empty());
    assert!(!sim.is_connected(FULL));
    // Next sign-in in a browser with a session shows the consent page again.
    let b = Browser::new();
    let q = browser_flow(&sim, &b, "full@kakao.test", &[], Consent::All).await;
    assert!(q.contains_key("code"));
    let r = b.get(&authorize_url(&sim, &[])).await;
    assert_eq!(r.status(), 302, "connected again: code directly");
    let t2 = sign_in(&sim, "full@kakao.test").await;
    let (_, _, v) = kapi(&sim, Method::POST, "/v1/user/unlink", Some(&at(&t2)), &[]).await;
    assert_eq!(v["id"], json!(FULL));
    let r = b.get(&authorize_url(&sim, &[])).await;
    assert_eq!(r.status(), 200);
    assert!(
        r.text().await.unwrap().contains(r#"id="consent-agree""#),
        "consent page again after unlink"
    );
}

#[tokio::test]
async fn scopes_and_revoke_scopes() {
    let sim = demo().await;
    let t = sign_in_with(
        &sim,
        "full@kakao.test",
        &["profile_nickname", "account_email"],
    )
    .await;
    let (s, _, v) = kapi(&sim, Method::GET, "/v2/user/scopes", Some(&at(&t)), &[]).await;
    assert_eq!(s, 200);
    assert_eq!(v["id"], json!(FULL));
    let scopes = v["scopes"].as_array().unwrap();
    let find = |id: &str| scopes.iter().find(|s| s["id"] == id).unwrap().clone();
    let nick = find("profile_nickname");
    assert_eq!(nick["type"], "PRIVACY");
    assert_eq!(nick["using"], true);
    assert_eq!(nick["agreed"], true);
    assert_eq!(nick["revocable"], false, "required → not revocable");
    assert!(nick["display_name"].is_string());
    let email = find("account_email");
    assert_eq!(email["agreed"], true);
    assert_eq!(email["revocable"], true);
    let gender = find("gender");
    assert_eq!(gender["agreed"], false);
    assert!(
        gender.get("revocable").is_none(),
        "revocable only when agreed"
    );
    // Filter.
    let (_, _, v) = kapi(
        &sim,
        Method::GET,
        "/v2/user/scopes",
        Some(&at(&t)),
        &[("scopes", r#"["account_email"]"#)],
    )
    .await;
    assert_eq!(v["scopes"].as_array().unwrap().len(), 1);
    // Revoke required → -3 403 with the reference message.
    let (s, _, v) = kapi(
        &sim,
        Method::POST,
        "/v2/user/revoke/scopes",
        Some(&at(&t)),
        &[("scopes", r#"["profile_nickname"]"#)],
    )
    .await;
    assert_kapi_error(s, &v, 403, -3);
    assert_eq!(v["msg"], "[profile_nickname] is not revocable. check out if it's set as required on developers.kakao.com");
    // Unknown → -2 400.
    let (s, _, v) = kapi(
        &sim,
        Method::POST,
        "/v2/user/revoke/scopes",
        Some(&at(&t)),
        &[("scopes", r#"["email"]"#)],
    )
    .await;
    assert_kapi_error(s, &v, 400, -2);
    assert_eq!(
        v["msg"],
        "There is no scopes to revoke. check out if given scope id([email]) is correct again."
    );
    let (s, _, v) = kapi(
        &sim,
        Method::POST,
        "/v2/user/revoke/scopes",
        Some(&at(&t)),
        &[],
    )
    .await;
    assert_kapi_error(s, &v, 400, -2);
    // Revoke optional.
    let (s, _, v) = kapi(
        &sim,
        Method::POST,
        "/v2/user/revoke/scopes",
        Some(&at(&t)),
        &[("scopes", r#"["account_email"]"#)],
    )
    .await;
    assert_eq!(s, 200, "{v}");
    let e = v["scopes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == "account_email")
        .unwrap();
    assert_eq!(e["agreed"], false);
    let (_, _, me) = kapi(&sim, Method::GET, "/v2/user/me", Some(&at(&t)), &[]).await;
    assert_eq!(me["kakao_account"]["email_needs_agreement"], true);
    assert!(me["kakao_account"].get("email").is_none());
}

#[tokio::test]
async fn oidc_userinfo_fields() {
    let sim = demo().await;
    let t = sign_in(&sim, "full@kakao.test").await;
    let (s, _, v) = kapi(&sim, Method::GET, "/v1/oidc/userinfo", Some(&at(&t)), &[]).await;
    assert_eq!(s, 200);
    assert_eq!(v["sub"], FULL.to_string());
    assert_eq!(v["nickname"], "김카카오");
    assert_eq!(v["name"], "김카카오");
    assert_eq!(v["email"], "full@kakao.test");
    assert_eq!(v["email_verified"], true);
    assert_eq!(v["gender"], "female");
    assert_eq!(v["birthdate"], "1990-02-14");
    assert_eq!(v["phone_number"], "+82 10-1234-5678");
    assert_eq!(v["phone_number_verified"], true);
    assert!(v["picture"].is_string());
    let mut cfg = SimConfig::demo();
    cfg.app.oidc = false;
    cfg.app.consent_items.retain(|i| i.id != "openid");
    let sim2 = Sim::start(cfg).await.unwrap();
    let t = sign_in(&sim2, "full@kakao.test").await;
    let (s, _, v) = kapi(&sim2, Method::GET, "/v1/oidc/userinfo", Some(&at(&t)), &[]).await;
    assert_kapi_error(s, &v, 403, -3);
}

#[tokio::test]
async fn insufficient_scope_minus_402_on_shipping_address() {
    let mut cfg = SimConfig::demo();
    cfg.app.consent_items.push(ConsentItem {
        id: "shipping_address".into(),
        display_name: "배송지 (Shipping address)".into(),
        required: false,
        collect: false,
        kind: ScopeType::Privacy,
    });
    let sim = Sim::start(cfg).await.unwrap();
    let t = sign_in_with(&sim, "full@kakao.test", &["profile_nickname"]).await;
    let (s, _, v) = kapi(
        &sim,
        Method::GET,
        "/v1/user/shipping_address",
        Some(&at(&t)),
        &[],
    )
    .await;
    assert_kapi_error(s, &v, 403, -402);
    assert_eq!(v["required_scopes"], json!(["shipping_address"]));
    assert!(v["allowed_scopes"]
        .as_array()
        .unwrap()
        .contains(&json!("profile_nickname")));
    assert_eq!(v["api_type"], "USER_SHIPPING_ADDRESS");
    // Demo app does not configure it → -3.
    let sim2 = demo().await;
    let t = sign_in(&sim2, "full@kakao.test").await;
    let (s, _, v) = kapi(
        &sim2,
        Method::GET,
        "/v1/user/shipping_address",
        Some(&at(&t)),
        &[],
    )
    .await;
    assert_kapi_error(s, &v, 403, -3);
}

#[tokio::test]
async fn profile_changes_are_visible_s11() {
    let sim = demo().await;
    let t = sign_in(&sim, "full@kakao.test").await;
    assert!(sim.update_user(FULL, |u| u.profile.nickname = Some("새이름".into())));
    let (_, _, v) = kapi(&sim, Method::GET, "/v2/user/me", Some(&at(&t)), &[]).await;
    assert_eq!(v["kakao_account"]["profile"]["nickname"], "새이름");
    assert!(!sim.update_user(42, |_| {}));
}
