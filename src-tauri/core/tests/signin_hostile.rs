//! Hostile loopback suite (issue 7): the REAL loopback listener over real sockets, attacked while
//! a `wait_for_callback` is in progress. For every case:
//!
//! (a) the wait produced no outcome (no code reached the app, so no token request could be
//!     made; `session_against_the_simulator_makes_no_token_request` checks that end to end
//!     with the simulator's token-request counter);
//! (b) the answer, if any, is not the success page and reflects nothing from the request (every
//!     hostile request carries [`MARK`]; neither it nor the state may come back);
//! (c) the case ends within [`CASE_BOUND`] and, for the heavy cases, the process's resident
//!     memory grows by less than [`RSS_BOUND`];
//! (d) a real callback with the right state sent afterwards (or, for slowloris, in parallel)
//!     still ends the wait with `CallbackOutcome::Code`.
//!
//! Run with `-- --nocapture` to see one line per case and the final count.

use kakao_signin_core::signin::{CallbackOutcome, Error as SigninError, Loopback};
use kakao_signin_core::text::Lang;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::task::JoinHandle;

/// The state the app expects (43 URL-safe characters, like the app's own).
const STATE: &str = "Hq3vT0b9-Zx_Kw2LmN5pR7sU1yA4cE6gI8jO0qS2uW4";
/// Put into every hostile request (as the code, a value, a header…); must never come back.
const MARK: &str = "EVILMARK7q";
/// No hostile case may take longer than this, the real callback that follows included.
const CASE_BOUND: Duration = Duration::from_secs(10);
/// How much the resident set may grow across one heavy case. 500 held connections cost the
/// server one task and an 8 KiB read buffer each (~4 MiB) plus the client sockets; a 1 MiB
/// request is refused once hyper's ~400 KiB head buffer is full. 64 MiB is an order of
/// magnitude above that, yet far below what an unbounded listener would take (the 1 MiB cases
/// alone would double it and 500 unbounded heads would be ~500 MiB).
const RSS_BOUND: u64 = 64 * 1024 * 1024;
/// Success page words in both languages; no hostile answer may contain them.
const SUCCESS_WORDS: [&str; 2] = ["Sign-in complete", "로그인 완료"];

static CASES: AtomicUsize = AtomicUsize::new(0);

use kakao_sim::free_loopback_port as free_port;

fn rss_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    let kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .expect("VmRSS line")
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .unwrap();
    kb * 1024
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .build()
        .unwrap()
}

// ------------------------------------------------------------------ one attempt

struct Attempt {
    port: u16,
    task: JoinHandle<Result<CallbackOutcome, SigninError>>,
}

impl Attempt {
    fn start() -> Attempt {
        let loopback = Loopback::bind(&[free_port()]).unwrap();
        assert_eq!(
            loopback.local_addr().ip(),
            IpAddr::V4(Ipv4Addr::LOCALHOST),
            "the listener binds 127.0.0.1 only"
        );
        let port = loopback.port();
        let task =
            tokio::spawn(loopback.wait_for_callback(STATE, Lang::En, Duration::from_secs(60)));
        Attempt { port, task }
    }

    fn url(&self, path_and_query: &str) -> String {
        format!("http://127.0.0.1:{}{path_and_query}", self.port)
    }

    /// (a): gives the listener a moment to act on what it got, then checks nothing ended.
    async fn assert_still_waiting(&self, case: &str) {
        tokio::time::sleep(Duration::from_millis(30)).await;
        assert!(
            !self.task.is_finished(),
            "{case}: the wait ended on a hostile request"
        );
    }

    /// (d): the real browser's callback, then the outcome must be exactly that code.
    async fn finish_with_real_callback(self, case: &str) {
        let code = format!("real-code-{}", CASES.load(Ordering::SeqCst));
        let res = client()
            .get(self.url(&format!("/callback?code={code}&state={STATE}")))
            .send()
            .await
            .unwrap_or_else(|e| panic!("{case}: the real callback failed: {e}"));
        assert_eq!(res.status(), 302, "{case}: the real callback was refused");
        assert_eq!(res.headers()["location"], "/done", "{case}");
        self.expect_code(case, &code).await;
    }

    async fn expect_code(self, case: &str, code: &str) {
        let outcome = tokio::time::timeout(Duration::from_secs(5), self.task)
            .await
            .unwrap_or_else(|_| panic!("{case}: no outcome after the real callback"))
            .unwrap();
        match outcome {
            Ok(CallbackOutcome::Code(c)) => assert_eq!(c.expose(), code, "{case}"),
            other => panic!("{case}: expected the real code, got {other:?}"),
        }
    }
}

// ------------------------------------------------------------------ raw sockets

/// What came back on a raw connection.
#[derive(Debug)]
struct Reply {
    bytes: Vec<u8>,
    /// The server closed (EOF or reset) within the wait.
    closed: bool,
}

impl Reply {
    fn status(&self) -> Option<u16> {
        let text = String::from_utf8_lossy(&self.bytes);
        let line = text.lines().next()?;
        let mut parts = line.split(' ');
        let proto = parts.next()?;
        if !proto.starts_with("HTTP/1.") {
            return None;
        }
        parts.next()?.parse().ok()
    }

