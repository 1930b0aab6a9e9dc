//! The shape of the two critical paths, read from the simulator's request log (each request's
//! start and end): after the code exchange the sign-in's requests run at once, and a restore
//! with a valid access token makes exactly one kapi request before the profile is shown. Real
//! HTTP to the simulator, the real loopback listener and the real OS keychain (Secret Service,
//! through `cargo xtask test` or `/tmp/inside.sh`). Nothing here is timed: a latency fault on
//! every endpoint only makes requests that run at once visibly overlap.

use futures::future::BoxFuture;
use kakao_signin_core::kakao::http::{HttpClient, HttpRequest, HttpResponse, TransportError};
use kakao_signin_core::session::view::{SessionView, Status};
use kakao_signin_core::session::{Event, Notify, Session};
use kakao_signin_core::vault::Vault;
use kakao_signin_test_support::{
    deps_for, free_loopback_port, start_sim, Consent, Script, SimBrowser,
};
use kakao_sim::{Endpoint, Fault, LoggedRequest, Sim};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

struct Env {
    sim: Arc<Sim>,
    browser: Arc<SimBrowser>,
    service: String,
    data_dir: PathBuf,
    port: u16,
}

/// The simulator's request log when the window first got a view with the profile.
type AtProfile = Arc<Mutex<Option<Vec<LoggedRequest>>>>;

