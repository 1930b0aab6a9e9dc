//! # kakao-sim — an offline Kakao Login simulator
//!
//! A local HTTP server that behaves like Kakao's `kauth.kakao.com` (OAuth 2.0 / OpenID Connect)
//! and the Kakao Login part of `kapi.kakao.com`, as specified by the project's Kakao reference
//! (`shared/kakao/REFERENCE.md`, including its "Decisions"). One base URL serves both hosts'
//! paths. Browser pages (login, account chooser, consent, error) are real HTML that a person or
//! WebDriver can use.
//!
//! ```no_run
//! # async fn demo() -> anyhow::Result<()> {
//! use kakao_sim::{Sim, SimConfig, Endpoint, Fault};
//! let sim = Sim::start(SimConfig::demo()).await?;
//! let base = sim.base_url(); // e.g. http://127.0.0.1:41234
//! sim.set_fault(Endpoint::Token, Fault::Times(1, Box::new(Fault::Status(503))));
//! sim.advance_clock(6 * 3600); // access tokens expire without sleeping
//! println!("{} refreshes", sim.stats().refreshes);
//! sim.shutdown().await;
//! # Ok(()) }
//! ```
//!
//! A process that only has the URL can do the same through the control path `/__sim/`
//! (see the crate README).

pub mod config;
mod control;
mod kapi;
mod kauth;
mod keys;
mod pages;
pub mod ports;
mod server;
mod state;
mod util;

pub use config::{
    AppConfig, ConfigError, ConsentItem, Lifetimes, Profile, ScopeType, SimConfig, UserConfig,
    DEFAULT_NICKNAME,
};
pub use ports::free_loopback_port;

use serde::{Deserialize, Serialize};
use state::State;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// An endpoint of the simulator, used to target faults and to count hits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Endpoint {
    /// `GET /oauth/authorize` and the login/chooser/consent form posts of that flow.
    Authorize,
    /// `POST /oauth/token`.
    Token,
    /// `POST /oauth/tokeninfo`.
    TokenInfo,
    /// `GET /.well-known/jwks.json`.
    Jwks,
    /// `GET /.well-known/openid-configuration`.
    Discovery,
    /// `GET|POST /v2/user/me`.
    UserMe,
    /// `GET /v1/user/access_token_info`.
    AccessTokenInfo,
    /// `POST /v1/user/logout`.
    Logout,
    /// `POST /v1/user/unlink`.
    Unlink,
    /// `GET /v2/user/scopes`.
    Scopes,
    /// `POST /v2/user/revoke/scopes`.
    RevokeScopes,
    /// `GET|POST /v1/oidc/userinfo`.
    OidcUserInfo,
    /// `GET /oauth/logout` (Kakao account logout in the browser).
    OauthLogout,
    /// `GET /v1/user/shipping_address` (the simulator's `-402` trigger).
    ShippingAddress,
    /// `GET /__sim/img/{name}`: the profile pictures (Kakao's CDN, `k.kakaocdn.net`, in real
    /// life), so a latency fault can cost the picture its round trip too.
    ProfileImage,
}

impl Endpoint {
    /// Every endpoint.
    pub const ALL: [Endpoint; 15] = [
        Endpoint::Authorize,
        Endpoint::Token,
        Endpoint::TokenInfo,
        Endpoint::Jwks,
        Endpoint::Discovery,
        Endpoint::UserMe,
        Endpoint::AccessTokenInfo,
        Endpoint::Logout,
        Endpoint::Unlink,
        Endpoint::Scopes,
        Endpoint::RevokeScopes,
        Endpoint::OidcUserInfo,
        Endpoint::OauthLogout,
        Endpoint::ShippingAddress,
        Endpoint::ProfileImage,
    ];

