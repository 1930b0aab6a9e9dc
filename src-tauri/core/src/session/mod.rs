//! The session state machine: restore at start (S04), sign in, refresh (single-flight),
//! additional consent (S12), consents (S13), logout (S05–S07), unlink.
//!
//! Every public operation returns the [`SessionView`] the window should show; failures are put
//! into `view.error` as `{kind, message, fix}` rather than returned, because the window always
//! needs the whole picture after a command, error or not. Listeners get the same view through
//! the `notify` callback whenever it changes in the background (a sign-in completing).
//!
//! Token rules that hold on every path:
//! - a transient failure (network, timeout, 5xx, -1, malformed body, keychain hiccup) never
//!   deletes a token;
//! - only a dead refresh token (KOE322, or -401 right after a refresh), logout or unlink does;
//! - a rotated refresh token is written to the keychain before the new access token is used.

mod error;
mod profile;
pub mod view;

pub use error::Error;

use crate::clock::Clock;
use crate::kakao::{
    self, AuthorizeParams, KakaoClient, Nonce, PkceVerifier, Prompt, StateToken, TokenResponse,
};
use crate::localdata::LocalData;
use crate::secret::Secret;
use crate::signin::{self, BrowserOpener, CallbackOutcome, CancelHandle, Loopback};
use crate::text::{Lang, Text};
use crate::vault::{StoredRefresh, StoredSession, Vault};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use view::{ConsentView, ErrorView, ProfileView, SessionView, Status, WaitPurpose, WaitingView};

/// Refresh a little before Kakao's expiry so a request never leaves with a token that dies on
/// the way.
const EXPIRY_MARGIN_SECS: i64 = 60;

/// What the session needs from the outside world. Every field is a seam: tests pass the
/// simulator's URL, a recording browser, a memory keychain or a manual clock.
pub struct Deps {
    /// `None` when no REST API key is configured: the setup screen.
    pub kakao: Option<Arc<KakaoClient>>,
    pub vault: Vault,
    pub browser: Arc<dyn BrowserOpener>,
    pub clock: Arc<dyn Clock>,
    pub local: LocalData,
    /// Fetches profile pictures (so the window's CSP stays closed to remote images).
    pub http: Arc<dyn kakao::HttpClient>,
    pub redirect_ports: Vec<u16>,
    pub signin_timeout: Duration,
    pub sandbox: bool,
    pub lang: Lang,
    pub version: String,
}

/// What listeners hear: the view changed, or the window should come to the front (S03).
#[derive(Debug, Clone)]
pub enum Event {
    Changed(Box<SessionView>),
    BringToFront,
}

pub type Notify = Arc<dyn Fn(Event) + Send + Sync>;

/// Tokens of the signed-in member, in memory. The keychain holds the same.
#[derive(Debug, Clone)]
struct Tokens {
    member_id: i64,
    access: Secret,
    access_expires_at: i64,
    id_token: Option<Secret>,
    scopes: Vec<String>,
    refresh: Option<StoredRefresh>,
}

impl Tokens {
    fn stored_session(&self, now: i64) -> StoredSession {
        let _ = now;
        StoredSession {
            member_id: self.member_id,
            access_token: self.access.clone(),
            access_expires_at: self.access_expires_at,
            id_token: self.id_token.clone(),
            scopes: self.scopes.clone(),
        }
    }
}

struct State {
    status: Status,
    /// Where to go back to when an attempt is cancelled or refused.
    before_wait: Status,
    waiting: Option<WaitingView>,
    attempt: Option<CancelHandle>,
    /// Which attempt is current; a replaced attempt's task sees a different number and stays
    /// quiet.
    attempt_id: u64,
    profile: Option<ProfileView>,
    consents: Option<Vec<ConsentView>>,
    error: Option<ErrorView>,
    notice: Option<Text>,
    lang: Lang,
    last_error_kind: Option<String>,
}

pub struct Session {
    deps: Deps,
    state: Mutex<State>,
    tokens: tokio::sync::Mutex<Option<Tokens>>,
    /// Held while refreshing: N callers with the same stale token cause one refresh.
    refresh_lock: tokio::sync::Mutex<()>,
    /// Bumped whenever the access token changes; a caller that saw generation g and finds a
    /// newer one after taking `refresh_lock` knows someone else already refreshed.
    generation: AtomicU64,
    notify: Notify,
}