    /// (b): not the success page, nothing of the request in it.
    fn assert_harmless(&self, case: &str) {
        let text = String::from_utf8_lossy(&self.bytes);
        for w in SUCCESS_WORDS {
            assert!(!text.contains(w), "{case}: success page shown: {text}");
        }
        let location_done = text
            .lines()
            .any(|l| l.to_ascii_lowercase().starts_with("location:"));
        assert!(!location_done, "{case}: redirected: {text}");
        assert!(
            !text.contains(MARK) && !text.contains(&MARK.to_ascii_lowercase()),
            "{case}: the request was reflected: {text}"
        );
        assert!(!text.contains(STATE), "{case}: the state was reflected");
        if let Some(status) = self.status() {
            assert!(
                (400..500).contains(&status),
                "{case}: answered {status}, expected a refusal: {text}"
            );
        }
    }
}

/// Writes `request` (concurrently with reading, so a server that answers early and closes can't
/// deadlock us) and reads until the server closes or `wait` passes.
async fn exchange(port: u16, request: Vec<u8>, wait: Duration) -> Reply {
    let stream = TcpStream::connect((Ipv4Addr::LOCALHOST, port))
        .await
        .expect("connect to the listener");
    let (mut rd, mut wr) = stream.into_split();
    let writer = tokio::spawn(async move {
        // A refusal may close the socket while we still write: that's an answer, not an error.
        let _ = wr.write_all(&request).await;
        if request.is_empty() {
            // "Connect and close": half-close at once.
            let _ = wr.shutdown().await;
        }
        wr
    });
    let mut bytes = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    let deadline = tokio::time::Instant::now() + wait;
    let closed = loop {
        match tokio::time::timeout_at(deadline, rd.read(&mut buf)).await {
            Err(_) => break false,
            Ok(Ok(0)) | Ok(Err(_)) => break true,
            Ok(Ok(n)) => bytes.extend_from_slice(&buf[..n]),
        }
    };
    writer.abort();
    Reply { bytes, closed }
}

fn get(port: u16, target: &str) -> Vec<u8> {
    request("GET", port, target, "")
}

fn request(method: &str, port: u16, target: &str, extra_headers: &str) -> Vec<u8> {
    format!(
        "{method} {target} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUser-Agent: hostile-suite\r\n\
         {extra_headers}Connection: close\r\n\r\n"
    )
    .into_bytes()
}

/// Percent-encodes every byte, so decoding once gives back `s` and twice gives `s` again only
/// if the server decodes twice (it must not).
fn double_encode(s: &str) -> String {
    s.bytes().map(|b| format!("%25{b:02X}")).collect()
}

/// A fixed-seed xorshift, so the "random garbage" is the same bytes on every run.
fn garbage(len: usize, mut seed: u64) -> Vec<u8> {
    (0..len)
        .map(|_| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed >> 24) as u8
        })
        .collect()
}

/// A TLS 1.2/1.3 ClientHello (SNI 127.0.0.1), as a browser sends to `https://` by mistake.
fn tls_client_hello() -> Vec<u8> {
    let mut hello = vec![
        0x16, 0x03, 0x01, 0x00, 0xa5, // record: handshake, TLS 1.0, length
        0x01, 0x00, 0x00, 0xa1, // ClientHello, length
        0x03, 0x03, // TLS 1.2
    ];
    hello.extend(garbage(32, 7)); // random
    hello.extend([0x00]); // session id
    hello.extend([0x00, 0x04, 0x13, 0x01, 0xc0, 0x2f]); // cipher suites
    hello.extend([0x01, 0x00]); // compression
    hello.extend([0x00, 0x60]); // extensions length
    hello.extend(garbage(0x60, 11));
    hello
}

// ------------------------------------------------------------------ the table

/// What a case sends: bytes built for the listener's port.
type Build = Box<dyn Fn(u16) -> Vec<u8>>;

struct Case {
    name: String,
    build: Build,
    /// The status the listener must answer with; `None`: any refusal (4xx) or a closed socket;
    /// `Some(0)`: an incomplete request the server keeps waiting on (answered with nothing; the
    /// slowloris cases prove such connections are dropped when the attempt ends).
    status: Option<u16>,
    /// Measure VmRSS around this case.
    heavy: bool,
}

fn case(
    name: impl Into<String>,
    status: Option<u16>,
    build: impl Fn(u16) -> Vec<u8> + 'static,
) -> Case {
    Case {
        name: name.into(),
        build: Box::new(build),
        status,
        heavy: false,
    }
}

fn heavy(mut c: Case) -> Case {
    c.heavy = true;
    c
}

