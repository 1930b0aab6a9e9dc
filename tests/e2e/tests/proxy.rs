//! Proxies never catch loopback (issue 16, item 3), in the real window: the app is started with
//! `HTTP_PROXY`, `HTTPS_PROXY` and `ALL_PROXY` (both cases) pointing at a port where nothing
//! listens and `NO_PROXY` empty, and still signs in against the simulator on 127.0.0.1 (code
//! exchange, ID token keys, `/v2/user/me`, the profile picture), with the tokens in the real
//! keychain. Its diagnostics say that loopback is not proxied. (`App::launch` keeps GIO, and
//! with it WebKitWebDriver's link into the window, off the proxy; reqwest does not read that.)

use kakao_signin_e2e::{
    demo_member_id, keychain_accounts, serial, App, AppOptions, Chromium, Consent, UrlInbox,
};
use kakao_sim::{Sim, SimConfig};

/// A port on loopback where nothing listens (the discard port).
const DEAD_PROXY: &str = "http://127.0.0.1:9";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signs_in_with_every_proxy_variable_pointing_nowhere() -> anyhow::Result<()> {
    let _one = serial().await;
    let port = kakao_signin_e2e::free_port();
    let sim = Sim::start(SimConfig::for_loopback_port(port)).await?;
    let service = format!("kakao-signin-e2e-proxy-{}", std::process::id());
    let inbox = UrlInbox::new("proxy");
    let data = std::env::temp_dir().join(format!("kakao-signin-e2e-proxy-{}", std::process::id()));
    let mut env: Vec<(String, String)> = vec![
        (
            "KAKAO_SIGNIN_CLIENT_ID".into(),
            "sandbox-rest-api-key".into(),
        ),
        ("KAKAO_SIGNIN_AUTH_URL".into(), sim.base_url()),
        ("KAKAO_SIGNIN_API_URL".into(), sim.base_url()),
        ("KAKAO_SIGNIN_REDIRECT_PORTS".into(), port.to_string()),
        ("KAKAO_SIGNIN_KEYRING_SERVICE".into(), service.clone()),
        ("KAKAO_SIGNIN_DATA_DIR".into(), data.display().to_string()),
        ("KAKAO_SIGNIN_BROWSER".into(), inbox.browser_command()),
        ("LANG".into(), "en_US.UTF-8".into()),
        // Empty, so a NO_PROXY of the machine running the suite cannot hide the fault.
        ("NO_PROXY".into(), String::new()),
        ("no_proxy".into(), String::new()),
    ];
    for name in [
        "HTTP_PROXY",
        "http_proxy",
        "HTTPS_PROXY",
        "https_proxy",
        "ALL_PROXY",
        "all_proxy",
    ] {
        env.push((name.into(), DEAD_PROXY.into()));
    }
    let app = App::launch(AppOptions { env }).await?;
    app.click("#signin").await?;
    let url = inbox.nth(1).await?;
    assert!(
        url.contains("/start/"),
        "opened {url}: not the one-time start URL"
    );

    let browser = Chromium::launch().await?;
    browser.client.goto(&url).await?;
    browser.log_in("full@kakao.test", "demo1234").await?;
    browser.answer_consent(Consent::All).await?;
    browser.wait_text("close").await?;

    // Signed in: the profile, its picture (fetched by the core from the simulator) and the
    // tokens in the keychain.
    app.wait_screen("signed_in").await?;
    let member = app.text("#profile-member-id").await?;
    let expected = demo_member_id("full@kakao.test").to_string();
    assert!(member.contains(&expected), "member id shown: {member}");
    let picture = app
        .wait_visible("#profile-image")
        .await?
        .attr("src")
        .await?;
    assert!(
        picture.as_deref().unwrap_or("").starts_with("data:image/"),
        "picture: {picture:?}"
    );
    assert_eq!(keychain_accounts(&service), vec!["refresh", "session"]);
    assert_eq!(
        sim.stats().token_requests.get("authorization_code"),
        Some(&1)
    );

    // The diagnostics say how kauth and kapi are reached.
    let diagnostics = app
        .client
        .execute_async(
            "const done = arguments[arguments.length - 1];\
             window.__TAURI__.core.invoke('diagnostics').then(done, e => done('error: ' + e));",
            vec![],
        )
        .await?;
    let diagnostics = diagnostics.as_str().unwrap_or("").to_owned();
    assert!(
        diagnostics
            .lines()
            .any(|l| l == "proxy: none (loopback is never proxied)"),
        "diagnostics:\n{diagnostics}"
    );
    app.screenshot("signed-in-behind-proxy-variables").await?;

    browser.close().await;
    app.close().await?;
    let _ = std::fs::remove_dir_all(&data);
    let _ = std::process::Command::new("secret-tool")
        .args(["clear", "service", &service])
        .status();
    Ok(())
}
