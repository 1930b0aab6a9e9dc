//! The session: restore at start (S04), sign in, refresh (single-flight), additional consent
//! (S12), consents (S13), logout (S05–S07), unlink.
//!
//! Every public operation returns the [`SessionView`] the window should show; failures are put
//! into `view.error` as `{kind, message, fix}` rather than returned, because the window always
//! needs the whole picture after a command, error or not. Listeners get the same view through
//! the `notify` callback whenever it changes in the background (a sign-in completing).
//!
//! The module is split by job:
//! - `tokens`: keeping tokens. One lane (an async lock held across a whole change) through
//!   which every change of the session goes: sign-in and consent completing, the refresh and
//!   its write-back, logout, unlink, dropping a dead session.
//! - `attempt`: browser round trips (sign-in, additional consent, Kakao account logout).
//! - `state`: the view state and the few ways it changes; `view`: the view models.
//! - `deps`: the seams, built from [`Config`](crate::config::Config) in one place.
//!
//! Token rules that hold on every path:
//! - a transient failure (network, timeout, 5xx, -1, malformed body, keychain hiccup) never
//!   deletes a token;
//! - only a dead refresh token (KOE322, or -401 right after a refresh), logout or unlink does;
//! - a rotated refresh token is written to the keychain before the new access token is used;
//! - an answer that belongs to a session that no longer exists is dropped.

mod attempt;
mod deps;
mod error;
mod profile;
mod state;
mod tokens;
pub mod view;

pub use crate::kakao::Prompt;
pub use crate::text::Lang;
pub use deps::{AppInfo, Deps, KakaoApp, SetupError};
pub use error::{Error, ErrorKind};

use crate::kakao::{self, KakaoClient, TokenVerdict};
use crate::messages::session as words;
use crate::secret::Secret;
use crate::text::Text;
use state::State;
use std::sync::{Arc, Mutex};
use tokens::{Keeper, Lane};
use view::{SessionView, Status, WaitPurpose};

/// The functions that turn Kakao's answers into what the window shows, reachable by the fuzz
/// target `view_models` (fuzz/): not an API of the app.
#[doc(hidden)]
pub mod fuzzing {
    use super::view::{ConsentView, ProfileView};
    use crate::kakao::{ScopeInfo, UserMe};
    use crate::localdata::EnteredValue;
    use std::collections::BTreeMap;
    use url::Url;

    /// `/v2/user/me` and the values typed in → the profile card.
    pub fn profile_view(
        me: &UserMe,
        entered: &BTreeMap<String, EnteredValue>,
        image: Option<String>,
        now: i64,
    ) -> ProfileView {
        super::profile::profile_view(me, entered, image, false, now)
    }

    /// `/v2/user/scopes` → the consent list.
    pub fn consent_views(scopes: &[ScopeInfo]) -> Vec<ConsentView> {
        super::profile::consent_views(scopes)
    }

    /// Whether the picture at `url` would be fetched, with kapi at `api_base`.
    pub fn image_url_allowed(url: &Url, api_base: &Url) -> bool {
        super::profile::image_url_allowed(url, api_base)
    }
}

/// What listeners hear: the view changed, or the window should come to the front (S03).
#[derive(Debug, Clone)]
pub enum Event {
    /// The view changed; the new one is attached.
    Changed(Box<SessionView>),
    /// A browser round trip came back: raise the window.
    BringToFront,
}

/// The listener the session calls on every [`Event`]; called from any thread, must not block.
pub type Notify = Arc<dyn Fn(Event) + Send + Sync>;

/// The session. Cheap to share (`Arc`); every method may be called from any task.
pub struct Session {
    deps: Deps,
    kakao: Option<Arc<KakaoClient>>,
    state: Mutex<State>,
    keeper: Keeper,
    /// Loopback ports kept bound after an attempt ended without a code (issue 17).
    ports: crate::signin::PortKeeper,
    notify: Notify,
}

