//! Kakao's Login FAQ, restated as scenarios S01–S15 in `shared/kakao/faq-scenarios.md`: one test
//! per scenario, in the real window (tauri-driver + WebKitWebDriver under Xvfb) against the
//! simulator configured for that situation, with headless Chromium as the system browser.
//!
//! Each test checks what the person sees (texts, states, buttons in the language under test) and
//! what is true afterwards, from outside the app: the keychain through the Secret Service
//! (`secret-tool`), the simulator's record (tokens revoked, consents, refreshes, the browser's
//! Kakao session) and the files under `KAKAO_SIGNIN_DATA_DIR`.
//!
//! Run: `cargo build -p kakao-signin`, then under Xvfb + D-Bus + an unlocked keyring
//! (`cargo xtask test` provides them) `cargo test -p kakao-signin-e2e --test faq -- --test-threads=1`.

use anyhow::{bail, ensure, Context, Result};
use fantoccini::Locator;
use kakao_signin_e2e::{
    demo_member_id, serial, wait_port_free, App, Chromium, Consent, Lang, Rig, UrlInbox,
};
use kakao_signin_test_support::sign_in_elsewhere;
use kakao_sim::{Endpoint, Fault, Sim, SimConfig};
use std::process::Command;
use std::time::Duration;

const FULL: &str = "full@kakao.test";
const NOEMAIL: &str = "noemail@kakao.test";
const NOTALK: &str = "notalk@kakao.test";

// ---- helpers --------------------------------------------------------------------------------

fn shot(id: &str, what: &str, lang: Lang) -> String {
    format!("faq-{id}-{what}-{}", lang.tag())
}

