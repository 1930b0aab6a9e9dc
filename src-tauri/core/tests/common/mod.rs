//! The scripted "browser" shared by the session suite and the sign-in benchmark: it behaves
//! like a person at the simulator's pages (login form, consent form) and follows Kakao's
//! redirect to the app's real loopback listener.
#![allow(dead_code)] // each test binary uses a different part

use kakao_signin_core::clock::Clock;
use kakao_signin_core::kakao::{Endpoints, KakaoClient, ReqwestHttp};
use kakao_signin_core::localdata::LocalData;
use kakao_signin_core::session::{Deps, Notify, Session};
use kakao_signin_core::signin::{self, BrowserOpener};
use kakao_signin_core::text::Lang;
use kakao_signin_core::vault::Vault;
use kakao_sim::Sim;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub const PASSWORD: &str = "demo1234";

/// The simulator's clock as the app's clock, so tests move time instead of sleeping.
pub struct SimClock(pub Arc<Sim>);

impl Clock for SimClock {
    fn now_unix(&self) -> i64 {
        self.0.now_unix()
    }
}

/// A session wired to real parts: the simulator over HTTP (its kapi at the simulator, its kauth
/// at `auth_url`), the given keychain, the scripted browser, the simulator's clock.
pub fn session_against(
    sim: &Arc<Sim>,
    auth_url: &str,
    vault: Vault,
    data_dir: &Path,
    browser: &Arc<SimBrowser>,
    ports: Vec<u16>,
    notify: Notify,
) -> Arc<Session> {
    let clock: Arc<dyn Clock> = Arc::new(SimClock(sim.clone()));
    let http = Arc::new(ReqwestHttp::with_default_timeouts());
    let endpoints = Endpoints::new(auth_url, &sim.base_url()).unwrap();
    let kakao = KakaoClient::new(
        http.clone(),
        endpoints,
        "sandbox-rest-api-key",
        None,
        clock.clone(),
    );
    Session::new(
        Deps {
            kakao: Some(Arc::new(kakao)),
            vault,
            browser: Arc::new(Opener(browser.clone())),
            clock,
            local: LocalData::new(data_dir),
            http,
            redirect_ports: ports,
            signin_timeout: Duration::from_secs(30),
            sandbox: false,
            lang: Lang::En,
            version: "test".into(),
        },
        notify,
    )
}

#[derive(Clone, Debug)]
pub enum Consent {
    /// "Agree to all", optional items included.
    All,
    /// Only these items (required ones must be listed too).
    Only(Vec<&'static str>),
    /// Press Cancel.
    Cancel,
}

#[derive(Clone, Debug)]
pub struct Script {
    pub login: &'static str,
    pub consent: Consent,
}

/// A `BrowserOpener` that behaves like a person at the simulator's pages. Records every URL it
/// was asked to open and what the last run ended with.
pub struct SimBrowser {
    runtime: tokio::runtime::Handle,
    script: Mutex<Option<Script>>,
    opened: Mutex<Vec<String>>,
    pub finished: AtomicUsize,
    pub last_page: Mutex<String>,
    /// When the browser last sent Kakao's redirect to the app's loopback listener.
    pub callback_sent_at: Mutex<Option<Instant>>,
}

impl SimBrowser {
    pub fn new(script: Option<Script>) -> Arc<SimBrowser> {
        Arc::new(SimBrowser {
            runtime: tokio::runtime::Handle::current(),
            script: Mutex::new(script),
            opened: Mutex::new(Vec::new()),
            finished: AtomicUsize::new(0),
            last_page: Mutex::new(String::new()),
            callback_sent_at: Mutex::new(None),
        })
    }

    pub fn set_script(&self, script: Option<Script>) {
        *self.script.lock().unwrap() = script;
    }

    pub fn opened(&self) -> Vec<String> {
        self.opened.lock().unwrap().clone()
    }
}

pub struct Opener(pub Arc<SimBrowser>);

impl BrowserOpener for Opener {
    fn open(&self, url: &str) -> Result<(), signin::Error> {
        let b = self.0.clone();
        b.opened.lock().unwrap().push(url.to_owned());
        let Some(script) = b.script.lock().unwrap().clone() else {
            return Ok(()); // a browser the person never looks at
        };
        let url = url.to_owned();
        self.0.runtime.spawn(async move {
            let page = run_browser(&url, &script, &b).await;
            *b.last_page.lock().unwrap() = page;
            b.finished.fetch_add(1, Ordering::SeqCst);
        });
        Ok(())
    }
}

/// Follows redirects, logs in, answers the consent page; returns the last page's text.
async fn run_browser(start: &str, script: &Script, b: &SimBrowser) -> String {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let mut cookies: BTreeMap<String, String> = BTreeMap::new();
    let mut next: (String, Option<Vec<(String, String)>>) = (start.to_owned(), None);
    for _ in 0..12 {
        let (url, form) = next.clone();
        let cookie = cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ");
        if url.contains("/callback?") {
            *b.callback_sent_at.lock().unwrap() = Some(Instant::now());
        }
        let req = match &form {
            Some(f) => client.post(&url).form(f),
            None => client.get(&url),
        };
        let r = match req.header("cookie", cookie).send().await {
            Ok(r) => r,
            Err(e) => return format!("request failed: {e}"),
        };
        for v in r.headers().get_all("set-cookie") {
            let v = v.to_str().unwrap_or("");
            if let Some((k, val)) = v.split(';').next().and_then(|kv| kv.split_once('=')) {
                cookies.insert(k.trim().to_owned(), val.trim().to_owned());
            }
        }
        if r.status().is_redirection() {
            let loc = r.headers()["location"].to_str().unwrap().to_owned();
            let abs = reqwest::Url::parse(&url).unwrap().join(&loc).unwrap();
            next = (abs.to_string(), None);
            continue;
        }
        let base = {
            let u = reqwest::Url::parse(&url).unwrap();
            format!("{}://{}", u.scheme(), u.host_str().unwrap())
                + &format!(":{}", u.port().unwrap())
        };
        let html = r.text().await.unwrap_or_default();
        let tx = html
            .split("name=\"tx\" value=\"")
            .nth(1)
            .and_then(|s| s.split('"').next())
            .map(str::to_owned);
        if html.contains("id=\"login-submit\"") {
            let form = vec![
                ("tx".into(), tx.unwrap()),
                ("login_id".into(), script.login.into()),
                ("password".into(), PASSWORD.into()),
            ];
            next = (format!("{base}/oauth/login"), Some(form));
        } else if html.contains("id=\"consent-agree\"") {
            let mut form = vec![("tx".to_string(), tx.unwrap())];
            match &script.consent {
                Consent::All => {
                    form.push(("consent_all".into(), "1".into()));
                    form.push(("action".into(), "agree".into()));
                }
                Consent::Only(items) => {
                    for i in items {
                        form.push(("scope".into(), (*i).into()));
                    }
                    form.push(("action".into(), "agree".into()));
                }
                Consent::Cancel => form.push(("action".into(), "cancel".into())),
            }
            next = (format!("{base}/oauth/consent"), Some(form));
        } else {
            // The app's loopback page (done or error) or a Kakao error page: the end.
            return html;
        }
    }
    "too many steps".into()
}
