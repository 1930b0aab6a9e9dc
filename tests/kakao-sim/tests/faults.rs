//! Fault injection (library and `/__sim/` control path), counters, request log, binary.

mod common;
use common::*;
use kakao_sim::{Endpoint, Fault, SimConfig};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

#[tokio::test]
async fn plain_status_malformed_and_times() {
    let sim = demo().await;
    let t = sign_in(&sim, "full@kakao.test").await;
    sim.set_fault(
        Endpoint::UserMe,
        Fault::Times(2, Box::new(Fault::Status(503))),
    );
    for _ in 0..2 {
        let r = api()
            .get(format!("{}/v2/user/me", sim.base_url()))
            .bearer_auth(at(&t))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 503);
        assert!(r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain"));
    }
    let (s, _, _) = kapi(&sim, Method::GET, "/v2/user/me", Some(&at(&t)), &[]).await;
    assert_eq!(s, 200, "only the next 2 requests");
    sim.set_fault(Endpoint::Token, Fault::Malformed);
    let r = api()
        .post(format!("{}/oauth/token", sim.base_url()))
        .form(&[
            ("grant_type", "refresh_token"),
            ("client_id", CLIENT_ID),
            ("refresh_token", &rt(&t)),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let body = r.text().await.unwrap();
    assert!(body.starts_with('{'));
    assert!(
        serde_json::from_str::<Value>(&body).is_err(),
        "truncated JSON: {body}"
    );
    sim.clear_faults();
    assert_eq!(refresh(&sim, &rt(&t)).await.0, 200);
    assert_eq!(sim.stats().faults_injected, 3);
}

#[tokio::test]
async fn kakao_shaped_transient_and_rate_limit() {
    let sim = demo().await;
    let t = sign_in(&sim, "full@kakao.test").await;
    sim.set_fault(Endpoint::AccessTokenInfo, Fault::KakaoTransient);
    let (s, _, v) = kapi(
        &sim,
        Method::GET,
        "/v1/user/access_token_info",
        Some(&at(&t)),
        &[],
    )
    .await;
    assert_eq!((s.as_u16(), v["code"].as_i64()), (400, Some(-1)));
    sim.set_fault(Endpoint::UserMe, Fault::RateLimit);
    let (s, _, v) = kapi(&sim, Method::GET, "/v2/user/me", Some(&at(&t)), &[]).await;
    assert_eq!(s, 400, "Decision 11");
    assert_eq!(
        v,
        json!({"msg": "API limit has been exceeded.", "code": -10})
    );
    sim.set_fault(Endpoint::Token, Fault::RateLimit);
    let (s, v) = refresh(&sim, &rt(&t)).await;
    assert_eq!(s, 400);
    assert_eq!(v["error_code"], "KOE237");
    assert_eq!(v["error"], "invalid_request");
    // KOE003 is an authorize-time code (REFERENCE §3): the token endpoint's transient failure
    // is a plain `server_error`.
    sim.set_fault(Endpoint::Token, Fault::KakaoTransient);
    let (s, v) = refresh(&sim, &rt(&t)).await;
    assert_eq!(s, 500);
    assert_eq!(v["error"], "server_error");
    assert!(v.get("error_code").is_none(), "{v}");
    assert_eq!(sim.stats().token_errors.get("KOE003"), None);
    sim.set_fault(Endpoint::Authorize, Fault::KakaoTransient);
    let r = Browser::new().get(&authorize_url(&sim, &[])).await;
    assert_eq!(r.status(), 500);
    assert!(r
        .text()
        .await
        .unwrap()
        .contains(r#"<span id="koe-code">KOE003</span>"#));
}

#[tokio::test]
async fn dropped_connection_and_latency() {
    let sim = demo().await;
    sim.set_fault(Endpoint::Jwks, Fault::Times(1, Box::new(Fault::Drop)));
    let url = format!("{}/.well-known/jwks.json", sim.base_url());
    let err = api()
        .get(&url)
        .send()
        .await
        .expect_err("connection closed without a response");
    assert!(!err.is_status());
    assert_eq!(
        api().get(&url).send().await.unwrap().status(),
        200,
        "next request fine"
    );
    sim.set_fault(
        Endpoint::Discovery,
        Fault::Latency(Duration::from_millis(300)),
    );
    let t0 = Instant::now();
    let r = api()
        .get(format!(
            "{}/.well-known/openid-configuration",
            sim.base_url()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(t0.elapsed() >= Duration::from_millis(300));
    let log = sim.request_log();
    assert!(
        log.iter()
            .any(|l| l.endpoint == Some(Endpoint::Jwks) && l.status == 0),
        "dropped request logged with status 0"
    );
}

#[tokio::test]
async fn control_path_does_what_the_library_does() {
    let sim = demo().await;
    let base = sim.base_url();
    let c = api();
    let t = sign_in(&sim, "full@kakao.test").await;
    let now0: Value = c
        .get(format!("{base}/__sim/clock"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let v: Value = c
        .post(format!("{base}/__sim/clock/advance"))
        .json(&json!({"secs": 21600}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(v["now_unix"].as_i64().unwrap() >= now0["now_unix"].as_i64().unwrap() + 21600);
    let (s, _, _) = kapi(&sim, Method::GET, "/v2/user/me", Some(&at(&t)), &[]).await;
    assert_eq!(s, 401, "clock advanced through the control path");
    let r = c
        .post(format!("{base}/__sim/fault"))
        .json(&json!({"endpoint": "token", "fault": {"kind": "status", "status": 502}, "times": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let r = c
        .post(format!("{base}/oauth/token"))
        .form(&[
            ("grant_type", "refresh_token"),
            ("client_id", CLIENT_ID),
            ("refresh_token", &rt(&t)),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 502);
    let (s, v) = refresh(&sim, &rt(&t)).await;
    assert_eq!(s, 200, "{v}");
    c.post(format!("{base}/__sim/fault"))
        .json(&json!({"endpoint": "user_me", "fault": {"kind": "kakao_transient"}}))
        .send()
        .await
        .unwrap();
    let faults: Value = c
        .get(format!("{base}/__sim/faults"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(faults["user_me"], json!({"kind": "kakao_transient"}));
    assert_eq!(
        c.delete(format!("{base}/__sim/faults"))
            .send()
            .await
            .unwrap()
            .status(),
        204
    );
    let stats: Value = c
        .get(format!("{base}/__sim/stats"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(stats["refreshes"], 1);
    assert_eq!(
        stats["token_requests"]["refresh_token"], 1,
        "faulted requests never reach the handler"
    );
    assert_eq!(stats["endpoint_hits"]["token"], 3);
    let state: Value = c
        .get(format!("{base}/__sim/state"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let full = state["users"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["id"] == json!(FULL))
        .unwrap();
    assert_eq!(full["connected"], true);
    assert!(full["consents"]
        .as_array()
        .unwrap()
        .contains(&json!("account_email")));
    let check: Value = c
        .post(format!("{base}/__sim/tokens/check"))
        .json(&json!({"access_token": at(&t), "refresh_token": rt(&t)}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        check,
        json!({"access_token_live": false, "refresh_token_live": true})
    );
    assert_eq!(
        c.post(format!("{base}/__sim/users/{FULL}/expire_refresh_tokens"))
            .send()
            .await
            .unwrap()
            .status(),
        204
    );
    assert_eq!(refresh(&sim, &rt(&t)).await.1["error_code"], "KOE322");
    let kid: Value = c
        .post(format!("{base}/__sim/rotate_signing_key"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(kid["current_kid"], sim.current_kid());
    let r = c
        .put(format!("{base}/__sim/users/{NOTALK}/profile"))
        .json(&json!({"nickname": "원격"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    assert_eq!(
        sim.user(NOTALK).unwrap().profile.nickname.as_deref(),
        Some("원격")
    );
    let log: Value = c
        .get(format!("{base}/__sim/log"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(log
        .as_array()
        .unwrap()
        .iter()
        .all(|l| !l["path"].as_str().unwrap().starts_with("/__sim")));
}

#[tokio::test]
async fn request_log_has_keys_but_never_values() {
    let sim = demo().await;
    let t = sign_in(&sim, "full@kakao.test").await;
    refresh(&sim, &rt(&t)).await;
    kapi(
        &sim,
        Method::GET,
        "/v2/user/me",
        Some(&at(&t)),
        &[("secure_resource", "true")],
    )
    .await;
    let log = sim.request_log();
    let dump = serde_json::to_string(&log).unwrap();
    for secret in [at(&t), rt(&t), PASSWORD.to_string()] {
        assert!(!dump.contains(&secret), "log must not contain secrets");
    }
    let tok = log.iter().find(|l| l.path == "/oauth/token").unwrap();
    assert_eq!(tok.method, "POST");
    assert!(tok.form_keys.contains(&"code_verifier".to_string()));
    assert!(tok.form_keys.contains(&"code".to_string()));
    let me = log.iter().find(|l| l.path == "/v2/user/me").unwrap();
    assert!(me.has_authorization);
    assert_eq!(me.query_keys, vec!["secure_resource"]);
    assert_eq!(me.status, 200);
    let st = sim.stats();
    assert_eq!(st.authorize_hits, 1);
    assert_eq!(st.codes_issued, 1);
    assert_eq!(st.access_tokens_issued, 2);
    assert_eq!(st.refresh_tokens_issued, 1);
    assert_eq!(st.live_access_tokens, 2);
    assert_eq!(st.endpoint_hits["user_me"], 1);
    assert_eq!(st.logins_ok, 1);
    assert_eq!(st.consents_given, 1);
}

#[tokio::test]
async fn demo_toml_equals_demo_and_round_trips() {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/demo.toml")).unwrap();
    let parsed = SimConfig::from_toml_str(&text).unwrap();
    assert_eq!(parsed, SimConfig::demo());
    assert_eq!(
        SimConfig::from_toml_str(&SimConfig::demo().to_toml_string()).unwrap(),
        SimConfig::demo()
    );
    assert!(SimConfig::from_toml_str("[app]\nclient_id = \"\"\nredirect_uris = []").is_err());
}

#[tokio::test]
async fn binary_prints_listening_line_and_serves() {
    use std::io::BufRead;
    let dir = std::env::temp_dir().join(format!("kakao-sim-bin-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cfg_path = dir.join("sim.toml");
    let mut cfg = SimConfig::demo();
    cfg.app.client_id = "from-file".into();
    std::fs::write(&cfg_path, cfg.to_toml_string()).unwrap();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_kakao-sim"))
        .args(["--port", "0", "--config"])
        .arg(&cfg_path)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let base = line
        .trim()
        .strip_prefix("kakao-sim listening on ")
        .unwrap_or_else(|| panic!("first line: {line:?}"))
        .to_string();
    assert!(base.starts_with("http://127.0.0.1:"));
    let r = api()
        .get(format!(
            "{base}/oauth/authorize?client_id=from-file&redirect_uri={REDIRECT}&response_type=code"
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.text().await.unwrap().contains("login-submit"));
    let _ = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let status = child.wait().unwrap();
    assert!(status.success(), "exits cleanly on SIGTERM: {status:?}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// The errors the app must tell apart (REFERENCE §1, §3, §4b, §4i): `invalid_grant` at refresh
/// with another `error_code` or none, kapi `-603`/`-903`/`-101`/`-3`, and the redirect errors
/// `unauthorized_client` and under-14 `access_denied`; also through the control path.
#[tokio::test]
async fn kakao_errors_the_app_must_tell_apart() {
    let sim = demo().await;
    let t = sign_in(&sim, "full@kakao.test").await;
    sim.set_fault(
        Endpoint::Token,
        Fault::Times(
            1,
            Box::new(Fault::KauthError {
                status: 400,
                error: "invalid_grant".into(),
                error_code: Some("KOE999".into()),
            }),
        ),
    );
    let (s, v) = refresh(&sim, &rt(&t)).await;
    assert_eq!(
        (s.as_u16(), &v["error"], &v["error_code"]),
        (400, &json!("invalid_grant"), &json!("KOE999"))
    );
    sim.set_fault(
        Endpoint::Token,
        Fault::Times(
            1,
            Box::new(Fault::KauthError {
                status: 400,
                error: "invalid_grant".into(),
                error_code: None,
            }),
        ),
    );
    let (s, v) = refresh(&sim, &rt(&t)).await;
    assert_eq!((s.as_u16(), &v["error"]), (400, &json!("invalid_grant")));
    assert!(v.get("error_code").is_none(), "{v}");
    for (ep, path, code) in [
        (Endpoint::UserMe, "/v2/user/me", -603),
        (Endpoint::UserMe, "/v2/user/me", -903),
        (
            Endpoint::AccessTokenInfo,
            "/v1/user/access_token_info",
            -101,
        ),
        (Endpoint::AccessTokenInfo, "/v1/user/access_token_info", -3),
    ] {
        sim.set_fault(
            ep,
            Fault::Times(1, Box::new(Fault::KapiError { status: 400, code })),
        );
        let (s, _, v) = kapi(&sim, Method::GET, path, Some(&at(&t)), &[]).await;
        assert_eq!((s.as_u16(), v["code"].as_i64()), (400, Some(code)), "{v}");
        assert!(v["msg"].is_string());
    }
    for (error, description) in [
        ("unauthorized_client", "unauthorized client"),
        ("access_denied", "Not allowed under age 14"),
    ] {
        sim.set_fault(
            Endpoint::Authorize,
            Fault::Times(
                1,
                Box::new(Fault::RedirectError {
                    error: error.into(),
                    description: description.into(),
                }),
            ),
        );
        let r = Browser::new()
            .get(&authorize_url(&sim, &[("state", "st")]))
            .await;
        assert_eq!(r.status(), 302);
        let q = query_of(&location(&r));
        assert_eq!(q["error"], error);
        assert_eq!(q["error_description"], description);
        assert_eq!(q["state"], "st");
    }
    // The same through the control path (JSON form).
    let r = api()
        .post(format!("{}/__sim/fault", sim.base_url()))
        .json(&json!({"endpoint": "access_token_info", "fault": {"kind": "kapi_error", "status": 400, "code": -101}}))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.status());
    let (s, _, v) = kapi(
        &sim,
        Method::GET,
        "/v1/user/access_token_info",
        Some(&at(&t)),
        &[],
    )
    .await;
    assert_eq!((s.as_u16(), v["code"].as_i64()), (400, Some(-101)));
}
