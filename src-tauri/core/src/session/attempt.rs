//! Browser round trips: sign-in and additional consent (authorize → loopback callback → code
//! exchange, RFC 8252 §7.3 with PKCE, RFC 7636), and the Kakao account logout (S07).
//!
//! One attempt runs at a time; a new one replaces (cancels) the old. The attempt's task reports
//! only while it is current, and the tokens it brings home go through the lane like every
//! other change ([`super::tokens`]).

use super::view::{Status, WaitPurpose, WaitingView};
use super::{Error, Event, Session};
use crate::kakao::{self, AuthorizeParams, Nonce, PkceVerifier, Prompt, StateToken};
use crate::messages::session as words;
use crate::secret::Secret;
use crate::signin::{self, Armed, CallbackOutcome, Loopback, PortKeeper};
use std::sync::Arc;
use std::time::Duration;

/// One sign-in-like attempt's secrets and listener, owned by its task.
struct Attempt {
    armed: Armed,
    nonce: Nonce,
    verifier: PkceVerifier,
    redirect_uri: String,
    purpose: WaitPurpose,
    id: u64,
}

/// How an attempt ended, for the caller to turn into a status.
enum AttemptEnd {
    Done,
    Cancelled,
}

impl Session {
    /// Cancels the browser round trip in progress (its listener stops at once).
    pub fn cancel_sign_in(&self) -> super::view::SessionView {
        let handle = {
            let mut s = self.lock();
            s.attempt_id += 1;
            s.attempt.take()
        };
        if let Some(h) = handle {
            h.cancel();
        }
        {
            let mut s = self.lock();
            if s.status == Status::Waiting {
                s.status = s.before_wait;
                s.waiting = None;
            }
        }
        self.changed()
    }

    /// Binds the loopback listener and marks the window as waiting for `purpose`; the caller
    /// opens the browser next. Replaces (cancels) an attempt in progress.
    fn begin_wait(
        &self,
        purpose: WaitPurpose,
        redirect_uri: &str,
        loopback: &Loopback,
        before_wait: Option<Status>,
    ) -> u64 {
        let mut s = self.lock();
        // Where a cancel or refusal returns to: only a settled state, never "restoring".
        s.before_wait = before_wait.unwrap_or(match s.status {
            Status::SignedIn => Status::SignedIn,
            Status::Offline => Status::Offline,
            Status::Waiting | Status::Completing => s.before_wait,
            // Signed out, or no keychain before the write check that just passed.
            _ => Status::SignedOut,
        });
        s.status = Status::Waiting;
        s.waiting = Some(WaitingView {
            purpose,
            redirect_uri: redirect_uri.to_owned(),
            timeout_secs: self.deps.signin_timeout.as_secs(),
        });
        s.attempt = Some(loopback.cancel_handle());
        s.attempt_id += 1;
        s.attempt_id
    }

    /// Cancels the attempt in progress, if any, and binds a listener for a new one.
    fn replace_attempt(&self) -> Result<Loopback, signin::Error> {
        // A second click replaces the first attempt (and frees its port first).
        if let Some(previous) = self.lock().attempt.take() {
            previous.cancel();
        }
        bind_with_retry(&self.ports, &self.deps.redirect_ports)
    }