fn table() -> Vec<Case> {
    let q = |query: String| move |p: u16| get(p, &format!("/callback?{query}"));
    let mut t = vec![
        // --- state
        case(
            "wrong state",
            Some(400),
            q(format!("code={MARK}&state=wrong-{MARK}")),
        ),
        case("missing state", Some(400), q(format!("code={MARK}"))),
        case("empty state", Some(400), q(format!("code={MARK}&state="))),
        case("no query at all", Some(400), |p| get(p, "/callback")),
        case(
            "state one char short",
            Some(400),
            q(format!("code={MARK}&state={}", &STATE[..STATE.len() - 1])),
        ),
        case(
            "state one char long",
            Some(400),
            q(format!("code={MARK}&state={STATE}x")),
        ),
        case(
            "state in other case",
            Some(400),
            q(format!("code={MARK}&state={}", STATE.to_ascii_uppercase())),
        ),
        case(
            "duplicated state (right twice)",
            Some(400),
            q(format!("code={MARK}&state={STATE}&state={STATE}")),
        ),
        case(
            "duplicated state (wrong then right)",
            Some(400),
            q(format!("code={MARK}&state=wrong&state={STATE}")),
        ),
        case(
            "duplicated state (right then empty)",
            Some(400),
            q(format!("code={MARK}&state={STATE}&state=")),
        ),
        case(
            "code and error together, wrong state",
            Some(400),
            q(format!("code={MARK}&error=access_denied&state=wrong")),
        ),
        case(
            "error without state",
            Some(400),
            q(format!("error=access_denied&error_description={MARK}")),
        ),
        // --- percent-encoding tricks
        case(
            "%73tate= key with a wrong value",
            Some(400),
            q(format!("code={MARK}&%73tate=wrong")),
        ),
        case(
            "%73tate= next to the right state (duplicate after decoding)",
            Some(400),
            q(format!("code={MARK}&%73tate=wrong&state={STATE}")),
        ),
        case(
            "state double-encoded",
            Some(400),
            q(format!("code={MARK}&state={}", double_encode(STATE))),
        ),
        case(
            "state key double-encoded",
            Some(400),
            q(format!("code={MARK}&{}={STATE}", double_encode("state"))),
        ),
        case(
            "state with a NUL byte (%00)",
            Some(400),
            q(format!("code={MARK}&state={STATE}%00")),
        ),
        case(
            "state key with a NUL byte",
            Some(400),
            q(format!("code={MARK}&state%00={STATE}")),
        ),
        case(
            "state with invalid UTF-8 (%FF)",
            Some(400),
            q(format!("code={MARK}&state={STATE}%FF")),
        ),
        case(
            "state key with invalid UTF-8",
            Some(400),
            q(format!("code={MARK}&%FFstate={STATE}")),
        ),
        case(
            "state with an overlong '/' (%C0%AF)",
            Some(400),
            q(format!("code={MARK}&state={STATE}%C0%AF")),
        ),
        case(
            "overlong encodings everywhere",
            Some(400),
            q(format!("code=%C0%AF{MARK}&state=%C0%AE%C0%AE%C0%AF")),
        ),
        case(
            "state with a leading '+' (space)",
            Some(400),
            q(format!("code={MARK}&state=+{STATE}")),
        ),
        case(
            "state after ';' (not a separator)",
            Some(400),
            q(format!("code={MARK}&state=wrong;state={STATE}")),
        ),
        case(
            "state[] array syntax",
            Some(400),
            q(format!("code={MARK}&state[]={STATE}")),
        ),
        case(
            "state in the fragment position (%23)",
            Some(400),
            q(format!("code={MARK}%23state={STATE}")),
        ),
        // --- absurd parameters
        // hyper refuses a request target over 64 KiB with 414 before the app sees it; below
        // that, the whole query reaches the parser.
        case("10,000 parameters (40 KB query)", Some(400), |p| {
            let mut q = String::from("state=wrong");
            for _ in 0..10_000 {
                q.push_str("&a=1");
            }
            get(p, &format!("/callback?{q}&code={MARK}"))
        }),
        case("10,000 parameters (170 KB query)", Some(414), |p| {
            let mut q = String::from("state=wrong");
            for i in 0..10_000 {
                q.push_str(&format!("&p{i}={MARK}"));
            }
            get(p, &format!("/callback?{q}"))
        }),
        case("10,000 code parameters", Some(400), |p| {
            let q = "code=&".repeat(10_000);
            get(p, &format!("/callback?state=wrong&{q}code={MARK}"))
        }),
        case(
            "8,000 state parameters incl. the right one",
            Some(400),
            |p| {
                let q = "state=&".repeat(8_000);
                get(p, &format!("/callback?code={MARK}&{q}state={STATE}"))
            },
        ),
        case("60 KB code value", Some(400), |p| {
            get(
                p,
                &format!("/callback?state=wrong&code={MARK}{}", "A".repeat(60 * 1024)),
            )
        }),
        case("100 KB code value", Some(414), |p| {
            get(
                p,
                &format!(
                    "/callback?state=wrong&code={MARK}{}",
                    "A".repeat(100 * 1024)
                ),
            )
        }),
        case(
            "60 KB state value starting with the right state",
            Some(400),
            |p| {
                get(
                    p,
                    &format!(
                        "/callback?code={MARK}&state={STATE}{}",
                        "A".repeat(60 * 1024)
                    ),
                )
            },
        ),
        case("100 KB state value", Some(414), |p| {
            get(
                p,
                &format!(
                    "/callback?code={MARK}&state={STATE}{}",
                    "A".repeat(100 * 1024)
                ),
            )
        }),
        case("only separators", Some(400), |p| {
            get(p, &format!("/callback?{}", "&".repeat(5000)))
        }),
        case("only '=' signs", Some(400), |p| {
            get(p, &format!("/callback?{}", "=".repeat(5000)))
        }),
        heavy(case("1 MB request line", None, |p| {
            get(
                p,
                &format!(
                    "/callback?state=wrong&code={MARK}{}",
                    "B".repeat(1024 * 1024)
                ),
            )
        })),
        heavy(case("1 MB of headers (1,024 headers of 1 KB)", None, |p| {
            let mut h = String::new();
            for i in 0..1024 {
                h.push_str(&format!("X-Pad-{i}: {MARK}{}\r\n", "C".repeat(1000)));
            }
            request("GET", p, &format!("/callback?state=wrong&code={MARK}"), &h)
        })),
        heavy(case("one 1 MB header", None, |p| {
            let h = format!("Cookie: {MARK}={}\r\n", "D".repeat(1024 * 1024));
            request("GET", p, &format!("/callback?state=wrong&code={MARK}"), &h)
        })),
        // --- Host (DNS rebinding) and protocol versions
        case(
            "wrong Host (DNS rebinding) with the right state",
            Some(404),
            move |p| {
                format!("GET /callback?code={MARK}&state={STATE} HTTP/1.1\r\nHost: evil-{MARK}.example:{p}\r\nConnection: close\r\n\r\n").into_bytes()
            },
        ),
        case("Host localhost instead of 127.0.0.1", Some(404), move |p| {
            format!("GET /callback?code={MARK}&state={STATE} HTTP/1.1\r\nHost: localhost:{p}\r\nConnection: close\r\n\r\n").into_bytes()
        }),
        case("Host without the port", Some(404), |_| {
            format!("GET /callback?code={MARK}&state={STATE} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n").into_bytes()
        }),
        case("two Host headers (right first)", Some(404), move |p| {
            format!("GET /callback?code={MARK}&state={STATE} HTTP/1.1\r\nHost: 127.0.0.1:{p}\r\nHost: evil-{MARK}.example\r\nConnection: close\r\n\r\n").into_bytes()
        }),
        case(
            "absolute-form target naming another host",
            Some(404),
            move |p| {
                format!("GET http://evil-{MARK}.example/callback?code={MARK}&state={STATE} HTTP/1.1\r\nHost: 127.0.0.1:{p}\r\nConnection: close\r\n\r\n").into_bytes()
            },
        ),
        case("HTTP/1.0 without Host, right state", Some(404), |_| {
            format!("GET /callback?code={MARK}&state={STATE} HTTP/1.0\r\n\r\n").into_bytes()
        }),
        case("HTTP/1.1 without Host, right state", None, |_| {
            format!("GET /callback?code={MARK}&state={STATE} HTTP/1.1\r\nConnection: close\r\n\r\n")
                .into_bytes()
        }),
        case(
            // hyper refuses a request line without a version at once (hyper-util's auto
            // builder under axum used to sit on it until the connection's lifetime ran out).
            "HTTP/0.9 style request line (no version)",
            Some(400),
            |_| format!("GET /callback?code={MARK}&state={STATE}\r\n").into_bytes(),
        ),
        case(
            "prefetch (Sec-Purpose) with the right state",
            Some(404),
            |p| {
                request(
                    "GET",
                    p,
                    &format!("/callback?code={MARK}&state={STATE}"),
                    "Sec-Purpose: prefetch\r\n",
                )
            },
        ),
        // --- non-HTTP bytes
        case("TLS ClientHello", None, |_| tls_client_hello()),
        case("64 KB of random bytes", None, |_| {
            garbage(64 * 1024, 0x9E37_79B9_7F4A_7C15)
        }),
        case("HTTP/2 preface", None, |_| {
            b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".to_vec()
        }),
        case("NUL bytes in the request line", None, |p| {
            let mut r = get(p, &format!("/callback?state=wrong&code={MARK}"));
            r[5] = 0;
            r
        }),
        case("bare LF line endings", None, move |p| {
            format!("GET /callback?code={MARK}&state=wrong HTTP/1.1\nHost: 127.0.0.1:{p}\nConnection: close\n\n").into_bytes()
        }),
        case("connect and close at once", None, |_| Vec::new()),
        case("a single space", None, |_| b" ".to_vec()),
    ];

    // --- every method on /callback, with the RIGHT state: only GET is the redirect.
    for m in ["HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE"] {
        t.push(case(
            format!("{m} /callback with the right state"),
            Some(404),
            move |p| {
                let body = format!("code={MARK}&state={STATE}");
                request(
                    m,
                    p,
                    &format!("/callback?code={MARK}&state={STATE}"),
                    &format!(
                        "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n",
                        body.len()
                    ),
                )
                .into_iter()
                .chain(body.into_bytes())
                .collect()
            },
        ));
    }
    t.push(case(
        "GET /callback with a wrong state",
        Some(400),
        q(format!("code={MARK}&state=x")),
    ));
    t.push(case(
        "CONNECT to the listener's authority",
        None,
        move |p| {
            format!("CONNECT 127.0.0.1:{p} HTTP/1.1\r\nHost: 127.0.0.1:{p}\r\nConnection: close\r\n\r\n").into_bytes()
        },
    ));
    t.push(case("CONNECT with /callback as target", None, move |p| {
        request(
            "CONNECT",
            p,
            &format!("/callback?code={MARK}&state={STATE}"),
            "",
        )
    }));
    t.push(case("made-up method", None, move |p| {
        request(
            "KAKAO",
            p,
            &format!("/callback?code={MARK}&state={STATE}"),
            "",
        )
    }));

    // --- other paths, with the right state and a code
    for path in [
        "/",
        "/callback/",
        "/CALLBACK",
        "/Callback",
        "/callback;x",
        "//callback",
        "/callback/../callback",
        "/./callback",
        "/%63allback",
        "/callback%2F",
        "/done",
        "/favicon.ico",
        "/logout",
        "/callback.html",
    ] {
        t.push(case(format!("path {path}"), Some(404), move |p| {
            get(p, &format!("{path}?code={MARK}&state={STATE}"))
        }));
    }
    t.push(case("asterisk-form target *", None, move |p| get(p, "*")));
    t.push(case("GET /done before success", Some(404), |p| {
        get(p, "/done")
    }));
    t
}

