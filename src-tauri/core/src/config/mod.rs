//! The app's settings: environment variables win, then `config.toml` in the OS config directory
//! (`~/.config/kakao-signin/config.toml` on Linux), read by the `toml` crate. A bad value stops
//! start-up with a [`ConfigError`] that names the key, the value (the client secret only by its
//! length) and what is expected, and for the file the line.

mod file;

use crate::secret::Secret;
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use url::Url;

/// The loopback ports tried for the sign-in redirect when none are configured, in order; each
/// must be registered as `http://127.0.0.1:<port>/callback` in the Kakao console. Below 32768,
/// so outside the ranges the systems hand out for outgoing connections (Linux 32768–60999,
/// Windows and macOS 49152–65535), where Windows reserves blocks for Hyper-V, WSL2 and Docker
/// that refuse a bind although nothing listens there.
pub const DEFAULT_REDIRECT_PORTS: [u16; 3] = [18682, 18683, 18684];
/// Kakao's auth server (authorize and token endpoints), without a trailing path.
pub const DEFAULT_AUTH_URL: &str = "https://kauth.kakao.com";
/// Kakao's API server (`/v2/user/me` and the rest), without a trailing path.
pub const DEFAULT_API_URL: &str = "https://kapi.kakao.com";
/// The OS keychain service name the tokens are stored under when none is configured.
pub const DEFAULT_KEYRING_SERVICE: &str = "kakao-signin";

/// Every key the app reads, as spelt in the environment; `config.toml` uses the same names in
/// lower case without the prefix (e.g. `client_id`, `redirect_ports = [18682]`).
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

const SECRET_KEY: &str = "KAKAO_SIGNIN_CLIENT_SECRET";

/// [`KEYS`] as spelt in `config.toml`: `client_id`, `client_secret`, …
fn file_keys() -> Vec<String> {
    KEYS.map(|k| k.trim_start_matches("KAKAO_SIGNIN_").to_ascii_lowercase())
        .to_vec()
}

/// The checked settings. Built by [`Config::load`] (or [`Config::from_sources`] in tests).
#[derive(Debug, Clone)]
pub struct Config {
    /// The Kakao app's REST API key. `None` until the developer configures one.
    pub client_id: Option<String>,
    /// Kakao's optional "client secret" setting. A desktop app cannot keep it secret (RFC 8252
    /// §8.5); it is sent only because Kakao requires it when the setting is on.
    pub client_secret: Option<Secret>,
    /// Loopback ports for the redirect URI `http://127.0.0.1:<port>/callback`, tried in order:
    /// 1 to 10 distinct ports, each 1024 or above. Default [`DEFAULT_REDIRECT_PORTS`].
    pub redirect_ports: Vec<u16>,
    /// Kakao's auth server: `https://`, or `http://` to a loopback host (the simulator).
    /// Default [`DEFAULT_AUTH_URL`].
    pub auth_url: Url,
    /// Kakao's API server, under the same rule as `auth_url`. Default [`DEFAULT_API_URL`].
    pub api_url: Url,
    /// A command that opens a URL (the URL is appended as its last argument).
    pub browser: Option<String>,
    /// The OS keychain service name: at most 128 characters, no control characters.
    /// Default [`DEFAULT_KEYRING_SERVICE`].
    pub keyring_service: String,
    /// Where non-secret app data lives: an absolute path.
    pub data_dir: PathBuf,
    /// Where the file values came from, for diagnostics and error messages.
    pub config_file: Option<PathBuf>,
}

