//! The loopback listener over real sockets, driven by a real HTTP client (redirects off, like a
//! browser seen one hop at a time).

use super::*;
use crate::secret::Secret;
use crate::text::Lang;
use reqwest::header::HeaderMap;
use reqwest::StatusCode;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpListener, UdpSocket};
use std::time::{Duration, Instant};
use tokio::task::JoinHandle;

const STATE: &str = "s7aT3-good-state-0123456789abcdef";

/// A port that was free a moment ago (the OS picks it; we then hand it to `Loopback::bind` as a
/// "configured" port, the way a developer's list would be).
use kakao_sim::free_loopback_port as free_port;

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .build()
        .unwrap()
}

struct Running {
    port: u16,
    cancel: CancelHandle,
    task: JoinHandle<Result<CallbackOutcome, Error>>,
}

impl Running {
    fn url(&self, path_and_query: &str) -> String {
        format!("http://127.0.0.1:{}{path_and_query}", self.port)
    }

    async fn outcome(self) -> Result<CallbackOutcome, Error> {
        tokio::time::timeout(Duration::from_secs(5), self.task)
            .await
            .expect("the wait should have ended")
            .unwrap()
    }
}

fn start_with(lang: Lang, timeout: Duration) -> Running {
    let loopback = Loopback::bind(&[free_port()]).unwrap();
    let port = loopback.port();
    let cancel = loopback.cancel_handle();
    let task = tokio::spawn(loopback.wait_for_callback(STATE, lang, timeout));
    Running { port, cancel, task }
}

fn start() -> Running {
    start_with(Lang::Ko, Duration::from_secs(30))
}

async fn get(url: &str) -> (StatusCode, HeaderMap, String) {
    let res = client().get(url).send().await.unwrap();
    let status = res.status();
    let headers = res.headers().clone();
    (status, headers, res.text().await.unwrap())
}

fn assert_hardened(h: &HeaderMap) {
    assert_eq!(h["cache-control"], "no-store");
    assert_eq!(h["referrer-policy"], "no-referrer");
    assert_eq!(h["x-content-type-options"], "nosniff");
    let csp = h["content-security-policy"].to_str().unwrap();
    assert!(csp.starts_with("default-src 'none'"), "{csp}");
    assert!(!csp.contains("unsafe"), "{csp}");
}

/// The port can be bound again right now (the listener is gone).
fn assert_port_free(port: u16) {
    TcpListener::bind((Ipv4Addr::LOCALHOST, port))
        .unwrap_or_else(|e| panic!("port {port} still held: {e}"));
}

