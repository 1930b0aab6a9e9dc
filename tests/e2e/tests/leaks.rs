//! Secrets never leak: one full sign-in through the real window with `KAKAO_SIGNIN_LOG=trace`
//! and a client secret configured, then a byte scan for every secret's real value in
//! - the app's stderr (its log at every level, and any panic or crash output),
//! - the app's log file (`KAKAO_SIGNIN_LOG_DIR`, a directory of this test's own): it must hold
//!   the sign-in and a record keyring sent through the `log` facade, so the scan can't pass on an
//!   empty or unbridged file,
//! - everything the webview holds or was sent: the DOM, localStorage, sessionStorage, every
//!   `next_view` answer (how the window follows the session), the `app_state` and
//!   `diagnostics` command answers,
//! - every file under the data directory and the XDG data, config and cache dirs (HOME),
//! - the browser command line (the URLs the app handed to `KAKAO_SIGNIN_BROWSER`) and the
//!   browser's environment (no `KAKAO_SIGNIN_*` setting may reach it).
//!
//! The secrets: access, refresh and ID token (read from the keychain with secret-tool), the
//! authorization code (captured on the test side from Kakao's redirect), the client secret,
//! and the PKCE verifier (never visible to the test: any 43-character base64url string in the
//! scanned bytes whose S256 equals the `code_challenge` the app sent is the verifier).

use kakao_signin_e2e::{keychain_field, serial, App, AppOptions, Chromium, Lang, Rig};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const CLIENT_SECRET: &str = "e2e-client-secret-Zq8Wm3Lx7Rt2Kp";

/// POSTs the consent form with the browser's cookies, without following the redirect, and
/// returns the `Location` (the app's callback URL with the code).
async fn post_consent(base: &str, cookie: &str, tx: &str) -> anyhow::Result<String> {
    let u = url::Url::parse(base)?;
    let host = u.host_str().unwrap();
    let port = u.port().unwrap();
    let body = format!("tx={tx}&consent_all=1&action=agree");
    let req = format!(
        "POST /oauth/consent HTTP/1.1\r\nHost: {host}:{port}\r\nCookie: {cookie}\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n{body}",
        body.len()
    );
    let mut s = tokio::net::TcpStream::connect((host, port)).await?;
    s.write_all(req.as_bytes()).await?;
    let mut resp = Vec::new();
    s.read_to_end(&mut resp).await?;
    let text = String::from_utf8_lossy(&resp);
    let loc = text
        .lines()
        .find_map(|l| {
            l.strip_prefix("location: ")
                .or_else(|| l.strip_prefix("Location: "))
        })
        .ok_or_else(|| anyhow::anyhow!("no redirect from the consent form: {text}"))?;
    Ok(loc.trim().to_owned())
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        let p = e.path();
        match e.file_type() {
            Ok(t) if t.is_dir() => walk(&p, out),
            Ok(t) if t.is_file() => out.push(p),
            _ => {}
        }
    }
}

