//! Browser round trips: sign-in and additional consent (authorize → loopback callback → code
//! exchange, RFC 8252 §7.3 with PKCE, RFC 7636), and the Kakao account logout (S07).
//!
//! One attempt runs at a time; a new one replaces (cancels) the old. The attempt's task reports
//! only while it is current, and the tokens it brings home go through the lane like every
//! other change ([`super::tokens`]).

use super::profile;
use super::state::WaysIn;
use super::view::{KakaoErrorHelp, Status, WaitPurpose, WaitingView};
use super::{Error, Event, Session};
use crate::kakao::{self, AuthorizeParams, Nonce, PkceVerifier, Prompt, StateToken};
use crate::messages::session as words;
use crate::secret::Secret;
use crate::signin::{self, Armed, CallbackOutcome, CancelHandle, Loopback, PortKeeper};
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
            s.ways_in = None;
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

    /// The other ways back of the attempt waiting now; `None` when nothing waits.
    fn ways_in(&self) -> Option<WaysIn> {
        let s = self.lock();
        (s.status == Status::Waiting)
            .then(|| s.ways_in.clone())
            .flatten()
    }

    /// "Open again": hands the browser the same Kakao URL as the attempt's first opening (same
    /// `state`, PKCE challenge and `nonce`; the listener keeps waiting). An opener failure is
    /// the view's error, and the attempt keeps waiting; with nothing waiting, `not_waiting`.
    pub fn open_again(&self) -> super::view::SessionView {
        self.begin();
        match self.ways_in() {
            None => self.set_error(signin::Error::NotWaiting),
            Some(w) => {
                // Again through a one-time loopback address: Kakao's URL never goes on a
                // command line (SECURITY.md, other local users).
                if let Err(e) = self.deps.browser.open(&w.start.issue(w.url.expose())) {
                    self.set_error(e);
                } else {
                    tracing::info!("Kakao's page was opened again for the same attempt");
                }
            }
        }
        self.changed()
    }

    /// "Copy the sign-in link": Kakao's URL of the attempt waiting now (the authorize URL, or
    /// `/oauth/logout` for a Kakao account logout), to open in any browser. It carries `state`
    /// and the PKCE challenge; the code verifier never leaves the core.
    ///
    /// Errors: `not_waiting` when no attempt waits.
    pub fn sign_in_link(&self) -> Result<String, Error> {
        self.ways_in()
            .map(|w| w.url.expose().to_owned())
            .ok_or(Error::Signin(signin::Error::NotWaiting))
    }

    /// "Paste the address": the address the browser ended on, when it could not reach
    /// `127.0.0.1` (REFERENCE §1 redirect). It goes through the listener's own check
    /// ([`signin::PasteDoor::deliver`]): a code is exchanged as if the listener had received it,
    /// Kakao's `error=` ends the attempt with its own words. A refusal (not the callback
    /// address, wrong `state`, already came back, nothing waiting) is the view's error and the
    /// attempt keeps waiting.
    pub async fn paste_address(&self, pasted: &str) -> super::view::SessionView {
        self.begin();
        if self.lock().status == Status::Completing {
            // The browser (or an earlier paste) brought this attempt back a moment ago.
            self.set_error(signin::Error::PastedAlreadyUsed);
            return self.changed();
        }
        match self.ways_in().and_then(|w| w.door) {
            None => self.set_error(signin::Error::NotWaiting),
            Some(door) => match door.deliver(pasted).await {
                Ok(()) => tracing::info!("a pasted redirect address was taken"),
                Err(e) => self.set_error(e),
            },
        }
        self.changed()
    }

    /// "Kakao showed an error code": the cause and the fix of each error page Kakao shows
    /// instead of redirecting (REFERENCE §3 authorize-time KOE codes), in the protocol layer's
    /// own words, naming the redirect URI of the attempt waiting now (KOE006, KOE007).
    pub fn kakao_error_help(&self) -> Vec<KakaoErrorHelp> {
        let waiting = self.lock().waiting.clone();
        let (redirect_uri, logout_uri) = match &waiting {
            Some(w) if w.purpose == WaitPurpose::KakaoLogout => {
                (None, Some(w.redirect_uri.as_str()))
            }
            Some(w) => (Some(w.redirect_uri.as_str()), None),
            None => (None, None),
        };
        let mut help: Vec<KakaoErrorHelp> = KAKAO_ERROR_PAGES
            .iter()
            .map(|&code| {
                let e = kakao::Error::redirect(code, None, Some(code)).with_context(
                    &kakao::ErrorContext {
                        redirect_uri: redirect_uri.map(str::to_owned),
                        logout_redirect_uri: logout_uri.map(str::to_owned),
                    },
                );
                KakaoErrorHelp {
                    code: code.to_owned(),
                    cause: e.message(),
                    fix: e.fix(),
                }
            })
            .collect();
        help.push(KakaoErrorHelp {
            code: "other".to_owned(),
            cause: crate::messages::kakao::error_page_other(),
            fix: Some(crate::messages::kakao::error_page_other_fix()),
        });
        help
    }

    /// Binds the loopback listener and marks the window as waiting for `purpose`; the caller
    /// opens the browser next. Replaces (cancels) an attempt in progress.
    fn begin_wait(
        &self,
        purpose: WaitPurpose,
        redirect_uri: &str,
        cancel: CancelHandle,
        before_wait: Option<Status>,
        url: &str,
        armed: &Armed,
    ) -> u64 {
        let mut s = self.lock();
        s.ways_in = Some(WaysIn {
            url: Secret::new(url),
            start: armed.start_urls(),
            // A pasted address goes only to a sign-in's callback, never to the logout's.
            door: (purpose != WaitPurpose::KakaoLogout).then(|| armed.paste_door()),
        });
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
        s.attempt = Some(cancel);
        s.attempt_id += 1;
        s.attempt_id
    }

    /// Cancels the attempt in progress, if any, and binds a listener for a new one.
    fn replace_attempt(&self) -> Result<Loopback, signin::Error> {
        // A second click replaces the first attempt (and frees its port first).
        let previous = {
            let mut s = self.lock();
            s.ways_in = None;
            s.attempt.take()
        };
        if let Some(previous) = previous {
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
        let cancel = loopback.cancel_handle();
        // An `iss` on the callback must be Kakao's (RFC 9207), when present.
        let expected =
            signin::ExpectedState::new(state.as_str()).with_issuer(kakao.endpoints().issuer());
        let armed = match loopback.arm_callback(expected, self.lang()) {
            Ok(a) => a,
            Err(e) => {
                self.set_error(e);
                return self.changed();
            }
        };
        let id = self.begin_wait(
            purpose,
            &redirect_uri,
            cancel.clone(),
            None,
            url.as_str(),
            &armed,
        );
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
        // While the person is at Kakao: the HTTP client built, so the code exchange is not
        // the one to pay for it, and the keys for the ID token check, unless a fresh JWKS is
        // held (memory or the cache file), so the check after the code exchange is local.
        tokio::spawn(async move {
            kakao.prepare().await;
            if let Err(e) = kakao.prefetch_jwks().await {
                tracing::debug!(kind = %e.kind(), "JWKS prefetch failed; the check will fetch");
            }
        });
        let this = self.clone();
        // A panic in the background ends this attempt with an error the window shows, not the
        // task silently (the window would wait forever) nor the app.
        tokio::spawn(async move {
            let run = std::panic::AssertUnwindSafe(this.clone().run_attempt(attempt));
            if futures::FutureExt::catch_unwind(run).await.is_err() && this.lock().attempt_id == id
            {
                this.failed_inside("sign_in");
            }
        });
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
                self.complete(&code, &a.redirect_uri, &a.verifier, &a.nonce, a.purpose)
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
            s.ways_in = None;
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
    /// passed; without an ID token the member id comes from `/v2/user/me` first. Additional
    /// consent keeps to the signed-in member: tokens of another member are not adopted
    /// ([`Session::refuse_other_member`]).
    async fn complete(
        &self,
        code: &Secret,
        redirect_uri: &str,
        verifier: &PkceVerifier,
        nonce: &Nonce,
        purpose: WaitPurpose,
    ) -> Result<(), Error> {
        let kakao = self.kakao()?.clone();
        let response = kakao.exchange_code(code, redirect_uri, verifier).await?;
        let token = &response.access_token;
        let http = &*self.deps.http;
        let api_base = kakao.endpoints().api_base();
        // Additional consent keeps to the signed-in member (REFERENCE §5, Decision 15): tokens
        // of another member (the browser held another Kakao account) are not adopted.
        let current = self.keeper.lane().await.tokens().map(|t| t.member_id);
        let other_member = |member_id: i64| {
            purpose == WaitPurpose::Consent && current.is_some_and(|m| m != member_id)
        };
        let (pair, me, scopes, picture) = match &response.id_token {
            Some(id) => {
                let claims = kakao.verify_id_token(id, nonce).await?;
                if other_member(claims.member_id) {
                    let nickname = claims.nickname.clone();
                    self.refuse_other_member(&kakao, token, claims.member_id, nickname)
                        .await;
                    return Ok(());
                }
                let picture = async {
                    match &claims.picture {
                        Some(url) => Some(profile::fetch_image_at(http, api_base, url).await),
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
                if other_member(me.id) {
                    let nickname = me
                        .kakao_account
                        .as_ref()
                        .and_then(|a| a.profile.as_ref())
                        .and_then(|p| p.nickname.clone());
                    self.refuse_other_member(&kakao, token, me.id, nickname)
                        .await;
                    return Ok(());
                }
                let picture = async {
                    match profile::image_url(&me) {
                        Some(url) => Some(profile::fetch_image_at(http, api_base, url).await),
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
        if purpose == WaitPurpose::SignIn {
            // S07: the login Kakao was asked for after a Kakao account logout happened.
            self.lock().login_next = false;
        }
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

    /// REFERENCE §5, Decision 15: additional consent came back with another member's tokens.
    /// The session stays as it was; the stray tokens are revoked at Kakao (`/v1/user/logout`
    /// with them revokes that access token and its refresh token, §4c) and never stored; the
    /// notice says which account Kakao used and how to switch.
    async fn refuse_other_member(
        &self,
        kakao: &crate::kakao::KakaoClient,
        stray: &Secret,
        member_id: i64,
        nickname: Option<String>,
    ) {
        let who = match nickname.filter(|n| !n.trim().is_empty()) {
            Some(n) => format!("{n}, {member_id}"),
            None => member_id.to_string(),
        };
        tracing::info!("additional consent returned another member's tokens; not adopted");
        let notice = match kakao.logout(stray).await {
            Ok(_) => words::consent_other_account(&who),
            Err(e) => {
                tracing::warn!(kind = %e.kind(), "could not revoke the other member's tokens");
                words::consent_other_account_not_revoked(&who)
            }
        };
        self.set_notice(notice);
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
        let cancel = loopback.cancel_handle();
        let armed = match loopback.arm_logout(state.as_str(), self.lang()) {
            Ok(a) => a,
            Err(e) => {
                self.set_error(e);
                return self.changed();
            }
        };
        let id = self.begin_wait(
            WaitPurpose::KakaoLogout,
            &logout_uri,
            cancel.clone(),
            Some(Status::SignedOut),
            url.as_str(),
            &armed,
        );
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

/// The KOE codes Kakao shows on its own error page instead of redirecting, that the waiting
/// screen explains (REFERENCE §3, §1: KOE006 is a page; the others are configuration errors).
const KAKAO_ERROR_PAGES: [&str; 6] = ["KOE101", "KOE004", "KOE005", "KOE205", "KOE006", "KOE007"];

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
