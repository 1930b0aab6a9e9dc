//! The fault matrix (issue 7, "Faults, and nothing lost"): every step of the session × every
//! network fault the simulator injects, and every keychain fault the memory store injects.
//! Each cell checks that
//! - the view says what happened (an error kind and a message, or for logout a notice),
//! - a transient fault never deletes a refresh token (the one in the store is still live at
//!   the simulator), while a permanent one (KOE322, unlink) always deletes both entries,
//! - the next attempt succeeds once the fault is gone.
//!
//! One line per cell is printed, then the pass count; any failing cell fails the test after the
//! whole table has run. The keychain here is a `MemoryStore` (so keychain faults can be
//! injected and the stored entries read back); the session suite covers the real keychain.

use kakao_signin_core::kakao::ReqwestHttp;
use kakao_signin_core::session::view::{FieldState, SessionView, Status};
use kakao_signin_core::session::Session;
use kakao_signin_core::vault::{Error as VaultError, MemoryStore, StoreOp, Vault};
use kakao_sim::{Endpoint, Fault, Sim, SimConfig};
use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use kakao_signin_test_support::{
    deps_for, free_loopback_port as free_port, start_sim, Consent, Script, SimBrowser,
};

const FULL: &str = "full@kakao.test";
const HOUR: i64 = 3600;
const DAY: i64 = 24 * HOUR;
/// The client gives up after this; `Fault::Latency(SLOW)` is a timeout.
const CLIENT_TIMEOUT: Duration = Duration::from_millis(1500);
const SLOW: Duration = Duration::from_millis(3000);
/// The vault gives up after this; a store latency of `KEYCHAIN_SLOW` is a keychain timeout.
const VAULT_TIMEOUT: Duration = Duration::from_millis(400);
const KEYCHAIN_SLOW: Duration = Duration::from_millis(1200);

static SEQ: AtomicUsize = AtomicUsize::new(0);

/// One cell's world: a fresh simulator (so per-user token limits never leak between cells),
/// one memory keychain shared by every "process" (session) of the cell, a scripted browser.
struct World {
    sim: Arc<Sim>,
    store: Arc<MemoryStore>,
    browser: Arc<SimBrowser>,
    port: u16,
    data_dir: PathBuf,
}

type R<T = ()> = Result<T, String>;

fn ensure(cond: bool, what: impl FnOnce() -> String) -> R {
    if cond {
        Ok(())
    } else {
        Err(what())
    }
}