    /// snake_case name (as used in JSON and in [`Stats::endpoint_hits`]).
    pub fn name(self) -> &'static str {
        match self {
            Endpoint::Authorize => "authorize",
            Endpoint::Token => "token",
            Endpoint::TokenInfo => "token_info",
            Endpoint::Jwks => "jwks",
            Endpoint::Discovery => "discovery",
            Endpoint::UserMe => "user_me",
            Endpoint::AccessTokenInfo => "access_token_info",
            Endpoint::Logout => "logout",
            Endpoint::Unlink => "unlink",
            Endpoint::Scopes => "scopes",
            Endpoint::RevokeScopes => "revoke_scopes",
            Endpoint::OidcUserInfo => "oidc_user_info",
            Endpoint::OauthLogout => "oauth_logout",
            Endpoint::ShippingAddress => "shipping_address",
            Endpoint::ProfileImage => "profile_image",
        }
    }

    /// Served under `kapi.kakao.com` (errors as `{msg, code}`).
    pub fn is_kapi(self) -> bool {
        matches!(
            self,
            Endpoint::UserMe
                | Endpoint::AccessTokenInfo
                | Endpoint::Logout
                | Endpoint::Unlink
                | Endpoint::Scopes
                | Endpoint::RevokeScopes
                | Endpoint::OidcUserInfo
                | Endpoint::ShippingAddress
        )
    }

    /// A browser page (errors shown as HTML).
    pub fn is_page(self) -> bool {
        matches!(self, Endpoint::Authorize | Endpoint::OauthLogout)
    }
}

/// A fault injected into an endpoint until cleared (or for `Times(n, _)`, the next `n` requests).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(from = "FaultSpec", into = "FaultSpec")]
pub enum Fault {
    /// Wait this long (real time) before handling the request normally.
    Latency(Duration),
    /// Answer with this plain HTTP status (e.g. 500, 502, 503) and a `text/plain` body.
    Status(u16),
    /// Handle normally but truncate the body (half of it is sent): malformed JSON.
    Malformed,
    /// Close the connection without any response.
    Drop,
    /// Kakao's transient error: kapi `-1` (HTTP 400), kauth `KOE003` (HTTP 500, `server_error`).
    KakaoTransient,
    /// Rate limit: kauth `KOE237` (HTTP 400), kapi `-10` (HTTP 400, Decision 11).
    RateLimit,
    /// A kauth error body `{error, error_description, error_code}` with this HTTP status; no
    /// `error_code` when it is `None` (e.g. `invalid_grant` at refresh with a code other than
    /// KOE322, or none, as the app must treat any `invalid_grant` there: REFERENCE §3).
    KauthError {
        /// HTTP status.
        status: u16,
        /// OAuth `error`, e.g. `invalid_grant`.
        error: String,
        /// KOE code, if any.
        error_code: Option<String>,
    },
    /// A kapi error body `{msg, code}` with this HTTP status, e.g. `-603` (Kakao timeout),
    /// `-903` (unregistered developer), `-101` (not linked), `-3` (REFERENCE §4i).
    KapiError {
        /// HTTP status.
        status: u16,
        /// kapi code (negative).
        code: i64,
    },
    /// `GET /oauth/authorize` redirects at once to the request's `redirect_uri` with this
    /// `error` and `error_description` (and its `state`), e.g. `unauthorized_client`, or
    /// `access_denied` with `Not allowed under age 14` (REFERENCE §1). A request without a
    /// `redirect_uri` (the login and consent form posts) is handled normally.
    RedirectError {
        /// OAuth `error`.
        error: String,
        /// `error_description`.
        description: String,
    },
    /// Only the next `n` requests get the inner fault.
    Times(u32, Box<Fault>),
    /// Answer 200 with a body of this many bytes (JSON whitespace, or an image's bytes for
    /// [`Endpoint::ProfileImage`]) instead of the real answer: with a `Content-Length` when
    /// `declared`, else chunked with none (so only counting while reading catches it).
    Oversized {
        /// Body length in bytes.
        bytes: usize,
        /// Whether `Content-Length` says so up front.
        declared: bool,
    },
}