/// Polls `f` for up to 20 s.
async fn eventually(what: &str, f: impl Fn() -> bool) -> Result<()> {
    for _ in 0..200 {
        if f() {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    bail!("{what}: not true within 20 s")
}

/// A keychain secret read through the Secret Service with `secret-tool`, not through the app.
fn keychain_secret(service: &str, account: &str) -> Option<String> {
    let out = Command::new("secret-tool")
        .args(["lookup", "service", service, "username", account])
        .output()
        .expect("secret-tool (libsecret-tools) checks the keychain from outside");
    (out.status.success() && !out.stdout.is_empty())
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Both token entries (`session`, `refresh`) as stored in the keychain.
fn keychain_tokens(rig: &Rig) -> (Option<String>, Option<String>) {
    (
        keychain_secret(&rig.service, "session"),
        keychain_secret(&rig.service, "refresh"),
    )
}

fn ensure_signed_in_keychain(rig: &Rig) -> Result<()> {
    let accounts = rig.keychain();
    ensure!(
        accounts == ["refresh", "session"],
        "keychain entries: {accounts:?}"
    );
    Ok(())
}

fn ensure_empty_keychain(rig: &Rig) -> Result<()> {
    let accounts = rig.keychain();
    ensure!(
        accounts.is_empty(),
        "keychain still holds {accounts:?} after the session ended"
    );
    Ok(())
}

/// Whether this device's tokens (as read from the keychain before logout) are dead at Kakao.
fn keychain_secret_is_dead(rig: &Rig, session_entry: &str, refresh_entry: &str) -> bool {
    let field = |entry: &str, name: &str| {
        serde_json::from_str::<serde_json::Value>(entry)
            .ok()
            .and_then(|v| v[name].as_str().map(str::to_owned))
    };
    match (
        field(session_entry, "access_token"),
        field(refresh_entry, "refresh_token"),
    ) {
        (Some(a), Some(r)) => {
            !rig.sim.is_access_token_live(&a) && !rig.sim.is_refresh_token_live(&r)
        }
        _ => false,
    }
}

/// Whether an element matching `css` exists on the browser's page.
async fn browser_has(browser: &Chromium, css: &str) -> bool {
    browser.client.find(Locator::Css(css)).await.is_ok()
}

/// The first heading of the app's loopback page (the window's language comes first).
async fn loopback_heading(browser: &Chromium) -> Result<String> {
    Ok(browser
        .wait_visible("main section h1")
        .await?
        .text()
        .await?)
}

/// Launches the app and signs in through Chromium.
async fn signed_in(rig: &Rig, login: &str, consent: Consent) -> Result<(App, Chromium)> {
    let app = rig.launch().await?;
    app.wait_screen("signed_out").await?;
    let browser = Chromium::launch().await?;
    rig.sign_in(&app, &browser, "#signin", login, consent)
        .await?;
    app.wait_screen("signed_in").await?;
    Ok((app, browser))
}

/// Clicks `button`, opens the URL the app sent in the browser and returns the Kakao URL it led
/// to, without touching Kakao's pages.
async fn open_in_browser(rig: &Rig, app: &App, browser: &Chromium, button: &str) -> Result<String> {
    let n = rig.inbox.len() + 1;
    app.click(button).await?;
    let url = rig.inbox.nth(n).await?;
    ensure!(rig.is_start_url(&url), "the browser was opened at {url}");
    browser.client.goto(&url).await?;
    // Kakao's page, reached through the one-time start URL's 303: its URL is the authorize URL.
    Ok(browser.client.current_url().await?.to_string())
}

/// Logs out through the dialog; with `kakao_account` ticks "also log out of the Kakao account".
async fn log_out(app: &App, kakao_account: bool) -> Result<()> {
    app.click("#logout").await?;
    app.wait_visible("#logout-dialog").await?;
    if kakao_account {
        app.click("#logout-kakao-account").await?;
    }
    app.click("#logout-confirm").await
}

/// Replaces `navigator.clipboard.writeText` so a test can read what a copy button copied.
async fn capture_clipboard(app: &App) -> Result<()> {
    app.client
        .execute(
            "window.__copied = null;\
             if (navigator.clipboard) navigator.clipboard.writeText = \
               (t) => { window.__copied = String(t); return Promise.resolve(); };",
            vec![],
        )
        .await?;
    Ok(())
}

async fn copied(app: &App) -> Result<String> {
    for _ in 0..100 {
        let got = app
            .client
            .execute("return window.__copied || null;", vec![])
            .await?;
        if let Some(text) = got.as_str() {
            return Ok(text.to_owned());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    bail!("the copy button copied nothing within 10 s")
}

fn user_me_hits(rig: &Rig) -> u64 {
    rig.sim
        .stats()
        .endpoint_hits
        .get("user_me")
        .copied()
        .unwrap_or(0)
}

fn local_file(rig: &Rig, member: i64) -> std::path::PathBuf {
    rig.data.join("users").join(format!("{member}.json"))
}

// ---- S01: KOE006, the redirect URI is not registered ------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faq_s01_unregistered_redirect_uri() -> Result<()> {
    let _one = serial().await;
    for lang in [Lang::Ko, Lang::En] {
        s01(lang)
            .await
            .with_context(|| format!("S01 in {lang:?}"))?;
    }
    Ok(())
}

async fn s01(lang: Lang) -> Result<()> {
    let rig = Rig::start("s01", lang).await?;
    // The app listens on a port whose redirect URI the Kakao app does not register.
    let port = kakao_signin_e2e::free_port();
    let sent = format!("http://127.0.0.1:{port}/callback");
    let mut env = rig.env();
    for (k, v) in env.iter_mut() {
        if k == "KAKAO_SIGNIN_REDIRECT_PORTS" {
            *v = port.to_string();
        }
    }
    let app = App::launch(kakao_signin_e2e::AppOptions { env }).await?;
    app.wait_screen("signed_out").await?;
    let started = std::time::Instant::now();
    app.click("#signin").await?;
    app.wait_screen("waiting").await?;
    let url = rig.inbox.nth(1).await?;

    // The browser: Kakao's KOE006 page.
    let browser = Chromium::launch().await?;
    browser.client.goto(&url).await?;
    let code = browser.wait_visible("#koe-code").await?.text().await?;
    ensure!(code.contains("KOE006"), "Kakao's page says {code:?}");
    browser.wait_text(&sent).await?;

    // The window: the exact URI it sent, a copy button that copies exactly that.
    ensure!(
        app.text("#waiting-redirect-uri").await? == sent,
        "window shows {:?}, sent {sent}",
        app.text("#waiting-redirect-uri").await?
    );
    app.wait_text(
        "#waiting-uri-label",
        lang.pick("리다이렉트 URI", "Redirect URI this app sent"),
    )
    .await?;
    ensure!(app.text("#copy-redirect-uri").await? == lang.pick("복사", "Copy"));
    capture_clipboard(&app).await?;
    app.click("#copy-redirect-uri").await?;
    ensure!(
        copied(&app).await? == sent,
        "copy button copied another text"
    );

    // A few seconds later: the KOE006 help, saying where to register it.
    let help = app.text("#koe006-help").await?;
    ensure!(started.elapsed() >= Duration::from_secs(6));
    for needle in [
        "KOE006",
        lang.pick(
            "[앱] > [플랫폼 키] > [REST API 키] > 리다이렉트 URI",
            "[App] > [Platform keys] > [REST API key] > Redirect URI",
        ),
        lang.pick("한 글자도 다르지 않게", "exactly"),
    ] {
        ensure!(help.contains(needle), "{needle:?} not in the help: {help}");
    }
    // Never a generic "login failed".
    ensure!(!app.is_displayed("#error").await?, "an error while waiting");
    app.screenshot(&shot("s01", "koe006-help", lang)).await?;

    app.click("#cancel-signin").await?;
    app.wait_screen("signed_out").await?;
    // The port stays the app's after a cancel (issue 17): a late redirect must reach it.
    ensure!(
        std::net::TcpListener::bind(("127.0.0.1", port)).is_err(),
        "the port was given up after cancel"
    );
    ensure!(rig.sim.stats().codes_issued == 0, "Kakao issued a code");
    ensure_empty_keychain(&rig)?;
    browser.close().await;
    app.close().await
}

// ---- S02: the browser and the Kakao account; another account; choose an account --------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faq_s02_browser_kakao_account_options() -> Result<()> {
    let _one = serial().await;
    let lang = Lang::En;
    let rig = Rig::start("s02", lang).await?;
    let app = rig.launch().await?;
    app.wait_screen("signed_out").await?;
    for l in [lang, lang.other()] {
        if l != lang {
            app.click(&format!("#lang-{}", l.tag())).await?;
        }
        app.wait_text("#signin", l.pick("카카오 로그인", "Login with Kakao"))
            .await?;
        let lead = app.text("#signin-explainer").await?;
        ensure!(
            lead.contains(l.pick("기본 브라우저", "web browser"))
                && lead.contains(l.pick("카카오계정", "Kakao account"))
                && lead.contains(l.pick("비밀번호", "password")),
            "the sign-in line in {l:?} says {lead:?}"
        );
        ensure!(
            app.text("#signin-other-account").await?
                == l.pick("다른 계정으로 로그인", "Use another account")
        );
        ensure!(
            app.text("#signin-choose-account").await?
                == l.pick("계정 선택하기", "Choose an account")
        );
    }
    app.click(&format!("#lang-{}", lang.tag())).await?;
    app.wait_text("#signin", "Login with Kakao").await?;
    app.screenshot(&shot("s02", "signed-out", lang)).await?;

    // Plain sign-in sends no prompt.
    let browser = Chromium::launch().await?;
    let url = rig
        .sign_in(&app, &browser, "#signin", FULL, Consent::All)
        .await?;
    ensure!(!url.contains("prompt="), "{url}");
    app.wait_screen("signed_in").await?;
    log_out(&app, false).await?;
    app.wait_screen("signed_out").await?;
    ensure!(rig.sim.browser_sessions() == 1);

    // "Choose an account": prompt=select_account; Kakao's chooser lists the signed-in account.
    let url = open_in_browser(&rig, &app, &browser, "#signin-choose-account").await?;
    ensure!(url.contains("prompt=select_account"), "{url}");
    let member = demo_member_id(FULL);
    browser
        .wait_visible(&format!("#account-{member}"))
        .await?
        .click()
        .await?;
    app.wait_screen("signed_in").await?;
    ensure!(app.text("#profile-member-id").await? == member.to_string());
    log_out(&app, false).await?;
    app.wait_screen("signed_out").await?;

    // "Use another account": prompt=login; Kakao asks for the account and password even though
    // the browser is still signed in.
    let logins = rig.sim.stats().logins_ok;
    let url = open_in_browser(&rig, &app, &browser, "#signin-other-account").await?;
    ensure!(url.contains("prompt=login"), "{url}");
    ensure!(!url.contains("select_account"), "{url}");
    browser.log_in(NOTALK, "demo1234").await?;
    browser.answer_consent(Consent::All).await?;
    app.wait_screen("signed_in").await?;
    ensure!(rig.sim.stats().logins_ok == logins + 1);
    ensure!(app.text("#profile-member-id").await? == demo_member_id(NOTALK).to_string());
    ensure_signed_in_keychain(&rig)?;
    browser.close().await;
    app.close().await
}

// ---- S03: back to the app after signing in in the browser ------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faq_s03_back_to_the_app() -> Result<()> {
    let _one = serial().await;
    for lang in [Lang::Ko, Lang::En] {
        s03(lang)
            .await
            .with_context(|| format!("S03 in {lang:?}"))?;
    }
    Ok(())
}

async fn s03(lang: Lang) -> Result<()> {
    let rig = Rig::start("s03", lang).await?;
    let app = rig.launch().await?;
    app.wait_screen("signed_out").await?;
    let browser = Chromium::launch().await?;

    // Cancel on Kakao's consent page: an error page, never the success page.
    rig.sign_in(&app, &browser, "#signin", FULL, Consent::Cancel)
        .await?;
    let heading = loopback_heading(&browser).await?;
    ensure!(
        heading == lang.pick("로그인을 취소했습니다", "You cancelled sign-in"),
        "after cancel the browser says {heading:?}"
    );
    let page = browser.wait_text(&heading).await?;
    ensure!(
        !page.contains("로그인 완료") && !page.contains("Sign-in complete"),
        "success page after cancel: {page}"
    );
    app.wait_attr("#error", "data-kind", "access_denied")
        .await?;
    app.wait_screen("signed_out").await?;
    ensure_empty_keychain(&rig)?;

    // Sign in: the browser says it is done in the window's language, and the window leaves the
    // waiting screen by itself.
    let n = rig.inbox.len() + 1;
    app.click("#signin").await?;
    app.wait_screen("waiting").await?;
    let url = rig.inbox.nth(n).await?;
    browser.client.goto(&url).await?;
    browser.answer_consent(Consent::All).await?;
    let heading = loopback_heading(&browser).await?;
    ensure!(
        heading == lang.pick("로그인 완료", "Sign-in complete"),
        "the loopback page's first heading is {heading:?}"
    );
    browser
        .wait_text(lang.pick(
            "이 탭을 닫고 앱으로 돌아가세요",
            "You can close this tab and return to the app",
        ))
        .await?;
    let shot_path = format!("{}.png", shot("s03", "browser-done", lang));
    let png = browser.client.screenshot().await?;
    let dir = kakao_signin_e2e::target_dir().join("screenshots");
    std::fs::create_dir_all(&dir)?;
    std::fs::write(dir.join(shot_path), png)?;
    app.wait_screen("signed_in").await?;
    ensure!(!app.is_displayed("main > [data-screen=\"waiting\"]").await?);
    ensure!(
        !app.is_displayed("#error").await?,
        "an error after signing in"
    );
    ensure!(app.text("#profile-member-id").await? == demo_member_id(FULL).to_string());
    ensure_signed_in_keychain(&rig)?;
    wait_port_free(rig.port).await?;
    app.screenshot(&shot("s03", "signed-in", lang)).await?;
    browser.close().await;
    app.close().await
}

// ---- S04: signing in again after a while, without the browser --------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faq_s04_restore_without_browser() -> Result<()> {
    let _one = serial().await;
    let lang = Lang::Ko;
    // "A while later" has to be later for the app too: the app checks ID tokens against the
    // computer's clock (60 s leeway), so a simulator clock simply pushed 7 h ahead would hand
    // out refreshed ID tokens issued 7 h in the app's future (rejected, rightly, as
    // IssuedInFuture). So Kakao's clock starts one access-token lifetime (less 30 s) behind:
    // the tokens are issued "almost 6 h ago", and advancing it by a lifetime and a bit brings
    // it back to the app's now, with the access token expired there.
    let mut lifetime = 0;
    let rig = Rig::start_with("s04", lang, |cfg| {
        lifetime = cfg.lifetimes.access_secs;
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("clock after 1970")
            .as_secs() as i64;
        cfg.start_unix = Some(now - lifetime + 30);
    })
    .await?;
    let member = demo_member_id(FULL);
    let (app, browser) = signed_in(&rig, FULL, Consent::All).await?;
    browser.close().await;
    app.close().await?;
    ensure_signed_in_keychain(&rig)?;
    let opened = rig.inbox.len();
    let authorize = rig.sim.stats().authorize_hits;

    // 1. Restart with valid tokens: signed in, no browser.
    let app = rig.launch().await?;
    app.wait_screen("signed_in").await?;
    ensure!(app.text("#profile-member-id").await? == member.to_string());
    app.wait_text("#profile-nickname", "김카카오").await?;
    ensure!(rig.inbox.len() == opened, "the app opened a browser URL");
    ensure!(rig.sim.stats().authorize_hits == authorize);
    ensure!(rig.sim.stats().refreshes == 0);
    app.close().await?;

    // 2. Kakao answers 503: offline, tokens kept.
    let before = keychain_tokens(&rig);
    rig.sim.set_fault(Endpoint::UserMe, Fault::Status(503));
    let app = rig.launch().await?;
    app.wait_screen("offline").await?;
    app.wait_text(
        "main > [data-screen=\"offline\"]",
        lang.pick("카카오에 연결할 수 없습니다", "Can't reach Kakao"),
    )
    .await?;
    app.wait_text(
        "main > [data-screen=\"offline\"]",
        lang.pick(
            "로그인 정보는 이 컴퓨터에 그대로",
            "Your sign-in is still kept",
        ),
    )
    .await?;
    app.screenshot(&shot("s04", "offline", lang)).await?;
    ensure_signed_in_keychain(&rig)?;
    ensure!(
        keychain_tokens(&rig) == before,
        "tokens changed while offline"
    );
    ensure!(rig.inbox.len() == opened);
    app.close().await?;
    rig.sim.clear_faults();

    // 3. Later (Kakao's clock moves one lifetime and 10 s on, about 6 h): the access token
    // has expired at Kakao. Exactly one refresh, no browser.
    ensure!(lifetime > 3600, "access lifetime {lifetime}");
    rig.sim.advance_clock(lifetime + 10);
    let app = rig.launch().await?;
    app.wait_screen("signed_in").await?;
    ensure!(app.text("#profile-member-id").await? == member.to_string());
    let stats = rig.sim.stats();
    ensure!(stats.refreshes == 1, "{} refreshes", stats.refreshes);
    ensure!(rig.inbox.len() == opened);
    let after = keychain_tokens(&rig);
    ensure!(
        after.0 != before.0,
        "the new access token was not written to the keychain"
    );
    ensure_signed_in_keychain(&rig)?;
    app.close().await?;

    // 4. The refresh token is dead (KOE322): signed out, keychain empty.
    rig.sim.advance_clock(7 * 3600);
    rig.sim.expire_refresh_tokens_of(member);
    let app = rig.launch().await?;
    app.wait_screen("signed_out").await?;
    app.wait_text(
        "#notice",
        lang.pick("로그인이 만료되었습니다", "Your Kakao session has ended"),
    )
    .await?;
    ensure!(rig.sim.stats().token_errors.get("KOE322").copied() == Some(1));
    ensure_empty_keychain(&rig)?;
    ensure!(rig.inbox.len() == opened, "the app opened a browser URL");
    app.screenshot(&shot("s04", "session-ended", lang)).await?;
    app.close().await
}

// ---- S05: logout when Kakao cannot be told ----------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faq_s05_logout_without_kakao() -> Result<()> {
    let _one = serial().await;
    let lang = Lang::En;
    let rig = Rig::start("s05", lang).await?;
    let (app, browser) = signed_in(&rig, FULL, Consent::All).await?;
    ensure_signed_in_keychain(&rig)?;
    rig.sim.set_fault(Endpoint::Logout, Fault::Drop);
    log_out(&app, false).await?;
    app.wait_screen("signed_out").await?;
    let notice = app
        .wait_text(
            "#notice",
            lang.pick(
                "카카오 서버에는 알리지 못했습니다",
                "Kakao could not be told",
            ),
        )
        .await?;
    ensure!(
        notice.contains(lang.pick("이 기기에서 로그아웃했습니다", "Logged out on this device")),
        "{notice}"
    );
    ensure!(
        !app.is_displayed("#error").await?,
        "logout shown as an error"
    );
    ensure_empty_keychain(&rig)?;
    let stats = rig.sim.stats();
    ensure!(
        stats.endpoint_hits.get("logout").copied() >= Some(1),
        "the app never called /v1/user/logout"
    );
    ensure!(stats.user_logouts == 0, "Kakao did hear the logout");
    app.wait_visible("#signin").await?;
    app.screenshot(&shot("s05", "logged-out-kakao-not-told", lang))
        .await?;
    browser.close().await;
    app.close().await
}