async fn run_case(c: &Case) {
    let n = CASES.fetch_add(1, Ordering::SeqCst) + 1;
    let started = Instant::now();
    let rss_before = c.heavy.then(rss_bytes);
    let attempt = Attempt::start();
    // An incomplete request is held by design; 1 s shows it got no answer.
    let wait = Duration::from_secs(if c.status == Some(0) { 1 } else { 3 });
    let reply = exchange(attempt.port, (c.build)(attempt.port), wait).await;
    reply.assert_harmless(&c.name);
    match c.status {
        Some(0) => assert!(
            reply.bytes.is_empty(),
            "{}: expected no answer to an incomplete request, got {:?}",
            c.name,
            String::from_utf8_lossy(&reply.bytes)
        ),
        Some(want) => assert_eq!(
            reply.status(),
            Some(want),
            "{}: {}",
            c.name,
            String::from_utf8_lossy(&reply.bytes)
        ),
        None => assert!(
            reply.status().is_some() || reply.closed,
            "{}: neither answered nor closed within 3 s",
            c.name
        ),
    }
    attempt.assert_still_waiting(&c.name).await;
    attempt.finish_with_real_callback(&c.name).await;
    let took = started.elapsed();
    assert!(took < CASE_BOUND, "{}: took {took:?}", c.name);
    let mem = match rss_before {
        Some(before) => {
            let grew = rss_bytes().saturating_sub(before);
            assert!(grew < RSS_BOUND, "{}: RSS grew by {grew} bytes", c.name);
            format!(", RSS +{} KiB", grew / 1024)
        }
        None => String::new(),
    };
    let answer = match (reply.status(), reply.closed) {
        (Some(s), _) => s.to_string(),
        (None, true) => "closed".to_owned(),
        (None, false) => "no answer, held".to_owned(),
    };
    println!(
        "hostile case {n}: {}: ok ({answer}, {} ms{mem})",
        c.name,
        took.as_millis()
    );
}

