//! The loopback listener: one socket on 127.0.0.1, held from bind to shutdown, serving the
//! redirect back from Kakao with a bare hyper HTTP/1.1 server (three paths need no router).
//!
//! Rules it keeps (RFC 8252 §7.3/§8.3, RFC 9700 §4.7):
//! - binds `127.0.0.1` only, on the first free port of a configured list, never a random one;
//! - `state` is checked first, in constant time, and is good for one callback only;
//! - a request with a missing or wrong `state`, a stray path or method gets a page and changes
//!   nothing: an attacker's request can't end the person's real attempt;
//! - a code is answered with `302 /done` so it leaves the address bar and the history;
//! - the browser is opened at a one-time `/start/<random>` that answers `303` to Kakao, so
//!   nothing of the attempt is on a command line ([`Armed::start_url`]);
//! - on Linux only connections of the app's own user are served (`peer.rs`), others get `403`;
//! - a [`PortKeeper`] keeps a port after an attempt ended without a code for [`KEEP_PORT`],
//!   answering late redirects "this sign-in was cancelled" (issue 17).

use super::pages::Response;
use super::pages::{self, DeniedReason, Page};
use super::Error;
use crate::secret::Secret;
use crate::text::Lang;
use http::HeaderValue;
use http::{header, HeaderMap, Method, Request, StatusCode, Uri};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use std::collections::VecDeque;
use std::convert::Infallible;
use std::io;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4, TcpListener};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use subtle::ConstantTimeEq;
use tokio::sync::{oneshot, watch, Notify};
use tokio::task::{JoinHandle, JoinSet};

/// How long a person has to finish in the browser unless the caller says otherwise.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5 * 60);
/// How long the listener stays up after a code arrived, only to serve `/done`.
pub const DONE_LINGER: Duration = Duration::from_secs(5);
/// Path of the redirect URI (`http://127.0.0.1:<port>/callback`).
pub const CALLBACK_PATH: &str = "/callback";
/// Path of the logout redirect URI (`http://127.0.0.1:<port>/logout`).
pub const LOGOUT_PATH: &str = "/logout";
/// The clean page the callback redirects to.
pub const DONE_PATH: &str = "/done";

/// Bounded wait for in-flight responses at shutdown before the server task is aborted.
const SHUTDOWN_GRACE: Duration = Duration::from_millis(500);

/// What the browser brought back with the right `state`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallbackOutcome {
    /// The authorization code (single use, exchange it at once).
    Code(Secret),
    /// Kakao redirected with `error` (e.g. `access_denied` when the person pressed Cancel).
    /// Both strings are untrusted input from the URL: show them as data, never as markup.
    Denied {
        /// The OAuth `error` code (RFC 6749 §4.1.2.1), e.g. `access_denied`.
        error: String,
        /// The `error_description`, if any.
        description: Option<String>,
    },
}

/// The `state` this attempt expects back, kept as a [`Secret`] so it can't be logged, and
/// optionally the authorization server's issuer identifier.
#[derive(Debug, Clone)]
pub struct ExpectedState {
    state: Secret,
    issuer: Option<String>,
}

impl ExpectedState {
    /// The `state` sent in the authorize URL (RFC 6749 §4.1.1).
    pub fn new(state: impl Into<String>) -> Self {
        ExpectedState {
            state: Secret::new(state),
            issuer: None,
        }
    }

    /// The authorization server's issuer identifier (e.g. `https://kauth.kakao.com`): an `iss`
    /// parameter on the callback must equal it (RFC 9207 §2.4). Kakao sends none; a callback
    /// without `iss` is accepted.
    pub fn with_issuer(mut self, issuer: impl Into<String>) -> Self {
        self.issuer = Some(issuer.into());
        self
    }

    /// Constant-time comparison. An empty expected state matches nothing.
    fn matches(&self, got: &str) -> bool {
        let want = self.state.expose().as_bytes();
        !want.is_empty() && bool::from(want.ct_eq(got.as_bytes()))
    }
}

impl From<&str> for ExpectedState {
    fn from(s: &str) -> Self {
        ExpectedState::new(s)
    }
}
impl From<String> for ExpectedState {
    fn from(s: String) -> Self {
        ExpectedState::new(s)
    }
}
impl From<Secret> for ExpectedState {
    fn from(s: Secret) -> Self {
        ExpectedState {
            state: s,
            issuer: None,
        }
    }
}
impl From<&Secret> for ExpectedState {
    fn from(s: &Secret) -> Self {
        ExpectedState::from(s.clone())
    }
}

/// Ends a wait at once with [`Error::Cancelled`]. Cheap to clone; a cancel before the wait
/// starts counts too. The port is freed at once, or, for a port a [`PortKeeper`] holds, kept
/// bound for [`KEEP_PORT`] answering late redirects with "this sign-in was cancelled".
#[derive(Debug, Clone)]
pub struct CancelHandle(Arc<watch::Sender<bool>>);

impl CancelHandle {
    /// Ends the attempt: its wait returns [`Error::Cancelled`].
    pub fn cancel(&self) {
        self.0.send_replace(true);
    }

    /// Whether [`CancelHandle::cancel`] was called.
    pub fn is_cancelled(&self) -> bool {
        *self.0.borrow()
    }
}

/// How long a [`PortKeeper`] keeps a port bound after its attempt ended without a code
/// (cancelled, timed out, refused, replaced): as long as a code Kakao issues for it in a tab
/// still open could be redeemed (codes live 10 minutes, REFERENCE §1 and decision 7). Another
/// local user who bound the port meanwhile would receive that `code` and `state`.
pub const KEEP_PORT: Duration = Duration::from_secs(10 * 60);

/// Path prefix of the one-time start URL (`http://127.0.0.1:<port>/start/<random>`).
pub const START_PATH: &str = "/start/";

