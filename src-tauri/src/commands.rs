//! Thin Tauri commands: check arguments, call the core, return view models. No command returns
//! or receives a token, code, verifier or callback URL.

use kakao_signin_core::config::Config;
use serde::Serialize;

pub struct AppState {
    config: Config,
}

impl AppState {
    pub fn new(config: Config) -> Self {
        AppState { config }
    }
}

#[derive(Debug, Serialize)]
pub struct AppView {
    pub screen: &'static str,
    pub version: &'static str,
    pub configured: bool,
    pub redirect_uris: Vec<String>,
}

#[tauri::command]
pub fn app_state(state: tauri::State<'_, AppState>) -> AppView {
    AppView {
        screen: "signed_out",
        version: env!("CARGO_PKG_VERSION"),
        configured: state.config.client_id.is_some(),
        redirect_uris: state
            .config
            .redirect_ports
            .iter()
            .map(|p| format!("http://127.0.0.1:{p}/callback"))
            .collect(),
    }
}
