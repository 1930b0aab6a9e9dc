//! Configuration of the simulated Kakao app, its users and the token lifetimes.
//!
//! The same types are read from TOML (see the crate README and `demo.toml`).

use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::path::Path;

/// Everything the simulator needs to know: the Kakao app, its users, lifetimes and the clock start.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimConfig {
    /// The Kakao app (REST API key, client secret, redirect URIs, OIDC, consent items).
    pub app: AppConfig,
    /// Kakao accounts that can sign in.
    #[serde(default)]
    pub users: Vec<UserConfig>,
    /// Token, code and browser-session lifetimes (seconds of the simulator clock).
    #[serde(default)]
    pub lifetimes: Lifetimes,
    /// Start of the simulator clock (unix seconds). `None` = the real current time.
    /// The clock then runs in real time plus whatever `advance_clock` added.
    #[serde(default)]
    pub start_unix: Option<i64>,
}

/// The Kakao app as configured in the Kakao developer console.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppConfig {
    /// REST API key, sent as `client_id`.
    pub client_id: String,
    /// `Some(secret)` = the client-secret setting is ON (token requests must send it);
    /// `None` = OFF (a sent secret is ignored, Decision 10).
    #[serde(default)]
    pub client_secret: Option<String>,
    /// Registered redirect URIs, compared as exact strings (Decision 1).
    pub redirect_uris: Vec<String>,
    /// Registered logout redirect URIs (for `/oauth/logout`, KOE007 otherwise).
    #[serde(default)]
    pub logout_redirect_uris: Vec<String>,
    /// OpenID Connect switched on: ID tokens are issued.
    #[serde(default)]
    pub oidc: bool,
    /// Consent items (동의항목) configured for the app, in display order.
    #[serde(default)]
    pub consent_items: Vec<ConsentItem>,
    /// Numeric app id reported by `/v1/user/access_token_info`.
    #[serde(default = "default_app_id")]
    pub app_id: i64,
}

fn default_app_id() -> i64 {
    1_000_001
}

/// Type of a consent item as reported by `/v2/user/scopes`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ScopeType {
    /// Personal information item (`PRIVACY`).
    #[serde(rename = "PRIVACY", alias = "privacy")]
    Privacy,
    /// Permission item (`SERVICE`).
    #[serde(rename = "SERVICE", alias = "service")]
    Service,
}

/// One consent item (동의항목) of the app.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsentItem {
    /// Scope id, e.g. `account_email`, `profile_nickname`, `openid`.
    pub id: String,
    /// Name shown on the consent page and in `/v2/user/scopes`.
    pub display_name: String,
    /// Required consent (필수 동의): cannot be unticked nor revoked.
    #[serde(default)]
    pub required: bool,
    /// "카카오계정으로 정보 수집 후 제공": a user without a value is asked to enter it on the
    /// consent page. Not allowed for `phone_number` (FAQ S15).
    #[serde(default)]
    pub collect: bool,
    /// `PRIVACY` or `SERVICE`.
    #[serde(default = "default_kind")]
    pub kind: ScopeType,
}

fn default_kind() -> ScopeType {
    ScopeType::Privacy
}

/// A Kakao account.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserConfig {
    /// Member id (회원번호), 64-bit.
    pub id: i64,
    /// Login id typed on the login page (an e-mail address or phone number).
    pub login: String,
    /// Password for the login page.
    pub password: String,
    /// Kakao account data; every field optional.
    #[serde(default)]
    pub profile: Profile,
    /// Whether the account uses KakaoTalk. Without KakaoTalk there is no phone number (FAQ S15).
    #[serde(default = "yes")]
    pub has_kakaotalk: bool,
}

fn yes() -> bool {
    true
}

/// The account data behind `kakao_account` in `/v2/user/me`. `None` = the user never entered it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    /// Nickname; `None` = never set → Kakao's default nickname "닉네임을 등록해주세요"
    /// with `is_default_nickname: true`.
    #[serde(default)]
    pub nickname: Option<String>,
    /// 640×640 profile image URL; `None` = Kakao's default image (`is_default_image: true`).
    /// A value starting with `/` is relative to the simulator's base URL.
    #[serde(default)]
    pub profile_image_url: Option<String>,
    /// 110×110 thumbnail URL (defaults to the profile image URL).
    #[serde(default)]
    pub thumbnail_image_url: Option<String>,
    /// E-mail address.
    #[serde(default)]
    pub email: Option<String>,
    /// `false` = the address was taken by another account and expired.
    #[serde(default = "yes")]
    pub is_email_valid: bool,
    /// The address was verified.
    #[serde(default = "yes")]
    pub is_email_verified: bool,
    /// Name (이름).
    #[serde(default)]
    pub name: Option<String>,
    /// Age range such as `20~29` (the simulator's first bucket is `1~9`, Decision 5).
    #[serde(default)]
    pub age_range: Option<String>,
    /// Birth year `YYYY`.
    #[serde(default)]
    pub birthyear: Option<String>,
    /// Birthday `MMDD`.
    #[serde(default)]
    pub birthday: Option<String>,
    /// `SOLAR` or `LUNAR` (default `SOLAR` when a birthday is set).
    #[serde(default)]
    pub birthday_type: Option<String>,
    /// Leap month of a lunar birthday.
    #[serde(default)]
    pub is_leap_month: bool,
    /// `female` or `male`.
    #[serde(default)]
    pub gender: Option<String>,
    /// Phone number like `+82 10-1234-5678`; ignored when the user has no KakaoTalk.
    #[serde(default)]
    pub phone_number: Option<String>,
    /// CI (연계정보); only users who did identity verification have one.
    #[serde(default)]
    pub ci: Option<String>,
    /// When the CI was verified (unix seconds).
    #[serde(default)]
    pub ci_authenticated_at: Option<i64>,
}