/// A bound loopback socket, ready for one sign-in (or one logout) redirect.
///
/// Dropping it without waiting closes the socket (a port from a [`PortKeeper`] stays with the
/// keeper).
pub struct Loopback {
    station: Arc<Station>,
    cancel: Arc<watch::Sender<bool>>,
    keeper: Option<PortKeeper>,
}

impl std::fmt::Debug for Loopback {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Loopback")
            .field("port", &self.station.port)
            .field("kept", &self.keeper.is_some())
            .finish_non_exhaustive()
    }
}

/// Longest pasted address taken, in bytes: a real redirect back is a few hundred bytes.
pub const MAX_PASTED_BYTES: usize = 8 * 1024;

/// The second way in for Kakao's redirect: the address a person pasted into the window because
/// the browser could not reach `127.0.0.1` (WSL2, a remote desktop, a container). It goes
/// through the listener's own check (`/callback`: the one-time `state` in constant time
/// first, then `error` or `code`), so whichever of the two arrives first completes the attempt
/// and the other is refused. Cheap to clone; from [`Armed::paste_door`].
#[derive(Clone)]
pub struct PasteDoor {
    attempt: Arc<Attempt>,
    port: u16,
}

impl std::fmt::Debug for PasteDoor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasteDoor")
            .field("port", &self.port)
            .finish_non_exhaustive()
    }
}

impl PasteDoor {
    /// Hands a pasted address to the attempt, as if the browser had loaded it: the whole
    /// address (`http://127.0.0.1:<port>/callback?…`), the same without the scheme, or just the
    /// query (`?code=…&state=…` or `code=…&state=…`).
    ///
    /// `Ok` when the attempt took it (a code, or Kakao's `error=`, or a malformed answer: the
    /// attempt's wait returns it just as from the listener). Errors, after which the attempt
    /// keeps waiting: [`Error::PastedNotCallback`] (not this attempt's redirect address, or
    /// longer than [`MAX_PASTED_BYTES`]), [`Error::PastedWrongState`] (no match for the
    /// one-time `state`), [`Error::PastedAlreadyUsed`] (the browser or an earlier paste came
    /// first); [`Error::NotWaiting`] when the attempt has ended or waits for a logout.
    pub async fn deliver(&self, pasted: &str) -> Result<(), Error> {
        let query = pasted_callback_query(pasted, self.port)?;
        if self.attempt.mode != Mode::Callback {
            return Err(Error::NotWaiting);
        }
        match accept(&self.attempt, &query) {
            Accepted::BadState => Err(Error::PastedWrongState),
            Accepted::AlreadyUsed => Err(Error::PastedAlreadyUsed),
            Accepted::Ended => Err(Error::NotWaiting),
            Accepted::LoggedOut | Accepted::Denied(_) | Accepted::Code | Accepted::Malformed => {
                Ok(())
            }
        }
    }
}

/// Issues one-time start URLs for an armed attempt after the first ("Open again"): each
/// replaces the one before ([`Armed::start_url`]). Cheap to clone; from [`Armed::start_urls`].
#[derive(Clone)]
pub struct StartUrls {
    attempt: Arc<Attempt>,
    port: u16,
}

impl std::fmt::Debug for StartUrls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StartUrls")
            .field("port", &self.port)
            .finish_non_exhaustive()
    }
}

impl StartUrls {
    /// A new one-time `http://127.0.0.1:<port>/start/<random>` answering `303` to `target`
    /// (see [`Armed::start_url`]).
    pub fn issue(&self, target: &str) -> String {
        let token = crate::kakao::pkce::random_b64url::<32>();
        let url = format!("http://127.0.0.1:{}{START_PATH}{token}", self.port);
        *lock(&self.attempt.start) = Some(StartEntry {
            token: ExpectedState::new(token),
            target: Secret::new(target),
            used: false,
        });
        url
    }
}

/// The query of a pasted redirect address, once it is plainly this attempt's: an address must
/// be `127.0.0.1:<port>/callback` (what the listener answers to), and any form must carry a
/// `state` (compared later, by the listener's check). Never reads `state`'s value.
///
/// Errors: [`Error::PastedNotCallback`] naming the redirect URI the attempt waits at.
pub fn pasted_callback_query(pasted: &str, port: u16) -> Result<String, Error> {
    let not_ours = || Error::PastedNotCallback { port };
    let s = pasted.trim();
    if s.is_empty() || s.len() > MAX_PASTED_BYTES {
        return Err(not_ours());
    }
    let query = if let Some(q) = s.strip_prefix('?') {
        q.to_owned()
    } else if s.contains('/') {
        // An address, with or without its scheme.
        let address = if s.contains("://") {
            s.to_owned()
        } else {
            format!("http://{s}")
        };
        let url = url::Url::parse(&address).map_err(|_| not_ours())?;
        let ours = matches!(url.scheme(), "http" | "https")
            && url.host_str() == Some("127.0.0.1")
            && url.port_or_known_default() == Some(port)
            && url.path() == CALLBACK_PATH;
        if !ours {
            return Err(not_ours());
        }
        url.query().unwrap_or_default().to_owned()
    } else {
        s.to_owned()
    };
    if !url::form_urlencoded::parse(query.as_bytes()).any(|(k, _)| k == "state") {
        return Err(not_ours());
    }
    Ok(query)
}

impl Loopback {
    /// Binds `127.0.0.1` on the first port of `ports` that is free, in order.
    ///
    /// Errors: [`Error::PortsInvalid`] for an empty list or port 0; when no port could be
    /// bound, [`Error::ListenerFailed`] if one failed for a reason of its own,
    /// [`Error::PortsReserved`] if the system refused any (EACCES, Windows' WSAEACCES), else
    /// [`Error::PortsBusy`] naming every port.
    pub fn bind(ports: &[u16]) -> Result<Loopback, Error> {
        Loopback::bind_with(ports, TcpListener::bind)
    }

