//! The scripted "browser": it behaves like a person at the simulator's pages (login form,
//! consent form) and follows Kakao's redirect to the app's real loopback listener.

use kakao_signin_core::signin::{self, BrowserOpener};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// Every demo user's password in the simulator's demo config.
pub const PASSWORD: &str = "demo1234";

/// What the person does on Kakao's consent page.
#[derive(Clone, Debug)]
pub enum Consent {
    /// "Agree to all", optional items included.
    All,
    /// Only these items (required ones must be listed too).
    Only(Vec<&'static str>),
    /// Press Cancel.
    Cancel,
}

/// One pass through Kakao's pages.
#[derive(Clone, Debug)]
pub struct Script {
    /// The demo user's login (e.g. `full@kakao.test`).
    pub login: &'static str,
    /// The answer on the consent page.
    pub consent: Consent,
}

/// A `BrowserOpener` that behaves like a person at the simulator's pages. Records every URL it
/// was asked to open and what the last run ended with.
pub struct SimBrowser {
    runtime: tokio::runtime::Handle,
    script: Mutex<Option<Script>>,
    opened: Mutex<Vec<String>>,
    /// How many runs ended (at the app's page or an error page).
    pub finished: AtomicUsize,
    /// The text of the page the last run ended on.
    pub last_page: Mutex<String>,
    /// When the browser last sent Kakao's redirect to the app's loopback listener.
    pub callback_sent_at: Mutex<Option<Instant>>,
    /// Where a browser that cannot reach `127.0.0.1` writes Kakao's final redirect instead of
    /// loading it ([`SimBrowser::hold_redirect_in`]).
    hold_redirect: Mutex<Option<PathBuf>>,
    /// Where each one-time loopback start URL it followed redirected it (Kakao's URL).
    resolved: Mutex<BTreeMap<String, String>>,
}

impl SimBrowser {
    /// A browser that follows `script` each time it is opened (`None`: it opens and nobody
    /// looks at it). Must be made inside a Tokio runtime, which it runs its pages on.
    pub fn new(script: Option<Script>) -> Arc<SimBrowser> {
        Arc::new(SimBrowser {
            runtime: tokio::runtime::Handle::current(),
            script: Mutex::new(script),
            opened: Mutex::new(Vec::new()),
            finished: AtomicUsize::new(0),
            last_page: Mutex::new(String::new()),
            callback_sent_at: Mutex::new(None),
            hold_redirect: Mutex::new(None),
            resolved: Mutex::new(BTreeMap::new()),
        })
    }

    /// From now on the browser follows Kakao up to the final redirect back to the app but does
    /// not load it: it writes that `Location` to `file` (as a person would copy it from a tab
    /// that says "can't connect": WSL2, a remote desktop). `None`: load it again.
    pub fn hold_redirect_in(&self, file: Option<PathBuf>) {
        *self.hold_redirect.lock().unwrap() = file;
    }

    /// What the next runs do.
    pub fn set_script(&self, script: Option<Script>) {
        *self.script.lock().unwrap() = script;
    }

    /// Every URL it was asked to open, in order (the app opens its one-time loopback start
    /// URLs, never Kakao's).
    pub fn opened(&self) -> Vec<String> {
        self.opened.lock().unwrap().clone()
    }

    /// The Kakao URL behind the last URL opened: where its one-time start URL redirected the
    /// browser (waiting for a scripted run to get there), or, if no run follows it, where it
    /// redirects now (which uses it up).
    pub async fn last_kakao_url(&self) -> String {
        let start = self.opened().pop().expect("a URL was opened");
        let scripted = self.script.lock().unwrap().is_some();
        if !scripted {
            return follow_start(&start).await;
        }
        let deadline = Instant::now() + std::time::Duration::from_secs(10);
        loop {
            if let Some(url) = self.resolved.lock().unwrap().get(&start) {
                return url.clone();
            }
            assert!(
                Instant::now() < deadline,
                "the browser never followed {start}"
            );
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
    }
}

/// The [`BrowserOpener`] the session is given: it hands each URL to the [`SimBrowser`].
pub struct Opener(pub Arc<SimBrowser>);

impl BrowserOpener for Opener {
    fn open(&self, url: &str) -> Result<(), signin::Error> {
        let b = self.0.clone();
        b.opened.lock().unwrap().push(url.to_owned());
        let Some(script) = b.script.lock().unwrap().clone() else {
            return Ok(()); // a browser the person never looks at
        };
        let url = url.to_owned();
        let hold = b.hold_redirect.lock().unwrap().clone();
        self.0.runtime.spawn(async move {
            let page = run_browser(&url, &script, Some(&b), hold.as_deref()).await;
            *b.last_page.lock().unwrap() = page;
            b.finished.fetch_add(1, Ordering::SeqCst);
        });
        Ok(())
    }
}

/// A browser that cannot reach the app's `127.0.0.1`: follows Kakao's pages from `start` (the
/// URL the app opened) as `script` says, and writes the final redirect's `Location` (the
/// callback address with `code`/`error` and `state`) to `location_file` instead of loading it.
/// Returns the last page's text (`held: <file>` when the redirect was written).
pub async fn follow_to_redirect(start: &str, script: &Script, location_file: &Path) -> String {
    run_browser(start, script, None, Some(location_file)).await
}

/// Follows redirects, logs in, answers the consent page; returns the last page's text. With
/// `hold`, the redirect to the app's listener is written to that file, not loaded.
async fn run_browser(
    start: &str,
    script: &Script,
    b: Option<&SimBrowser>,
    hold: Option<&Path>,
) -> String {
    // The simulator is on loopback: no proxy from the environment.
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
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
        if let Some(file) = hold.filter(|_| form.is_none() && url.contains("/callback?")) {
            // Written whole, then renamed: a reader never sees half an address.
            let tmp = file.with_extension("tmp");
            std::fs::write(&tmp, &url).unwrap();
            std::fs::rename(&tmp, file).unwrap();
            return format!("held: {}", file.display());
        }
        if url.contains("/callback?") {
            if let Some(b) = b {
                *b.callback_sent_at.lock().unwrap() = Some(Instant::now());
            }
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
            if url == start {
                if let Some(b) = b {
                    b.resolved
                        .lock()
                        .unwrap()
                        .insert(start.to_owned(), abs.to_string());
                }
            }
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
        } else if html.contains("id=\"logout-choice-account\"") {
            // Kakao's logout choice page (REFERENCE §6): this person logs out of the Kakao
            // account too.
            let id = html
                .split("name=\"id\" value=\"")
                .nth(1)
                .and_then(|s| s.split('"').next())
                .unwrap_or_default()
                .to_owned();
            let form = vec![("id".to_owned(), id), ("choice".into(), "account".into())];
            next = (format!("{base}/oauth/logout/choose"), Some(form));
        } else {
            // The app's loopback page (done or error) or a Kakao error page: the end.
            return html;
        }
    }
    "too many steps".into()
}

/// Where the app's one-time loopback start URL `url` redirects (`Location` of its `303`); a URL
/// that is not a start URL is returned as it is. Using it uses the start URL up.
pub async fn follow_start(url: &str) -> String {
    if !url.contains(kakao_signin_core::signin::START_PATH) {
        return url.to_owned();
    }
    let r = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .build()
        .unwrap()
        .get(url)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{url}: {e}"));
    assert_eq!(r.status(), reqwest::StatusCode::SEE_OTHER, "{url}");
    r.headers()["location"].to_str().unwrap().to_owned()
}