// ------------------------------------------------------------------ the cases that need more

/// The callback with the right state arrived; the same URL again, and another code, get 409 and
/// change nothing: the app got exactly the first code.
async fn replay_and_second_callback_after_success() {
    for (name, second_code) in [
        ("replayed callback after success", "first-code"),
        ("a second callback after success", "second-code"),
    ] {
        let n = CASES.fetch_add(1, Ordering::SeqCst) + 1;
        let started = Instant::now();
        let attempt = Attempt::start();
        let port = attempt.port;
        let res = client()
            .get(attempt.url(&format!("/callback?code=first-code&state={STATE}")))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 302, "{name}");
        attempt.expect_code(name, "first-code").await;
        // The listener lingers for /done: the replay reaches it and must be refused.
        let reply = exchange(
            port,
            get(
                port,
                &format!("/callback?code={second_code}{MARK}&state={STATE}"),
            ),
            Duration::from_secs(3),
        )
        .await;
        reply.assert_harmless(name);
        assert_eq!(reply.status(), Some(409), "{name}");
        let text = String::from_utf8_lossy(&reply.bytes);
        assert!(text.contains("already used"), "{name}: {text}");
        // A /done on a rebinding Host after success is still refused.
        let reply = exchange(
            port,
            format!("GET /done HTTP/1.1\r\nHost: evil-{MARK}.example\r\nConnection: close\r\n\r\n")
                .into_bytes(),
            Duration::from_secs(3),
        )
        .await;
        reply.assert_harmless(name);
        assert_eq!(reply.status(), Some(404), "{name}");
        assert!(started.elapsed() < CASE_BOUND, "{name}");
        println!("hostile case {n}: {name}: ok (409, exactly one code delivered)");
    }
}

/// Kakao's own redirect (right state) carrying both `code` and `error`: the error wins, so the
/// app gets `Denied` and never a code to exchange. The attempt ends there (that redirect is
/// the real one; an attacker without the state gets 400, see the table).
async fn code_and_error_with_the_right_state() {
    let name = "code and error together, right state";
    let n = CASES.fetch_add(1, Ordering::SeqCst) + 1;
    let attempt = Attempt::start();
    let reply = exchange(
        attempt.port,
        get(
            attempt.port,
            &format!(
                "/callback?code={MARK}&error=access_denied&error_description={MARK}&state={STATE}"
            ),
        ),
        Duration::from_secs(3),
    )
    .await;
    let text = String::from_utf8_lossy(&reply.bytes).into_owned();
    assert_eq!(reply.status(), Some(200), "{name}: {text}");
    for w in SUCCESS_WORDS {
        assert!(!text.contains(w), "{name}");
    }
    assert!(!text.contains(MARK) && !text.contains(STATE), "{name}");
    let outcome = tokio::time::timeout(Duration::from_secs(5), attempt.task)
        .await
        .unwrap()
        .unwrap();
    match outcome {
        Ok(CallbackOutcome::Denied { error, .. }) => assert_eq!(error, "access_denied"),
        other => panic!("{name}: {other:?}"),
    }
    // A fresh attempt (what the app starts next) works.
    let attempt = Attempt::start();
    attempt.finish_with_real_callback(name).await;
    println!("hostile case {n}: {name}: ok (Denied, no code; the next attempt succeeds)");
}

