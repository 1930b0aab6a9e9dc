//! Field conditions in the real window: Kakao's clock 4 minutes ahead of this computer's. The
//! app runs as its own process on the system clock; the simulator's clock starts 4 minutes
//! ahead of it, so Kakao's ID token is issued 4 minutes in the app's future. The app must sign
//! in all the same, keep the tokens in the real keychain, and say how far off the clock is.
//!
//! Run: `cargo build --workspace`, then under Xvfb + D-Bus + an unlocked keyring
//! `cargo test -p kakao-signin-e2e --test clock_skew`.

use anyhow::{ensure, Result};
use kakao_signin_e2e::{serial, Chromium, Consent, Lang, Rig};

const AHEAD_SECS: i64 = 4 * 60;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_with_kakaos_clock_4_minutes_ahead() -> Result<()> {
    let _one = serial().await;
    let lang = Lang::Ko;
    let rig = Rig::start_with("clock-ahead", lang, |cfg| {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("clock after 1970")
            .as_secs() as i64;
        cfg.start_unix = Some(now + AHEAD_SECS);
    })
    .await?;
    let app = rig.launch().await?;
    app.wait_screen("signed_out").await?;
    ensure!(
        !app.is_displayed("#clock-notice").await?,
        "nothing measured yet, nothing to say"
    );
    let browser = Chromium::launch().await?;
    rig.sign_in(&app, &browser, "#signin", "full@kakao.test", Consent::All)
        .await?;
    app.wait_screen("signed_in").await?;
    ensure!(
        !app.is_displayed("#error").await?,
        "an error is shown: {}",
        app.text("#error").await.unwrap_or_default()
    );
    ensure!(
        rig.keychain() == ["refresh", "session"],
        "{:?}",
        rig.keychain()
    );
    // "Your computer's clock is 4 minutes behind Kakao's", in the window's language.
    app.wait_text(
        "#clock-notice-text",
        lang.pick("카카오 서버보다 4분 느립니다", "is 4 min behind Kakao's"),
    )
    .await?;
    ensure!(
        app.attr("#clock-notice", "role").await?.as_deref() == Some("status"),
        "the notice is announced politely"
    );
    app.screenshot(&format!("clock-ahead-{}", lang.tag()))
        .await?;
    browser.close().await;
    app.close().await
}
