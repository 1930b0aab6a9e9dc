//! Signing in for real: the app's window (tauri-driver + WebKitWebDriver), headless Chromium as
//! the system browser clicking the simulator's pages, the loopback listener, and the tokens in
//! the real keychain (checked through the Secret Service with secret-tool).

use kakao_signin_e2e::{
    demo_member_id, keychain_accounts, serial, App, AppOptions, Chromium, Consent, UrlInbox,
};
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
    assert!(
        url.starts_with(&format!("http://127.0.0.1:{port}/start/")),
        "opened {url}: not the one-time loopback start URL"
    );
    let browser = Chromium::launch().await?;
    browser.client.goto(&url).await?;
    browser.log_in("full@kakao.test", "demo1234").await?;
    browser.answer_consent(Consent::All).await?;
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
    let expected = demo_member_id("full@kakao.test").to_string();
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

/// The app started from an AppImage (the runtime's and linuxdeploy's GTK hook's variables, as
/// they write them, over a session with its own `LD_LIBRARY_PATH` and `XDG_DATA_DIRS`) with a
/// client secret configured: the browser it starts gets the session's values back, none of the
/// bundle's module paths, no `KAKAO_SIGNIN_*` setting, and not the variable the app set for its
/// own window.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn from_an_appimage_the_browser_gets_the_sessions_environment_and_no_setting(
) -> anyhow::Result<()> {
    use kakao_signin_e2e::{Lang, Rig};
    const SECRET: &str = "e2e-bundle-client-secret-Hq4Vt9";
    let _one = serial().await;
    let rig = Rig::start("bundle", Lang::En).await?;
    let appdir = std::env::temp_dir().join(format!(".mount_KakaoE2E{}", std::process::id()));
    std::fs::create_dir_all(&appdir)?;
    let a = appdir.display().to_string();
    let env_file =
        std::env::temp_dir().join(format!("ks-bundle-browser-env-{}", std::process::id()));
    let _ = std::fs::remove_file(&env_file);
    let session_path = std::env::var("PATH").unwrap_or_default();
    let mut env = rig.env();
    env.retain(|(k, _)| k != "KAKAO_SIGNIN_BROWSER");
    env.extend(
        [
            (
                "KAKAO_SIGNIN_BROWSER",
                rig.inbox.browser_command_saving_env(&env_file),
            ),
            ("KAKAO_SIGNIN_CLIENT_SECRET", SECRET.into()),
            ("APPIMAGE", "/home/u/Kakao Sign-in.AppImage".into()),
            ("APPDIR", a.clone()),
            ("OWD", "/home/u".into()),
            ("ARGV0", "./Kakao Sign-in.AppImage".into()),
            (
                "LD_LIBRARY_PATH",
                format!("{a}/usr/lib/:{a}/usr/lib/x86_64-linux-gnu/:/opt/e2e-own/lib"),
            ),
            ("PATH", format!("{a}/usr/bin/:{a}/usr/sbin/:{session_path}")),
            (
                "XDG_DATA_DIRS",
                format!("{a}/usr/share/:{a}/usr/share:/usr/share:/usr/local/share:/usr/share"),
            ),
            ("GTK_DATA_PREFIX", a.clone()),
            ("GTK_THEME", "Adwaita:light".into()),
            ("GTK_PATH", format!("{a}/usr/lib/gtk-3.0")),
            ("GIO_MODULE_DIR", format!("{a}/usr/lib/gio/modules")),
            (
                "GDK_PIXBUF_MODULE_FILE",
                format!("{a}/usr/lib/gdk-pixbuf-2.0/2.10.0/loaders.cache"),
            ),
        ]
        .map(|(k, v)| (k.to_owned(), v)),
    );
    let app = App::launch(AppOptions { env }).await?;
    app.click("#signin").await?;
    rig.inbox.nth(1).await?;
    let browser_env = std::fs::read_to_string(&env_file)?;
    let value = |name: &str| {
        browser_env
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{name}=")))
            .map(str::to_owned)
    };
    assert_eq!(
        value("LD_LIBRARY_PATH").as_deref(),
        Some("/opt/e2e-own/lib")
    );
    assert_eq!(
        value("XDG_DATA_DIRS").as_deref(),
        Some("/usr/local/share:/usr/share")
    );
    assert_eq!(value("PATH").as_deref(), Some(session_path.as_str()));
    for gone in [
        "APPIMAGE",
        "APPDIR",
        "OWD",
        "ARGV0",
        "GTK_DATA_PREFIX",
        "GTK_THEME",
        "GTK_PATH",
        "GIO_MODULE_DIR",
        "GDK_PIXBUF_MODULE_FILE",
        // The app sets it for its own window (webview.rs).
        "WEBKIT_DISABLE_COMPOSITING_MODE",
    ] {
        assert_eq!(value(gone), None, "{gone} reached the browser");
    }
    assert!(
        !browser_env.contains(&a),
        "the bundle's directory reached the browser:\n{browser_env}"
    );
    assert!(
        !browser_env.lines().any(|l| l.starts_with("KAKAO_SIGNIN_")),
        "a setting reached the browser:\n{browser_env}"
    );
    assert!(
        !browser_env.contains(SECRET),
        "the client secret reached the browser"
    );
    // The rest of the session's environment is the browser's.
    assert_eq!(value("HOME"), std::env::var("HOME").ok());
    app.close().await?;
    let _ = std::fs::remove_file(&env_file);
    let _ = std::fs::remove_dir_all(&appdir);
    Ok(())
}
