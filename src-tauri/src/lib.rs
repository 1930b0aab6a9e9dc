//! The Tauri shell: loads the configuration, builds the session from real parts, registers the
//! commands and forwards the session's events to the window. Everything that knows Kakao lives
//! in `kakao-signin-core`.

mod commands;
mod feed;
mod logging;
mod webview;

use kakao_signin_core::clock::SystemClock;
use kakao_signin_core::config::Config;
use kakao_signin_core::kakao::{Endpoints, KakaoClient, ReqwestHttp};
use kakao_signin_core::localdata::LocalData;
use kakao_signin_core::session::view::Status;
use kakao_signin_core::session::{Deps, Event, Session};
use kakao_signin_core::signin;
use kakao_signin_core::text::Lang;
use kakao_signin_core::vault::Vault;
use std::sync::{Arc, OnceLock};
use tauri::Manager;

/// The simulator's demo app key, used only in the sandbox.
#[cfg(feature = "sandbox")]
const SANDBOX_CLIENT_ID: &str = "sandbox-rest-api-key";

/// The app's identifier (tauri.conf.json), which also names its single-instance directory.
const APP_ID: &str = "io.github.kakaosignin.desktop";

pub fn run() {
    // First, while this is the only thread: it sets an environment variable.
    // A browser this app starts must not inherit it.
    let own_env: &[&str] = if webview::paint_without_compositing() {
        &[webview::COMPOSITING_ENV]
    } else {
        &[]
    };
    let log_file = init_logging();
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
    let browser: Arc<dyn signin::BrowserOpener> =
        match signin::browser_from_value(config.browser.as_deref(), own_env) {
            Ok(b) => Arc::from(b),
            Err(e) => {
                eprintln!("kakao-signin: configuration error: KAKAO_SIGNIN_BROWSER: {e}");
                std::process::exit(2);
            }
        };
    let http = Arc::new(ReqwestHttp::with_default_timeouts());
    let clock = Arc::new(SystemClock);
    let kakao = match &config.client_id {
        Some(id) => {
            let endpoints = match Endpoints::new(config.auth_url.as_str(), config.api_url.as_str())
            {
                Ok(e) => e,
                Err(e) => {
                    eprintln!("kakao-signin: configuration error: {e}");
                    std::process::exit(2);
                }
            };
            Some(Arc::new(KakaoClient::new(
                http.clone(),
                endpoints,
                id.clone(),
                config.client_secret.clone(),
                clock.clone(),
            )))
        }
        None => None,
    };
    let diagnostics = vec![
        (
            "config file",
            config
                .config_file
                .as_ref()
                .map(|p| p.display().to_string())
                .unwrap_or_else(|| "none".into()),
        ),
        ("keyring service", config.keyring_service.clone()),
        (
            "log file",
            log_file
                .as_ref()
                .map(|p| p.display().to_string())
                .unwrap_or_else(|| "none".into()),
        ),
        (
            "browser",
            if config.browser.is_some() {
                "KAKAO_SIGNIN_BROWSER"
            } else {
                "system"
            }
            .into(),
        ),
    ];
    let deps = Deps {
        kakao,
        vault: Vault::keyring(config.keyring_service.clone()),
        browser,
        clock,
        local: LocalData::new(&config.data_dir),
        http,
        redirect_ports: config.redirect_ports.clone(),
        signin_timeout: signin::DEFAULT_TIMEOUT,
        sandbox,
        lang: os_language(),
        version: env!("CARGO_PKG_VERSION").to_owned(),
    };

    // The window follows changes through `next_view` (feed.rs); bringing it to the front goes
    // through the app handle, which exists only once Tauri has started.
    let handle: Arc<OnceLock<tauri::AppHandle>> = Arc::new(OnceLock::new());
    let notify_handle = handle.clone();
    let feed = Arc::new(feed::Feed::new());
    let notify_feed = feed.clone();
    let session = Session::new(
        deps,
        Arc::new(move |event| match event {
            Event::Changed(_) => notify_feed.changed(),
            Event::BringToFront => {
                if let Some(app) = notify_handle.get() {
                    bring_to_front(app);
                }
            }
        }),
    );

    let builder = tauri::Builder::default();
    // Windows has no Unix socket to knock on; the plugin does it there with a named mutex
    // (registered first, as it asks).
    #[cfg(windows)]
    let builder = builder.plugin(tauri_plugin_single_instance::init(|app, _argv, _cwd| {
        tracing::info!("a second launch was folded into this window");
        bring_to_front(app);
    }));
    #[cfg(unix)]
    if let Some(first) = first {
        let handle = handle.clone();
        first.serve(move || {
            tracing::info!("a second launch was folded into this window");
            if let Some(app) = handle.get() {
                bring_to_front(app);
            }
        });
    }
    builder
        .on_page_load(|webview, payload| {
            if payload.event() == tauri::webview::PageLoadEvent::Finished {
                show_once(&webview.window());
                bench_mark("first-paint");
            }
        })
        .manage(commands::AppState {
            session: session.clone(),
            feed,
            diagnostics,
        })
        .invoke_handler(tauri::generate_handler![
            commands::app_state,
            commands::next_view,
            commands::sign_in,
            commands::cancel_sign_in,
            commands::request_consent,
            commands::refresh_profile,
            commands::load_consents,
            commands::withdraw_consent,
            commands::logout,
            commands::unlink,
            commands::set_entered_value,
            commands::set_language,
            commands::retry,
            commands::dismiss_error,
            commands::diagnostics,
        ])
        .setup(move |app| {
            let _ = handle.set(app.handle().clone());
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
            tauri::async_runtime::spawn(async move {
                session.restore().await;
            });
            Ok(())
        })
        .run(tauri::generate_context!())
        .expect("error while running the Tauri application");
}

/// Claims the single-instance lock; exits if another instance has it. `None` when the lock can't
/// be taken at all (no private runtime dir): the app then runs without the guard.
#[cfg(unix)]
fn single_instance() -> Option<kakao_signin_core::instance::First> {
    use kakao_signin_core::instance::{claim, default_dir, Claim};
    let dir = default_dir(APP_ID);
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

/// S03: after the browser comes back, the window comes to the front by itself.
fn bring_to_front(app: &tauri::AppHandle) {
    if let Some(w) = app.get_webview_window("main") {
        let _ = w.unminimize();
        let _ = w.show();
        let _ = w.set_focus();
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

/// The OS locale decides the first language; the window can switch.
fn os_language() -> Lang {
    ["LC_ALL", "LC_MESSAGES", "LANG"]
        .iter()
        .filter_map(|k| std::env::var(k).ok())
        .find(|v| !v.is_empty())
        .map(|v| Lang::from_locale(&v))
        .unwrap_or(Lang::En)
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

/// Logs go to stderr and to a rotating file (logging.rs); the filter comes from
/// `KAKAO_SIGNIN_LOG`. Returns the file's path, `None` when there is no file. Nothing in the app
/// logs a token, code or verifier at any level.
fn init_logging() -> Option<std::path::PathBuf> {
    logging::init()
}