/// JSON form of [`Fault`] used by the control path, e.g. `{"kind":"status","status":503}`,
/// `{"kind":"latency","ms":250}`, `{"kind":"times","n":2,"fault":{"kind":"drop"}}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum FaultSpec {
    /// [`Fault::Latency`] in milliseconds.
    Latency {
        /// Milliseconds.
        ms: u64,
    },
    /// [`Fault::Status`].
    Status {
        /// HTTP status.
        status: u16,
    },
    /// [`Fault::Malformed`].
    Malformed,
    /// [`Fault::Drop`].
    Drop,
    /// [`Fault::KakaoTransient`].
    KakaoTransient,
    /// [`Fault::RateLimit`].
    RateLimit,
    /// [`Fault::KauthError`].
    KauthError {
        /// HTTP status.
        status: u16,
        /// OAuth `error`.
        error: String,
        /// KOE code, if any.
        #[serde(default)]
        error_code: Option<String>,
    },
    /// [`Fault::KapiError`].
    KapiError {
        /// HTTP status.
        status: u16,
        /// kapi code.
        code: i64,
    },
    /// [`Fault::RedirectError`].
    RedirectError {
        /// OAuth `error`.
        error: String,
        /// `error_description`.
        description: String,
    },
    /// [`Fault::Times`].
    Times {
        /// Number of requests.
        n: u32,
        /// The fault.
        fault: Box<FaultSpec>,
    },
    /// [`Fault::Oversized`].
    Oversized {
        /// Body length in bytes.
        bytes: usize,
        /// Whether `Content-Length` says so up front.
        declared: bool,
    },
}

impl From<FaultSpec> for Fault {
    fn from(s: FaultSpec) -> Self {
        match s {
            FaultSpec::Latency { ms } => Fault::Latency(Duration::from_millis(ms)),
            FaultSpec::Status { status } => Fault::Status(status),
            FaultSpec::Malformed => Fault::Malformed,
            FaultSpec::Drop => Fault::Drop,
            FaultSpec::KakaoTransient => Fault::KakaoTransient,
            FaultSpec::RateLimit => Fault::RateLimit,
            FaultSpec::KauthError {
                status,
                error,
                error_code,
            } => Fault::KauthError {
                status,
                error,
                error_code,
            },
            FaultSpec::KapiError { status, code } => Fault::KapiError { status, code },
            FaultSpec::RedirectError { error, description } => {
                Fault::RedirectError { error, description }
            }
            FaultSpec::Times { n, fault } => Fault::Times(n, Box::new((*fault).into())),
            FaultSpec::Oversized { bytes, declared } => Fault::Oversized { bytes, declared },
        }
    }
}

impl From<Fault> for FaultSpec {
    fn from(f: Fault) -> Self {
        match f {
            Fault::Latency(d) => FaultSpec::Latency {
                ms: d.as_millis() as u64,
            },
            Fault::Status(status) => FaultSpec::Status { status },
            Fault::Malformed => FaultSpec::Malformed,
            Fault::Drop => FaultSpec::Drop,
            Fault::KakaoTransient => FaultSpec::KakaoTransient,
            Fault::RateLimit => FaultSpec::RateLimit,
            Fault::KauthError {
                status,
                error,
                error_code,
            } => FaultSpec::KauthError {
                status,
                error,
                error_code,
            },
            Fault::KapiError { status, code } => FaultSpec::KapiError { status, code },
            Fault::RedirectError { error, description } => {
                FaultSpec::RedirectError { error, description }
            }
            Fault::Times(n, inner) => FaultSpec::Times {
                n,
                fault: Box::new((*inner).into()),
            },
            Fault::Oversized { bytes, declared } => FaultSpec::Oversized { bytes, declared },
        }
    }
}

