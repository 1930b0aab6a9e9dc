//! Field conditions: this computer's clock is not Kakao's. The app runs on its own clock (a
//! `ManualClock`, as a computer whose clock is off), the simulator on its own, over real HTTP
//! and the real OS keychain (Secret Service; `cargo xtask test` provides a private unlocked
//! gnome-keyring). Kakao's clock ahead of the app's and behind it; the app must sign in, keep
//! its session, judge expiries on Kakao's time, say how far off the clock is, and leave the
//! verdict on a refresh token to Kakao.

use kakao_signin_core::clock::ManualClock;
use kakao_signin_core::session::view::{SessionView, Status};
use kakao_signin_core::session::Session;
use kakao_signin_core::vault::Vault;
use kakao_signin_test_support::{
    deps_for, free_loopback_port, keychain_accounts, start_sim, Consent, Script, SimBrowser,
};
use kakao_sim::{Endpoint, Sim};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const MINUTE: i64 = 60;
const HOUR: i64 = 3600;
const DAY: i64 = 24 * HOUR;

struct Env {
    sim: Arc<Sim>,
    /// This computer's clock, as the app sees it.
    clock: ManualClock,
    session: Arc<Session>,
    browser: Arc<SimBrowser>,
    service: String,
    data_dir: PathBuf,
    port: u16,
}

static SEQ: AtomicUsize = AtomicUsize::new(0);

/// The app's own wiring against the simulator, on `clock` (this computer's), not the
/// simulator's, over the real keychain under `service`.
fn app_session(
    sim: &Arc<Sim>,
    clock: &ManualClock,
    service: &str,
    data_dir: &std::path::Path,
    browser: &Arc<SimBrowser>,
    port: u16,
) -> Arc<Session> {
    let mut deps = deps_for(
        sim,
        &sim.base_url(),
        Vault::keyring(service.to_owned()),
        data_dir,
        browser,
        vec![port],
    );
    deps.clock = Arc::new(clock.clone());
    Session::new(deps, Arc::new(|_| {}))
}

impl Env {
    /// The simulator on its own clock and the app on one `local_minus_kakao` seconds off it
    /// (positive: this computer ahead of Kakao).
    async fn new(local_minus_kakao: i64) -> Env {
        assert!(
            std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_some(),
            "these tests use the real Secret Service: run them through `cargo xtask test`"
        );
        let port = free_loopback_port();
        let sim = start_sim(port).await;
        let clock = ManualClock::new(sim.now_unix() + local_minus_kakao);
        let n = SEQ.fetch_add(1, Ordering::SeqCst);
        let service = format!("kakao-signin-skew-{}-{n}", std::process::id());
        let data_dir = std::env::temp_dir().join(format!("ks-skew-{}-{n}", std::process::id()));
        let browser = SimBrowser::new(Some(Script {
            login: "full@kakao.test",
            consent: Consent::All,
        }));
        let session = app_session(&sim, &clock, &service, &data_dir, &browser, port);
        Env {
            sim,
            clock,
            session,
            browser,
            service,
            data_dir,
            port,
        }
    }

    /// "The app started again": a fresh session on the same clock, keychain and simulator.
    fn new_session(&self) -> Arc<Session> {
        app_session(
            &self.sim,
            &self.clock,
            &self.service,
            &self.data_dir,
            &self.browser,
            self.port,
        )
    }

