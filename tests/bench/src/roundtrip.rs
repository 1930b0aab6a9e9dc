//! Round trips: the app's window against the simulator with the same latency injected on every
//! endpoint (its latency fault, the profile pictures included), at RTT 0 and e.g. 50 ms.
//!
//! - sign-in: the scripted browser sends Kakao's redirect to the app's listener → the page says
//!   it has painted the profile (`bench-mark profile-painted`, in the task after the animation
//!   frame that drew it);
//! - restore: process start → the restored profile painted; and from the restore's first
//!   request (the keychain has been read by then) → painted;
//! - click: an XTest click on the Kakao Login button (found by its #FEE500 pixels) → the browser
//!   process started (it writes the URL into a FIFO the bench reads).
//!
//! The simulator's request log (each request's start and end) gives the sequential round trips
//! on each path: the longest chain of requests each of which started after the previous one
//! ended, among those that ended before the profile was painted.

use crate::{Line, Rig};
use kakao_signin_core::signin::BrowserOpener;
use kakao_signin_core::vault::Vault;
use kakao_signin_test_support::{xscreen, Consent, Opener, Script, SimBrowser};
use kakao_sim::{Endpoint, Fault, LoggedRequest, Sim};
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

/// One sign-in through the window.
#[derive(Default, Clone)]
pub struct SignIn {
    pub click_to_browser: Option<Duration>,
    pub callback_to_painted: Option<Duration>,
    /// The core's share: callback → `profile-ready` (the session's view has the profile).
    pub callback_to_ready: Option<Duration>,
    /// Sequential round trips between the callback and the paint.
    pub round_trips: Option<usize>,
    /// The requests between the callback and the paint: path, start and end in ms after the
    /// callback.
    pub requests: Vec<(String, f64, f64)>,
    /// Where the time went, in ms after the callback: the last request's end, then the app's
    /// marks (`profile-ready` core, `profile-shown` page answered, `profile-painted`).
    pub stages: Vec<(String, f64)>,
    pub error: Option<String>,
}

/// One restore (app start with the tokens in the keychain).
#[derive(Default, Clone)]
pub struct Restore {
    pub start_to_painted: Option<Duration>,
    /// From the restore's first request (the keychain read is done) or the page loaded,
    /// whichever came later, to the paint.
    pub first_request_to_painted: Option<Duration>,
    /// The core's share: the restore's first request (keychain read) → `profile-ready`.
    pub first_request_to_ready: Option<Duration>,
    /// Sequential round trips among the requests that ended before the core had the profile.
    pub round_trips: Option<usize>,
    /// kapi requests that ended before the core had the profile.
    pub kapi_before_paint: Vec<String>,
    /// Where the time went, in ms after process start: the page loaded, the first and last
    /// request, then the app's marks.
    pub stages: Vec<(String, f64)>,
    pub error: Option<String>,
}

/// Everything measured at one RTT.
pub struct AtRtt {
    pub rtt_ms: u64,
    pub signin: Vec<SignIn>,
    pub restore: Vec<Restore>,
}