async fn eventually_port_free(port: u16, within: Duration) {
    let start = Instant::now();
    while TcpListener::bind((Ipv4Addr::LOCALHOST, port)).is_err() {
        assert!(
            start.elapsed() < within,
            "port {port} still held after {within:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Lets a request that should change nothing reach the server and be answered, then checks the
/// attempt is still waiting.
async fn assert_still_waiting(r: &Running) {
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(
        !r.task.is_finished(),
        "the attempt ended but should still wait"
    );
}

#[test]
fn redirect_uris_use_the_ip_literal() {
    let l = Loopback::bind(&[free_port()]).unwrap();
    let p = l.port();
    assert_eq!(l.redirect_uri(), format!("http://127.0.0.1:{p}/callback"));
    assert_eq!(
        l.logout_redirect_uri(),
        format!("http://127.0.0.1:{p}/logout")
    );
    assert_eq!(
        l.local_addr(),
        SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), p)
    );
}

#[tokio::test]
async fn good_callback_gives_the_code_once_and_redirects_to_done() {
    let r = start();
    let (status, h, body) =
        get(&r.url(&format!("/callback?code=the-code-123&state={STATE}"))).await;
    assert_eq!(status, StatusCode::FOUND);
    assert_eq!(h["location"], "/done");
    assert_hardened(&h);
    assert!(body.is_empty());

    let port = r.port;
    let url_done = r.url("/done");
    let url_replay = r.url(&format!("/callback?code=the-code-123&state={STATE}"));
    match r.outcome().await.unwrap() {
        CallbackOutcome::Code(code) => assert_eq!(code, Secret::new("the-code-123")),
        other => panic!("{other:?}"),
    }

    // Replay while the listener lingers for /done: "already used", nothing delivered.
    let (status, h, body) = get(&url_replay).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_hardened(&h);
    assert!(body.contains("이미 사용된") && body.contains("already used"));
    assert!(!body.contains("the-code-123"));

    let (status, h, body) = get(&url_done).await;
    assert_eq!(status, StatusCode::OK);
    assert_hardened(&h);
    assert!(h["content-type"].to_str().unwrap().starts_with("text/html"));
    assert!(body.contains("로그인 완료") && body.contains("Sign-in complete"));
    assert!(body.contains("close this tab"));
    assert!(!body.contains("the-code-123") && !body.contains(STATE));
    assert!(body.find("로그인 완료") < body.find("Sign-in complete"));

    // /done was served: the listener closes without waiting out the linger.
    eventually_port_free(port, Duration::from_secs(2)).await;
}

#[tokio::test]
async fn english_first_when_asked() {
    let r = start_with(Lang::En, Duration::from_secs(30));
    get(&r.url(&format!("/callback?code=c&state={STATE}"))).await;
    let done = r.url("/done");
    r.outcome().await.unwrap();
    let (_, _, body) = get(&done).await;
    assert!(body.starts_with("<!doctype html>\n<html lang=\"en\">"));
    assert!(body.find("Sign-in complete") < body.find("로그인 완료"));
}

#[tokio::test]
async fn wrong_missing_or_repeated_state_is_refused_and_the_attempt_keeps_waiting() {
    let r = start();
    for q in [
        "/callback?code=evil&state=wrong".to_owned(),
        "/callback?code=evil".to_owned(),
        "/callback".to_owned(),
        "/callback?code=evil&state=".to_owned(),
        format!("/callback?code=evil&state={STATE}x"),
        format!("/callback?code=evil&state={}", &STATE[..STATE.len() - 1]),
        format!("/callback?code=evil&state={STATE}&state=wrong"),
        // An attacker's error must not end the real attempt either.
        "/callback?error=access_denied&state=wrong".to_owned(),
        "/callback?error=access_denied".to_owned(),
    ] {
        let (status, h, body) = get(&r.url(&q)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{q}");
        assert_hardened(&h);
        assert!(body.contains("did not come from the sign-in"), "{q}");
        assert!(
            body.contains("앱에서 시작한 로그인에서 온 것이 아닙니다"),
            "{q}"
        );
        assert!(!body.contains("evil") && !body.contains("wrong"));
        assert_still_waiting(&r).await;
    }
    // The real callback still works afterwards.
    let (status, _, _) = get(&r.url(&format!("/callback?state={STATE}&code=real"))).await;
    assert_eq!(status, StatusCode::FOUND);
    assert_eq!(
        r.outcome().await.unwrap(),
        CallbackOutcome::Code(Secret::new("real"))
    );
}

#[tokio::test]
async fn access_denied_shows_the_cancel_page_never_the_success_page() {
    let r = start();
    let port = r.port;
    let (status, h, body) = get(&r.url(&format!(
        "/callback?error=access_denied&error_description=User%20denied%20access&state={STATE}"
    )))
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_hardened(&h);
    assert!(body.contains("로그인을 취소했습니다") && body.contains("You cancelled sign-in"));
    assert!(!body.contains("로그인 완료") && !body.contains("Sign-in complete"));
    assert!(
        !body.contains("User denied access"),
        "description reflected"
    );
    assert_eq!(
        r.outcome().await.unwrap(),
        CallbackOutcome::Denied {
            error: "access_denied".into(),
            description: Some("User denied access".into()),
        }
    );
    // An error outcome closes the listener at once; /done never shows success.
    match client()
        .get(format!("http://127.0.0.1:{port}/done"))
        .send()
        .await
    {
        Err(e) => assert!(e.is_connect(), "{e}"),
        Ok(res) => assert_ne!(res.status(), StatusCode::OK),
    }
    assert_port_free(port);
}

#[tokio::test]
async fn other_errors_name_only_known_error_names() {
    let r = start();
    let (_, _, body) =
        get(&r.url(&format!("/callback?error=consent_required&state={STATE}"))).await;
    assert!(body.contains("consent_required"));
    assert!(!body.contains("Sign-in complete"));
    assert!(
        matches!(r.outcome().await.unwrap(), CallbackOutcome::Denied { error, description: None } if error == "consent_required")
    );

    let r = start();
    let (_, _, body) = get(&r.url(&format!(
        "/callback?error=%3Cscript%3Ealert(1)%3C%2Fscript%3E&error_description=%3Cb%3Ex&state={STATE}"
    )))
    .await;
    assert!(body.contains("unknown error") && body.contains("알 수 없는 오류"));
    assert!(!body.contains("alert") && !body.contains("<b>"));
    match r.outcome().await.unwrap() {
        // Handed to the app verbatim, as data.
        CallbackOutcome::Denied { error, description } => {
            assert_eq!(error, "<script>alert(1)</script>");
            assert_eq!(description.as_deref(), Some("<b>x"));
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn code_and_error_together_is_an_error() {
    let r = start();
    let (status, _, body) = get(&r.url(&format!(
        "/callback?code=c&error=server_error&state={STATE}"
    )))
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("server_error") && !body.contains("Sign-in complete"));
    assert!(
        matches!(r.outcome().await.unwrap(), CallbackOutcome::Denied { error, .. } if error == "server_error")
    );
}

#[tokio::test]
async fn good_state_without_code_or_error_is_malformed() {
    let r = start();
    let (status, h, body) = get(&r.url(&format!("/callback?state={STATE}&code="))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_hardened(&h);
    assert!(!body.contains("Sign-in complete"));
    assert_eq!(r.outcome().await.unwrap_err().kind(), "callback_malformed");

    let r = start();
    get(&r.url(&format!("/callback?state={STATE}&code=a&code=b"))).await;
    assert_eq!(r.outcome().await.unwrap_err().kind(), "callback_malformed");
}

#[tokio::test]
async fn stray_requests_get_404_and_the_attempt_keeps_waiting() {
    let r = start();
    let good = format!("?code=c&state={STATE}");
    for path in [
        "/favicon.ico".to_owned(),
        "/".to_owned(),
        "/done".to_owned(), // no success yet
        format!("/callback/{good}"),
        format!("/CALLBACK{good}"),
        format!("/callbackx{good}"),
        format!("/logout?state={STATE}"),
    ] {
        let (status, h, body) = get(&r.url(&path)).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        assert_hardened(&h);
        assert!(body.contains("Not found") && !body.contains(STATE));
        assert_still_waiting(&r).await;
    }
    let c = client();
    let url = r.url(&format!("/callback{good}"));
    for method in [
        reqwest::Method::POST,
        reqwest::Method::HEAD,
        reqwest::Method::PUT,
    ] {
        let res = c.request(method.clone(), &url).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{method}");
        assert_hardened(res.headers());
        assert_still_waiting(&r).await;
    }
    // Speculative loads don't consume the one-time state.
    for (name, value) in [
        ("sec-purpose", "prefetch"),
        ("sec-purpose", "prefetch;prerender"),
        ("purpose", "prefetch"),
        ("x-moz", "prefetch"),
    ] {
        let res = c.get(&url).header(name, value).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{name}: {value}");
        assert_still_waiting(&r).await;
    }
    // A page reaching us under another name (DNS rebinding) is not served.
    let res = c
        .get(&url)
        .header("host", "evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert_still_waiting(&r).await;

    let (status, _, _) = get(&url).await;
    assert_eq!(status, StatusCode::FOUND);
    assert_eq!(
        r.outcome().await.unwrap(),
        CallbackOutcome::Code(Secret::new("c"))
    );
}

#[tokio::test]
async fn replay_after_success_delivers_nothing() {
    let r = start();
    let url = r.url(&format!("/callback?code=first&state={STATE}"));
    let replay = r.url(&format!("/callback?code=replayed-code-2&state={STATE}"));
    let (status, _, _) = get(&url).await;
    assert_eq!(status, StatusCode::FOUND);
    let (status, _, body) = get(&replay).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(!body.contains("replayed-code-2"));
    assert_eq!(
        r.outcome().await.unwrap(),
        CallbackOutcome::Code(Secret::new("first"))
    );
}

#[tokio::test]
async fn the_listener_closes_after_the_linger_even_without_done() {
    let r = start();
    let port = r.port;
    get(&r.url(&format!("/callback?code=c&state={STATE}"))).await;
    r.outcome().await.unwrap();
    eventually_port_free(port, DONE_LINGER + Duration::from_secs(2)).await;
}

#[tokio::test]
async fn all_ports_busy_names_every_port() {
    let held: Vec<TcpListener> = (0..3)
        .map(|_| TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap())
        .collect();
    let ports: Vec<u16> = held
        .iter()
        .map(|l| l.local_addr().unwrap().port())
        .collect();
    let e = Loopback::bind(&ports).unwrap_err();
    assert_eq!(e.kind(), "ports_busy");
    match &e {
        Error::PortsBusy { ports: p } => assert_eq!(p, &ports),
        other => panic!("{other:?}"),
    }
    let list = ports
        .iter()
        .map(u16::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    assert!(e.message().en.contains(&list) && e.message().ko.contains(&list));
    let fix = e.fix().unwrap();
    assert!(
        fix.en.contains("KAKAO_SIGNIN_REDIRECT_PORTS")
            && fix.ko.contains("KAKAO_SIGNIN_REDIRECT_PORTS")
    );

    // The first free one in order is taken.
    let free = free_port();
    let l = Loopback::bind(&[ports[0], ports[1], free, ports[2]]).unwrap();
    assert_eq!(l.port(), free);
    drop(held);
}

/// What `bind(2)` says for a port the system refuses: EACCES, and WSAEACCES (10013) on Windows,
/// which is what Windows says for a port in an excluded range (Hyper-V, WSL2, Docker).
fn refused() -> std::io::Error {
    std::io::Error::from_raw_os_error(if cfg!(windows) { 10013 } else { 13 })
}

/// A binder that refuses `refused_ports` as the system does and really binds the others.
fn refusing(
    refused_ports: Vec<u16>,
) -> impl FnMut(std::net::SocketAddrV4) -> std::io::Result<TcpListener> {
    move |addr| {
        if refused_ports.contains(&addr.port()) {
            Err(refused())
        } else {
            TcpListener::bind(addr)
        }
    }
}

#[test]
fn a_port_the_system_refuses_is_reserved_not_busy() {
    assert_eq!(refused().kind(), std::io::ErrorKind::PermissionDenied);
    let (a, b, c) = (free_port(), free_port(), free_port());

    // Every port refused: nobody listens, there is nothing to quit.
    let e = Loopback::bind_with(&[a, b], refusing(vec![a, b])).unwrap_err();
    assert_eq!(e.kind(), "ports_reserved", "{e:?}");
    match &e {
        Error::PortsReserved { reserved, busy } => {
            assert_eq!(
                (reserved.as_slice(), busy.as_slice()),
                (&[a, b][..], &[][..])
            )
        }
        other => panic!("{other:?}"),
    }
    let list = format!("{a}, {b}");
    let (message, fix) = (e.message(), e.fix().unwrap());
    assert!(
        message.en.contains(&list) && message.ko.contains(&list),
        "{message:?}"
    );
    assert!(!message.en.contains("in use"), "{message:?}");
    assert!(fix.en.contains("KAKAO_SIGNIN_REDIRECT_PORTS"), "{fix:?}");
    if cfg!(windows) {
        assert!(fix
            .en
            .contains("netsh interface ipv4 show excludedportrange protocol=tcp"));
    }

    // One refused, one really in use, one refused: each named for what it is.
    let held = TcpListener::bind((Ipv4Addr::LOCALHOST, b)).unwrap();
    let e = Loopback::bind_with(&[a, b, c], refusing(vec![a, c])).unwrap_err();
    match &e {
        Error::PortsReserved { reserved, busy } => {
            assert_eq!(
                (reserved.as_slice(), busy.as_slice()),
                (&[a, c][..], &[b][..])
            )
        }
        other => panic!("{other:?}"),
    }
    assert!(
        e.message().en.contains(&format!("({b}) are in use")),
        "{:?}",
        e.message()
    );

    // Only in use: still "busy", with its own words.
    let e = Loopback::bind_with(&[b], refusing(vec![])).unwrap_err();
    assert_eq!(e.kind(), "ports_busy");
    drop(held);

    // A refused port is skipped for the next one that is free.
    let l = Loopback::bind_with(&[a, c], refusing(vec![a])).unwrap();
    assert_eq!(l.port(), c);
}

#[test]
fn empty_list_and_port_zero_are_refused() {
    assert_eq!(Loopback::bind(&[]).unwrap_err().kind(), "ports_invalid");
    assert_eq!(Loopback::bind(&[0]).unwrap_err().kind(), "ports_invalid");
    assert_eq!(
        Loopback::bind(&[free_port(), 0]).unwrap_err().kind(),
        "ports_invalid"
    );
}

#[tokio::test]
async fn timeout_frees_the_port_at_once() {
    let r = start_with(Lang::Ko, Duration::from_millis(200));
    let port = r.port;
    // An idle keep-alive connection must not keep the socket open.
    let c = client();
    c.get(r.url("/favicon.ico")).send().await.unwrap();
    let started = Instant::now();
    let e = r.outcome().await.unwrap_err();
    assert_eq!(e.kind(), "timed_out");
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_port_free(port);
    // And a new attempt on the same port works.
    let again = Loopback::bind(&[port]).unwrap();
    assert_eq!(again.port(), port);
    drop(c);
}

#[tokio::test]
async fn cancel_ends_the_wait_at_once_and_frees_the_port() {
    let r = start();
    let port = r.port;
    let c = client();
    c.get(r.url("/favicon.ico")).send().await.unwrap();
    assert_still_waiting(&r).await;
    let started = Instant::now();
    r.cancel.cancel();
    assert!(r.cancel.is_cancelled());
    let e = r.outcome().await.unwrap_err();
    assert_eq!(e.kind(), "cancelled");
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    assert_port_free(port);
    drop(c);
}

#[tokio::test]
async fn cancel_before_the_wait_starts_counts() {
    let l = Loopback::bind(&[free_port()]).unwrap();
    let port = l.port();
    l.cancel_handle().cancel();
    let e = l
        .wait_for_callback(STATE, Lang::Ko, DEFAULT_TIMEOUT)
        .await
        .unwrap_err();
    assert_eq!(e.kind(), "cancelled");
    assert_port_free(port);
}

/// The machine's address on its default route, if it has one (no packet is sent by a UDP
/// connect). Falls back to `hostname -I`.
fn non_loopback_ipv4() -> Option<Ipv4Addr> {
    let udp = UdpSocket::bind((Ipv4Addr::UNSPECIFIED, 0)).ok()?;
    if udp.connect(("192.0.2.1", 9)).is_ok() {
        if let Ok(SocketAddr::V4(a)) = udp.local_addr() {
            if !a.ip().is_loopback() && !a.ip().is_unspecified() {
                return Some(*a.ip());
            }
        }
    }
    let out = std::process::Command::new("hostname")
        .arg("-I")
        .output()
        .ok()?;
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .filter_map(|s| s.parse::<Ipv4Addr>().ok())
        .find(|ip| !ip.is_loopback())
}

#[tokio::test]
async fn unreachable_from_other_addresses_of_the_machine() {
    let r = start();
    let addr = r.url("");
    assert!(addr.starts_with("http://127.0.0.1:"));
    match non_loopback_ipv4() {
        Some(ip) => {
            let target = SocketAddr::new(IpAddr::V4(ip), r.port);
            let res = tokio::time::timeout(
                Duration::from_secs(2),
                tokio::net::TcpStream::connect(target),
            )
            .await;
            assert!(!matches!(res, Ok(Ok(_))), "listener reachable on {target}");
        }
        None => {
            // No other address here; the bound address itself must be loopback.
            let l = Loopback::bind(&[free_port()]).unwrap();
            assert_eq!(l.local_addr().ip(), IpAddr::V4(Ipv4Addr::LOCALHOST));
        }
    }
    assert_still_waiting(&r).await;
    r.cancel.cancel();
}

#[tokio::test]
async fn logout_waits_for_its_state_and_shows_the_logged_out_page() {
    let l = Loopback::bind(&[free_port()]).unwrap();
    let port = l.port();
    let task =
        tokio::spawn(l.wait_for_logout("logout-state-xyz", Lang::En, Duration::from_secs(30)));
    let base = format!("http://127.0.0.1:{port}");

    let (status, _, _) = get(&format!("{base}/logout?state=nope")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _, _) = get(&format!("{base}/callback?state=logout-state-xyz&code=c")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(!task.is_finished());

    let (status, h, body) = get(&format!("{base}/logout?state=logout-state-xyz")).await;
    assert_eq!(status, StatusCode::OK);
    assert_hardened(&h);
    // Kakao does not say which option was picked on its page: the page claims neither.
    assert!(body.contains("if you chose to log out of the Kakao account too"));
    assert!(body.contains("카카오계정과 함께 로그아웃"));
    assert!(body.find("logout page is done").unwrap() < body.find("페이지를 마쳤습니다").unwrap());
    tokio::time::timeout(Duration::from_secs(5), task)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_port_free(port);
}

#[tokio::test]
async fn logout_timeout_frees_the_port() {
    let l = Loopback::bind(&[free_port()]).unwrap();
    let port = l.port();
    let e = l
        .wait_for_logout("st", Lang::Ko, Duration::from_millis(100))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), "timed_out");
    assert_port_free(port);
}

#[tokio::test]
async fn dropping_the_wait_shuts_the_listener_down() {
    let r = start();
    let port = r.port;
    get(&r.url("/favicon.ico")).await;
    r.task.abort();
    eventually_port_free(port, Duration::from_secs(1)).await;
}

/// A connection that never finishes its request is closed after the connection lifetime (2 s
/// under `cfg(test)`, 30 s in the app) while the attempt keeps waiting and still succeeds.
#[tokio::test]
async fn a_stuck_connection_is_closed_after_its_lifetime() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let r = start();
    let mut slow = tokio::net::TcpStream::connect((Ipv4Addr::LOCALHOST, r.port))
        .await
        .unwrap();
    let head = format!(
        "GET /callback?state=x HTTP/1.1\r\nHost: 127.0.0.1:{}\r\n",
        r.port
    );
    slow.write_all(head.as_bytes()).await.unwrap();
    let started = Instant::now();
    let mut buf = [0u8; 1024];
    let n = tokio::time::timeout(Duration::from_secs(5), slow.read(&mut buf))
        .await
        .expect("the stuck connection should be closed within its lifetime")
        .unwrap_or(0);
    assert_eq!(n, 0, "no answer, just closed");
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(1500),
        "closed too early: {took:?}"
    );
    assert_still_waiting(&r).await;
    let (status, _, _) = get(&r.url(&format!("/callback?state={STATE}&code=c"))).await;
    assert_eq!(status, StatusCode::FOUND);
    assert!(matches!(
        r.outcome().await.unwrap(),
        CallbackOutcome::Code(_)
    ));
}

/// RFC 9207: an `iss` on the callback is checked when present (success and error alike); a
/// callback without one (Kakao's) is accepted.
#[test]
fn an_iss_on_the_callback_must_be_the_expected_issuer() {
    let expected = ExpectedState::new(STATE).with_issuer("https://kauth.kakao.com");
    let q = |extra: &str| format!("state={STATE}&code=c{extra}");
    assert_eq!(
        classify_callback_query(&q(""), &expected),
        CallbackQuery::Code(Secret::new("c"))
    );
    for good in [
        "&iss=https%3A%2F%2Fkauth.kakao.com",
        "&iss=https://kauth.kakao.com/",
    ] {
        assert_eq!(
            classify_callback_query(&q(good), &expected),
            CallbackQuery::Code(Secret::new("c")),
            "{good}"
        );
    }
    for bad in [
        "&iss=https%3A%2F%2Fevil.example",
        "&iss=https://kauth.kakao.com&iss=https://kauth.kakao.com",
        "&iss=",
    ] {
        assert_eq!(
            classify_callback_query(&q(bad), &expected),
            CallbackQuery::Malformed,
            "{bad}"
        );
    }
    let denied = format!("state={STATE}&error=access_denied&iss=https://evil.example");
    assert_eq!(
        classify_callback_query(&denied, &expected),
        CallbackQuery::Malformed
    );
}

// ---- a pasted address: the listener's own check, the other way in (issue 15) ----------------

fn start_with_door() -> (Running, PasteDoor) {
    let loopback = Loopback::bind(&[free_port()]).unwrap();
    let port = loopback.port();
    let cancel = loopback.cancel_handle();
    let armed = loopback.arm_callback(STATE, Lang::En).unwrap();
    let door = armed.paste_door();
    let task = tokio::spawn(armed.wait_for_callback(Duration::from_secs(30)));
    (Running { port, cancel, task }, door)
}

#[test]
fn a_pasted_address_is_read_whole_without_scheme_or_as_just_the_query() {
    let q = format!("code=c0de&state={STATE}");
    for pasted in [
        format!("http://127.0.0.1:18682/callback?{q}"),
        format!("  http://127.0.0.1:18682/callback?{q}\n"),
        format!("127.0.0.1:18682/callback?{q}"),
        format!("?{q}"),
        q.clone(),
    ] {
        assert_eq!(
            pasted_callback_query(&pasted, 18682).unwrap(),
            q,
            "{pasted:?}"
        );
    }
    // Kakao's error redirect is an address like any other.
    let denied = format!("error=access_denied&state={STATE}");
    assert_eq!(
        pasted_callback_query(&format!("http://127.0.0.1:18682/callback?{denied}"), 18682).unwrap(),
        denied
    );
}

#[test]
fn what_is_not_this_attempts_redirect_is_refused_naming_the_address() {
    let q = format!("code=c0de&state={STATE}");
    for pasted in [
        String::new(),
        "   ".into(),
        "hello".into(),
        "code=c0de".into(),
        format!("http://127.0.0.1:18683/callback?{q}"),
        format!("http://localhost:18682/callback?{q}"),
        format!("http://127.0.0.1:18682/logout?{q}"),
        format!("http://127.0.0.1:18682/done?{q}"),
        // The sign-in link itself carries the same state: it must not end the attempt.
        format!("https://kauth.kakao.com/oauth/authorize?client_id=k&{q}"),
        format!("ftp://127.0.0.1:18682/callback?{q}"),
        format!("카카오/콜백?{q}"),
        format!(
            "http://127.0.0.1:18682/callback?{q}&pad={}",
            "x".repeat(MAX_PASTED_BYTES)
        ),
    ] {
        match pasted_callback_query(&pasted, 18682) {
            Err(e @ Error::PastedNotCallback { port: 18682 }) => {
                assert_eq!(e.kind(), "pasted_not_callback");
                for s in [e.message().ko, e.message().en, e.fix().unwrap().en] {
                    assert!(s.contains("http://127.0.0.1:18682/callback"), "{s}");
                }
            }
            other => panic!(
                "{:?} gave {other:?}",
                pasted.chars().take(80).collect::<String>()
            ),
        }
    }
}

#[tokio::test]
async fn a_pasted_address_completes_the_wait_and_the_listener_then_refuses_it() {
    let (r, door) = start_with_door();
    let url = r.url(&format!("/callback?code=pasted-code&state={STATE}"));
    door.deliver(&url).await.unwrap();
    // The browser's copy of the same redirect arrives second: "already used", nothing taken.
    let (status, _, body) = get(&url).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(body.contains("already used"), "{body}");
    // A second paste too.
    let again = door.deliver(&url).await.unwrap_err();
    assert_eq!(again.kind(), "pasted_already_used");
    assert_eq!(
        r.outcome().await.unwrap(),
        CallbackOutcome::Code(Secret::new("pasted-code"))
    );
}

#[tokio::test]
async fn after_the_listener_took_the_code_a_paste_is_refused() {
    let (r, door) = start_with_door();
    let url = r.url(&format!("/callback?code=browser-code&state={STATE}"));
    let (status, _, _) = get(&url).await;
    assert_eq!(status, StatusCode::FOUND);
    let refused = door
        .deliver(&format!("?code=pasted-later&state={STATE}"))
        .await
        .unwrap_err();
    assert_eq!(refused.kind(), "pasted_already_used");
    assert!(refused.message().en.contains("already came back"));
    assert_eq!(
        r.outcome().await.unwrap(),
        CallbackOutcome::Code(Secret::new("browser-code"))
    );
}

#[tokio::test]
async fn a_pasted_wrong_state_is_refused_and_the_attempt_keeps_waiting() {
    let (r, door) = start_with_door();
    for pasted in [
        "?code=c&state=not-the-state".to_owned(),
        format!("?code=c&state={STATE}&state={STATE}"),
        format!("?code=c&state={STATE}x"),
    ] {
        let e = door.deliver(&pasted).await.unwrap_err();
        assert_eq!(e.kind(), "pasted_wrong_state", "{pasted}");
        assert!(e.fix().is_some());
    }
    // Not the callback at all: refused before the state is looked at.
    let e = door
        .deliver("https://example.com/?state=x")
        .await
        .unwrap_err();
    assert_eq!(e.kind(), "pasted_not_callback");
    assert_still_waiting(&r).await;
    // The real redirect still completes it.
    let (status, _, _) = get(&r.url(&format!("/callback?code=ok&state={STATE}"))).await;
    assert_eq!(status, StatusCode::FOUND);
    assert_eq!(
        r.outcome().await.unwrap(),
        CallbackOutcome::Code(Secret::new("ok"))
    );
}

#[tokio::test]
async fn a_pasted_error_redirect_ends_the_wait_with_kakaos_error() {
    let (r, door) = start_with_door();
    door.deliver(&format!(
        "127.0.0.1:{}/callback?error=access_denied&error_description=User%20denied&state={STATE}",
        r.port
    ))
    .await
    .unwrap();
    assert_eq!(
        r.outcome().await.unwrap(),
        CallbackOutcome::Denied {
            error: "access_denied".into(),
            description: Some("User denied".into())
        }
    );
}

#[tokio::test]
async fn nothing_waits_after_cancel_or_for_a_logout() {
    let (r, door) = start_with_door();
    r.cancel.cancel();
    assert!(matches!(r.outcome().await, Err(Error::Cancelled)));
    let e = door
        .deliver(&format!("?code=late&state={STATE}"))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), "not_waiting");

    let logout = Loopback::bind(&[free_port()]).unwrap();
    let armed = logout.arm_logout(STATE, Lang::En).unwrap();
    let door = armed.paste_door();
    let task = tokio::spawn(armed.wait_for_logout(Duration::from_secs(30)));
    let e = door.deliver(&format!("?state={STATE}")).await.unwrap_err();
    assert_eq!(e.kind(), "not_waiting");
    assert!(!task.is_finished());
    task.abort();
}

// ---- issue 17: the one-time start URL, other users, the port kept after an attempt

/// An armed attempt on a fresh port whose start URL redirects to `target`.
fn start_armed(target: &str) -> (Running, String) {
    let loopback = Loopback::bind(&[free_port()]).unwrap();
    let port = loopback.port();
    let cancel = loopback.cancel_handle();
    let armed = loopback.arm_callback(STATE, Lang::En).unwrap();
    let start = armed.start_url(target);
    let task = tokio::spawn(armed.wait_for_callback(Duration::from_secs(30)));
    (Running { port, cancel, task }, start)
}

#[tokio::test]
async fn the_start_url_redirects_to_kakao_once_and_nothing_of_the_attempt_is_in_it() {
    let target = format!("https://kauth.kakao.com/oauth/authorize?state={STATE}&nonce=n1");
    let (r, start) = start_armed(&target);
    let prefix = format!("http://127.0.0.1:{}{START_PATH}", r.port);
    let token = start.strip_prefix(&prefix).expect("a loopback start URL");
    assert_eq!(token.len(), 43, "32 random bytes, base64url: {token}");
    assert!(
        !start.contains(STATE) && !start.contains("nonce"),
        "{start}"
    );
    // A wrong token, a prefetch, another method: 404, and the URL is not used up.
    let (status, _, _) = get(&format!("{prefix}{}", "A".repeat(43))).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let res = client()
        .get(&start)
        .header("sec-purpose", "prefetch")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let res = client().post(&start).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    // Once: 303 to Kakao, not stored.
    let (status, headers, _) = get(&start).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(headers["location"], target.as_str());
    assert_hardened(&headers);
    // Then "already used", in both languages.
    let (status, headers, body) = get(&start).await;
    assert_eq!(status, StatusCode::GONE);
    assert!(headers.get("location").is_none());
    assert!(
        body.contains("already used") && body.contains("이미 사용된 주소"),
        "{body}"
    );
    // The attempt still waits for its callback, and takes it.
    assert_still_waiting(&r).await;
    let (status, _, _) = get(&r.url(&format!("/callback?code=C1&state={STATE}"))).await;
    assert_eq!(status, StatusCode::FOUND);
    assert!(matches!(r.outcome().await, Ok(CallbackOutcome::Code(c)) if c.expose() == "C1"));
}

#[tokio::test]
async fn another_users_connection_gets_a_plain_403_and_changes_nothing() {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    let stranger = Arc::new(AtomicBool::new(true));
    let s = stranger.clone();
    let loopback = Loopback::bind(&[free_port()])
        .unwrap()
        .with_peer_check(Arc::new(move |_, _| !s.load(Ordering::SeqCst)));
    let port = loopback.port();
    let cancel = loopback.cancel_handle();
    let armed = loopback.arm_callback(STATE, Lang::En).unwrap();
    let start = armed.start_url("https://kauth.kakao.com/oauth/authorize?state=x");
    let task = tokio::spawn(armed.wait_for_callback(Duration::from_secs(30)));
    let r = Running { port, cancel, task };
    // Every path: the start URL, the callback with the right state, an error, done.
    for path in [
        start
            .strip_prefix(&format!("http://127.0.0.1:{port}"))
            .unwrap()
            .to_owned(),
        format!("/callback?code=STOLEN&state={STATE}"),
        format!("/callback?error=access_denied&state={STATE}"),
        "/done".to_owned(),
    ] {
        let (status, headers, body) = get(&r.url(&path)).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}");
        assert_eq!(body, "Forbidden\n", "{path}");
        assert_hardened(&headers);
    }
    assert_still_waiting(&r).await;
    // The start URL was not used up by the stranger, and our own user completes.
    stranger.store(false, Ordering::SeqCst);
    let (status, _, _) = get(&start).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    get(&r.url(&format!("/callback?code=MINE&state={STATE}"))).await;
    assert!(matches!(r.outcome().await, Ok(CallbackOutcome::Code(c)) if c.expose() == "MINE"));
}

#[tokio::test]
async fn a_kept_port_stays_bound_after_cancel_answers_cancelled_and_serves_the_next_attempt() {
    let keeper = PortKeeper::new(Duration::from_millis(1500));
    let ports = [free_port()];
    let first = keeper.bind(&ports).unwrap();
    let port = first.port();
    let cancel = first.cancel_handle();
    let first = first
        .arm_callback("first-state-0123456789", Lang::En)
        .unwrap();
    cancel.cancel();
    assert!(matches!(
        first.wait_for_callback(Duration::from_secs(30)).await,
        Err(Error::Cancelled)
    ));
    // Still ours: nobody else can bind it and receive the code of the tab still open.
    assert!(TcpListener::bind((Ipv4Addr::LOCALHOST, port)).is_err());
    assert_eq!(keeper.ports(), [port]);
    let late = format!("http://127.0.0.1:{port}/callback?code=LATE&state=first-state-0123456789");
    let (status, headers, body) = get(&late).await;
    assert_eq!(status, StatusCode::GONE);
    assert_hardened(&headers);
    assert!(
        body.contains("This sign-in was cancelled") && body.contains("취소된 로그인"),
        "{body}"
    );
    // A stranger's state is still just refused.
    let (status, _, _) = get(&format!(
        "http://127.0.0.1:{port}/callback?code=X&state=other"
    ))
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // The next attempt takes the same port over; the first one's redirect still says cancelled.
    let second = keeper.bind(&ports).unwrap();
    assert_eq!(second.port(), port);
    let second = second.arm_callback(STATE, Lang::En).unwrap();
    let task = tokio::spawn(second.wait_for_callback(Duration::from_secs(30)));
    let (status, _, _) = get(&late).await;
    assert_eq!(status, StatusCode::GONE);
    let (status, _, _) = get(&format!(
        "http://127.0.0.1:{port}/callback?code=C2&state={STATE}"
    ))
    .await;
    assert_eq!(status, StatusCode::FOUND);
    let outcome = tokio::time::timeout(Duration::from_secs(5), task)
        .await
        .unwrap()
        .unwrap();
    assert!(matches!(outcome, Ok(CallbackOutcome::Code(c)) if c.expose() == "C2"));
    // After a code nothing more can come: the port is let go (after `/done`'s linger).
    eventually_port_free(port, DONE_LINGER + Duration::from_secs(2)).await;
    assert!(keeper.ports().is_empty());
}

#[tokio::test]
async fn a_kept_port_is_freed_when_a_code_could_no_longer_be_used() {
    let keeper = PortKeeper::new(Duration::from_millis(300));
    let loopback = keeper.bind(&[free_port()]).unwrap();
    let port = loopback.port();
    let started = Instant::now();
    let r = loopback
        .wait_for_callback(STATE, Lang::Ko, Duration::from_millis(50))
        .await;
    assert!(matches!(r, Err(Error::TimedOut(_))));
    assert!(
        TcpListener::bind((Ipv4Addr::LOCALHOST, port)).is_err(),
        "kept after the timeout"
    );
    eventually_port_free(port, Duration::from_secs(3)).await;
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert!(keeper.ports().is_empty());
    assert_eq!(
        KEEP_PORT,
        Duration::from_secs(600),
        "Kakao's codes live 10 minutes"
    );
}