/// Counters of what happened on the server.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Stats {
    /// `POST /oauth/token` requests by `grant_type` (`authorization_code`, `refresh_token`,
    /// `(missing)`, `(other)`), successful or not; requests answered by an injected fault are
    /// not included (see `endpoint_hits` for those).
    pub token_requests: BTreeMap<String, u64>,
    /// Error answers of the token endpoint by KOE code.
    pub token_errors: BTreeMap<String, u64>,
    /// Successful refresh grants.
    pub refreshes: u64,
    /// Body bytes handed to the connection by [`Fault::Oversized`] answers: how much of an
    /// oversized body the client let itself be sent before it stopped reading.
    #[serde(default)]
    pub oversized_bytes_sent: u64,
    /// `GET /oauth/authorize` hits.
    pub authorize_hits: u64,
    /// Hits per endpoint ([`Endpoint::name`]), control path excluded.
    pub endpoint_hits: BTreeMap<String, u64>,
    /// Authorization codes issued.
    pub codes_issued: u64,
    /// Access tokens issued.
    pub access_tokens_issued: u64,
    /// Refresh tokens issued (code grants and rotations).
    pub refresh_tokens_issued: u64,
    /// ID tokens issued.
    pub id_tokens_issued: u64,
    /// Refresh-token rotations (refresh grant that issued a new refresh token).
    pub refresh_rotations: u64,
    /// Access tokens revoked (logout, unlink).
    pub revoked_access_tokens: u64,
    /// Refresh tokens revoked (logout, unlink, rotation).
    pub revoked_refresh_tokens: u64,
    /// Signing-key rotations.
    pub signing_key_rotations: u64,
    /// Requests that received an injected fault.
    pub faults_injected: u64,
    /// Successful / failed password logins on the login page.
    pub logins_ok: u64,
    /// Failed password logins.
    pub logins_failed: u64,
    /// Consent pages agreed.
    pub consents_given: u64,
    /// Consent pages cancelled.
    pub consents_cancelled: u64,
    /// `/v1/user/logout` calls that succeeded.
    pub user_logouts: u64,
    /// `/v1/user/unlink` calls that succeeded.
    pub unlinks: u64,
    /// `/oauth/logout` choice pages answered "log out of the Kakao account too".
    #[serde(default)]
    pub kakao_account_logouts: u64,
    /// `/oauth/logout` choice pages answered "log out of this service only".
    #[serde(default)]
    pub service_only_logouts: u64,
    /// Access tokens currently live (filled in by [`Sim::stats`]).
    pub live_access_tokens: u64,
    /// Refresh tokens currently live (filled in by [`Sim::stats`]).
    pub live_refresh_tokens: u64,
    /// Browser sessions with at least one valid account (filled in by [`Sim::stats`]).
    pub browser_sessions: u64,
}

/// One request as seen by the simulator. Values are never recorded (tokens, codes, secrets).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LoggedRequest {
    /// Simulator clock at arrival.
    pub at_unix: i64,
    /// HTTP method.
    pub method: String,
    /// Path without query.
    pub path: String,
    /// Endpoint, if the path is one.
    pub endpoint: Option<Endpoint>,
    /// Names of the query parameters.
    pub query_keys: Vec<String>,
    /// Names of the form-body parameters.
    pub form_keys: Vec<String>,
    /// Whether an `Authorization` header was present.
    pub has_authorization: bool,
    /// Response status (`0` when the connection was dropped).
    pub status: u16,
    /// When the request arrived, microseconds since the simulator started (its monotonic
    /// clock, not the simulated one): with `end_us`, which requests overlapped.
    #[serde(default)]
    pub start_us: u64,
    /// When the answer was handed to the connection (or dropped), microseconds since the
    /// simulator started.
    #[serde(default)]
    pub end_us: u64,
}

pub(crate) struct Clock {
    base: i64,
    started: Instant,
    offset: AtomicI64,
    /// Seconds since `started` at which the clock was stopped; -1 while it runs.
    stopped_at: AtomicI64,
}

impl Clock {
    /// Real time since the simulator started, in microseconds (for the request log).
    pub(crate) fn elapsed_us(&self) -> u64 {
        u64::try_from(self.started.elapsed().as_micros()).unwrap_or(u64::MAX)
    }

    fn now(&self) -> i64 {
        let stopped = self.stopped_at.load(Ordering::SeqCst);
        let elapsed = if stopped >= 0 {
            stopped
        } else {
            self.started.elapsed().as_secs() as i64
        };
        self.base + elapsed + self.offset.load(Ordering::SeqCst)
    }
}

pub(crate) struct Shared {
    pub base_url: String,
    pub port: u16,
    pub clock: Clock,
    pub st: Mutex<State>,
}

