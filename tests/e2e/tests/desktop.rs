//! The window on a person's desktop: under a real window manager with focus-stealing prevention
//! (metacity on the suite's Xvfb), with the person busy in another application's window, the
//! app's window comes back to the front by itself after the browser step (FAQ S03) and when the
//! app is launched a second time (single instance).

use kakao_signin_e2e::desktop::{self, Front, OtherWindow, WindowManager};
use kakao_signin_e2e::{serial, Chromium, Consent, Lang, Rig};
use std::process::Command;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_the_browser_step_the_window_is_active_again_under_a_window_manager(
) -> anyhow::Result<()> {
    let _one = serial().await;
    let _wm = WindowManager::start()?;
    let rig = Rig::start("desktop-raise", Lang::En).await?;
    let app = rig.launch().await?;
    app.wait_screen("signed_out").await?;
    let window = desktop::app_window()?;

    // The person clicks "Login with Kakao" (real input: the app's newest user time).
    let n = rig.inbox.len() + 1;
    desktop::click_element(&app, "#signin").await?;
    app.wait_screen("waiting").await?;
    let url = rig.inbox.nth(n).await?;
    // The person turns to another application (the browser, here a stand-in window: headless
    // Chromium has none) and works there; the window manager now holds newer input than the
    // app's click.
    let other = OtherWindow::open_and_activate()?;
    assert_ne!(desktop::active_window(), Some(window.clone()));

    let browser = Chromium::launch().await?;
    browser.client.goto(&url).await?;
    browser.log_in("full@kakao.test", "demo1234").await?;
    browser.answer_consent(Consent::All).await?;
    app.wait_screen("signed_in").await?;

    let front = desktop::wait_in_front(&window);
    assert_eq!(
        front,
        Front::Active,
        "after the callback the window is {front:?}; the active window is {:?} (the other one is {})",
        desktop::active_window(),
        other.id
    );
    browser.close().await;
    app.close().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_launch_brings_the_first_window_to_the_front_under_a_window_manager(
) -> anyhow::Result<()> {
    let _one = serial().await;
    let _wm = WindowManager::start()?;
    let rig = Rig::start("desktop-second", Lang::Ko).await?;
    let app = rig.launch().await?;
    app.wait_screen("signed_out").await?;
    let window = desktop::app_window()?;
    // The person used the window (real input), then turned to another application.
    desktop::click_element(&app, "main > [data-screen=\"signed_out\"] h1").await?;
    let other = OtherWindow::open_and_activate()?;

    // The second launch, as from the desktop's menu: same user, same environment.
    let second = Command::new(kakao_signin_e2e::app_binary()?)
        .envs(rig.env())
        .output()?;
    assert!(
        second.status.success(),
        "the second launch failed: {}",
        String::from_utf8_lossy(&second.stderr)
    );
    let front = desktop::wait_in_front(&window);
    assert_eq!(
        front,
        Front::Active,
        "after the second launch the first window is {front:?}; the active window is {:?} (the other one is {})",
        desktop::active_window(),
        other.id
    );
    app.close().await
}