impl Session {
    /// A session over `deps`, restoring nothing yet: call [`Session::restore`] at start. The
    /// status is `restoring`, or `unconfigured` when no REST API key is configured.
    pub fn new(deps: Deps, notify: Notify) -> Arc<Session> {
        let kakao = deps.kakao_app.as_ref().map(|app| {
            let client = KakaoClient::new(
                deps.http.clone(),
                app.endpoints.clone(),
                app.client_id.clone(),
                app.client_secret.clone(),
                deps.clock.clone(),
            );
            Arc::new(match &deps.jwks_file {
                Some(file) => client.with_jwks_file(file.clone()),
                None => client,
            })
        });
        let status = if kakao.is_some() {
            Status::Restoring
        } else {
            Status::Unconfigured
        };
        // Expiries are Kakao's times: the lane judges them on Kakao's clock.
        let lane_clock = match &kakao {
            Some(k) => k.kakao_clock(),
            None => kakao::KakaoClock::new(deps.clock.clone()),
        };
        let keeper = Keeper::new(deps.vault.clone(), lane_clock);
        Arc::new(Session {
            state: Mutex::new(State::new(status, deps.lang)),
            kakao,
            keeper,
            ports: crate::signin::PortKeeper::default(),
            deps,
            notify,
        })
    }

    fn kakao(&self) -> Result<&Arc<KakaoClient>, Error> {
        self.kakao.as_ref().ok_or(Error::NotConfigured)
    }

    fn now(&self) -> i64 {
        self.deps.clock.now_unix()
    }

    /// Clears the error and the notice (a standing notice too).
    pub fn dismiss_error(&self) -> SessionView {
        self.begin();
        self.lock().standing_notice = None;
        self.changed()
    }

    /// Says something about this whole run in the window (e.g. that it runs without the
    /// single-instance guard): shown whenever no other notice is, until dismissed.
    pub fn set_standing_notice(&self, notice: Text) -> SessionView {
        self.lock().standing_notice = Some(notice);
        self.changed()
    }

    /// Switches the window's language; messages already shown carry both languages.
    pub fn set_language(&self, lang: Lang) -> SessionView {
        self.lock().lang = lang;
        self.changed()
    }

    /// What the window shows after `operation` panicked (a bug) and was ended at the command
    /// boundary or in a background task: the error [`Error::Internal`], and a status that was
    /// mid-change (restoring, completing) settled so the window offers its buttons again.
    /// Nothing is deleted: the tokens held stay, in memory and in the keychain.
    pub fn failed_inside(&self, operation: &'static str) -> SessionView {
        tracing::error!(
            operation,
            "an operation panicked and was ended; the app runs on"
        );
        {
            let mut s = self.lock();
            s.attempt = None;
            s.waiting = None;
            match s.status {
                Status::Waiting | Status::Completing => s.status = s.before_wait,
                // Offline offers Retry, which restores again.
                Status::Restoring => s.status = Status::Offline,
                _ => {}
            }
        }
        self.set_error(Error::Internal(operation));
        self.changed()
    }

    /// How many changes of the session wait for the lane right now: for tests that show a
    /// change waits for the one in flight.
    #[doc(hidden)]
    pub fn changes_waiting(&self) -> usize {
        self.keeper.waiting()
    }

    // ---------------------------------------------------------------- restore (S04)