impl World {
    async fn new(consent: Consent) -> World {
        let port = free_port();
        let sim = start_sim(port).await;
        let n = SEQ.fetch_add(1, Ordering::SeqCst);
        let data_dir = std::env::temp_dir().join(format!("ks-faults-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&data_dir);
        World {
            sim,
            store: Arc::new(MemoryStore::new()),
            browser: SimBrowser::new(Some(Script {
                login: FULL,
                consent,
            })),
            port,
            data_dir,
        }
    }

    /// "The app started": a new session over the same keychain, simulator and data.
    fn session(&self) -> Arc<Session> {
        let mut deps = deps_for(
            &self.sim,
            &self.sim.base_url(),
            Vault::new(self.store.clone()).with_timeout(VAULT_TIMEOUT),
            &self.data_dir,
            &self.browser,
            vec![self.port],
        );
        deps.http = Arc::new(ReqwestHttp::new(Duration::from_secs(1), CLIENT_TIMEOUT));
        deps.signin_timeout = Duration::from_secs(20);
        Session::new(deps, Arc::new(|_| {}))
    }

    fn raw_token(&self, account: &str, field: &str) -> Option<String> {
        let raw = self.store.raw(account)?;
        let v: serde_json::Value = serde_json::from_str(&raw).ok()?;
        v[field].as_str().map(str::to_owned)
    }

    fn refresh_token(&self) -> Option<String> {
        self.raw_token("refresh", "refresh_token")
    }

    fn access_token(&self) -> Option<String> {
        self.raw_token("session", "access_token")
    }

    fn is_empty(&self) -> bool {
        self.store.raw("session").is_none() && self.store.raw("refresh").is_none()
    }

    /// The refresh token in the store is one the simulator still honours.
    fn refresh_live(&self) -> R {
        let rt = self
            .refresh_token()
            .ok_or("no refresh token in the keychain")?;
        ensure(self.sim.is_refresh_token_live(&rt), || {
            "the keychain's refresh token is dead at Kakao (lost)".into()
        })
    }

    /// Waits until an attempt (sign-in, consent) has ended.
    async fn settled(&self, s: &Session) -> R<SessionView> {
        let deadline = Instant::now() + Duration::from_secs(25);
        loop {
            let v = s.view();
            if v.waiting.is_none() && !matches!(v.status, Status::Waiting | Status::Completing) {
                return Ok(v);
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "attempt never ended: {:?}; browser: {}",
                    v.status,
                    self.browser.last_page.lock().unwrap()
                ));
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Starts a sign-in and waits for it to end, whatever the outcome.
    async fn try_sign_in(&self, s: &Arc<Session>) -> R<SessionView> {
        let v = s.sign_in(None).await;
        ensure(v.status == Status::Waiting, || {
            format!("sign-in did not start: {:?}", v.error)
        })?;
        self.settled(s).await
    }

    /// A sign-in that must succeed, with both entries stored and a live refresh token.
    async fn sign_in_ok(&self, s: &Arc<Session>) -> R<SessionView> {
        let v = self.try_sign_in(s).await?;
        ensure(
            v.status == Status::SignedIn && v.profile.is_some() && v.error.is_none(),
            || format!("sign-in failed: {:?} {:?}", v.status, v.error),
        )?;
        self.refresh_live()?;
        ensure(self.store.raw("session").is_some(), || {
            "no session entry".into()
        })?;
        Ok(v)
    }

    async fn cleanup(self) {
        let _ = std::fs::remove_dir_all(&self.data_dir);
    }
}

/// The view says what happened: an error with a kind and a message in both languages.
fn says_error(v: &SessionView) -> R<String> {
    let e = v
        .error
        .as_ref()
        .ok_or_else(|| format!("no error shown (status {:?})", v.status))?;
    ensure(!e.message.en.is_empty() && !e.message.ko.is_empty(), || {
        format!("error without a message: {e:?}")
    })?;
    Ok(e.kind.as_str().to_owned())
}

fn signed_in(v: &SessionView) -> R {
    ensure(
        v.status == Status::SignedIn && v.profile.is_some() && v.error.is_none(),
        || format!("not signed in: {:?} {:?}", v.status, v.error),
    )
}

// ------------------------------------------------------------------ network faults

fn network_faults() -> Vec<(&'static str, Fault)> {
    vec![
        ("timeout", Fault::Latency(SLOW)),
        ("connection drop", Fault::Drop),
        ("5xx", Fault::Status(503)),
        ("malformed body", Fault::Malformed),
        ("Kakao -1/KOE003", Fault::KakaoTransient),
        ("KOE237 rate limit", Fault::RateLimit),
    ]
}

type Cell = Pin<Box<dyn Future<Output = R<String>> + Send>>;
type CellFn = fn(Fault) -> Cell;

/// Sign-in whose code exchange, or ID token check, is faulted: nothing stored, signed out with
/// the error, and the next sign-in works.
async fn signin_with_fault(endpoint: Endpoint, fault: Fault) -> R<String> {
    let w = World::new(Consent::All).await;
    let s = w.session();
    s.restore().await;
    w.sim.set_fault(endpoint, fault);
    let v = w.try_sign_in(&s).await?;
    let kind = says_error(&v)?;
    ensure(v.status == Status::SignedOut, || {
        format!("status {:?}", v.status)
    })?;
    ensure(w.store.raw("session").is_none(), || {
        "a session was stored from a failed sign-in".into()
    })?;
    w.sim.clear_faults();
    w.sign_in_ok(&s).await?;
    w.cleanup().await;
    Ok(kind)
}

fn cell_token_exchange(f: Fault) -> Cell {
    Box::pin(signin_with_fault(Endpoint::Token, f))
}

fn cell_jwks(f: Fault) -> Cell {
    Box::pin(signin_with_fault(Endpoint::Jwks, f))
}

/// Sign-in whose `/v2/user/me` fails: the tokens are kept (they are good), the error is shown,
/// retry shows the profile.
fn cell_user_me(f: Fault) -> Cell {
    Box::pin(async move {
        let w = World::new(Consent::All).await;
        let s = w.session();
        s.restore().await;
        w.sim.set_fault(Endpoint::UserMe, f);
        let v = w.try_sign_in(&s).await?;
        let kind = says_error(&v)?;
        ensure(v.profile.is_none(), || "a profile from nowhere".into())?;
        // Tokens stored but no profile: offline with Retry, not "signed in" with nothing.
        ensure(v.status == Status::Offline, || {
            format!("status {:?}, expected offline", v.status)
        })?;
        w.refresh_live()?;
        w.sim.clear_faults();
        signed_in(&s.retry().await)?;
        w.cleanup().await;
        Ok(kind)
    })
}

/// The restore's one call before the profile (`/v2/user/me` with the stored access token)
/// fails: offline, tokens kept, retry signs in.
fn cell_restore(f: Fault) -> Cell {
    Box::pin(async move {
        let w = World::new(Consent::All).await;
        w.sign_in_ok(&w.session()).await?;
        let before = w.refresh_token();
        w.sim.set_fault(Endpoint::UserMe, f);
        let s = w.session();
        let v = s.restore().await;
        let kind = says_error(&v)?;
        ensure(v.status == Status::Offline, || {
            format!("status {:?}", v.status)
        })?;
        ensure(w.refresh_token() == before, || {
            "refresh token changed".into()
        })?;
        w.refresh_live()?;
        w.sim.clear_faults();
        signed_in(&s.retry().await)?;
        w.cleanup().await;
        Ok(kind)
    })
}

/// The access token expired; the refresh call fails: offline, refresh token kept, retry works.
fn cell_refresh(f: Fault) -> Cell {
    Box::pin(async move {
        let w = World::new(Consent::All).await;
        w.sign_in_ok(&w.session()).await?;
        let before = w.refresh_token();
        w.sim.advance_clock(7 * HOUR);
        w.sim.set_fault(Endpoint::Token, f);
        let s = w.session();
        let v = s.restore().await;
        let kind = says_error(&v)?;
        ensure(v.status == Status::Offline, || {
            format!("status {:?}", v.status)
        })?;
        ensure(w.refresh_token() == before, || {
            "refresh token changed".into()
        })?;
        w.refresh_live()?;
        w.sim.clear_faults();
        signed_in(&s.retry().await)?;
        ensure(w.sim.stats().refreshes >= 1, || {
            "no refresh happened".into()
        })?;
        w.cleanup().await;
        Ok(kind)
    })
}

/// Kakao rotates the refresh token (under a month left), then the check of the ID token that
/// came with it fails: Kakao has already killed the old refresh token, so the new one must be
/// in the keychain, or the session is lost to a transient fault.
fn cell_refresh_rotated_jwks(f: Fault) -> Cell {
    Box::pin(async move {
        let w = World::new(Consent::All).await;
        w.sign_in_ok(&w.session()).await?;
        let before = w.refresh_token();
        w.sim.advance_clock(31 * DAY);
        w.sim.set_fault(Endpoint::Jwks, f);
        let s = w.session();
        let v = s.restore().await;
        let kind = says_error(&v)?;
        ensure(v.status == Status::Offline, || {
            format!("status {:?}", v.status)
        })?;
        ensure(w.sim.stats().refresh_rotations == 1, || {
            "Kakao did not rotate".into()
        })?;
        ensure(w.refresh_token() != before, || {
            "the rotated refresh token never reached the keychain".into()
        })?;
        w.refresh_live()?;
        w.sim.clear_faults();
        // The next start of the app (a new process) gets in.
        signed_in(&w.session().restore().await)?;
        w.cleanup().await;
        Ok(kind)
    })
}

/// Logout with Kakao unreachable: the person asked, so the tokens go anyway, and the notice
/// says Kakao was not told.
fn cell_logout(f: Fault) -> Cell {
    Box::pin(async move {
        let w = World::new(Consent::All).await;
        let s = w.session();
        s.restore().await;
        w.sign_in_ok(&s).await?;
        w.sim.set_fault(Endpoint::Logout, f);
        let v = s.logout(false).await;
        ensure(v.status == Status::SignedOut, || {
            format!("status {:?}", v.status)
        })?;
        let notice = v.notice.ok_or("no notice")?;
        ensure(notice.en.contains("could not be told"), || {
            format!("notice: {}", notice.en)
        })?;
        ensure(w.is_empty(), || "logout left tokens behind".into())?;
        w.sim.clear_faults();
        w.sign_in_ok(&s).await?;
        let v = s.logout(false).await;
        ensure(v.status == Status::SignedOut && w.is_empty(), || {
            "second logout".into()
        })?;
        w.cleanup().await;
        Ok("notice: Kakao not told; tokens deleted".into())
    })
}

/// Unlink with Kakao unreachable: nothing is deleted (Kakao still has the grant), the error is
/// shown, and unlinking again works.
fn cell_unlink(f: Fault) -> Cell {
    Box::pin(async move {
        let w = World::new(Consent::All).await;
        let s = w.session();
        s.restore().await;
        w.sign_in_ok(&s).await?;
        let before = w.refresh_token();
        w.sim.set_fault(Endpoint::Unlink, f);
        let v = s.unlink().await;
        let kind = says_error(&v)?;
        ensure(w.refresh_token() == before, || {
            "unlink deleted tokens though Kakao was not told".into()
        })?;
        w.sim.clear_faults();
        let v = s.unlink().await;
        ensure(v.status == Status::SignedOut, || {
            format!("second unlink: {:?} {:?}", v.status, v.error)
        })?;
        ensure(w.is_empty(), || "unlink left tokens behind".into())?;
        let id = demo_id(FULL);
        ensure(!w.sim.is_connected(id), || "still connected".into())?;
        w.cleanup().await;
        Ok(kind)
    })
}

/// Additional consent (S12) whose code exchange fails: the old tokens stay and still work, the
/// error is shown, and asking again works.
fn cell_consent(f: Fault) -> Cell {
    Box::pin(async move {
        let w = World::new(Consent::Only(vec!["profile_nickname", "openid"])).await;
        let s = w.session();
        s.restore().await;
        w.sign_in_ok(&s).await?;
        let (access, refresh) = (w.access_token(), w.refresh_token());
        w.browser.set_script(Some(Script {
            login: FULL,
            consent: Consent::All,
        }));
        w.sim.set_fault(Endpoint::Token, f);
        s.request_consent(vec!["account_email".into()]).await;
        let v = w.settled(&s).await?;
        let kind = says_error(&v)?;
        ensure(v.status == Status::SignedIn, || {
            format!("status {:?}", v.status)
        })?;
        ensure(
            w.access_token() == access && w.refresh_token() == refresh,
            || "tokens changed by a failed consent".into(),
        )?;
        w.refresh_live()?;
        w.sim.clear_faults();
        s.request_consent(vec!["account_email".into()]).await;
        let v = w.settled(&s).await?;
        signed_in(&v)?;
        let email = v
            .profile
            .as_ref()
            .unwrap()
            .fields
            .iter()
            .find(|f| f.id == "email")
            .map(|f| f.state);
        ensure(email == Some(FieldState::Agreed), || {
            format!("email {email:?}")
        })?;
        w.refresh_live()?;
        w.cleanup().await;
        Ok(kind)
    })
}

fn demo_id(login: &str) -> i64 {
    SimConfig::demo()
        .users
        .iter()
        .find(|u| u.login == login)
        .unwrap()
        .id
}

// ------------------------------------------------------------------ keychain faults

#[derive(Clone, Copy, Debug)]
enum KeychainFault {
    NoSecretService,
    Locked,
    Slow,
}

impl KeychainFault {
    const ALL: [KeychainFault; 3] = [
        KeychainFault::NoSecretService,
        KeychainFault::Locked,
        KeychainFault::Slow,
    ];

    fn name(self) -> &'static str {
        match self {
            KeychainFault::NoSecretService => "no Secret Service",
            KeychainFault::Locked => "locked",
            KeychainFault::Slow => "slow beyond the timeout",
        }
    }

    fn kind(self) -> &'static str {
        match self {
            KeychainFault::NoSecretService => "keychain_unavailable",
            KeychainFault::Locked => "keychain_locked",
            KeychainFault::Slow => "keychain_timeout",
        }
    }

    /// Makes the next `op` fail (or every call slow until [`KeychainFault::heal`]).
    fn inject(self, store: &MemoryStore, op: StoreOp) {
        match self {
            KeychainFault::NoSecretService => store.fail_next(
                op,
                VaultError::Unavailable {
                    detail: "org.freedesktop.DBus.Error.ServiceUnknown".into(),
                },
            ),
            KeychainFault::Locked => store.fail_next(
                op,
                VaultError::Locked {
                    detail: "collection is locked".into(),
                },
            ),
            KeychainFault::Slow => store.set_latency(KEYCHAIN_SLOW),
        }
    }

    async fn heal(self, store: &MemoryStore) {
        store.set_latency(Duration::ZERO);
        if let KeychainFault::Slow = self {
            // Let the calls the vault gave up on finish in the background first.
            tokio::time::sleep(KEYCHAIN_SLOW + Duration::from_millis(200)).await;
        }
    }
}

fn expect_kind(v: &SessionView, k: KeychainFault) -> R<String> {
    let kind = says_error(v)?;
    ensure(kind == k.kind(), || {
        format!("kind {kind}, want {}", k.kind())
    })?;
    Ok(kind)
}

/// Start-up cannot read the keychain: not signed in, nothing deleted, retry gets in.
async fn keychain_restore(k: KeychainFault) -> R<String> {
    let w = World::new(Consent::All).await;
    w.sign_in_ok(&w.session()).await?;
    let before = (w.store.raw("session"), w.store.raw("refresh"));
    let s = w.session();
    k.inject(&w.store, StoreOp::Get);
    let v = s.restore().await;
    let kind = expect_kind(&v, k)?;
    ensure(v.status != Status::SignedIn, || "signed in unread".into())?;
    k.heal(&w.store).await;
    ensure(
        (w.store.raw("session"), w.store.raw("refresh")) == before,
        || "entries changed".into(),
    )?;
    w.refresh_live()?;
    signed_in(&s.retry().await)?;
    w.cleanup().await;
    Ok(kind)
}

/// Sign-in cannot write the keychain: the error is shown, no session entry is left, and the
/// next sign-in stores both.
async fn keychain_signin(k: KeychainFault) -> R<String> {
    let w = World::new(Consent::All).await;
    let s = w.session();
    s.restore().await;
    k.inject(&w.store, StoreOp::Set);
    let v = w.try_sign_in(&s).await?;
    let kind = expect_kind(&v, k)?;
    ensure(v.status == Status::SignedOut, || {
        format!("status {:?}", v.status)
    })?;
    k.heal(&w.store).await;
    ensure(w.store.raw("session").is_none(), || {
        "a session entry from a failed sign-in".into()
    })?;
    w.sign_in_ok(&s).await?;
    w.cleanup().await;
    Ok(kind)
}

/// The keychain stopped storing after the start (locked since, gone, a prompt nobody answers),
/// as a failed logout shows: the next sign-in is refused before the browser opens, with the
/// fix, and Kakao is not asked; once the keychain is back, signing in works.
async fn keychain_signin_check(k: KeychainFault) -> R<String> {
    let w = World::new(Consent::All).await;
    let s = w.session();
    s.restore().await;
    w.sign_in_ok(&s).await?;
    k.inject(&w.store, StoreOp::Delete);
    expect_kind(&s.logout(false).await, k)?;
    k.inject(&w.store, StoreOp::Set);
    let (opened, asked) = (w.browser.opened().len(), w.sim.stats().authorize_hits);
    let v = s.sign_in(None).await;
    let kind = expect_kind(&v, k)?;
    ensure(
        v.waiting.is_none()
            && w.browser.opened().len() == opened
            && w.sim.stats().authorize_hits == asked,
        || "the browser was sent to Kakao".into(),
    )?;
    let want = match k {
        KeychainFault::NoSecretService | KeychainFault::Locked => Status::NoKeychain,
        KeychainFault::Slow => Status::SignedOut,
    };
    ensure(v.status == want, || {
        format!("status {:?}, want {want:?}", v.status)
    })?;
    k.heal(&w.store).await;
    w.sign_in_ok(&s).await?;
    w.cleanup().await;
    Ok(kind)
}

/// A refresh with rotation whose keychain write fails: Kakao has killed the old refresh token,
/// so the new one must not be lost; "Retry" must get back in.
async fn keychain_refresh(k: KeychainFault) -> R<String> {
    let w = World::new(Consent::All).await;
    w.sign_in_ok(&w.session()).await?;
    w.sim.advance_clock(31 * DAY);
    let s = w.session();
    // Let the start-up read pass; fail the first write (the rotated refresh token).
    let v = match k {
        KeychainFault::Slow => {
            let s2 = s.clone();
            let store = w.store.clone();
            // The refresh call takes 300 ms; once the start-up reads are done, every keychain
            // call becomes slow, so the write after the refresh times out.
            w.sim.set_fault(
                Endpoint::Token,
                Fault::Times(1, Box::new(Fault::Latency(Duration::from_millis(300)))),
            );
            let t = tokio::spawn(async move { s2.restore().await });
            let deadline = Instant::now() + Duration::from_secs(5);
            while !store
                .log()
                .iter()
                .any(|(op, a)| *op == StoreOp::Get && a == "refresh")
            {
                assert!(
                    Instant::now() < deadline,
                    "the start-up never read the keychain"
                );
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
            store.set_latency(KEYCHAIN_SLOW);
            t.await.unwrap()
        }
        _ => {
            k.inject(&w.store, StoreOp::Set);
            s.restore().await
        }
    };
    let kind = expect_kind(&v, k)?;
    // No keychain to write to says so with its fix; a slow one may be waiting on a prompt.
    let want = match k {
        KeychainFault::NoSecretService | KeychainFault::Locked => Status::NoKeychain,
        KeychainFault::Slow => Status::Offline,
    };
    ensure(v.status == want, || {
        format!("status {:?}, want {want:?}", v.status)
    })?;
    ensure(w.sim.stats().refresh_rotations == 1, || {
        "Kakao did not rotate".into()
    })?;
    k.heal(&w.store).await;
    let v = s.retry().await;
    signed_in(&v)?;
    w.refresh_live()?;
    // And the next start of the app too.
    signed_in(&w.session().restore().await)?;
    w.cleanup().await;
    Ok(kind)
}

/// Logout cannot delete from the keychain: the error is shown, signed out, and logging out
/// again (or the next start) leaves no entry.
async fn keychain_logout(k: KeychainFault) -> R<String> {
    let w = World::new(Consent::All).await;
    let s = w.session();
    s.restore().await;
    w.sign_in_ok(&s).await?;
    k.inject(&w.store, StoreOp::Delete);
    let v = s.logout(false).await;
    let kind = expect_kind(&v, k)?;
    ensure(v.status == Status::SignedOut, || {
        format!("status {:?}", v.status)
    })?;
    k.heal(&w.store).await;
    let v = w.session().restore().await;
    ensure(v.status == Status::SignedOut, || {
        format!("next start: {:?}", v.status)
    })?;
    ensure(w.is_empty(), || {
        format!(
            "entries left after logout and a restart: session {}, refresh {}",
            w.store.raw("session").is_some(),
            w.store.raw("refresh").is_some()
        )
    })?;
    w.sign_in_ok(&s).await?;
    w.cleanup().await;
    Ok(kind)
}

/// Unlink succeeds at Kakao but the keychain delete fails: the error is shown, and by the next
/// start no entry is left (the tokens are dead at Kakao anyway).
async fn keychain_unlink(k: KeychainFault) -> R<String> {
    let w = World::new(Consent::All).await;
    let s = w.session();
    s.restore().await;
    w.sign_in_ok(&s).await?;
    k.inject(&w.store, StoreOp::Delete);
    let v = s.unlink().await;
    let kind = expect_kind(&v, k)?;
    ensure(v.status == Status::SignedOut, || {
        format!("status {:?}", v.status)
    })?;
    ensure(!w.sim.is_connected(demo_id(FULL)), || {
        "Kakao still connected".into()
    })?;
    k.heal(&w.store).await;
    let v = w.session().restore().await;
    ensure(v.status == Status::SignedOut, || {
        format!("next start: {:?}", v.status)
    })?;
    ensure(w.is_empty(), || {
        format!(
            "entries left after unlink and a restart: session {}, refresh {}",
            w.store.raw("session").is_some(),
            w.store.raw("refresh").is_some()
        )
    })?;
    w.cleanup().await;
    Ok(kind)
}

// ------------------------------------------------------------------ permanent failures

/// KOE322 at start-up: both entries deleted, the person told, signing in again works.
async fn permanent_koe322_restore() -> R<String> {
    let w = World::new(Consent::All).await;
    w.sign_in_ok(&w.session()).await?;
    w.sim.expire_refresh_tokens_of(demo_id(FULL));
    w.sim.advance_clock(7 * HOUR);
    let s = w.session();
    let v = s.restore().await;
    ensure(v.status == Status::SignedOut, || {
        format!("status {:?}", v.status)
    })?;
    ensure(v.notice.is_some(), || "not told".into())?;
    ensure(w.is_empty(), || "KOE322 left tokens".into())?;
    w.sign_in_ok(&s).await?;
    w.cleanup().await;
    Ok("session ended (KOE322)".into())
}

/// KOE322 in the middle of a session (profile refresh after expiry).
async fn permanent_koe322_profile() -> R<String> {
    let w = World::new(Consent::All).await;
    let s = w.session();
    s.restore().await;
    w.sign_in_ok(&s).await?;
    w.sim.expire_refresh_tokens_of(demo_id(FULL));
    w.sim.advance_clock(7 * HOUR);
    let v = s.refresh_profile().await;
    ensure(v.status == Status::SignedOut, || {
        format!("status {:?}", v.status)
    })?;
    ensure(v.notice.is_some(), || "not told".into())?;
    ensure(w.is_empty(), || "KOE322 left tokens".into())?;
    w.sign_in_ok(&s).await?;
    w.cleanup().await;
    Ok("session ended (KOE322)".into())
}

/// Unlinked from elsewhere (Kakao's site, another device): the next start finds the tokens
/// dead and deletes them.
async fn permanent_unlinked_elsewhere() -> R<String> {
    let w = World::new(Consent::All).await;
    w.sign_in_ok(&w.session()).await?;
    let access = w.access_token().unwrap();
    let r = reqwest::Client::builder()
        .no_proxy()
        .build()
        .map_err(|e| e.to_string())?
        .post(format!("{}/v1/user/unlink", w.sim.base_url()))
        .bearer_auth(&access)
        .send()
        .await
        .map_err(|e| e.to_string())?;
    ensure(r.status().is_success(), || {
        format!("unlink: {}", r.status())
    })?;
    let s = w.session();
    let v = s.restore().await;
    ensure(v.status == Status::SignedOut, || {
        format!("status {:?}", v.status)
    })?;
    ensure(w.is_empty(), || "dead tokens kept".into())?;
    w.sign_in_ok(&s).await?;
    w.cleanup().await;
    Ok("session ended".into())
}

/// Unlink through the app: both entries go.
async fn permanent_unlink() -> R<String> {
    let w = World::new(Consent::All).await;
    let s = w.session();
    s.restore().await;
    w.sign_in_ok(&s).await?;
    let v = s.unlink().await;
    ensure(v.status == Status::SignedOut && v.error.is_none(), || {
        format!("{:?} {:?}", v.status, v.error)
    })?;
    ensure(w.is_empty(), || "unlink left tokens".into())?;
    w.sign_in_ok(&s).await?;
    w.cleanup().await;
    Ok("disconnected".into())
}

// ------------------------------------------------------------------ the table

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fault_matrix() {
    let started = Instant::now();
    let steps: Vec<(&str, CellFn)> = vec![
        ("sign-in: token exchange", cell_token_exchange),
        ("sign-in: ID token/JWKS", cell_jwks),
        ("sign-in: user/me", cell_user_me),
        ("restore: user/me", cell_restore),
        ("refresh: token call", cell_refresh),
        (
            "refresh (rotated): ID token/JWKS",
            cell_refresh_rotated_jwks,
        ),
        ("logout", cell_logout),
        ("unlink", cell_unlink),
        ("additional consent", cell_consent),
    ];
    let mut lines = Vec::new();
    let mut failed = Vec::new();
    let mut record = |group: &str, step: &str, fault: &str, r: R<String>, t: Duration| {
        let line = match &r {
            Ok(said) => format!(
                "PASS  {group:<8} {step:<34} × {fault:<24} → {said} ({} ms)",
                t.as_millis()
            ),
            Err(why) => format!("FAIL  {group:<8} {step:<34} × {fault:<24} → {why}"),
        };
        println!("{line}");
        if r.is_err() {
            failed.push(line.clone());
        }
        lines.push(line);
    };
    for (step, cell) in &steps {
        for (fault_name, fault) in network_faults() {
            let t = Instant::now();
            let r = cell(fault).await;
            record("network", step, fault_name, r, t.elapsed());
        }
    }
    for k in KeychainFault::ALL {
        let cells: [(&str, Cell); 6] = [
            ("restore: read", Box::pin(keychain_restore(k))),
            ("sign-in: write", Box::pin(keychain_signin(k))),
            ("sign-in: write check", Box::pin(keychain_signin_check(k))),
            ("refresh (rotated): write", Box::pin(keychain_refresh(k))),
            ("logout: delete", Box::pin(keychain_logout(k))),
            ("unlink: delete", Box::pin(keychain_unlink(k))),
        ];
        for (step, cell) in cells {
            let t = Instant::now();
            let r = cell.await;
            record("keychain", step, k.name(), r, t.elapsed());
        }
    }
    let permanent: [(&str, Cell); 4] = [
        ("restore", Box::pin(permanent_koe322_restore())),
        ("profile refresh", Box::pin(permanent_koe322_profile())),
        ("restore", Box::pin(permanent_unlinked_elsewhere())),
        ("unlink", Box::pin(permanent_unlink())),
    ];
    let names = ["KOE322", "KOE322", "unlinked elsewhere", "unlink (app)"];
    for ((step, cell), fault) in permanent.into_iter().zip(names) {
        let t = Instant::now();
        let r = cell.await;
        record("permanent", step, fault, r, t.elapsed());
    }
    let total = lines.len();
    let passed = total - failed.len();
    println!(
        "fault matrix: {passed} passed, {} failed of {total} cells in {:.1} s",
        failed.len(),
        started.elapsed().as_secs_f64()
    );
    assert!(failed.is_empty(), "failing cells:\n{}", failed.join("\n"));
    assert_eq!(total, 9 * 6 + 3 * 6 + 4, "every cell ran");
}
