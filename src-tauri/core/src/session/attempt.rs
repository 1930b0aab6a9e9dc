//! Browser round trips: sign-in and additional consent (authorize → loopback callback → code
//! exchange, RFC 8252 §7.3 with PKCE, RFC 7636), and the Kakao account logout (S07).
//!
//! One attempt runs at a time; a new one replaces (cancels) the old. The attempt's task reports
//! only while it is current, and the tokens it brings home go through the lane like every
//! other change ([`super::tokens`]).

use super::profile;
use super::view::{Status, WaitPurpose, WaitingView};
use super::{Error, Event, Session};
use crate::kakao::{self, AuthorizeParams, Nonce, PkceVerifier, Prompt, StateToken};
use crate::messages::session as words;
use crate::secret::Secret;
use crate::signin::{self, CallbackOutcome, Loopback};
use std::sync::Arc;
use std::time::Duration;

/// One sign-in-like attempt's secrets and listener, owned by its task.
struct Attempt {
    loopback: Loopback,
    state: StateToken,
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
        bind_with_retry(&self.deps.redirect_ports)
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
        if let Err(e) = self.deps.browser.open(url.as_str()) {
            drop(loopback);
            self.lock().end_wait();
            self.set_error(e);
            return self.changed();
        }
        tracing::info!(
            port = loopback.port(),
            ?purpose,
            "waiting for Kakao's redirect"
        );
        let view = self.changed();
        let attempt = Attempt {
            loopback,
            state,
            nonce,
            verifier,
            redirect_uri,
            purpose,
            id,
        };
        // While the person is at Kakao: the keys for the ID token check, unless a fresh JWKS
        // is held (memory or the cache file), so the check after the code exchange is local.
        tokio::spawn(async move {
            if let Err(e) = kakao.prefetch_jwks().await {
                tracing::debug!(kind = %e.kind(), "JWKS prefetch failed; the check will fetch");
            }
        });
        let this = self.clone();
        tokio::spawn(async move { this.run_attempt(attempt).await });
        view
    }

    async fn run_attempt(self: Arc<Self>, a: Attempt) {
        let lang = self.lang();
        let outcome = a
            .loopback
            .wait_for_callback(a.state.as_str(), lang, self.deps.signin_timeout)
            .await;
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

    /// Code → tokens → ID token check, then at once: the lane (keychain, then memory),
    /// `/v2/user/me`, `/v2/user/scopes` and the picture (the ID token's `picture`), so a sign-in
    /// costs the code exchange and one more round trip. Nothing is stored unless every check
    /// passed; without an ID token the member id comes from `/v2/user/me` first.
    async fn complete(
        &self,
        code: &Secret,
        redirect_uri: &str,
        verifier: &PkceVerifier,
        nonce: &Nonce,
    ) -> Result<(), Error> {
        let kakao = self.kakao()?.clone();
        let response = kakao.exchange_code(code, redirect_uri, verifier).await?;
        let token = &response.access_token;
        let http = &*self.deps.http;
        let (pair, me, scopes, picture) = match &response.id_token {
            Some(id) => {
                let claims = kakao.verify_id_token(id, nonce).await?;
                let picture = async {
                    match &claims.picture {
                        Some(url) => Some(profile::fetch_image_at(http, url).await),
                        None => None,
                    }
                };
                let (pair, me, scopes, picture) = tokio::join!(
                    self.install(&response, claims.member_id),
                    kakao.user_me(token),
                    kakao.scopes(token, None),
                    picture,
                );
                // The ID token and `/v2/user/me` name the same member, or the profile is not
                // this session's: it is fetched again through the lane below.
                let me = me.ok().filter(|me| me.id == claims.member_id);
                (
                    pair?,
                    me,
                    scopes,
                    picture.map(|p| (claims.picture.clone(), p)),
                )
            }
            None => {
                let me = kakao.user_me(token).await?;
                let picture = async {
                    match profile::image_url(&me) {
                        Some(url) => Some(profile::fetch_image_at(http, url).await),
                        None => None,
                    }
                };
                let (pair, scopes, picture) = tokio::join!(
                    self.install(&response, me.id),
                    kakao.scopes(token, None),
                    picture,
                );
                let url = profile::image_url(&me).map(str::to_owned);
                (pair?, Some(me), scopes, picture.map(|p| (url, p)))
            }
        };
        if let Ok(s) = scopes {
            let views = profile::consent_views(&s.scopes);
            self.apply(pair, |st| st.consents = Some(views));
        }
        match me {
            Some(me) => {
                // The picture fetched early counts when it is the one `/v2/user/me` names;
                // otherwise (none, or another URL) it is fetched now.
                let wanted = profile::image_url(&me);
                let picture = match (wanted, picture) {
                    (None, _) => Some(None),
                    (Some(w), Some((Some(url), p))) if url == w => Some(p),
                    _ => None,
                };
                self.show_profile(&me, pair, picture).await;
            }
            // `/v2/user/me` failed: once more through the lane (-401 refreshes), its failure
            // shown as for any profile fetch.
            None => self.load_profile().await,
        }
        Ok(())
    }

    /// Makes the tokens of a completed round trip the session (keychain, then memory) and
    /// returns its pair. A session other than the one shown clears what was shown of it.
    async fn install(
        &self,
        response: &kakao::TokenResponse,
        member_id: i64,
    ) -> Result<crate::vault::PairId, Error> {
        let mut lane = self.keeper.lane().await;
        lane.install(response, member_id).await?;
        let pair = lane.pair().ok_or(Error::NotSignedIn)?;
        let mut s = self.lock();
        if s.shown != Some(pair) {
            // Another session: nothing of the previous one stays on screen, nor what was
            // said about it.
            s.profile = None;
            s.notice = None;
            s.shown = Some(pair);
        }
        s.consents = None;
        Ok(pair)
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
        if let Err(e) = self.deps.browser.open(url.as_str()) {
            self.lock().end_wait();
            self.set_error(e);
            return self.changed();
        }
        let view = self.changed();
        let this = self.clone();
        tokio::spawn(async move {
            let lang = this.lang();
            let result = loopback
                .wait_for_logout(state.as_str(), lang, this.deps.signin_timeout)
                .await;
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

/// A cancelled attempt's listener frees its port as it shuts down; a new attempt started at
/// the same moment waits briefly for it rather than reporting "all ports busy".
fn bind_with_retry(ports: &[u16]) -> Result<Loopback, signin::Error> {
    let mut last = None;
    for _ in 0..10 {
        match Loopback::bind(ports) {
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