    /// At start: read the keychain, show the profile with the stored access token (one
    /// `/v2/user/me`; -401 refreshes and retries), then check the token with Kakao
    /// (`access_token_info`) off the critical path; only when the refresh token is dead delete
    /// the tokens. Transient failures keep every token and say
    /// "offline"; a keychain that is not there, has no default collection or is locked with no
    /// way to unlock it says `no_keychain` with what to do. Signed out, it also checks that the
    /// keychain can store ([`Vault::check_can_store`](crate::vault::Vault::check_can_store)):
    /// a locked keychain with nothing in it reads as empty and would fail only after Kakao
    /// issued tokens.
    pub async fn restore(&self) -> SessionView {
        let Ok(kakao) = self.kakao().cloned() else {
            self.lock().status = Status::Unconfigured;
            return self.changed();
        };
        self.begin();
        self.lock().status = Status::Restoring;
        self.changed();
        // Beside the keychain read: the HTTP client built for `/v2/user/me`, which is then the
        // restore's only cost after the read (issue 19: restore ≤ 1 RTT + 40 ms).
        tokio::spawn({
            let kakao = kakao.clone();
            async move { kakao.prepare().await }
        });
        {
            let mut lane = self.keeper.lane().await;
            match lane.load().await {
                Err(e) => {
                    // Nothing can be read, so nothing is deleted either. A keychain that is
                    // locked or not there may still hold the tokens once it is unlocked or
                    // started: "no keychain" with what to do and Retry. One that is slow (an
                    // unlock prompt nobody answered yet) is "offline" with Retry. Neither is
                    // "signed out": only an unreadable entry means signing in again.
                    let e = Error::from(e);
                    let status = if e.is_transient() {
                        State::keychain_failed_status(&e)
                    } else {
                        Status::SignedOut
                    };
                    self.set_error(e);
                    self.lock().status = status;
                    return self.changed();
                }
                Ok(false) => {
                    // No session entry, but a logout, unlink or sign-in whose keychain delete or
                    // write failed halfway may have left a lone refresh entry: nothing can use
                    // it, so it must not stay (fault matrix, "logout: delete"). Best effort.
                    let _ = self.keeper.vault().clear().await;
                    let checked = self.keeper.vault().check_can_store().await;
                    self.lock().signed_out();
                    if let Err(e) = checked.map_err(Error::from) {
                        // Signed out either way; with no keychain to sign in to, say so now.
                        if e.is_no_keychain() {
                            self.lock().status = Status::NoKeychain;
                        }
                        self.set_error(e);
                    }
                    return self.changed();
                }
                Ok(true) => {
                    let mut s = self.lock();
                    if s.shown != lane.pair() {
                        s.profile = None;
                        s.consents = None;
                    }
                    s.shown = lane.pair();
                }
            }
        }
        // One authenticated call shows the profile: `/v2/user/me` with the stored access token
        // (-401: refresh once and retry). Kakao knows about logout elsewhere and unlink there as
        // well as in `access_token_info`, which therefore follows off the critical path.
        self.load_profile().await;
        let view = self.changed();
        if view.status != Status::SignedIn {
            return view;
        }
        self.check_token_info(&kakao).await;
        self.changed()
    }

    /// Kakao's own check of the access token (`/v1/user/access_token_info`, REFERENCE §4b), made
    /// after the restored profile is shown. A verdict about the session (an error code other than
    /// a transient one; -401 refreshes and retries like every call) is shown; a transient failure
    /// says nothing, since `/v2/user/me` has just answered. A verdict is judged as Kakao's guidance
    /// says ([`Session::settle_token_failure`]: -101 ends as disconnected).
    async fn check_token_info(&self, kakao: &Arc<KakaoClient>) {
        let pair = self.keeper.lane().await.pair();
        let checked = self
            .with_access(|token| {
                let kakao = kakao.clone();
                async move { kakao.access_token_info(&token).await }
            })
            .await;
        match checked {
            Ok(_) => {}
            Err(e) if e.is_transient() => {
                tracing::debug!(kind = %e.kind(), "access_token_info failed after the profile");
            }
            Err(e) => self.settle_token_failure(e, pair).await,
        }
    }

    /// A failure of a call made with the session's access token, judged as Kakao's guidance and
    /// SDKs say ([`kakao::Error::token_verdict`], REFERENCE §4b): -101 (disconnected at Kakao)
    /// ends the session as Disconnect does; any other kapi code but -1, -2, -401 (and the
    /// transient ones) ends it with Kakao's reason; the rest is [`Session::settle_failure`].
    /// `pair`: the session the call was made for; a newer one is left alone.
    async fn settle_token_failure(&self, e: Error, pair: Option<crate::vault::PairId>) {
        let verdict = match &e {
            Error::Kakao(k) => k.token_verdict(),
            _ => TokenVerdict::Keep,
        };
        match verdict {
            TokenVerdict::NotLinked => self.end_not_linked(pair).await,
            TokenVerdict::Unusable => {
                tracing::info!(kind = %e.kind(), "Kakao says the session can no longer be used");
                let mut lane = self.keeper.lane().await;
                if pair.is_some() && lane.pair() == pair {
                    let notice = words::session_unusable(&e.message());
                    self.end_in(&mut lane, Ok(notice)).await;
                }
            }
            TokenVerdict::Transient | TokenVerdict::Refresh | TokenVerdict::Keep => {
                self.settle_failure(e)
            }
        }
    }