/// Lifetimes in seconds of the simulator clock.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Lifetimes {
    /// Access and ID token lifetime (REST API key: 6 h − 1 s).
    pub access_secs: i64,
    /// Refresh token lifetime (≈ 60 days).
    pub refresh_secs: i64,
    /// Authorization code lifetime (Decision 7: 10 minutes).
    pub code_secs: i64,
    /// Kakao account browser session (24 h, fixed from the login).
    pub browser_session_secs: i64,
    /// Browser session when "로그인 상태 유지" was ticked (1 month).
    pub keep_login_secs: i64,
    /// A refresh grant rotates the refresh token only when less than this is left (1 month).
    pub refresh_rotation_threshold_secs: i64,
}

impl Default for Lifetimes {
    fn default() -> Self {
        Lifetimes {
            access_secs: 21_599,
            refresh_secs: 5_183_999,
            code_secs: 600,
            browser_session_secs: 86_400,
            keep_login_secs: 30 * 86_400,
            refresh_rotation_threshold_secs: 30 * 86_400,
        }
    }
}

/// A configuration that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The TOML text did not parse.
    #[error("invalid simulator config TOML: {0}")]
    Toml(#[from] toml::de::Error),
    /// The file could not be read.
    #[error("cannot read simulator config {path}: {source}")]
    Io {
        /// File that was read.
        path: String,
        /// Underlying error.
        source: std::io::Error,
    },
    /// Parsed but inconsistent.
    #[error("invalid simulator config: {0}")]
    Invalid(String),
}

/// Nickname Kakao shows for an account that never set one.
pub const DEFAULT_NICKNAME: &str = "닉네임을 등록해주세요";

impl SimConfig {
    /// The demo app with `http://127.0.0.1:{port}/callback` and `/logout` as its only
    /// registered redirect URIs: what a test of a listener on `port` registers.
    pub fn for_loopback_port(port: u16) -> Self {
        let mut cfg = SimConfig::demo();
        cfg.app.redirect_uris = vec![format!("http://127.0.0.1:{port}/callback")];
        cfg.app.logout_redirect_uris = vec![format!("http://127.0.0.1:{port}/logout")];
        cfg
    }

