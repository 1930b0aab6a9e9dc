//! The loopback listener: one socket on 127.0.0.1, held from bind to shutdown, serving the
//! redirect back from Kakao with a bare hyper HTTP/1.1 server (three paths need no router).
//!
//! Rules it keeps (RFC 8252 §7.3/§8.3, RFC 9700 §4.7):
//! - binds `127.0.0.1` only, on the first free port of a configured list, never a random one;
//! - `state` is checked first, in constant time, and is good for one callback only;
//! - a request with a missing or wrong `state`, a stray path or method gets a page and changes
//!   nothing: an attacker's request can't end the person's real attempt;
//! - a code is answered with `302 /done` so it leaves the address bar and the history.

use super::pages::Response;
use super::pages::{self, DeniedReason, Page};
use super::Error;
use crate::secret::Secret;
use crate::text::Lang;
use http::{header, HeaderMap, Method, Request, StatusCode, Uri};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use std::convert::Infallible;
use std::io;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4, TcpListener};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
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

/// Ends a wait at once with [`Error::Cancelled`] and frees the port. Cheap to clone; a cancel
/// before the wait starts counts too.
#[derive(Debug, Clone)]
pub struct CancelHandle(Arc<watch::Sender<bool>>);

impl CancelHandle {
    /// Ends the attempt: its wait returns [`Error::Cancelled`] and the port is freed.
    pub fn cancel(&self) {
        self.0.send_replace(true);
    }

    /// Whether [`CancelHandle::cancel`] was called.
    pub fn is_cancelled(&self) -> bool {
        *self.0.borrow()
    }
}

/// A bound loopback socket, ready for one sign-in (or one logout) redirect.
///
/// Dropping it without waiting closes the socket.
#[derive(Debug)]
pub struct Loopback {
    listener: TcpListener,
    port: u16,
    cancel: Arc<watch::Sender<bool>>,
    /// The attempt being served, for [`PasteDoor`]s; set when the wait starts.
    door: watch::Sender<Option<Arc<Attempt>>>,
}

/// Longest pasted address taken, in bytes: a real redirect back is a few hundred bytes.
pub const MAX_PASTED_BYTES: usize = 8 * 1024;