    /// The app was disconnected at Kakao (kapi -101: the Kakao account page, KakaoTalk): what
    /// Disconnect would have done here is done now. The tokens and the member's typed values
    /// go; the notice says it was already disconnected.
    async fn end_not_linked(&self, pair: Option<crate::vault::PairId>) {
        let mut lane = self.keeper.lane().await;
        let Some(member_id) = lane.tokens().map(|t| t.member_id) else {
            return;
        };
        if pair.is_none() || lane.pair() != pair {
            return;
        }
        tracing::info!("the app was disconnected at Kakao; ending the session here");
        let outcome = match self.deps.local.delete_member(member_id) {
            Err(e) => Err(e.into()),
            Ok(()) => Ok(words::already_unlinked()),
        };
        self.end_in(&mut lane, outcome).await;
    }

    /// Offline → try again. The tokens held in memory are written back first: Kakao may have
    /// rotated the refresh token while the keychain failed, and reloading the keychain would
    /// lose it (fault matrix, "refresh (rotated): write").
    pub async fn retry(&self) -> SessionView {
        let written = self.keeper.lane().await.write_back().await;
        if let Err(e) = written {
            self.begin();
            let e = Error::from(e);
            let status = State::keychain_failed_status(&e);
            self.set_error(e);
            self.lock().status = status;
            return self.changed();
        }
        self.restore().await
    }

    // ---------------------------------------------------------------- tokens