    /// [`Loopback::bind`] with the socket call as a seam, so tests can make a port answer as a
    /// reserved one does (root on Linux may bind any port).
    pub(crate) fn bind_with(
        ports: &[u16],
        mut bind: impl FnMut(SocketAddrV4) -> io::Result<TcpListener>,
    ) -> Result<Loopback, Error> {
        check_ports(ports)?;
        let mut busy = Vec::new();
        let mut reserved = Vec::new();
        let mut other: Option<io::Error> = None;
        for &port in ports {
            match bind(SocketAddrV4::new(Ipv4Addr::LOCALHOST, port)) {
                Ok(listener) => return Ok(Loopback::on(Station::new(listener, port), None)),
                Err(e) if e.kind() == io::ErrorKind::AddrInUse => busy.push(port),
                // Nothing need listen there: Windows refuses ports in its excluded ranges
                // (Hyper-V, WSL2, Docker) and ports another program holds exclusively with
                // WSAEACCES; Linux and macOS refuse by policy (SELinux, privileged ports).
                Err(e) if e.kind() == io::ErrorKind::PermissionDenied => reserved.push(port),
                Err(e) => {
                    other = Some(io::Error::new(e.kind(), format!("127.0.0.1:{port}: {e}")));
                }
            }
        }
        match other {
            Some(e) => Err(Error::ListenerFailed(e)),
            None if !reserved.is_empty() => Err(Error::PortsReserved { reserved, busy }),
            None => Err(Error::PortsBusy { ports: busy }),
        }
    }

    fn on(station: Arc<Station>, keeper: Option<PortKeeper>) -> Loopback {
        let (cancel, _) = watch::channel(false);
        Loopback {
            station,
            cancel: Arc::new(cancel),
            keeper,
        }
    }

    /// Replaces who may connect (tests fake another user with it). Default: the app's own
    /// user only, where the platform says whose a connection is ([`super::peer`]).
    #[cfg(test)]
    pub(crate) fn with_peer_check(self, check: super::peer::PeerCheck) -> Loopback {
        *lock(&self.station.shared.peer_check) = check;
        self
    }

    /// The loopback port bound (one of the configured ones).
    pub fn port(&self) -> u16 {
        self.station.port
    }

    /// The socket's address; always `127.0.0.1:<port>`.
    pub fn local_addr(&self) -> SocketAddr {
        SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::LOCALHOST, self.station.port))
    }

    /// `http://127.0.0.1:<port>/callback`: the IP literal, as registered in the Kakao console.
    pub fn redirect_uri(&self) -> String {
        format!("http://127.0.0.1:{}{CALLBACK_PATH}", self.station.port)
    }

    /// `http://127.0.0.1:<port>/logout`, for `/oauth/logout`'s `logout_redirect_uri`.
    pub fn logout_redirect_uri(&self) -> String {
        format!("http://127.0.0.1:{}{LOGOUT_PATH}", self.station.port)
    }

    /// A handle that cancels this attempt from elsewhere (the window's Cancel).
    pub fn cancel_handle(&self) -> CancelHandle {
        CancelHandle(self.cancel.clone())
    }

    /// Makes this attempt the one the port serves, expecting `GET /callback` with
    /// `expected_state`, and starts serving. From now on a redirect with an earlier attempt's
    /// `state` on this port is answered "this sign-in was cancelled" (or "already used").
    /// Needs a Tokio runtime. Errors: [`Error::ListenerFailed`] if the socket can't be served.
    pub fn arm_callback(
        self,
        expected_state: impl Into<ExpectedState>,
        lang: Lang,
    ) -> Result<Armed, Error> {
        self.arm(Mode::Callback, expected_state.into(), lang)
    }

    /// Like [`Loopback::arm_callback`], for `GET /logout?state=…` (Kakao's redirect after the
    /// Kakao account logout, REFERENCE §6).
    pub fn arm_logout(
        self,
        expected_state: impl Into<ExpectedState>,
        lang: Lang,
    ) -> Result<Armed, Error> {
        self.arm(Mode::Logout, expected_state.into(), lang)
    }

    fn arm(self, mode: Mode, expected: ExpectedState, lang: Lang) -> Result<Armed, Error> {
        let (tx, rx) = oneshot::channel();
        let attempt = Arc::new(Attempt {
            mode,
            expected,
            lang,
            slot: Mutex::new(Some(tx)),
            succeeded: AtomicBool::new(false),
            done_served: Notify::new(),
            start: Mutex::new(None),
        });
        let lease = self.station.install(attempt.clone(), self.cancel.clone());
        self.station.serve()?;
        Ok(Armed {
            station: self.station,
            attempt,
            rx,
            cancel: self.cancel,
            keeper: self.keeper,
            lease,
        })
    }

    /// Serves `/callback` until one request with the right `state` arrives, then returns what it
    /// carried ([`Loopback::arm_callback`] then [`Armed::wait_for_callback`]).
    pub async fn wait_for_callback(
        self,
        expected_state: impl Into<ExpectedState>,
        lang: Lang,
        timeout: Duration,
    ) -> Result<CallbackOutcome, Error> {
        self.arm_callback(expected_state, lang)?
            .wait_for_callback(timeout)
            .await
    }

    /// Serves `/logout` until `GET /logout?state=<expected>` arrives, shows a "logged out"
    /// page ([`Loopback::arm_logout`] then [`Armed::wait_for_logout`]).
    pub async fn wait_for_logout(
        self,
        expected_state: impl Into<ExpectedState>,
        lang: Lang,
        timeout: Duration,
    ) -> Result<(), Error> {
        self.arm_logout(expected_state, lang)?
            .wait_for_logout(timeout)
            .await
    }
}

