//! Thin Tauri commands: check arguments, call the session, return its view model. No command
//! takes or returns a token, code, verifier or callback URL; errors travel inside the view as
//! `{kind, message, fix}`.

use crate::feed::Feed;
use kakao_signin_core::session::view::SessionView;
use kakao_signin_core::session::{Lang, Prompt, Session};
use serde::Serialize;
use std::sync::Arc;
use tauri::State;

/// The app's state as Tauri manages it.
pub struct AppState {
    pub session: Arc<Session>,
    /// Session changes, for `next_view`.
    pub feed: Arc<Feed>,
}

type S<'a> = State<'a, AppState>;

#[tauri::command]
pub fn app_state(state: S<'_>) -> SessionView {
    let view = state.session.view();
    // The page asks for the view once it has loaded; a profile in the answer is on screen.
    if crate::shows_profile(&view) {
        crate::bench_mark("profile-shown");
    }
    view
}

/// The page says it has painted something the bench waits for (after the frame that drew it):
/// `profile`, the first signed-in profile. Prints `bench-mark profile-painted` under
/// `KAKAO_SIGNIN_BENCH_MARKS=1`; does nothing otherwise, and nothing for other words.
#[tauri::command]
pub fn mark_painted(what: String) {
    if what == "profile" {
        crate::bench_mark("profile-painted");
    }
}

/// A view and the change number it follows; the window passes the number back as `after`.
#[derive(Serialize)]
pub struct ViewUpdate {
    pub seq: u64,
    pub view: SessionView,
}

/// How the window follows the session (see `feed.rs`): answers at once when `after` is not the
/// latest change number, else when the session next changes.
#[tauri::command]
pub async fn next_view(state: S<'_>, after: Option<u64>) -> Result<ViewUpdate, String> {
    let seq = state.feed.next(after).await;
    let view = state.session.view();
    // Only the loaded page asks: a profile in the answer is on screen.
    if crate::shows_profile(&view) {
        crate::bench_mark("profile-shown");
    }
    Ok(ViewUpdate { seq, view })
}

#[tauri::command]
pub async fn sign_in(state: S<'_>, prompt: Option<String>) -> Result<SessionView, String> {
    let prompt = match prompt.as_deref() {
        None | Some("") => None,
        Some("login") => Some(Prompt::Login),
        Some("select_account") => Some(Prompt::SelectAccount),
        Some(other) => return Err(format!("unknown prompt {other:?}")),
    };
    Ok(state.session.sign_in(prompt).await)
}

#[tauri::command]
pub fn cancel_sign_in(state: S<'_>) -> SessionView {
    state.session.cancel_sign_in()
}

#[tauri::command]
pub async fn request_consent(state: S<'_>, scopes: Vec<String>) -> Result<SessionView, String> {
    if scopes.len() > 20 {
        return Err("too many scopes".into());
    }
    Ok(state.session.request_consent(scopes).await)
}

#[tauri::command]
pub async fn refresh_profile(state: S<'_>) -> Result<SessionView, String> {
    Ok(state.session.refresh_profile().await)
}

#[tauri::command]
pub async fn load_consents(state: S<'_>) -> Result<SessionView, String> {
    Ok(state.session.load_consents().await)
}

#[tauri::command]
pub async fn withdraw_consent(state: S<'_>, scope: String) -> Result<SessionView, String> {
    Ok(state.session.withdraw_consent(&scope).await)
}

#[tauri::command]
pub async fn logout(state: S<'_>, kakao_account: bool) -> Result<SessionView, String> {
    Ok(state.session.logout(kakao_account).await)
}

#[tauri::command]
pub async fn unlink(state: S<'_>) -> Result<SessionView, String> {
    Ok(state.session.unlink().await)
}

#[tauri::command]
pub async fn set_entered_value(
    state: S<'_>,
    field: String,
    value: String,
) -> Result<SessionView, String> {
    Ok(state.session.set_entered_value(&field, &value).await)
}

#[tauri::command]
pub fn set_language(state: S<'_>, lang: Lang) -> SessionView {
    state.session.set_language(lang)
}

#[tauri::command]
pub async fn retry(state: S<'_>) -> Result<SessionView, String> {
    Ok(state.session.retry().await)
}

#[tauri::command]
pub fn dismiss_error(state: S<'_>) -> SessionView {
    state.session.dismiss_error()
}

#[tauri::command]
pub fn diagnostics(state: S<'_>) -> String {
    state.session.diagnostics(&[])
}