/// How a sign-in-like attempt ended, for the caller to turn into a status.
enum AttemptEnd {
    Done,
    Cancelled,
}

impl Session {
    pub fn new(deps: Deps, notify: Notify) -> Arc<Session> {
        let status = if deps.kakao.is_some() {
            Status::Restoring
        } else {
            Status::Unconfigured
        };
        let lang = deps.lang;
        Arc::new(Session {
            deps,
            state: Mutex::new(State {
                status,
                before_wait: Status::SignedOut,
                waiting: None,
                attempt: None,
                attempt_id: 0,
                profile: None,
                consents: None,
                error: None,
                notice: None,
                lang,
                last_error_kind: None,
            }),
            tokens: tokio::sync::Mutex::new(None),
            refresh_lock: tokio::sync::Mutex::new(()),
            generation: AtomicU64::new(0),
            notify,
        })
    }

    fn kakao(&self) -> Option<&Arc<KakaoClient>> {
        self.deps.kakao.as_ref()
    }

    fn now(&self) -> i64 {
        self.deps.clock.now_unix()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The current view (cheap; no I/O).
    pub fn view(&self) -> SessionView {
        let s = self.lock();
        SessionView {
            status: s.status,
            sandbox: self.deps.sandbox,
            lang: s.lang,
            version: self.deps.version.clone(),
            redirect_uris: self
                .deps
                .redirect_ports
                .iter()
                .map(|p| format!("http://127.0.0.1:{p}{}", signin::CALLBACK_PATH))
                .collect(),
            logout_redirect_uris: self
                .deps
                .redirect_ports
                .iter()
                .map(|p| format!("http://127.0.0.1:{p}{}", signin::LOGOUT_PATH))
                .collect(),
            waiting: s.waiting.clone(),
            profile: s.profile.clone(),
            consents: s.consents.clone(),
            error: s.error.clone(),
            notice: s.notice.clone(),
        }
    }

    fn changed(&self) -> SessionView {
        let v = self.view();
        (self.notify)(Event::Changed(Box::new(v.clone())));
        v
    }

    fn set_status(&self, status: Status) {
        self.lock().status = status;
    }

    fn set_error(&self, error: impl Into<Error>) {
        let error: Error = error.into();
        tracing::warn!(kind = error.kind(), "{error}");
        let mut s = self.lock();
        s.last_error_kind = Some(error.kind().to_owned());
        s.error = Some(error.view());
    }

    fn set_notice(&self, notice: Text) {
        self.lock().notice = Some(notice);
    }

    /// Clears the error and notice a new command replaces.
    fn begin(&self) {
        let mut s = self.lock();
        s.error = None;
        s.notice = None;
    }

    pub fn dismiss_error(&self) -> SessionView {
        self.begin();
        self.changed()
    }

    pub fn set_language(&self, lang: Lang) -> SessionView {
        self.lock().lang = lang;
        self.changed()
    }

    fn lang(&self) -> Lang {
        self.lock().lang
    }

    // ---------------------------------------------------------------- restore (S04)

    /// At start: read the keychain, check the access token, refresh when needed, and only when
    /// the refresh token is dead delete the tokens. Transient failures keep every token and say
    /// "offline".
    pub async fn restore(&self) -> SessionView {
        if self.kakao().is_none() {
            self.set_status(Status::Unconfigured);
            return self.changed();
        }
        self.begin();
        self.set_status(Status::Restoring);
        self.changed();
        let loaded = match self.deps.vault.load().await {
            Ok(v) => v,
            Err(e) => {
                // Nothing can be read, so nothing is deleted either. A keychain that is locked,
                // slow (an unlock prompt nobody answered yet) or not running may still hold the
                // tokens: that is "offline" with Retry, not "signed out". Only an unreadable
                // entry means signing in again.
                let status = if matches!(e, crate::vault::Error::Corrupt { .. }) {
                    Status::SignedOut
                } else {
                    Status::Offline
                };
                self.set_error(e);
                self.set_status(status);
                return self.changed();
            }
        };
        let Some((session, refresh)) = loaded else {
            // No session entry, but a logout, unlink or sign-in whose keychain delete or write
            // failed halfway may have left a lone refresh entry: nothing can use it, so it must
            // not stay (fault matrix, "logout: delete" / "unlink: delete"). Best effort.
            let _ = self.deps.vault.clear().await;
            self.set_status(Status::SignedOut);
            return self.changed();
        };
        *self.tokens.lock().await = Some(Tokens {
            member_id: session.member_id,
            access: session.access_token,
            access_expires_at: session.access_expires_at,
            id_token: session.id_token,
            scopes: session.scopes,
            refresh,
        });
        self.generation.fetch_add(1, Ordering::SeqCst);
        let kakao = self.kakao().expect("checked above").clone();
        // Kakao's own check first: it knows about logout elsewhere and unlink.
        let checked = self
            .with_access(|token| {
                let kakao = kakao.clone();
                async move { kakao.access_token_info(&token).await }
            })
            .await;
        match checked {
            Ok(_) => {
                self.load_profile().await;
            }
            Err(e) => self.settle_failure(e),
        }
        self.changed()
    }

    /// Maps a failure of a background call to a status: signed out when the tokens are gone,
    /// offline when Kakao could not be reached, the error otherwise.
    fn settle_failure(&self, e: Error) {
        let status = if e.is_signed_out() {
            Status::SignedOut
        } else if e.is_transient() {
            Status::Offline
        } else {
            // e.g. KOE010 after a client-secret change: tokens stay, the fix is shown.
            let s = self.lock().status;
            if s == Status::Restoring {
                Status::Offline
            } else {
                s
            }
        };
        if e.is_signed_out() {
            let mut s = self.lock();
            s.profile = None;
            s.consents = None;
            s.notice = Some(Text::fixed(
                "로그인이 만료되었습니다. 다시 로그인해 주세요.",
                "Your Kakao session has ended. Please sign in again.",
            ));
        } else {
            self.set_error(e);
        }
        self.set_status(status);
    }

    /// Offline → try again.
    pub async fn retry(&self) -> SessionView {
        // This process may hold a newer refresh token than the keychain: Kakao rotated it and
        // the keychain write failed (locked, slow, no Secret Service). Kakao has killed the old
        // one, so write what we hold back first; reloading the keychain would lose the session
        // (fault matrix, "refresh (rotated): write").
        let held = self.tokens.lock().await.clone();
        if let Some(t) = held {
            let saved = self
                .deps
                .vault
                .save(&t.stored_session(self.now()), t.refresh.as_ref())
                .await;
            if let Err(e) = saved {
                self.begin();
                self.set_error(e);
                self.set_status(Status::Offline);
                return self.changed();
            }
        }
        self.restore().await
    }

    // ---------------------------------------------------------------- tokens

    /// Calls `f` with a fresh access token; on -401 refreshes once (single-flight) and retries
    /// once. A dead refresh token clears the keychain and ends the session.
    async fn with_access<T, F, Fut>(&self, f: F) -> Result<T, Error>
    where
        F: Fn(Secret) -> Fut,
        Fut: std::future::Future<Output = Result<T, kakao::Error>>,
    {
        let (token, gen) = self.fresh_access().await?;
        match f(token).await {
            Ok(v) => Ok(v),
            Err(e) if e.is_access_token_invalid() => {
                self.refresh_single_flight(gen).await?;
                let (token, _) = self.current_access().await?;
                match f(token).await {
                    Ok(v) => Ok(v),
                    // -401 right after a refresh: the grant is gone (unlinked elsewhere).
                    Err(e) if e.is_access_token_invalid() => {
                        self.drop_session().await;
                        Err(Error::SessionEnded)
                    }
                    Err(e) => Err(e.into()),
                }
            }
            Err(e) => Err(e.into()),
        }
    }

    async fn current_access(&self) -> Result<(Secret, u64), Error> {
        let tokens = self.tokens.lock().await;
        let t = tokens.as_ref().ok_or(Error::NotSignedIn)?;
        Ok((t.access.clone(), self.generation.load(Ordering::SeqCst)))
    }

    /// The access token, refreshed first when it has expired by our clock.
    async fn fresh_access(&self) -> Result<(Secret, u64), Error> {
        let (expired, gen) = {
            let tokens = self.tokens.lock().await;
            let t = tokens.as_ref().ok_or(Error::NotSignedIn)?;
            (
                t.access_expires_at <= self.now() + EXPIRY_MARGIN_SECS,
                self.generation.load(Ordering::SeqCst),
            )
        };
        if expired {
            self.refresh_single_flight(gen).await?;
        }
        self.current_access().await
    }

    /// Refreshes unless someone else already did since generation `seen` was read.
    async fn refresh_single_flight(&self, seen: u64) -> Result<(), Error> {
        let _one = self.refresh_lock.lock().await;
        if self.generation.load(Ordering::SeqCst) != seen {
            return Ok(());
        }
        let kakao = self.kakao().ok_or(Error::NotConfigured)?.clone();
        let refresh = {
            let tokens = self.tokens.lock().await;
            let t = tokens.as_ref().ok_or(Error::NotSignedIn)?;
            t.refresh.clone()
        };
        let Some(refresh) = refresh else {
            self.drop_session().await;
            return Err(Error::SessionEnded);
        };
        if refresh.refresh_expires_at <= self.now() {
            self.drop_session().await;
            return Err(Error::SessionEnded);
        }
        let response = match kakao.refresh(&refresh.refresh_token).await {
            Ok(r) => r,
            Err(e) if e.is_refresh_token_dead() => {
                tracing::info!("refresh token is no longer valid; signing out on this device");
                self.drop_session().await;
                return Err(Error::SessionEnded);
            }
            Err(e) => return Err(e.into()),
        };
        let now = self.now();
        if let Some(new_refresh) = &response.refresh_token {
            // Rotation: Kakao has already killed the old one, so the new one goes to memory and
            // the keychain before anything else happens — before the ID token check too (fault
            // matrix: a JWKS fault there used to lose the rotated token and so the session).
            let stored = StoredRefresh {
                refresh_token: new_refresh.clone(),
                refresh_expires_at: now + response.refresh_token_expires_in.unwrap_or(0),
            };
            self.tokens
                .lock()
                .await
                .as_mut()
                .ok_or(Error::NotSignedIn)?
                .refresh = Some(stored.clone());
            self.deps.vault.save_refresh(&stored).await?;
        }
        if let Some(id_token) = &response.id_token {
            kakao.verify_refreshed_id_token(id_token).await?;
        }
        let mut tokens = self.tokens.lock().await;
        let t = tokens.as_mut().ok_or(Error::NotSignedIn)?;
        t.access = response.access_token.clone();
        t.access_expires_at = now + response.expires_in;
        if response.id_token.is_some() {
            t.id_token = response.id_token.clone();
        }
        if let Some(scopes) = &response.scope {
            t.scopes = scopes.clone();
        }
        let stored = t.stored_session(now);
        self.generation.fetch_add(1, Ordering::SeqCst);
        drop(tokens);
        self.deps.vault.save_session(&stored).await?;
        Ok(())
    }

    /// The refresh token is dead: delete the tokens everywhere on this device.
    async fn drop_session(&self) {
        *self.tokens.lock().await = None;
        self.generation.fetch_add(1, Ordering::SeqCst);
        if let Err(e) = self.deps.vault.clear().await {
            self.set_error(e);
        }
    }

    // ---------------------------------------------------------------- profile (S09, S11, S14)

    async fn load_profile(&self) {
        let Some(kakao) = self.kakao().cloned() else {
            return;
        };
        let me = self
            .with_access(|token| {
                let kakao = kakao.clone();
                async move { kakao.user_me(&token).await }
            })
            .await;
        match me {
            Ok(me) => {
                let entered = self.deps.local.load(me.id).unwrap_or_default();
                let image = profile::fetch_image(&*self.deps.http, &me).await;
                let view = profile::profile_view(&me, &entered, image, self.now());
                let mut s = self.lock();
                s.profile = Some(view);
                s.status = Status::SignedIn;
            }
            Err(e) => self.settle_failure(e),
        }
    }

    /// S11: fetch `/v2/user/me` again.
    pub async fn refresh_profile(&self) -> SessionView {
        self.begin();
        self.load_profile().await;
        self.changed()
    }

    /// S09/S14/S15: a value the person typed in, kept on this machine only.
    pub async fn set_entered_value(&self, field: &str, value: &str) -> SessionView {
        self.begin();
        let member = self.tokens.lock().await.as_ref().map(|t| t.member_id);
        let Some(member) = member else {
            self.set_error(Error::NotSignedIn);
            return self.changed();
        };
        if !crate::localdata::ENTERABLE_FIELDS.contains(&field) {
            self.set_error(Error::BadArgument("field"));
            return self.changed();
        }
        if value.chars().count() > 200 {
            self.set_error(Error::BadArgument("value"));
            return self.changed();
        }
        match self.deps.local.set(member, field, value, self.now()) {
            Ok(()) => self.load_profile().await,
            Err(e) => self.set_error(e),
        }
        self.changed()
    }

    // ---------------------------------------------------------------- consents (S13)

    pub async fn load_consents(&self) -> SessionView {
        self.begin();
        let Some(kakao) = self.kakao().cloned() else {
            return self.changed();
        };
        let scopes = self
            .with_access(|token| {
                let kakao = kakao.clone();
                async move { kakao.scopes(&token, None).await }
            })
            .await;
        match scopes {
            Ok(s) => self.lock().consents = Some(profile::consent_views(&s.scopes)),
            Err(e) => self.settle_failure(e),
        }
        self.changed()
    }

    pub async fn withdraw_consent(&self, scope: &str) -> SessionView {
        self.begin();
        let Some(kakao) = self.kakao().cloned() else {
            return self.changed();
        };
        let ids = vec![scope.to_owned()];
        let result = self
            .with_access(|token| {
                let kakao = kakao.clone();
                let ids = ids.clone();
                async move { kakao.revoke_scopes(&token, &ids).await }
            })
            .await;
        match result {
            Ok(s) => {
                self.lock().consents = Some(profile::consent_views(&s.scopes));
                self.load_profile().await;
            }
            Err(e) => self.settle_failure(e),
        }
        self.changed()
    }

    // ---------------------------------------------------------------- sign in (S01–S03, S12)

    /// Opens the browser at Kakao and returns at once with status `waiting`; the rest happens
    /// in the background and arrives through `notify`.
    pub fn sign_in(self: &Arc<Self>, prompt: Option<Prompt>) -> SessionView {
        let prompts = prompt.into_iter().collect();
        self.start_attempt(WaitPurpose::SignIn, Vec::new(), prompts)
    }

    /// S12: authorize again with `scope=` for the items the person agrees to now.
    pub async fn request_consent(self: &Arc<Self>, scopes: Vec<String>) -> SessionView {
        let mut scopes = scopes;
        scopes.retain(|s| is_scope_id(s));
        scopes.dedup();
        if scopes.is_empty() {
            self.begin();
            self.set_error(Error::BadArgument("scopes"));
            return self.changed();
        }
        // Without `openid` Kakao issues no new ID token with the new tokens.
        let oidc = self
            .tokens
            .lock()
            .await
            .as_ref()
            .map(|t| t.id_token.is_some() || t.scopes.iter().any(|s| s == "openid"))
            .unwrap_or(false);
        if oidc && !scopes.iter().any(|s| s == "openid") {
            scopes.push("openid".into());
        }
        self.start_attempt(WaitPurpose::Consent, scopes, Vec::new())
    }

    pub fn cancel_sign_in(&self) -> SessionView {
        let handle = {
            let mut s = self.lock();
            s.attempt_id += 1;
            s.attempt.take()
        };
        if let Some(h) = handle {
            h.cancel();
        }
        let mut s = self.lock();
        if matches!(s.status, Status::Waiting) {
            s.status = s.before_wait;
            s.waiting = None;
        }
        drop(s);
        self.changed()
    }

    fn start_attempt(
        self: &Arc<Self>,
        purpose: WaitPurpose,
        scopes: Vec<String>,
        prompts: Vec<Prompt>,
    ) -> SessionView {
        self.begin();
        let Some(kakao) = self.kakao().cloned() else {
            self.set_error(Error::NotConfigured);
            return self.changed();
        };
        // A second click replaces the first attempt (and frees its port first).
        if let Some(previous) = self.lock().attempt.take() {
            previous.cancel();
        }
        let loopback = match bind_with_retry(&self.deps.redirect_ports) {
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
        {
            let mut s = self.lock();
            // Where a cancel or refusal returns to: only a settled state, never "restoring".
            s.before_wait = match s.status {
                Status::SignedIn => Status::SignedIn,
                Status::Offline => Status::Offline,
                Status::Waiting | Status::Completing => s.before_wait,
                _ => Status::SignedOut,
            };
            s.status = Status::Waiting;
            s.waiting = Some(WaitingView {
                purpose,
                redirect_uri: redirect_uri.clone(),
                timeout_secs: self.deps.signin_timeout.as_secs(),
            });
            s.attempt = Some(cancel.clone());
            s.attempt_id += 1;
        }
        let attempt_id = self.lock().attempt_id;
        if let Err(e) = self.deps.browser.open(url.as_str()) {
            cancel.cancel();
            drop(loopback);
            let mut s = self.lock();
            s.status = s.before_wait;
            s.waiting = None;
            s.attempt = None;
            drop(s);
            self.set_error(e);
            return self.changed();
        }
        tracing::info!(
            port = loopback.port(),
            ?purpose,
            "waiting for Kakao's redirect"
        );
        let view = self.changed();
        let this = self.clone();
        let attempt = Attempt {
            loopback,
            state,
            nonce,
            verifier,
            redirect_uri,
            purpose,
            id: attempt_id,
        };
        tokio::spawn(async move {
            this.run_attempt(attempt).await;
        });
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
                {
                    let mut s = self.lock();
                    s.status = Status::Completing;
                }
                self.changed();
                (self.notify)(Event::BringToFront);
                match self
                    .complete(&code, &a.redirect_uri, &a.verifier, &a.nonce)
                    .await
                {
                    Ok(()) => Ok(AttemptEnd::Done),
                    Err(e) => Err(e),
                }
            }
            Ok(CallbackOutcome::Denied { error, description }) => {
                (self.notify)(Event::BringToFront);
                let e = kakao::Error::redirect(&error, description.as_deref(), None)
                    .with_redirect_uri(&a.redirect_uri);
                if a.purpose == WaitPurpose::Consent && e.kind() == "access_denied" {
                    // S12: refusing more consent is a choice, not an error: nothing changes.
                    self.set_notice(Text::fixed(
                        "추가 동의를 하지 않았습니다. 이 항목은 계속 '동의 필요'로 남습니다.",
                        "You did not agree, so this item stays 'consent needed'.",
                    ));
                    Ok(AttemptEnd::Cancelled)
                } else {
                    Err(Error::Kakao(e))
                }
            }
            Err(signin::Error::Cancelled) => Ok(AttemptEnd::Cancelled),
            Err(e) => Err(Error::Signin(e)),
        };
        let mut s = self.lock();
        s.attempt = None;
        s.waiting = None;
        match end {
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
            Ok(AttemptEnd::Cancelled) => s.status = s.before_wait,
            Err(e) => {
                s.status = s.before_wait;
                drop(s);
                self.set_error(e);
                self.changed();
                return;
            }
        }
        drop(s);
        self.changed();
    }