fn check_ports(ports: &[u16]) -> Result<(), Error> {
    if ports.is_empty() {
        return Err(Error::PortsInvalid {
            reason: "no ports configured",
        });
    }
    if ports.contains(&0) {
        return Err(Error::PortsInvalid {
            reason: "port 0 would be a random port",
        });
    }
    Ok(())
}

/// An attempt the port serves now ([`Loopback::arm_callback`]): give the browser its
/// [`Armed::start_url`], then wait.
pub struct Armed {
    station: Arc<Station>,
    attempt: Arc<Attempt>,
    rx: oneshot::Receiver<Result<Delivered, Error>>,
    cancel: Arc<watch::Sender<bool>>,
    keeper: Option<PortKeeper>,
    lease: u64,
}

impl std::fmt::Debug for Armed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Armed")
            .field("port", &self.station.port)
            .field("mode", &self.attempt.mode)
            .finish_non_exhaustive()
    }
}

impl Armed {
    /// `http://127.0.0.1:<port>/start/<random>`: what the browser is opened at instead of
    /// `target` (Kakao's authorize or logout URL), so no `state`, nonce or PKCE challenge is
    /// on a command line, where every local user can read it (`/proc/<pid>/cmdline`). The
    /// random part is 32 bytes from the OS CSPRNG; the URL answers once with `303` to
    /// `target` (`no-store`), then "already used". A later call replaces the earlier URL.
    pub fn start_url(&self, target: &str) -> String {
        self.start_urls().issue(target)
    }

    /// Issues further start URLs for this attempt ("Open again") after it is moved into its wait.
    pub fn start_urls(&self) -> StartUrls {
        StartUrls {
            attempt: self.attempt.clone(),
            port: self.station.port,
        }
    }

    /// The door for a pasted redirect address into this attempt ([`PasteDoor`]); it refuses
    /// with [`Error::NotWaiting`] for a logout or once the wait has ended.
    pub fn paste_door(&self) -> PasteDoor {
        PasteDoor {
            attempt: self.attempt.clone(),
            port: self.station.port,
        }
    }

    /// The loopback port served.
    pub fn port(&self) -> u16 {
        self.station.port
    }

    /// Waits until one `GET /callback` with the right `state` arrives and returns what it
    /// carried. After a code the port serves `/done` briefly ([`DONE_LINGER`]). On timeout,
    /// cancel or error the port is freed when this returns, or, from a [`PortKeeper`], kept
    /// for [`KEEP_PORT`] answering "cancelled".
    pub async fn wait_for_callback(self, timeout: Duration) -> Result<CallbackOutcome, Error> {
        match self.wait(timeout).await? {
            Delivered::Callback(outcome) => Ok(outcome),
            Delivered::LoggedOut => Err(Error::ListenerFailed(io::Error::other(
                "a logout redirect on a sign-in attempt",
            ))),
        }
    }

    /// Waits for `GET /logout?state=<expected>`; the browser is shown a "logged out" page.
    pub async fn wait_for_logout(self, timeout: Duration) -> Result<(), Error> {
        self.wait(timeout).await.map(|_| ())
    }

    async fn wait(self, timeout: Duration) -> Result<Delivered, Error> {
        let Armed {
            station,
            attempt,
            rx,
            cancel,
            keeper,
            lease,
        } = self;
        // Holding `cancel` keeps the sender alive, so `wait_for` below only ends on a real cancel.
        let mut cancel_rx = cancel.subscribe();
        let result = if *cancel_rx.borrow() {
            Err(Error::Cancelled)
        } else {
            tokio::select! {
                // A delivered outcome wins over a cancel or timeout that fires in the same instant.
                biased;
                r = rx => r.unwrap_or_else(|_| Err(Error::ListenerFailed(io::Error::other("the listener stopped")))),
                _ = cancel_rx.wait_for(|c| *c) => Err(Error::Cancelled),
                _ = tokio::time::sleep(timeout) => Err(Error::TimedOut(timeout)),
            }
        };

        if matches!(result, Ok(Delivered::Callback(CallbackOutcome::Code(_)))) {
            // Return the code now (the exchange shouldn't wait), keep serving `/done` briefly.
            tokio::spawn(async move {
                let _cancel = cancel;
                tokio::select! {
                    _ = attempt.done_served.notified() => {}
                    _ = tokio::time::sleep(DONE_LINGER) => {}
                    _ = cancel_rx.wait_for(|c| *c) => {}
                }
                // A code was delivered: nothing more can come for this attempt.
                station.release(lease, keeper, false).await;
            });
        } else {
            station.release(lease, keeper, true).await;
        }
        result
    }
}

/// Keeps loopback ports bound between attempts (issue 17): an attempt that ends without a code
/// leaves its port here for [`KEEP_PORT`], answering late redirects with "this sign-in was
/// cancelled", and the next attempt on one of the same ports takes it over (the old
/// attempt's late redirects still get "cancelled"). Cheap to clone; ports go when the
/// process exits.
#[derive(Clone)]
pub struct PortKeeper {
    stations: Arc<Mutex<Vec<Arc<Station>>>>,
    keep: Duration,
}

impl std::fmt::Debug for PortKeeper {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PortKeeper")
            .field("ports", &self.ports())
            .field("keep", &self.keep)
            .finish()
    }
}

impl Default for PortKeeper {
    fn default() -> Self {
        PortKeeper::new(KEEP_PORT)
    }
}

impl PortKeeper {
    /// A keeper that holds an ended attempt's port for `keep`.
    pub fn new(keep: Duration) -> PortKeeper {
        PortKeeper {
            stations: Arc::default(),
            keep,
        }
    }

