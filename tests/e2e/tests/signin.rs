//! Signing in for real: the app's window (tauri-driver + WebKitWebDriver), headless Chromium as
//! the system browser clicking the simulator's pages, the loopback listener, and the tokens in
//! the real keychain (checked through the Secret Service with secret-tool).

use kakao_signin_e2e::{keychain_accounts, serial, App, AppOptions, Chromium, UrlInbox};
use kakao_sim::{Sim, SimConfig};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_through_the_browser_shows_the_profile_and_keeps_tokens_in_the_keychain(
) -> anyhow::Result<()> {
    let _one = serial().await;
    let port = kakao_signin_e2e::free_port();
    let sim = Sim::start(SimConfig::for_loopback_port(port)).await?;
    let service = format!("kakao-signin-e2e-signin-{}", std::process::id());
    let inbox = UrlInbox::new("signin");
    let data = std::env::temp_dir().join(format!("kakao-signin-e2e-data-{}", std::process::id()));
    let app = App::launch(AppOptions {
        env: vec![
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
        ],
    })
    .await?;
    app.click("#signin").await?;
    // Waiting screen: the exact redirect URI sent (S01).
    let shown = app.text("#waiting-redirect-uri").await?;
    assert_eq!(shown, format!("http://127.0.0.1:{port}/callback"));
    app.screenshot("waiting-en").await?;

    let url = inbox.nth(1).await?;
    assert!(url.starts_with(&sim.base_url()), "opened {url}");
    let browser = Chromium::launch().await?;
    browser.client.goto(&url).await?;
    browser.log_in("full@kakao.test", "demo1234").await?;
    browser.wait_visible("#consent-all").await?.click().await?;
    browser
        .wait_visible("#consent-agree")
        .await?
        .click()
        .await?;
    // The loopback's done page, in the browser (in the window's language, English here), with
    // the code gone from the address bar. Waited for by its text: right after the click, `body`
    // may still be the consent page's, gone (stale) by the time it is read.
    browser.wait_text("close").await?;
    let address = browser.client.current_url().await?;
    assert!(
        !address.as_str().contains("code="),
        "code left in the address bar: {address}"
    );

    // The window shows the profile.
    let member = app.text("#profile-member-id").await?;
    let expected = SimConfig::demo()
        .users
        .iter()
        .find(|u| u.login == "full@kakao.test")
        .unwrap()
        .id
        .to_string();
    assert!(member.contains(&expected), "member id shown: {member}");
    let email_state = app
        .wait_visible("#field-email")
        .await?
        .attr("data-state")
        .await?;
    assert_eq!(email_state.as_deref(), Some("agreed"));
    app.screenshot("signed-in-en").await?;

    // Tokens are in the real keychain, and nowhere in the window.
    assert_eq!(keychain_accounts(&service), vec!["refresh", "session"]);
    let page = app.client.source().await?;
    let stats = sim.stats();
    assert_eq!(stats.token_requests.get("authorization_code"), Some(&1));
    assert!(!page.contains("access_token") && !page.contains("refresh_token"));

    browser.close().await;
    app.close().await?;
    let _ = std::fs::remove_dir_all(&data);
    let _ = std::process::Command::new("secret-tool")
        .args(["clear", "service", &service])
        .status();
    Ok(())
}