/// Slowloris: requests that never finish, while the real callback succeeds in parallel; once
/// the attempt is over, the server must drop them within a bound.
async fn slowloris() {
    for (name, mode) in [
        ("slowloris: headers byte by byte, never the final CRLF", 0),
        (
            "slowloris: complete head minus the final CRLF, then silence",
            1,
        ),
        ("slowloris: POST whose 1 MB body never comes", 2),
        ("slowloris: 50 connections dribbling at once", 3),
    ] {
        let n = CASES.fetch_add(1, Ordering::SeqCst) + 1;
        let started = Instant::now();
        let attempt = Attempt::start();
        let port = attempt.port;
        let conns = if mode == 3 { 50 } else { 1 };
        let mut slow = Vec::new();
        for _ in 0..conns {
            let stream = TcpStream::connect((Ipv4Addr::LOCALHOST, port))
                .await
                .unwrap();
            let (mut rd, mut wr) = stream.into_split();
            let head = format!(
                "GET /callback?state=wrong&code={MARK} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nX-Slow: {MARK}\r\n"
            );
            let writer = tokio::spawn(async move {
                match mode {
                    1 => {
                        let _ = wr.write_all(head.as_bytes()).await;
                    }
                    2 => {
                        let _ = wr
                            .write_all(
                                format!(
                                    "POST /callback?state=wrong HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Length: 1048576\r\n\r\n"
                                )
                                .as_bytes(),
                            )
                            .await;
                    }
                    _ => {
                        // One byte every 20 ms, forever (until the server closes).
                        for b in head.bytes().chain(std::iter::repeat(b'a')) {
                            if wr.write_all(&[b]).await.is_err() {
                                break;
                            }
                            tokio::time::sleep(Duration::from_millis(20)).await;
                        }
                    }
                }
                // Keep the write half open: the request is "still coming".
                tokio::time::sleep(Duration::from_secs(3600)).await;
                drop(wr);
            });
            let reader = tokio::spawn(async move {
                let mut got = Vec::new();
                let mut buf = [0u8; 4096];
                loop {
                    match rd.read(&mut buf).await {
                        Ok(0) | Err(_) => break,
                        Ok(n) => got.extend_from_slice(&buf[..n]),
                    }
                }
                (got, Instant::now())
            });
            slow.push((writer, reader));
        }
        // The slow requests are in flight; the person's browser comes back meanwhile.
        tokio::time::sleep(Duration::from_millis(300)).await;
        attempt.assert_still_waiting(name).await;
        let t_real = Instant::now();
        let res = client()
            .get(format!(
                "http://127.0.0.1:{port}/callback?code=real-slow&state={STATE}"
            ))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 302, "{name}");
        let real_ms = t_real.elapsed().as_millis();
        attempt.expect_code(name, "real-slow").await;
        // The browser loads /done: the listener shuts down, and must drop the slow ones too.
        let done = client()
            .get(format!("http://127.0.0.1:{port}/done"))
            .send()
            .await
            .unwrap();
        assert_eq!(done.status(), 200, "{name}");
        let ended = Instant::now();
        for (writer, reader) in slow {
            let (got, closed_at) = tokio::time::timeout(Duration::from_secs(5), reader)
                .await
                .unwrap_or_else(|_| {
                    panic!("{name}: the server still holds the slow connection 5 s after the attempt ended")
                })
                .unwrap();
            writer.abort();
            let text = String::from_utf8_lossy(&got);
            assert!(
                !text.contains(MARK) && !text.contains(STATE),
                "{name}: {text}"
            );
            for w in SUCCESS_WORDS {
                assert!(!text.contains(w), "{name}");
            }
            assert!(
                closed_at.duration_since(ended) < Duration::from_secs(5),
                "{name}"
            );
        }
        let took = started.elapsed();
        assert!(took < CASE_BOUND, "{name}: took {took:?}");
        println!(
            "hostile case {n}: {name}: ok (real callback answered in {real_ms} ms meanwhile; slow connection(s) closed {} ms after the attempt)",
            ended.elapsed().as_millis()
        );
    }
}

/// (soft, hard) "Max open files" of this process.
fn nofile_limits() -> (u64, u64) {
    let limits = std::fs::read_to_string("/proc/self/limits").expect("/proc/self/limits");
    let line = limits
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .expect("Max open files line");
    let mut n = line.split_whitespace().filter_map(|w| {
        w.parse::<u64>()
            .ok()
            .or((w == "unlimited").then_some(u64::MAX))
    });
    (n.next().unwrap(), n.next().unwrap())
}

