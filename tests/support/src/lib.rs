//! What the core's integration tests, its benches and `tests/bench` share, in one place:
//! the session wired to the offline simulator ([`deps_for`], [`session_against`]), the scripted
//! browser ([`SimBrowser`]), the simulator's clock as the app's ([`SimClock`]), and free loopback
//! ports ([`free_loopback_port`]).
//!
//! The wiring starts from the app's own [`Deps::from_config`] and swaps only the seams a test
//! owns, so a test runs the same construction as the app.

mod browser;
mod gates;
mod secret_service;
#[cfg(feature = "x11")]
pub mod xscreen;

pub use browser::{
    follow_start, follow_to_redirect, Consent, Opener, Script, SimBrowser, PASSWORD,
};
pub use gates::{Gate, GatedHttp, GatedStore, RequestFilter};
pub use kakao_sim::{free_loopback_port, Sim, SimConfig};
pub use secret_service::{KeychainState, PrivateSecretService};

use kakao_signin_core::clock::Clock;
use kakao_signin_core::config::Config;
use kakao_signin_core::session::{AppInfo, Deps, Lang, Notify, Session};
use kakao_signin_core::vault::{MemoryStore, Vault};
use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

/// The simulator's demo app key.
pub const CLIENT_ID: &str = "sandbox-rest-api-key";

/// The OS keychain under `service` when a D-Bus session is there (the benches, run through
/// `cargo xtask bench` or a desktop), else an in-memory store; the flag says which.
pub fn keychain_or_memory(service: &str) -> (Vault, bool) {
    if std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_some() {
        (Vault::keyring(service.to_owned()), true)
    } else {
        (Vault::new(Arc::new(MemoryStore::new())), false)
    }
}

/// The `username` attributes (account names) of every keychain item under `service`, read
/// through the Secret Service with `secret-tool`, not through the app.
pub fn keychain_accounts(service: &str) -> Vec<String> {
    let out = Command::new("secret-tool")
        .args(["search", "--all", "service", service])
        .output()
        .expect("secret-tool (libsecret-tools) checks the keychain from outside");
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    let mut accounts: Vec<String> = text
        .lines()
        .filter_map(|l| l.trim().strip_prefix("attribute.username = "))
        .map(str::to_owned)
        .collect();
    accounts.sort();
    accounts
}

/// The simulator's clock as the app's clock, so tests move time instead of sleeping.
pub struct SimClock(pub Arc<Sim>);

impl Clock for SimClock {
    fn now_unix(&self) -> i64 {
        self.0.now_unix()
    }
}

/// Starts the simulator with the demo app, its redirect URIs registered for `port` only.
pub async fn start_sim(port: u16) -> Arc<Sim> {
    Arc::new(
        Sim::start(SimConfig::for_loopback_port(port))
            .await
            .expect("the simulator starts on loopback"),
    )
}

/// The configuration the app would read with the simulator's demo key, kapi at the simulator,
/// kauth at `auth_url` (usually the simulator too), the redirect `ports` and `data_dir`.
pub fn config_for(sim: &Sim, auth_url: &str, ports: &[u16], data_dir: &Path) -> Config {
    let ports: Vec<String> = ports.iter().map(u16::to_string).collect();
    let env: BTreeMap<String, String> = [
        ("KAKAO_SIGNIN_CLIENT_ID", CLIENT_ID.to_owned()),
        ("KAKAO_SIGNIN_AUTH_URL", auth_url.to_owned()),
        ("KAKAO_SIGNIN_API_URL", sim.base_url()),
        ("KAKAO_SIGNIN_REDIRECT_PORTS", ports.join(",")),
        ("KAKAO_SIGNIN_DATA_DIR", data_dir.display().to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    Config::from_sources(&env, None, data_dir).expect("the test configuration is valid")
}

/// The app's own wiring for [`config_for`], with the seams a test owns swapped in: the
/// keychain (`vault`), the scripted browser, and the simulator's clock. English, a 30 s sign-in
/// timeout; assign more fields to change them.
pub fn deps_for(
    sim: &Arc<Sim>,
    auth_url: &str,
    vault: Vault,
    data_dir: &Path,
    browser: &Arc<SimBrowser>,
    ports: Vec<u16>,
) -> Deps {
    let config = config_for(sim, auth_url, &ports, data_dir);
    let app = AppInfo {
        version: "test".into(),
        lang: Lang::En,
        sandbox: false,
        app_only_env: Vec::new(),
    };
    let mut deps = Deps::from_config(&config, app).expect("the test configuration wires up");
    deps.vault = vault;
    deps.browser = Arc::new(Opener(browser.clone()));
    deps.clock = Arc::new(SimClock(sim.clone()));
    deps.signin_timeout = Duration::from_secs(30);
    deps
}

/// A session over [`deps_for`].
pub fn session_against(
    sim: &Arc<Sim>,
    auth_url: &str,
    vault: Vault,
    data_dir: &Path,
    browser: &Arc<SimBrowser>,
    ports: Vec<u16>,
    notify: Notify,
) -> Arc<Session> {
    Session::new(
        deps_for(sim, auth_url, vault, data_dir, browser, ports),
        notify,
    )
}

/// Another device of the same member signs in at the simulator over plain HTTP (login page,
/// consent if asked, code exchange), as Kakao's pages and token endpoint see it. Returns that
/// device's `(access_token, refresh_token)`. `redirect_uri` must be registered (nothing needs to
/// listen there: the redirect is read, not followed).
pub async fn sign_in_elsewhere(sim: &Sim, redirect_uri: &str, login: &str) -> (String, String) {
    const CLIENT_ID: &str = "sandbox-rest-api-key";
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .build()
        .unwrap();
    let base = sim.base_url();
    let mut url = reqwest::Url::parse(&format!("{base}/oauth/authorize")).unwrap();
    url.query_pairs_mut()
        .append_pair("client_id", CLIENT_ID)
        .append_pair("redirect_uri", redirect_uri)
        .append_pair("response_type", "code");
    let mut r = client.get(url).send().await.unwrap();
    let mut cookie = String::new();
    for _ in 0..4 {
        if let Some(c) = r.headers().get("set-cookie") {
            cookie = c.to_str().unwrap().split(';').next().unwrap().to_owned();
        }
        if r.status().is_redirection() {
            break;
        }
        let html = r.text().await.unwrap();
        let tx = html
            .split("name=\"tx\" value=\"")
            .nth(1)
            .and_then(|s| s.split('"').next())
            .expect("a page of the sign-in flow")
            .to_owned();
        let (path, form): (&str, Vec<(&str, &str)>) = if html.contains("id=\"login-submit\"") {
            (
                "login",
                vec![("tx", &tx), ("login_id", login), ("password", PASSWORD)],
            )
        } else {
            (
                "consent",
                vec![("tx", &tx), ("consent_all", "1"), ("action", "agree")],
            )
        };
        r = client
            .post(format!("{base}/oauth/{path}"))
            .header("cookie", &cookie)
            .form(&form)
            .send()
            .await
            .unwrap();
    }
    let location = r.headers()["location"].to_str().unwrap().to_owned();
    let code = reqwest::Url::parse(&location)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "code")
        .map(|(_, v)| v.into_owned())
        .unwrap_or_else(|| panic!("no code in {location}"));
    let tokens: serde_json::Value = client
        .post(format!("{base}/oauth/token"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("client_id", CLIENT_ID),
            ("redirect_uri", redirect_uri),
            ("code", &code),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    (
        tokens["access_token"].as_str().unwrap().to_owned(),
        tokens["refresh_token"].as_str().unwrap().to_owned(),
    )
}