// ---- S06: logout is for this device only -------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faq_s06_logout_this_device_only() -> Result<()> {
    let _one = serial().await;
    let lang = Lang::Ko;
    let rig = Rig::start("s06", lang).await?;
    let member = demo_member_id(FULL);
    let (app, browser) = signed_in(&rig, FULL, Consent::All).await?;

    for l in [lang, lang.other()] {
        if l != lang {
            app.click(&format!("#lang-{}", l.tag())).await?;
            app.wait_text("#logout", l.pick("로그아웃", "Log out"))
                .await?;
        }
        app.click("#logout").await?;
        let dialog = app.text("#logout-dialog").await?;
        for needle in [
            l.pick("이 기기에서만 로그아웃됩니다", "on this device only"),
            l.pick(
                "모든 기기에서 한 번에 로그아웃하는 기능을 제공하지 않습니다",
                "no way to log out of every device at once",
            ),
        ] {
            ensure!(dialog.contains(needle), "{needle:?} not in {dialog}");
        }
        ensure!(
            app.attr("#logout-kakao-account", "checked")
                .await?
                .is_none(),
            "the Kakao account logout is ticked by default"
        );
        app.screenshot(&shot("s06", "logout-dialog", l)).await?;
        app.click("#logout-cancel").await?;
        for _ in 0..100 {
            if !app.is_displayed("#logout-dialog").await? {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        ensure!(
            !app.is_displayed("#logout-dialog").await?,
            "cancel left the dialog open"
        );
    }
    app.wait_screen("signed_in").await?;
    ensure_signed_in_keychain(&rig)?;
    let (access, refresh) = keychain_tokens(&rig);
    let (access, refresh) = (access.context("access")?, refresh.context("refresh")?);
    // The same member on another device (REFERENCE §4c).
    let (other_access, other_refresh) =
        sign_in_elsewhere(&rig.sim, &rig.redirect_uri(), FULL).await;
    let sessions = rig.sim.browser_sessions();
    let consents = rig.sim.user_consents(member);

    let opened = rig.inbox.len();
    log_out(&app, false).await?;
    app.wait_screen("signed_out").await?;
    app.wait_text("#notice", "Other devices stay signed in")
        .await?;
    ensure_empty_keychain(&rig)?;
    let stats = rig.sim.stats();
    ensure!(
        stats.user_logouts == 1,
        "{} logouts at Kakao",
        stats.user_logouts
    );
    ensure!(
        keychain_secret_is_dead(&rig, &access, &refresh),
        "this device's tokens are still live at Kakao"
    );
    // What the notice says is true: the other device's tokens still work.
    ensure!(
        rig.sim.is_access_token_live(&other_access),
        "the other device was logged out too"
    );
    ensure!(rig.sim.is_refresh_token_live(&other_refresh));
    ensure!(stats.live_access_tokens == 1 && stats.live_refresh_tokens == 1);
    // This device only: the app stays connected, consents and the browser's session are kept.
    ensure!(rig.sim.is_connected(member));
    ensure!(rig.sim.user_consents(member) == consents);
    ensure!(rig.sim.browser_sessions() == sessions);
    ensure!(
        rig.inbox.len() == opened,
        "a plain logout opened the browser"
    );
    browser.close().await;
    app.close().await
}

// ---- S07: after logout the browser picks the previous account ---------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faq_s07_relogin_picks_previous_account() -> Result<()> {
    let _one = serial().await;
    let lang = Lang::Ko;
    let rig = Rig::start("s07", lang).await?;
    let (app, browser) = signed_in(&rig, FULL, Consent::All).await?;
    ensure!(rig.sim.browser_sessions() == 1);

    // Without the Kakao account logout the browser's session stays: signing in goes straight
    // through, no login page.
    log_out(&app, false).await?;
    app.wait_screen("signed_out").await?;
    ensure!(rig.sim.browser_sessions() == 1);
    let logins = rig.sim.stats().logins_ok;
    open_in_browser(&rig, &app, &browser, "#signin").await?;
    ensure!(
        loopback_heading(&browser).await? == lang.pick("로그인 완료", "Sign-in complete"),
        "the browser did not go straight through"
    );
    app.wait_screen("signed_in").await?;
    ensure!(
        rig.sim.stats().logins_ok == logins,
        "Kakao asked for a login"
    );

    // "Use another account" asks again even with the session.
    log_out(&app, false).await?;
    app.wait_screen("signed_out").await?;
    let url = open_in_browser(&rig, &app, &browser, "#signin-other-account").await?;
    ensure!(url.contains("prompt=login"), "{url}");
    browser.log_in(FULL, "demo1234").await?;
    app.wait_screen("signed_in").await?;
    ensure!(rig.sim.stats().logins_ok == logins + 1);

    // Logout with "also log out of the Kakao account in the browser". Kakao's page offers a
    // choice the app never learns (REFERENCE §6): first the person picks "this service only".
    let n = rig.inbox.len() + 1;
    log_out(&app, true).await?;
    let url = rig.inbox.nth(n).await?;
    ensure!(rig.is_start_url(&url), "{url}");
    app.wait_screen("waiting").await?;
    app.wait_text(
        "#waiting-title",
        lang.pick("카카오계정 로그아웃", "Kakao account logout"),
    )
    .await?;
    ensure!(
        app.text("#waiting-redirect-uri").await? == format!("http://127.0.0.1:{}/logout", rig.port)
    );
    ensure_empty_keychain(&rig)?;
    browser.client.goto(&url).await?;
    browser.answer_logout_choice(false).await?;
    browser
        .wait_text(lang.pick(
            "카카오 로그아웃 페이지를 마쳤습니다",
            "Kakao's logout page is done",
        ))
        .await?;
    app.wait_screen("signed_out").await?;
    // The notice says what the app asked for, not what it cannot know.
    let notice = app
        .wait_text(
            "#notice",
            lang.pick(
                "브라우저에 카카오계정 로그아웃을 요청했습니다",
                "the browser was asked to log out of Kakao",
            ),
        )
        .await?;
    ensure!(
        !notice.contains(lang.pick(
            "브라우저의 카카오계정에서 모두 로그아웃했습니다",
            "Logged out on this device and of the Kakao account in the browser"
        )),
        "{notice}"
    );
    ensure!(
        rig.sim.browser_sessions() == 1,
        "\"this service only\" keeps the browser's Kakao session"
    );

    // Signing in again asks Kakao for the login whichever option was picked (prompt=login):
    // Kakao's login page although the browser still holds the Kakao session.
    let url = open_in_browser(&rig, &app, &browser, "#signin").await?;
    ensure!(url.contains("prompt=login"), "{url}");
    browser.wait_visible("#login-password").await?;
    browser.log_in(FULL, "demo1234").await?;
    app.wait_screen("signed_in").await?;
    ensure!(rig.sim.stats().logins_ok == logins + 2);

    // Now "with the Kakao account": the browser's session ends.
    let n = rig.inbox.len() + 1;
    log_out(&app, true).await?;
    let url = rig.inbox.nth(n).await?;
    browser.client.goto(&url).await?;
    browser.answer_logout_choice(true).await?;
    eventually("the browser's Kakao session is cleared", || {
        rig.sim.browser_sessions() == 0
    })
    .await?;
    app.wait_screen("signed_out").await?;

    // Signing in again: Kakao's login page, no silent re-login.
    let url = open_in_browser(&rig, &app, &browser, "#signin").await?;
    ensure!(url.contains("prompt=login"), "{url}");
    browser.wait_visible("#login-password").await?;
    ensure!(
        app.is_displayed("main > [data-screen=\"waiting\"]").await?,
        "signed in without a login"
    );
    browser.log_in(NOTALK, "demo1234").await?;
    browser.answer_consent(Consent::All).await?;
    app.wait_screen("signed_in").await?;
    ensure!(app.text("#profile-member-id").await? == demo_member_id(NOTALK).to_string());
    ensure!(rig.sim.stats().logins_ok == logins + 3);
    ensure_signed_in_keychain(&rig)?;
    app.screenshot(&shot("s07", "other-account", lang)).await?;
    browser.close().await;
    app.close().await?;
    drop(rig);
    s07_logout_uri_not_registered(lang).await
}

