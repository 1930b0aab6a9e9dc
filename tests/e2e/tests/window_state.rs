//! The window remembers its size and place across runs (Tauri's window-state plugin), under a
//! real window manager on the suite's Xvfb screen, and never comes back off screen.

use kakao_signin_e2e::desktop::{self, WindowManager};
use kakao_signin_e2e::{serial, App, AppOptions, Lang, Rig};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The app's environment with its own config directory, where the plugin keeps the state.
fn env_with_config(rig: &Rig, config: &Path) -> Vec<(String, String)> {
    let mut env = rig.env();
    env.push(("XDG_CONFIG_HOME".into(), config.display().to_string()));
    env
}

fn state_file(config: &Path) -> PathBuf {
    config.join("io.github.kakaosignin.desktop/.window-state.json")
}

fn temp_config(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "kakao-signin-e2e-config-{tag}-{}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn size_and_place_are_restored_at_the_next_start() -> anyhow::Result<()> {
    let _one = serial().await;
    let _wm = WindowManager::start()?;
    let rig = Rig::start("window-state", Lang::En).await?;
    let config = temp_config("restore");
    let env = env_with_config(&rig, &config);

    let app = App::launch(AppOptions { env: env.clone() }).await?;
    app.wait_screen("signed_out").await?;
    let window = desktop::app_window()?;
    let before = desktop::geometry(&window)?;
    // The person moves and resizes the window (through the window manager, as by dragging).
    desktop::output("xdotool", &["windowsize", &window, "600", "700"])?;
    desktop::output("xdotool", &["windowmove", &window, "300", "120"])?;
    let mut moved = before;
    desktop::wait_until(Duration::from_secs(5), || {
        moved = desktop::geometry(&window).unwrap_or(before);
        moved.2 == 600 && moved.3 == 700 && moved.0 != before.0
    })
    .map_err(|e| anyhow::anyhow!("the window did not move and resize ({e}); it is {moved:?}"))?;
    // Closed as a person closes it (the title bar's close button: _NET_CLOSE_WINDOW).
    desktop::output("wmctrl", &["-i", "-c", &window])?;
    let file = state_file(&config);
    desktop::wait_until(Duration::from_secs(10), || file.exists())
        .map_err(|e| anyhow::anyhow!("no {} after closing ({e})", file.display()))?;
    drop(app);

    let app = App::launch(AppOptions { env }).await?;
    app.wait_screen("signed_out").await?;
    let window = desktop::app_window()?;
    let mut restored = (0, 0, 0, 0);
    desktop::wait_until(Duration::from_secs(5), || {
        restored = desktop::geometry(&window).unwrap_or(restored);
        restored == moved
    })
    .map_err(|e| {
        anyhow::anyhow!(
            "the window came back at {restored:?}, not {moved:?} ({e}); it started at {before:?}"
        )
    })?;
    app.close().await?;
    let _ = std::fs::remove_dir_all(&config);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_saved_place_off_screen_is_brought_onto_the_screen() -> anyhow::Result<()> {
    let _one = serial().await;
    let rig = Rig::start("window-offscreen", Lang::Ko).await?;
    let screen = desktop::screen_size()?;
    // Half off the bottom-right corner (a monitor since unplugged, a smaller screen), then
    // entirely off it.
    for (x, y) in [(1100, 900), (5000, 4000)] {
        let config = temp_config("offscreen");
        let file = state_file(&config);
        std::fs::create_dir_all(file.parent().expect("has a parent"))?;
        std::fs::write(
            &file,
            format!(
                r#"{{"main":{{"width":520,"height":760,"x":{x},"y":{y},"prev_x":{x},"prev_y":{y},"maximized":false,"visible":true,"decorated":true,"fullscreen":false}}}}"#
            ),
        )?;
        let app = App::launch(AppOptions {
            env: env_with_config(&rig, &config),
        })
        .await?;
        app.wait_screen("signed_out").await?;
        let window = desktop::app_window()?;
        let (wx, wy, ww, wh) = desktop::geometry(&window)?;
        assert!(
            wx >= 0 && wy >= 0 && wx + ww as i32 <= screen.0 && wy + wh as i32 <= screen.1,
            "saved at {x},{y}: the window is at {wx},{wy} ({ww}x{wh}), not all on the {}x{} screen",
            screen.0,
            screen.1
        );
        app.close().await?;
        let _ = std::fs::remove_dir_all(&config);
    }
    Ok(())
}