    /// Checks the keychain, binds the listener, opens the browser at Kakao's authorize URL and
    /// spawns the task that waits for the redirect.
    pub(super) async fn start_attempt(
        self: &Arc<Self>,
        purpose: WaitPurpose,
        scopes: Vec<String>,
        prompts: Vec<Prompt>,
    ) -> super::view::SessionView {
        self.begin();
        let kakao = match self.kakao() {
            Ok(k) => k.clone(),
            Err(e) => {
                self.set_error(e);
                return self.changed();
            }
        };
        // Before Kakao issues tokens: a keychain that cannot keep them is named now, not after
        // the person signed in at Kakao (no default collection, locked with no prompt).
        if let Err(e) = self.keeper.vault().check_can_store().await {
            let e = Error::from(e);
            if e.is_no_keychain() && self.lock().status == Status::SignedOut {
                self.lock().status = Status::NoKeychain;
            }
            self.set_error(e);
            return self.changed();
        }
        let loopback = match self.replace_attempt() {
            Ok(l) => l,
            Err(e) => {
                self.set_error(e);
                return self.changed();
            }
        };
        let redirect_uri = loopback.redirect_uri();
        let verifier = PkceVerifier::generate();
        let state = StateToken::generate();
        let nonce = Nonce::generate();
        let params = AuthorizeParams {
            redirect_uri: redirect_uri.clone(),
            code_challenge: verifier.challenge(),
            scopes,
            prompts,
            login_hint: None,
        };
        let url = kakao.authorize_url(&params, &state, Some(&nonce));
        let id = self.begin_wait(purpose, &redirect_uri, &loopback, None);
        let cancel = loopback.cancel_handle();
        let armed = match loopback.arm_callback(state.as_str(), self.lang()) {
            Ok(a) => a,
            Err(e) => {
                self.lock().end_wait();
                self.set_error(e);
                return self.changed();
            }
        };
        // The browser gets the one-time loopback address, never Kakao's URL: that carries
        // `state`, nonce and challenge, and a command line is readable by every local user.
        if let Err(e) = self.deps.browser.open(&armed.start_url(url.as_str())) {
            cancel.cancel();
            let _ = armed.wait_for_callback(Duration::ZERO).await;
            self.lock().end_wait();
            self.set_error(e);
            return self.changed();
        }
        tracing::info!(
            port = armed.port(),
            ?purpose,
            "waiting for Kakao's redirect"
        );
        let view = self.changed();
        let attempt = Attempt {
            armed,
            nonce,
            verifier,
            redirect_uri,
            purpose,
            id,
        };
        let this = self.clone();
        tokio::spawn(async move { this.run_attempt(attempt).await });
        view
    }

    async fn run_attempt(self: Arc<Self>, a: Attempt) {
        let outcome = a.armed.wait_for_callback(self.deps.signin_timeout).await;
        // A newer attempt may have replaced this one: then this one says nothing more.
        if self.lock().attempt_id != a.id {
            return;
        }
        let end = match outcome {
            Ok(CallbackOutcome::Code(code)) => {
                self.lock().status = Status::Completing;
                self.changed();
                (self.notify)(Event::BringToFront);
                self.complete(&code, &a.redirect_uri, &a.verifier, &a.nonce)
                    .await
                    .map(|()| AttemptEnd::Done)
            }
            Ok(CallbackOutcome::Denied { error, description }) => {
                (self.notify)(Event::BringToFront);
                let e = kakao::Error::redirect(&error, description.as_deref(), None)
                    .with_redirect_uri(&a.redirect_uri);
                if a.purpose == WaitPurpose::Consent && e.kind() == kakao::ErrorKind::AccessDenied {
                    // S12: refusing more consent is a choice, not an error: nothing changes.
                    self.set_notice(words::consent_declined());
                    Ok(AttemptEnd::Cancelled)
                } else {
                    Err(e.into())
                }
            }
            Err(signin::Error::Cancelled) => Ok(AttemptEnd::Cancelled),
            Err(e) => Err(Error::Signin(e)),
        };
        {
            let mut s = self.lock();
            s.attempt = None;
            s.waiting = None;
            match &end {
                // The tokens are stored; without a profile (user/me failed) the window offers
                // Retry rather than pretending to be signed in.
                Ok(AttemptEnd::Done) => {
                    if s.status == Status::Completing {
                        s.status = if s.profile.is_some() {
                            Status::SignedIn
                        } else {
                            Status::Offline
                        };
                    }
                }
                Ok(AttemptEnd::Cancelled) | Err(_) => s.status = s.before_wait,
            }
        }
        if let Err(e) = end {
            self.set_error(e);
        }
        self.changed();
    }