/// S07's "KOE007 if not": the Kakao app registers the redirect URI but not the logout redirect
/// URI. Logged out on this device at once; the browser shows KOE007; the window says what to
/// register and where.
async fn s07_logout_uri_not_registered(lang: Lang) -> Result<()> {
    let port = kakao_signin_e2e::free_port();
    let mut cfg = SimConfig::for_loopback_port(port);
    cfg.app.logout_redirect_uris = vec!["http://127.0.0.1:1/logout".into()];
    let unique = format!("s07-koe007-{}-{}", lang.tag(), std::process::id());
    let rig = Rig {
        sim: Sim::start(cfg).await?,
        port,
        lang,
        service: format!("kakao-signin-e2e-{unique}"),
        data: std::env::temp_dir().join(format!("kakao-signin-e2e-data-{unique}")),
        inbox: UrlInbox::new(&unique),
    };
    let (app, browser) = signed_in(&rig, FULL, Consent::All).await?;
    let n = rig.inbox.len() + 1;
    let started = std::time::Instant::now();
    log_out(&app, true).await?;
    let url = rig.inbox.nth(n).await?;
    ensure!(rig.is_start_url(&url), "{url}");
    ensure_empty_keychain(&rig)?;
    browser.client.goto(&url).await?;
    let kakao = browser.client.current_url().await?;
    ensure!(kakao.as_str().contains("/oauth/logout"), "{kakao}");
    let code = browser.wait_visible("#koe-code").await?.text().await?;
    ensure!(code.contains("KOE007"), "Kakao's page says {code:?}");
    ensure!(rig.sim.browser_sessions() == 1, "the session went anyway");
    app.wait_screen("waiting").await?;
    let logout_uri = format!("http://127.0.0.1:{port}/logout");
    ensure!(app.text("#waiting-redirect-uri").await? == logout_uri);
    let help = app.text("#koe006-help").await?;
    ensure!(started.elapsed() >= Duration::from_secs(6));
    for needle in [
        "KOE007",
        lang.pick(
            "[카카오 로그인] > [고급] > 로그아웃 리다이렉트 URI",
            "[Kakao Login] > [Advanced] > Logout redirect URI",
        ),
        lang.pick(
            "이 기기의 로그아웃은 이미 끝났습니다",
            "You are already logged out on this device",
        ),
    ] {
        ensure!(help.contains(needle), "{needle:?} not in the help: {help}");
    }
    app.screenshot(&shot("s07", "koe007-help", lang)).await?;
    app.click("#cancel-signin").await?;
    app.wait_screen("signed_out").await?;
    ensure_empty_keychain(&rig)?;
    browser.close().await;
    app.close().await
}

