//! The Tauri shell: loads the configuration, starts the session, registers the commands.
//! Everything that knows Kakao lives in `kakao-signin-core`; this crate only connects it to
//! the window.

mod commands;

use kakao_signin_core::config::Config;

pub fn run() {
    init_logging();
    let config = match Config::load() {
        Ok(c) => c,
        Err(e) => {
            // A bad value stops start-up: say which key, which value, what is expected.
            eprintln!("kakao-signin: configuration error: {e}");
            std::process::exit(2);
        }
    };
    let app = commands::AppState::new(config);
    tauri::Builder::default()
        .manage(app)
        .invoke_handler(tauri::generate_handler![commands::app_state])
        .run(tauri::generate_context!())
        .expect("error while running the Tauri application");
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