    /// Code → tokens → ID token check → keychain → profile. Nothing is stored unless every
    /// check passed.
    async fn complete(
        &self,
        code: &Secret,
        redirect_uri: &str,
        verifier: &PkceVerifier,
        nonce: &Nonce,
    ) -> Result<(), Error> {
        let kakao = self.kakao().ok_or(Error::NotConfigured)?.clone();
        let response: TokenResponse = kakao.exchange_code(code, redirect_uri, verifier).await?;
        let claims = match &response.id_token {
            Some(id) => Some(kakao.verify_id_token(id, nonce).await?),
            None => None,
        };
        let member_id = match &claims {
            Some(c) => c.member_id,
            None => kakao.user_me(&response.access_token).await?.id,
        };
        let now = self.now();
        let previous = self.tokens.lock().await.clone();
        // Additional consent may return no new refresh token; keep the one we have then.
        let refresh = match (&response.refresh_token, previous.as_ref()) {
            (Some(rt), _) => Some(StoredRefresh {
                refresh_token: rt.clone(),
                refresh_expires_at: now + response.refresh_token_expires_in.unwrap_or(0),
            }),
            (None, Some(p)) if p.member_id == member_id => p.refresh.clone(),
            (None, _) => None,
        };
        let tokens = Tokens {
            member_id,
            access: response.access_token.clone(),
            access_expires_at: now + response.expires_in,
            id_token: response.id_token.clone(),
            scopes: response.scope.clone().unwrap_or_default(),
            refresh,
        };
        if let Some(r) = &tokens.refresh {
            self.deps.vault.save_refresh(r).await?;
        }
        self.deps
            .vault
            .save_session(&tokens.stored_session(now))
            .await?;
        *self.tokens.lock().await = Some(tokens);
        self.generation.fetch_add(1, Ordering::SeqCst);
        self.lock().consents = None;
        self.load_profile().await;
        Ok(())
    }