// ---- S08: the member id does not change --------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faq_s08_member_id_stable() -> Result<()> {
    let _one = serial().await;
    let lang = Lang::En;
    let rig = Rig::start("s08", lang).await?;
    let member = demo_member_id(NOTALK);
    let (app, browser) = signed_in(&rig, NOTALK, Consent::All).await?;
    app.wait_text("#profile-member-id", &member.to_string())
        .await?;
    let label = app.text(".member-id").await?;
    ensure!(
        label.contains(lang.pick("회원번호", "Member ID")),
        "{label}"
    );
    let phone = "+82 10-8888-0808";
    app.wait_visible("#field-phone_number-input")
        .await?
        .send_keys(phone)
        .await?;
    app.click("#field-phone_number-save").await?;
    app.wait_text("#field-phone_number-entered", phone).await?;

    // Another account in between: its own member id, not this person's value.
    log_out(&app, false).await?;
    app.wait_screen("signed_out").await?;
    ensure!(
        local_file(&rig, member).exists(),
        "logout deleted local data"
    );
    rig.sign_in(&app, &browser, "#signin-other-account", FULL, Consent::All)
        .await?;
    app.wait_screen("signed_in").await?;
    app.wait_text("#profile-member-id", &demo_member_id(FULL).to_string())
        .await?;
    app.wait_attr("#field-phone_number", "data-state", "agreed")
        .await?;
    ensure!(app.text("#field-phone_number-value").await? == "+82 10-1234-5678");

    // The same person again: the same member id, and what they typed is back.
    log_out(&app, false).await?;
    app.wait_screen("signed_out").await?;
    rig.sign_in(
        &app,
        &browser,
        "#signin-other-account",
        NOTALK,
        Consent::NotAsked,
    )
    .await?;
    app.wait_screen("signed_in").await?;
    ensure!(app.text("#profile-member-id").await? == member.to_string());
    let entered = app.text("#field-phone_number-entered").await?;
    ensure!(
        entered.contains(phone) && entered.contains("Entered by you"),
        "{entered}"
    );
    app.screenshot(&shot("s08", "same-member", lang)).await?;
    browser.close().await;
    app.close().await
}

// ---- S09: a consented field comes back empty: the four states --------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faq_s09_four_field_states() -> Result<()> {
    let _one = serial().await;
    let lang = Lang::Ko;
    // This app does not configure gender; noemail has no email, name or birthday.
    let rig = Rig::start_with("s09", lang, |cfg| {
        cfg.app.consent_items.retain(|c| c.id != "gender");
    })
    .await?;
    let member = demo_member_id(NOEMAIL);
    let (app, browser) = signed_in(&rig, NOEMAIL, Consent::RequiredOnly).await?;
    let consents = rig.sim.user_consents(member);
    ensure!(
        consents.contains(&"account_email".to_owned())
            && !consents.contains(&"age_range".to_owned()),
        "{consents:?}"
    );
    for l in [lang, lang.other()] {
        if l != lang {
            app.click(&format!("#lang-{}", l.tag())).await?;
            app.wait_text("#refresh-profile", l.pick("새로고침", "Refresh"))
                .await?;
        }
        // Agreed with a value.
        app.wait_attr("#field-nickname", "data-state", "agreed")
            .await?;
        ensure!(app.text("#field-nickname-value").await? == "이메일없음");
        ensure!(app
            .text("#field-nickname")
            .await?
            .contains(l.pick("동의함", "Agreed")));
        // Agreed, but Kakao has no value: offered to enter it.
        ensure!(app.attr("#field-email", "data-state").await?.as_deref() == Some("agreed_empty"));
        let email = app.text("#field-email").await?;
        ensure!(
            email.contains(l.pick("카카오에 값 없음", "No value at Kakao"))
                && email
                    .contains(l.pick("카카오에 이 정보가 없습니다", "Kakao has no value for this")),
            "{email}"
        );
        ensure!(app.is_displayed("#field-email-input").await?);
        ensure!(app.text("#field-email-save").await? == l.pick("저장", "Save"));
        // Consent needed: a button asking for it.
        ensure!(
            app.attr("#field-age_range", "data-state").await?.as_deref() == Some("needs_consent")
        );
        ensure!(app
            .text("#field-age_range")
            .await?
            .contains(l.pick("동의 필요", "Consent needed")));
        ensure!(
            app.text("#field-age_range-consent").await?
                == l.pick("카카오에 동의 요청", "Ask Kakao for it")
        );
        ensure!(!app.is_displayed("#field-age_range-value").await?);
        // Not requested by this app: folded away, greyed, nothing to ask.
        ensure!(app.attr("#field-gender", "data-state").await?.as_deref() == Some("not_requested"));
        ensure!(
            app.attr("#fields-not-requested", "open").await?.is_none(),
            "not folded away"
        );
        let summary = app.text("#fields-not-requested-summary").await?;
        ensure!(
            summary.contains(l.pick("요청하지 않는 항목 1개", "Not requested by this app: 1")),
            "{summary}"
        );
        if app.attr("#fields-not-requested", "open").await?.is_none() {
            app.click("#fields-not-requested-summary").await?;
        }
        let gender = app.text("#field-gender").await?;
        ensure!(
            gender.contains(l.pick("요청 안 함", "Not requested"))
                && gender.contains(l.pick(
                    "이 앱은 이 정보를 요청하지 않습니다",
                    "This app does not ask for this"
                )),
            "{gender}"
        );
        ensure!(!app.is_displayed("#field-gender-consent").await?);
        ensure!(!app.is_displayed("#field-gender-input").await?);
        app.screenshot(&shot("s09", "four-states", l)).await?;
        app.click("#fields-not-requested-summary").await?;
    }
    ensure_signed_in_keychain(&rig)?;
    browser.close().await;
    app.close().await
}

