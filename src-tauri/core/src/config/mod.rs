//! The app's settings: environment variables win, then `config.toml` in the OS config directory
//! (`~/.config/kakao-signin/config.toml` on Linux). A bad value stops start-up with a message
//! that names the key, the value and what is expected.

mod file;

use crate::secret::Secret;
use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use url::Url;

pub const DEFAULT_REDIRECT_PORTS: [u16; 3] = [53682, 53683, 53684];
pub const DEFAULT_AUTH_URL: &str = "https://kauth.kakao.com";
pub const DEFAULT_API_URL: &str = "https://kapi.kakao.com";
pub const DEFAULT_KEYRING_SERVICE: &str = "kakao-signin";

/// Every key the app reads, as spelt in the environment; `config.toml` uses the same names in
/// lower case without the prefix (e.g. `client_id`, `redirect_ports = [53682]`).
pub const KEYS: [&str; 8] = [
    "KAKAO_SIGNIN_CLIENT_ID",
    "KAKAO_SIGNIN_CLIENT_SECRET",
    "KAKAO_SIGNIN_REDIRECT_PORTS",
    "KAKAO_SIGNIN_AUTH_URL",
    "KAKAO_SIGNIN_API_URL",
    "KAKAO_SIGNIN_BROWSER",
    "KAKAO_SIGNIN_KEYRING_SERVICE",
    "KAKAO_SIGNIN_DATA_DIR",
];

#[derive(Debug, Clone)]
pub struct Config {
    /// The Kakao app's REST API key. `None` until the developer configures one.
    pub client_id: Option<String>,
    /// Kakao's optional "client secret" setting. A desktop app cannot keep it secret (RFC 8252
    /// §8.5); it is sent only because Kakao requires it when the setting is on.
    pub client_secret: Option<Secret>,
    pub redirect_ports: Vec<u16>,
    pub auth_url: Url,
    pub api_url: Url,
    /// A command that opens a URL (the URL is appended as its last argument).
    pub browser: Option<String>,
    pub keyring_service: String,
    pub data_dir: PathBuf,
    /// Where the file values came from, for diagnostics and error messages.
    pub config_file: Option<PathBuf>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{key} = {value:?}: {expected}")]
pub struct ConfigError {
    pub key: String,
    /// The offending value; for the client secret only its length is shown.
    pub value: String,
    pub expected: String,
}

impl ConfigError {
    fn new(key: &str, value: &str, expected: impl Into<String>) -> Self {
        ConfigError {
            key: key.to_owned(),
            value: value.to_owned(),
            expected: expected.into(),
        }
    }
}

impl Config {
    /// Reads the process environment and the default config file.
    pub fn load() -> Result<Config, ConfigError> {
        let env: BTreeMap<String, String> = std::env::vars()
            .filter(|(k, _)| k.starts_with("KAKAO_SIGNIN_"))
            .collect();
        let dirs = directories::ProjectDirs::from("", "", "kakao-signin");
        let file = dirs.as_ref().map(|d| d.config_dir().join("config.toml"));
        let default_data = dirs
            .as_ref()
            .map(|d| d.data_dir().to_path_buf())
            .unwrap_or_else(|| PathBuf::from(".kakao-signin"));
        Config::from_sources(&env, file.as_deref(), &default_data)
    }