    // ---------------------------------------------------------------- logout, unlink

    /// S05/S06: logs out on this device. Kakao is told (`/v1/user/logout`), and the local tokens
    /// go whatever it answers. With `kakao_account` the browser also logs out of the Kakao
    /// account (S07).
    pub async fn logout(self: &Arc<Self>, kakao_account: bool) -> SessionView {
        self.begin();
        let tokens = self.tokens.lock().await.clone();
        let mut told_kakao = true;
        if let (Some(kakao), Some(t)) = (self.kakao().cloned(), tokens.as_ref()) {
            if let Err(e) = kakao.logout(&t.access).await {
                // -401: the token was already dead; Kakao has nothing to forget.
                if !e.is_access_token_invalid() {
                    tracing::warn!(
                        kind = e.kind().as_str(),
                        "Kakao logout call failed; logging out locally"
                    );
                    told_kakao = false;
                }
            }
        }
        *self.tokens.lock().await = None;
        self.generation.fetch_add(1, Ordering::SeqCst);
        let cleared = self.deps.vault.clear().await;
        {
            let mut s = self.lock();
            s.profile = None;
            s.consents = None;
            s.status = Status::SignedOut;
        }
        match cleared {
            Err(e) => self.set_error(e),
            Ok(()) if !told_kakao => self.set_notice(Text::fixed(
                "이 기기에서 로그아웃했습니다. 카카오 서버에는 알리지 못했습니다(네트워크 확인). 토큰은 이 기기에서 삭제되었습니다.",
                "Logged out on this device. Kakao could not be told (check the network); the tokens were deleted from this device.",
            )),
            Ok(()) => self.set_notice(Text::fixed(
                "이 기기에서 로그아웃했습니다. 다른 기기의 로그인은 그대로입니다.",
                "Logged out on this device. Other devices stay signed in.",
            )),
        }
        if kakao_account {
            return self.start_kakao_logout();
        }
        self.changed()
    }