// ---- S10: a required item the user has no value for; "collect via Kakao account" --------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faq_s10_collect_option() -> Result<()> {
    let _one = serial().await;
    let lang = Lang::En;
    let member = demo_member_id(NOEMAIL);
    for collect in [false, true] {
        let rig = Rig::start_with(&format!("s10-{collect}"), lang, |cfg| {
            for item in &mut cfg.app.consent_items {
                if item.id == "account_email" {
                    item.required = true;
                    item.collect = collect;
                }
            }
        })
        .await?;
        let app = rig.launch().await?;
        app.wait_screen("signed_out").await?;
        let browser = Chromium::launch().await?;
        rig.sign_in(&app, &browser, "#signin", NOEMAIL, Consent::NotAsked)
            .await?;
        browser.wait_visible("#consent-agree").await?;
        browser.wait_visible("#consent-profile_nickname").await?;
        let typed = "typed-in@example.test";
        if collect {
            // Kakao asks the person to enter the value on the consent page.
            browser.wait_visible("#consent-account_email").await?;
            browser
                .wait_visible("#collect-account_email")
                .await?
                .send_keys(typed)
                .await?;
        } else {
            // The required item is not on Kakao's consent page at all.
            ensure!(!browser_has(&browser, "#consent-account_email").await);
            ensure!(!browser_has(&browser, "#collect-account_email").await);
        }
        browser
            .wait_visible("#consent-agree")
            .await?
            .click()
            .await?;
        app.wait_screen("signed_in").await?;
        ensure!(rig
            .sim
            .user_consents(member)
            .contains(&"account_email".to_owned()));
        if collect {
            app.wait_attr("#field-email", "data-state", "agreed")
                .await?;
            ensure!(app.text("#field-email-value").await? == typed);
            ensure!(app.text("#field-email").await?.contains("Agreed"));
            ensure!(
                rig.sim
                    .user(member)
                    .and_then(|u| u.profile.email)
                    .as_deref()
                    == Some(typed),
                "Kakao did not keep the collected email"
            );
            app.screenshot(&shot("s10", "collected", lang)).await?;
        } else {
            app.wait_attr("#field-email", "data-state", "agreed_empty")
                .await?;
            let email = app.text("#field-email").await?;
            ensure!(email.contains("No value at Kakao"), "{email}");
            ensure!(app.is_displayed("#field-email-input").await?);
            ensure!(rig.sim.user(member).and_then(|u| u.profile.email).is_none());
            app.screenshot(&shot("s10", "agreed-empty", lang)).await?;
        }
        ensure_signed_in_keychain(&rig)?;
        browser.close().await;
        app.close().await?;
    }
    Ok(())
}

// ---- S11: account information changes ----------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faq_s11_profile_fetched_fresh() -> Result<()> {
    let _one = serial().await;
    let lang = Lang::Ko;
    let rig = Rig::start("s11", lang).await?;
    let member = demo_member_id(FULL);
    let (app, browser) = signed_in(&rig, FULL, Consent::All).await?;
    app.wait_text("#profile-nickname", "김카카오").await?;
    ensure!(app.text("#field-email-value").await? == FULL);

    ensure!(rig.sim.update_user(member, |u| {
        u.profile.nickname = Some("새닉네임".into());
        u.profile.email = Some("changed@kakao.test".into());
    }));
    let hits = user_me_hits(&rig);
    app.click("#refresh-profile").await?;
    app.wait_text("#field-email-value", "changed@kakao.test")
        .await?;
    app.wait_text("#profile-nickname", "새닉네임").await?;
    ensure!(app.text("#field-nickname-value").await? == "새닉네임");
    ensure!(
        user_me_hits(&rig) == hits + 1,
        "refresh did not ask Kakao once"
    );
    app.wait_text(
        "#profile-fetched-at",
        lang.pick("카카오에서 가져온 시각", "Fetched from Kakao"),
    )
    .await?;
    app.screenshot(&shot("s11", "refreshed", lang)).await?;
    browser.close().await;
    app.close().await?;

    // At the next start the profile is fetched again too.
    ensure!(rig.sim.update_user(member, |u| {
        u.profile.age_range = Some("40~49".into());
    }));
    let app = rig.launch().await?;
    app.wait_screen("signed_in").await?;
    app.wait_text("#field-age_range-value", "40~49").await?;
    app.wait_text("#field-email-value", "changed@kakao.test")
        .await?;
    app.close().await
}

// ---- S12: additional consent -------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faq_s12_additional_consent() -> Result<()> {
    let _one = serial().await;
    let lang = Lang::En;
    let rig = Rig::start("s12", lang).await?;
    let member = demo_member_id(FULL);
    let (app, browser) = signed_in(&rig, FULL, Consent::RequiredOnly).await?;
    app.wait_attr("#field-email", "data-state", "needs_consent")
        .await?;
    let tokens = keychain_tokens(&rig);
    ensure!(tokens.0.is_some() && tokens.1.is_some());
    let token_requests = |rig: &Rig| rig.sim.stats().token_requests.values().sum::<u64>();
    let requests = token_requests(&rig);

    // Refused: a notice, the field stays "consent needed", no error, tokens unchanged.
    let url = open_in_browser(&rig, &app, &browser, "#field-email-consent").await?;
    ensure!(
        url.contains("scope=") && url.contains("account_email"),
        "{url}"
    );
    ensure!(url.contains("openid"), "OIDC on, but no openid in {url}");
    app.wait_screen("waiting").await?;
    app.wait_text("#waiting-title", "Waiting for your consent")
        .await?;
    browser.wait_visible("#consent-account_email").await?;
    browser.answer_consent(Consent::Cancel).await?;
    app.wait_screen("signed_in").await?;
    app.wait_text(
        "#notice",
        "You did not agree, so this item stays 'consent needed'",
    )
    .await?;
    ensure!(
        !app.is_displayed("#error").await?,
        "refusing is shown as an error"
    );
    ensure!(app.attr("#field-email", "data-state").await?.as_deref() == Some("needs_consent"));
    ensure!(!app.is_displayed("#field-email-value").await?);
    ensure!(
        keychain_tokens(&rig) == tokens,
        "tokens changed after a refusal"
    );
    ensure!(
        token_requests(&rig) == requests,
        "a token request after the refusal"
    );
    ensure!(!rig
        .sim
        .user_consents(member)
        .contains(&"account_email".to_owned()));
    app.screenshot(&shot("s12", "refused", lang)).await?;

    // Accepted: new tokens in the keychain, the field is agreed with Kakao's value.
    let url = open_in_browser(&rig, &app, &browser, "#field-email-consent").await?;
    ensure!(url.contains("account_email"), "{url}");
    browser.wait_visible("#consent-account_email").await?;
    browser.answer_consent(Consent::All).await?;
    app.wait_screen("signed_in").await?;
    app.wait_attr("#field-email", "data-state", "agreed")
        .await?;
    ensure!(app.text("#field-email-value").await? == FULL);
    ensure!(rig
        .sim
        .user_consents(member)
        .contains(&"account_email".to_owned()));
    let after = keychain_tokens(&rig);
    ensure!(
        after.0.is_some() && after.0 != tokens.0,
        "the new access token did not reach the keychain"
    );
    ensure!(!app.is_displayed("#error").await?);
    app.screenshot(&shot("s12", "accepted", lang)).await?;
    browser.close().await;
    app.close().await
}