/// base64url-no-pad(SHA-256(s)) through openssl.
fn s256(s: &str) -> String {
    let out = std::process::Command::new("sh")
        .args([
            "-c",
            "printf %s \"$0\" | openssl dgst -sha256 -binary | base64 -w0 | tr '+/' '-_' | tr -d '='",
            s,
        ])
        .output()
        .expect("openssl");
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// Every run of exactly 43 base64url characters (the shape of a PKCE verifier).
fn verifier_candidates(bytes: &[u8], out: &mut BTreeSet<String>) {
    let ok = |b: u8| b.is_ascii_alphanumeric() || b == b'-' || b == b'_';
    let mut start = None;
    for (i, &b) in bytes.iter().chain(std::iter::once(&b' ')).enumerate() {
        match (ok(b), start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                if i - s == 43 {
                    out.insert(String::from_utf8_lossy(&bytes[s..i]).into_owned());
                }
                start = None;
            }
            _ => {}
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_reaches_logs_webview_files_or_the_browser_command_line() -> anyhow::Result<()> {
    let _one = serial().await;
    // The verifier search itself works (RFC 7636 appendix B).
    let mut probe = BTreeSet::new();
    verifier_candidates(
        b"x=dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk&y",
        &mut probe,
    );
    assert_eq!(probe.len(), 1);
    assert_eq!(
        s256(probe.first().unwrap()),
        "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    );
    let rig = Rig::start_with("leaks", Lang::En, |cfg| {
        cfg.app.client_secret = Some(CLIENT_SECRET.into());
    })
    .await?;
    let log = std::env::temp_dir().join(format!("ks-leaks-{}.log", std::process::id()));
    let _ = std::fs::remove_file(&log);
    let log_dir = std::env::temp_dir().join(format!("ks-leaks-logdir-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&log_dir);
    let browser_env =
        std::env::temp_dir().join(format!("ks-leaks-browser-env-{}", std::process::id()));
    let _ = std::fs::remove_file(&browser_env);
    let browser_argv =
        std::env::temp_dir().join(format!("ks-leaks-browser-argv-{}", std::process::id()));
    let _ = std::fs::remove_file(&browser_argv);
    let mut env = rig.env();
    env.retain(|(k, _)| k != "KAKAO_SIGNIN_BROWSER");
    env.push((
        "KAKAO_SIGNIN_BROWSER".into(),
        rig.inbox
            .browser_command_saving_env_and_argv(&browser_env, &browser_argv),
    ));
    env.push(("KAKAO_SIGNIN_LOG".into(), "trace".into()));
    env.push(("KAKAO_SIGNIN_LOG_DIR".into(), log_dir.display().to_string()));
    env.push(("KAKAO_SIGNIN_CLIENT_SECRET".into(), CLIENT_SECRET.into()));
    let app = App::launch_logged(AppOptions { env }, &log).await?;
    app.wait_visible("#signin").await?;
    // Record every view the session sends from now on, through the same long poll the window
    // follows it with (`next_view`), next to the window's own.
    app.client
        .execute_async(
            r#"const done = arguments[arguments.length - 1];
               window.__leakViews = [];
               (async () => {
                 let after = null;
                 for (;;) {
                   const u = await window.__TAURI__.core.invoke("next_view", { after });
                   after = u.seq;
                   window.__leakViews.push(JSON.stringify(u));
                 }
               })();
               done(true);"#,
            vec![],
        )
        .await?;

    // Sign in: Chromium logs in; the consent form is posted from here so the code is seen.
    app.click("#signin").await?;
    let start = rig.inbox.nth(1).await?;
    assert!(
        rig.is_start_url(&start),
        "the browser was opened at {start}"
    );
    let browser = Chromium::launch().await?;
    browser.client.goto(&start).await?;
    // Kakao's login page, reached through the start URL's 303: the authorize URL is only here.
    let url = browser.client.current_url().await?.to_string();
    assert!(url.contains("/oauth/authorize?"), "{url}");
    browser.log_in("full@kakao.test", "demo1234").await?;
    browser.wait_visible("#consent-agree").await?;
    let page = browser.client.source().await?;
    let tx = page
        .split("name=\"tx\" value=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .unwrap()
        .to_owned();
    let cookie = browser
        .client
        .get_all_cookies()
        .await?
        .iter()
        .map(|c| format!("{}={}", c.name(), c.value()))
        .collect::<Vec<_>>()
        .join("; ");
    let callback = post_consent(&rig.sim.base_url(), &cookie, &tx).await?;
    let code = url::Url::parse(&callback)?
        .query_pairs()
        .find(|(k, _)| k == "code")
        .map(|(_, v)| v.into_owned())
        .expect("a code in Kakao's redirect");
    browser.client.goto(&callback).await?;
    app.wait_visible("#profile-member-id").await?;
    // A few more things that send views: consents, profile refresh.
    let _ = app.client.execute_async(
        r#"const done = arguments[arguments.length - 1];
           const i = window.__TAURI__.core.invoke;
           Promise.all([i("load_consents"), i("refresh_profile")]).then(() => done(true), () => done(false));"#,
        vec![],
    ).await?;
    tokio::time::sleep(Duration::from_millis(500)).await;

    let service = &rig.service;
    let access = keychain_field(service, "session", "access_token").expect("access token");
    // The ID token is verified and not kept (it grows with the profile past what Windows
    // holds in one keychain entry); the simulator says what it was.
    assert!(keychain_field(service, "session", "id_token").is_none());
    let id_token = rig
        .sim
        .last_id_token()
        .expect("OIDC is on: an ID token was issued");
    let refresh = keychain_field(service, "refresh", "refresh_token").expect("refresh token");
    let query: std::collections::BTreeMap<String, String> = url::Url::parse(&url)?
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let challenge = query["code_challenge"].clone();
    let secrets = [
        ("access token", access.as_str()),
        ("refresh token", refresh.as_str()),
        ("ID token", id_token.as_str()),
        ("authorization code", code.as_str()),
        ("client secret", CLIENT_SECRET),
    ];
    for (name, s) in secrets {
        assert!(s.len() >= 16, "{name} looks empty: {s:?}");
    }

    // What the webview holds and was sent.
    let webview = app
        .client
        .execute_async(
            r#"const done = arguments[arguments.length - 1];
               const i = window.__TAURI__.core.invoke;
               const dump = s => { const o = {}; for (let k = 0; k < s.length; k++) o[s.key(k)] = s.getItem(s.key(k)); return JSON.stringify(o); };
               Promise.all([i("app_state"), i("diagnostics")]).then(([st, diag]) => done({
                 dom: document.documentElement.outerHTML,
                 local: dump(localStorage), session: dump(sessionStorage),
                 cookies: document.cookie,
                 views: window.__leakViews.join("\n"),
                 state: JSON.stringify(st), diagnostics: JSON.stringify(diag),
               }));"#,
            vec![],
        )
        .await?;
    let views = webview["views"].as_str().unwrap_or("").to_owned();
    assert!(
        views.lines().count() >= 3,
        "the view recorder saw too little: {views}"
    );
    assert!(views.contains("signed_in"), "next_view carries the view");

    // Sign out so the app writes its last state, then stop it and read every place.
    browser.close().await;
    app.close().await?;
    tokio::time::sleep(Duration::from_millis(500)).await;

    let mut places: Vec<(String, Vec<u8>)> = Vec::new();
    let log_bytes = std::fs::read(&log)?;
    let log_text = String::from_utf8_lossy(&log_bytes).to_string();
    assert!(
        log_text.contains("TRACE") || log_text.contains("DEBUG"),
        "the log was not at trace level:\n{log_text}"
    );
    assert!(
        log_text.contains("waiting for Kakao's redirect"),
        "app log captured"
    );
    places.push(("app stderr (trace log, panics)".into(), log_bytes));

    // The log file: where the diagnostics say, written at trace, with the app's own records and
    // keyring's (keyring logs through `log`, at debug, for every entry it makes: the tokens are
    // stored through it during the sign-in).
    let log_file = log_dir.join("kakao-signin.log");
    // The command's answer, as the window got it (JSON-encoded above).
    let diagnostics: String = serde_json::from_str(webview["diagnostics"].as_str().unwrap_or(""))?;
    assert!(
        diagnostics
            .lines()
            .any(|l| l == format!("log file: {}", log_file.display())),
        "the diagnostics name the log file {}:\n{diagnostics}",
        log_file.display()
    );
    let file_text = std::fs::read_to_string(&log_file)
        .map_err(|e| anyhow::anyhow!("no log file at {}: {e}", log_file.display()))?;
    assert!(
        file_text.contains("waiting for Kakao's redirect"),
        "the log file holds the app's records:\n{file_text}"
    );
    assert!(
        file_text
            .lines()
            .any(|l| l.contains(" keyring: ") && l.contains("creating entry with service")),
        "the log file holds keyring's records, bridged from `log`:\n{file_text}"
    );
    let mut log_files = Vec::new();
    walk(&log_dir, &mut log_files);
    for f in log_files {
        places.push((format!("log file {}", f.display()), std::fs::read(&f)?));
    }
    for key in [
        "dom",
        "local",
        "session",
        "cookies",
        "views",
        "state",
        "diagnostics",
    ] {
        places.push((
            format!("webview {key}"),
            webview[key].as_str().unwrap_or("").as_bytes().to_vec(),
        ));
    }
    places.push((
        "browser command line (URLs handed to KAKAO_SIGNIN_BROWSER)".into(),
        std::fs::read(&rig.inbox.path)?,
    ));
    let browser_env_bytes = std::fs::read(&browser_env)?;
    // What every local user can read of the browser (issue 17): its command line and its
    // environment hold nothing of the attempt and no value of the app's settings.
    let argv_bytes = std::fs::read(&browser_argv)?;
    assert!(
        argv_bytes
            .windows(start.len())
            .any(|w| w == start.as_bytes()),
        "the argv capture holds the URL the app passed"
    );
    let mut exposed = Vec::new();
    let attempt_values = [
        ("state", query["state"].as_str()),
        ("nonce", query["nonce"].as_str()),
        ("code challenge", challenge.as_str()),
        ("authorization code", code.as_str()),
    ];
    let setting_values: Vec<(String, String)> = rig
        .env()
        .into_iter()
        .chain([(
            "KAKAO_SIGNIN_CLIENT_SECRET".to_owned(),
            CLIENT_SECRET.to_owned(),
        )])
        .filter(|(k, v)| {
            // Values long enough to mean something; the browser command and the redirect
            // ports are what the browser is started with and at, by design.
            k.starts_with("KAKAO_SIGNIN_")
                && k != "KAKAO_SIGNIN_BROWSER"
                && k != "KAKAO_SIGNIN_REDIRECT_PORTS"
                && v.len() >= 8
        })
        .collect();
    for (place, bytes) in [("argv", &argv_bytes), ("environment", &browser_env_bytes)] {
        for (name, value) in attempt_values
            .iter()
            .map(|(n, v)| (n.to_string(), *v))
            .chain(setting_values.iter().map(|(k, v)| (k.clone(), v.as_str())))
        {
            assert!(value.len() >= 8, "{name} looks empty");
            // Whole values: the simulator's `http://127.0.0.1:4123` is not in `…:41234/start`.
            let found = (0..bytes.len().saturating_sub(value.len() - 1)).any(|i| {
                bytes[i..].starts_with(value.as_bytes())
                    && !bytes
                        .get(i + value.len())
                        .is_some_and(|b| b.is_ascii_digit())
            });
            if found {
                exposed.push(format!("{name} in the browser's {place}"));
            }
        }
    }
    assert!(exposed.is_empty(), "readable by other users: {exposed:?}");
    places.push(("the browser's command line".into(), argv_bytes));
    let _ = std::fs::remove_file(&browser_argv);
    let settings: Vec<String> = String::from_utf8_lossy(&browser_env_bytes)
        .lines()
        .filter(|l| l.starts_with("KAKAO_SIGNIN_"))
        .map(|l| l.split('=').next().unwrap_or(l).to_owned())
        .collect();
    assert!(
        settings.is_empty(),
        "settings in the browser's environment: {settings:?}"
    );
    places.push(("the browser's environment".into(), browser_env_bytes));
    let _ = std::fs::remove_file(&browser_env);
    let mut dirs = vec![rig.data.clone()];
    for var in ["XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME", "HOME"] {
        if let Some(d) = std::env::var_os(var) {
            dirs.push(PathBuf::from(d));
        }
    }
    let mut files = Vec::new();
    for d in &dirs {
        walk(d, &mut files);
    }
    let mut seen = BTreeSet::new();
    for f in files {
        // The test's own copies are not the app's: Chromium's profile lives in the temp dir.
        if !seen.insert(f.clone()) {
            continue;
        }
        if let Ok(bytes) = std::fs::read(&f) {
            places.push((format!("file {}", f.display()), bytes));
        }
    }
    assert!(
        places
            .iter()
            .any(|(p, _)| p.contains("io.github.kakaosignin.desktop")),
        "the webview's own data dir was not among the scanned files"
    );

    let mut candidates = BTreeSet::new();
    let mut total = 0usize;
    let mut leaks = Vec::new();
    for (place, bytes) in &places {
        total += bytes.len();
        for (name, secret) in secrets {
            if bytes.windows(secret.len()).any(|w| w == secret.as_bytes()) {
                leaks.push(format!("{name} in {place}"));
            }
        }
        verifier_candidates(bytes, &mut candidates);
    }
    for c in &candidates {
        if s256(c) == challenge {
            leaks.push(format!("the PKCE verifier {c}"));
        }
    }
    println!(
        "leak scan: {} places, {} bytes, {} secrets + the verifier ({} candidates hashed), {} leaks",
        places.len(),
        total,
        secrets.len(),
        candidates.len(),
        leaks.len()
    );
    assert!(leaks.is_empty(), "secrets leaked:\n{}", leaks.join("\n"));
    // The scan can see: the inbox holds the one-time start URL the browser got, and that URL
    // holds nothing of the attempt (its 303 to Kakao does).
    let inbox = std::fs::read_to_string(&rig.inbox.path)?;
    assert!(inbox.contains(&start), "the scan reads the inbox");
    assert!(!inbox.contains(&challenge) && !inbox.contains(&query["state"]));
    Ok(())
}