    /// A port for a new attempt: one of `ports` this keeper already holds (its attempt, if
    /// any, is cancelled), else [`Loopback::bind`]. Errors as [`Loopback::bind`].
    pub fn bind(&self, ports: &[u16]) -> Result<Loopback, Error> {
        check_ports(ports)?;
        let kept = {
            let stations = lock(&self.stations);
            let kept = ports
                .iter()
                .find_map(|p| stations.iter().find(|s| s.port == *p).cloned());
            if let Some(station) = &kept {
                // Reserved from now on: a keep timer expiring at this moment must not close it.
                lock(&station.current).lease += 1;
            }
            kept
        };
        if let Some(station) = kept {
            return Ok(Loopback::on(station, Some(self.clone())));
        }
        let mut loopback = Loopback::bind(ports)?;
        lock(&self.stations).push(loopback.station.clone());
        loopback.keeper = Some(self.clone());
        Ok(loopback)
    }

    /// The ports held now, in the order they were bound.
    pub fn ports(&self) -> Vec<u16> {
        lock(&self.stations).iter().map(|s| s.port).collect()
    }

    /// After `keep`, frees the station unless another attempt has taken it since.
    fn keep(&self, station: Arc<Station>, lease: u64) {
        let keeper = self.clone();
        tokio::spawn(async move {
            tokio::time::sleep(keeper.keep).await;
            let still_idle = {
                let mut stations = lock(&keeper.stations);
                let idle = lock(&station.current).lease == lease;
                if idle {
                    stations.retain(|s| !Arc::ptr_eq(s, &station));
                }
                idle
            };
            if still_idle {
                station.shutdown().await;
            }
        });
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// One bound port: its socket and server, and the attempts served on it in turn.
struct Station {
    port: u16,
    /// The socket until the server takes it.
    listener: Mutex<Option<TcpListener>>,
    server: Mutex<Option<Server>>,
    shared: Arc<Shared>,
    current: Arc<Mutex<Current>>,
}

/// The attempt the port serves now, and the lease that says which attempt may end it.
struct Current {
    lease: u64,
    attempt: Option<Arc<Attempt>>,
    holder: Option<Arc<watch::Sender<bool>>>,
}

/// What the server reads for every request.
struct Shared {
    /// `Host` a browser sends for our URLs; anything else (DNS rebinding) gets 404.
    host: String,
    current: Arc<Mutex<Current>>,
    /// `state`s of attempts that ended on this port, with the page a late redirect gets.
    retired: Mutex<VecDeque<(ExpectedState, Page, Instant)>>,
    peer_check: Mutex<super::peer::PeerCheck>,
}

/// How many ended attempts' `state`s a port remembers (each for [`KEEP_PORT`]).
const RETIRED_MAX: usize = 32;

impl Station {
    fn new(listener: TcpListener, port: u16) -> Arc<Station> {
        let current = Arc::new(Mutex::new(Current {
            lease: 0,
            attempt: None,
            holder: None,
        }));
        Arc::new(Station {
            port,
            listener: Mutex::new(Some(listener)),
            server: Mutex::new(None),
            shared: Arc::new(Shared {
                host: format!("127.0.0.1:{port}"),
                current: current.clone(),
                retired: Mutex::new(VecDeque::new()),
                peer_check: Mutex::new(super::peer::default_check()),
            }),
            current,
        })
    }

    /// Makes `attempt` the one served; the attempt before it (if any) is cancelled and its
    /// `state` retired. Returns the new lease.
    fn install(&self, attempt: Arc<Attempt>, holder: Arc<watch::Sender<bool>>) -> u64 {
        let mut current = lock(&self.current);
        if let Some(previous) = current.holder.take() {
            if !Arc::ptr_eq(&previous, &holder) {
                previous.send_replace(true);
            }
        }
        if let Some(previous) = current.attempt.take() {
            self.shared.retire(&previous);
        }
        current.lease += 1;
        current.attempt = Some(attempt);
        current.holder = Some(holder);
        current.lease
    }

    /// Starts the server the first time; later attempts find it running.
    fn serve(&self) -> Result<(), Error> {
        let mut server = lock(&self.server);
        if server.is_some() {
            return Ok(());
        }
        let Some(listener) = lock(&self.listener).take() else {
            return Err(Error::ListenerFailed(io::Error::other(
                "the listener was shut down",
            )));
        };
        listener
            .set_nonblocking(true)
            .map_err(Error::ListenerFailed)?;
        let listener =
            tokio::net::TcpListener::from_std(listener).map_err(Error::ListenerFailed)?;
        *server = Some(Server::start(listener, self.shared.clone()));
        Ok(())
    }

    /// The attempt with `lease` ended: unless another attempt has the port since, its `state`
    /// is retired and the port either kept by `keeper` (when `keep`) or closed now.
    async fn release(self: Arc<Self>, lease: u64, keeper: Option<PortKeeper>, keep: bool) {
        {
            let mut current = lock(&self.current);
            if current.lease != lease {
                return;
            }
            current.holder = None;
            if let Some(attempt) = current.attempt.take() {
                self.shared.retire(&attempt);
            }
        }
        match keeper {
            Some(keeper) if keep => keeper.keep(self, lease),
            Some(keeper) => {
                lock(&keeper.stations).retain(|s| !Arc::ptr_eq(s, &self));
                self.shutdown().await;
            }
            None => self.shutdown().await,
        }
    }

    /// Closes the port (see [`Server::shutdown`]).
    async fn shutdown(&self) {
        lock(&self.listener).take();
        let server = lock(&self.server).take();
        if let Some(mut server) = server {
            server.shutdown().await;
        }
    }
}

impl Shared {
    fn retire(&self, attempt: &Attempt) {
        let page = if attempt.succeeded.load(Ordering::SeqCst) {
            Page::AlreadyUsed
        } else {
            Page::Cancelled
        };
        let mut retired = lock(&self.retired);
        let now = Instant::now();
        retired.retain(|(_, _, at)| now.duration_since(*at) < KEEP_PORT);
        if retired.len() >= RETIRED_MAX {
            retired.pop_front();
        }
        retired.push_back((attempt.expected.clone(), page, now));
    }

    /// The page for a redirect whose `state` belongs to an attempt that ended on this port.
    fn retired_page(&self, query: &str) -> Option<Page> {
        let retired = lock(&self.retired);
        retired.iter().rev().find_map(|(expected, page, _)| {
            (classify_callback_query(query, expected) != CallbackQuery::BadState).then_some(*page)
        })
    }

    fn current(&self) -> Option<Arc<Attempt>> {
        lock(&self.current).attempt.clone()
    }

    fn is_ours(&self, method: &Method, uri: &Uri, headers: &HeaderMap) -> bool {
        // Exactly one `Host` (RFC 9112 §3.2: more than one is a bad request), and no other
        // authority in an absolute-form target (which would override `Host`, RFC 9112 §3.2.2).
        // The hostile-loopback suite found both: `Host: 127.0.0.1:<port>` followed by a second
        // `Host`, or `GET http://evil.example/callback?… ` with our `Host`, reached the callback.
        let mut hosts = headers.get_all(header::HOST).iter();
        let one_host = match (hosts.next(), hosts.next()) {
            (Some(h), None) => h.as_bytes() == self.host.as_bytes(),
            _ => false,
        };
        method == Method::GET
            && one_host
            && uri.authority().is_none_or(|a| a.as_str() == self.host)
            && !is_prefetch(headers)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Callback,
    Logout,
}

enum Delivered {
    Callback(CallbackOutcome),
    LoggedOut,
}

/// The one-time start URL of an attempt.
struct StartEntry {
    token: ExpectedState,
    /// Kakao's authorize (or logout) URL: it carries `state`, nonce and challenge.
    target: Secret,
    used: bool,
}

struct Attempt {
    mode: Mode,
    expected: ExpectedState,
    lang: Lang,
    /// Taken by the one request with the right state: exactly-once delivery by construction.
    slot: Mutex<Option<oneshot::Sender<Result<Delivered, Error>>>>,
    /// `/done` shows the success page only after a code arrived.
    succeeded: AtomicBool,
    done_served: Notify,
    start: Mutex<Option<StartEntry>>,
}

impl Attempt {
    fn take_slot(&self) -> Option<oneshot::Sender<Result<Delivered, Error>>> {
        lock(&self.slot).take()
    }
}

/// Speculative loads (Chrome/Safari `Sec-Purpose`/`Purpose`, Firefox `X-Moz`) must not consume
/// the one-time state.
fn is_prefetch(headers: &HeaderMap) -> bool {
    let has = |name: &str, needle: &str| {
        headers.get_all(name).iter().any(|v| {
            v.to_str()
                .is_ok_and(|v| v.to_ascii_lowercase().contains(needle))
        })
    };
    has("sec-purpose", "prefetch")
        || has("sec-purpose", "prerender")
        || has("purpose", "prefetch")
        || has("x-moz", "prefetch")
        || has("x-purpose", "preview")
}

/// Every answer: the start URL, the attempt's path, the done page or 404, each with the
/// security headers.
fn respond(shared: &Shared, req: &Request<Incoming>) -> Response {
    let (method, uri, headers) = (req.method(), req.uri(), req.headers());
    let current = shared.current();
    let lang = current.as_ref().map_or(Lang::Ko, |a| a.lang);
    let path = uri.path();
    let mut res = if let Some(token) = path.strip_prefix(START_PATH) {
        start(shared, current.as_deref(), token, method, uri, headers)
    } else if path == CALLBACK_PATH || path == LOGOUT_PATH {
        match current.as_deref() {
            Some(a) if path == a.mode.path() => redirect_back(shared, a, method, uri, headers),
            // The other kind of redirect (e.g. a late sign-in one while a logout waits).
            Some(_) => late_redirect(shared, lang, method, uri, headers, NOT_WAITED_FOR),
            None => late_redirect(shared, lang, method, uri, headers, BAD_STATE),
        }
    } else if path == DONE_PATH {
        match current.as_deref() {
            Some(a) => done(shared, a, method, uri, headers),
            None => pages::page(StatusCode::NOT_FOUND, Page::NotFound, lang),
        }
    } else {
        pages::page(StatusCode::NOT_FOUND, Page::NotFound, lang)
    };
    pages::harden(res.headers_mut());
    res
}

impl Mode {
    fn path(self) -> &'static str {
        match self {
            Mode::Callback => CALLBACK_PATH,
            Mode::Logout => LOGOUT_PATH,
        }
    }
}

/// `GET /start/<random>`: once, `303` to Kakao; then "already used"; anything else 404.
fn start(
    shared: &Shared,
    a: Option<&Attempt>,
    token: &str,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
) -> Response {
    let lang = a.map_or(Lang::Ko, |a| a.lang);
    let not_found = || pages::page(StatusCode::NOT_FOUND, Page::NotFound, lang);
    let Some(a) = a.filter(|_| shared.is_ours(method, uri, headers)) else {
        return not_found();
    };
    let mut entry = lock(&a.start);
    let Some(entry) = entry.as_mut().filter(|e| e.token.matches(token)) else {
        return not_found();
    };
    if entry.used {
        return pages::page(StatusCode::GONE, Page::StartUsed, lang);
    }
    match HeaderValue::from_str(entry.target.expose()) {
        Ok(location) => {
            entry.used = true;
            pages::see_other(location)
        }
        Err(_) => not_found(),
    }
}

const BAD_STATE: (StatusCode, Page) = (StatusCode::BAD_REQUEST, Page::BadState);
const NOT_WAITED_FOR: (StatusCode, Page) = (StatusCode::NOT_FOUND, Page::NotFound);

/// A redirect to a path no current attempt waits on, or with a `state` that is not the
/// current attempt's: "cancelled" for an attempt that ended on this port, else `unknown`.
fn late_redirect(
    shared: &Shared,
    lang: Lang,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    unknown: (StatusCode, Page),
) -> Response {
    if !shared.is_ours(method, uri, headers) {
        return pages::page(StatusCode::NOT_FOUND, Page::NotFound, lang);
    }
    match shared.retired_page(uri.query().unwrap_or_default()) {
        Some(Page::AlreadyUsed) => pages::page(StatusCode::CONFLICT, Page::AlreadyUsed, lang),
        Some(page) => pages::page(StatusCode::GONE, page, lang),
        None => pages::page(unknown.0, unknown.1, lang),
    }
}

fn done(shared: &Shared, a: &Attempt, method: &Method, uri: &Uri, headers: &HeaderMap) -> Response {
    if !shared.is_ours(method, uri, headers) || !a.succeeded.load(Ordering::SeqCst) {
        return pages::page(StatusCode::NOT_FOUND, Page::NotFound, a.lang);
    }
    a.done_served.notify_one();
    pages::page(StatusCode::OK, Page::Done, a.lang)
}

fn redirect_back(
    shared: &Shared,
    a: &Attempt,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
) -> Response {
    let lang = a.lang;
    if !shared.is_ours(method, uri, headers) {
        return pages::page(StatusCode::NOT_FOUND, Page::NotFound, lang);
    }
    match accept(a, uri.query().unwrap_or_default()) {
        // Not this attempt's `state`: perhaps an attempt that ended on this port.
        Accepted::BadState => late_redirect(shared, lang, method, uri, headers, BAD_STATE),
        Accepted::AlreadyUsed | Accepted::Ended => {
            pages::page(StatusCode::CONFLICT, Page::AlreadyUsed, lang)
        }
        Accepted::LoggedOut => pages::page(StatusCode::OK, Page::LoggedOut, lang),
        Accepted::Denied(reason) => pages::page(StatusCode::OK, Page::Denied(reason), lang),
        Accepted::Code => pages::redirect_to(DONE_PATH),
        Accepted::Malformed => pages::page(StatusCode::BAD_REQUEST, Page::Malformed, lang),
    }
}

/// What [`accept`] did with one redirect back.
enum Accepted {
    /// No match for the one-time `state`: refused, nothing changed.
    BadState,
    /// The right `state`, but the listener or a paste already brought this attempt back.
    AlreadyUsed,
    /// The right `state`, but nobody waits any more (cancelled, timed out).
    Ended,
    /// Logout mode: the Kakao account logout came back.
    LoggedOut,
    /// Kakao's `error=` redirect was handed to the wait.
    Denied(DeniedReason),
    /// The code was handed to the wait.
    Code,
    /// The right `state` but neither an `error` nor one `code`: the wait ends with an error.
    Malformed,
}

/// The one check of a redirect back, for both ways in (the listener's `/callback` and a
/// [`PasteDoor`]): `state` first, in constant time ([`classify_callback_query`]), then the
/// one-time slot, then the outcome is handed to the wait.
fn accept(a: &Attempt, raw_query: &str) -> Accepted {
    let verdict = classify_callback_query(raw_query, &a.expected);
    if verdict == CallbackQuery::BadState {
        return Accepted::BadState;
    }
    let Some(tx) = a.take_slot() else {
        return Accepted::AlreadyUsed;
    };
    let (delivered, accepted) = if a.mode == Mode::Logout {
        (Ok(Delivered::LoggedOut), Accepted::LoggedOut)
    } else {
        match verdict {
            CallbackQuery::BadState => unreachable!("refused above"),
            CallbackQuery::Denied { error, description } => {
                let reason = DeniedReason::from_error(&error);
                let outcome = CallbackOutcome::Denied { error, description };
                (Ok(Delivered::Callback(outcome)), Accepted::Denied(reason))
            }
            CallbackQuery::Code(code) => {
                a.succeeded.store(true, Ordering::SeqCst);
                let outcome = CallbackOutcome::Code(code);
                (Ok(Delivered::Callback(outcome)), Accepted::Code)
            }
            CallbackQuery::Malformed => (Err(Error::CallbackMalformed), Accepted::Malformed),
        }
    };
    match tx.send(delivered) {
        Ok(()) => accepted,
        Err(_) => Accepted::Ended,
    }
}

/// What the raw query of a `GET /callback` says, judged the way the listener judges it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallbackQuery {
    /// No `state`, an empty, wrong or repeated one: the request is refused and changes nothing.
    BadState,
    /// The right `state` and exactly one non-empty `code` (and no `error`).
    Code(Secret),
    /// The right `state` and an `error` (which wins even next to a `code`).
    Denied {
        /// The OAuth `error` code (RFC 6749 §4.1.2.1), e.g. `access_denied`.
        error: String,
        /// The `error_description`, if any.
        description: Option<String>,
    },
    /// The right `state` but neither an `error` nor exactly one non-empty `code`; or an `iss`
    /// that is repeated or not the expected issuer (RFC 9207 §2.4: the response is refused).
    Malformed,
}

/// The listener's query parsing and `state` check as a pure function (the listener calls it;
/// the fuzz target `callback_query` drives it with arbitrary input).
///
/// `state` is checked first, in constant time, and nothing else in the query is read until it
/// matched. Exactly one `state` parameter: a repeated one is ambiguous and refused. Keys and
/// values are `application/x-www-form-urlencoded`-decoded (invalid UTF-8 becomes U+FFFD).
pub fn classify_callback_query(raw_query: &str, expected: &ExpectedState) -> CallbackQuery {
    let params = || url::form_urlencoded::parse(raw_query.as_bytes());

    let mut states = params().filter(|(k, _)| k == "state").map(|(_, v)| v);
    let good = match (states.next(), states.next()) {
        (Some(s), None) => expected.matches(&s),
        _ => false,
    };
    if !good {
        return CallbackQuery::BadState;
    }

    // RFC 9207: a server that names itself must be the one the request went to (mix-up
    // defence); success and error responses alike.
    let mut issuers = params().filter(|(k, _)| k == "iss").map(|(_, v)| v);
    match (issuers.next(), issuers.next(), &expected.issuer) {
        (None, _, _) | (Some(_), None, None) => {}
        (Some(got), None, Some(want))
            if got.trim_end_matches('/') == want.trim_end_matches('/') => {}
        _ => return CallbackQuery::Malformed,
    }

    let first = |name: &str| {
        params()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    };
    // An `error` wins even next to a `code`: a half-failed redirect is a failure.
    if let Some(error) = first("error") {
        return CallbackQuery::Denied {
            error,
            description: first("error_description"),
        };
    }
    let mut codes = params().filter(|(k, _)| k == "code").map(|(_, v)| v);
    match (codes.next(), codes.next()) {
        (Some(code), None) if !code.is_empty() => CallbackQuery::Code(Secret::new(code)),
        _ => CallbackQuery::Malformed,
    }
}

/// Longest life of one connection to the listener. A browser sends its request head within
/// milliseconds and the pages are tiny; a connection still open after this is a slow or stuck
/// client (slowloris) and is closed, so it can't hold a socket and up to hyper's ~400 KiB head
/// buffer for the whole sign-in timeout.
const CONNECTION_LIFETIME: Duration = if cfg!(test) {
    Duration::from_secs(2)
} else {
    Duration::from_secs(30)
};

/// The server task: accepts on the listener and serves each connection as a task of its own
/// [`JoinSet`], so the connections end with the server.
///
/// Found by the hostile-loopback suite (with axum, whose connections outlived its server task):
/// a request that never finished (slowloris, or an HTTP/0.9 style line) kept its socket and
/// buffer after the attempt had ended and the port was closed, for as long as the client liked.
/// Now a connection lasts at most [`CONNECTION_LIFETIME`], and none outlives [`Server::shutdown`].
struct Server {
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<io::Result<()>>>,
}

impl Server {
    fn start(listener: tokio::net::TcpListener, shared: Arc<Shared>) -> Server {
        let (stop, mut stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let (drain, draining) = watch::channel(false);
            let mut connections = JoinSet::new();
            loop {
                tokio::select! {
                    _ = &mut stopped => break,
                    accepted = listener.accept() => match accepted {
                        Ok((stream, peer)) => {
                            connections.spawn(serve_connection(
                                stream,
                                peer,
                                shared.clone(),
                                draining.clone(),
                            ));
                        }
                        // The client gave up between connect and accept: nothing to do.
                        Err(e) if is_connection_error(&e) => {}
                        // Out of file descriptors and the like: wait a little rather than spin.
                        Err(e) => {
                            tracing::debug!("loopback accept failed: {e}");
                            tokio::time::sleep(Duration::from_millis(100)).await;
                        }
                    },
                    Some(_) = connections.join_next(), if !connections.is_empty() => {}
                }
            }
            // The port closes now; requests in flight may finish their answer.
            drop(listener);
            drain.send_replace(true);
            while connections.join_next().await.is_some() {}
            Ok(())
        });
        Server {
            stop: Some(stop),
            task: Some(task),
        }
    }