    /// S07: `/oauth/logout` in the browser, back to a loopback logout page.
    fn start_kakao_logout(self: &Arc<Self>) -> SessionView {
        let Some(kakao) = self.kakao().cloned() else {
            return self.changed();
        };
        let loopback = match bind_with_retry(&self.deps.redirect_ports) {
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
        {
            let mut s = self.lock();
            s.before_wait = Status::SignedOut;
            s.status = Status::Waiting;
            s.waiting = Some(WaitingView {
                purpose: WaitPurpose::KakaoLogout,
                redirect_uri: logout_uri.clone(),
                timeout_secs: self.deps.signin_timeout.as_secs(),
            });
            s.attempt = Some(cancel.clone());
            s.attempt_id += 1;
        }
        let attempt_id = self.lock().attempt_id;
        if let Err(e) = self.deps.browser.open(url.as_str()) {
            let mut s = self.lock();
            s.status = Status::SignedOut;
            s.waiting = None;
            s.attempt = None;
            drop(s);
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
            if this.lock().attempt_id != attempt_id {
                return;
            }
            {
                let mut s = this.lock();
                s.attempt = None;
                s.waiting = None;
                s.status = Status::SignedOut;
            }
            match result {
                Ok(()) => {
                    this.set_notice(Text::fixed(
                        "이 기기와 브라우저의 카카오계정에서 모두 로그아웃했습니다.",
                        "Logged out on this device and of the Kakao account in the browser.",
                    ));
                    (this.notify)(Event::BringToFront);
                }
                Err(signin::Error::Cancelled) => {}
                Err(e) => this.set_error(e),
            }
            this.changed();
        });
        view
    }