/// A setting that stops start-up, or a config file that cannot be read or is not TOML.
///
/// Shown as `{key} = {value:?}: {expected}`, preceded by `{file}, line {line}: ` when the
/// value came from the config file (or `line {line}: ` when the file itself is not TOML).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// The setting: the environment variable (`KAKAO_SIGNIN_REDIRECT_PORTS`) or the file's key
    /// (`redirect_ports`) that held the value; `config file` when the file itself is at fault.
    pub key: String,
    /// The offending value: a string's contents, anything else from the file as written. The
    /// client secret, and the value of a key the app does not know, only by length
    /// (`<12 characters, not shown>`). For `config file`, the file's path.
    pub value: String,
    /// What the setting must look like, in words, with an example where one helps.
    pub expected: String,
    /// The line of the config file holding the value, counted from 1; `None` for a value from
    /// the environment or a file that could not be read.
    pub line: Option<usize>,
    /// The config file the key was read from; `None` for the environment, and when the error is
    /// about the file itself (then `value` is its path).
    pub file: Option<PathBuf>,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.file, self.line) {
            (Some(file), Some(line)) => write!(f, "{}, line {line}: ", file.display())?,
            (Some(file), None) => write!(f, "{}: ", file.display())?,
            (None, Some(line)) => write!(f, "line {line}: ")?,
            (None, None) => {}
        }
        write!(f, "{} = {:?}: {}", self.key, self.value, self.expected)
    }
}

impl std::error::Error for ConfigError {}

impl ConfigError {
    fn new(key: &str, value: &str, expected: impl Into<String>) -> Self {
        ConfigError {
            key: key.to_owned(),
            value: value.to_owned(),
            expected: expected.into(),
            line: None,
            file: None,
        }
    }
}

/// How an error shows a value it must not show (the client secret): by its length only.
fn redacted(value: &str) -> String {
    format!("<{} characters, not shown>", value.chars().count())
}

/// One setting as given, from the environment or the file, before it is checked; all but
/// `text` are for the [`ConfigError`] if it is refused.
struct Given {
    /// The value in the environment variable's syntax.
    text: String,
    /// The environment variable, or the key as spelt in the file.
    key: String,
    /// The value as the error shows it (see [`ConfigError::value`]).
    shown: String,
    line: Option<usize>,
    file: Option<PathBuf>,
}

impl Given {
    fn from_env(key: &str, value: &str) -> Self {
        Given {
            text: value.to_owned(),
            key: key.to_owned(),
            shown: if key == SECRET_KEY {
                redacted(value.trim())
            } else {
                value.trim().to_owned()
            },
            line: None,
            file: None,
        }
    }

    fn error(&self, expected: impl Into<String>) -> ConfigError {
        ConfigError {
            key: self.key.clone(),
            value: self.shown.clone(),
            expected: expected.into(),
            line: self.line,
            file: self.file.clone(),
        }
    }
}

impl Config {
    /// Reads the process environment (`KAKAO_SIGNIN_*`, see [`KEYS`]) and `config.toml` in the
    /// OS config directory, if it exists; the data directory defaults to the OS data directory.
    ///
    /// Errors: the first bad setting, as [`Config::from_sources`] finds it.
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

