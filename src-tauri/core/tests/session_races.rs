//! Changes of the session that overlap, put in a chosen order with gates (an HTTP request or a
//! keychain write that stops until the test releases it), against the simulator over HTTP:
//! - a refresh of member A in flight while a sign-in as B completes;
//! - an old refresh that comes back dead (KOE322) after a new sign-in;
//! - a logout during a rotating refresh;
//! - a crash between the two keychain writes when B replaces A.
//!
//! Each must leave one member's tokens, together, or none: never one member's token in another
//! member's session.

use kakao_signin_core::session::view::{SessionView, Status};
use kakao_signin_core::session::{Prompt, Session};
use kakao_signin_core::vault::{
    Error as VaultError, MemoryStore, SecretStore, StoreOp, Vault, REFRESH_ACCOUNT, SESSION_ACCOUNT,
};
use kakao_signin_test_support::{
    deps_for, free_loopback_port, start_sim, Consent, Gate, GatedHttp, GatedStore, Script, Sim,
    SimBrowser, CLIENT_ID,
};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

const A_LOGIN: &str = "full@kakao.test";
const A: i64 = 3_000_000_000_000_000_001;
const B_LOGIN: &str = "noemail@kakao.test";
const B: i64 = 3_000_000_000_000_000_002;
const HOUR: i64 = 3600;
const DAY: i64 = 24 * HOUR;
const WAIT: Duration = Duration::from_secs(20);

/// What the gate of a race stops.
enum Gated {
    /// Refresh-token grants on their way to Kakao.
    RefreshGrant,
    /// Keychain writes of the refresh entry.
    RefreshWrite,
    /// Nothing.
    Nothing,
}

struct Race {
    sim: Arc<Sim>,
    store: Arc<MemoryStore>,
    browser: Arc<SimBrowser>,
    gate: Arc<Gate>,
    gated: Gated,
    port: u16,
    data_dir: PathBuf,
    session: Arc<Session>,
}

impl Race {
    async fn new(gated: Gated) -> Race {
        let port = free_loopback_port();
        let sim = start_sim(port).await;
        let data_dir = std::env::temp_dir().join(format!("ks-races-{}-{port}", std::process::id()));
        let _ = std::fs::remove_dir_all(&data_dir);
        let store = Arc::new(MemoryStore::new());
        let browser = SimBrowser::new(None);
        let gate = Gate::new();
        let session = app(&sim, &store, &browser, &gate, &gated, port, &data_dir);
        Race {
            sim,
            store,
            browser,
            gate,
            gated,
            port,
            data_dir,
            session,
        }
    }

    /// "The app started": a new session over the same keychain, simulator and data.
    fn start_app(&self) -> Arc<Session> {
        app(
            &self.sim,
            &self.store,
            &self.browser,
            &self.gate,
            &self.gated,
            self.port,
            &self.data_dir,
        )
    }

    fn view(&self) -> SessionView {
        self.session.view()
    }

    fn shown_member(&self) -> Option<i64> {
        self.view()
            .profile
            .map(|p| p.member_id.parse().expect("member ids are numbers"))
    }

    /// A field of a keychain entry, as stored.
    fn stored(&self, account: &str, field: &str) -> Option<serde_json::Value> {
        let raw = self.store.raw(account)?;
        let v: serde_json::Value = serde_json::from_str(&raw).expect("entries are JSON");
        v.get(field).cloned()
    }

    fn stored_member(&self) -> Option<i64> {
        self.stored(SESSION_ACCOUNT, "member_id")?.as_i64()
    }

    /// Signs in through the simulator's pages as `login` and waits for the profile.
    async fn sign_in_as(&self, login: &'static str, member: i64) {
        self.start_sign_in(login).await;
        until("the sign-in to finish", || {
            let v = self.view();
            v.status == Status::SignedIn && self.shown_member() == Some(member)
        })
        .await;
    }

    async fn start_sign_in(&self, login: &'static str) {
        self.browser.set_script(Some(Script {
            login,
            consent: Consent::All,
        }));
        self.session.sign_in(Some(Prompt::Login)).await;
    }

    /// Whose access token this is, asking Kakao (`/v2/user/me`).
    async fn owner_of_access(&self, token: &str) -> i64 {
        let me: serde_json::Value = loopback_client()
            .get(format!("{}/v2/user/me", self.sim.base_url()))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        me["id"]
            .as_i64()
            .unwrap_or_else(|| panic!("not a live access token: {me}"))
    }

