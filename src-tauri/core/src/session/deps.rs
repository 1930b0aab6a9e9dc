//! What the session needs from the outside world, built in one place from [`Config`].
//!
//! The app, the tests and the benchmarks all start from [`Deps::from_config`]: the real parts
//! for the configuration. A test then swaps a seam by assigning one field (a keychain of its
//! own, the simulator's clock, a scripted browser) instead of writing the whole set again.

use crate::clock::{Clock, SystemClock};
use crate::config::Config;
use crate::kakao::{self, Endpoints, HttpClient, ReqwestHttp};
use crate::localdata::LocalData;
use crate::secret::Secret;
use crate::signin::{self, BrowserOpener};
use crate::text::Lang;
use crate::vault::Vault;
use std::sync::Arc;
use std::time::Duration;

/// The Kakao app the session signs in to: where Kakao is and the app's REST API key.
#[derive(Debug, Clone)]
pub struct KakaoApp {
    /// kauth and kapi base URLs (REFERENCE §0).
    pub endpoints: Endpoints,
    /// The REST API key (`client_id`, RFC 6749 §2.2).
    pub client_id: String,
    /// Kakao's optional client secret (RFC 6749 §2.3.1); `None` when the setting is off.
    pub client_secret: Option<Secret>,
}

/// Facts about the running app that are not configuration.
#[derive(Debug, Clone)]
pub struct AppInfo {
    /// The app's version, shown in the window and in diagnostics.
    pub version: String,
    /// The window's first language.
    pub lang: Lang,
    /// Talking to the offline simulator (the `sandbox` feature), not Kakao.
    pub sandbox: bool,
    /// Environment variables the app sets for itself only; a browser it starts must not
    /// inherit them.
    pub app_only_env: Vec<&'static str>,
}

/// The JWKS cache file's name in the data directory.
const JWKS_FILE: &str = "jwks.json";

/// Every seam of the session. Each field is the real thing after [`Deps::from_config`]; tests
/// replace single fields.
pub struct Deps {
    /// `None` when no REST API key is configured: the setup screen.
    pub kakao_app: Option<KakaoApp>,
    /// The tokens' keychain.
    pub vault: Vault,
    /// Opens Kakao's pages in the system browser.
    pub browser: Arc<dyn BrowserOpener>,
    /// Unix time in seconds; every expiry decision asks it.
    pub clock: Arc<dyn Clock>,
    /// Values the person typed in, per member id.
    pub local: LocalData,
    /// Where Kakao's JWKS (public keys, not secret) is kept across runs, with its fetch time;
    /// `None` keeps it in memory only. See [`JwksCache`](crate::kakao::idtoken::JwksCache).
    pub jwks_file: Option<std::path::PathBuf>,
    /// HTTP to kauth and kapi, and for profile pictures (so the window's CSP stays closed to
    /// remote images).
    pub http: Arc<dyn HttpClient>,
    /// Loopback ports the redirect URI may use, in order of preference (RFC 8252 §7.3).
    pub redirect_ports: Vec<u16>,
    /// How long one browser round trip may take before it gives up.
    pub signin_timeout: Duration,
    /// See [`AppInfo::sandbox`].
    pub sandbox: bool,
    /// See [`AppInfo::lang`].
    pub lang: Lang,
    /// See [`AppInfo::version`].
    pub version: String,
    /// Lines for "copy diagnostics" that describe the set-up (config file, keychain service,
    /// browser, the proxy for kauth and kapi without credentials). Never a secret.
    pub diagnostics: Vec<(&'static str, String)>,
}

/// A configured value the session cannot be built with.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SetupError {
    /// `KAKAO_SIGNIN_AUTH_URL` or `KAKAO_SIGNIN_API_URL` was refused (e.g. `http://` off
    /// loopback).
    #[error("{0}")]
    Endpoint(#[source] Box<kakao::Error>),
    /// `KAKAO_SIGNIN_BROWSER` could not be parsed as a command.
    #[error("KAKAO_SIGNIN_BROWSER: {0}")]
    Browser(#[source] signin::Error),
}

impl Deps {
    /// The real parts for `config`: HTTPS through the platform's TLS with default timeouts and
    /// the environment's proxies for Kakao's hosts (never for loopback),
    /// the OS keychain under `config.keyring_service`, the configured or the system browser,
    /// the system clock, local data under `config.data_dir`, and the default sign-in timeout.
    ///
    /// Errors: [`SetupError`] for a Kakao URL or a browser command that can't be used.
    pub fn from_config(config: &Config, app: AppInfo) -> Result<Deps, SetupError> {
        let kakao_app = match &config.client_id {
            Some(id) => Some(KakaoApp {
                endpoints: Endpoints::new(config.auth_url.as_str(), config.api_url.as_str())
                    .map_err(|e| SetupError::Endpoint(Box::new(e)))?,
                client_id: id.clone(),
                client_secret: config.client_secret.clone(),
            }),
            None => None,
        };
        let browser = signin::browser_from_value(config.browser.as_deref(), &app.app_only_env)
            .map_err(SetupError::Browser)?;
        // Proxies are read once, here; the diagnostics say what the client does with them.
        let http = ReqwestHttp::with_default_timeouts();
        let proxy = http.proxy().describe(&[&config.auth_url, &config.api_url]);
        let diagnostics = vec![
            (
                "config file",
                config
                    .config_file
                    .as_ref()
                    .map(|p| p.display().to_string())
                    .unwrap_or_else(|| "none".into()),
            ),
            ("keyring service", config.keyring_service.clone()),
            (
                "browser",
                if config.browser.is_some() {
                    "KAKAO_SIGNIN_BROWSER"
                } else {
                    "system"
                }
                .into(),
            ),
            ("proxy", proxy),
        ];
        Ok(Deps {
            kakao_app,
            vault: Vault::keyring(config.keyring_service.clone()),
            browser: Arc::from(browser),
            clock: Arc::new(SystemClock),
            local: LocalData::new(&config.data_dir),
            jwks_file: Some(config.data_dir.join(JWKS_FILE)),
            http: Arc::new(http),
            redirect_ports: config.redirect_ports.clone(),
            signin_timeout: signin::DEFAULT_TIMEOUT,
            sandbox: app.sandbox,
            lang: app.lang,
            version: app.version,
            diagnostics,
        })
    }
}