    /// Code → tokens → ID token check → the lane (keychain, then memory) → profile. Nothing is
    /// stored unless every check passed.
    async fn complete(
        &self,
        code: &Secret,
        redirect_uri: &str,
        verifier: &PkceVerifier,
        nonce: &Nonce,
    ) -> Result<(), Error> {
        let kakao = self.kakao()?.clone();
        let response = kakao.exchange_code(code, redirect_uri, verifier).await?;
        let member_id = match &response.id_token {
            Some(id) => kakao.verify_id_token(id, nonce).await?.member_id,
            None => kakao.user_me(&response.access_token).await?.id,
        };
        {
            let mut lane = self.keeper.lane().await;
            lane.install(&response, member_id).await?;
            let mut s = self.lock();
            if s.shown != lane.pair() {
                // Another session: nothing of the previous one stays on screen, nor what was
                // said about it.
                s.profile = None;
                s.notice = None;
                s.shown = lane.pair();
            }
            s.consents = None;
        }
        self.load_profile().await;
        Ok(())
    }

    /// S07: `/oauth/logout` in the browser, back to a loopback logout page.
    pub(super) fn start_kakao_logout(self: &Arc<Self>) -> super::view::SessionView {
        let Ok(kakao) = self.kakao().cloned() else {
            return self.changed();
        };
        let loopback = match self.replace_attempt() {
            Ok(l) => l,
            Err(e) => {
                self.set_error(e);
                return self.changed();
            }
        };
        let state = StateToken::generate();
        let logout_uri = loopback.logout_redirect_uri();
        let url = kakao.account_logout_url(&logout_uri, &state);
        let id = self.begin_wait(
            WaitPurpose::KakaoLogout,
            &logout_uri,
            &loopback,
            Some(Status::SignedOut),
        );
        let cancel = loopback.cancel_handle();
        let armed = match loopback.arm_logout(state.as_str(), self.lang()) {
            Ok(a) => a,
            Err(e) => {
                self.lock().end_wait();
                self.set_error(e);
                return self.changed();
            }
        };
        // Kakao's logout URL carries `state`: the browser gets the one-time address instead.
        if let Err(e) = self.deps.browser.open(&armed.start_url(url.as_str())) {
            cancel.cancel();
            tokio::spawn(armed.wait_for_logout(Duration::ZERO));
            self.lock().end_wait();
            self.set_error(e);
            return self.changed();
        }
        let view = self.changed();
        let this = self.clone();
        tokio::spawn(async move {
            let result = armed.wait_for_logout(this.deps.signin_timeout).await;
            if this.lock().attempt_id != id {
                return;
            }
            this.lock().end_wait();
            match result {
                Ok(()) => {
                    this.set_notice(words::logged_out_of_kakao_account());
                    (this.notify)(Event::BringToFront);
                }
                Err(signin::Error::Cancelled) => {}
                Err(e) => this.set_error(e),
            }
            this.changed();
        });
        view
    }
}

/// A new attempt takes over a port the session keeps (an ended attempt's); a port another
/// attempt's listener is still letting go of is waited for briefly rather than reported as
/// "all ports busy".
fn bind_with_retry(keeper: &PortKeeper, ports: &[u16]) -> Result<Loopback, signin::Error> {
    let mut last = None;
    for _ in 0..10 {
        match keeper.bind(ports) {
            Ok(l) => return Ok(l),
            Err(e) if some_port_busy(&e) => {
                last = Some(e);
                std::thread::sleep(Duration::from_millis(50));
            }
            Err(e) => return Err(e),
        }
    }
    Err(last.expect("loop ran"))
}

/// Whether waiting may help: a port refused by the system stays refused.
fn some_port_busy(e: &signin::Error) -> bool {
    match e {
        signin::Error::PortsBusy { .. } => true,
        signin::Error::PortsReserved { busy, .. } => !busy.is_empty(),
        _ => false,
    }
}