/// Runs `runs` sign-ins and `runs` restores at each RTT in `rtts` (milliseconds).
pub fn run(
    rt: &tokio::runtime::Runtime,
    rig: &Rig,
    app_bin: &Path,
    rtts: &[u64],
    runs: usize,
) -> Vec<AtRtt> {
    let fifo =
        std::env::temp_dir().join(format!("kakao-signin-bench-browser-{}", std::process::id()));
    let _ = std::fs::remove_file(&fifo);
    let made = std::ffi::CString::new(fifo.as_os_str().as_encoded_bytes())
        .ok()
        // SAFETY: a NUL-terminated path; mkfifo(3) touches nothing else.
        .is_some_and(|p| unsafe { libc::mkfifo(p.as_ptr(), 0o600) } == 0);
    let opened = rx_fifo(&fifo, made);
    let browser = {
        let _guard = rt.enter();
        SimBrowser::new(Some(Script {
            login: "full@kakao.test",
            consent: Consent::All,
        }))
    };
    let signin_service = format!("{}-signin", rig.service);
    let mut out = Vec::new();
    for &rtt in rtts {
        rig.sim.clear_faults();
        if rtt > 0 {
            for ep in Endpoint::ALL {
                rig.sim
                    .set_fault(ep, Fault::Latency(Duration::from_millis(rtt)));
            }
        }
        let mut at = AtRtt {
            rtt_ms: rtt,
            signin: Vec::new(),
            restore: Vec::new(),
        };
        for i in 0..runs {
            let r = restore_once(rig, app_bin);
            eprintln!(
                "bench: RTT {rtt} ms restore {}/{runs}: {}",
                i + 1,
                r.summary()
            );
            at.restore.push(r);
            std::thread::sleep(Duration::from_millis(500));
            let s = match &opened {
                Ok(rx) => signin_once(rt, rig, app_bin, &signin_service, &fifo, rx, &browser),
                Err(e) => SignIn {
                    error: Some(e.clone()),
                    ..SignIn::default()
                },
            };
            eprintln!(
                "bench: RTT {rtt} ms sign-in {}/{runs}: {}",
                i + 1,
                s.summary()
            );
            at.signin.push(s);
            rt.block_on(async {
                let _ = Vault::keyring(signin_service.clone()).clear().await;
            });
            std::thread::sleep(Duration::from_millis(500));
        }
        out.push(at);
    }
    rig.sim.clear_faults();
    let _ = std::fs::remove_file(&fifo);
    out
}

impl SignIn {
    fn summary(&self) -> String {
        format!(
            "click → browser {}, callback → painted {}, {} round trips; after the callback: {}{}",
            ms(self.click_to_browser),
            ms(self.callback_to_painted),
            self.round_trips.map_or("?".into(), |n| n.to_string()),
            stages(&self.stages),
            self.error
                .as_ref()
                .map(|e| format!(" — {e}"))
                .unwrap_or_default()
        )
    }
}

impl Restore {
    fn summary(&self) -> String {
        format!(
            "start → painted {}, first request → painted {}, {} round trips, kapi before paint {:?}; after start: {}{}",
            ms(self.start_to_painted),
            ms(self.first_request_to_painted),
            self.round_trips.map_or("?".into(), |n| n.to_string()),
            self.kapi_before_paint,
            stages(&self.stages),
            self.error
                .as_ref()
                .map(|e| format!(" — {e}"))
                .unwrap_or_default()
        )
    }
}

/// `name at ms` for each stage, in order.
fn stages(stages: &[(String, f64)]) -> String {
    stages
        .iter()
        .map(|(name, at)| format!("{name} {at:.0}"))
        .collect::<Vec<_>>()
        .join(", ")
}

pub fn ms(d: Option<Duration>) -> String {
    d.map(|d| format!("{:.1} ms", d.as_secs_f64() * 1000.0))
        .unwrap_or_else(|| "-".into())
}

/// The lines the "browser" writes into the FIFO (one URL each), with when they arrived.
fn rx_fifo(fifo: &Path, made: bool) -> Result<mpsc::Receiver<(String, Instant)>, String> {
    if !made {
        return Err(format!("could not make the FIFO {}", fifo.display()));
    }
    // Read and write, so the reader never sees an end of file between two browsers.
    let f = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(fifo)
        .map_err(|e| format!("{}: {e}", fifo.display()))?;
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(f).lines().map_while(Result::ok) {
            if tx.send((line, Instant::now())).is_err() {
                break;
            }
        }
    });
    Ok(rx)
}

/// The app, started in its own process group, its bench marks timed as they arrive.
struct App {
    child: Child,
    started: Instant,
    marks: Arc<Mutex<BTreeMap<String, Instant>>>,
    tail: Arc<Mutex<Vec<String>>>,
}

