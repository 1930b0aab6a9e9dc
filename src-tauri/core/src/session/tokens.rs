//! Keeping tokens: the one lane every change of the session goes through.
//!
//! The tokens live behind one async lock, the *lane*. Whoever changes the session (a sign-in or
//! additional consent completing, a refresh and its write-back, logout, unlink, dropping a dead
//! session) holds the lane for the whole change, network call and keychain writes included. So
//! a refresh of member A can never write into member B's session, an old refresh that comes
//! back dead can only end the session it belongs to, and a logout waits for a rotating refresh
//! and then deletes the rotated token too.
//!
//! Work that only *reads* a token (fetching the profile, the consent list) takes the lane just
//! long enough to copy the access token and the [`PairId`] it belongs to; its answer is applied
//! only while that pair is still the current one.
//!
//! Times are Kakao's: the lane's clock is this computer's corrected by the offset measured from
//! Kakao's answers ([`KakaoClock`](crate::kakao::KakaoClock)), so every expiry is stored and
//! judged on the clock that issued it, however far off this computer's clock is. And this
//! computer's clock never ends a session: a refresh token past its stated expiry is still
//! offered to Kakao, and only Kakao's answer (KOE322) deletes it.

use super::Error;
use crate::clock::Clock;
use crate::kakao::{KakaoClient, KakaoClock, TokenResponse};
use crate::secret::Secret;
use crate::vault::{self, PairId, StoredRefresh, StoredSession, Vault};
use std::sync::atomic::{AtomicUsize, Ordering};

/// Refresh a little before Kakao's expiry so a request never leaves with a token that dies on
/// the way (seconds).
const EXPIRY_MARGIN_SECS: i64 = 60;

/// When a new refresh token expires (Unix seconds, Kakao's clock): `now` plus the lifetime Kakao
/// stated, or, when it stated none, what was known before (as Kakao's own SDKs keep the old
/// expiry) — unknown stays unknown, never "now".
fn refresh_expiry(now: i64, stated: Option<i64>, before: Option<i64>) -> Option<i64> {
    stated.map(|secs| now.saturating_add(secs)).or(before)
}

/// Tokens of the signed-in member, in memory. The keychain holds the same.
#[derive(Debug, Clone)]
pub(super) struct Tokens {
    pub member_id: i64,
    pub pair_id: PairId,
    pub access: Secret,
    /// Unix seconds, Kakao's clock.
    pub access_expires_at: i64,
    /// Kakao issued an ID token with these tokens (it was verified then and is not kept).
    pub oidc: bool,
    pub scopes: Vec<String>,
    pub refresh: Option<StoredRefresh>,
}

impl Tokens {
    fn stored_session(&self) -> StoredSession {
        StoredSession {
            member_id: self.member_id,
            pair_id: self.pair_id,
            access_token: self.access.clone(),
            access_expires_at: self.access_expires_at,
            oidc: self.oidc,
            scopes: self.scopes.clone(),
        }
    }
}

/// An access token copied out of the lane, with what it belongs to.
#[derive(Debug, Clone)]
pub(super) struct Access {
    pub token: Secret,
    pub pair: PairId,
    /// The lane's access-token generation when it was copied: a caller that got -401 refreshes
    /// only if nobody else has since (single flight).
    pub generation: u64,
}

struct Held {
    tokens: Option<Tokens>,
    /// Bumped whenever the access token changes.
    generation: u64,
}

/// The owner of the tokens. See the module docs.
pub(super) struct Keeper {
    lane: tokio::sync::Mutex<Held>,
    vault: Vault,
    /// Kakao's time, as the session's [`KakaoClient`] measures it.
    clock: KakaoClock,
    /// How many callers wait for the lane right now (tests observe a change that waits).
    waiting: AtomicUsize,
}

impl Keeper {
    pub fn new(vault: Vault, clock: KakaoClock) -> Keeper {
        Keeper {
            lane: tokio::sync::Mutex::new(Held {
                tokens: None,
                generation: 0,
            }),
            vault,
            clock,
            waiting: AtomicUsize::new(0),
        }
    }