/// The second way in for Kakao's redirect: the address a person pasted into the window because
/// the browser could not reach `127.0.0.1` (WSL2, a remote desktop, a container). It goes
/// through the listener's own check ([`Loopback`]'s `/callback`: the one-time `state` in
/// constant time first, then `error` or `code`), so whichever of the two arrives first
/// completes the attempt and the other is refused. Cheap to clone.
#[derive(Clone)]
pub struct PasteDoor {
    attempt: watch::Receiver<Option<Arc<Attempt>>>,
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
    /// first); [`Error::NotWaiting`] when the attempt has ended.
    pub async fn deliver(&self, pasted: &str) -> Result<(), Error> {
        let query = pasted_callback_query(pasted, self.port)?;
        let mut rx = self.attempt.clone();
        // The attempt's task starts serving a moment after the window showed the wait.
        let attempt = match tokio::time::timeout(
            Duration::from_secs(5),
            rx.wait_for(|a| a.is_some()),
        )
        .await
        {
            Ok(Ok(a)) => a.clone(),
            _ => None,
        };
        let Some(attempt) = attempt.filter(|a| a.mode == Mode::Callback) else {
            return Err(Error::NotWaiting);
        };
        match accept(&attempt, &query) {
            Accepted::BadState => Err(Error::PastedWrongState),
            Accepted::AlreadyUsed => Err(Error::PastedAlreadyUsed),
            Accepted::Ended => Err(Error::NotWaiting),
            Accepted::LoggedOut | Accepted::Denied(_) | Accepted::Code | Accepted::Malformed => {
                Ok(())
            }
        }
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
        let mut busy = Vec::new();
        let mut reserved = Vec::new();
        let mut other: Option<io::Error> = None;
        for &port in ports {
            match bind(SocketAddrV4::new(Ipv4Addr::LOCALHOST, port)) {
                Ok(listener) => {
                    let (cancel, _) = watch::channel(false);
                    return Ok(Loopback {
                        listener,
                        port,
                        cancel: Arc::new(cancel),
                        door: watch::channel(None).0,
                    });
                }
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

    /// The loopback port bound (one of the configured ones).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The socket's address; always `127.0.0.1:<port>`.
    pub fn local_addr(&self) -> SocketAddr {
        SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::LOCALHOST, self.port))
    }

    /// `http://127.0.0.1:<port>/callback`: the IP literal, as registered in the Kakao console.
    pub fn redirect_uri(&self) -> String {
        format!("http://127.0.0.1:{}{CALLBACK_PATH}", self.port)
    }

    /// `http://127.0.0.1:<port>/logout`, for `/oauth/logout`'s `logout_redirect_uri`.
    pub fn logout_redirect_uri(&self) -> String {
        format!("http://127.0.0.1:{}{LOGOUT_PATH}", self.port)
    }

    /// A handle that cancels this attempt from elsewhere (the window's Cancel).
    pub fn cancel_handle(&self) -> CancelHandle {
        CancelHandle(self.cancel.clone())
    }

    /// A door for a pasted redirect address into this listener's sign-in wait
    /// ([`Loopback::wait_for_callback`]); it refuses with [`Error::NotWaiting`] once the wait
    /// has ended.
    pub fn paste_door(&self) -> PasteDoor {
        PasteDoor {
            attempt: self.door.subscribe(),
            port: self.port,
        }
    }

    /// Serves `/callback` until one request with the right `state` arrives, then returns what it
    /// carried. The listener lingers in the background only to serve `/done` (until it was
    /// served or [`DONE_LINGER`]), then closes. On timeout, cancel or error the port is free
    /// when this returns. Dropping the future also shuts the listener down (a moment later).
    pub async fn wait_for_callback(
        self,
        expected_state: impl Into<ExpectedState>,
        lang: Lang,
        timeout: Duration,
    ) -> Result<CallbackOutcome, Error> {
        match self
            .serve(Mode::Callback, expected_state.into(), lang, timeout)
            .await?
        {
            Delivered::Callback(outcome) => Ok(outcome),
            Delivered::LoggedOut => unreachable!("callback mode never delivers a logout"),
        }
    }

    /// Serves `/logout` until `GET /logout?state=<expected>` arrives (Kakao's redirect after the
    /// Kakao account logout), shows a "logged out" page and closes.
    pub async fn wait_for_logout(
        self,
        expected_state: impl Into<ExpectedState>,
        lang: Lang,
        timeout: Duration,
    ) -> Result<(), Error> {
        self.serve(Mode::Logout, expected_state.into(), lang, timeout)
            .await
            .map(|_| ())
    }

    async fn serve(
        self,
        mode: Mode,
        expected: ExpectedState,
        lang: Lang,
        timeout: Duration,
    ) -> Result<Delivered, Error> {
        let Loopback {
            listener,
            port,
            cancel,
            door,
        } = self;
        // Holding `cancel` keeps the sender alive, so `wait_for` below only ends on a real cancel.
        let mut cancel_rx = cancel.subscribe();
        if *cancel_rx.borrow() {
            return Err(Error::Cancelled);
        }
        listener
            .set_nonblocking(true)
            .map_err(Error::ListenerFailed)?;
        let listener =
            tokio::net::TcpListener::from_std(listener).map_err(Error::ListenerFailed)?;

        let (tx, rx) = oneshot::channel();
        let attempt = Arc::new(Attempt {
            mode,
            expected,
            lang,
            host: format!("127.0.0.1:{port}"),
            slot: Mutex::new(Some(tx)),
            succeeded: AtomicBool::new(false),
            done_served: Notify::new(),
        });
        let mut server = Server::start(listener, attempt.clone());
        door.send_replace(Some(attempt.clone()));

        let result = tokio::select! {
            // A delivered outcome wins over a cancel or timeout that fires in the same instant.
            biased;
            r = rx => r.unwrap_or_else(|_| Err(Error::ListenerFailed(io::Error::other("the listener stopped")))),
            _ = cancel_rx.wait_for(|c| *c) => Err(Error::Cancelled),
            _ = tokio::time::sleep(timeout) => Err(Error::TimedOut(timeout)),
            e = server.finished() => Err(Error::ListenerFailed(e)),
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
                server.shutdown().await;
            });
        } else {
            server.shutdown().await;
        }
        result
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

struct Attempt {
    mode: Mode,
    expected: ExpectedState,
    lang: Lang,
    /// `Host` a browser sends for our redirect URI; anything else (DNS rebinding) gets 404.
    host: String,
    /// Taken by the one request with the right state: exactly-once delivery by construction.
    slot: Mutex<Option<oneshot::Sender<Result<Delivered, Error>>>>,
    /// `/done` shows the success page only after a code arrived.
    succeeded: AtomicBool,
    done_served: Notify,
}

impl std::fmt::Debug for Attempt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Attempt")
            .field("mode", &self.mode)
            .field("host", &self.host)
            .finish_non_exhaustive()
    }
}

