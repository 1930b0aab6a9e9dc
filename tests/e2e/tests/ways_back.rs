//! When the browser doesn't come back (issue 15), in the real window (tauri-driver +
//! WebKitWebDriver), against the simulator over HTTP, with the tokens in the real keychain:
//! "Open again" after a browser that opened nothing, "Paste the address" after a browser that
//! could not reach 127.0.0.1, pasted addresses that must be refused, and the help for Kakao's own
//! error pages (KOE101 for a key that is not the REST API key).

use kakao_signin_e2e::{serial, App, AppOptions, Chromium, Consent, Lang, Rig};
use kakao_signin_test_support::{
    follow_to_redirect, Consent as PageAnswer, Script, PASSWORD as DEMO_PASSWORD,
};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const FULL: &str = "full@kakao.test";

async fn wait_for_file(path: &Path) -> anyhow::Result<String> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Ok(s) = std::fs::read_to_string(path) {
            if !s.trim().is_empty() {
                return Ok(s.trim().to_owned());
            }
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "{} never written",
            path.display()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn scratch(rig: &Rig, what: &str) -> PathBuf {
    let p = rig.data.with_extension(what);
    let _ = std::fs::remove_file(&p);
    p
}

/// The number of authorization codes the simulator exchanged.
fn code_exchanges(rig: &Rig) -> u64 {
    rig.sim
        .stats()
        .token_requests
        .get("authorization_code")
        .copied()
        .unwrap_or(0)
}

/// Types `address` into the waiting screen's paste field and submits it with the keyboard.
async fn paste(app: &App, address: &str) -> anyhow::Result<()> {
    let field = app.wait_visible("#paste-address").await?;
    field.clear().await?;
    field.send_keys(address).await?;
    // Enter in the field submits the form: the paste is keyboard-reachable.
    field.send_keys("\u{E007}").await?;
    Ok(())
}

/// The browser that cannot reach 127.0.0.1: follows Kakao's pages from the URL the app opened,
/// writes the final redirect to a file instead of loading it; returns that address.
async fn held_redirect(rig: &Rig, url: &str) -> anyhow::Result<String> {
    let file = scratch(rig, "location");
    let script = Script {
        login: FULL,
        consent: PageAnswer::All,
    };
    let page = follow_to_redirect(url, &script, &file).await;
    anyhow::ensure!(page.starts_with("held: "), "the browser ended on: {page}");
    let location = wait_for_file(&file).await?;
    anyhow::ensure!(
        location.starts_with(&format!("http://127.0.0.1:{}/callback?", rig.port)),
        "{location}"
    );
    Ok(location)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn open_again_after_a_browser_that_opened_nothing_completes_the_sign_in() -> anyhow::Result<()>
{
    let _one = serial().await;
    let rig = Rig::start("open-again", Lang::En).await?;
    // The first opening runs /bin/true (exits 0, shows nothing: a blank Snap window, a desktop
    // without URL handler); it notes the URL it was given first. Later openings are the real
    // browser (the URL inbox the test hands to Chromium).
    let first = scratch(&rig, "first-url");
    let browser_cmd = format!(
        "sh -c 'if [ -e \"{first}\" ]; then printf \"%s\\n\" \"$0\" >> \"{inbox}\"; \
         else printf \"%s\" \"$0\" > \"{first}\"; exec /bin/true \"$0\"; fi'",
        first = first.display(),
        inbox = rig.inbox.path.display(),
    );
    let mut env = rig.env();
    env.retain(|(k, _)| k != "KAKAO_SIGNIN_BROWSER");
    env.push(("KAKAO_SIGNIN_BROWSER".into(), browser_cmd));
    let app = App::launch(AppOptions { env }).await?;

    app.click("#signin").await?;
    app.wait_screen("waiting").await?;
    let first_url = wait_for_file(&first).await?;
    assert!(rig.inbox.is_empty(), "the first opening showed nothing");
    // The opener got the one-time start URL (issue 17); behind it, Kakao's URL of the attempt.
    // Reading it here uses it up, as the blank window never did.
    assert!(rig.is_start_url(&first_url), "{first_url}");
    let kakao_url = kakao_signin_test_support::follow_start(&first_url).await;
    assert!(kakao_url.contains("/oauth/authorize?"), "{kakao_url}");
    assert_eq!(
        app.attr("#open-again", "type").await?.as_deref(),
        Some("button")
    );
    app.screenshot("ways-back-waiting-en").await?;

    // "Copy the sign-in link": the clipboard gets Kakao's URL of this attempt, or, without a
    // clipboard, the window shows it to copy by hand.
    app.click("#copy-signin-link").await?;
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let toast = app.attr("#toast", "class").await?.unwrap_or_default();
        if toast.contains("visible") {
            let said = app.text("#toast").await?;
            assert!(said.contains("Sign-in link copied"), "{said}");
            break;
        }
        if app.is_displayed("#signin-link").await? {
            let shown = app
                .wait_visible("#signin-link")
                .await?
                .prop("value")
                .await?;
            assert_eq!(shown.as_deref(), Some(kakao_url.as_str()));
            break;
        }
        anyhow::ensure!(Instant::now() < deadline, "copying the link said nothing");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    app.screenshot("ways-back-link-en").await?;

    app.click("#open-again").await?;
    let url = rig.inbox.nth(1).await?;
    // A new one-time start URL, and behind it the same attempt: same state, PKCE challenge and
    // nonce.
    assert!(rig.is_start_url(&url) && url != first_url, "{url}");
    let browser = Chromium::launch().await?;
    browser.client.goto(&url).await?;
    assert_eq!(browser.client.current_url().await?.as_str(), kakao_url);
    browser.log_in(FULL, DEMO_PASSWORD).await?;
    browser.answer_consent(Consent::All).await?;
    app.wait_screen("signed_in").await?;
    assert_eq!(rig.keychain().len(), 2, "{:?}", rig.keychain());
    assert_eq!(code_exchanges(&rig), 1);
    browser.close().await;
    app.close().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paste_after_a_browser_that_could_not_reach_the_app_completes_the_sign_in(
) -> anyhow::Result<()> {
    let _one = serial().await;
    let rig = Rig::start("paste", Lang::En).await?;
    let app = rig.launch().await?;
    app.click("#signin").await?;
    app.wait_screen("waiting").await?;
    let url = rig.inbox.nth(1).await?;
    let location = held_redirect(&rig, &url).await?;
    assert_eq!(code_exchanges(&rig), 0);
    assert!(rig.keychain().is_empty());

    // As some address bars copy it: without the scheme.
    paste(&app, location.trim_start_matches("http://")).await?;
    app.wait_screen("signed_in").await?;
    assert_eq!(rig.keychain().len(), 2, "{:?}", rig.keychain());
    assert_eq!(code_exchanges(&rig), 1);
    app.close().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_state_and_an_address_the_listener_already_took_are_refused() -> anyhow::Result<()> {
    let _one = serial().await;
    let rig = Rig::start("paste-refused", Lang::Ko).await?;
    let app = rig.launch().await?;
    app.click("#signin").await?;
    app.wait_screen("waiting").await?;
    let url = rig.inbox.nth(1).await?;
    let location = held_redirect(&rig, &url).await?;

    // A wrong state: refused in the window's words, still waiting, nothing exchanged.
    paste(&app, &location.replace("state=", "state=x")).await?;
    app.wait_attr("#error", "data-kind", "pasted_wrong_state")
        .await?;
    let said = app.text("#error-message").await?;
    assert!(said.contains("다른(또는 이전) 로그인"), "{said}");
    assert!(app.is_displayed("main > [data-screen=\"waiting\"]").await?);
    let kept = app
        .wait_visible("#paste-address")
        .await?
        .prop("value")
        .await?;
    assert_eq!(
        kept.map(|v| v.len()),
        Some(location.len() + 1),
        "the refused address stays in the field to be corrected"
    );
    app.screenshot("ways-back-paste-refused-ko").await?;
    assert_eq!(code_exchanges(&rig), 0);

    // The browser reaches the listener after all: it completes the attempt.
    let browser = Chromium::launch().await?;
    browser.client.goto(&location).await?;
    app.wait_screen("signed_in").await?;
    assert_eq!(rig.keychain().len(), 2);
    assert_eq!(code_exchanges(&rig), 1);

    // Log out (the keychain empties), sign in again, and paste the address the listener
    // already took: refused, the new attempt keeps waiting, nothing is exchanged or stored.
    app.click("#logout").await?;
    app.click("#logout-confirm").await?;
    app.wait_screen("signed_out").await?;
    assert!(rig.keychain().is_empty());
    app.click("#signin").await?;
    app.wait_screen("waiting").await?;
    rig.inbox.nth(2).await?;
    paste(&app, &location).await?;
    app.wait_attr("#error", "data-kind", "pasted_wrong_state")
        .await?;
    assert!(app.is_displayed("main > [data-screen=\"waiting\"]").await?);
    assert!(rig.keychain().is_empty(), "{:?}", rig.keychain());
    assert_eq!(code_exchanges(&rig), 1);
    app.click("#cancel-signin").await?;
    browser.close().await;
    app.close().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_that_is_not_the_rest_api_key_shows_koe101_and_the_help_names_the_rest_api_key(
) -> anyhow::Result<()> {
    let _one = serial().await;
    for lang in [Lang::Ko, Lang::En] {
        let rig = Rig::start("koe101", lang).await?;
        let mut env = rig.env();
        env.retain(|(k, _)| k != "KAKAO_SIGNIN_CLIENT_ID");
        // The app's JavaScript key, not its REST API key.
        env.push((
            "KAKAO_SIGNIN_CLIENT_ID".into(),
            "sandbox-javascript-key".into(),
        ));
        let app = App::launch(AppOptions { env }).await?;
        app.click("#signin").await?;
        app.wait_screen("waiting").await?;
        let url = rig.inbox.nth(1).await?;
        let browser = Chromium::launch().await?;
        browser.client.goto(&url).await?;
        // Kakao's (the simulator's) own error page; it never redirects back.
        browser.wait_text("KOE101").await?;

        app.click("#koe-help-summary").await?;
        app.click("#koe-KOE101").await?;
        app.wait_attr("#koe-KOE101", "aria-pressed", "true").await?;
        let fix = app
            .wait_text("#koe-answer-fix", lang.pick("REST API 키", "REST API key"))
            .await?;
        assert!(fix.contains("JavaScript"), "{fix}");
        let cause = app.text("#koe-answer-cause").await?;
        assert!(
            cause.contains(lang.pick("REST API 키", "REST API key")),
            "{cause}"
        );
        app.screenshot(&format!("ways-back-koe101-{}", lang.tag()))
            .await?;
        // The others answer too, each with its own cause.
        app.click("#koe-KOE004").await?;
        app.wait_text("#koe-answer-code", "KOE004").await?;
        assert_ne!(app.text("#koe-answer-cause").await?, cause);
        app.click("#cancel-signin").await?;
        browser.close().await;
        app.close().await?;
    }
    Ok(())
}