    /// The pure part of [`Config::load`]: env values win over the file's.
    pub fn from_sources(
        env: &BTreeMap<String, String>,
        file: Option<&Path>,
        default_data_dir: &Path,
    ) -> Result<Config, ConfigError> {
        let mut values: BTreeMap<String, String> = BTreeMap::new();
        let mut config_file = None;
        if let Some(path) = file.filter(|p| p.exists()) {
            let text = std::fs::read_to_string(path).map_err(|e| {
                ConfigError::new(
                    "config file",
                    &path.display().to_string(),
                    format!("a readable file ({e})"),
                )
            })?;
            values.extend(parse_file(&text, path)?);
            config_file = Some(path.to_path_buf());
        }
        for (k, v) in env {
            if KEYS.contains(&k.as_str()) {
                values.insert(k.clone(), v.clone());
            }
        }
        let get = |k: &str| values.get(k).map(|v| v.trim()).filter(|v| !v.is_empty());

        let client_id = match get("KAKAO_SIGNIN_CLIENT_ID") {
            Some(v)
                if v.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') =>
            {
                Some(v.to_owned())
            }
            Some(v) => {
                return Err(ConfigError::new(
                    "KAKAO_SIGNIN_CLIENT_ID",
                    v,
                    "the REST API key from the Kakao console: letters, digits, '-' or '_'",
                ))
            }
            None => None,
        };
        let client_secret = get("KAKAO_SIGNIN_CLIENT_SECRET").map(Secret::new);
        let redirect_ports = match get("KAKAO_SIGNIN_REDIRECT_PORTS") {
            Some(v) => parse_ports(v)?,
            None => DEFAULT_REDIRECT_PORTS.to_vec(),
        };
        let auth_url = parse_url(
            "KAKAO_SIGNIN_AUTH_URL",
            get("KAKAO_SIGNIN_AUTH_URL").unwrap_or(DEFAULT_AUTH_URL),
        )?;
        let api_url = parse_url(
            "KAKAO_SIGNIN_API_URL",
            get("KAKAO_SIGNIN_API_URL").unwrap_or(DEFAULT_API_URL),
        )?;
        let browser =
            match get("KAKAO_SIGNIN_BROWSER") {
                Some(v)
                    if shell_words::split(v)
                        .map(|w| !w.is_empty())
                        .unwrap_or(false) =>
                {
                    Some(v.to_owned())
                }
                Some(v) => return Err(ConfigError::new(
                    "KAKAO_SIGNIN_BROWSER",
                    v,
                    "a command line such as `firefox --new-window` (the URL is added at the end)",
                )),
                None => None,
            };
        let keyring_service = match get("KAKAO_SIGNIN_KEYRING_SERVICE") {
            Some(v) if v.len() <= 128 && !v.chars().any(char::is_control) => v.to_owned(),
            Some(v) => {
                return Err(ConfigError::new(
                    "KAKAO_SIGNIN_KEYRING_SERVICE",
                    v,
                    "a short name (at most 128 characters, no control characters)",
                ))
            }
            None => DEFAULT_KEYRING_SERVICE.to_owned(),
        };
        let data_dir = match get("KAKAO_SIGNIN_DATA_DIR") {
            Some(v) if Path::new(v).is_absolute() => PathBuf::from(v),
            Some(v) => {
                return Err(ConfigError::new(
                    "KAKAO_SIGNIN_DATA_DIR",
                    v,
                    "an absolute directory path",
                ))
            }
            None => default_data_dir.to_path_buf(),
        };
        Ok(Config {
            client_id,
            client_secret,
            redirect_ports,
            auth_url,
            api_url,
            browser,
            keyring_service,
            data_dir,
            config_file,
        })
    }
}

/// `config.toml` keys are the env names without the prefix, in lower case.
fn parse_file(text: &str, path: &Path) -> Result<BTreeMap<String, String>, ConfigError> {
    let pairs = file::parse(text).map_err(|e| {
        ConfigError::new(
            "config file",
            &path.display().to_string(),
            format!("valid TOML ({e})"),
        )
    })?;
    let mut out = BTreeMap::new();
    for (k, v) in pairs {
        let env_key = format!("KAKAO_SIGNIN_{}", k.to_ascii_uppercase());
        if !KEYS.contains(&env_key.as_str()) {
            return Err(ConfigError::new(
                &k,
                &v.to_string(),
                format!(
                    "one of the known keys in {}: {}",
                    path.display(),
                    KEYS.map(|k| k.trim_start_matches("KAKAO_SIGNIN_").to_ascii_lowercase())
                        .join(", ")
                ),
            ));
        }
        let s = match v {
            file::Value::String(s) => s,
            file::Value::Integer(i) => i.to_string(),
            file::Value::Array(items) => items
                .iter()
                .map(|i| match i {
                    file::Value::String(s) => s.clone(),
                    other => other.to_string(),
                })
                .collect::<Vec<_>>()
                .join(","),
            other => {
                return Err(ConfigError::new(
                    &k,
                    &other.to_string(),
                    "a string (or a list of ports for redirect_ports)",
                ))
            }
        };
        out.insert(env_key, s);
    }
    Ok(out)
}

fn parse_ports(v: &str) -> Result<Vec<u16>, ConfigError> {
    let expected = "a comma-separated list of 1 to 10 ports (1024-65535) registered as \
                    http://127.0.0.1:<port>/callback in the Kakao console, e.g. 53682,53683";
    let mut ports = Vec::new();
    for part in v.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        match part.parse::<u16>() {
            Ok(p) if p >= 1024 && !ports.contains(&p) => ports.push(p),
            _ => return Err(ConfigError::new("KAKAO_SIGNIN_REDIRECT_PORTS", v, expected)),
        }
    }
    // Kakao allows at most 10 redirect URIs per key.
    if ports.is_empty() || ports.len() > 10 {
        return Err(ConfigError::new("KAKAO_SIGNIN_REDIRECT_PORTS", v, expected));
    }
    Ok(ports)
}

