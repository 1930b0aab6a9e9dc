//! Conformance: `/oauth/authorize` (pages, prompts, consent, errors) and `/oauth/logout`.

mod common;
use common::*;
use kakao_sim::{Profile, Sim, SimConfig};
use reqwest::StatusCode;

async fn page(b: &Browser, url: &str) -> (StatusCode, String) {
    let r = b.get(url).await;
    (r.status(), r.text().await.unwrap())
}

fn koe(html: &str) -> String {
    let i = html
        .find(r#"id="koe-code">"#)
        .expect("error page with #koe-code")
        + 14;
    html[i..].split('<').next().unwrap().to_string()
}

#[tokio::test]
async fn configuration_errors_are_pages_never_redirects() {
    let sim = demo().await;
    let b = Browser::new();
    let cases: Vec<(Vec<(&str, &str)>, &str)> = vec![
        (vec![("client_id", "wrong-key")], "KOE101"),
        (
            vec![("redirect_uri", "http://127.0.0.1:9999/callback")],
            "KOE006",
        ),
        (
            vec![("redirect_uri", "http://localhost:18682/callback")],
            "KOE006",
        ),
        (vec![("response_type", "token")], "KOE202"),
        (vec![("response_type", "id_token")], "KOE201"),
        (vec![("scope", "account_email,account_ci")], "KOE205"),
        (
            vec![
                ("code_challenge", "abc"),
                ("code_challenge_method", "plain"),
            ],
            "KOE001",
        ),
    ];
    for (extra, code) in cases {
        let r = b.get(&authorize_url(&sim, &extra)).await;
        assert_eq!(r.status(), 400, "{code}");
        assert!(r.headers().get("location").is_none());
        let html = r.text().await.unwrap();
        assert_eq!(koe(&html), code);
        assert!(html.contains("Kakao simulator (offline sandbox), not Kakao"));
    }
    // Missing response_type altogether.
    let url = format!(
        "{}/oauth/authorize?client_id={CLIENT_ID}&redirect_uri={REDIRECT}",
        sim.base_url()
    );
    assert_eq!(koe(&page(&b, &url).await.1), "KOE201");
}

#[tokio::test]
async fn login_page_hint_wrong_password_then_consent_then_code_with_state() {
    let sim = demo().await;
    let b = Browser::new();
    let (s, html) = page(
        &b,
        &authorize_url(
            &sim,
            &[("login_hint", "full@kakao.test"), ("state", "st 1&x")],
        ),
    )
    .await;
    assert_eq!(s, 200);
    for id in ["login-id", "login-password", "login-keep", "login-submit"] {
        assert!(html.contains(&format!(r#"id="{id}""#)), "{id}");
    }
    assert!(
        html.contains(r#"id="login-id" name="login_id" value="full@kakao.test""#),
        "hint pre-filled"
    );
    assert!(html.contains("#FEE500"));
    assert!(
        !html.contains("http://") || !html.contains("<link"),
        "no external assets"
    );
    let tx = tx_of(&html);
    let r = b
        .post(
            &format!("{}/oauth/login", sim.base_url()),
            &[
                ("tx", &tx),
                ("login_id", "full@kakao.test"),
                ("password", "bad"),
            ],
        )
        .await;
    let html = r.text().await.unwrap();
    assert!(html.contains(r#"id="login-error""#));
    assert_eq!(sim.stats().logins_failed, 1);
    let r = login_post(&sim, &b, &tx, "full@kakao.test", false).await;
    let cookie = r.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("Path=/"),
        "{cookie}"
    );
    assert!(!cookie.contains("Max-Age"), "not kept: session cookie");
    let html = r.text().await.unwrap();
    for id in [
        "consent-all",
        "consent-agree",
        "consent-cancel",
        "consent-profile_nickname",
        "consent-account_email",
        "consent-phone_number",
    ] {
        assert!(html.contains(&format!(r#"id="{id}""#)), "{id}");
    }
    assert!(
        !html.contains(r#"id="consent-openid""#),
        "openid follows the OIDC setting, no checkbox"
    );
    assert!(
        html.contains(
            r#"id="consent-profile_nickname" name="scope" value="profile_nickname" checked"#
        ),
        "required pre-checked"
    );
    assert!(
        !html.contains(r#"value="account_email" checked"#),
        "optional not pre-checked"
    );
    let r = consent_post(&sim, &b, &tx_of(&html), Consent::All).await;
    assert_eq!(r.status(), 302);
    assert_eq!(r.headers()["content-length"], "0");
    let loc = location(&r);
    assert!(loc.starts_with(&format!("{REDIRECT}?code=")), "{loc}");
    assert!(loc.ends_with("&state=st%201%26x"), "{loc}");
    let q = query_of(&loc);
    assert_eq!(q["state"], "st 1&x");
    assert!(q["code"].len() >= 80);
    assert_eq!(sim.browser_sessions(), 1);
    assert_eq!(sim.stats().authorize_hits, 1);
}

#[tokio::test]
async fn session_cookie_skips_login_until_it_expires_and_prompt_login_forces_it() {
    let sim = demo().await;
    let b = Browser::new();
    browser_flow(&sim, &b, "full@kakao.test", &[], Consent::All).await;
    // Connected + session → code directly.
    let r = b.get(&authorize_url(&sim, &[("state", "s2")])).await;
    assert_eq!(r.status(), 302);
    assert!(query_of(&location(&r)).contains_key("code"));
    // prompt=login → login page.
    let (_, html) = page(&b, &authorize_url(&sim, &[("prompt", "login")])).await;
    assert!(html.contains(r#"id="login-submit""#));
    // 24 h later the session is gone.
    sim.advance_clock(86_400);
    let (_, html) = page(&b, &authorize_url(&sim, &[])).await;
    assert!(html.contains(r#"id="login-submit""#));
    assert_eq!(sim.browser_sessions(), 0);
}

#[tokio::test]
async fn keep_login_lasts_a_month() {
    let sim = demo().await;
    let b = Browser::new();
    let (_, html) = page(&b, &authorize_url(&sim, &[])).await;
    let r = login_post(&sim, &b, &tx_of(&html), "full@kakao.test", true).await;
    assert!(r.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .contains("Max-Age=2592000"));
    let html = r.text().await.unwrap();
    consent_post(&sim, &b, &tx_of(&html), Consent::All).await;
    sim.advance_clock(29 * 86_400);
    assert_eq!(b.get(&authorize_url(&sim, &[])).await.status(), 302);
    sim.advance_clock(2 * 86_400);
    assert_eq!(b.get(&authorize_url(&sim, &[])).await.status(), 200);
}

#[tokio::test]
async fn prompt_none_login_required_consent_required_and_code() {
    let sim = demo().await;
    let b = Browser::new();
    let r = b
        .get(&authorize_url(&sim, &[("prompt", "none"), ("state", "p")]))
        .await;
    assert_eq!(r.status(), 302);
    let q = query_of(&location(&r));
    assert_eq!(q["error"], "login_required");
    assert_eq!(q["state"], "p");
    assert!(q.contains_key("error_description"));
    // Session but not connected (user cancels consent) → consent_required.
    let q = browser_flow(&sim, &b, "full@kakao.test", &[], Consent::Cancel).await;
    assert_eq!(q["error"], "access_denied");
    let r = b
        .get(&authorize_url(&sim, &[("prompt", "none"), ("state", "p")]))
        .await;
    let q = query_of(&location(&r));
    assert_eq!(q["error"], "consent_required");
    assert_eq!(q["error_description"], "user consent required.");
    // Connected → code without UI.
    let r = b.get(&authorize_url(&sim, &[])).await;
    let html = r.text().await.unwrap();
    consent_post(&sim, &b, &tx_of(&html), Consent::All).await;
    let r = b.get(&authorize_url(&sim, &[("prompt", "none")])).await;
    assert!(query_of(&location(&r)).contains_key("code"));
    // prompt=none with scope asking for an unagreed item → consent_required.
    let b2 = Browser::new();
    browser_flow(
        &sim,
        &b2,
        "nonick@kakao.test",
        &[],
        Consent::Only(&["profile_nickname"]),
    )
    .await;
    let r = b2
        .get(&authorize_url(
            &sim,
            &[("prompt", "none"), ("scope", "account_email")],
        ))
        .await;
    assert_eq!(query_of(&location(&r))["error"], "consent_required");
}

#[tokio::test]
async fn cancel_redirects_access_denied_with_exact_encoding() {
    let sim = demo().await;
    let b = Browser::new();
    let (_, html) = page(&b, &authorize_url(&sim, &[("state", "abc")])).await;
    let r = login_post(&sim, &b, &tx_of(&html), "full@kakao.test", false).await;
    let html = r.text().await.unwrap();
    let r = consent_post(&sim, &b, &tx_of(&html), Consent::Cancel).await;
    assert_eq!(r.status(), 302);
    assert_eq!(
        location(&r),
        format!(
            "{REDIRECT}?error=access_denied&error_description=User%20denied%20access&state=abc"
        )
    );
    assert!(!sim.is_connected(FULL));
    assert_eq!(sim.stats().consents_cancelled, 1);
}

#[tokio::test]
async fn account_chooser_for_select_account() {
    let sim = demo().await;
    let b = Browser::new();
    browser_flow(&sim, &b, "full@kakao.test", &[], Consent::All).await;
    browser_flow(
        &sim,
        &b,
        "notalk@kakao.test",
        &[("prompt", "login")],
        Consent::All,
    )
    .await;
    let (s, html) = page(&b, &authorize_url(&sim, &[("prompt", "select_account")])).await;
    assert_eq!(s, 200);
    assert!(html.contains(&format!(r#"id="account-{FULL}""#)));
    assert!(html.contains(&format!(r#"id="account-{NOTALK}""#)));
    assert!(html.contains(r#"id="account-other""#));
    let tx = tx_of(&html);
    let r = b
        .post(
            &format!("{}/oauth/select", sim.base_url()),
            &[("tx", tx.as_str()), ("account", &FULL.to_string())],
        )
        .await;
    assert_eq!(r.status(), 302, "connected account → code");
    let code = query_of(&location(&r))["code"].clone();
    let (_, v) = exchange(
        &sim,
        &[
            ("grant_type", "authorization_code"),
            ("client_id", CLIENT_ID),
            ("redirect_uri", REDIRECT),
            ("code", &code),
        ],
    )
    .await;
    let (_, _, me) = kapi(
        &sim,
        reqwest::Method::GET,
        "/v2/user/me",
        Some(&at(&v)),
        &[],
    )
    .await;
    assert_eq!(me["id"], serde_json::json!(FULL));
    // "other" → login page.
    let (_, html) = page(&b, &authorize_url(&sim, &[("prompt", "select_account")])).await;
    let r = b
        .post(
            &format!("{}/oauth/select", sim.base_url()),
            &[("tx", tx_of(&html).as_str()), ("account", "other")],
        )
        .await;
    assert!(r.text().await.unwrap().contains(r#"id="login-submit""#));
    // Without a session, select_account shows the login page.
    let (_, html) = page(
        &Browser::new(),
        &authorize_url(&sim, &[("prompt", "select_account")]),
    )
    .await;
    assert!(html.contains(r#"id="login-submit""#));
}

#[tokio::test]
async fn items_without_value_left_out_unless_collect_s10_s15() {
    let mut cfg = SimConfig::demo();
    for i in cfg.app.consent_items.iter_mut() {
        if i.id == "account_email" {
            i.required = true;
            i.collect = true;
        }
    }
    let sim = Sim::start(cfg).await.unwrap();
    let b = Browser::new();
    let (_, html) = page(&b, &authorize_url(&sim, &[])).await;
    let html = login_post(&sim, &b, &tx_of(&html), "noemail@kakao.test", false)
        .await
        .text()
        .await
        .unwrap();
    assert!(
        !html.contains(r#"id="consent-phone_number""#),
        "no phone → item left out (collect not allowed)"
    );
    assert!(
        html.contains(r#"id="consent-account_email""#),
        "collect on → shown"
    );
    assert!(html.contains(r#"id="collect-account_email""#));
    let tx = tx_of(&html);
    // Required collect item with an empty value → page again with #consent-error.
    let r = b
        .post(
            &format!("{}/oauth/consent", sim.base_url()),
            &[
                ("tx", tx.as_str()),
                ("scope", "profile_nickname"),
                ("scope", "account_email"),
                ("action", "agree"),
            ],
        )
        .await;
    assert!(r.text().await.unwrap().contains(r#"id="consent-error""#));
    let r = b
        .post(
            &format!("{}/oauth/consent", sim.base_url()),
            &[
                ("tx", tx.as_str()),
                ("scope", "profile_nickname"),
                ("scope", "account_email"),
                ("collect_account_email", "typed@kakao.test"),
                ("action", "agree"),
            ],
        )
        .await;
    assert_eq!(r.status(), 302);
    assert_eq!(
        sim.user(NOEMAIL).unwrap().profile.email.as_deref(),
        Some("typed@kakao.test")
    );
    let consents = sim.user_consents(NOEMAIL);
    assert!(
        consents.contains(&"phone_number".to_string()),
        "left-out item counts as agreed-but-empty"
    );
    // Config validation: phone_number cannot use collect.
    let mut bad = SimConfig::demo();
    bad.app
        .consent_items
        .iter_mut()
        .find(|i| i.id == "phone_number")
        .unwrap()
        .collect = true;
    assert!(bad.validate().is_err());
}

#[tokio::test]
async fn required_item_not_agreed_koe203() {
    let sim = demo().await;
    let b = Browser::new();
    let (_, html) = page(&b, &authorize_url(&sim, &[])).await;
    let html = login_post(&sim, &b, &tx_of(&html), "full@kakao.test", false)
        .await
        .text()
        .await
        .unwrap();
    let r = b
        .post(
            &format!("{}/oauth/consent", sim.base_url()),
            &[
                ("tx", tx_of(&html).as_str()),
                ("scope", "account_email"),
                ("action", "agree"),
            ],
        )
        .await;
    assert_eq!(r.status(), 400);
    assert_eq!(koe(&r.text().await.unwrap()), "KOE203");
}

#[tokio::test]
async fn additional_consent_with_scope_s12() {
    let sim = demo().await;
    let b = Browser::new();
    browser_flow(
        &sim,
        &b,
        "full@kakao.test",
        &[],
        Consent::Only(&["profile_nickname"]),
    )
    .await;
    assert!(!sim
        .user_consents(FULL)
        .contains(&"account_email".to_string()));
    // scope=account_email,openid (commas) → consent page with only that item.
    let (_, html) = page(
        &b,
        &authorize_url(&sim, &[("scope", "account_email,openid")]),
    )
    .await;
    assert!(html.contains(r#"id="consent-account_email""#));
    assert!(
        !html.contains(r#"id="consent-gender""#),
        "only requested items"
    );
    let r = consent_post(&sim, &b, &tx_of(&html), Consent::Only(&["account_email"])).await;
    let code = query_of(&location(&r))["code"].clone();
    let (_, v) = exchange(
        &sim,
        &[
            ("grant_type", "authorization_code"),
            ("client_id", CLIENT_ID),
            ("redirect_uri", REDIRECT),
            ("code", &code),
        ],
    )
    .await;
    assert!(v["id_token"].is_string(), "openid included → ID token");
    assert!(v["scope"].as_str().unwrap().contains("account_email"));
    // Spaces also accepted; without openid → no ID token; cancel → access_denied.
    let (_, html) = page(&b, &authorize_url(&sim, &[("scope", "gender birthday")])).await;
    let r = consent_post(&sim, &b, &tx_of(&html), Consent::Cancel).await;
    assert_eq!(query_of(&location(&r))["error"], "access_denied");
    let (_, html) = page(&b, &authorize_url(&sim, &[("scope", "gender birthday")])).await;
    let r = consent_post(&sim, &b, &tx_of(&html), Consent::Only(&["gender"])).await;
    let code = query_of(&location(&r))["code"].clone();
    let (_, v) = exchange(
        &sim,
        &[
            ("grant_type", "authorization_code"),
            ("client_id", CLIENT_ID),
            ("redirect_uri", REDIRECT),
            ("code", &code),
        ],
    )
    .await;
    assert!(
        v.get("id_token").is_none(),
        "scope without openid → no new ID token"
    );
    // Already agreed scope → code directly.
    let r = b.get(&authorize_url(&sim, &[("scope", "gender")])).await;
    assert_eq!(r.status(), 302);
}

fn logout_url(sim: &Sim, state: &str) -> String {
    format!(
        "{}/oauth/logout?client_id={CLIENT_ID}&logout_redirect_uri=http://127.0.0.1:18683/logout&state={state}",
        sim.base_url()
    )
}

/// The id of the logout choice page's form.
fn logout_id(html: &str) -> String {
    let at = html
        .find(r#"name="id" value=""#)
        .expect("logout choice form")
        + 17;
    html[at..].split('"').next().unwrap().to_string()
}

/// REFERENCE §6, Decision 14: with a Kakao session the browser gets Kakao's choice page; "this
/// service only" keeps the Kakao session, "with the Kakao account" ends it; both redirect to the
/// logout redirect URI with `state`. KOE007/KOE101 as before.
#[tokio::test]
async fn oauth_logout_choice_page_and_koe007() {
    let sim = demo().await;
    let b = Browser::new();
    browser_flow(&sim, &b, "full@kakao.test", &[], Consent::All).await;
    assert_eq!(sim.browser_sessions(), 1);
    let bad = format!(
        "{}/oauth/logout?client_id={CLIENT_ID}&logout_redirect_uri=http://127.0.0.1:18682/other",
        sim.base_url()
    );
    let (s, html) = page(&b, &bad).await;
    assert_eq!(s, 400);
    assert_eq!(koe(&html), "KOE007");
    let (_, html) = page(
        &b,
        &format!(
            "{}/oauth/logout?client_id=nope&logout_redirect_uri=http://127.0.0.1:18682/logout",
            sim.base_url()
        ),
    )
    .await;
    assert_eq!(koe(&html), "KOE101");

    // "This service only": back to the app, the Kakao session stays.
    let (s, html) = page(&b, &logout_url(&sim, "one")).await;
    assert_eq!(s, 200);
    assert!(html.contains(r#"id="logout-choice-service""#), "{html}");
    assert!(html.contains(r#"id="logout-choice-account""#), "{html}");
    let r = b
        .post(
            &format!("{}/oauth/logout/choose", sim.base_url()),
            &[("id", &logout_id(&html)), ("choice", "service")],
        )
        .await;
    assert_eq!(r.status(), 302);
    assert_eq!(location(&r), "http://127.0.0.1:18683/logout?state=one");
    assert!(r.headers().get("set-cookie").is_none());
    assert_eq!(sim.browser_sessions(), 1);
    let q = browser_flow(&sim, &b, "unused", &[], Consent::All).await;
    assert!(q.contains_key("code"), "no login asked: {q:?}");

    // "With the Kakao account": the session ends, the next authorize asks for a login.
    let (_, html) = page(&b, &logout_url(&sim, "bye")).await;
    let r = b
        .post(
            &format!("{}/oauth/logout/choose", sim.base_url()),
            &[("id", &logout_id(&html)), ("choice", "account")],
        )
        .await;
    assert_eq!(r.status(), 302);
    assert_eq!(location(&r), "http://127.0.0.1:18683/logout?state=bye");
    assert!(r.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .contains("Max-Age=0"));
    assert_eq!(sim.browser_sessions(), 0);
    let stats = sim.stats();
    assert_eq!(
        (stats.service_only_logouts, stats.kakao_account_logouts),
        (1, 1)
    );
    let (_, html) = page(&b, &authorize_url(&sim, &[])).await;
    assert!(html.contains(r#"id="login-submit""#), "login needed again");

    // No Kakao session: nothing to choose, straight back.
    let r = b.get(&logout_url(&sim, "none")).await;
    assert_eq!(r.status(), 302);
    assert_eq!(location(&r), "http://127.0.0.1:18683/logout?state=none");
}

/// REFERENCE §5: the "collect via Kakao account" option does not exist for profile items.
#[test]
fn collect_is_refused_for_profile_items() {
    for id in ["profile_nickname", "profile_image"] {
        let mut bad = SimConfig::demo();
        bad.app
            .consent_items
            .iter_mut()
            .find(|i| i.id == id)
            .unwrap()
            .collect = true;
        let e = bad.validate().unwrap_err().to_string();
        assert!(e.contains(id), "{e}");
    }
}

#[tokio::test]
async fn profile_changes_via_set_user_profile() {
    let sim = demo().await;
    assert!(sim.set_user_profile(
        NOTALK,
        Profile {
            nickname: Some("바뀜".into()),
            ..Profile::with_defaults()
        }
    ));
    let t = sign_in(&sim, "notalk@kakao.test").await;
    let (_, _, me) = kapi(
        &sim,
        reqwest::Method::GET,
        "/v2/user/me",
        Some(&at(&t)),
        &[],
    )
    .await;
    assert_eq!(me["kakao_account"]["profile"]["nickname"], "바뀜");
}

/// REFERENCE §7: with OpenID Connect switched off in the console, `scope=openid` is KOE205 (a
/// page that never redirects) and a refresh brings no ID token; the token `scope` lists
/// `openid` only with an ID token.
#[tokio::test]
async fn oidc_switched_off_later() {
    let sim = demo().await;
    let t = sign_in(&sim, "full@kakao.test").await;
    assert!(t["id_token"].is_string());
    sim.update_app(|a| a.oidc = false);
    let (s, v) = refresh(&sim, &rt(&t)).await;
    assert_eq!(s, 200, "{v}");
    assert!(v.get("id_token").is_none(), "{v}");
    let b = Browser::new();
    browser_flow(&sim, &b, "full@kakao.test", &[], Consent::All).await;
    let (s, html) = page(
        &b,
        &authorize_url(&sim, &[("scope", "account_email,openid")]),
    )
    .await;
    assert_eq!(s, 400);
    assert_eq!(koe(&html), "KOE205");
    let t2 = sign_in(&sim, "full@kakao.test").await;
    assert!(t2.get("id_token").is_none());
    assert!(!t2["scope"].as_str().unwrap().contains("openid"), "{t2}");
}