    /// Stops accepting, lets in-flight responses finish for a moment, then aborts the task and
    /// with it every connection. When this returns the listening socket is closed, so the port
    /// can be bound again at once.
    async fn shutdown(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(mut task) = self.task.take() {
            if tokio::time::timeout(SHUTDOWN_GRACE, &mut task)
                .await
                .is_err()
            {
                task.abort();
                let _ = task.await;
            }
        }
    }
}

/// One HTTP/1.1 connection, closed after [`CONNECTION_LIFETIME`] whatever its state, and asked
/// to finish (answer the request in flight, then close) once the server drains.
async fn serve_connection(
    stream: tokio::net::TcpStream,
    peer: SocketAddr,
    shared: Arc<Shared>,
    mut draining: watch::Receiver<bool>,
) {
    // Another user's connection gets a plain 403 for every request and changes nothing: the
    // attempt keeps waiting (issue 17; signin/peer.rs).
    let allowed = match stream.local_addr() {
        Ok(local) => {
            let check = lock(&shared.peer_check).clone();
            tokio::task::spawn_blocking(move || check(peer, local))
                .await
                .unwrap_or(false)
        }
        Err(_) => false,
    };
    let service = hyper::service::service_fn(move |req: Request<Incoming>| {
        let mut res = if allowed {
            respond(&shared, &req)
        } else {
            pages::forbidden()
        };
        pages::harden(res.headers_mut());
        std::future::ready(Ok::<_, Infallible>(res))
    });
    let conn =
        hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), service);
    let mut conn = std::pin::pin!(conn);
    let lifetime = tokio::time::sleep(CONNECTION_LIFETIME);
    let mut lifetime = std::pin::pin!(lifetime);
    let mut asked_to_finish = false;
    loop {
        tokio::select! {
            _ = conn.as_mut() => return,
            // Dropping the connection closes its socket.
            _ = &mut lifetime => return,
            _ = draining.wait_for(|d| *d), if !asked_to_finish => {
                asked_to_finish = true;
                conn.as_mut().graceful_shutdown();
            }
        }
    }
}

fn is_connection_error(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
    )
}