/// HTTPS for Kakao; plain HTTP only to a loopback host (the simulator).
pub fn parse_url(key: &str, v: &str) -> Result<Url, ConfigError> {
    let expected = "an https:// URL (http:// only for 127.0.0.1, ::1 or localhost), \
                    without query or fragment";
    let url = Url::parse(v).map_err(|_| ConfigError::new(key, v, expected))?;
    let ok_scheme = match url.scheme() {
        "https" => true,
        "http" => is_loopback_host(&url),
        _ => false,
    };
    if !ok_scheme || url.host().is_none() || url.query().is_some() || url.fragment().is_some() {
        return Err(ConfigError::new(key, v, expected));
    }
    Ok(url)
}

pub fn is_loopback_host(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn load(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
        Config::from_sources(&env(pairs), None, Path::new("/data"))
    }

    #[test]
    fn defaults_when_nothing_is_set() {
        let c = load(&[]).unwrap();
        assert_eq!(c.client_id, None);
        assert_eq!(c.redirect_ports, vec![53682, 53683, 53684]);
        assert_eq!(c.auth_url.as_str(), "https://kauth.kakao.com/");
        assert_eq!(c.api_url.as_str(), "https://kapi.kakao.com/");
        assert_eq!(c.keyring_service, "kakao-signin");
        assert_eq!(c.data_dir, PathBuf::from("/data"));
    }

    #[test]
    fn plain_http_only_to_loopback() {
        assert!(load(&[("KAKAO_SIGNIN_AUTH_URL", "http://127.0.0.1:9000")]).is_ok());
        assert!(load(&[("KAKAO_SIGNIN_API_URL", "http://localhost:9000")]).is_ok());
        assert!(load(&[("KAKAO_SIGNIN_API_URL", "http://[::1]:9000")]).is_ok());
        let err = load(&[("KAKAO_SIGNIN_AUTH_URL", "http://kauth.kakao.com")]).unwrap_err();
        assert_eq!(err.key, "KAKAO_SIGNIN_AUTH_URL");
        assert_eq!(err.value, "http://kauth.kakao.com");
        assert!(err.expected.contains("https://"));
        assert!(load(&[("KAKAO_SIGNIN_AUTH_URL", "ftp://127.0.0.1")]).is_err());
        assert!(load(&[("KAKAO_SIGNIN_AUTH_URL", "https://x.test/?a=1")]).is_err());
    }

    #[test]
    fn bad_ports_name_the_key_and_value() {
        // Empty or blank means "not set": the defaults apply.
        for unset in ["", "  "] {
            let c = load(&[("KAKAO_SIGNIN_REDIRECT_PORTS", unset)]).unwrap();
            assert_eq!(c.redirect_ports, DEFAULT_REDIRECT_PORTS, "{unset:?}");
        }
        for bad in [
            "abc",
            "80",
            "1023",
            "70000",
            "53682,53682",
            "1,2",
            ",",
            "-1",
        ] {
            let err = load(&[("KAKAO_SIGNIN_REDIRECT_PORTS", bad)]).unwrap_err();
            assert_eq!(err.key, "KAKAO_SIGNIN_REDIRECT_PORTS");
            assert_eq!(err.value, bad);
            assert!(err.to_string().contains("registered"), "{err}");
        }
        for (edge, want) in [("1024", 1024), ("65535", 65535)] {
            let c = load(&[("KAKAO_SIGNIN_REDIRECT_PORTS", edge)]).unwrap();
            assert_eq!(c.redirect_ports, vec![want]);
        }
        let c = load(&[("KAKAO_SIGNIN_REDIRECT_PORTS", " 50001, 50002 ")]).unwrap();
        assert_eq!(c.redirect_ports, vec![50001, 50002]);
        let eleven = (50000..50011)
            .map(|p| p.to_string())
            .collect::<Vec<_>>()
            .join(",");
        assert!(load(&[("KAKAO_SIGNIN_REDIRECT_PORTS", &eleven)]).is_err());
    }

    #[test]
    fn env_wins_over_file_and_unknown_file_keys_are_rejected() {
        let dir = std::env::temp_dir().join(format!("ks-config-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("config.toml");
        std::fs::write(
            &path,
            "client_id = \"fromfile\"\nredirect_ports = [50010, 50011]\nkeyring_service = \"f\"\n",
        )
        .unwrap();
        let c = Config::from_sources(
            &env(&[("KAKAO_SIGNIN_CLIENT_ID", "fromenv")]),
            Some(&path),
            Path::new("/d"),
        )
        .unwrap();
        assert_eq!(c.client_id.as_deref(), Some("fromenv"));
        assert_eq!(c.redirect_ports, vec![50010, 50011]);
        assert_eq!(c.keyring_service, "f");
        assert_eq!(c.config_file.as_deref(), Some(path.as_path()));

        std::fs::write(&path, "clientid = \"typo\"\n").unwrap();
        let err = Config::from_sources(&env(&[]), Some(&path), Path::new("/d")).unwrap_err();
        assert_eq!(err.key, "clientid");
        assert!(err.expected.contains("client_id"), "{err}");

        std::fs::write(&path, "client_id = \n").unwrap();
        let err = Config::from_sources(&env(&[]), Some(&path), Path::new("/d")).unwrap_err();
        assert!(err.expected.contains("TOML"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn other_bad_values() {
        assert_eq!(
            load(&[("KAKAO_SIGNIN_CLIENT_ID", "has space")])
                .unwrap_err()
                .key,
            "KAKAO_SIGNIN_CLIENT_ID"
        );
        assert_eq!(
            load(&[("KAKAO_SIGNIN_DATA_DIR", "relative/dir")])
                .unwrap_err()
                .key,
            "KAKAO_SIGNIN_DATA_DIR"
        );
        assert_eq!(
            load(&[("KAKAO_SIGNIN_BROWSER", "'unterminated")])
                .unwrap_err()
                .key,
            "KAKAO_SIGNIN_BROWSER"
        );
        let c = load(&[("KAKAO_SIGNIN_BROWSER", "chromium --headless")]).unwrap();
        assert_eq!(c.browser.as_deref(), Some("chromium --headless"));
    }

    #[test]
    fn client_secret_is_never_printed() {
        let c = load(&[("KAKAO_SIGNIN_CLIENT_SECRET", "s3cr3t-value")]).unwrap();
        assert!(!format!("{c:?}").contains("s3cr3t"));
    }
}