/// 500 held connections take 1,000 descriptors in this one process (client and server ends);
/// a common soft limit is 1,024. Raise the soft limit to the hard one with `prlimit`
/// (util-linux) when it's too low.
fn ensure_descriptors(need: u64) {
    let (soft, hard) = nofile_limits();
    if soft < need {
        let new_soft = hard.min(65_536);
        let _ = std::process::Command::new("prlimit")
            .arg(format!("--pid={}", std::process::id()))
            .arg(format!("--nofile={new_soft}:{hard}"))
            .status();
    }
    let (soft, _) = nofile_limits();
    assert!(
        soft >= need,
        "the 500-connection case needs {need} open files; the limit is {soft} and could not be \
         raised (prlimit)"
    );
}

/// 500 connections opened and held (half of them with a partial request), then the real
/// callback; resident memory measured around it.
async fn five_hundred_connections() {
    let name = "500 concurrent connections, held open";
    let n = CASES.fetch_add(1, Ordering::SeqCst) + 1;
    ensure_descriptors(1_200);
    let started = Instant::now();
    let before = rss_bytes();
    let attempt = Attempt::start();
    let port = attempt.port;
    let mut held = Vec::with_capacity(500);
    for i in 0..500 {
        let mut s = TcpStream::connect((Ipv4Addr::LOCALHOST, port))
            .await
            .unwrap_or_else(|e| panic!("{name}: connection {i}: {e}"));
        if i % 2 == 0 {
            s.write_all(
                format!(
                    "GET /callback?state=wrong&code={MARK} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                )
                .as_bytes(),
            )
            .await
            .unwrap();
        }
        held.push(s);
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    attempt.assert_still_waiting(name).await;
    let mid = rss_bytes();
    attempt.finish_with_real_callback(name).await;
    let grew = mid
        .saturating_sub(before)
        .max(rss_bytes().saturating_sub(before));
    assert!(grew < RSS_BOUND, "{name}: RSS grew by {grew} bytes");
    // None of the held connections got a success page or the state.
    for s in &mut held {
        let mut buf = [0u8; 4096];
        if let Ok(Ok(n)) = tokio::time::timeout(Duration::from_millis(1), s.read(&mut buf)).await {
            let text = String::from_utf8_lossy(&buf[..n]);
            assert!(!text.contains(MARK) && !text.contains(STATE), "{name}");
        }
    }
    drop(held);
    let took = started.elapsed();
    assert!(took < CASE_BOUND, "{name}: took {took:?}");
    println!(
        "hostile case {n}: {name}: ok ({} ms, RSS +{} KiB)",
        took.as_millis(),
        grew / 1024
    );
}

/// This machine's own non-loopback IPv4 address, if it has one: the source address of a route
/// to a documentation address (no packet is sent), else the first global one `ip` lists.
fn non_loopback_ipv4() -> Option<Ipv4Addr> {
    let via_route = UdpSocket::bind((Ipv4Addr::UNSPECIFIED, 0))
        .and_then(|s| {
            s.connect((Ipv4Addr::new(192, 0, 2, 1), 9))?;
            s.local_addr()
        })
        .ok()
        .and_then(|a| match a.ip() {
            IpAddr::V4(ip) if !ip.is_loopback() && !ip.is_unspecified() => Some(ip),
            _ => None,
        });
    via_route.or_else(|| {
        let out = std::process::Command::new("ip")
            .args(["-4", "-o", "addr"])
            .output()
            .ok()?;
        String::from_utf8_lossy(&out.stdout)
            .split_whitespace()
            .filter_map(|w| w.split('/').next()?.parse::<Ipv4Addr>().ok())
            .find(|ip| !ip.is_loopback())
    })
}

/// Connections to the listener's port on the machine's other addresses must be refused.
async fn other_addresses_are_refused() {
    let n = CASES.fetch_add(1, Ordering::SeqCst) + 1;
    let name = "connection to the machine's non-loopback address";
    let attempt = Attempt::start();
    let port = attempt.port;
    let detail = match non_loopback_ipv4() {
        Some(ip) => {
            let r = TcpStream::connect(SocketAddr::new(IpAddr::V4(ip), port)).await;
            let e = r.expect_err("the listener must not be reachable on a non-loopback address");
            assert_eq!(
                e.kind(),
                std::io::ErrorKind::ConnectionRefused,
                "{name}: {ip}: {e}"
            );
            format!("{ip}:{port} refused")
        }
        None => {
            // No other address to try: the bound address is the whole proof.
            println!("hostile case {n}: note: this machine has no non-loopback IPv4 address");
            "no non-loopback address on this machine; bound to 127.0.0.1 only".to_owned()
        }
    };
    attempt.assert_still_waiting(name).await;
    attempt.finish_with_real_callback(name).await;
    println!("hostile case {n}: {name}: ok ({detail})");

    let n = CASES.fetch_add(1, Ordering::SeqCst) + 1;
    let name = "connection to [::1] (IPv6 loopback)";
    let attempt = Attempt::start();
    let r = TcpStream::connect(SocketAddr::new(
        IpAddr::V6(Ipv6Addr::LOCALHOST),
        attempt.port,
    ))
    .await;
    assert!(
        r.is_err(),
        "{name}: the listener must be IPv4 127.0.0.1 only"
    );
    attempt.assert_still_waiting(name).await;
    attempt.finish_with_real_callback(name).await;
    println!("hostile case {n}: {name}: ok (refused)");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_loopback() {
    let started = Instant::now();
    let table = table();
    for c in &table {
        tokio::time::timeout(CASE_BOUND, run_case(c))
            .await
            .unwrap_or_else(|_| panic!("{}: did not finish within {CASE_BOUND:?}", c.name));
    }
    for (name, fut) in [
        (
            "replay",
            Box::pin(replay_and_second_callback_after_success())
                as std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>,
        ),
        (
            "code+error",
            Box::pin(code_and_error_with_the_right_state()),
        ),
        ("slowloris", Box::pin(slowloris())),
        ("500 connections", Box::pin(five_hundred_connections())),
        ("other addresses", Box::pin(other_addresses_are_refused())),
    ] {
        tokio::time::timeout(CASE_BOUND * 4, fut)
            .await
            .unwrap_or_else(|_| panic!("{name}: did not finish in time"));
    }
    let total = CASES.load(Ordering::SeqCst);
    // The table, then 2 after-success, 1 code+error, 4 slowloris, 1 x 500 connections and 2
    // other-address cases: every case ran and passed (a failing one panics above).
    assert_eq!(total, table.len() + 10, "cases run");
    println!(
        "hostile loopback: {total} cases, {total} ok, 0 failed, in {:.1} s",
        started.elapsed().as_secs_f64()
    );
}

// ------------------------------------------------------------------ end to end, with the simulator

mod session_env {
    use kakao_signin_core::session::Session;
    use kakao_signin_core::signin::BrowserOpener;
    use kakao_signin_core::vault::{MemoryStore, Vault};
    use kakao_signin_test_support::{deps_for, start_sim, Consent, Opener, Script, SimBrowser};
    use kakao_sim::Sim;
    use std::sync::Arc;
    use std::time::Duration;

    pub struct Env {
        pub sim: Arc<Sim>,
        pub session: Arc<Session>,
        pub browser: Arc<SimBrowser>,
        pub port: u16,
        pub data_dir: std::path::PathBuf,
    }

    impl Env {
        /// The session with the simulator, an in-memory keychain and a browser that opens the
        /// authorize URL but does nothing with it until [`Env::person_signs_in`].
        pub async fn new() -> Env {
            let port = super::free_port();
            let sim = start_sim(port).await;
            let browser = SimBrowser::new(None);
            let data_dir =
                std::env::temp_dir().join(format!("ks-hostile-{}-{port}", std::process::id()));
            let mut deps = deps_for(
                &sim,
                &sim.base_url(),
                Vault::new(Arc::new(MemoryStore::new())),
                &data_dir,
                &browser,
                vec![port],
            );
            deps.signin_timeout = Duration::from_secs(60);
            let session = Session::new(deps, Arc::new(|_| {}));
            Env {
                sim,
                session,
                browser,
                port,
                data_dir,
            }
        }

        /// The person finally goes through Kakao's pages in the browser that was opened.
        pub fn person_signs_in(&self) {
            let url = self
                .browser
                .opened()
                .pop()
                .expect("the authorize URL was opened");
            self.browser.set_script(Some(Script {
                login: "full@kakao.test",
                consent: Consent::All,
            }));
            Opener(self.browser.clone()).open(&url).unwrap();
        }
    }
}

/// The whole app path: the session is waiting for Kakao's redirect when a barrage of hostile
/// requests (the query, method, path, Host and raw-bytes cases of the table) hits its loopback.
/// The simulator counts token requests: there must be no `authorization_code` grant until the
/// person's real redirect, then exactly one, and the person is signed in.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn session_against_the_simulator_makes_no_token_request() {
    use kakao_signin_core::session::view::Status;
    let env = session_env::Env::new().await;
    let v = env.session.sign_in(None).await;
    assert_eq!(v.status, Status::Waiting, "{v:#?}");
    let port = env.port;
    let table = table();
    let mut sent = 0;
    for c in table.iter().filter(|c| !c.heavy) {
        let reply = exchange(port, (c.build)(port), Duration::from_secs(3)).await;
        reply.assert_harmless(&c.name);
        sent += 1;
        let st = env.sim.stats();
        assert_eq!(
            st.token_requests.get("authorization_code"),
            None,
            "{}: a token request was made: {:?}",
            c.name,
            st.token_requests
        );
        assert_eq!(
            env.session.view().status,
            Status::Waiting,
            "{}: the session stopped waiting",
            c.name
        );
    }
    assert!(sent > 50, "only {sent} hostile requests were sent");
    env.person_signs_in();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let v = env.session.view();
        if v.status == Status::SignedIn && v.profile.is_some() {
            break;
        }
        assert!(Instant::now() < deadline, "not signed in: {v:#?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let st = env.sim.stats();
    assert_eq!(st.token_requests.get("authorization_code"), Some(&1));
    let page = env.browser.last_page.lock().unwrap().clone();
    assert!(page.contains("Sign-in complete"), "{page}");
    let _ = std::fs::remove_dir_all(&env.data_dir);
    println!(
        "hostile session: {sent} hostile requests while waiting: 0 token requests; then the real sign-in: 1 token request, signed in"
    );
}