impl Attempt {
    fn take_slot(&self) -> Option<oneshot::Sender<Result<Delivered, Error>>> {
        self.slot
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .take()
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

/// Every answer: the attempt's path, the done page or 404, each with the security headers.
fn respond(a: &Attempt, req: &Request<Incoming>) -> Response {
    let path = match a.mode {
        Mode::Callback => CALLBACK_PATH,
        Mode::Logout => LOGOUT_PATH,
    };
    let (method, uri, headers) = (req.method(), req.uri(), req.headers());
    let mut res = if uri.path() == path {
        redirect_back(a, method, uri, headers)
    } else if uri.path() == DONE_PATH {
        done(a, method, uri, headers)
    } else {
        pages::page(StatusCode::NOT_FOUND, Page::NotFound, a.lang)
    };
    pages::harden(res.headers_mut());
    res
}

fn done(a: &Attempt, method: &Method, uri: &Uri, headers: &HeaderMap) -> Response {
    if !a.is_ours(method, uri, headers) || !a.succeeded.load(Ordering::SeqCst) {
        return pages::page(StatusCode::NOT_FOUND, Page::NotFound, a.lang);
    }
    a.done_served.notify_one();
    pages::page(StatusCode::OK, Page::Done, a.lang)
}

fn redirect_back(a: &Attempt, method: &Method, uri: &Uri, headers: &HeaderMap) -> Response {
    let lang = a.lang;
    if !a.is_ours(method, uri, headers) {
        return pages::page(StatusCode::NOT_FOUND, Page::NotFound, lang);
    }
    match accept(a, uri.query().unwrap_or_default()) {
        Accepted::BadState => pages::page(StatusCode::BAD_REQUEST, Page::BadState, lang),
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
    fn start(listener: tokio::net::TcpListener, attempt: Arc<Attempt>) -> Server {
        let (stop, mut stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let (drain, draining) = watch::channel(false);
            let mut connections = JoinSet::new();
            loop {
                tokio::select! {
                    _ = &mut stopped => break,
                    accepted = listener.accept() => match accepted {
                        Ok((stream, _)) => {
                            connections.spawn(serve_connection(
                                stream,
                                attempt.clone(),
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

    /// Resolves only if the server ends on its own (it shouldn't); never resolves afterwards.
    async fn finished(&mut self) -> io::Error {
        let Some(task) = self.task.as_mut() else {
            return std::future::pending().await;
        };
        let r = task.await;
        self.task = None;
        match r {
            Ok(Ok(())) => io::Error::other("the listener stopped"),
            Ok(Err(e)) => e,
            Err(e) => io::Error::other(format!("the listener task failed: {e}")),
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
    attempt: Arc<Attempt>,
    mut draining: watch::Receiver<bool>,
) {
    let service = hyper::service::service_fn(move |req: Request<Incoming>| {
        std::future::ready(Ok::<_, Infallible>(respond(&attempt, &req)))
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