    /// Whose refresh token this is: refresh it at Kakao, then ask whose the access token is.
    async fn owner_of_refresh(&self, token: &str) -> i64 {
        let answer: serde_json::Value = loopback_client()
            .post(format!("{}/oauth/token", self.sim.base_url()))
            .form(&[
                ("grant_type", "refresh_token"),
                ("client_id", CLIENT_ID),
                ("refresh_token", token),
            ])
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let access = answer["access_token"]
            .as_str()
            .unwrap_or_else(|| panic!("not a live refresh token: {answer}"));
        self.owner_of_access(access).await
    }

    /// Waits until the change the test started is either done or waiting for the one in
    /// flight: the two outcomes an ordering can have.
    async fn done_or_waiting(&self, what: &str, done: impl Fn() -> bool) {
        let session = self.session.clone();
        until(what, move || done() || session.changes_waiting() > 0).await;
    }
}

/// The app's session over the race's keychain, with the gate where the race puts it.
fn app(
    sim: &Arc<Sim>,
    store: &Arc<MemoryStore>,
    browser: &Arc<SimBrowser>,
    gate: &Arc<Gate>,
    gated: &Gated,
    port: u16,
    data_dir: &std::path::Path,
) -> Arc<Session> {
    let keychain: Arc<dyn SecretStore> = match gated {
        Gated::RefreshWrite => Arc::new(GatedStore::new(
            store.clone(),
            gate.clone(),
            REFRESH_ACCOUNT,
        )),
        _ => store.clone(),
    };
    let mut deps = deps_for(
        sim,
        &sim.base_url(),
        Vault::new(keychain),
        data_dir,
        browser,
        vec![port],
    );
    if let Gated::RefreshGrant = gated {
        deps.http = Arc::new(GatedHttp::refresh_grants(deps.http, gate.clone()));
    }
    Session::new(deps, Arc::new(|_| {}))
}