// ---- S13: which items did the user agree to? ---------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faq_s13_consent_panel_withdraw() -> Result<()> {
    let _one = serial().await;
    let lang = Lang::Ko;
    let rig = Rig::start("s13", lang).await?;
    let member = demo_member_id(FULL);
    let app = rig.launch().await?;
    app.wait_screen("signed_out").await?;
    let browser = Chromium::launch().await?;
    rig.sign_in(&app, &browser, "#signin", FULL, Consent::NotAsked)
        .await?;
    // Agree to the required nickname, plus email and gender only.
    browser
        .wait_visible("#consent-account_email")
        .await?
        .click()
        .await?;
    browser
        .wait_visible("#consent-gender")
        .await?
        .click()
        .await?;
    browser
        .wait_visible("#consent-agree")
        .await?
        .click()
        .await?;
    app.wait_screen("signed_in").await?;

    // The consent items come with the sign-in (`/v2/user/scopes` beside `/v2/user/me`, issue
    // 19); the button reloads them.
    app.wait_visible("#consent-list").await?;
    app.wait_text("#open-consents", "다시 불러오기").await?;
    app.click("#open-consents").await?;
    app.wait_visible("#consent-list").await?;
    // Required and agreed, no withdraw.
    app.wait_attr("#consent-profile_nickname", "data-required", "true")
        .await?;
    let nickname = app.text("#consent-profile_nickname").await?;
    ensure!(
        nickname.contains("동의함") && nickname.contains("필수"),
        "{nickname}"
    );
    ensure!(
        !app.is_displayed("#consent-profile_nickname-withdraw")
            .await?
    );
    // Agreed, optional: withdraw offered.
    let gender = app.text("#consent-gender").await?;
    ensure!(
        gender.contains("동의함") && !gender.contains("필수"),
        "{gender}"
    );
    ensure!(app.text("#consent-gender-withdraw").await? == "철회");
    // Not agreed.
    ensure!(
        app.attr("#consent-age_range", "data-agreed")
            .await?
            .as_deref()
            == Some("false")
    );
    ensure!(app.text("#consent-age_range").await?.contains("동의 안 함"));
    ensure!(!app.is_displayed("#consent-age_range-withdraw").await?);
    app.screenshot(&shot("s13", "consents", lang)).await?;

    // Withdraw gender.
    ensure!(rig.sim.user_consents(member).contains(&"gender".to_owned()));
    app.click("#consent-gender-withdraw").await?;
    let dialog = app.text("#withdraw-dialog").await?;
    ensure!(dialog.contains("철회할까요"), "{dialog}");
    app.click("#withdraw-confirm").await?;
    app.wait_attr("#consent-gender", "data-agreed", "false")
        .await?;
    ensure!(app.text("#consent-gender").await?.contains("동의 안 함"));
    let consents = rig.sim.user_consents(member);
    ensure!(!consents.contains(&"gender".to_owned()), "{consents:?}");
    ensure!(
        consents.contains(&"account_email".to_owned()),
        "{consents:?}"
    );
    ensure!(consents.contains(&"profile_nickname".to_owned()));
    ensure!(rig.sim.stats().endpoint_hits.get("revoke_scopes").copied() == Some(1));
    app.wait_attr("#field-gender", "data-state", "needs_consent")
        .await?;
    ensure_signed_in_keychain(&rig)?;
    app.screenshot(&shot("s13", "withdrawn", lang)).await?;
    browser.close().await;
    app.close().await
}

// ---- S14: email required, yet some users have none ----------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faq_s14_email_states() -> Result<()> {
    let _one = serial().await;
    let lang = Lang::En;
    let rig = Rig::start("s14", lang).await?;
    let full = demo_member_id(FULL);

    // No email at Kakao: agreed but empty, "enter your email".
    let (app, browser) = signed_in(&rig, NOEMAIL, Consent::All).await?;
    app.wait_attr("#field-email", "data-state", "agreed_empty")
        .await?;
    let note = app.text("#field-email-note").await?;
    ensure!(
        note.contains("Your Kakao account has no email address")
            && note.contains("You can enter one yourself"),
        "{note}"
    );
    let input = app.wait_visible("#field-email-input").await?;
    ensure!(input.attr("type").await?.as_deref() == Some("email"));
    ensure!(input.attr("placeholder").await?.as_deref() == Some("Enter it yourself"));
    ensure!(!app.is_displayed("#field-email-consent").await?);
    app.screenshot(&shot("s14", "no-email", lang)).await?;

    // Has an email but did not agree (email_needs_agreement): a consent prompt, nothing to type.
    log_out(&app, false).await?;
    app.wait_screen("signed_out").await?;
    rig.sign_in(
        &app,
        &browser,
        "#signin-other-account",
        FULL,
        Consent::RequiredOnly,
    )
    .await?;
    app.wait_screen("signed_in").await?;
    app.wait_attr("#field-email", "data-state", "needs_consent")
        .await?;
    ensure!(app.text("#field-email-consent").await? == "Ask Kakao for it");
    ensure!(!app.is_displayed("#field-email-input").await?);
    ensure!(!app.is_displayed("#field-email-flags").await?);
    app.screenshot(&shot("s14", "needs-agreement", lang))
        .await?;

    // Agreed: the address with Kakao's valid / verified flags.
    let url = open_in_browser(&rig, &app, &browser, "#field-email-consent").await?;
    ensure!(url.contains("account_email"), "{url}");
    browser.answer_consent(Consent::All).await?;
    app.wait_attr("#field-email", "data-state", "agreed")
        .await?;
    ensure!(app.text("#field-email-value").await? == FULL);
    let flags = app.text("#field-email-flags").await?;
    ensure!(
        flags.contains("Valid") && flags.contains("Verified") && !flags.contains("Not"),
        "{flags}"
    );
    // The flags are Kakao's: an unverified address says so.
    ensure!(rig
        .sim
        .update_user(full, |u| u.profile.is_email_verified = false));
    app.click("#refresh-profile").await?;
    app.wait_text("#field-email-flags", "Not verified").await?;
    ensure!(app.text("#field-email-flags").await?.contains("Valid"));
    app.screenshot(&shot("s14", "flags", lang)).await?;
    browser.close().await;
    app.close().await
}

