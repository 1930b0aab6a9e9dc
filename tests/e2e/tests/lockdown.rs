//! Tauri lockdown in the running window: one instance only (a second launch hands over to the
//! first and exits without a listener, a keychain read or a Kakao call), commands outside the
//! capability are refused, and the prototypes are frozen. The config side is checked by
//! `src-tauri/tests/lockdown.rs`.

use kakao_signin_e2e::{
    app_binary, pid_alive, serial, App, AppOptions, Chromium, Consent, Lang, Rig,
};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_launch_exits_and_the_first_window_keeps_working() -> anyhow::Result<()> {
    let _one = serial().await;
    let rig = Rig::start("lockdown-single", Lang::En).await?;
    let log = std::env::temp_dir().join(format!("ks-lockdown-{}.log", std::process::id()));
    let _ = std::fs::remove_file(&log);
    let app = App::launch_logged(AppOptions { env: rig.env() }, &log).await?;
    app.wait_visible("#signin").await?;
    let first = app.app_pids();
    assert_eq!(first.len(), 1, "one app process in the window's group");
    // The first window starts a sign-in: its listener holds the redirect port.
    app.click("#signin").await?;
    let url = rig.inbox.nth(1).await?;
    assert!(
        std::net::TcpListener::bind(("127.0.0.1", rig.port)).is_err(),
        "the first instance listens on the redirect port"
    );
    // The first instance fetches Kakao's keys while the person is at Kakao's pages (issue 19):
    // counted before the second instance starts, so only the second's requests would add.
    let deadline = Instant::now() + Duration::from_secs(10);
    while !rig
        .sim
        .request_log()
        .iter()
        .any(|r| r.path == "/.well-known/jwks.json")
    {
        anyhow::ensure!(
            Instant::now() < deadline,
            "the first instance never fetched the JWKS"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let sim_requests = rig.sim.request_log().len();

    // The same binary, same environment, started by hand.
    let started = Instant::now();
    let mut second = Command::new(app_binary()?)
        .envs(rig.env())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()?;
    let status = loop {
        if let Some(s) = second.try_wait()? {
            break s;
        }
        if started.elapsed() > Duration::from_secs(20) {
            second.kill()?;
            anyhow::bail!("the second instance was still running after 20 s");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let took = started.elapsed();
    let mut err = String::new();
    std::io::Read::read_to_string(second.stderr.as_mut().unwrap(), &mut err)?;
    println!(
        "second launch exited with {status} after {} ms",
        took.as_millis()
    );
    assert_eq!(
        status.code(),
        Some(0),
        "second instance: {status}; stderr: {err}"
    );
    assert!(took < Duration::from_secs(15), "took {took:?}");
    // It did nothing of its own: no browser, no Kakao request (no restore, no refresh), and
    // the first instance is still the only one, still alive.
    assert_eq!(rig.inbox.len(), 1, "the second instance opened a browser");
    assert_eq!(
        rig.sim.request_log().len(),
        sim_requests,
        "the second instance talked to Kakao"
    );
    assert!(
        first.iter().all(|p| pid_alive(*p)),
        "the first instance died"
    );
    assert_eq!(app.app_pids(), first);
    // The first instance heard the second launch (and brought its window to the front).
    let deadline = Instant::now() + Duration::from_secs(10);
    while !std::fs::read_to_string(&log)?.contains("a second launch was folded into this window") {
        assert!(
            Instant::now() < deadline,
            "the first instance never heard the second launch; log:\n{}",
            std::fs::read_to_string(&log)?
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // The first window and its listener still work: finish the sign-in it started.
    let browser = Chromium::launch().await?;
    browser.client.goto(&url).await?;
    browser.log_in("full@kakao.test", "demo1234").await?;
    browser.answer_consent(Consent::All).await?;
    app.wait_visible("#profile-member-id").await?;
    assert_eq!(rig.keychain(), vec!["refresh", "session"]);
    assert_eq!(
        rig.sim.stats().token_requests.get("authorization_code"),
        Some(&1)
    );
    browser.close().await;
    app.close().await?;
    let _ = std::fs::remove_file(&log);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_window_may_call_only_the_apps_commands_and_its_prototypes_are_frozen(
) -> anyhow::Result<()> {
    let _one = serial().await;
    let rig = Rig::start("lockdown-acl", Lang::En).await?;
    let app = rig.launch().await?;
    app.wait_visible("#signin").await?;
    let results = app
        .client
        .execute_async(
            r#"
            const done = arguments[arguments.length - 1];
            const invoke = window.__TAURI__.core.invoke;
            const attempt = async (cmd, args) => {
              try { await invoke(cmd, args || {}); return "resolved"; }
              catch (e) { return "rejected: " + String(e && e.message || e); }
            };
            (async () => {
              const r = {};
              r.app_version = await attempt("plugin:app|version");
              r.window_close = await attempt("plugin:window|close", { label: "main" });
              r.webview_print = await attempt("plugin:webview|print", { label: "main" });
              r.event_emit = await attempt("plugin:event|emit", { event: "session-changed", payload: {} });
              r.shell_open = await attempt("plugin:shell|open", { path: "https://example.com" });
              // Registered (the window's size and place) but not granted to the window.
              r.window_state_save = await attempt("plugin:window-state|save_window_state", { flags: 31 });
              r.unknown = await attempt("read_tokens");
              r.own = await attempt("app_state");
              r.object_frozen = Object.isFrozen(Object.prototype);
              try { Object.prototype.polluted = 1; } catch (e) {}
              r.polluted = ({}).polluted === 1;
              done(r);
            })();
            "#,
            vec![],
        )
        .await?;
    println!("{results:#}");
    for cmd in [
        "app_version",
        "window_close",
        "webview_print",
        "event_emit",
        "shell_open",
        "window_state_save",
        "unknown",
    ] {
        let r = results[cmd].as_str().unwrap_or("");
        assert!(r.starts_with("rejected"), "{cmd} was not refused: {r}");
    }
    assert_eq!(results["own"], "resolved", "the app's own command works");
    assert_eq!(results["object_frozen"], true, "freezePrototype");
    assert_eq!(results["polluted"], false, "prototype pollution took");
    // The window is still there (close was refused) and still answers.
    app.wait_visible("#signin").await?;
    app.close().await
}