impl App {
    fn start(bin: &Path, env: &[(String, String)]) -> Result<App, String> {
        let mut cmd = Command::new(bin);
        cmd.envs(env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .process_group(0);
        let started = Instant::now();
        let mut child = cmd
            .spawn()
            .map_err(|e| format!("could not start {}: {e}", bin.display()))?;
        let marks = Arc::new(Mutex::new(BTreeMap::new()));
        let tail = Arc::new(Mutex::new(Vec::new()));
        let stderr = child.stderr.take().ok_or("no stderr")?;
        let (m, t) = (marks.clone(), tail.clone());
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let at = Instant::now();
                match crate::parse_line(line, at) {
                    Line::Mark(name, at) => {
                        m.lock().unwrap().entry(name).or_insert(at);
                    }
                    Line::Other(l) => {
                        let mut t = t.lock().unwrap();
                        t.push(l);
                        if t.len() > 8 {
                            t.remove(0);
                        }
                    }
                }
            }
        });
        Ok(App {
            child,
            started,
            marks,
            tail,
        })
    }

    /// Polls for `mark` (every 2 ms) until `timeout`.
    fn wait_mark(&mut self, mark: &str, timeout: Duration) -> Result<Instant, String> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(at) = self.marks.lock().unwrap().get(mark) {
                return Ok(*at);
            }
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                return Err(format!("the app exited; last lines: {}", self.tail()));
            }
            if Instant::now() > deadline {
                let seen: Vec<String> = self.marks.lock().unwrap().keys().cloned().collect();
                return Err(format!(
                    "no `{mark}` within {} s (marks seen: {seen:?}); last lines: {}",
                    timeout.as_secs(),
                    self.tail()
                ));
            }
            std::thread::sleep(Duration::from_millis(2));
        }
    }

    fn tail(&self) -> String {
        self.tail.lock().unwrap().join(" | ")
    }
}

