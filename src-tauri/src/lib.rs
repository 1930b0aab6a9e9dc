//! The Tauri shell: loads the configuration, builds the session from real parts, registers the
//! commands and forwards the session's events to the window. Everything that knows Kakao lives
//! in `kakao-signin-core`.

// Outside text (Kakao's answers, the config file, a proxy's pages) is never sliced by byte
// index: a cut inside a character panics. `get`, `chars` or `split_once` instead.
#![cfg_attr(not(test), warn(clippy::string_slice))]

#[macro_use]
mod command_list;
mod commands;
mod feed;
mod logging;
mod raise;
mod webview;
mod window_state;

use kakao_signin_core::config::Config;
use kakao_signin_core::session::view::Status;
use kakao_signin_core::session::{AppInfo, Deps, Event, Lang, Session};
use std::sync::{Arc, OnceLock};
use tauri::Manager;

/// The simulator's demo app key, used only in the sandbox.
#[cfg(feature = "sandbox")]
const SANDBOX_CLIENT_ID: &str = "sandbox-rest-api-key";

/// The app's identifier (tauri.conf.json), which also names its single-instance directory.
const APP_ID: &str = "io.github.kakaosignin.desktop";

/// The invoke handler for every command of `command_list.rs`.
macro_rules! command_handler {
    ($($command:ident),* $(,)?) => {
        tauri::generate_handler![$(commands::$command),*]
    };
}

/// Starts the app: configuration, the session built from it, the window. Exits with status 2
/// (and a message naming the key) on a bad configuration.
pub fn run() {
    // Before any secret exists: no core file can hold one (Linux; issue 17 item 8).
    let hardened = kakao_signin_core::hardening::no_core_dumps();
    // First, while this is the only thread: it sets an environment variable.
    // A browser this app starts must not inherit it.
    let app_only_env = if webview::paint_without_compositing() {
        vec![webview::COMPOSITING_ENV]
    } else {
        Vec::new()
    };
    // Logs go to stderr and to a rotating file (logging.rs); nothing logs a token at any level.
    let log_file = logging::init();
    if let Err(e) = hardened {
        tracing::warn!("could not switch core dumps off: {e}");
    }
    // Before anything else: a second launch only raises the first window and leaves.
    #[cfg(unix)]
    let first = single_instance();
    let mut config = match Config::load() {
        Ok(c) => c,
        Err(e) => {
            // A bad value stops start-up: say which key, which value, what is expected.
            eprintln!("kakao-signin: configuration error: {e}");
            std::process::exit(2);
        }
    };
    let sandbox = start_sandbox_if_unconfigured(&mut config);
    let app = AppInfo {
        version: env!("CARGO_PKG_VERSION").to_owned(),
        lang: Lang::from_os_env(),
        sandbox,
        app_only_env,
    };
    let mut deps = match Deps::from_config(&config, app) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("kakao-signin: configuration error: {e}");
            std::process::exit(2);
        }
    };
    // What an older version wrote with default modes becomes the person's alone (0700/0600).
    if let Err(e) = deps.local.tighten() {
        tracing::warn!("typed-in values: {e}");
    }
    let log_file = log_file.map(|p| p.display().to_string());
    deps.diagnostics
        .push(("log file", log_file.unwrap_or_else(|| "none".into())));

    // The window follows changes through `next_view` (feed.rs); bringing it to the front goes
    // through the app handle, which exists only once Tauri has started.
    let handle: Arc<OnceLock<tauri::AppHandle>> = Arc::new(OnceLock::new());
    let notify_handle = handle.clone();
    let feed = Arc::new(feed::Feed::new());
    let notify_feed = feed.clone();
    let session = Session::new(
        deps,
        Arc::new(move |event| match event {
            Event::Changed(view) => {
                // `cargo xtask bench`: the core has the profile to show (the page paints it
                // after its next `next_view` answer: `profile-painted`).
                if shows_profile(&view) {
                    bench_mark("profile-ready");
                }
                notify_feed.changed()
            }
            Event::BringToFront => {
                if let Some(app) = notify_handle.get() {
                    raise::bring_to_front(app);
                }
            }
        }),
    );

    #[cfg(unix)]
    if first.is_none() {
        session
            .set_standing_notice(kakao_signin_core::messages::session::no_single_instance_guard());
    }

    let builder = tauri::Builder::default();
    // Windows has no Unix socket to knock on; the plugin does it there with a named mutex
    // (registered first, as it asks).
    #[cfg(windows)]
    let builder = builder.plugin(tauri_plugin_single_instance::init(|app, _argv, _cwd| {
        tracing::info!("a second launch was folded into this window");
        raise::bring_to_front(app);
    }));
    #[cfg(unix)]
    if let Some(first) = first {
        let handle = handle.clone();
        first.serve(move || {
            tracing::info!("a second launch was folded into this window");
            if let Some(app) = handle.get() {
                raise::bring_to_front(app);
            }
        });
    }
    builder
        .plugin(window_state::plugin())
        .on_page_load(|webview, payload| {
            if payload.event() == tauri::webview::PageLoadEvent::Finished {
                show_once(&webview.window());
                bench_mark("first-paint");
            }
        })
        .manage(commands::AppState {
            session: session.clone(),
            feed,
        })
        .invoke_handler(app_commands!(command_handler))
        .setup(move |app| {
            let _ = handle.set(app.handle().clone());
            // The window-state plugin has restored the saved size and place by now.
            if let Some(w) = app.get_webview_window("main") {
                window_state::keep_on_screen(&w);
            }
            // The window waits hidden for its page (tauri.conf.json), but never longer than this,
            // so a page that fails to load still shows the window and its error.
            let fallback = app.handle().clone();
            std::thread::Builder::new()
                .name("show-window-fallback".into())
                .spawn(move || {
                    std::thread::sleep(std::time::Duration::from_secs(3));
                    if let Some(w) = fallback.get_webview_window("main") {
                        show_once(&w.as_ref().window());
                    }
                })?;
            // Restore off the UI thread; the window shows "restoring" meanwhile (S04).
            let session = session.clone();
            // A panic in it (text from Kakao some code could not handle) ends the restore with
            // an error the window shows; the app stays up, so it is not killed at every start.
            tauri::async_runtime::spawn(async move {
                use futures::FutureExt;
                let restore = std::panic::AssertUnwindSafe(session.restore());
                if restore.catch_unwind().await.is_err() {
                    session.failed_inside("restore");
                }
            });
            Ok(())
        })
        .run(tauri::generate_context!())
        .expect("error while running the Tauri application");
}

