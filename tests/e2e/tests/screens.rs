//! Every screen and state of the window (issue 5), in Korean and in English, in the real window
//! against the simulator, with headless Chromium as the system browser. Each test starts the app
//! fresh and saves a screenshot of every screen it reaches as
//! `target/screenshots/<screen>-<ko|en>.png`.
//!
//! Regenerate the screenshots: `cargo build -p kakao-signin`, then
//! `cargo xtask test` (or this suite alone under Xvfb: `cargo test -p kakao-signin-e2e --test screens`).

use anyhow::{ensure, Result};
use kakao_signin_e2e::{
    demo_member_id, serial, unconfigured_env, App, AppOptions, Chromium, Consent, KeychainState,
    Lang, PrivateSecretService, Rig,
};
use kakao_sim::{Endpoint, Fault};

/// One scenario, run once in Korean and once in English.
macro_rules! in_both_languages {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            use super::*;

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn ko() -> Result<()> {
                let _one = serial().await;
                super::$name(Lang::Ko).await
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn en() -> Result<()> {
                let _one = serial().await;
                super::$name(Lang::En).await
            }
        }
    )*};
}

in_both_languages!(
    unconfigured,
    signed_out,
    waiting,
    consent_needed,
    agreed_empty_and_entered,
    not_requested,
    consent_panel,
    logout,
    unlink,
    offline,
    no_keychain,
    cancelled_on_consent_page,
);

fn shot(screen: &str, lang: Lang) -> String {
    format!("{screen}-{}", lang.tag())
}

/// Signs in through the browser and waits for the profile.
async fn signed_in(rig: &Rig, login: &str, consent: Consent) -> Result<(App, Chromium)> {
    let app = rig.launch().await?;
    app.wait_screen("signed_out").await?;
    let browser = Chromium::launch().await?;
    rig.sign_in(&app, &browser, "#signin", login, consent)
        .await?;
    app.wait_screen("signed_in").await?;
    Ok((app, browser))
}