impl Shared {
    pub fn now(&self) -> i64 {
        self.clock.now()
    }
    pub fn lock(&self) -> MutexGuard<'_, State> {
        self.st.lock().unwrap_or_else(|e| e.into_inner())
    }
    /// Session cookie name (per port, since browsers share cookies across ports of a host).
    pub fn cookie_name(&self) -> String {
        format!("kakao_sim_session_{}", self.port)
    }
    pub fn stats(&self) -> Stats {
        let now = self.now();
        let st = self.lock();
        let mut s = st.stats.clone();
        s.live_access_tokens = st.access.values().filter(|t| t.expires_at > now).count() as u64;
        s.live_refresh_tokens = st.refresh.values().filter(|t| t.expires_at > now).count() as u64;
        s.browser_sessions = st
            .sessions
            .values()
            .filter(|b| !b.valid(now).is_empty())
            .count() as u64;
        s
    }
    pub fn rotate_signing_key(&self) {
        let fresh = keys::SigningKey::fresh();
        let now = self.now();
        let mut st = self.lock();
        for k in st.keys.iter_mut() {
            if k.retired_at.is_none() {
                k.retired_at = Some(now);
            }
        }
        st.keys.push(fresh);
        st.stats.signing_key_rotations += 1;
    }
    pub fn expire_refresh_tokens_of(&self, user_id: i64) {
        let now = self.now();
        let mut st = self.lock();
        for t in st.refresh.values_mut() {
            if t.user_id == user_id {
                t.expires_at = t.expires_at.min(now);
            }
        }
    }
}