/// Claims the single-instance lock; exits if another instance has it. `None` when the lock can't
/// be taken at all (no private directory for it): the app then runs without the guard, and
/// the window says so.
#[cfg(unix)]
fn single_instance() -> Option<kakao_signin_core::instance::First> {
    use kakao_signin_core::instance::{claim, default_dir, Claim};
    let Some(dir) = default_dir(APP_ID) else {
        tracing::warn!(
            "single instance: no runtime or home directory; running without the one-window guard"
        );
        return None;
    };
    match claim(&dir) {
        Ok(Claim::First(first)) => Some(first),
        Ok(Claim::Running { heard: true }) => {
            eprintln!("kakao-signin: already running; its window was brought to the front");
            std::process::exit(0);
        }
        Ok(Claim::Running { heard: false }) => {
            eprintln!(
                "kakao-signin: already running, but that window did not answer; close it (or end \
                 the kakao-signin process) and start again"
            );
            std::process::exit(1);
        }
        Err(e) => {
            tracing::warn!("single instance: {e}; running without the one-window guard");
            None
        }
    }
}

/// Shows the main window the first time its page has loaded (or the fallback fires), and never
/// again: later loads must not undo a minimise.
///
/// The window starts hidden because, without GPU compositing (webview.rs), WebKitGTK's first
/// paint of a visible window can block the UI thread for up to 500 ms waiting on a web process
/// that is still loading: measured under Xvfb, 4 starts in 10 took ~800 ms to first paint instead
/// of ~300 ms. Hidden until loaded, it is shown once, with its page.
fn show_once(window: &tauri::Window) {
    static SHOWN: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    if window.label() == "main" && !SHOWN.swap(true, std::sync::atomic::Ordering::SeqCst) {
        let _ = window.show();
    }
}

/// The signed-in view with the profile: what `bench-mark profile-shown` waits for.
pub(crate) fn shows_profile(view: &kakao_signin_core::session::view::SessionView) -> bool {
    view.status == Status::SignedIn && view.profile.is_some()
}

/// `cargo xtask bench`: with `KAKAO_SIGNIN_BENCH_MARKS=1`, prints `bench-mark <what>` to stderr
/// the first time each mark is reached (same hook as `tests/blank-app`). Off otherwise.
pub(crate) fn bench_mark(what: &'static str) {
    static SEEN: std::sync::Mutex<Vec<&str>> = std::sync::Mutex::new(Vec::new());
    if std::env::var_os("KAKAO_SIGNIN_BENCH_MARKS").is_some_and(|v| v == "1") {
        let mut seen = SEEN.lock().unwrap_or_else(|e| e.into_inner());
        if !seen.contains(&what) {
            seen.push(what);
            eprintln!("bench-mark {what}");
        }
    }
}

/// With the `sandbox` feature and no REST API key: start the offline simulator on loopback and
/// point the app at it. Returns whether the sandbox is on.
#[cfg(feature = "sandbox")]
fn start_sandbox_if_unconfigured(config: &mut Config) -> bool {
    if config.client_id.is_some() {
        return false;
    }
    let sim = tauri::async_runtime::block_on(kakao_sim::Sim::start(kakao_sim::SimConfig::demo()));
    let sim = match sim {
        Ok(s) => s,
        Err(e) => {
            eprintln!("kakao-signin: could not start the sandbox simulator: {e}");
            std::process::exit(1);
        }
    };
    let base = sim.base_url();
    tracing::info!(%base, "sandbox: using the offline Kakao simulator, not Kakao");
    config.client_id = Some(SANDBOX_CLIENT_ID.to_owned());
    config.client_secret = None;
    config.auth_url = base.parse().expect("simulator URL");
    config.api_url = base.parse().expect("simulator URL");
    // The simulator lives as long as the app.
    static SIM: OnceLock<kakao_sim::Sim> = OnceLock::new();
    let _ = SIM.set(sim);
    true
}

#[cfg(not(feature = "sandbox"))]
fn start_sandbox_if_unconfigured(_config: &mut Config) -> bool {
    false
}