/// Clicks "copy diagnostics" and returns the text copied (or, when the clipboard refuses, the
/// text the window shows to copy by hand).
async fn copy_diagnostics(app: &App) -> Result<String> {
    app.client
        .execute(
            "window.__copied = null;\
             if (navigator.clipboard) navigator.clipboard.writeText = \
               (t) => { window.__copied = String(t); return Promise.resolve(); };",
            vec![],
        )
        .await?;
    app.click("#copy-diagnostics").await?;
    for _ in 0..200 {
        let got = app
            .client
            .execute(
                "const area = document.getElementById('diagnostics-text');\
                 return window.__copied || (area && area.value) || null;",
                vec![],
            )
            .await?;
        if let Some(text) = got.as_str() {
            return Ok(text.to_owned());
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    anyhow::bail!("copy diagnostics produced no text within 20 s")
}

fn has_hangul(s: &str) -> bool {
    s.chars().any(|c| ('\u{AC00}'..='\u{D7A3}').contains(&c))
}

// ---- first run without a REST API key -------------------------------------------------------

async fn unconfigured(lang: Lang) -> Result<()> {
    let tag = format!("unconfigured-{}-{}", lang.tag(), std::process::id());
    let data = std::env::temp_dir().join(format!("kakao-signin-e2e-data-{tag}"));
    let app = App::launch(AppOptions {
        env: unconfigured_env(&format!("kakao-signin-e2e-{tag}"), &data, lang),
    })
    .await?;
    app.wait_screen("unconfigured").await?;
    let setup = app.text("#setup").await?;
    let redirect = app.text("#setup-redirect-uris").await?;
    let logout = app.text("#setup-logout-uris").await?;
    for port in [18682, 18683, 18684] {
        let uri = format!("http://127.0.0.1:{port}/callback");
        ensure!(redirect.contains(&uri), "{uri} missing from {redirect:?}");
        let uri = format!("http://127.0.0.1:{port}/logout");
        ensure!(logout.contains(&uri), "{uri} missing from {logout:?}");
    }
    // Each address has its own copy button.
    let copy = app
        .client
        .find_all(fantoccini::Locator::Css("#setup-redirect-uris li button"))
        .await?;
    ensure!(
        copy.len() == 3,
        "{} copy buttons for 3 redirect URIs",
        copy.len()
    );
    ensure!(setup.contains("KAKAO_SIGNIN_CLIENT_ID"), "{setup}");
    ensure!(
        setup.contains(lang.pick(
            "카카오 앱을 먼저 연결하세요",
            "Connect your Kakao app first"
        )),
        "setup title not in {lang:?}: {setup}"
    );
    ensure!(
        setup.contains(lang.pick("REST API 키 설정", "Set the REST API key")),
        "{setup}"
    );
    ensure!(
        !app.is_displayed("#signin").await?,
        "sign-in offered without a key"
    );
    app.screenshot(&shot("setup", lang)).await?;
    app.close().await?;
    let _ = std::fs::remove_dir_all(&data);
    Ok(())
}

// ---- signed out -----------------------------------------------------------------------------

async fn signed_out(lang: Lang) -> Result<()> {
    let rig = Rig::start("signed-out", lang).await?;
    let app = rig.launch().await?;
    app.wait_screen("signed_out").await?;
    let check = |l: Lang| {
        let app = &app;
        async move {
            app.wait_text("#signin", l.pick("카카오 로그인", "Login with Kakao"))
                .await?;
            // S02: sign-in happens in the browser, with the Kakao account.
            let lead = app.text("#signin-explainer").await?;
            ensure!(
                lead.contains(l.pick("기본 브라우저", "web browser"))
                    && lead.contains(l.pick("카카오계정", "Kakao account")),
                "S02 line in {l:?}: {lead}"
            );
            let other = app.text("#signin-other-account").await?;
            ensure!(
                other == l.pick("다른 계정으로 로그인", "Use another account"),
                "{other}"
            );
            ensure!(app.attr("html", "lang").await?.as_deref() == Some(l.tag()));
            ensure!(
                app.attr(&format!("#lang-{}", l.tag()), "aria-pressed")
                    .await?
                    .as_deref()
                    == Some("true")
            );
            anyhow::Ok(())
        }
    };
    check(lang).await?;
    let label = app.text("#signin").await?;
    ensure!(
        !label.contains(lang.other().pick("카카오 로그인", "Login with Kakao")),
        "{label}"
    );
    app.screenshot(&shot("signed-out", lang)).await?;

    // Switching the language changes every text, and back again.
    app.click(&format!("#lang-{}", lang.other().tag())).await?;
    check(lang.other()).await?;
    app.click(&format!("#lang-{}", lang.tag())).await?;
    check(lang).await?;

    // "Use another account" asks Kakao to show the login page again (prompt=login).
    app.click("#signin-other-account").await?;
    let url = rig.inbox.nth(1).await?;
    ensure!(rig.is_start_url(&url), "{url}");
    let kakao = kakao_signin_test_support::follow_start(&url).await;
    ensure!(kakao.contains("prompt=login"), "{kakao}");
    app.wait_screen("waiting").await?;
    app.click("#cancel-signin").await?;
    app.wait_screen("signed_out").await?;
    app.close().await
}

// ---- waiting for the browser ------------------------------------------------------------------

async fn waiting(lang: Lang) -> Result<()> {
    let rig = Rig::start("waiting", lang).await?;
    let app = rig.launch().await?;
    app.wait_screen("signed_out").await?;
    app.click("#signin").await?;
    app.wait_screen("waiting").await?;
    let started = std::time::Instant::now();
    // The exact redirect URI sent (S01), and the port really is taken by the app.
    ensure!(app.text("#waiting-redirect-uri").await? == rig.redirect_uri());
    ensure!(
        std::net::TcpListener::bind(("127.0.0.1", rig.port)).is_err(),
        "nothing listens on the redirect port while waiting"
    );
    let url = rig.inbox.nth(1).await?;
    ensure!(rig.is_start_url(&url), "{url}");
    app.wait_text(
        "#waiting-title",
        lang.pick(
            "브라우저에서 로그인을 기다리는 중",
            "Waiting for you to sign in in the browser",
        ),
    )
    .await?;
    ensure!(
        app.text("#copy-redirect-uri").await? == lang.pick("복사", "Copy"),
        "copy button"
    );
    ensure!(
        !app.is_displayed("#koe006-help").await?,
        "KOE006 help shown at once"
    );
    app.screenshot(&shot("waiting", lang)).await?;

    // After a few seconds: help for "the browser shows KOE006".
    let help = app.text("#koe006-help").await?;
    ensure!(
        started.elapsed().as_secs() >= 6,
        "KOE006 help after {:?}",
        started.elapsed()
    );
    ensure!(help.contains("KOE006"), "{help}");
    ensure!(
        help.contains(lang.pick("리다이렉트 URI", "redirect URI")),
        "help not in {lang:?}: {help}"
    );
    app.screenshot(&shot("waiting-koe006-help", lang)).await?;

    // Cancel: back to signed out; the port stays the app's (a Kakao tab still open may yet
    // redirect a code there), answering "this sign-in was cancelled".
    app.click("#cancel-signin").await?;
    app.wait_screen("signed_out").await?;
    ensure!(
        std::net::TcpListener::bind(("127.0.0.1", rig.port)).is_err(),
        "the port was given up after cancel"
    );
    ensure!(rig.keychain().is_empty(), "{:?}", rig.keychain());
    app.close().await
}

// ---- signed in: the four field states ---------------------------------------------------------

async fn consent_needed(lang: Lang) -> Result<()> {
    let rig = Rig::start("consent-needed", lang).await?;
    let (app, browser) = signed_in(&rig, "full@kakao.test", Consent::RequiredOnly).await?;
    let member = demo_member_id("full@kakao.test");
    ensure!(app.text("#profile-member-id").await? == member.to_string());
    app.wait_attr("#field-email", "data-state", "needs_consent")
        .await?;
    let field = app.text("#field-email").await?;
    ensure!(
        field.contains(lang.pick("동의 필요", "Consent needed")),
        "{field}"
    );
    let ask = app.text("#field-email-consent").await?;
    ensure!(
        ask == lang.pick("카카오에 동의 요청", "Ask Kakao for it"),
        "{ask}"
    );
    ensure!(!rig
        .sim
        .user_consents(member)
        .contains(&"account_email".to_owned()));
    app.screenshot(&shot("signed-in-consent-needed", lang))
        .await?;

    // Ask Kakao for the email (S12): a new authorize URL with scope=account_email.
    app.click("#field-email-consent").await?;
    let url = rig.inbox.nth(2).await?;
    ensure!(rig.is_start_url(&url), "{url}");
    app.wait_screen("waiting").await?;
    app.wait_text(
        "#waiting-title",
        lang.pick("추가 동의", "Waiting for your consent"),
    )
    .await?;
    app.screenshot(&shot("waiting-consent", lang)).await?;
    browser.client.goto(&url).await?;
    let kakao = browser.client.current_url().await?;
    ensure!(kakao.as_str().contains("scope=account_email"), "{kakao}");
    browser.wait_visible("#consent-account_email").await?;
    browser.answer_consent(Consent::All).await?;
    app.wait_screen("signed_in").await?;
    app.wait_attr("#field-email", "data-state", "agreed")
        .await?;
    let email = app.text("#field-email-value").await?;
    ensure!(email.contains('@'), "{email}");
    let flags = app.text("#field-email-flags").await?;
    ensure!(flags.contains(lang.pick("인증됨", "Verified")), "{flags}");
    ensure!(rig
        .sim
        .user_consents(member)
        .contains(&"account_email".to_owned()));
    app.screenshot(&shot("signed-in", lang)).await?;

    // "Copy diagnostics" while signed in: no personal data, no token.
    let diagnostics = copy_diagnostics(&app).await?;
    ensure!(diagnostics.len() > 20, "diagnostics: {diagnostics:?}");
    // Where the log file is, for the person asked to send it.
    ensure!(
        diagnostics
            .lines()
            .any(|l| l.starts_with("log file: /") && l.ends_with("/kakao-signin.log")),
        "diagnostics name the log file:\n{diagnostics}"
    );
    for secret in [
        email.as_str(),
        &member.to_string(),
        "김카카오",
        "access_token",
        "refresh_token",
        "code=",
    ] {
        ensure!(
            !diagnostics.contains(secret),
            "diagnostics hold {secret:?}:\n{diagnostics}"
        );
    }
    browser.close().await;
    app.close().await
}

async fn agreed_empty_and_entered(lang: Lang) -> Result<()> {
    let rig = Rig::start("agreed-empty", lang).await?;
    let (app, browser) = signed_in(&rig, "noemail@kakao.test", Consent::All).await?;
    app.wait_attr("#field-email", "data-state", "agreed_empty")
        .await?;
    app.wait_attr("#field-phone_number", "data-state", "agreed_empty")
        .await?;
    let note = app.text("#field-phone_number-note").await?;
    ensure!(
        note.contains(lang.pick("카카오톡", "KakaoTalk")),
        "phone note: {note}"
    );
    let email = app.text("#field-email").await?;
    ensure!(
        email.contains(lang.pick("카카오에 값 없음", "No value at Kakao")),
        "{email}"
    );
    app.screenshot(&shot("signed-in-agreed-empty", lang))
        .await?;

    // Enter it yourself: kept on this machine, marked as entered by the person.
    let typed = "me@example.test";
    app.wait_visible("#field-email-input")
        .await?
        .send_keys(typed)
        .await?;
    app.click("#field-email-save").await?;
    let entered = app.text("#field-email-entered").await?;
    ensure!(entered.contains(typed), "{entered}");
    ensure!(
        entered.contains(lang.pick("직접 입력함", "Entered by you")),
        "{entered}"
    );
    // Still agreed_empty: the value is not from Kakao.
    ensure!(app.attr("#field-email", "data-state").await?.as_deref() == Some("agreed_empty"));
    // A refresh from Kakao keeps it.
    let requests = rig.sim.stats().endpoint_hits.get("user_me").copied();
    app.click("#refresh-profile").await?;
    for _ in 0..100 {
        if rig.sim.stats().endpoint_hits.get("user_me").copied() != requests {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    ensure!(
        rig.sim.stats().endpoint_hits.get("user_me").copied() != requests,
        "refresh did not fetch the profile"
    );
    app.wait_text("#field-email-entered", typed).await?;
    app.screenshot(&shot("signed-in-entered", lang)).await?;
    browser.close().await;
    app.close().await
}

async fn not_requested(lang: Lang) -> Result<()> {
    // This Kakao app does not configure the gender item.
    let rig = Rig::start_with("not-requested", lang, |cfg| {
        cfg.app.consent_items.retain(|c| c.id != "gender");
    })
    .await?;
    let (app, browser) = signed_in(&rig, "full@kakao.test", Consent::All).await?;
    app.wait_attr("#field-email", "data-state", "agreed")
        .await?;
    ensure!(
        app.attr("#field-gender", "data-state").await?.as_deref() == Some("not_requested"),
        "gender: {:?}",
        app.attr("#field-gender", "data-state").await?
    );
    // Folded away under "not requested by this app"; opening it shows the state.
    let summary = app.text("#fields-not-requested-summary").await?;
    ensure!(
        summary.contains(lang.pick("요청하지 않는 항목 1개", "Not requested by this app: 1")),
        "{summary}"
    );
    ensure!(app.attr("#fields-not-requested", "open").await?.is_none());
    app.click("#fields-not-requested-summary").await?;
    ensure!(app.attr("#fields-not-requested", "open").await?.is_some());
    let gender = app.text("#field-gender").await?;
    ensure!(
        gender.contains(lang.pick("요청 안 함", "Not requested")),
        "{gender}"
    );
    ensure!(
        !app.is_displayed("#field-gender-consent").await?,
        "offers to ask Kakao for an item the app does not configure"
    );
    app.client
        .execute(
            "document.getElementById('fields-not-requested').scrollIntoView()",
            vec![],
        )
        .await?;
    app.screenshot(&shot("signed-in-not-requested", lang))
        .await?;
    browser.close().await;
    app.close().await
}

// ---- consent panel -----------------------------------------------------------------------------

async fn consent_panel(lang: Lang) -> Result<()> {
    let rig = Rig::start("consents", lang).await?;
    let (app, browser) = signed_in(&rig, "full@kakao.test", Consent::All).await?;
    let member = demo_member_id("full@kakao.test");
    app.wait_attr("#field-email", "data-state", "agreed")
        .await?;
    // The consent items come with the sign-in (`/v2/user/scopes` beside `/v2/user/me`, issue
    // 19); the button reloads them.
    app.wait_visible("#consent-list").await?;
    app.wait_text("#open-consents", lang.pick("다시 불러오기", "Reload"))
        .await?;
    app.click("#open-consents").await?;
    app.wait_visible("#consent-list").await?;
    app.wait_attr("#consent-profile_nickname", "data-required", "true")
        .await?;
    ensure!(
        app.attr("#consent-profile_nickname", "data-agreed")
            .await?
            .as_deref()
            == Some("true")
    );
    ensure!(
        !app.is_displayed("#consent-profile_nickname-withdraw")
            .await?,
        "a required item offers withdraw"
    );
    let nickname = app.text("#consent-profile_nickname").await?;
    ensure!(
        nickname.contains(lang.pick("필수", "Required")),
        "{nickname}"
    );
    ensure!(
        app.attr("#consent-account_email", "data-agreed")
            .await?
            .as_deref()
            == Some("true")
    );
    ensure!(
        app.attr("#consent-account_email", "data-required")
            .await?
            .as_deref()
            == Some("false")
    );
    app.screenshot(&shot("consents", lang)).await?;

    app.click("#consent-account_email-withdraw").await?;
    let dialog = app.text("#withdraw-dialog").await?;
    ensure!(
        dialog.contains(lang.pick("철회할까요", "Withdraw consent to")),
        "{dialog}"
    );
    app.screenshot(&shot("withdraw-dialog", lang)).await?;
    ensure!(rig
        .sim
        .user_consents(member)
        .contains(&"account_email".to_owned()));
    app.click("#withdraw-confirm").await?;
    app.wait_attr("#consent-account_email", "data-agreed", "false")
        .await?;
    ensure!(
        !rig.sim
            .user_consents(member)
            .contains(&"account_email".to_owned()),
        "{:?}",
        rig.sim.user_consents(member)
    );
    app.wait_attr("#field-email", "data-state", "needs_consent")
        .await?;
    app.screenshot(&shot("consents-withdrawn", lang)).await?;
    browser.close().await;
    app.close().await
}

// ---- logout ------------------------------------------------------------------------------------

async fn logout(lang: Lang) -> Result<()> {
    let rig = Rig::start("logout", lang).await?;
    let (app, browser) = signed_in(&rig, "full@kakao.test", Consent::All).await?;
    ensure!(
        rig.keychain() == ["refresh", "session"],
        "{:?}",
        rig.keychain()
    );
    let sessions = rig.sim.browser_sessions();
    ensure!(sessions >= 1, "no browser session at Kakao after sign-in");

    // The dialog says "this device only" (S06) and offers the browser's Kakao account (S07).
    app.click("#logout").await?;
    let dialog = app.text("#logout-dialog").await?;
    ensure!(
        dialog.contains(lang.pick("이 기기에서만 로그아웃", "on this device only")),
        "{dialog}"
    );
    ensure!(
        dialog.contains(lang.pick(
            "브라우저의 카카오계정에서도 로그아웃",
            "Also log out of my Kakao account in the browser"
        )),
        "{dialog}"
    );
    app.screenshot(&shot("logout-dialog", lang)).await?;
    app.click("#logout-kakao-account").await?;
    app.click("#logout-confirm").await?;

    // Logged out here at once; then Kakao's logout page in the browser.
    let url = rig.inbox.nth(2).await?;
    ensure!(rig.is_start_url(&url), "{url}");
    ensure!(rig.keychain().is_empty(), "{:?}", rig.keychain());
    app.wait_screen("waiting").await?;
    app.wait_text(
        "#waiting-title",
        lang.pick("카카오계정 로그아웃", "Kakao account logout"),
    )
    .await?;
    ensure!(
        app.text("#waiting-redirect-uri").await? == format!("http://127.0.0.1:{}/logout", rig.port)
    );
    app.screenshot(&shot("waiting-kakao-logout", lang)).await?;
    browser.client.goto(&url).await?;
    // Kakao's choice page (REFERENCE §6): "with the Kakao account".
    browser.answer_logout_choice(true).await?;
    browser
        .wait_text(lang.pick(
            "카카오 로그아웃 페이지를 마쳤습니다",
            "Kakao's logout page is done",
        ))
        .await?;
    ensure!(
        rig.sim.browser_sessions() < sessions,
        "the browser's Kakao session is still there"
    );
    app.wait_screen("signed_out").await?;
    app.wait_text(
        "#notice",
        lang.pick(
            "브라우저에 카카오계정 로그아웃을 요청했습니다",
            "the browser was asked to log out of Kakao",
        ),
    )
    .await?;
    app.screenshot(&shot("logged-out-kakao-account", lang))
        .await?;

    // The browser really forgot the account: signing in asks for the login again. Then a plain
    // logout (this device only) opens no browser.
    // (Consents were kept, so there is no consent page after the login.)
    rig.sign_in(
        &app,
        &browser,
        "#signin",
        "full@kakao.test",
        Consent::NotAsked,
    )
    .await?;
    app.wait_screen("signed_in").await?;
    ensure!(
        rig.keychain() == ["refresh", "session"],
        "{:?}",
        rig.keychain()
    );
    let opened = rig.inbox.len();
    app.click("#logout").await?;
    app.click("#logout-confirm").await?;
    app.wait_screen("signed_out").await?;
    app.wait_text(
        "#notice",
        lang.pick(
            "다른 기기의 로그인은 그대로",
            "Other devices stay signed in",
        ),
    )
    .await?;
    ensure!(rig.keychain().is_empty(), "{:?}", rig.keychain());
    ensure!(
        rig.inbox.len() == opened,
        "a plain logout opened the browser"
    );
    app.screenshot(&shot("logged-out", lang)).await?;
    browser.close().await;
    app.close().await
}

// ---- unlink ------------------------------------------------------------------------------------

async fn unlink(lang: Lang) -> Result<()> {
    let rig = Rig::start("unlink", lang).await?;
    let (app, browser) = signed_in(&rig, "full@kakao.test", Consent::All).await?;
    let member = demo_member_id("full@kakao.test");
    ensure!(rig.sim.is_connected(member));
    app.click("#unlink").await?;
    let dialog = app.text("#unlink-dialog").await?;
    for needle in [
        lang.pick("다음이 삭제됩니다", "Disconnecting deletes"),
        lang.pick("모든 동의", "every consent"),
        lang.pick("키체인", "keychain"),
        lang.pick("직접 입력", "entered yourself"),
        lang.pick("되돌릴 수 없습니다", "cannot be undone"),
    ] {
        ensure!(dialog.contains(needle), "{needle:?} not in {dialog}");
    }
    app.screenshot(&shot("unlink-dialog", lang)).await?;
    app.click("#unlink-confirm").await?;
    app.wait_screen("signed_out").await?;
    app.wait_text(
        "#notice",
        lang.pick("앱 연결을 끊었습니다", "The app is disconnected"),
    )
    .await?;
    ensure!(!rig.sim.is_connected(member), "still connected at Kakao");
    ensure!(
        rig.sim.user_consents(member).is_empty(),
        "{:?}",
        rig.sim.user_consents(member)
    );
    ensure!(rig.keychain().is_empty(), "{:?}", rig.keychain());
    app.screenshot(&shot("unlinked", lang)).await?;
    browser.close().await;
    app.close().await
}

// ---- offline -----------------------------------------------------------------------------------

async fn offline(lang: Lang) -> Result<()> {
    let rig = Rig::start("offline", lang).await?;
    let (app, browser) = signed_in(&rig, "full@kakao.test", Consent::All).await?;
    browser.close().await;
    app.close().await?;
    ensure!(
        rig.keychain() == ["refresh", "session"],
        "{:?}",
        rig.keychain()
    );

    // Kakao cannot be reached when the app starts again.
    rig.sim.set_fault(Endpoint::UserMe, Fault::Status(503));
    let app = rig.launch().await?;
    app.wait_screen("offline").await?;
    let screen = app.text("main > [data-screen=\"offline\"]").await?;
    ensure!(
        screen.contains(lang.pick("카카오에 연결할 수 없습니다", "Can't reach Kakao")),
        "{screen}"
    );
    ensure!(
        app.text("#retry").await? == lang.pick("다시 시도", "Try again"),
        "retry button"
    );
    ensure!(
        rig.keychain() == ["refresh", "session"],
        "{:?}",
        rig.keychain()
    );
    app.screenshot(&shot("offline", lang)).await?;

    // Still offline: retrying keeps the sign-in.
    app.click("#retry").await?;
    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    app.wait_screen("offline").await?;
    rig.sim.clear_faults();
    app.click("#retry").await?;
    app.wait_screen("signed_in").await?;
    ensure!(app.text("#profile-member-id").await? == demo_member_id("full@kakao.test").to_string());
    ensure!(
        rig.keychain() == ["refresh", "session"],
        "{:?}",
        rig.keychain()
    );
    app.close().await
}

// ---- no keychain -----------------------------------------------------------------------------

/// The app on a desktop whose Secret Service has no default collection (gnome-keyring on a
/// D-Bus bus of this test's own, never given a login keyring): its own screen with what to do,
/// no way to sign in, Retry asks again; the browser is never opened.
async fn no_keychain(lang: Lang) -> Result<()> {
    let rig = Rig::start("no-keychain", lang).await?;
    let keychain = PrivateSecretService::start(KeychainState::NoDefaultCollection);
    let mut env = rig.env();
    env.extend(keychain.env());
    let app = App::launch(AppOptions { env }).await?;
    app.wait_screen("no_keychain").await?;
    let screen = app.text("main > [data-screen=\"no_keychain\"]").await?;
    ensure!(
        screen.contains(lang.pick(
            "로그인 정보를 저장할 키체인이 없습니다",
            "No keychain to keep your sign-in"
        )),
        "{screen}"
    );
    // The core's words for this keychain, and how to fix it.
    ensure!(
        screen.contains(lang.pick("기본 키링이 없어", "has no default keyring")),
        "{screen}"
    );
    ensure!(screen.contains("gnome-keyring-daemon"), "{screen}");
    ensure!(
        app.attr("#no-keychain-detail", "data-kind")
            .await?
            .as_deref()
            == Some("keychain_unavailable")
    );
    ensure!(!app.is_displayed("#error").await?, "the error twice");
    ensure!(!app.is_displayed("#signin").await?, "sign-in offered");
    ensure!(
        app.text("#retry-keychain").await? == lang.pick("다시 시도", "Try again"),
        "retry button"
    );
    app.screenshot(&shot("no-keychain", lang)).await?;

    app.click("#retry-keychain").await?;
    // The button is busy until the core answered the retry (app.js `call`).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while app.attr("#retry-keychain", "aria-busy").await?.is_some() {
        ensure!(std::time::Instant::now() < deadline, "retry never answered");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    app.wait_screen("no_keychain").await?;
    ensure!(rig.inbox.is_empty(), "a browser was opened");
    ensure!(rig.sim.stats().authorize_hits == 0, "Kakao was asked");
    app.close().await
}

// ---- errors --------------------------------------------------------------------------------------

async fn cancelled_on_consent_page(lang: Lang) -> Result<()> {
    let rig = Rig::start("cancelled", lang).await?;
    let app = rig.launch().await?;
    app.wait_screen("signed_out").await?;
    let browser = Chromium::launch().await?;
    rig.sign_in(
        &app,
        &browser,
        "#signin",
        "full@kakao.test",
        Consent::Cancel,
    )
    .await?;
    // The browser lands on the app's "you cancelled" page, never the success page.
    let page = browser
        .wait_text(lang.pick("로그인을 취소했습니다", "You cancelled sign-in"))
        .await?;
    ensure!(
        !page.contains("Sign-in complete") && !page.contains("로그인 완료"),
        "{page}"
    );
    let first = browser
        .wait_visible("main section h1")
        .await?
        .text()
        .await?;
    ensure!(
        first == lang.pick("로그인을 취소했습니다", "You cancelled sign-in"),
        "first heading {first}"
    );

    app.wait_attr("#error", "data-kind", "access_denied")
        .await?;
    let message = app.text("#error-message").await?;
    ensure!(
        message
            == lang.pick(
                "로그인 또는 동의를 취소했습니다. 아무것도 바뀌지 않았습니다.",
                "Sign-in or consent was cancelled. Nothing was changed."
            ),
        "{message}"
    );
    ensure!(!message.contains("access_denied"), "bare code: {message}");
    let fix = app.text("#error-fix").await?;
    ensure!(
        !fix.is_empty() && has_hangul(&fix) == (lang == Lang::Ko),
        "fix not in {lang:?}: {fix:?}"
    );
    app.wait_screen("signed_out").await?;
    ensure!(
        !app.is_displayed("main > [data-screen=\"signed_in\"]")
            .await?
    );
    ensure!(rig.keychain().is_empty(), "{:?}", rig.keychain());
    app.screenshot(&shot("error-access-denied", lang)).await?;

    // The error follows a language switch.
    app.click(&format!("#lang-{}", lang.other().tag())).await?;
    app.wait_text(
        "#error-message",
        lang.other().pick("취소했습니다", "was cancelled"),
    )
    .await?;
    browser.close().await;
    app.close().await
}