impl Drop for App {
    fn drop(&mut self) {
        let root = self.child.id() as i32;
        let tree = crate::process_tree(root);
        // SAFETY: kill(2) on the processes this bench started.
        unsafe {
            libc::kill(-root, libc::SIGKILL);
            for p in &tree {
                libc::kill(*p, libc::SIGKILL);
            }
        }
        let _ = self.child.wait();
        let deadline = Instant::now() + Duration::from_secs(5);
        while tree
            .iter()
            .any(|p| Path::new(&format!("/proc/{p}")).exists())
            && Instant::now() < deadline
        {
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

fn restore_once(rig: &Rig, app_bin: &Path) -> Restore {
    let mut r = Restore::default();
    let before = rig.sim.request_log().len();
    let mut app = match App::start(app_bin, &rig.app_env()) {
        Ok(a) => a,
        Err(e) => {
            r.error = Some(e);
            return r;
        }
    };
    let painted = match app.wait_mark("profile-painted", Duration::from_secs(20)) {
        Ok(at) => at,
        Err(e) => {
            r.error = Some(e);
            return r;
        }
    };
    r.start_to_painted = Some(painted - app.started);
    let app_started = app.started;
    let marks = app.marks.lock().unwrap().clone();
    drop(app);
    // When the core had the profile to show; the page may still have been loading.
    let ready = marks.get("profile-ready").copied().unwrap_or(painted);
    let page = marks.get("first-paint").copied();
    let log = rig.sim.request_log();
    let reqs = timed(&rig.sim, &log[before.min(log.len())..]);
    let done: Vec<&Timed> = reqs.iter().filter(|t| t.end <= ready).collect();
    r.round_trips = Some(chain(&done));
    // From the keychain read done (the first request leaves) or the page loaded, whichever is
    // later: the part of the path the network and the app's own work decide.
    r.first_request_to_painted = reqs.iter().map(|t| t.start).min().map(|first| {
        let from = page.map_or(first, |p| p.max(first));
        painted.saturating_duration_since(from)
    });
    r.first_request_to_ready = reqs.iter().map(|t| t.start).min().and_then(|first| {
        marks
            .get("profile-ready")
            .map(|r| r.saturating_duration_since(first))
    });
    r.kapi_before_paint = done
        .iter()
        .filter(|t| t.kapi)
        .map(|t| t.path.clone())
        .collect();
    let rel = |i: Instant| i.saturating_duration_since(app_started).as_secs_f64() * 1000.0;
    let mut stages: Vec<(String, f64)> = Vec::new();
    if let Some(first) = reqs.iter().map(|t| t.start).min() {
        stages.push(("first request".into(), rel(first)));
    }
    if let Some(last) = done.iter().map(|t| t.end).max() {
        stages.push(("last request ended".into(), rel(last)));
    }
    stages.extend(marks.iter().map(|(m, at)| (m.clone(), rel(*at))));
    stages.sort_by(|a, b| a.1.total_cmp(&b.1));
    r.stages = stages;
    r
}

#[allow(clippy::too_many_arguments)]
fn signin_once(
    rt: &tokio::runtime::Runtime,
    rig: &Rig,
    app_bin: &Path,
    service: &str,
    fifo: &Path,
    opened: &mpsc::Receiver<(String, Instant)>,
    browser: &Arc<SimBrowser>,
) -> SignIn {
    let mut s = SignIn::default();
    rt.block_on(async {
        let _ = Vault::keyring(service.to_owned()).clear().await;
    });
    while opened.try_recv().is_ok() {}
    *browser.callback_sent_at.lock().unwrap() = None;
    let mut env = rig.app_env();
    for (k, v) in env.iter_mut() {
        match k.as_str() {
            "KAKAO_SIGNIN_KEYRING_SERVICE" => *v = service.to_owned(),
            // The browser: a shell that writes the URL (appended last, so `$1`) into the FIFO
            // (`$0`).
            "KAKAO_SIGNIN_BROWSER" => {
                *v = format!(
                    "/bin/sh -c 'printf \"%s\\n\" \"$1\" > \"$0\"' {}",
                    shell_quote(&fifo.display().to_string())
                )
            }
            _ => {}
        }
    }
    let mut app = match App::start(app_bin, &env) {
        Ok(a) => a,
        Err(e) => {
            s.error = Some(e);
            return s;
        }
    };
    if let Err(e) = app.wait_mark("first-paint", Duration::from_secs(20)) {
        s.error = Some(e);
        return s;
    }
    let clicked = match click_kakao_button(Duration::from_secs(10)) {
        Ok(at) => at,
        Err(e) => {
            s.error = Some(format!("click: {e}; last lines: {}", app.tail()));
            return s;
        }
    };
    let (url, started) = match opened.recv_timeout(Duration::from_secs(10)) {
        Ok(x) => x,
        Err(_) => {
            s.error = Some(format!(
                "no browser within 10 s of the click; last lines: {}",
                app.tail()
            ));
            return s;
        }
    };
    s.click_to_browser = Some(started.saturating_duration_since(clicked));
    let before = rig.sim.request_log().len();
    {
        let _guard = rt.enter();
        if let Err(e) = Opener(browser.clone()).open(url.trim()) {
            s.error = Some(format!("the scripted browser: {e}"));
            return s;
        }
    }
    let painted = match app.wait_mark("profile-painted", Duration::from_secs(30)) {
        Ok(at) => at,
        Err(e) => {
            s.error = Some(e);
            return s;
        }
    };
    let marks = app.marks.lock().unwrap().clone();
    let ready = marks.get("profile-ready").copied().unwrap_or(painted);
    drop(app);
    let Some(callback) = *browser.callback_sent_at.lock().unwrap() else {
        s.error = Some("the browser never sent the callback".into());
        return s;
    };
    s.callback_to_painted = Some(painted.saturating_duration_since(callback));
    s.callback_to_ready = marks
        .get("profile-ready")
        .map(|r| r.saturating_duration_since(callback));
    let log = rig.sim.request_log();
    let reqs = timed(&rig.sim, &log[before.min(log.len())..]);
    let path: Vec<&Timed> = reqs
        .iter()
        .filter(|t| t.start >= callback && t.end <= ready)
        .collect();
    s.round_trips = Some(chain(&path));
    let rel = |i: Instant| i.saturating_duration_since(callback).as_secs_f64() * 1000.0;
    s.requests = path
        .iter()
        .map(|t| (t.path.clone(), rel(t.start), rel(t.end)))
        .collect();
    if let Some(last) = path.iter().map(|t| t.end).max() {
        s.stages.push(("last request ended".into(), rel(last)));
    }
    s.stages.extend(
        marks
            .iter()
            .filter(|(_, at)| **at >= callback)
            .map(|(m, at)| (m.clone(), rel(*at))),
    );
    s.stages.sort_by(|a, b| a.1.total_cmp(&b.1));
    s
}

fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

struct Timed {
    path: String,
    kapi: bool,
    start: Instant,
    end: Instant,
}

/// The log's requests on this process's clock.
fn timed(sim: &Sim, log: &[LoggedRequest]) -> Vec<Timed> {
    let epoch = sim.log_epoch();
    log.iter()
        .map(|r| Timed {
            path: r.path.clone(),
            kapi: r.endpoint.is_some_and(Endpoint::is_kapi),
            start: epoch + Duration::from_micros(r.start_us),
            end: epoch + Duration::from_micros(r.end_us),
        })
        .collect()
}

/// The longest chain of requests each starting after the previous one ended: the round trips
/// that had to follow one another.
fn chain(reqs: &[&Timed]) -> usize {
    let mut sorted: Vec<&&Timed> = reqs.iter().collect();
    sorted.sort_by_key(|t| t.end);
    let mut best: Vec<usize> = Vec::with_capacity(sorted.len());
    for (i, t) in sorted.iter().enumerate() {
        let before = (0..i)
            .filter(|&j| sorted[j].end <= t.start)
            .map(|j| best[j])
            .max()
            .unwrap_or(0);
        best.push(before + 1);
    }
    best.into_iter().max().unwrap_or(0)
}

/// Kakao Login's container colour (#FEE500), give or take the rendering.
fn is_kakao_yellow(p: &[u8]) -> bool {
    p[0] >= 0xf0 && (0xd8..=0xf0).contains(&p[1]) && p[2] <= 0x30
}

/// Finds the Kakao Login button in the centred window by its colour (the widest run of #FEE500
/// rows: the small symbols above are narrower) and clicks it with XTest. Returns when the
/// button's release was sent.
fn click_kakao_button(timeout: Duration) -> Result<Instant, String> {
    let screen = xscreen::Screen::open()?;
    let (sw, sh) = screen.size();
    let (w, h) = (520u32, 760u32);
    let (x0, y0) = ((sw as i32 - w as i32) / 2, (sh as i32 - h as i32) / 2);
    let deadline = Instant::now() + timeout;
    let (cx, cy) = loop {
        let img = screen.capture(x0, y0, w, h)?;
        let mut rows = Vec::new();
        for (y, row) in img.data.chunks_exact(img.width as usize * 3).enumerate() {
            let xs: Vec<usize> = row
                .chunks_exact(3)
                .enumerate()
                .filter(|(_, p)| is_kakao_yellow(p))
                .map(|(x, _)| x)
                .collect();
            // The button spans most of the window; the hero and brand symbols are ≤ 64 px.
            if xs.len() > 150 {
                rows.push((y, xs[0], xs[xs.len() - 1]));
            }
        }
        if !rows.is_empty() {
            let y = (rows[0].0 + rows[rows.len() - 1].0) / 2;
            let x = (rows[0].1 + rows[0].2) / 2;
            break (x0 + x as i32, y0 + y as i32);
        }
        if Instant::now() > deadline {
            return Err("no Kakao Login button on screen".into());
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    xtest_click(cx, cy)
}

fn xtest_click(x: i32, y: i32) -> Result<Instant, String> {
    use x11_dl::xlib::Xlib;
    use x11_dl::xtest::Xf86vmode as XTest;
    let xlib = Xlib::open().map_err(|e| format!("libX11: {e}"))?;
    let xtst = XTest::open().map_err(|e| format!("libXtst: {e}"))?;
    // SAFETY: a display opened here, checked, used for these few requests and closed once.
    unsafe {
        let d = (xlib.XOpenDisplay)(std::ptr::null());
        if d.is_null() {
            return Err("cannot open the X display".into());
        }
        (xtst.XTestFakeMotionEvent)(d, -1, x, y, 0);
        (xlib.XSync)(d, 0);
        (xtst.XTestFakeButtonEvent)(d, 1, 1, 0);
        (xtst.XTestFakeButtonEvent)(d, 1, 0, 0);
        (xlib.XSync)(d, 0);
        let at = Instant::now();
        (xlib.XCloseDisplay)(d);
        Ok(at)
    }
}

/// The report's section: one row per path and RTT, with the target's verdict.
pub fn render(results: &[AtRtt], targets: &mut Vec<(String, Option<bool>, String)>) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "\n## Round trips: the window against the simulator with latency on every endpoint\n"
    );
    let _ = writeln!(
        out,
        "| RTT | path | median (min–max) | as round trips | sequential round trips (simulator log) | target | result |"
    );
    let _ = writeln!(out, "|---|---|---|---|---|---|---|");
    for at in results {
        let rtt = at.rtt_ms as f64;
        let mut row = |label: &str,
                       samples: Vec<f64>,
                       n: usize,
                       trips: Vec<usize>,
                       limit: Option<(f64, f64, &str)>| {
            let s = crate::stats(samples.clone());
            let trips_s = {
                let mut t = trips.clone();
                t.sort_unstable();
                t.dedup();
                t.iter()
                    .map(usize::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            let as_rtt = s.map_or("—".into(), |(m, _, _)| {
                if rtt > 0.0 {
                    let k = (m / rtt).floor();
                    format!("{k:.0} RTT + {:.1} ms", m - k * rtt)
                } else {
                    format!("{m:.1} ms at RTT 0")
                }
            });
            let pass = match (limit, s) {
                (Some((k, rest, _)), Some((m, _, _))) => Some(m <= k * rtt + rest),
                (Some(_), None) => None,
                _ => None,
            };
            let target = limit.map_or("—".to_owned(), |(_, _, t)| t.to_owned());
            let _ = writeln!(
                out,
                "| {} ms | {label} | {} | {as_rtt} | {} | {target} | {} |",
                at.rtt_ms,
                crate::fmt_stats(s, samples.len(), n, "ms"),
                if trips_s.is_empty() {
                    "—".into()
                } else {
                    trips_s
                },
                if limit.is_some() {
                    crate::verdict(pass)
                } else {
                    "—"
                }
            );
            if let Some((_, _, t)) = limit {
                targets.push((
                    format!("{label} at RTT {} ms: {t}", at.rtt_ms),
                    pass,
                    s.map(|(m, _, _)| format!("{m:.1} ms")).unwrap_or_default(),
                ));
            }
        };
        let n = at.signin.len();
        row(
            "sign-in: callback at the listener → profile painted",
            at.signin
                .iter()
                .filter_map(|s| s.callback_to_painted)
                .map(|d| d.as_secs_f64() * 1000.0)
                .collect(),
            n,
            at.signin.iter().filter_map(|s| s.round_trips).collect(),
            Some((2.0, 40.0, "≤ 2 RTT + 40 ms")),
        );
        row(
            "sign-in, the core's share: callback → profile ready in the session",
            at.signin
                .iter()
                .filter_map(|s| s.callback_to_ready)
                .map(|d| d.as_secs_f64() * 1000.0)
                .collect(),
            n,
            Vec::new(),
            None,
        );
        row(
            "restore: process start → profile painted",
            at.restore
                .iter()
                .filter_map(|r| r.start_to_painted)
                .map(|d| d.as_secs_f64() * 1000.0)
                .collect(),
            at.restore.len(),
            at.restore.iter().filter_map(|r| r.round_trips).collect(),
            None,
        );
        row(
            "restore: keychain read (first request) or page loaded, the later → profile painted",
            at.restore
                .iter()
                .filter_map(|r| r.first_request_to_painted)
                .map(|d| d.as_secs_f64() * 1000.0)
                .collect(),
            at.restore.len(),
            at.restore.iter().filter_map(|r| r.round_trips).collect(),
            Some((1.0, 40.0, "≤ 1 RTT + 40 ms")),
        );
        row(
            "restore, the core's share: keychain read (first request) → profile ready in the session",
            at.restore
                .iter()
                .filter_map(|r| r.first_request_to_ready)
                .map(|d| d.as_secs_f64() * 1000.0)
                .collect(),
            at.restore.len(),
            Vec::new(),
            None,
        );
        row(
            "click on Kakao Login → browser process started",
            at.signin
                .iter()
                .filter_map(|s| s.click_to_browser)
                .map(|d| d.as_secs_f64() * 1000.0)
                .collect(),
            n,
            Vec::new(),
            Some((0.0, 30.0, "≤ 30 ms")),
        );
    }
    let _ = writeln!(out);
    for at in results {
        if let Some(s) = at.signin.iter().find(|s| !s.requests.is_empty()) {
            let _ = writeln!(
                out,
                "- RTT {} ms, one sign-in's requests after the callback (start–end, ms): {}",
                at.rtt_ms,
                s.requests
                    .iter()
                    .map(|(p, a, b)| format!("`{p}` {a:.0}–{b:.0}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
        if let Some(s) = at.signin.iter().find(|s| !s.stages.is_empty()) {
            let _ = writeln!(
                out,
                "- RTT {} ms, where that sign-in's time went (ms after the callback): {}",
                at.rtt_ms,
                stages(&s.stages)
            );
        }
        if let Some(r) = at.restore.iter().find(|r| r.error.is_none()) {
            let _ = writeln!(
                out,
                "- RTT {} ms, kapi requests that ended before a restore's profile was ready: {:?}; where its time went (ms after the process started): {}",
                at.rtt_ms,
                r.kapi_before_paint,
                stages(&r.stages)
            );
        }
        for e in at
            .signin
            .iter()
            .filter_map(|s| s.error.as_ref())
            .chain(at.restore.iter().filter_map(|r| r.error.as_ref()))
        {
            let _ = writeln!(out, "- RTT {} ms error: {e}", at.rtt_ms);
        }
    }
    out
}

/// How the round-trip figures are taken, for the report.
pub fn method_note() -> &'static str {
    "- Round trips: the simulator's latency fault on every endpoint (pages, token, JWKS, kapi, \
     pictures), so each request costs one RTT on loopback. JWKS already on disk (the bench's \
     own sign-in wrote it). Sign-in: the bench clicks the Kakao Login button with XTest (found \
     by its #FEE500 pixels), the app's browser command is a shell that writes the URL into a \
     FIFO (click → browser = the FIFO line's arrival), the scripted browser then logs in at the \
     simulator and sends the redirect to the app's listener; the end is `bench-mark \
     profile-painted`, which the page sends in the task after the animation frame that drew the profile. \
     Restore: process start (just before spawn) to the same mark, and from the first request in \
     the simulator's log (the keychain has been read) or the page's load, whichever is later. \
     Sequential round trips: the longest chain of logged requests, each starting after the \
     previous ended, among those that ended before the core had the profile to show \
     (`bench-mark profile-ready`, printed by the app when the session's view first carries it)."
}