    async fn wait_for(&self, what: &str, pred: impl Fn(&SessionView) -> bool) -> SessionView {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let v = self.session.view();
            if pred(&v) {
                return v;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}; view: {v:#?}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    async fn sign_in(&self) -> SessionView {
        let v = self.session.sign_in(None).await;
        assert_eq!(v.status, Status::Waiting, "{v:#?}");
        self.wait_for("signed in or an error", |v| {
            (v.status == Status::SignedIn && v.profile.is_some()) || v.error.is_some()
        })
        .await
    }

    /// Moves this computer's clock and Kakao's on together, `secs` seconds.
    fn time_passes(&self, secs: i64) {
        self.sim.advance_clock(secs);
        self.clock.advance(secs);
    }

    fn keychain(&self) -> Vec<String> {
        keychain_accounts(&self.service)
    }

    /// What the diagnostics say the offset is, in seconds.
    fn diagnosed_offset(&self) -> Option<i64> {
        self.session
            .diagnostics(&[])
            .lines()
            .find_map(|l| l.strip_prefix("clock offset: "))
            .and_then(|v| v.strip_suffix(" s"))
            .map(|v| v.parse().expect("a number of seconds"))
    }

    async fn cleanup(self) {
        let _ = Vault::keyring(self.service.clone()).clear().await;
        let _ = std::fs::remove_dir_all(&self.data_dir);
    }
}

/// `found` is `want` give or take the seconds the test took (the simulator's clock runs, the
/// app's stands still).
fn assert_offset(found: Option<i64>, want: i64, what: &str) {
    let found = found.unwrap_or_else(|| panic!("{what}: no clock offset"));
    assert!(
        (want - 15..=want + 2).contains(&found),
        "{what}: offset {found} s, expected about {want} s"
    );
}

fn signed_in(v: &SessionView) {
    assert!(
        v.status == Status::SignedIn && v.error.is_none(),
        "not signed in: {:?} {:#?}",
        v.status,
        v.error
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn kakaos_clock_3_minutes_ahead_signs_in_and_says_so() {
    let env = Env::new(-3 * MINUTE).await;
    let v = env.sign_in().await;
    signed_in(&v);
    assert_eq!(env.keychain(), ["refresh", "session"]);
    assert_offset(v.clock_offset_secs, -3 * MINUTE, "window");
    assert_offset(env.diagnosed_offset(), -3 * MINUTE, "diagnostics");
    // Six hours later (both clocks): the access token has expired by Kakao's clock, and the app
    // refreshes first rather than sending a dead token.
    env.time_passes(6 * HOUR);
    signed_in(&env.session.refresh_profile().await);
    assert_eq!(env.sim.stats().refreshes, 1);
    assert!(
        env.sim.request_log().iter().all(|r| r.status != 401),
        "a request went out with a dead token"
    );
    env.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn kakaos_clock_9_hours_behind_signs_in_restores_and_says_so() {
    // An RTC kept in Korean local time and read as UTC: this computer 9 hours ahead.
    let env = Env::new(9 * HOUR).await;
    let v = env.sign_in().await;
    signed_in(&v);
    assert_offset(v.clock_offset_secs, 9 * HOUR, "window");
    // The app starts again. By this computer's clock the access token looks 3 hours dead,
    // but nothing is measured yet: the app asks Kakao rather than guess, and the token is
    // alive there. No refresh.
    let mut env = env;
    env.session = env.new_session();
    let v = env.session.restore().await;
    signed_in(&v);
    assert!(v.profile.is_some());
    assert_eq!(env.sim.stats().refreshes, 0);
    assert_offset(v.clock_offset_secs, 9 * HOUR, "after restore");
    // Six hours on (both clocks) the token is dead at Kakao; now the app knows Kakao's time
    // and refreshes first, and the refresh's new ID token is judged on Kakao's time too.
    env.time_passes(6 * HOUR);
    signed_in(&env.session.refresh_profile().await);
    assert_eq!(env.sim.stats().refreshes, 1);
    assert!(
        env.sim.request_log().iter().all(|r| r.status != 401),
        "a request went out with a dead token"
    );
    assert_eq!(env.keychain(), ["refresh", "session"]);
    env.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_clock_set_back_while_running_moves_expiries_to_kakaos_time() {
    let env = Env::new(0).await;
    let v = env.sign_in().await;
    signed_in(&v);
    assert_eq!(v.clock_offset_secs, None, "in step: nothing to say");
    // Someone sets this computer's clock back 10 minutes; the next answer tells the app.
    env.clock.advance(-10 * MINUTE);
    let moved = env.session.refresh_profile().await;
    signed_in(&moved);
    // Six hours and a bit later the access token is dead at Kakao, though by this computer's
    // clock it has 10 minutes left: the app refreshes first.
    env.time_passes(6 * HOUR + 100);
    signed_in(&env.session.refresh_profile().await);
    assert_eq!(env.sim.stats().refreshes, 1);
    let dead_token_sent: Vec<_> = env
        .sim
        .request_log()
        .into_iter()
        .filter(|r| r.status == 401)
        .map(|r| r.path)
        .collect();
    assert!(
        dead_token_sent.is_empty(),
        "sent a dead access token to {dead_token_sent:?}"
    );
    assert_offset(
        moved.clock_offset_secs,
        -10 * MINUTE,
        "after the clock moved",
    );
    env.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_refresh_token_expired_by_this_computers_clock_is_still_offered_to_kakao() {
    let env = Env::new(0).await;
    signed_in(&env.sign_in().await);
    // This computer's clock jumps 61 days on (Kakao's does not): past the refresh token's
    // 60-day lifetime by its reckoning, alive at Kakao.
    env.clock.advance(61 * DAY);
    let v = env.session.refresh_profile().await;
    signed_in(&v);
    assert_eq!(env.sim.stats().refreshes, 1, "Kakao was asked");
    assert_eq!(env.keychain(), ["refresh", "session"]);
    assert_offset(v.clock_offset_secs, 61 * DAY, "61 days ahead");
    // Only Kakao's answer ends it: the refresh token dies there, and then here.
    env.sim.expire_refresh_tokens_of(3_000_000_000_000_000_001);
    env.time_passes(6 * HOUR + 100);
    let v = env.session.refresh_profile().await;
    assert_eq!(v.status, Status::SignedOut, "{v:#?}");
    assert!(env.keychain().is_empty(), "{:?}", env.keychain());
    let refreshes = env
        .sim
        .request_log()
        .iter()
        .filter(|r| r.endpoint == Some(Endpoint::Token))
        .count();
    assert_eq!(
        refreshes, 3,
        "code exchange, the refresh, the one Kakao refused"
    );
    env.cleanup().await;
}