    /// Calls `f` with a fresh access token; on -401 refreshes once (single-flight) and retries
    /// once. Returns the answer and the session (pair) it belongs to. A dead refresh token ends
    /// the session ([`Error::SessionEnded`]); a session replaced meanwhile gives
    /// [`Error::Superseded`].
    async fn with_access<T, F, Fut>(&self, f: F) -> Result<(T, crate::vault::PairId), Error>
    where
        F: Fn(Secret) -> Fut,
        Fut: std::future::Future<Output = Result<T, kakao::Error>>,
    {
        let kakao = self.kakao()?;
        let first = {
            let mut lane = self.keeper.lane().await;
            if lane.access_expired() {
                self.refresh_in(&mut lane, kakao).await?;
            }
            lane.access()?
        };
        let e = match f(first.token.clone()).await {
            Ok(v) => return Ok((v, first.pair)),
            Err(e) if e.is_access_token_invalid() => e,
            Err(e) => return Err(e.into()),
        };
        tracing::debug!(kind = %e.kind(), "access token refused; refreshing once");
        let second = {
            let mut lane = self.keeper.lane().await;
            if lane.pair() != Some(first.pair) {
                return Err(Error::Superseded);
            }
            // Someone else refreshed since we copied the token: use theirs (single flight).
            if lane.generation() == first.generation {
                self.refresh_in(&mut lane, kakao).await?;
            }
            lane.access()?
        };
        match f(second.token.clone()).await {
            Ok(v) => Ok((v, second.pair)),
            // -401 right after a refresh: the grant is gone (unlinked elsewhere).
            Err(e) if e.is_access_token_invalid() => {
                let mut lane = self.keeper.lane().await;
                if lane.pair() != Some(second.pair) {
                    return Err(Error::Superseded);
                }
                self.end_in(&mut lane, Ok(words::session_ended())).await;
                Err(Error::SessionEnded)
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Refreshes in the lane; a dead refresh token ends the session there and then.
    async fn refresh_in(&self, lane: &mut Lane<'_>, kakao: &KakaoClient) -> Result<(), Error> {
        match lane.refresh(kakao).await {
            Err(Error::SessionEnded) => {
                self.end_in(lane, Ok(words::session_ended())).await;
                Err(Error::SessionEnded)
            }
            other => other,
        }
    }

    /// The one way a session ends (dead refresh token, logout, unlink): the tokens go from
    /// memory and the keychain, the window shows signed out with `outcome` (a notice, or an
    /// error to show instead). A keychain failure to delete is shown in its place.
    async fn end_in(&self, lane: &mut Lane<'_>, outcome: Result<Text, Error>) {
        let failed = lane.end().await;
        self.lock().signed_out();
        match (failed, outcome) {
            (Some(e), _) => self.set_error(e),
            (None, Err(e)) => self.set_error(e),
            (None, Ok(notice)) => self.set_notice(notice),
        }
    }

    // ---------------------------------------------------------------- profile (S09, S11, S14)

    async fn load_profile(&self) {
        let Ok(kakao) = self.kakao().cloned() else {
            return;
        };
        let me = self
            .with_access(|token| {
                let kakao = kakao.clone();
                async move { kakao.user_me(&token).await }
            })
            .await;
        match me {
            Ok((me, pair)) => self.show_profile(&me, pair, None).await,
            Err(e) => self.settle_failure(e),
        }
    }

    /// Shows `me` for session `pair`. The picture is one more round trip (Kakao's CDN): unless
    /// `picture` brings it already fetched, everything else is shown first (the picture this
    /// member had stays meanwhile) and the picture follows in the next view.
    async fn show_profile(
        &self,
        me: &kakao::UserMe,
        pair: crate::vault::PairId,
        picture: Option<Option<String>>,
    ) {
        let entered = self.deps.local.load(me.id).unwrap_or_default();
        let picture = match picture {
            Some(p) => p,
            None => {
                if profile::image_url(me).is_some() {
                    let mut view = profile::profile_view(me, &entered, None, true, self.now());
                    let shown = self.apply(pair, |s| {
                        view.image = s
                            .profile
                            .as_ref()
                            .filter(|p| p.member_id == view.member_id)
                            .and_then(|p| p.image.clone());
                        s.profile = Some(view);
                        s.settle(Status::SignedIn);
                    });
                    if !shown {
                        return;
                    }
                    self.changed();
                }
                match self.kakao() {
                    Ok(kakao) => {
                        let api_base = kakao.endpoints().api_base().clone();
                        profile::fetch_image(&*self.deps.http, &api_base, me).await
                    }
                    Err(_) => None,
                }
            }
        };
        let view = profile::profile_view(me, &entered, picture, false, self.now());
        self.apply(pair, |s| {
            s.profile = Some(view);
            s.settle(Status::SignedIn);
        });
    }

    /// S11: fetch `/v2/user/me` again.
    pub async fn refresh_profile(&self) -> SessionView {
        self.begin();
        self.load_profile().await;
        self.changed()
    }

    /// S09/S14/S15: a value the person typed in, kept on this machine only. `field` is one of
    /// [`ENTERABLE_FIELDS`](crate::localdata::ENTERABLE_FIELDS); `value` at most 200
    /// characters.
    pub async fn set_entered_value(&self, field: &str, value: &str) -> SessionView {
        self.begin();
        let member = self.keeper.lane().await.tokens().map(|t| t.member_id);
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

    /// S13: the consent items and whether each is agreed (`/v2/user/scopes`).
    pub async fn load_consents(&self) -> SessionView {
        self.begin();
        let Ok(kakao) = self.kakao().cloned() else {
            return self.changed();
        };
        let scopes = self
            .with_access(|token| {
                let kakao = kakao.clone();
                async move { kakao.scopes(&token, None).await }
            })
            .await;
        match scopes {
            Ok((s, pair)) => {
                let views = profile::consent_views(&s.scopes);
                self.apply(pair, |st| st.consents = Some(views));
            }
            Err(e) => self.settle_failure(e),
        }
        self.changed()
    }

    /// S13: withdraws one revocable consent item (`/v2/user/revoke/scopes`), then shows the
    /// profile again without it.
    pub async fn withdraw_consent(&self, scope: &str) -> SessionView {
        self.begin();
        let Ok(kakao) = self.kakao().cloned() else {
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
            Ok((s, pair)) => {
                let views = profile::consent_views(&s.scopes);
                if self.apply(pair, |st| st.consents = Some(views)) {
                    self.load_profile().await;
                }
            }
            Err(e) => self.settle_failure(e),
        }
        self.changed()
    }

    // ---------------------------------------------------------------- sign in (S01–S03, S12)

    /// Checks that the keychain can store tokens, opens the browser at Kakao and returns with
    /// status `waiting`; the rest happens in the background and arrives through `notify`.
    /// `prompt`: Kakao's `prompt` parameter (S02). A keychain that cannot store refuses the
    /// sign-in before the browser opens, with its fix in `view.error`.
    pub async fn sign_in(self: &Arc<Self>, prompt: Option<Prompt>) -> SessionView {
        // After a Kakao account logout the browser may still hold the Kakao session ("this
        // service only" on Kakao's page): ask for the login again either way (S07).
        let prompt = match prompt {
            None if self.lock().login_next => Some(Prompt::Login),
            other => other,
        };
        let prompts = prompt.into_iter().collect();
        self.start_attempt(WaitPurpose::SignIn, Vec::new(), prompts)
            .await
    }

    /// S12: authorize again with `scope=` for the consent items the person agrees to now
    /// (ids such as `account_email`; others are dropped; at least one is needed).
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
            .keeper
            .lane()
            .await
            .tokens()
            .map(|t| t.oidc || t.scopes.iter().any(|s| s == "openid"))
            .unwrap_or(false);
        if oidc && !scopes.iter().any(|s| s == "openid") {
            scopes.push("openid".into());
        }
        self.start_attempt(WaitPurpose::Consent, scopes, Vec::new())
            .await
    }

    // ---------------------------------------------------------------- logout, unlink

    /// S05/S06: logs out on this device. Kakao is told (`/v1/user/logout`), and the local tokens
    /// go whatever it answers. With `kakao_account` the browser also logs out of the Kakao
    /// account (S07). Waits for a change in flight (a rotating refresh) and then ends the
    /// session it left.
    pub async fn logout(self: &Arc<Self>, kakao_account: bool) -> SessionView {
        self.begin();
        {
            let mut lane = self.keeper.lane().await;
            let told_kakao = match self.kakao() {
                Ok(kakao) if lane.tokens().is_some() => tell_kakao_logout(&mut lane, kakao).await,
                _ => true,
            };
            let notice = if told_kakao {
                words::logged_out()
            } else {
                words::logged_out_kakao_not_told()
            };
            self.end_in(&mut lane, Ok(notice)).await;
        }
        if kakao_account {
            self.lock().login_next = true;
            return self.start_kakao_logout();
        }
        self.changed()
    }

    /// [`Session::logout`], and then the values the person typed in on this computer for the
    /// member they saw signed in go too (they chose "forget what I typed" in the logout dialog).
    /// Failing to delete them is shown in place of the logout notice; the session ends either
    /// way.
    pub async fn logout_forgetting(self: &Arc<Self>, kakao_account: bool) -> SessionView {
        let member = self.keeper.lane().await.tokens().map(|t| t.member_id);
        let view = self.logout(kakao_account).await;
        match member.map(|m| self.deps.local.delete_member(m)) {
            Some(Err(e)) => {
                self.set_error(e);
                self.changed()
            }
            _ => view,
        }
    }

    /// Disconnects the app: Kakao withdraws the consents and kills every token; then the
    /// keychain entries and the values typed in on this machine go. If Kakao cannot be reached
    /// nothing is deleted, so the person can try again. Already disconnected at Kakao (-101,
    /// from the Kakao account page or KakaoTalk) counts as done, with its own notice.
    pub async fn unlink(&self) -> SessionView {
        self.begin();
        let Ok(kakao) = self.kakao().cloned() else {
            return self.changed();
        };
        let pair = self.keeper.lane().await.pair();
        let result = self
            .with_access(|token| {
                let kakao = kakao.clone();
                async move { kakao.unlink(&token).await }
            })
            .await;
        match result {
            Ok((member_id, pair)) => {
                let local = self.deps.local.delete_member(member_id);
                let mut lane = self.keeper.lane().await;
                // A session that replaced the unlinked one meanwhile is not this one's to end.
                if lane.pair() == Some(pair) {
                    let outcome = match local {
                        Err(e) => Err(e.into()),
                        Ok(()) => Ok(words::unlinked()),
                    };
                    self.end_in(&mut lane, outcome).await;
                }
            }
            Err(Error::Kakao(e)) if e.token_verdict() == TokenVerdict::NotLinked => {
                self.end_not_linked(pair).await
            }
            Err(e) => self.settle_failure(e),
        }
        self.changed()
    }

    // ---------------------------------------------------------------- diagnostics

    /// For "copy diagnostics": settings and state as `key: value` lines, never a token, code,
    /// member id or profile value. `extra` lines come last (e.g. the log file's path).
    pub fn diagnostics(&self, extra: &[(&str, String)]) -> String {
        use std::fmt::Write;
        let s = self.lock();
        let mut out = String::new();
        let _ = writeln!(out, "Kakao Sign-in {}", self.deps.version);
        let _ = writeln!(
            out,
            "os: {} {}",
            std::env::consts::OS,
            std::env::consts::ARCH
        );
        let _ = writeln!(out, "status: {:?}", s.status);
        let _ = writeln!(out, "sandbox: {}", self.deps.sandbox);
        let _ = writeln!(out, "configured: {}", self.kakao.is_some());
        if let Some(k) = &self.kakao {
            let _ = writeln!(out, "auth url: {}", k.endpoints().auth_base());
            let _ = writeln!(out, "api url: {}", k.endpoints().api_base());
        }
        let _ = writeln!(out, "redirect ports: {:?}", self.deps.redirect_ports);
        // This computer's clock minus Kakao's, from Kakao's last answer.
        let offset = self
            .kakao
            .as_ref()
            .and_then(|k| k.kakao_clock().offset_secs());
        let _ = writeln!(
            out,
            "clock offset: {}",
            offset.map_or_else(|| "unknown".to_owned(), |secs| format!("{secs} s"))
        );
        let _ = writeln!(
            out,
            "last error: {}",
            s.last_error_kind.map_or("none", ErrorKind::as_str)
        );
        for (k, v) in self
            .deps
            .diagnostics
            .iter()
            .map(|(k, v)| (*k, v))
            .chain(extra.iter().map(|(k, v)| (*k, v)))
        {
            let _ = writeln!(out, "{k}: {v}");
        }
        out
    }
}

/// Tells Kakao (`/v1/user/logout`, REFERENCE §4c) that this device's tokens are done with, in
/// the lane. An access token expired by Kakao's clock, or refused with -401, is refreshed first
/// (once): `/v1/user/logout` revokes the refresh token issued with the access token it is
/// given, so skipping it would leave the refresh token alive at Kakao. `true` when Kakao was
/// told or has already forgotten the grant (a dead refresh token); `false` when Kakao could
/// not be reached or answered otherwise, so the notice must not claim it was told.
async fn tell_kakao_logout(lane: &mut Lane<'_>, kakao: &KakaoClient) -> bool {
    let not_told = |what: &str, e: &dyn std::fmt::Display| {
        tracing::warn!("Kakao logout: {what} failed ({e}); logging out locally");
        false
    };
    let mut refreshed = false;
    if lane.access_expired() {
        match lane.refresh(kakao).await {
            Ok(()) => refreshed = true,
            // Kakao has already ended this grant: nothing left to revoke.
            Err(Error::SessionEnded) => return true,
            Err(e) => return not_told("the refresh before it", &e.kind()),
        }
    }
    loop {
        let Ok(access) = lane.access() else {
            return true;
        };
        match kakao.logout(&access.token).await {
            Ok(_) => return true,
            Err(e) if e.is_access_token_invalid() && !refreshed => {
                refreshed = true;
                match lane.refresh(kakao).await {
                    Ok(()) => continue,
                    Err(Error::SessionEnded) => return true,
                    Err(e) => return not_told("the refresh before it", &e.kind()),
                }
            }
            // -401 right after a refresh: the grant is gone (unlinked elsewhere).
            Err(e) if e.is_access_token_invalid() => return true,
            Err(e) => return not_told("the call", &e.kind()),
        }
    }
}

fn is_scope_id(s: &str) -> bool {
    !s.is_empty() && s.len() <= 64 && s.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')
}