// ---- S15: no KakaoTalk, no phone number ---------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faq_s15_phone_entered_locally() -> Result<()> {
    let _one = serial().await;
    let lang = Lang::Ko;
    let rig = Rig::start("s15", lang).await?;
    let member = demo_member_id(NOTALK);
    let (app, browser) = signed_in(&rig, NOTALK, Consent::All).await?;
    app.wait_attr("#field-phone_number", "data-state", "agreed_empty")
        .await?;
    let note = app.text("#field-phone_number-note").await?;
    ensure!(
        note.contains("카카오톡") && note.contains("직접 입력할 수 있습니다"),
        "{note}"
    );
    ensure!(!local_file(&rig, member).exists());

    let phone = "+82 10-9876-5432";
    app.wait_visible("#field-phone_number-input")
        .await?
        .send_keys(phone)
        .await?;
    app.click("#field-phone_number-save").await?;
    let entered = app.text("#field-phone_number-entered").await?;
    ensure!(
        entered.contains(phone) && entered.contains("직접 입력함"),
        "{entered}"
    );
    let field = app.text("#field-phone_number").await?;
    ensure!(
        field.contains("이 컴퓨터에만 보관되며, 카카오에서 온 정보가 아닙니다"),
        "{field}"
    );
    ensure!(
        app.attr("#field-phone_number", "data-state")
            .await?
            .as_deref()
            == Some("agreed_empty"),
        "a typed value shown as Kakao's"
    );
    app.screenshot(&shot("s15", "entered", lang)).await?;

    // Kept on this machine only: a file under the data directory, not the keychain, not Kakao.
    let file = local_file(&rig, member);
    let stored = std::fs::read_to_string(&file)
        .with_context(|| format!("no local data at {}", file.display()))?;
    ensure!(stored.contains(phone), "{stored}");
    let (session, refresh) = keychain_tokens(&rig);
    for secret in [session, refresh] {
        let secret = secret.context("a token entry is missing")?;
        ensure!(
            !secret.contains("9876"),
            "the phone number is in the keychain"
        );
    }
    ensure!(rig
        .sim
        .user(member)
        .and_then(|u| u.profile.phone_number)
        .is_none());

    // Disconnecting deletes it.
    app.click("#unlink").await?;
    let dialog = app.text("#unlink-dialog").await?;
    ensure!(
        dialog.contains("직접 입력해 이 컴퓨터에 보관한 값"),
        "{dialog}"
    );
    app.click("#unlink-confirm").await?;
    app.wait_screen("signed_out").await?;
    app.wait_text("#notice", "앱 연결을 끊었습니다").await?;
    ensure!(!file.exists(), "{} survived the unlink", file.display());
    ensure_empty_keychain(&rig)?;
    ensure!(!rig.sim.is_connected(member));
    browser.close().await;
    app.close().await
}

// ---- S12 with another Kakao account in the browser (REFERENCE §5, Decision 15) ---------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faq_s12_consent_with_another_account_keeps_the_session() -> Result<()> {
    let _one = serial().await;
    let lang = Lang::En;
    let rig = Rig::start("s12-other", lang).await?;
    let (app, browser) = signed_in(&rig, FULL, Consent::RequiredOnly).await?;
    app.wait_attr("#field-email", "data-state", "needs_consent")
        .await?;
    let tokens = keychain_tokens(&rig);
    ensure!(tokens.0.is_some() && tokens.1.is_some());

    // The browser now holds another Kakao account: someone logged in to Kakao as NOTALK.
    let mut other = url::Url::parse(&format!("{}/oauth/authorize", rig.sim.base_url()))?;
    other
        .query_pairs_mut()
        .append_pair("client_id", "sandbox-rest-api-key")
        .append_pair("redirect_uri", &rig.redirect_uri())
        .append_pair("response_type", "code")
        .append_pair("prompt", "login");
    browser.client.goto(other.as_str()).await?;
    browser.log_in(NOTALK, "demo1234").await?;
    browser.wait_visible("#consent-agree").await?;

    // Additional consent for the email: Kakao asks the account the browser holds.
    let url = open_in_browser(&rig, &app, &browser, "#field-email-consent").await?;
    ensure!(url.contains("account_email"), "{url}");
    browser.answer_consent(Consent::All).await?;
    app.wait_screen("signed_in").await?;
    let notice = app
        .wait_text(
            "#notice",
            "Kakao took the consent with another Kakao account",
        )
        .await?;
    let other_id = demo_member_id(NOTALK).to_string();
    ensure!(notice.contains(&other_id), "{notice}");
    ensure!(notice.contains("Use another account"), "{notice}");
    ensure!(!app.is_displayed("#error").await?);
    // Still the signed-in member, the field still "consent needed", the keychain untouched.
    ensure!(app.text("#profile-member-id").await? == demo_member_id(FULL).to_string());
    ensure!(app.attr("#field-email", "data-state").await?.as_deref() == Some("needs_consent"));
    ensure!(keychain_tokens(&rig) == tokens, "the keychain changed");
    // The stray tokens were revoked at Kakao (the simulator's record shows the logout call).
    let logouts: Vec<_> = rig
        .sim
        .request_log()
        .into_iter()
        .filter(|r| r.endpoint == Some(Endpoint::Logout))
        .collect();
    ensure!(
        logouts.len() == 1 && logouts[0].status == 200,
        "{logouts:?}"
    );
    let stats = rig.sim.stats();
    ensure!(
        stats.live_access_tokens == 1 && stats.live_refresh_tokens == 1,
        "{stats:?}"
    );
    app.screenshot(&shot("s12", "other-account", lang)).await?;
    browser.close().await;
    app.close().await
}

// ---- Disconnected elsewhere (Kakao account page, KakaoTalk): kapi -101 ------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disconnect_when_already_disconnected_at_kakao() -> Result<()> {
    let _one = serial().await;
    let lang = Lang::Ko;
    let rig = Rig::start("unlinked-elsewhere", lang).await?;
    let member = demo_member_id(NOTALK);
    let (app, browser) = signed_in(&rig, NOTALK, Consent::All).await?;
    let phone = "+82 10-1111-2222";
    app.wait_visible("#field-phone_number-input")
        .await?
        .send_keys(phone)
        .await?;
    app.click("#field-phone_number-save").await?;
    app.wait_text("#field-phone_number-entered", phone).await?;
    ensure!(local_file(&rig, member).exists());

    // Disconnect in the app after the person disconnected at Kakao: -101 means done.
    rig.sim.set_fault(
        Endpoint::Unlink,
        Fault::Times(
            1,
            Box::new(Fault::KapiError {
                status: 400,
                code: -101,
            }),
        ),
    );
    app.click("#unlink").await?;
    app.wait_visible("#unlink-dialog").await?;
    app.click("#unlink-confirm").await?;
    app.wait_screen("signed_out").await?;
    app.wait_text("#notice", "이미 연결이 끊겨 있었습니다")
        .await?;
    ensure!(!app.is_displayed("#error").await?, "shown as an error");
    ensure!(!local_file(&rig, member).exists(), "typed values survived");
    ensure_empty_keychain(&rig)?;
    app.screenshot(&shot("unlinked-elsewhere", "disconnect", lang))
        .await?;

    // At start: a session Kakao reports as not linked ends with the same notice. (The fault
    // only answered -101: the simulator still holds the consents, so no consent page.)
    rig.sign_in(
        &app,
        &browser,
        "#signin-other-account",
        NOTALK,
        Consent::NotAsked,
    )
    .await?;
    app.wait_screen("signed_in").await?;
    app.wait_visible("#field-phone_number-input")
        .await?
        .send_keys(phone)
        .await?;
    app.click("#field-phone_number-save").await?;
    app.wait_text("#field-phone_number-entered", phone).await?;
    app.close().await?;
    rig.sim.set_fault(
        Endpoint::AccessTokenInfo,
        Fault::Times(
            1,
            Box::new(Fault::KapiError {
                status: 400,
                code: -101,
            }),
        ),
    );
    let app = rig.launch().await?;
    app.wait_screen("signed_out").await?;
    app.wait_text("#notice", "이미 연결이 끊겨 있었습니다")
        .await?;
    ensure!(!local_file(&rig, member).exists(), "typed values survived");
    ensure_empty_keychain(&rig)?;
    browser.close().await;
    app.close().await
}