    /// Disconnects the app: Kakao withdraws the consents and kills every token; then the
    /// keychain entries and the values typed in on this machine go. If Kakao cannot be reached
    /// nothing is deleted, so the person can try again.
    pub async fn unlink(&self) -> SessionView {
        self.begin();
        let Some(kakao) = self.kakao().cloned() else {
            return self.changed();
        };
        let result = self
            .with_access(|token| {
                let kakao = kakao.clone();
                async move { kakao.unlink(&token).await }
            })
            .await;
        match result {
            Ok(member_id) => {
                *self.tokens.lock().await = None;
                self.generation.fetch_add(1, Ordering::SeqCst);
                let cleared = self.deps.vault.clear().await;
                let local = self.deps.local.delete_member(member_id);
                {
                    let mut s = self.lock();
                    s.profile = None;
                    s.consents = None;
                    s.status = Status::SignedOut;
                }
                if let Err(e) = cleared {
                    self.set_error(e);
                } else if let Err(e) = local {
                    self.set_error(e);
                } else {
                    self.set_notice(Text::fixed(
                        "앱 연결을 끊었습니다. 카카오는 이 앱에 대한 동의를 철회했고, 이 기기의 토큰과 직접 입력한 정보를 삭제했습니다.",
                        "The app is disconnected. Kakao withdrew your consents to this app; the tokens and the values you entered on this computer were deleted.",
                    ));
                }
            }
            Err(e) => self.settle_failure(e),
        }
        self.changed()
    }

