//! Thin Tauri commands: check arguments, call the session, return its view model. No command
//! takes or returns a token or verifier, and only `paste_address` takes a callback URL (what the
//! person pasted, handed straight to the core and never logged); errors travel inside the view
//! as `{kind, message, fix}`.

use crate::feed::Feed;
use futures::FutureExt;
use kakao_signin_core::session::view::{ErrorView, KakaoErrorHelp, SessionView};
use kakao_signin_core::session::{Lang, Prompt, Session};
use serde::Serialize;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use tauri::State;

/// The app's state as Tauri manages it.
pub struct AppState {
    pub session: Arc<Session>,
    /// Session changes, for `next_view`.
    pub feed: Arc<Feed>,
}

type S<'a> = State<'a, AppState>;

/// Runs command `op`'s session call; a panic in it (a bug, e.g. text from outside that some
/// code could not handle) ends this one operation with [`Session::failed_inside`]'s view, and
/// the app and its window go on (the release profile unwinds, see Cargo.toml).
async fn guarded(
    session: &Arc<Session>,
    op: &'static str,
    call: impl Future<Output = SessionView>,
) -> SessionView {
    let call = async {
        panic_if_asked(op);
        call.await
    };
    match AssertUnwindSafe(call).catch_unwind().await {
        Ok(view) => view,
        Err(_) => session.failed_inside(op),
    }
}

/// [`guarded`] for the commands that do not wait.
fn guarded_now(
    session: &Arc<Session>,
    op: &'static str,
    call: impl FnOnce() -> SessionView,
) -> SessionView {
    let call = || {
        panic_if_asked(op);
        call()
    };
    std::panic::catch_unwind(AssertUnwindSafe(call)).unwrap_or_else(|_| session.failed_inside(op))
}

/// Test hook, debug builds only (never in a release build): with `KS_E2E_PANIC_IN=<command>`
/// the first call of that command panics, so the e2e suite can show the app survives it.
fn panic_if_asked(op: &'static str) {
    #[cfg(debug_assertions)]
    {
        static FIRED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
        if std::env::var("KS_E2E_PANIC_IN").is_ok_and(|v| v == op)
            && !FIRED.swap(true, std::sync::atomic::Ordering::SeqCst)
        {
            panic!("KS_E2E_PANIC_IN: injected panic in {op}");
        }
    }
    #[cfg(not(debug_assertions))]
    let _ = op;
}

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
    Ok(guarded(&state.session, "sign_in", state.session.sign_in(prompt)).await)
}

#[tauri::command]
pub fn cancel_sign_in(state: S<'_>) -> SessionView {
    guarded_now(&state.session, "cancel_sign_in", || {
        state.session.cancel_sign_in()
    })
}

#[tauri::command]
pub async fn request_consent(state: S<'_>, scopes: Vec<String>) -> Result<SessionView, String> {
    if scopes.len() > 20 {
        return Err("too many scopes".into());
    }
    Ok(guarded(
        &state.session,
        "request_consent",
        state.session.request_consent(scopes),
    )
    .await)
}

#[tauri::command]
pub async fn refresh_profile(state: S<'_>) -> Result<SessionView, String> {
    Ok(guarded(
        &state.session,
        "refresh_profile",
        state.session.refresh_profile(),
    )
    .await)
}

#[tauri::command]
pub async fn load_consents(state: S<'_>) -> Result<SessionView, String> {
    Ok(guarded(
        &state.session,
        "load_consents",
        state.session.load_consents(),
    )
    .await)
}

#[tauri::command]
pub async fn withdraw_consent(state: S<'_>, scope: String) -> Result<SessionView, String> {
    Ok(guarded(
        &state.session,
        "withdraw_consent",
        state.session.withdraw_consent(&scope),
    )
    .await)
}

/// `forget_entered`: the logout dialog's "forget what I typed on this computer".
#[tauri::command]
pub async fn logout(
    state: S<'_>,
    kakao_account: bool,
    forget_entered: Option<bool>,
) -> Result<SessionView, String> {
    let session = &state.session;
    let call = async {
        if forget_entered == Some(true) {
            session.logout_forgetting(kakao_account).await
        } else {
            session.logout(kakao_account).await
        }
    };
    Ok(guarded(session, "logout", call).await)
}

#[tauri::command]
pub async fn unlink(state: S<'_>) -> Result<SessionView, String> {
    Ok(guarded(&state.session, "unlink", state.session.unlink()).await)
}

#[tauri::command]
pub async fn set_entered_value(
    state: S<'_>,
    field: String,
    value: String,
) -> Result<SessionView, String> {
    Ok(guarded(
        &state.session,
        "set_entered_value",
        state.session.set_entered_value(&field, &value),
    )
    .await)
}

#[tauri::command]
pub fn set_language(state: S<'_>, lang: Lang) -> SessionView {
    guarded_now(&state.session, "set_language", || {
        state.session.set_language(lang)
    })
}

#[tauri::command]
pub async fn retry(state: S<'_>) -> Result<SessionView, String> {
    Ok(guarded(&state.session, "retry", state.session.retry()).await)
}

#[tauri::command]
pub fn dismiss_error(state: S<'_>) -> SessionView {
    guarded_now(&state.session, "dismiss_error", || {
        state.session.dismiss_error()
    })
}

#[tauri::command]
pub fn diagnostics(state: S<'_>) -> String {
    state.session.diagnostics(&[])
}

/// "Open again": the same Kakao URL for the attempt waiting now.
#[tauri::command]
pub fn open_again(state: S<'_>) -> SessionView {
    guarded_now(&state.session, "open_again", || state.session.open_again())
}

/// "Copy the sign-in link": Kakao's URL of the attempt waiting now.
#[tauri::command]
pub fn sign_in_link(state: S<'_>) -> Result<String, Box<ErrorView>> {
    state.session.sign_in_link().map_err(|e| Box::new(e.view()))
}

/// "Paste the address": the address the browser ended on.
#[tauri::command]
pub async fn paste_address(state: S<'_>, address: String) -> Result<SessionView, String> {
    // Longer than any redirect back: refused by the core with its own words, but no copy of
    // megabytes is kept meanwhile.
    let address = if address.len() > kakao_signin_core::signin::MAX_PASTED_BYTES * 2 {
        String::new()
    } else {
        address
    };
    Ok(guarded(
        &state.session,
        "paste_address",
        state.session.paste_address(&address),
    )
    .await)
}

/// "Kakao showed an error code": cause and fix of each of Kakao's error pages.
#[tauri::command]
pub fn kakao_error_help(state: S<'_>) -> Vec<KakaoErrorHelp> {
    state.session.kakao_error_help()
}
