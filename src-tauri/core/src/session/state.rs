//! The view state: what the window is shown, and the few ways it changes. Plain data behind a
//! short synchronous lock; no I/O happens while it is held.

use super::view::{ConsentView, ErrorView, ProfileView, SessionView, Status, WaitingView};
use super::{Error, Event, Session};
use crate::secret::Secret;
use crate::signin::{self, CancelHandle, PasteDoor, StartUrls};
use crate::text::{Lang, Text};
use crate::vault::PairId;

pub(super) struct State {
    pub status: Status,
    /// Where to go back to when an attempt is cancelled or refused.
    pub before_wait: Status,
    pub waiting: Option<WaitingView>,
    pub attempt: Option<CancelHandle>,
    /// Which attempt is current; a replaced attempt's task sees a different number and stays
    /// quiet.
    pub attempt_id: u64,
    /// The session (pair) the profile and consents belong to. Answers fetched for another
    /// pair are dropped: their session no longer exists.
    pub shown: Option<PairId>,
    pub profile: Option<ProfileView>,
    pub consents: Option<Vec<ConsentView>>,
    pub error: Option<ErrorView>,
    pub notice: Option<Text>,
    /// Said at start about this run (no single-instance guard): shown whenever no other notice
    /// is, until the person dismisses it.
    pub standing_notice: Option<Text>,
    pub lang: Lang,
    pub last_error_kind: Option<super::error::ErrorKind>,
    /// The next sign-in asks Kakao for the login again (`prompt=login`): a Kakao account logout
    /// was asked for, and Kakao does not say whether it happened (REFERENCE §6, S07).
    pub login_next: bool,
    /// The current attempt's other ways back, while it waits.
    pub ways_in: Option<WaysIn>,
}

/// When the browser doesn't come back: Kakao's URL of the attempt (to open again or copy; it
/// carries `state`, so it is kept as a [`Secret`]) and, for sign-in and consent, the door for a
/// pasted redirect address.
#[derive(Clone)]
pub(super) struct WaysIn {
    pub url: Secret,
    /// One-time loopback start URLs for "Open again" (Kakao's URL is never on a command line).
    pub start: StartUrls,
    pub door: Option<PasteDoor>,
}

impl State {
    pub fn new(status: Status, lang: Lang) -> State {
        State {
            status,
            before_wait: Status::SignedOut,
            waiting: None,
            attempt: None,
            attempt_id: 0,
            shown: None,
            profile: None,
            consents: None,
            error: None,
            notice: None,
            standing_notice: None,
            lang,
            last_error_kind: None,
            login_next: false,
            ways_in: None,
        }
    }

    /// Settles on `status`, unless a browser round trip is under way: then it is where the
    /// round trip returns to (its end decides what follows).
    pub fn settle(&mut self, status: Status) {
        if matches!(self.status, Status::Waiting | Status::Completing) {
            self.before_wait = status;
        } else {
            self.status = status;
        }
    }

    /// The session shown is gone: no profile, no consents, signed out.
    pub fn signed_out(&mut self) {
        self.shown = None;
        self.profile = None;
        self.consents = None;
        self.settle(Status::SignedOut);
    }

    /// What the window shows after a keychain failure while there is no session to show:
    /// `no_keychain` when there is none to use, else `offline` (tokens may still be kept).
    pub(super) fn keychain_failed_status(e: &Error) -> Status {
        if e.is_no_keychain() {
            Status::NoKeychain
        } else {
            Status::Offline
        }
    }

    /// Ends the browser round trip shown, back to where it started.
    pub fn end_wait(&mut self) {
        self.attempt = None;
        self.ways_in = None;
        self.waiting = None;
        if matches!(self.status, Status::Waiting | Status::Completing) {
            self.status = self.before_wait;
        }
    }
}

impl Session {
    pub(super) fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The current view (cheap; no I/O).
    pub fn view(&self) -> SessionView {
        let s = self.lock();
        let uris = |path: &str| {
            self.deps
                .redirect_ports
                .iter()
                .map(|p| format!("http://127.0.0.1:{p}{path}"))
                .collect()
        };
        SessionView {
            status: s.status,
            sandbox: self.deps.sandbox,
            lang: s.lang,
            version: self.deps.version.clone(),
            redirect_uris: uris(signin::CALLBACK_PATH),
            logout_redirect_uris: uris(signin::LOGOUT_PATH),
            waiting: s.waiting.clone(),
            profile: s.profile.clone(),
            consents: s.consents.clone(),
            error: s.error.clone(),
            notice: s.notice.clone().or_else(|| s.standing_notice.clone()),
            clock_offset_secs: self
                .kakao
                .as_ref()
                .and_then(|k| k.kakao_clock().offset_secs())
                .filter(|o| o.unsigned_abs() > super::view::CLOCK_NOTICE_SECS),
        }
    }

    /// Tells listeners the view changed and returns it.
    pub(super) fn changed(&self) -> SessionView {
        let v = self.view();
        (self.notify)(Event::Changed(Box::new(v.clone())));
        v
    }

    pub(super) fn set_error(&self, error: impl Into<Error>) {
        let error: Error = error.into();
        tracing::warn!(kind = %error.kind(), "{error}");
        let mut s = self.lock();
        s.last_error_kind = Some(error.kind());
        s.error = Some(error.view());
    }

    pub(super) fn set_notice(&self, notice: Text) {
        self.lock().notice = Some(notice);
    }

    /// Clears the error and notice a new command replaces.
    pub(super) fn begin(&self) {
        let mut s = self.lock();
        s.error = None;
        s.notice = None;
    }

    pub(super) fn lang(&self) -> Lang {
        self.lock().lang
    }

    /// Applies what was fetched for session `pair`, if that session is still the one shown.
    pub(super) fn apply(&self, pair: PairId, f: impl FnOnce(&mut State)) -> bool {
        let mut s = self.lock();
        if s.shown == Some(pair) {
            f(&mut s);
            true
        } else {
            tracing::debug!("an answer for a session that has ended was dropped");
            false
        }
    }

    /// Maps a failure of a call to what the window shows: no keychain when there is none to
    /// write to, offline when Kakao or the keychain could not be reached (tokens kept), the
    /// error otherwise. A session that ended was already shown as ended by the change that
    /// ended it, and an answer for a replaced session says nothing.
    pub(super) fn settle_failure(&self, e: Error) {
        if matches!(
            e,
            Error::SessionEnded | Error::Superseded | Error::NotSignedIn
        ) {
            return;
        }
        let transient = e.is_transient();
        let no_keychain = e.is_no_keychain();
        self.set_error(e);
        let mut s = self.lock();
        if no_keychain {
            // The tokens are held in memory; Retry writes them back once there is a keychain.
            s.status = Status::NoKeychain;
        } else if transient || s.status == Status::Restoring {
            // e.g. KOE010 after a client-secret change at start: tokens stay, the fix is shown.
            s.status = Status::Offline;
        }
    }
}