    // ---------------------------------------------------------------- diagnostics

    /// For "copy diagnostics": settings and state, never a token, code, member id or
    /// profile value.
    pub fn diagnostics(&self, extra: &[(&str, String)]) -> String {
        let s = self.lock();
        let mut out = String::new();
        out.push_str(&format!("Kakao Sign-in {}\n", self.deps.version));
        out.push_str(&format!(
            "os: {} {}\n",
            std::env::consts::OS,
            std::env::consts::ARCH
        ));
        out.push_str(&format!("status: {:?}\n", s.status));
        out.push_str(&format!("sandbox: {}\n", self.deps.sandbox));
        out.push_str(&format!("configured: {}\n", self.deps.kakao.is_some()));
        if let Some(k) = &self.deps.kakao {
            out.push_str(&format!("auth url: {}\n", k.endpoints().auth_base()));
            out.push_str(&format!("api url: {}\n", k.endpoints().api_base()));
        }
        out.push_str(&format!("redirect ports: {:?}\n", self.deps.redirect_ports));
        out.push_str(&format!(
            "last error: {}\n",
            s.last_error_kind.as_deref().unwrap_or("none")
        ));
        for (k, v) in extra {
            out.push_str(&format!("{k}: {v}\n"));
        }
        out
    }

    /// For tests and benchmarks: how many times the access token changed.
    pub fn token_generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }
}

struct Attempt {
    loopback: Loopback,
    state: StateToken,
    nonce: Nonce,
    verifier: PkceVerifier,
    redirect_uri: String,
    purpose: WaitPurpose,
    id: u64,
}

/// A cancelled attempt's listener frees its port as it shuts down; a new attempt started at
/// the same moment waits briefly for it rather than reporting "all ports busy".
fn bind_with_retry(ports: &[u16]) -> Result<Loopback, signin::Error> {
    let mut last = None;
    for _ in 0..10 {
        match Loopback::bind(ports) {
            Ok(l) => return Ok(l),
            Err(e @ signin::Error::PortsBusy { .. }) => {
                last = Some(e);
                std::thread::sleep(Duration::from_millis(50));
            }
            Err(e) => return Err(e),
        }
    }
    Err(last.expect("loop ran"))
}

fn is_scope_id(s: &str) -> bool {
    !s.is_empty() && s.len() <= 64 && s.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')
}