    /// Waits for the lane and holds it until the returned guard is dropped.
    pub async fn lane(&self) -> Lane<'_> {
        self.waiting.fetch_add(1, Ordering::SeqCst);
        let held = self.lane.lock().await;
        self.waiting.fetch_sub(1, Ordering::SeqCst);
        Lane { held, keeper: self }
    }

    pub fn waiting(&self) -> usize {
        self.waiting.load(Ordering::SeqCst)
    }

    pub fn vault(&self) -> &Vault {
        &self.vault
    }
}

/// The lane, held. Every method that changes the tokens is here.
pub(super) struct Lane<'a> {
    held: tokio::sync::MutexGuard<'a, Held>,
    keeper: &'a Keeper,
}

impl Lane<'_> {
    fn now(&self) -> i64 {
        self.keeper.clock.now_unix()
    }

    pub fn tokens(&self) -> Option<&Tokens> {
        self.held.tokens.as_ref()
    }

    /// The current session's pair, `None` when signed out.
    pub fn pair(&self) -> Option<PairId> {
        self.held.tokens.as_ref().map(|t| t.pair_id)
    }

    pub fn generation(&self) -> u64 {
        self.held.generation
    }

    /// The access token as it is, without checking its expiry.
    pub fn access(&self) -> Result<Access, Error> {
        let t = self.held.tokens.as_ref().ok_or(Error::NotSignedIn)?;
        Ok(Access {
            token: t.access.clone(),
            pair: t.pair_id,
            generation: self.held.generation,
        })
    }

    /// Whether the access token has expired by Kakao's clock (with a margin). Only ever a reason
    /// to refresh first. `false` before Kakao's first answer in this run: the stored expiry is
    /// on Kakao's clock and this computer's may be hours off it, so the call goes out and
    /// Kakao's answer decides (-401: refresh and retry once).
    pub fn access_expired(&self) -> bool {
        self.keeper.clock.has_answered()
            && self.held.tokens.as_ref().is_some_and(|t| {
                t.access_expires_at <= self.now().saturating_add(EXPIRY_MARGIN_SECS)
            })
    }

    /// Reads the keychain into the lane. `Ok(false)` when it holds no session.
    pub async fn load(&mut self) -> Result<bool, vault::Error> {
        let loaded = self.keeper.vault.load().await?;
        let Some((session, refresh)) = loaded else {
            self.held.tokens = None;
            return Ok(false);
        };
        self.held.tokens = Some(Tokens {
            member_id: session.member_id,
            pair_id: session.pair_id,
            access: session.access_token,
            access_expires_at: session.access_expires_at,
            oidc: session.oidc,
            scopes: session.scopes,
            refresh,
        });
        self.held.generation += 1;
        Ok(true)
    }

    /// Writes the tokens held in memory back to the keychain. This process may hold a newer
    /// refresh token than the keychain: Kakao rotated it and the keychain write failed.
    pub async fn write_back(&self) -> Result<(), vault::Error> {
        match &self.held.tokens {
            Some(t) => {
                self.keeper
                    .vault
                    .save(&t.stored_session(), t.refresh.as_ref())
                    .await
            }
            None => Ok(()),
        }
    }

    /// Refreshes the access token (RFC 6749 §6) while holding the lane. A dead refresh token
    /// (KOE322, or none stored) ends the session: [`Error::SessionEnded`], tokens deleted here
    /// and in the keychain — unless the keychain holds a newer refresh token of the same member
    /// (another instance rotated it), which is adopted and used instead. One past the expiry Kakao stated is still offered to Kakao: a
    /// clock can be wrong, Kakao's answer can't. Any other failure keeps every token.
    pub async fn refresh(&mut self, kakao: &KakaoClient) -> Result<(), Error> {
        let (refresh, pair, member) = {
            let t = self.held.tokens.as_ref().ok_or(Error::NotSignedIn)?;
            (t.refresh.clone(), t.pair_id, t.member_id)
        };
        let Some(refresh) = refresh else {
            self.end().await;
            return Err(Error::SessionEnded);
        };
        if refresh
            .refresh_expires_at
            .is_some_and(|at| at <= self.now())
        {
            tracing::info!("the refresh token is past its stated expiry; asking Kakao anyway");
        }
        let response = match kakao.refresh(&refresh.refresh_token).await {
            Ok(r) => r,
            Err(e) if e.is_refresh_token_dead() => {
                if self.adopt_newer(member, &refresh.refresh_token).await {
                    tracing::info!(
                        "the refresh token was refused, but another instance had stored a newer \
                         one: using that"
                    );
                    if self.access_expired() {
                        // Once: the adopted token is another one, so this can't loop.
                        return Box::pin(self.refresh(kakao)).await;
                    }
                    return Ok(());
                }
                tracing::info!("refresh token is no longer valid; signing out on this device");
                self.end().await;
                return Err(Error::SessionEnded);
            }
            Err(e) => return Err(e.into()),
        };
        // After the answer: Kakao's time as its `Date` just said.
        let now = self.now();
        if let Some(new_refresh) = &response.refresh_token {
            // Rotation: Kakao has already killed the old one, so the new one goes to memory and
            // the keychain before anything else happens — before the ID token check too (fault
            // matrix: a JWKS fault there used to lose the rotated token and so the session).
            let stored = StoredRefresh {
                member_id: member,
                pair_id: pair,
                refresh_token: new_refresh.clone(),
                refresh_expires_at: refresh_expiry(
                    now,
                    response.refresh_token_expires_in,
                    refresh.refresh_expires_at,
                ),
            };
            if let Some(t) = self.held.tokens.as_mut() {
                t.refresh = Some(stored.clone());
            }
            self.keeper.vault.save_refresh(&stored).await?;
        }
        if let Some(id_token) = &response.id_token {
            kakao.verify_refreshed_id_token(id_token, member).await?;
        }
        let t = self.held.tokens.as_mut().ok_or(Error::NotSignedIn)?;
        t.access = response.access_token.clone();
        t.access_expires_at = now.saturating_add(response.expires_in);
        match &response.scope {
            Some(scopes) => t.scopes = scopes.clone(),
            // A refresh token issued with an ID token brings a new one while OpenID Connect is
            // on (REFERENCE §2b); none means the app's OIDC setting was switched off (§7), and
            // asking for `openid` now would stop Kakao at KOE205. Kakao sent no scope list to
            // say otherwise.
            None if t.oidc && response.id_token.is_none() => {
                tracing::info!("no ID token on refresh: OpenID Connect is off for the app");
                t.scopes.retain(|s| s != "openid");
            }
            None => {}
        }
        t.oidc = response.id_token.is_some();
        let stored = t.stored_session();
        self.held.generation += 1;
        self.keeper.vault.save_session(&stored).await?;
        Ok(())
    }

    /// After Kakao refused `refused` as dead: whether the keychain holds another refresh token
    /// of the same member (another instance of the app refreshed, Kakao rotated, and ours is
    /// the old one), which is then loaded into the lane in place of ours. Clearing instead
    /// would delete the other instance's live session. A keychain that can't be read adopts
    /// nothing.
    async fn adopt_newer(&mut self, member: i64, refused: &Secret) -> bool {
        let newer = match self.keeper.vault.load().await {
            Ok(Some((session, Some(r)))) => {
                session.member_id == member
                    && r.member_id == member
                    && r.refresh_token.expose() != refused.expose()
            }
            Ok(_) => false,
            Err(e) => {
                tracing::debug!(kind = %e.kind(), "re-reading the keychain after a dead refresh: {e}");
                false
            }
        };
        newer && self.load().await.is_ok_and(|loaded| loaded)
    }

    /// Makes the tokens of a completed sign-in (or additional consent) the session. The same
    /// member keeps the pair (and the refresh token, when Kakao sent no new one); another
    /// member's tokens replace the keychain entries old session first ([`Vault::replace`]).
    /// Nothing changes in memory unless the keychain took the tokens.
    pub async fn install(&mut self, response: &TokenResponse, member_id: i64) -> Result<(), Error> {
        let now = self.now();
        let same = self
            .held
            .tokens
            .as_ref()
            .filter(|p| p.member_id == member_id);
        let pair_id = same.map(|p| p.pair_id).unwrap_or_else(PairId::generate);
        let before = same
            .and_then(|p| p.refresh.as_ref())
            .and_then(|r| r.refresh_expires_at);
        let refresh = match &response.refresh_token {
            Some(rt) => Some(StoredRefresh {
                member_id,
                pair_id,
                refresh_token: rt.clone(),
                refresh_expires_at: refresh_expiry(now, response.refresh_token_expires_in, before),
            }),
            // Additional consent may return no new refresh token; keep the one we have then.
            None => same.and_then(|p| p.refresh.clone()),
        };
        let tokens = Tokens {
            member_id,
            pair_id,
            access: response.access_token.clone(),
            access_expires_at: now.saturating_add(response.expires_in),
            oidc: response.id_token.is_some(),
            scopes: response.scope.clone().unwrap_or_default(),
            refresh,
        };
        let session = tokens.stored_session();
        if same.is_some() {
            self.keeper
                .vault
                .save(&session, tokens.refresh.as_ref())
                .await?;
        } else {
            self.keeper
                .vault
                .replace(&session, tokens.refresh.as_ref())
                .await?;
        }
        self.held.tokens = Some(tokens);
        self.held.generation += 1;
        Ok(())
    }

    /// Ends the session on this device: the tokens go from memory at once and from the
    /// keychain as far as it lets us (a failure is logged and returned; a later restore clears
    /// what is left, and a lone refresh entry never pairs with a new session).
    pub async fn end(&mut self) -> Option<vault::Error> {
        self.held.tokens = None;
        self.held.generation += 1;
        match self.keeper.vault.clear().await {
            Ok(()) => None,
            Err(e) => {
                tracing::warn!(kind = %e.kind(), "could not delete the tokens from the keychain: {e}");
                Some(e)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;
    use crate::kakao::http::testing::FakeHttp;
    use crate::kakao::{Endpoints, TransportError, TransportErrorKind};
    use crate::vault::MemoryStore;
    use serde_json::json;
    use std::sync::Arc;

    const NOW: i64 = 1_750_000_000;
    const MEMBER: i64 = 42;

    struct World {
        keeper: Keeper,
        kakao: KakaoClient,
        fake: Arc<FakeHttp>,
        clock: ManualClock,
        vault: Vault,
    }

    fn world() -> World {
        let clock = ManualClock::new(NOW);
        let fake = Arc::new(FakeHttp::new());
        let kakao = KakaoClient::new(
            fake.clone(),
            Endpoints::kakao(),
            "rest-key",
            None,
            Arc::new(clock.clone()),
        );
        let vault = Vault::new(Arc::new(MemoryStore::new()));
        let keeper = Keeper::new(vault.clone(), kakao.kakao_clock());
        World {
            keeper,
            kakao,
            fake,
            clock,
            vault,
        }
    }

    /// A code response with refresh token `rt` and, when given, its stated lifetime.
    fn code_response(rt: &str, lifetime: Option<i64>) -> TokenResponse {
        TokenResponse {
            token_type: "bearer".into(),
            access_token: Secret::new("AT1"),
            expires_in: 21599,
            refresh_token: Some(Secret::new(rt)),
            refresh_token_expires_in: lifetime,
            id_token: None,
            scope: None,
        }
    }

    async fn stored_refresh(vault: &Vault) -> Option<StoredRefresh> {
        vault.load().await.unwrap().and_then(|(_, r)| r)
    }

    #[tokio::test]
    async fn an_unstated_refresh_lifetime_keeps_the_known_expiry_and_never_means_now() {
        let w = world();
        let mut lane = w.keeper.lane().await;
        // A sign-in without a stated lifetime: unknown, not "expires now".
        lane.install(&code_response("RT0", None), MEMBER)
            .await
            .unwrap();
        assert_eq!(
            stored_refresh(&w.vault).await.unwrap().refresh_expires_at,
            None
        );
        // Signing in again with one: known from then on.
        lane.install(&code_response("RT1", Some(5_183_999)), MEMBER)
            .await
            .unwrap();
        let stated = Some(NOW + 5_183_999);
        assert_eq!(
            stored_refresh(&w.vault).await.unwrap().refresh_expires_at,
            stated
        );
        // A rotation whose answer leaves out `refresh_token_expires_in`: the known expiry stays.
        w.fake.push_json(
            200,
            json!({"token_type":"bearer","access_token":"AT2","expires_in":21599,
                   "refresh_token":"RT2"}),
        );
        lane.refresh(&w.kakao).await.unwrap();
        let kept = stored_refresh(&w.vault).await.unwrap();
        assert_eq!(kept.refresh_token.expose(), "RT2");
        assert_eq!(kept.refresh_expires_at, stated);
        assert_eq!(lane.tokens().unwrap().refresh.as_ref(), Some(&kept));
        // Six hours on, the next refresh goes to Kakao with RT2 (and is not ended here).
        w.clock.advance(6 * 3600);
        assert!(lane.access_expired());
        w.fake.push_json(
            200,
            json!({"token_type":"bearer","access_token":"AT3","expires_in":21599}),
        );
        lane.refresh(&w.kakao).await.unwrap();
        let sent = w.fake.requests();
        assert_eq!(sent.len(), 2, "both refreshes asked Kakao");
        assert_eq!(sent[1].form_value("refresh_token"), Some("RT2"));
        assert_eq!(lane.access().unwrap().token.expose(), "AT3");
    }

    #[tokio::test]
    async fn only_kakaos_answer_ends_a_refresh_token_past_its_stated_expiry() {
        let w = world();
        let mut lane = w.keeper.lane().await;
        lane.install(&code_response("RT1", Some(5_183_999)), MEMBER)
            .await
            .unwrap();
        // This computer's clock jumps 61 days on: past the stated expiry by its reckoning.
        w.clock.advance(61 * 24 * 3600);
        // Kakao can't be reached: nothing is deleted.
        w.fake
            .push_error(TransportError::new(TransportErrorKind::Timeout, "deadline"));
        let err = lane.refresh(&w.kakao).await.unwrap_err();
        assert!(err.is_transient(), "{err:?}");
        assert!(stored_refresh(&w.vault).await.is_some());
        // Kakao still knows the token: the session goes on.
        w.fake.push_json(
            200,
            json!({"token_type":"bearer","access_token":"AT2","expires_in":21599}),
        );
        lane.refresh(&w.kakao).await.unwrap();
        assert_eq!(lane.access().unwrap().token.expose(), "AT2");
        assert!(stored_refresh(&w.vault).await.is_some());
        // Kakao says it is dead (KOE322): now it goes, here and in the keychain.
        w.fake.push_json(
            400,
            json!({"error":"invalid_grant","error_description":"expired_or_invalid_refresh_token",
                   "error_code":"KOE322"}),
        );
        assert!(matches!(
            lane.refresh(&w.kakao).await,
            Err(Error::SessionEnded)
        ));
        assert!(lane.tokens().is_none());
        assert_eq!(w.vault.load().await.unwrap(), None);
        assert_eq!(w.fake.requests().len(), 3, "every verdict was Kakao's");
    }

    #[tokio::test]
    async fn a_hostile_lifetime_does_not_overflow() {
        let w = world();
        let mut lane = w.keeper.lane().await;
        let mut r = code_response("RT1", Some(i64::MAX));
        r.expires_in = i64::MAX;
        lane.install(&r, MEMBER).await.unwrap();
        assert_eq!(lane.tokens().unwrap().access_expires_at, i64::MAX);
        w.fake.push_json(200, json!({"id": MEMBER}));
        w.kakao.user_me(&Secret::new("AT1")).await.unwrap();
        assert!(!lane.access_expired());
    }

    #[tokio::test]
    async fn before_kakaos_first_answer_a_stored_expiry_is_not_judged() {
        // The app starts with a session stored when this computer's clock was 9 hours behind;
        // it has since been set right. By this computer's clock the access token looks long
        // dead; nothing says so yet, so the token goes out and Kakao decides.
        let w = world();
        let mut lane = w.keeper.lane().await;
        lane.install(&code_response("RT1", Some(5_183_999)), MEMBER)
            .await
            .unwrap();
        w.clock.advance(9 * 3600);
        assert!(!lane.access_expired(), "judged before Kakao said anything");
        // Kakao's answer (no usable Date here) leaves this computer's clock as the best there
        // is: now it is judged.
        w.fake.push_json(200, json!({"id": MEMBER}));
        w.kakao.user_me(&Secret::new("AT1")).await.unwrap();
        assert!(lane.access_expired());
    }
}