impl Env {
    async fn new(name: &str) -> Env {
        assert!(
            std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_some(),
            "these tests use the real Secret Service: run them through `cargo xtask test`"
        );
        let port = free_loopback_port();
        let sim = start_sim(port).await;
        let service = format!("kakao-signin-critical-{name}-{}", std::process::id());
        let data_dir =
            std::env::temp_dir().join(format!("ks-critical-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&data_dir);
        let browser = SimBrowser::new(Some(Script {
            login: "full@kakao.test",
            consent: Consent::All,
        }));
        Env {
            sim,
            browser,
            service,
            data_dir,
            port,
        }
    }

    /// A session as a new start of the app (same keychain service and data directory), whose
    /// listener snapshots the simulator's log at the first view showing a profile.
    fn start_app(&self) -> (Arc<Session>, AtProfile) {
        self.start_app_with(|http| http)
    }

    /// [`Env::start_app`] with the app's HTTP client wrapped by `wrap`.
    fn start_app_with(
        &self,
        wrap: impl FnOnce(Arc<dyn HttpClient>) -> Arc<dyn HttpClient>,
    ) -> (Arc<Session>, AtProfile) {
        let at: AtProfile = Arc::new(Mutex::new(None));
        let (sim, seen) = (self.sim.clone(), at.clone());
        let notify: Notify = Arc::new(move |e| {
            if let Event::Changed(v) = e {
                let mut seen = seen.lock().unwrap();
                if seen.is_none() && v.status == Status::SignedIn && v.profile.is_some() {
                    *seen = Some(sim.request_log());
                }
            }
        });
        let mut deps = deps_for(
            &self.sim,
            &self.sim.base_url(),
            Vault::keyring(self.service.clone()),
            &self.data_dir,
            &self.browser,
            vec![self.port],
        );
        deps.http = wrap(deps.http);
        (Session::new(deps, notify), at)
    }

    async fn sign_in(&self, session: &Arc<Session>) -> SessionView {
        session.sign_in(None).await;
        wait_for(session, |v| {
            v.status == Status::SignedIn && v.profile.is_some()
        })
        .await
    }

    /// Every endpoint answers `ms` later (the browser's pages included).
    fn latency(&self, ms: u64) {
        for ep in Endpoint::ALL {
            self.sim
                .set_fault(ep, Fault::Latency(Duration::from_millis(ms)));
        }
    }

    async fn cleanup(self) {
        let _ = Vault::keyring(self.service.clone()).clear().await;
        let _ = std::fs::remove_dir_all(&self.data_dir);
    }
}

async fn wait_for(session: &Session, pred: impl Fn(&SessionView) -> bool) -> SessionView {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let v = session.view();
        if pred(&v) {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out; last view {v:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn named(log: &[LoggedRequest]) -> Vec<String> {
    log.iter().map(|r| r.path.clone()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_the_code_exchange_the_sign_in_requests_run_at_once() {
    let env = Env::new("signin").await;
    // A first run fetches Kakao's JWKS (and keeps it on disk).
    let (first, _) = env.start_app();
    env.sign_in(&first).await;
    drop(first);

    // The app starts again; every endpoint now costs 150 ms.
    env.latency(150);
    let (session, at_profile) = env.start_app();
    let before = env.sim.request_log().len();
    env.sign_in(&session).await;
    let log = at_profile
        .lock()
        .unwrap()
        .clone()
        .expect("a profile was shown");
    let log = &log[before..];

    let token = log
        .iter()
        .position(|r| r.endpoint == Some(Endpoint::Token))
        .unwrap_or_else(|| panic!("a code exchange: {:?}", named(log)));
    assert!(
        log.iter().all(|r| r.endpoint != Some(Endpoint::Jwks)),
        "the JWKS kept from the last run is used, not fetched: {:?}",
        named(log)
    );
    let exchange = &log[token];
    let after: Vec<&LoggedRequest> = log[token + 1..].iter().collect();
    let paths: Vec<&str> = after.iter().map(|r| r.path.as_str()).collect();
    for ep in [Endpoint::UserMe, Endpoint::Scopes, Endpoint::ProfileImage] {
        assert_eq!(
            after.iter().filter(|r| r.endpoint == Some(ep)).count(),
            1,
            "one {} after the code exchange: {paths:?}",
            ep.name()
        );
    }
    assert!(
        after.iter().all(|r| r.start_us >= exchange.end_us),
        "everything else needs the tokens: {paths:?}"
    );
    // Run at once: every one started before any of them ended, so the sign-in costs the
    // code exchange and one more round trip.
    let first_end = after.iter().map(|r| r.end_us).min().unwrap();
    let last_start = after.iter().map(|r| r.start_us).max().unwrap();
    assert!(
        last_start < first_end,
        "the requests after the code exchange overlap: {:?}",
        after
            .iter()
            .map(|r| (
                r.path.as_str(),
                r.start_us - exchange.end_us,
                r.end_us - exchange.end_us
            ))
            .collect::<Vec<_>>()
    );
    env.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restore_with_a_valid_access_token_makes_one_kapi_request_before_the_profile() {
    let env = Env::new("restore").await;
    let (first, _) = env.start_app();
    env.sign_in(&first).await;
    drop(first);

    let (session, at_profile) = env.start_app();
    let before = env.sim.request_log().len();
    session.restore().await;
    let log = at_profile
        .lock()
        .unwrap()
        .clone()
        .expect("a profile was shown");
    let kapi: Vec<&LoggedRequest> = log[before..]
        .iter()
        .filter(|r| r.endpoint.is_some_and(Endpoint::is_kapi))
        .collect();
    assert_eq!(
        kapi.iter().map(|r| r.path.as_str()).collect::<Vec<_>>(),
        ["/v2/user/me"],
        "exactly one kapi request, with the stored access token, before the profile is shown"
    );
    assert!(
        log[before..]
            .iter()
            .all(|r| !matches!(r.endpoint, Some(Endpoint::Token | Endpoint::Jwks))),
        "no refresh and no JWKS on the way: {:?}",
        named(&log[before..])
    );
    // Kakao's own check of the token still happens, after the profile.
    let all = env.sim.request_log();
    assert!(
        all[before..]
            .iter()
            .any(|r| r.endpoint == Some(Endpoint::AccessTokenInfo)),
        "access_token_info after the profile: {:?}",
        named(&all[before..])
    );
    assert_eq!(session.view().status, Status::SignedIn);
    env.cleanup().await;
}

/// The app's HTTP client, noting every request sent before anyone asked for the client to be
/// prepared (built: with the platform's TLS, the trust store read), i.e. a request that paid
/// for building it on the critical path.
struct Watched {
    inner: Arc<dyn HttpClient>,
    asked: AtomicBool,
    unprepared: Mutex<Vec<String>>,
}

impl HttpClient for Watched {
    fn prepare(&self) -> BoxFuture<'_, ()> {
        self.asked.store(true, Ordering::SeqCst);
        self.inner.prepare()
    }

    fn send(&self, request: HttpRequest) -> BoxFuture<'_, Result<HttpResponse, TransportError>> {
        if !self.asked.load(Ordering::SeqCst) {
            self.unprepared
                .lock()
                .unwrap()
                .push(request.url.path().to_owned());
        }
        self.inner.send(request)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_http_client_is_prepared_before_the_first_request_of_a_sign_in_and_a_restore() {
    let env = Env::new("prepared").await;
    let watch = |slot: &Arc<Mutex<Option<Arc<Watched>>>>| {
        let slot = slot.clone();
        move |inner: Arc<dyn HttpClient>| -> Arc<dyn HttpClient> {
            let w = Arc::new(Watched {
                inner,
                asked: AtomicBool::new(false),
                unprepared: Mutex::new(Vec::new()),
            });
            *slot.lock().unwrap() = Some(w.clone());
            w
        }
    };

    // A new start of the app, then a sign-in: the client is prepared when the browser opens,
    // while the person is at Kakao, not by the code exchange.
    let signin = Arc::new(Mutex::new(None));
    let (first, _) = env.start_app_with(watch(&signin));
    env.sign_in(&first).await;
    drop(first);
    let signin = signin.lock().unwrap().take().unwrap();
    assert_eq!(
        *signin.unprepared.lock().unwrap(),
        Vec::<String>::new(),
        "sign-in: requests sent before the HTTP client was prepared"
    );

    // Another start: the restore prepares it beside the keychain read, before `/v2/user/me`.
    let restore = Arc::new(Mutex::new(None));
    let (session, _) = env.start_app_with(watch(&restore));
    session.restore().await;
    assert_eq!(session.view().status, Status::SignedIn);
    let restore = restore.lock().unwrap().take().unwrap();
    assert_eq!(
        *restore.unprepared.lock().unwrap(),
        Vec::<String>::new(),
        "restore: requests sent before the HTTP client was prepared"
    );
    env.cleanup().await;
}