/// Waits for `cond` (checked every 10 ms) up to 20 s, then fails naming `what`.
async fn until(what: &str, cond: impl Fn() -> bool) {
    let deadline = Instant::now() + WAIT;
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_refresh_in_flight_never_writes_into_the_next_members_session() {
    let r = Race::new(Gated::RefreshGrant).await;
    r.sign_in_as(A_LOGIN, A).await;
    // A's access token has expired; its refresh token has weeks left (no rotation).
    r.sim.advance_clock(7 * HOUR);
    r.gate.arm();
    let s = r.session.clone();
    let refreshing = tokio::spawn(async move { s.refresh_profile().await });
    r.gate.arrived(1, WAIT, "A's refresh").await;

    // B signs in while A's refresh is on its way to Kakao.
    r.start_sign_in(B_LOGIN).await;
    r.done_or_waiting("B's sign-in", || r.stored_member() == Some(B))
        .await;
    r.gate.release();
    refreshing.await.unwrap();
    until("the sign-in to settle with a profile", || {
        r.view().status == Status::SignedIn && r.shown_member().is_some()
    })
    .await;
    assert_eq!(
        r.shown_member(),
        Some(B),
        "B signed in, but Kakao answers the session's calls as another member"
    );

    // The keychain holds B's tokens, both of them, and nothing of A's.
    assert_eq!(r.stored_member(), Some(B));
    let access = r.stored(SESSION_ACCOUNT, "access_token").unwrap();
    assert_eq!(
        r.owner_of_access(access.as_str().unwrap()).await,
        B,
        "the session entry of B holds another member's access token"
    );
    let refresh = r.stored(REFRESH_ACCOUNT, "refresh_token").unwrap();
    assert_eq!(r.owner_of_refresh(refresh.as_str().unwrap()).await, B);
    // And the session in memory calls Kakao as B.
    let v = r.session.refresh_profile().await;
    assert_eq!(v.error, None);
    assert_eq!(r.shown_member(), Some(B));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_old_refresh_that_comes_back_dead_does_not_end_the_new_session() {
    let r = Race::new(Gated::RefreshGrant).await;
    r.sign_in_as(A_LOGIN, A).await;
    r.sim.advance_clock(7 * HOUR);
    // Kakao will answer A's refresh with KOE322.
    r.sim.expire_refresh_tokens_of(A);
    r.gate.arm();
    let s = r.session.clone();
    let refreshing = tokio::spawn(async move { s.refresh_profile().await });
    r.gate.arrived(1, WAIT, "A's refresh").await;

    r.start_sign_in(B_LOGIN).await;
    r.done_or_waiting("B's sign-in", || r.stored_member() == Some(B))
        .await;
    r.gate.release();
    refreshing.await.unwrap();
    until("the sign-in to settle", || {
        !matches!(r.view().status, Status::Waiting | Status::Completing)
    })
    .await;
    until("B's profile or another outcome", || {
        r.shown_member() == Some(B) || r.view().status != Status::SignedIn
    })
    .await;

    let v = r.view();
    assert_eq!(
        (v.status, r.shown_member()),
        (Status::SignedIn, Some(B)),
        "A's dead refresh token ended B's session: {:?} {:?}",
        v.error,
        v.notice
    );
    assert_eq!(
        r.stored_member(),
        Some(B),
        "B's tokens stay in the keychain"
    );
    assert!(r.stored(REFRESH_ACCOUNT, "refresh_token").is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_logout_during_a_rotating_refresh_leaves_no_refresh_token() {
    let r = Race::new(Gated::RefreshWrite).await;
    r.sign_in_as(A_LOGIN, A).await;
    // 31 days on: the access token has expired and the refresh token has less than a month
    // left, so Kakao rotates it on the next refresh.
    r.sim.advance_clock(31 * DAY);
    r.gate.arm();
    let s = r.session.clone();
    let refreshing = tokio::spawn(async move { s.refresh_profile().await });
    // The rotated refresh token is on its way into the keychain.
    r.gate
        .arrived(1, WAIT, "the rotated refresh token's write")
        .await;

    let s = r.session.clone();
    let logging_out = tokio::spawn(async move { s.logout(false).await });
    r.done_or_waiting("the logout", || logging_out.is_finished())
        .await;
    r.gate.release();
    refreshing.await.unwrap();
    let v = logging_out.await.unwrap();

    assert_eq!(v.status, Status::SignedOut);
    assert_eq!(v.error, None);
    assert!(
        r.store.raw(REFRESH_ACCOUNT).is_none(),
        "a live refresh token stayed in the keychain after 'logged out'"
    );
    assert!(r.store.raw(SESSION_ACCOUNT).is_none());
    // Kakao was told with the newest token: no refresh token of A's is live any more.
    assert_eq!(r.sim.stats().refresh_rotations, 1);
    let again = r.start_app().restore().await;
    assert_eq!(again.status, Status::SignedOut);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_crash_between_the_keychain_writes_never_pairs_two_members() {
    let mut r = Race::new(Gated::Nothing).await;
    r.sign_in_as(A_LOGIN, A).await;

    // B signs in; the first keychain write passes, the second fails as a crash would stop it.
    r.store.pass_next(StoreOp::Set);
    r.store.fail_next(
        StoreOp::Set,
        VaultError::Failed {
            detail: "the process died here".into(),
        },
    );
    r.start_sign_in(B_LOGIN).await;
    until("B's sign-in to fail at the keychain", || {
        r.view()
            .error
            .is_some_and(|e| e.kind.as_str().starts_with("keychain"))
    })
    .await;

    // The next start, a day later (A's access token has expired).
    r.sim.advance_clock(DAY);
    r.session = r.start_app();
    let v = r.session.restore().await;
    match r.stored_member() {
        // What the fixed order leaves: A's session was deleted before B's refresh token was
        // written, so there is nothing to restore and the lone refresh entry is cleared.
        None => {
            assert_eq!(v.status, Status::SignedOut);
            assert!(r.store.raw(REFRESH_ACCOUNT).is_none());
        }
        // Whatever is restored, its tokens are one member's.
        Some(member) => {
            let access = r.stored(SESSION_ACCOUNT, "access_token").unwrap();
            assert_eq!(
                r.owner_of_access(access.as_str().unwrap()).await,
                member,
                "the keychain paired member {member}'s session with another member's refresh token"
            );
            assert_eq!(r.shown_member(), Some(member));
        }
    }
}

/// A client for the simulator on loopback: no proxy from the environment.
fn loopback_client() -> reqwest::Client {
    reqwest::Client::builder().no_proxy().build().unwrap()
}
