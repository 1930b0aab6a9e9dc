//! Headless Chromium (Debian `chromium` + `chromium-driver`) clicks through the simulator's
//! login and consent pages via WebDriver and receives the code on a loopback redirect URI.
//! Fails (never skips) when chromedriver or chromium is missing.

mod common;
use common::*;
use fantoccini::{ClientBuilder, Locator};
use kakao_sim::{Sim, SimConfig};
use serde_json::json;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::mpsc;

const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";

/// chromedriver in its own process group; the whole group (with chromium) dies on drop.
struct Driver {
    child: Child,
    profile_dir: std::path::PathBuf,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let pgid = self.child.id().to_string();
        for sig in ["-TERM", "-KILL"] {
            let _ = Command::new("kill")
                .args([sig, "--", &format!("-{pgid}")])
                .stderr(Stdio::null())
                .status();
            std::thread::sleep(Duration::from_millis(150));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.profile_dir);
    }
}

use kakao_sim::free_loopback_port as free_port;

fn spawn_driver(port: u16) -> Driver {
    use std::os::unix::process::CommandExt;
    assert!(
        std::path::Path::new(CHROMEDRIVER).exists(),
        "{CHROMEDRIVER} not found: install Debian's chromium-driver package (apt-get install chromium chromium-driver)"
    );
    assert!(
        std::path::Path::new(CHROMIUM).exists(),
        "{CHROMIUM} not found: install Debian's chromium package"
    );
    let profile_dir =
        std::env::temp_dir().join(format!("kakao-sim-chromium-{}-{port}", std::process::id()));
    std::fs::create_dir_all(&profile_dir).unwrap();
    let child = Command::new(CHROMEDRIVER)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {CHROMEDRIVER}: {e}"));
    Driver { child, profile_dir }
}

/// A one-shot HTTP listener standing in for the app's loopback redirect URI.
async fn callback_listener() -> (u16, mpsc::Receiver<String>) {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = l.local_addr().unwrap().port();
    let (tx, rx) = mpsc::channel(4);
    tokio::spawn(async move {
        loop {
            let Ok((mut s, _)) = l.accept().await else {
                return;
            };
            let mut buf = vec![0u8; 8192];
            let n = s.read(&mut buf).await.unwrap_or(0);
            let req = String::from_utf8_lossy(&buf[..n]).to_string();
            let target = req.split_whitespace().nth(1).unwrap_or("").to_string();
            let body = "<!DOCTYPE html><html><body><h1 id=done>Signed in</h1></body></html>";
            let _ = s
                .write_all(format!("HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len()).as_bytes())
                .await;
            if target.starts_with("/callback") {
                let _ = tx.send(target).await;
            }
        }
    });
    (port, rx)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chromium_login_and_consent_delivers_code_to_loopback() {
    let (cb_port, mut callbacks) = callback_listener().await;
    let redirect_uri = format!("http://127.0.0.1:{cb_port}/callback");
    let mut cfg = SimConfig::demo();
    cfg.app.redirect_uris.push(redirect_uri.clone());
    let sim = Sim::start(cfg).await.unwrap();

    let port = free_port();
    let driver = spawn_driver(port);
    let wd_url = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(r) = api().get(format!("{wd_url}/status")).send().await {
            if r.status().is_success() {
                break;
            }
        }
        assert!(
            Instant::now() < deadline,
            "chromedriver did not become ready on {wd_url}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": CHROMIUM,
            "args": [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-quic", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--disable-breakpad", "--disable-crash-reporter",
                format!("--user-data-dir={}", driver.profile_dir.display()),
            ]
        }),
    );
    let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&wd_url)
        .await
        .expect("WebDriver session with headless Chromium");

    let (verifier, challenge) = pkce();
    let mut url = url::Url::parse(&format!("{}/oauth/authorize", sim.base_url())).unwrap();
    url.query_pairs_mut()
        .append_pair("client_id", CLIENT_ID)
        .append_pair("redirect_uri", &redirect_uri)
        .append_pair("response_type", "code")
        .append_pair("state", "browser-state")
        .append_pair("login_hint", "full@kakao.test")
        .append_pair("code_challenge", &challenge)
        .append_pair("code_challenge_method", "S256");
    let result = async {
        client.goto(url.as_str()).await?;
        let id = client
            .wait()
            .at_most(Duration::from_secs(15))
            .for_element(Locator::Id("login-id"))
            .await?;
        assert_eq!(
            id.prop("value").await?.as_deref(),
            Some("full@kakao.test"),
            "login_hint pre-filled"
        );
        // Wrong password first.
        client
            .find(Locator::Id("login-password"))
            .await?
            .send_keys("wrong")
            .await?;
        client
            .find(Locator::Id("login-submit"))
            .await?
            .click()
            .await?;
        client
            .wait()
            .at_most(Duration::from_secs(15))
            .for_element(Locator::Id("login-error"))
            .await?;
        client
            .find(Locator::Id("login-password"))
            .await?
            .send_keys(PASSWORD)
            .await?;
        client
            .find(Locator::Id("login-keep"))
            .await?
            .click()
            .await?;
        client
            .find(Locator::Id("login-submit"))
            .await?
            .click()
            .await?;
        let all = client
            .wait()
            .at_most(Duration::from_secs(15))
            .for_element(Locator::Id("consent-all"))
            .await?;
        let email = client.find(Locator::Id("consent-account_email")).await?;
        assert!(!email.is_selected().await?, "optional item not pre-checked");
        all.click().await?;
        assert!(
            email.is_selected().await?,
            "전체 동의 ticks the optional items"
        );
        client
            .find(Locator::Id("consent-agree"))
            .await?
            .click()
            .await?;
        client
            .wait()
            .at_most(Duration::from_secs(15))
            .for_element(Locator::Id("done"))
            .await?;
        let current = client.current_url().await?;
        Ok::<_, fantoccini::error::CmdError>(current)
    }
    .await;
    let _ = client.close().await;
    drop(driver);
    let current = result.expect("browser flow");
    assert_eq!(current.path(), "/callback");

    let target = tokio::time::timeout(Duration::from_secs(5), callbacks.recv())
        .await
        .unwrap()
        .unwrap();
    let q = query_of(&format!("http://127.0.0.1{target}"));
    assert_eq!(q["state"], "browser-state");
    let (s, v) = exchange(
        &sim,
        &[
            ("grant_type", "authorization_code"),
            ("client_id", CLIENT_ID),
            ("redirect_uri", &redirect_uri),
            ("code", &q["code"]),
            ("code_verifier", &verifier),
        ],
    )
    .await;
    assert_eq!(s, 200, "{v}");
    let (_, _, me) = kapi(
        &sim,
        reqwest::Method::GET,
        "/v2/user/me",
        Some(&at(&v)),
        &[],
    )
    .await;
    assert_eq!(me["id"], json!(FULL));
    assert_eq!(
        me["kakao_account"]["email"], "full@kakao.test",
        "agreed through 전체 동의"
    );
    assert_eq!(sim.stats().logins_failed, 1);
}