    /// The demo app and demo users used by the sandbox run and the tests (equal to `demo.toml`).
    pub fn demo() -> Self {
        let ports = [18682, 18683, 18684];
        let item = |id: &str, name: &str, required: bool, kind: ScopeType| ConsentItem {
            id: id.into(),
            display_name: name.into(),
            required,
            collect: false,
            kind,
        };
        let p = ScopeType::Privacy;
        let app = AppConfig {
            client_id: "sandbox-rest-api-key".into(),
            client_secret: None,
            redirect_uris: ports
                .iter()
                .map(|p| format!("http://127.0.0.1:{p}/callback"))
                .collect(),
            logout_redirect_uris: ports
                .iter()
                .map(|p| format!("http://127.0.0.1:{p}/logout"))
                .collect(),
            oidc: true,
            consent_items: vec![
                item("profile_nickname", "닉네임 (Nickname)", true, p),
                item("profile_image", "프로필 사진 (Profile image)", false, p),
                item("account_email", "카카오계정(이메일) (Email)", false, p),
                item("name", "이름 (Name)", false, p),
                item("gender", "성별 (Gender)", false, p),
                item("age_range", "연령대 (Age range)", false, p),
                item("birthday", "생일 (Birthday)", false, p),
                item("birthyear", "출생 연도 (Birth year)", false, p),
                item(
                    "phone_number",
                    "카카오계정(전화번호) (Phone number)",
                    false,
                    p,
                ),
                item("openid", "OpenID Connect", false, ScopeType::Service),
            ],
            app_id: 1_000_001,
        };
        let user = |id: i64, login: &str, profile: Profile, talk: bool| UserConfig {
            id,
            login: login.into(),
            password: "demo1234".into(),
            profile,
            has_kakaotalk: talk,
        };
        let full = Profile {
            nickname: Some("김카카오".into()),
            profile_image_url: Some("/__sim/img/full_640.jpg".into()),
            thumbnail_image_url: Some("/__sim/img/full_110.jpg".into()),
            email: Some("full@kakao.test".into()),
            is_email_valid: true,
            is_email_verified: true,
            name: Some("김카카오".into()),
            age_range: Some("30~39".into()),
            birthyear: Some("1990".into()),
            birthday: Some("0214".into()),
            birthday_type: Some("SOLAR".into()),
            is_leap_month: false,
            gender: Some("female".into()),
            phone_number: Some("+82 10-1234-5678".into()),
            ci: Some("sim-ci-full-0001".into()),
            ci_authenticated_at: Some(1_600_000_000),
        };
        let noemail = Profile {
            nickname: Some("이메일없음".into()),
            email: None,
            phone_number: None,
            gender: Some("male".into()),
            age_range: Some("20~29".into()),
            ..Profile::with_defaults()
        };
        let nonick = Profile {
            nickname: None,
            email: Some("nonick@kakao.test".into()),
            phone_number: Some("+82 10-2222-3333".into()),
            ..Profile::with_defaults()
        };
        let notalk = Profile {
            nickname: Some("톡없음".into()),
            email: Some("notalk@kakao.test".into()),
            phone_number: None,
            ..Profile::with_defaults()
        };
        SimConfig {
            app,
            users: vec![
                user(3_000_000_000_000_000_001, "full@kakao.test", full, true),
                user(
                    3_000_000_000_000_000_002,
                    "noemail@kakao.test",
                    noemail,
                    true,
                ),
                user(3_000_000_000_000_000_003, "nonick@kakao.test", nonick, true),
                user(
                    3_000_000_000_000_000_004,
                    "notalk@kakao.test",
                    notalk,
                    false,
                ),
            ],
            lifetimes: Lifetimes::default(),
            start_unix: None,
        }
    }

    /// Parses and validates a TOML configuration (format: crate README, example: `demo.toml`).
    pub fn from_toml_str(s: &str) -> Result<Self, ConfigError> {
        let cfg: SimConfig = toml::from_str(s)?;
        cfg.validate()?;
        Ok(cfg)
    }

    /// Reads, parses and validates a TOML configuration file.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self, ConfigError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Io {
            path: path.display().to_string(),
            source,
        })?;
        Self::from_toml_str(&text)
    }

    /// Checks the configuration for contradictions (duplicate ids, `phone_number` with collect…).
    pub fn validate(&self) -> Result<(), ConfigError> {
        let bad = |m: String| Err(ConfigError::Invalid(m));
        if self.app.client_id.trim().is_empty() {
            return bad("app.client_id is empty".into());
        }
        if self.app.redirect_uris.is_empty() {
            return bad("app.redirect_uris is empty".into());
        }
        let mut ids = BTreeSet::new();
        for item in &self.app.consent_items {
            if !ids.insert(item.id.as_str()) {
                return bad(format!("consent item {} listed twice", item.id));
            }
            if item.collect && matches!(item.id.as_str(), "phone_number" | "account_ci" | "openid")
            {
                return bad(format!(
                    "consent item {} cannot use the \"collect via Kakao account\" option (FAQ S15)",
                    item.id
                ));
            }
            // Kakao removed the option for the profile items on 2021-06-25: an account cannot
            // log in without a profile, so there is nothing to collect (REFERENCE §5).
            if item.collect
                && matches!(
                    item.id.as_str(),
                    "profile_nickname" | "profile_image" | "profile"
                )
            {
                return bad(format!(
                    "consent item {} cannot use the \"collect via Kakao account\" option: Kakao removed it for profile items in 2021",
                    item.id
                ));
            }
        }
        let mut uids = BTreeSet::new();
        let mut logins = BTreeSet::new();
        for u in &self.users {
            if !uids.insert(u.id) {
                return bad(format!("user id {} listed twice", u.id));
            }
            if !logins.insert(u.login.to_lowercase()) {
                return bad(format!("user login {} listed twice", u.login));
            }
        }
        let l = &self.lifetimes;
        if [
            l.access_secs,
            l.refresh_secs,
            l.code_secs,
            l.browser_session_secs,
            l.keep_login_secs,
        ]
        .iter()
        .any(|v| *v <= 0)
        {
            return bad("lifetimes must be positive".into());
        }
        Ok(())
    }

    /// Serialises the configuration as TOML (the format `from_toml_str` reads).
    pub fn to_toml_string(&self) -> String {
        toml::to_string_pretty(self).expect("config serialises")
    }
}

impl Profile {
    /// An empty profile with the defaults of the TOML format (`is_email_valid`/`verified` true).
    pub fn with_defaults() -> Self {
        Profile {
            is_email_valid: true,
            is_email_verified: true,
            ..Profile::default()
        }
    }
}
