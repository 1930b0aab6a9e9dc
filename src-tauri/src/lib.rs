//! The Tauri shell: loads the configuration, builds the session from real parts, registers the
//! commands and forwards the session's events to the window. Everything that knows Kakao lives
//! in `kakao-signin-core`.

mod commands;
mod feed;
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

pub fn run() {
    init_logging();
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
        match signin::browser_from_value(config.browser.as_deref()) {
            Ok(b) => Arc::from(b),
            Err(e) => {
                eprintln!("kakao-signin: configuration error: KAKAO_SIGNIN_BROWSER: {e}");
                std::process::exit(2);
            }
        };
    let http = match ReqwestHttp::with_default_timeouts() {
        Ok(h) => Arc::new(h),
        Err(e) => {
            eprintln!("kakao-signin: could not start the HTTP client: {e}");
            std::process::exit(1);
        }
    };
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
            Event::Changed(view) => {
                if view.status == Status::SignedIn && view.profile.is_some() {
                    bench_mark("profile-shown");
                }
                notify_feed.changed();
            }
            Event::BringToFront => {
                if let Some(app) = notify_handle.get() {
                    bring_to_front(app);
                }
            }
        }),
    );

    tauri::Builder::default()
        // First, as the plugin asks: a second launch hands its arguments to this process (over
        // D-Bus on Linux), which brings its window to the front; the second process exits
        // before it builds a session, a listener or a refresh of its own.
        .plugin(tauri_plugin_single_instance::init(|app, _argv, _cwd| {
            tracing::info!("a second launch was folded into this window");
            bring_to_front(app);
        }))
        .on_page_load(|_, payload| {
            if payload.event() == tauri::webview::PageLoadEvent::Finished {
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
            webview::tune(app.handle());
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

/// S03: after the browser comes back, the window comes to the front by itself.
fn bring_to_front(app: &tauri::AppHandle) {
    if let Some(w) = app.get_webview_window("main") {
        let _ = w.unminimize();
        let _ = w.show();
        let _ = w.set_focus();
    }
}

/// `cargo xtask bench`: with `KAKAO_SIGNIN_BENCH_MARKS=1`, prints `bench-mark <what>` to stderr
/// the first time each mark is reached (same hook as `tests/blank-app`). Off otherwise.
fn bench_mark(what: &'static str) {
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

/// Logs go to stderr; the level comes from `KAKAO_SIGNIN_LOG` (default `info`). Nothing in the
/// app logs a token, code or verifier at any level.
fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("KAKAO_SIGNIN_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}