    /// The pure part of [`Config::load`]: `env` holds environment variables by name (others
    /// than [`KEYS`] are ignored), `file` is a `config.toml` to read if it exists, and
    /// `default_data_dir` is used when neither sets a data directory. Env values win over the
    /// file's; an empty or blank value counts as not set.
    ///
    /// Errors: a file that exists but cannot be read (key `config file`, value its path) or is
    /// not TOML (with `line`); in the file, an unknown key or a table, or a value of the wrong
    /// TOML type (with `file` and `line`); then any value the app cannot use, from either
    /// source (with `file` and `line` when it came from the file).
    pub fn from_sources(
        env: &BTreeMap<String, String>,
        file: Option<&Path>,
        default_data_dir: &Path,
    ) -> Result<Config, ConfigError> {
        let mut given: BTreeMap<&str, Given> = BTreeMap::new();
        let mut config_file = None;
        if let Some(path) = file.filter(|p| p.exists()) {
            let text = std::fs::read_to_string(path).map_err(|e| {
                ConfigError::new(
                    "config file",
                    &path.display().to_string(),
                    format!("a readable file ({e})"),
                )
            })?;
            for v in file::read(&text, path)? {
                let g = Given {
                    text: v.text,
                    key: v.key.to_owned(),
                    shown: v.shown,
                    line: Some(v.line),
                    file: Some(path.to_path_buf()),
                };
                given.insert(v.env_key, g);
            }
            config_file = Some(path.to_path_buf());
        }
        for key in KEYS {
            if let Some(v) = env.get(key) {
                given.insert(key, Given::from_env(key, v));
            }
        }
        let get = |k: &str| {
            given
                .get(k)
                .map(|g| (g.text.trim(), g))
                .filter(|(v, _)| !v.is_empty())
        };

        let client_id = match get("KAKAO_SIGNIN_CLIENT_ID") {
            Some((v, _))
                if v.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') =>
            {
                Some(v.to_owned())
            }
            Some((_, g)) => {
                return Err(
                    g.error("the REST API key from the Kakao console: letters, digits, '-' or '_'")
                )
            }
            None => None,
        };
        let client_secret = get(SECRET_KEY).map(|(v, _)| Secret::new(v));
        let redirect_ports = match get("KAKAO_SIGNIN_REDIRECT_PORTS") {
            Some((v, g)) => parse_ports(v).ok_or_else(|| g.error(ports_expected(g)))?,
            None => DEFAULT_REDIRECT_PORTS.to_vec(),
        };
        let auth_url = match get("KAKAO_SIGNIN_AUTH_URL") {
            Some((v, g)) => check_url(v).ok_or_else(|| g.error(url_expected(v)))?,
            None => check_url(DEFAULT_AUTH_URL).expect("the default is valid"),
        };
        let api_url = match get("KAKAO_SIGNIN_API_URL") {
            Some((v, g)) => check_url(v).ok_or_else(|| g.error(url_expected(v)))?,
            None => check_url(DEFAULT_API_URL).expect("the default is valid"),
        };
        let browser =
            match get("KAKAO_SIGNIN_BROWSER") {
                Some((v, _))
                    if shell_words::split(v)
                        .map(|w| !w.is_empty())
                        .unwrap_or(false) =>
                {
                    Some(v.to_owned())
                }
                Some((_, g)) => return Err(g.error(
                    "a command line such as `firefox --new-window` (the URL is added at the end)",
                )),
                None => None,
            };
        let keyring_service = match get("KAKAO_SIGNIN_KEYRING_SERVICE") {
            Some((v, _)) if v.len() <= 128 && !v.chars().any(char::is_control) => v.to_owned(),
            Some((_, g)) => {
                return Err(g.error("a short name (at most 128 characters, no control characters)"))
            }
            None => DEFAULT_KEYRING_SERVICE.to_owned(),
        };
        let data_dir = match get("KAKAO_SIGNIN_DATA_DIR") {
            Some((v, _)) if Path::new(v).is_absolute() => PathBuf::from(v),
            Some((_, g)) => return Err(g.error("an absolute directory path")),
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

/// What a port list must be, in the syntax of where it was given.
fn ports_expected(g: &Given) -> &'static str {
    if g.file.is_some() {
        "a list of 1 to 10 ports (1024-65535) registered as http://127.0.0.1:<port>/callback \
         in the Kakao console, e.g. [18682, 18683]"
    } else {
        "a comma-separated list of 1 to 10 ports (1024-65535) registered as \
         http://127.0.0.1:<port>/callback in the Kakao console, e.g. 18682,18683"
    }
}

/// 1 to 10 distinct ports of 1024 or above, comma-separated (blanks around them ignored).
fn parse_ports(v: &str) -> Option<Vec<u16>> {
    let mut ports = Vec::new();
    for part in v.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        match part.parse::<u16>() {
            Ok(p) if p >= 1024 && !ports.contains(&p) => ports.push(p),
            _ => return None,
        }
    }
    // Kakao allows at most 10 redirect URIs per key.
    (!ports.is_empty() && ports.len() <= 10).then_some(ports)
}

const URL_EXPECTED: &str = "an https:// URL (http:// only for 127.0.0.1, ::1 or localhost), \
                            without query or fragment";

/// HTTPS for Kakao; plain HTTP only to a loopback host (the simulator).
fn check_url(v: &str) -> Option<Url> {
    let url = Url::parse(v).ok()?;
    let ok_scheme = match url.scheme() {
        "https" => true,
        "http" => crate::net::is_loopback(&url),
        _ => false,
    };
    let ok = ok_scheme && url.host().is_some() && url.query().is_none() && url.fragment().is_none();
    ok.then_some(url)
}

/// `v` as a Kakao server URL: `https://`, or `http://` only to a loopback host (the
/// simulator), with a host and without query or fragment.
///
/// Errors: a [`ConfigError`] naming `key` and `v`, saying what is expected.
pub fn parse_url(key: &str, v: &str) -> Result<Url, ConfigError> {
    check_url(v).ok_or_else(|| ConfigError::new(key, v, url_expected(v)))
}

/// What a refused URL should have been. Host names are read as ASCII only (idna_adapter 1.0:
/// the app carries no IDNA tables), so a non-ASCII one is told how to write it.
fn url_expected(v: &str) -> &'static str {
    if v.is_ascii() {
        URL_EXPECTED
    } else {
        "an https:// URL in ASCII: write an international domain name in its xn-- form \
         (punycode)"
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
        assert_eq!(c.redirect_ports, vec![18682, 18683, 18684]);
        assert_eq!(c.auth_url.as_str(), "https://kauth.kakao.com/");
        assert_eq!(c.api_url.as_str(), "https://kapi.kakao.com/");
        assert_eq!(c.keyring_service, "kakao-signin");
        assert_eq!(c.data_dir, PathBuf::from("/data"));
    }

