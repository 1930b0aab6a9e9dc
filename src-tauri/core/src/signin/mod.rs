//! One sign-in attempt's local half: the loopback listener that receives Kakao's redirect, the
//! pages it shows, and the browser opener. Knows nothing of Kakao's wire format: the caller
//! builds the authorize URL (with [`Loopback::redirect_uri`] and its own `state`), opens the
//! attempt's one-time start URL for it ([`Armed::start_url`]) with a [`BrowserOpener`], and
//! waits.
//!
//! ```no_run
//! # async fn f(authorize_url_for: impl Fn(&str) -> String, state: &str) -> Result<(), kakao_signin_core::signin::Error> {
//! use kakao_signin_core::signin::{self, BrowserOpener, CallbackOutcome, PortKeeper};
//! use kakao_signin_core::text::Lang;
//! let ports = PortKeeper::default(); // one per app: keeps ports after cancel (issue 17)
//! let loopback = ports.bind(&[18682, 18683])?;
//! let cancel = loopback.cancel_handle(); // give this to the UI's cancel button
//! let authorize = authorize_url_for(&loopback.redirect_uri());
//! let armed = loopback.arm_callback(state, Lang::Ko)?;
//! let browser = std::env::var(signin::BROWSER_ENV).ok();
//! signin::browser_from_value(browser.as_deref(), &[])?.open(&armed.start_url(&authorize))?;
//! match armed.wait_for_callback(signin::DEFAULT_TIMEOUT).await? {
//!     CallbackOutcome::Code(code) => { /* exchange it */ }
//!     CallbackOutcome::Denied { error, .. } => { /* access_denied: the person cancelled */ }
//! }
//! # drop(cancel); Ok(()) }
//! ```

mod browser;
mod error;
mod listener;
mod pages;
mod peer;

pub use browser::{
    browser_from_value, BrowserEnv, BrowserOpener, CommandBrowser, SystemBrowser, BROWSER_ENV,
};
pub use error::{Error, ErrorKind};
pub use listener::{
    classify_callback_query, pasted_callback_query, Armed, CallbackOutcome, CallbackQuery,
    CancelHandle, ExpectedState, Loopback, PasteDoor, PortKeeper, StartUrls, CALLBACK_PATH,
    DEFAULT_TIMEOUT, DONE_LINGER, DONE_PATH, KEEP_PORT, LOGOUT_PATH, MAX_PASTED_BYTES, START_PATH,
};

#[cfg(test)]
mod tests;