/// A running simulator. Dropping it without [`Sim::shutdown`] also stops the server.
pub struct Sim {
    shared: Arc<Shared>,
    addr: SocketAddr,
    shutdown: tokio::sync::watch::Sender<bool>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Sim {
    /// Starts the simulator on `127.0.0.1` with a free port.
    pub async fn start(config: SimConfig) -> anyhow::Result<Sim> {
        Self::start_on(config, 0).await
    }

    /// Starts the simulator on `127.0.0.1:port` (`0` = any free port).
    pub async fn start_on(config: SimConfig, port: u16) -> anyhow::Result<Sim> {
        config.validate()?;
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
        let addr = listener.local_addr()?;
        // RSA key generation is CPU-heavy; keep it off the async workers.
        let state = tokio::task::spawn_blocking(move || {
            State::new(config.app, config.lifetimes, config.users)
        })
        .await?;
        let base = config.start_unix.unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs() as i64)
                .unwrap_or(0)
        });
        let shared = Arc::new(Shared {
            base_url: format!("http://127.0.0.1:{}", addr.port()),
            port: addr.port(),
            clock: Clock {
                base,
                started: Instant::now(),
                offset: AtomicI64::new(0),
                stopped_at: AtomicI64::new(-1),
            },
            st: Mutex::new(state),
        });
        let (tx, rx) = tokio::sync::watch::channel(false);
        let task = tokio::spawn(server::serve(listener, shared.clone(), rx));
        Ok(Sim {
            shared,
            addr,
            shutdown: tx,
            task: Some(task),
        })
    }

    /// `http://127.0.0.1:PORT` (no trailing slash); serves both the kauth and the kapi paths.
    pub fn base_url(&self) -> String {
        self.shared.base_url.clone()
    }

    /// The bound socket address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The instant the request log's `start_us` and `end_us` count from (the simulator's start,
    /// on this process's monotonic clock).
    pub fn log_epoch(&self) -> Instant {
        self.shared.clock.started
    }

    /// Moves the simulator clock forward (tokens, codes and sessions expire accordingly).
    pub fn advance_clock(&self, secs: i64) {
        self.shared.clock.offset.fetch_add(secs, Ordering::SeqCst);
    }

    /// Stops the simulator clock where it is: from now on it moves only by
    /// [`Sim::advance_clock`]. For tests at an exact lifetime boundary, which a second ticking
    /// by on a loaded machine would otherwise decide.
    pub fn stop_clock(&self) {
        let clock = &self.shared.clock;
        let _ = clock.stopped_at.compare_exchange(
            -1,
            clock.started.elapsed().as_secs() as i64,
            Ordering::SeqCst,
            Ordering::SeqCst,
        );
    }

    /// Current simulator time (unix seconds).
    pub fn now_unix(&self) -> i64 {
        self.shared.now()
    }

    /// Injects a fault into an endpoint (replacing any fault already set there).
    pub fn set_fault(&self, endpoint: Endpoint, fault: Fault) {
        self.shared.lock().faults.insert(endpoint, fault);
    }

    /// Removes every fault.
    pub fn clear_faults(&self) {
        self.shared.lock().faults.clear();
    }

    /// Counters (see [`Stats`]).
    pub fn stats(&self) -> Stats {
        self.shared.stats()
    }

    /// Whether the access token exists on the server and has not expired.
    pub fn is_access_token_live(&self, token: &str) -> bool {
        let now = self.now_unix();
        self.shared
            .lock()
            .access
            .get(token)
            .is_some_and(|t| t.expires_at > now)
    }

    /// Whether the refresh token exists on the server and has not expired.
    pub fn is_refresh_token_live(&self, token: &str) -> bool {
        let now = self.now_unix();
        self.shared
            .lock()
            .refresh
            .get(token)
            .is_some_and(|t| t.expires_at > now)
    }

    /// The last ID token the simulator issued (for tests that look for it where it must not be).
    pub fn last_id_token(&self) -> Option<String> {
        self.shared.lock().last_id_token.clone()
    }

    /// Scope ids the user has agreed to for the app.
    pub fn user_consents(&self, user_id: i64) -> Vec<String> {
        self.shared.lock().agreed_scopes(user_id)
    }

    /// Whether the user is linked (connected) to the app.
    pub fn is_connected(&self, user_id: i64) -> bool {
        self.shared
            .lock()
            .users
            .get(&user_id)
            .is_some_and(|u| u.connected_at.is_some())
    }

    /// Browser sessions with at least one signed-in account.
    pub fn browser_sessions(&self) -> usize {
        self.stats().browser_sessions as usize
    }

    /// Every request received so far (control path excluded), without parameter values.
    pub fn request_log(&self) -> Vec<LoggedRequest> {
        self.shared.lock().log.clone()
    }

    /// Generates a new current signing key; the old one stays in the JWKS for one
    /// access-token lifetime so that ID tokens it signed remain verifiable.
    pub fn rotate_signing_key(&self) {
        self.shared.rotate_signing_key();
    }

    /// `kid` of the current signing key.
    pub fn current_kid(&self) -> String {
        self.shared.lock().keys.last().expect("key").kid.clone()
    }

    /// Expires every refresh token of the user now (the next refresh gets KOE322).
    pub fn expire_refresh_tokens_of(&self, user_id: i64) {
        self.shared.expire_refresh_tokens_of(user_id);
    }

    /// Replaces a user's account data ("account information changes", FAQ S11).
    /// Returns `false` for an unknown user.
    pub fn set_user_profile(&self, user_id: i64, profile: Profile) -> bool {
        self.update_user(user_id, |u| u.profile = profile)
    }

    /// Changes the app's settings as the developer would in the console while the simulator
    /// runs, e.g. `sim.update_app(|a| a.oidc = false)` (OpenID Connect switched off: no ID
    /// tokens from then on, `scope=openid` is KOE205).
    pub fn update_app(&self, f: impl FnOnce(&mut AppConfig)) {
        f(&mut self.shared.lock().app);
    }

    /// Changes a user with a closure (profile, password, KakaoTalk…; the id must not change).
    /// Returns `false` for an unknown user.
    pub fn update_user(&self, user_id: i64, f: impl FnOnce(&mut UserConfig)) -> bool {
        let mut st = self.shared.lock();
        match st.users.get_mut(&user_id) {
            Some(u) => {
                f(&mut u.cfg);
                u.cfg.id = user_id;
                true
            }
            None => false,
        }
    }

    /// Current data of a user.
    pub fn user(&self, user_id: i64) -> Option<UserConfig> {
        self.shared
            .lock()
            .users
            .get(&user_id)
            .map(|u| u.cfg.clone())
    }

    /// Stops the server and waits for it.
    pub async fn shutdown(mut self) {
        let _ = self.shutdown.send(true);
        if let Some(t) = self.task.take() {
            let _ = t.await;
        }
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        let _ = self.shutdown.send(true);
    }
}