    #[test]
    fn default_ports_lie_below_every_dynamic_port_range_and_a_configured_list_still_wins() {
        // Linux's ephemeral range starts at 32768, Windows' and macOS' dynamic range at 49152.
        for p in DEFAULT_REDIRECT_PORTS {
            assert!((1024..32768).contains(&p), "{p}");
        }
        // Apps registered with the earlier defaults keep them by configuring them.
        let c = load(&[("KAKAO_SIGNIN_REDIRECT_PORTS", "53682,53683,53684")]).unwrap();
        assert_eq!(c.redirect_ports, vec![53682, 53683, 53684]);
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
        assert_eq!((err.line, err.file.as_deref()), (None, None));
        assert_eq!(
            err.to_string(),
            format!(
                "KAKAO_SIGNIN_AUTH_URL = \"http://kauth.kakao.com\": {}",
                err.expected
            )
        );
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
            "18682,18682",
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
        assert_eq!(err.line, Some(1));
        assert_eq!(err.file.as_deref(), Some(path.as_path()));

        std::fs::write(&path, "client_id = \n").unwrap();
        let err = Config::from_sources(&env(&[]), Some(&path), Path::new("/d")).unwrap_err();
        assert!(err.expected.contains("TOML"), "{err}");
        assert_eq!(err.line, Some(1));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// Writes `text` to a `config.toml` in a directory named after the test (tests run in
    /// parallel) and loads it with the environment `pairs`.
    fn load_file(
        test: &str,
        text: &str,
        pairs: &[(&str, &str)],
    ) -> (PathBuf, Result<Config, ConfigError>) {
        let dir = std::env::temp_dir().join(format!("ks-config-{test}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("config.toml");
        std::fs::write(&path, text).unwrap();
        let result = Config::from_sources(&env(pairs), Some(&path), Path::new("/d"));
        std::fs::remove_dir_all(&dir).unwrap();
        (path, result)
    }

    #[test]
    fn bad_file_values_name_the_file_key_the_value_and_the_line() {
        for (text, key, value, line, needle) in [
            (
                "client_id = \"ok\"\n\nredirect_ports = [18682, 80]\n",
                "redirect_ports",
                "[18682, 80]",
                3,
                "e.g. [18682, 18683]",
            ),
            (
                "redirect_ports = []",
                "redirect_ports",
                "[]",
                1,
                "registered",
            ),
            (
                "redirect_ports = '1,2'",
                "redirect_ports",
                "1,2",
                1,
                "registered",
            ),
            (
                "# servers\nauth_url = \"http://kauth.kakao.com\"",
                "auth_url",
                "http://kauth.kakao.com",
                2,
                "https://",
            ),
            (
                "\n\n\nclient_id = 'has space'",
                "client_id",
                "has space",
                4,
                "REST API key",
            ),
            (
                "data_dir = '''relative'''",
                "data_dir",
                "relative",
                1,
                "absolute",
            ),
            (
                "browser = \"'unterminated\"",
                "browser",
                "'unterminated",
                1,
                "command line",
            ),
            (
                "keyring_service = \"a\\u0007b\"",
                "keyring_service",
                "a\u{7}b",
                1,
                "control characters",
            ),
        ] {
            let (path, result) = load_file("bad-values", text, &[]);
            let err = result.unwrap_err();
            assert_eq!(
                (err.key.as_str(), err.value.as_str(), err.line),
                (key, value, Some(line)),
                "{text:?}: {err}"
            );
            assert_eq!(err.file.as_deref(), Some(path.as_path()));
            assert!(err.expected.contains(needle), "{text:?}: {err}");
            assert_eq!(
                err.to_string(),
                format!(
                    "{}, line {line}: {key} = {value:?}: {}",
                    path.display(),
                    err.expected
                )
            );
        }
        // An environment variable wins: the file's value is not used, so not checked either.
        let (_, result) = load_file(
            "bad-value-overridden",
            "redirect_ports = [80]\n",
            &[("KAKAO_SIGNIN_REDIRECT_PORTS", "50001")],
        );
        assert_eq!(result.unwrap().redirect_ports, vec![50001]);
        // Empty counts as not set, as in the environment.
        let (_, result) = load_file("empty-value", "client_id = ''\nredirect_ports = ''\n", &[]);
        let c = result.unwrap();
        assert_eq!(c.client_id, None);
        assert_eq!(c.redirect_ports, DEFAULT_REDIRECT_PORTS);
    }

    /// The old hand-written parser refused a multi-line string, and took a number given for a
    /// string setting as its digits instead of stopping start-up at its line.
    #[test]
    fn the_file_is_toml_and_types_are_strict() {
        let (_, result) = load_file(
            "toml",
            "browser = \"\"\"\nfirefox \\\n  --new-window\"\"\"  # multi-line\n",
            &[],
        );
        assert_eq!(
            result.unwrap().browser.as_deref(),
            Some("firefox --new-window")
        );
        let (path, result) = load_file(
            "strict-types",
            "# Kakao app\nclient_id = \"0123abcd\"\n\nkeyring_service = 5\n",
            &[],
        );
        let err = result.unwrap_err();
        assert_eq!(err.key, "keyring_service");
        assert_eq!(err.value, "5");
        assert_eq!(err.line, Some(4));
        assert!(err.expected.contains("string"), "{err}");
        assert!(
            err.to_string()
                .starts_with(&format!("{}, line 4: ", path.display())),
            "{err}"
        );
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
        // A host name outside ASCII says how to write it instead.
        let err = load(&[("KAKAO_SIGNIN_API_URL", "https://카카오.example/")]).unwrap_err();
        assert_eq!(err.key, "KAKAO_SIGNIN_API_URL");
        assert!(err.to_string().contains("xn--"), "{err}");
        let c = load(&[("KAKAO_SIGNIN_API_URL", "https://xn--o39a00bp0i.example/")]).unwrap();
        assert_eq!(c.api_url.host_str(), Some("xn--o39a00bp0i.example"));
        let c = load(&[("KAKAO_SIGNIN_BROWSER", "chromium --headless")]).unwrap();
        assert_eq!(c.browser.as_deref(), Some("chromium --headless"));
    }

    #[test]
    fn client_secret_is_never_printed() {
        let c = load(&[("KAKAO_SIGNIN_CLIENT_SECRET", "s3cr3t-value")]).unwrap();
        assert!(!format!("{c:?}").contains("s3cr3t"));
        let (_, result) = load_file("secret", "client_secret = 's3cr3t-value'\n", &[]);
        let c = result.unwrap();
        assert_eq!(
            c.client_secret.as_ref().map(Secret::expose),
            Some("s3cr3t-value")
        );
        assert!(!format!("{c:?}").contains("s3cr3t"));
        // A secret of the wrong type, or under a misspelt key, is refused by its length only.
        for text in [
            "client_secret = 31415926535\n",
            "client_secrte = '31415926535'\n",
        ] {
            let (_, result) = load_file("secret-refused", text, &[]);
            let err = result.unwrap_err();
            assert_eq!(err.value, "<11 characters, not shown>", "{err}");
            assert!(!format!("{err} {err:?}").contains("31415926535"), "{err}");
        }
    }
}
