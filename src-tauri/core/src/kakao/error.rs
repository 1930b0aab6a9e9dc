//! The one error type of the protocol layer.
//!
//! Callers branch on [`Error::kind`] (stable snake_case ids), show [`Error::message`] and
//! [`Error::fix`], and use [`Error::is_transient`] / [`Error::is_refresh_token_dead`] to decide
//! whether tokens may be deleted. Kakao says its descriptions may change, so kinds come from
//! `error_code` / `code` (and the OAuth `error` only when there is no code).
//!
//! Nothing here ever holds a token, code or secret: descriptions from Kakao are passed through
//! [`redact`] when the error is built (KOE320's description carries the authorization code).

use super::http::{TransportError, TransportErrorKind};
use crate::text::Text;
use std::fmt;

/// What the caller knew when the request was made, so [`Error::fix`] can name the exact URI.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ErrorContext {
    /// The `redirect_uri` sent at authorize and token time.
    pub redirect_uri: Option<String>,
    /// The `logout_redirect_uri` sent to `/oauth/logout`.
    pub logout_redirect_uri: Option<String>,
}

/// Which kapi call failed; a few codes mean different things per call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApiCall {
    UserMe,
    AccessTokenInfo,
    Logout,
    Unlink,
    Scopes,
    RevokeScopes,
    OidcUserInfo,
}

/// Why an ID token was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum IdTokenError {
    /// OIDC is expected but the token response had no `id_token`.
    Missing,
    /// Not a three-part JWT, bad base64/JSON, missing claim, `sub` not a member id…
    Malformed(&'static str),
    /// `alg` other than RS256 (`none`, HS256, …).
    UnsupportedAlg(String),
    /// No `kid` in the header, or no JWKS key with it even after one refetch.
    UnknownKid,
    BadSignature,
    Issuer {
        expected: String,
        found: String,
    },
    Audience,
    Expired,
    IssuedInFuture,
    Nonce,
}

#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Error {
    /// kauth answered `{"error","error_description","error_code"}` (REFERENCE §3).
    Auth {
        status: u16,
        error: String,
        /// Redacted.
        error_description: Option<String>,
        error_code: Option<String>,
        context: ErrorContext,
    },
    /// kapi answered `{"code","msg",…}` (REFERENCE §4i).
    Api {
        status: u16,
        code: i64,
        /// Redacted.
        msg: String,
        required_scopes: Vec<String>,
        allowed_scopes: Vec<String>,
        api_type: Option<String>,
        call: ApiCall,
    },
    /// The browser came back to the redirect URI with `?error=…` (REFERENCE §1).
    Redirect {
        error: String,
        /// Redacted.
        error_description: Option<String>,
        /// In case Kakao ever redirects with a KOE code (open question 4).
        error_code: Option<String>,
        context: ErrorContext,
    },
    IdToken(IdTokenError),
    /// No HTTP response at all.
    Transport(TransportError),
    /// A non-success status whose body was not a Kakao error (an HTML 502 page, a redirect…).
    Status {
        status: u16,
    },
    /// A body that could not be read as the expected JSON.
    Decode {
        status: u16,
        detail: String,
    },
    /// A configured kauth/kapi base URL was refused.
    InvalidEndpoint {
        url: String,
        reason: &'static str,
    },
}

pub(crate) struct Entry {
    pub kind: &'static str,
    pub ko: &'static str,
    pub en: &'static str,
}

const fn e(kind: &'static str, ko: &'static str, en: &'static str) -> Entry {
    Entry { kind, ko, en }
}

/// Every KOE code of REFERENCE §3.
pub(crate) static KOE: &[(&str, Entry)] = &[
    ("KOE001", e("invalid_request", "카카오 로그인 요청 형식이 잘못되었습니다. 앱을 업데이트하거나 다시 시도해 주세요.", "The sign-in request sent to Kakao was malformed. Update the app or try again.")),
    ("KOE002", e("wrong_endpoint", "카카오 로그인 요청이 잘못된 주소로 보내졌습니다.", "The sign-in request was sent to a wrong Kakao address.")),
    ("KOE003", e("kakao_temporary", "카카오 인증 서버에 일시적인 문제가 있습니다. 잠시 후 다시 시도해 주세요.", "Kakao's sign-in server has a temporary problem. Try again in a moment.")),
    ("KOE004", e("kakao_login_disabled", "이 앱은 카카오 로그인이 사용 설정되어 있지 않습니다.", "Kakao Login is not turned on for this app.")),
    ("KOE005", e("not_team_member", "테스트 중인 앱이라 팀원으로 등록된 카카오계정만 로그인할 수 있습니다.", "This app is in test mode: only Kakao accounts added as team members can sign in.")),
    ("KOE006", e("redirect_uri_not_registered", "이 앱이 보낸 리다이렉트 URI가 카카오 앱 설정에 등록되어 있지 않습니다.", "The redirect URI this app sent is not registered in the Kakao app settings.")),
    ("KOE007", e("logout_redirect_uri_not_registered", "로그아웃 리다이렉트 URI가 카카오 앱 설정에 등록되어 있지 않습니다.", "The logout redirect URI is not registered in the Kakao app settings.")),
    ("KOE008", e("wrong_app_key_type", "이 요청에 쓸 수 없는 종류의 앱 키가 사용되었습니다.", "An app key of the wrong type was used for this request.")),
    ("KOE009", e("platform_not_registered", "등록되지 않은 플랫폼에서 토큰을 요청했습니다.", "Tokens were requested from a platform not registered for this app.")),
    ("KOE010", e("invalid_client_secret", "클라이언트 시크릿이 없거나 맞지 않습니다.", "The client secret is missing or wrong.")),
    ("KOE023", e("popup_login_unavailable", "이 환경에서는 팝업 로그인을 사용할 수 없습니다.", "Pop-up sign-in is not available here.")),
    ("KOE101", e("invalid_app_key", "앱 키(REST API 키)가 잘못되었습니다.", "The app key (REST API key) is invalid.")),
    ("KOE102", e("channel_not_linked", "카카오톡 채널과 연결되지 않은 앱이 채널 정보를 요청했습니다.", "The app asked for a Kakao Talk channel it is not linked to.")),
    ("KOE201", e("unsupported_response_type", "지원하지 않는 인가 요청 형식(response_type)입니다.", "Kakao does not support the requested response_type.")),
    ("KOE202", e("implicit_grant_unsupported", "카카오는 토큰을 바로 받는 방식(implicit grant)을 지원하지 않습니다.", "Kakao does not support the implicit grant (response_type=token).")),
    ("KOE203", e("required_consent_missing", "필수 동의 항목에 모두 동의해야 로그인할 수 있습니다.", "Every required consent item must be agreed to before signing in.")),
    ("KOE204", e("invalid_parameter", "요청에 잘못된 값이 들어 있습니다.", "The request contained an invalid parameter.")),
    ("KOE205", e("scope_not_configured", "앱에 설정되지 않은 동의 항목을 요청했습니다.", "A consent item was requested that the app has not configured.")),
    ("KOE207", e("missing_parameter", "요청에 꼭 필요한 값이 빠졌습니다.", "A required parameter was missing from the request.")),
    ("KOE237", e("rate_limited", "짧은 시간에 토큰을 너무 많이 요청했습니다. 잠시 후 다시 시도해 주세요.", "Too many token requests in a short time. Try again a little later.")),
    ("KOE303", e("redirect_uri_mismatch", "인가 요청과 토큰 요청의 리다이렉트 URI가 다릅니다.", "The redirect URI of the token request differs from the one used to sign in.")),
    ("KOE310", e("unsupported_grant_type", "지원하지 않는 토큰 요청 방식(grant_type)입니다.", "Kakao does not support the requested grant_type.")),
    ("KOE319", e("refresh_token_missing", "저장된 로그인 정보(리프레시 토큰)가 없어 로그인을 유지할 수 없습니다. 다시 로그인해 주세요.", "No refresh token was available to keep you signed in. Please sign in again.")),
    ("KOE320", e("code_expired_or_used", "로그인 코드가 만료되었거나 이미 사용되었거나 이 로그인 시도와 맞지 않습니다. 다시 로그인해 주세요.", "The sign-in code expired, was already used, or does not match this sign-in attempt. Please sign in again.")),
    ("KOE322", e("refresh_token_expired", "로그인이 만료되었습니다(리프레시 토큰 만료 또는 연결 해제). 다시 로그인해 주세요.", "Your sign-in has expired (refresh token expired or the app was disconnected). Please sign in again.")),
    ("KOE400", e("id_token_invalid", "카카오가 ID 토큰이 유효하지 않다고 응답했습니다.", "Kakao reported that the ID token is invalid.")),
];

/// Every kapi code of REFERENCE §4i.
pub(crate) static API: &[(i64, Entry)] = &[
    (-1, e("kakao_temporary", "카카오 서버 내부에 일시적인 문제가 있습니다. 잠시 후 다시 시도해 주세요.", "Kakao's servers have a temporary internal problem. Try again in a moment.")),
    (-2, e("invalid_parameter", "요청 값이 없거나 잘못되었습니다.", "A request parameter was missing or invalid.")),
    (-3, e("app_setting_missing", "이 기능에 필요한 앱 설정(동의 항목 또는 기능 사용)이 꺼져 있습니다.", "An app setting this feature needs (a consent item or feature switch) is not enabled.")),
    (-4, e("account_restricted", "카카오가 이 계정의 해당 기능 사용을 제한했습니다.", "Kakao has restricted this account from doing this.")),
    (-5, e("app_not_permitted", "이 앱은 해당 카카오 API를 사용할 권한이 없습니다.", "This app has no permission to use this Kakao API.")),
    (-6, e("not_allowed_by_kakao", "카카오 서비스 정책상 허용되지 않는 요청입니다.", "Kakao's service does not allow this action.")),
    (-7, e("kakao_maintenance", "카카오 서비스 점검 또는 내부 문제로 지금 처리할 수 없습니다. 잠시 후 다시 시도해 주세요.", "Kakao is under maintenance or has an internal problem. Try again later.")),
    (-8, e("invalid_header", "요청 헤더가 잘못되었습니다.", "The request had an invalid header.")),
    (-9, e("api_discontinued", "더 이상 제공되지 않는 카카오 API입니다.", "This Kakao API has been discontinued.")),
    (-10, e("rate_limited", "카카오 API 사용 한도를 넘었습니다. 잠시 후 다시 시도해 주세요.", "The Kakao API usage limit was exceeded. Try again later.")),
    (-11, e("paid_quota_exceeded", "유료 API 사용 한도(월 예산)를 넘었습니다.", "The spending limit for paid Kakao APIs was exceeded.")),
    (-12, e("developer_sanctioned", "카카오가 이 앱 또는 개발자 계정을 제재했습니다.", "Kakao has sanctioned this app or its developer account.")),
    (-101, e("user_not_linked", "이 카카오계정은 앱에 연결되어 있지 않습니다.", "This Kakao account is not connected to the app.")),
    (-102, e("already_registered", "이미 앱에 연결된 사용자입니다.", "This user is already connected to the app.")),
    (-103, e("account_dormant_or_missing", "휴면 상태이거나 존재하지 않는 카카오계정입니다.", "The Kakao account is dormant or does not exist.")),
    (-201, e("unknown_user_property", "앱에 없는 사용자 프로퍼티를 사용했습니다.", "An unknown user property key was used.")),
    (-301, e("app_not_found", "앱 키에 해당하는 카카오 앱이 없습니다.", "No Kakao app exists for this app key.")),
    (-401, e("access_token_invalid", "액세스 토큰이 만료되었거나 유효하지 않습니다.", "The access token has expired or is invalid.")),
    (-402, e("insufficient_scope", "이 정보를 보려면 추가 동의가 필요합니다.", "Additional consent is needed for this information.")),
    (-405, e("age_verification_required", "이 기능을 쓰려면 카카오계정 연령 인증이 필요합니다.", "Age verification of the Kakao account is required for this.")),
    (-406, e("under_age_14", "만 14세 미만 사용자는 이 앱을 사용할 수 없습니다.", "Users under 14 cannot use this app.")),
    (-501, e("not_a_talk_user", "카카오톡을 사용하지 않는 계정이라 이 기능을 쓸 수 없습니다.", "This feature needs a Kakao Talk user; this account does not use Kakao Talk.")),
    (-9798, e("kakao_maintenance", "카카오 서비스 점검 중입니다. 잠시 후 다시 시도해 주세요.", "Kakao is under maintenance. Try again later.")),
];

/// Every redirect `error` value of REFERENCE §1.
pub(crate) static REDIRECT: &[(&str, Entry)] = &[
    (
        "access_denied",
        e(
            "access_denied",
            "로그인 또는 동의를 취소했습니다. 아무것도 바뀌지 않았습니다.",
            "Sign-in or consent was cancelled. Nothing was changed.",
        ),
    ),
    (
        "consent_required",
        e(
            "consent_required",
            "카카오에서 동의가 필요합니다. 다시 로그인해 동의해 주세요.",
            "Consent is needed at Kakao. Sign in again and agree.",
        ),
    ),
    (
        "login_required",
        e(
            "login_required",
            "카카오계정 로그인이 필요합니다. 다시 로그인해 주세요.",
            "Kakao account sign-in is required. Please sign in again.",
        ),
    ),
    (
        "interaction_required",
        e(
            "interaction_required",
            "카카오 화면에서 직접 확인할 것이 있습니다. 다시 로그인해 주세요.",
            "Kakao needs you to do something on its page. Please sign in again.",
        ),
    ),
    (
        "invalid_request",
        e(
            "invalid_request",
            "카카오 로그인 요청 형식이 잘못되었습니다. 앱을 업데이트하거나 다시 시도해 주세요.",
            "The sign-in request sent to Kakao was malformed. Update the app or try again.",
        ),
    ),
    (
        "invalid_client",
        e(
            "invalid_client",
            "앱 키 또는 클라이언트 시크릿이 잘못되었습니다.",
            "The app key or client secret is invalid.",
        ),
    ),
    (
        "invalid_scope",
        e(
            "invalid_scope",
            "요청한 동의 항목 중 앱에 설정되지 않은 것이 있습니다.",
            "A requested consent item is not configured for the app.",
        ),
    ),
    (
        "misconfigured",
        e(
            "misconfigured",
            "카카오 앱 설정이 이 로그인 방식과 맞지 않습니다.",
            "The Kakao app settings do not allow this kind of sign-in.",
        ),
    ),
    (
        "unauthorized",
        e(
            "unauthorized",
            "이 앱은 이 방식으로 로그인할 권한이 없습니다.",
            "This app is not authorised to sign in this way.",
        ),
    ),
    (
        "server_error",
        e(
            "kakao_temporary",
            "카카오 인증 서버에 일시적인 문제가 있습니다. 잠시 후 다시 시도해 주세요.",
            "Kakao's sign-in server has a temporary problem. Try again in a moment.",
        ),
    ),
    (
        "temporarily_unavailable",
        e(
            "kakao_temporary",
            "카카오 인증 서버를 잠시 사용할 수 없습니다. 잠시 후 다시 시도해 주세요.",
            "Kakao's sign-in server is briefly unavailable. Try again in a moment.",
        ),
    ),
];

fn koe(code: &str) -> Option<&'static Entry> {
    KOE.iter()
        .find(|(c, _)| c.eq_ignore_ascii_case(code))
        .map(|(_, e)| e)
}

fn api(code: i64) -> Option<&'static Entry> {
    API.iter().find(|(c, _)| *c == code).map(|(_, e)| e)
}

fn redirect(error: &str) -> Option<&'static Entry> {
    REDIRECT.iter().find(|(c, _)| *c == error).map(|(_, e)| e)
}

static NOT_REVOCABLE: Entry = e(
    "scope_not_revocable",
    "필수 동의 항목이라 동의를 철회할 수 없습니다.",
    "This consent item is required and cannot be withdrawn.",
);
static AUTH_GENERIC: Entry = e(
    "kakao_auth_error",
    "카카오 로그인 서버가 요청을 거절했습니다.",
    "Kakao's sign-in server refused the request.",
);
static API_GENERIC: Entry = e(
    "kakao_api_error",
    "카카오 API가 요청을 거절했습니다.",
    "The Kakao API refused the request.",
);
static REDIRECT_GENERIC: Entry = e(
    "redirect_error",
    "카카오 로그인이 오류로 끝났습니다.",
    "Kakao sign-in ended with an error.",
);
static TEMPORARY: Entry = e(
    "kakao_temporary",
    "카카오 서버에 일시적인 문제가 있습니다. 잠시 후 다시 시도해 주세요.",
    "Kakao's servers have a temporary problem. Try again in a moment.",
);
static RATE: Entry = e(
    "rate_limited",
    "요청이 너무 많습니다. 잠시 후 다시 시도해 주세요.",
    "Too many requests. Try again a little later.",
);
static UNEXPECTED: Entry = e(
    "unexpected_response",
    "카카오 서버가 예상하지 못한 응답을 보냈습니다.",
    "Kakao's server sent an unexpected response.",
);
static MALFORMED: Entry = e(
    "malformed_response",
    "카카오 서버의 응답을 읽을 수 없습니다. 잠시 후 다시 시도해 주세요.",
    "Kakao's response could not be read. Try again in a moment.",
);
static TIMEOUT: Entry = e(
    "timeout",
    "카카오 서버가 제시간에 응답하지 않았습니다. 연결을 확인하고 다시 시도해 주세요.",
    "Kakao did not answer in time. Check your connection and try again.",
);
static NETWORK: Entry = e(
    "network",
    "카카오 서버에 연결할 수 없습니다. 인터넷 연결을 확인해 주세요.",
    "Could not reach Kakao. Check your internet connection.",
);
static ENDPOINT: Entry = e(
    "invalid_endpoint",
    "설정된 카카오 서버 주소를 사용할 수 없습니다.",
    "The configured Kakao server address cannot be used.",
);

const REDIRECT_URI_PLACE_KO: &str =
    "카카오 디벨로퍼스 [앱] > [플랫폼 키] > [REST API 키] > 리다이렉트 URI";
const REDIRECT_URI_PLACE_EN: &str =
    "Kakao Developers: [App] > [Platform keys] > [REST API key] > Redirect URI";

impl Error {
    /// A kauth error body; the description is redacted here.
    pub fn auth(
        status: u16,
        error: impl Into<String>,
        error_description: Option<&str>,
        error_code: Option<String>,
    ) -> Self {
        Error::Auth {
            status,
            error: redact(&error.into()),
            error_description: error_description.map(redact),
            error_code,
            context: ErrorContext::default(),
        }
    }

    /// The `error` / `error_description` (and `error_code`, if any) of an error redirect.
    pub fn redirect(
        error: &str,
        error_description: Option<&str>,
        error_code: Option<&str>,
    ) -> Self {
        Error::Redirect {
            error: redact(error),
            error_description: error_description.map(redact),
            error_code: error_code.map(redact),
            context: ErrorContext::default(),
        }
    }

    pub(crate) fn decode(status: u16, detail: impl fmt::Display) -> Self {
        Error::Decode {
            status,
            detail: redact(&detail.to_string()),
        }
    }

    /// Attaches what was sent (redirect URIs), so `fix` can name them. Fields already set stay.
    pub fn with_context(mut self, ctx: &ErrorContext) -> Self {
        if let Error::Auth { context, .. } | Error::Redirect { context, .. } = &mut self {
            if context.redirect_uri.is_none() {
                context.redirect_uri = ctx.redirect_uri.clone();
            }
            if context.logout_redirect_uri.is_none() {
                context.logout_redirect_uri = ctx.logout_redirect_uri.clone();
            }
        }
        self
    }

    pub fn with_redirect_uri(self, redirect_uri: &str) -> Self {
        self.with_context(&ErrorContext {
            redirect_uri: Some(redirect_uri.to_owned()),
            logout_redirect_uri: None,
        })
    }

    pub fn with_logout_redirect_uri(self, logout_redirect_uri: &str) -> Self {
        self.with_context(&ErrorContext {
            redirect_uri: None,
            logout_redirect_uri: Some(logout_redirect_uri.to_owned()),
        })
    }

    /// The KOE code, if Kakao sent one.
    pub fn error_code(&self) -> Option<&str> {
        match self {
            Error::Auth { error_code, .. } | Error::Redirect { error_code, .. } => {
                error_code.as_deref()
            }
            _ => None,
        }
    }

    /// The kapi `code`, if this is a kapi error.
    pub fn api_code(&self) -> Option<i64> {
        match self {
            Error::Api { code, .. } => Some(*code),
            _ => None,
        }
    }

    /// HTTP status, where there was a response.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Auth { status, .. }
            | Error::Api { status, .. }
            | Error::Status { status }
            | Error::Decode { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// For -402: the consent items to ask for.
    pub fn required_scopes(&self) -> Option<&[String]> {
        match self {
            Error::Api {
                code: -402,
                required_scopes,
                ..
            } => Some(required_scopes),
            _ => None,
        }
    }

    fn entry(&self) -> &'static Entry {
        match self {
            Error::Auth {
                status,
                error,
                error_code,
                ..
            } => {
                if let Some(entry) = error_code.as_deref().and_then(koe) {
                    return entry;
                }
                if *status >= 500 {
                    return &TEMPORARY;
                }
                // No known code: fall back on the OAuth error name.
                match error.as_str() {
                    "invalid_token" => koe("KOE400").unwrap(),
                    other => redirect(other).unwrap_or(&AUTH_GENERIC),
                }
            }
            Error::Api {
                status, code, call, ..
            } => {
                if *code == -3 && *call == ApiCall::RevokeScopes {
                    return &NOT_REVOCABLE;
                }
                match api(*code) {
                    Some(entry) => entry,
                    None if *status >= 500 => &TEMPORARY,
                    None => &API_GENERIC,
                }
            }
            Error::Redirect {
                error, error_code, ..
            } => error_code
                .as_deref()
                .and_then(koe)
                .or_else(|| koe(error))
                .or_else(|| redirect(error))
                .unwrap_or(&REDIRECT_GENERIC),
            Error::IdToken(_) => koe("KOE400").unwrap(),
            Error::Transport(t) => match t.kind {
                TransportErrorKind::Timeout => &TIMEOUT,
                TransportErrorKind::Connect | TransportErrorKind::Dropped => &NETWORK,
            },
            Error::Status { status } => match status {
                429 => &RATE,
                s if *s >= 500 => &TEMPORARY,
                _ => &UNEXPECTED,
            },
            Error::Decode { .. } => &MALFORMED,
            Error::InvalidEndpoint { .. } => &ENDPOINT,
        }
    }

    /// Stable snake_case id the UI and the session branch on.
    pub fn kind(&self) -> &'static str {
        self.entry().kind
    }

    /// What happened, for a person, in Korean and English.
    pub fn message(&self) -> Text {
        if let Error::IdToken(reason) = self {
            let (ko, en) = match reason {
                IdTokenError::Missing => ("카카오가 ID 토큰을 보내지 않았습니다. 앱의 OpenID Connect 설정을 확인하세요.", "Kakao sent no ID token. Check that OpenID Connect is enabled for the app."),
                IdTokenError::Malformed(_) => ("ID 토큰의 형식이 잘못되었습니다.", "The ID token is malformed."),
                IdTokenError::UnsupportedAlg(_) => ("ID 토큰이 허용되지 않는 방식으로 서명되었습니다(RS256만 허용).", "The ID token uses a signing algorithm that is not allowed (RS256 only)."),
                IdTokenError::UnknownKid => ("ID 토큰을 서명한 키를 카카오 공개키 목록에서 찾을 수 없습니다.", "The key that signed the ID token is not in Kakao's published keys."),
                IdTokenError::BadSignature => ("ID 토큰의 서명이 올바르지 않습니다.", "The ID token's signature is not valid."),
                IdTokenError::Issuer { .. } => ("ID 토큰의 발급자(iss)가 설정된 카카오 인증 서버와 다릅니다.", "The ID token's issuer (iss) is not the configured Kakao sign-in server."),
                IdTokenError::Audience => ("ID 토큰이 이 앱(REST API 키)을 위해 발급되지 않았습니다.", "The ID token was not issued for this app (REST API key)."),
                IdTokenError::Expired => ("ID 토큰이 만료되었습니다. 컴퓨터 시계가 맞는지 확인하고 다시 로그인해 주세요.", "The ID token has expired. Check the computer's clock and sign in again."),
                IdTokenError::IssuedInFuture => ("ID 토큰의 발급 시각이 미래입니다. 컴퓨터 시계가 맞는지 확인해 주세요.", "The ID token claims to be issued in the future. Check the computer's clock."),
                IdTokenError::Nonce => ("ID 토큰이 이 로그인 시도의 것이 아닙니다(nonce 불일치). 다시 로그인해 주세요.", "The ID token does not belong to this sign-in attempt (nonce mismatch). Please sign in again."),
            };
            return Text::fixed(ko, en);
        }
        let entry = self.entry();
        Text::fixed(entry.ko, entry.en)
    }

    /// What to do about it, where there is something to do.
    pub fn fix(&self) -> Option<Text> {
        let ctx = match self {
            Error::Auth { context, .. } | Error::Redirect { context, .. } => Some(context),
            _ => None,
        };
        let redirect_uri = ctx.and_then(|c| c.redirect_uri.as_deref());
        let logout_uri = ctx.and_then(|c| c.logout_redirect_uri.as_deref());
        let key_fix = || {
            Text::fixed(
                "카카오 디벨로퍼스 [앱] > [플랫폼 키] > [REST API 키]의 키 값을 KAKAO_SIGNIN_CLIENT_ID에 설정하세요(네이티브 앱 키나 JavaScript 키가 아닌 REST API 키).",
                "Set KAKAO_SIGNIN_CLIENT_ID to the key shown in Kakao Developers under [App] > [Platform keys] > [REST API key] (the REST API key, not the native app or JavaScript key).",
            )
        };
        Some(match self.kind() {
            "redirect_uri_not_registered" => match redirect_uri {
                Some(uri) => Text::owned(
                    format!("{REDIRECT_URI_PLACE_KO}에 다음 주소를 한 글자도 다르지 않게 등록하세요: {uri}"),
                    format!("Register exactly this address in {REDIRECT_URI_PLACE_EN}: {uri}"),
                ),
                None => Text::owned(
                    format!("{REDIRECT_URI_PLACE_KO}에 이 앱이 보여 주는 리다이렉트 URI(http://127.0.0.1:<포트>/…, 사용하는 포트마다)를 정확히 등록하세요."),
                    format!("Register the redirect URI this app shows (http://127.0.0.1:<port>/…, one per port it uses) exactly in {REDIRECT_URI_PLACE_EN}."),
                ),
            },
            "redirect_uri_mismatch" => match redirect_uri {
                Some(uri) => Text::owned(
                    format!("토큰 요청에 보낸 리다이렉트 URI는 {uri} 입니다. 로그인할 때 보낸 주소와 같아야 하며, {REDIRECT_URI_PLACE_KO}에 정확히 등록되어 있어야 합니다. 다시 로그인해 주세요."),
                    format!("The token request sent the redirect URI {uri}. It must equal the one used to sign in and be registered exactly in {REDIRECT_URI_PLACE_EN}. Please sign in again."),
                ),
                None => Text::owned(
                    format!("로그인과 토큰 요청에 같은 리다이렉트 URI를 쓰고, 그 주소를 {REDIRECT_URI_PLACE_KO}에 정확히 등록하세요."),
                    format!("Use the same redirect URI to sign in and to get tokens, and register it exactly in {REDIRECT_URI_PLACE_EN}."),
                ),
            },
            "logout_redirect_uri_not_registered" => {
                let (ko_uri, en_uri) = match logout_uri {
                    Some(uri) => (format!("다음 주소를 정확히 등록하세요: {uri}"), format!("register exactly this address: {uri}")),
                    None => ("이 앱이 보여 주는 로그아웃 리다이렉트 URI를 정확히 등록하세요.".to_owned(), "register the logout redirect URI this app shows.".to_owned()),
                };
                Text::owned(
                    format!("카카오 디벨로퍼스 [카카오 로그인] > [고급] > 로그아웃 리다이렉트 URI에 {ko_uri}"),
                    format!("In Kakao Developers under [Kakao Login] > [Advanced] > Logout redirect URI, {en_uri}"),
                )
            }
            "invalid_client_secret" => Text::fixed(
                "카카오 디벨로퍼스 [앱] > [플랫폼 키] > [REST API 키]의 클라이언트 시크릿 설정을 확인하세요. 사용(ON)이면 같은 키의 시크릿 값을 KAKAO_SIGNIN_CLIENT_SECRET에 설정하고, 쓰지 않으려면 그 설정을 끄세요.",
                "Check the client secret setting in Kakao Developers under [App] > [Platform keys] > [REST API key]. If it is ON, set KAKAO_SIGNIN_CLIENT_SECRET to that key's secret; otherwise turn the setting off.",
            ),
            "invalid_app_key" | "wrong_app_key_type" | "platform_not_registered" | "app_not_found" => key_fix(),
            "invalid_client" => Text::fixed(
                "KAKAO_SIGNIN_CLIENT_ID에 REST API 키가, KAKAO_SIGNIN_CLIENT_SECRET에 같은 키의 클라이언트 시크릿이 설정되어 있는지 확인하세요([앱] > [플랫폼 키] > [REST API 키]).",
                "Check that KAKAO_SIGNIN_CLIENT_ID holds the REST API key and KAKAO_SIGNIN_CLIENT_SECRET that key's client secret ([App] > [Platform keys] > [REST API key]).",
            ),
            "kakao_login_disabled" => Text::fixed(
                "카카오 디벨로퍼스 [카카오 로그인]에서 사용 설정을 ON으로 바꾸세요.",
                "Turn Kakao Login ON in Kakao Developers under [Kakao Login].",
            ),
            "not_team_member" => Text::fixed(
                "카카오 디벨로퍼스에서 이 카카오계정을 앱의 팀원으로 추가하거나, 다른 카카오계정으로 로그인하세요.",
                "Add this Kakao account as a team member of the app in Kakao Developers, or sign in with another Kakao account.",
            ),
            "scope_not_configured" | "invalid_scope" | "app_setting_missing" => Text::fixed(
                "카카오 디벨로퍼스 [카카오 로그인] > [동의항목]에서 필요한 항목을 설정하세요.",
                "Configure the needed items in Kakao Developers under [Kakao Login] > [Consent items].",
            ),
            "insufficient_scope" => {
                let scopes = self.required_scopes().unwrap_or(&[]).join(", ");
                Text::owned(
                    format!("다음 항목에 추가로 동의해 주세요: {scopes}"),
                    format!("Agree to these additional items: {scopes}"),
                )
            }
            "code_expired_or_used" | "refresh_token_expired" | "refresh_token_missing"
            | "id_token_invalid" | "access_denied" | "consent_required" | "login_required"
            | "interaction_required" => Text::fixed(
                "다시 로그인해 주세요.",
                "Sign in again.",
            ),
            "rate_limited" => Text::fixed(
                "10분쯤 기다린 뒤 다시 시도하세요.",
                "Wait about ten minutes, then try again.",
            ),
            "network" | "timeout" => Text::fixed(
                "인터넷 연결(프록시, 방화벽 포함)을 확인하고 다시 시도하세요.",
                "Check the internet connection (including proxy and firewall) and try again.",
            ),
            "invalid_endpoint" => Text::fixed(
                "https 주소를 쓰세요. http는 127.0.0.1, ::1, localhost에서만 허용됩니다.",
                "Use an https address; plain http is allowed only for 127.0.0.1, ::1 and localhost.",
            ),
            _ => return None,
        })
    }

    /// True when nothing is known to be wrong with the tokens: network, timeout, 5xx, -1,
    /// KOE003, maintenance, rate limits, unreadable bodies. Callers must keep every token then.
    pub fn is_transient(&self) -> bool {
        matches!(
            self.kind(),
            "network"
                | "timeout"
                | "kakao_temporary"
                | "kakao_maintenance"
                | "rate_limited"
                | "malformed_response"
        )
    }

    /// True when Kakao said the refresh token cannot be used again, so deleting it is right:
    /// KOE322 (expired, rotated away, or the user unlinked) and KOE319 (no usable refresh token
    /// reached Kakao: the one we hold is empty, so keeping it only repeats this failure).
    /// Never true for transient failures or for client misconfiguration (KOE010/KOE101: the
    /// token is fine, the app's settings are not). "-401 right after a refresh" is the session's
    /// call, since only it knows the order of requests.
    pub fn is_refresh_token_dead(&self) -> bool {
        matches!(self, Error::Auth { error_code: Some(c), .. } if c == "KOE322" || c == "KOE319")
    }

    /// -401: the access token is expired or unknown; refresh once and retry.
    pub fn is_access_token_invalid(&self) -> bool {
        self.kind() == "access_token_invalid"
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: ", self.kind())?;
        match self {
            Error::Auth {
                status,
                error,
                error_description,
                error_code,
                ..
            } => write!(
                f,
                "kauth {status} {error} {} {}",
                error_code.as_deref().unwrap_or("-"),
                error_description.as_deref().unwrap_or("")
            ),
            Error::Api {
                status,
                code,
                msg,
                required_scopes,
                ..
            } => {
                write!(f, "kapi {status} code {code} {msg}")?;
                if !required_scopes.is_empty() {
                    write!(f, " required_scopes={required_scopes:?}")?;
                }
                Ok(())
            }
            Error::Redirect {
                error,
                error_description,
                ..
            } => write!(
                f,
                "redirect error={error} {}",
                error_description.as_deref().unwrap_or("")
            ),
            Error::IdToken(reason) => write!(f, "ID token rejected: {reason:?}"),
            Error::Transport(t) => write!(f, "{t}"),
            Error::Status { status } => write!(f, "unexpected HTTP status {status}"),
            Error::Decode { status, detail } => {
                write!(f, "HTTP {status}, body unreadable: {detail}")
            }
            Error::InvalidEndpoint { url, reason } => write!(f, "{url}: {reason}"),
        }
    }
}

impl std::error::Error for Error {}

impl From<TransportError> for Error {
    fn from(e: TransportError) -> Self {
        Error::Transport(TransportError {
            kind: e.kind,
            detail: redact(&e.detail),
        })
    }
}

impl From<IdTokenError> for Error {
    fn from(e: IdTokenError) -> Self {
        Error::IdToken(e)
    }
}

/// Removes anything that could be a credential from text that came from outside:
/// the value after `code=` / `token=` / `Bearer ` etc., and any run of 16+ URL-safe characters
/// that has a digit or mixed case (what codes, tokens and JWT parts look like). Words such as
/// `expired_or_invalid_refresh_token` survive. Capped at 300 characters.
pub fn redact(text: &str) -> String {
    const MARKERS: [&str; 5] = ["code=", "token=", "secret=", "verifier=", "bearer "];
    let is_tok = |c: char| c.is_ascii_alphanumeric() || "-_+=~/".contains(c);
    let mut out = String::with_capacity(text.len());
    let chars: Vec<char> = text.chars().collect();
    let lower: Vec<char> = text.to_lowercase().chars().collect();
    // to_lowercase can change lengths for non-ASCII; fall back to no marker scan then.
    let markers_ok = lower.len() == chars.len();
    let mut i = 0;
    while i < chars.len() {
        if markers_ok {
            if let Some(m) = MARKERS.iter().find(|m| {
                let m: Vec<char> = m.chars().collect();
                lower[i..].starts_with(&m)
            }) {
                let mlen = m.chars().count();
                out.extend(&chars[i..i + mlen]);
                i += mlen;
                let start = i;
                while i < chars.len() && (is_tok(chars[i]) || chars[i] == '.') {
                    i += 1;
                }
                if i > start {
                    out.push_str("<redacted>");
                }
                continue;
            }
        }
        if is_tok(chars[i]) {
            let start = i;
            while i < chars.len() && is_tok(chars[i]) {
                i += 1;
            }
            let run = &chars[start..i];
            let has_digit = run.iter().any(|c| c.is_ascii_digit());
            let has_lower = run.iter().any(|c| c.is_ascii_lowercase());
            let inner_upper = run.iter().skip(1).any(|c| c.is_ascii_uppercase());
            let random_looking = has_digit || (has_lower && inner_upper);
            if run.len() >= 16 && random_looking && run.iter().any(|c| c.is_ascii_alphabetic()) {
                out.push_str("<redacted>");
            } else {
                out.extend(run);
            }
            continue;
        }
        out.push(chars[i]);
        i += 1;
    }
    if out.chars().count() > 300 {
        out = out.chars().take(300).collect::<String>() + "…";
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api_err(code: i64) -> Error {
        Error::Api {
            status: 400,
            code,
            msg: "m".into(),
            required_scopes: vec![],
            allowed_scopes: vec![],
            api_type: None,
            call: ApiCall::UserMe,
        }
    }

    fn generic_kinds() -> [&'static str; 4] {
        [
            "kakao_auth_error",
            "kakao_api_error",
            "redirect_error",
            "unexpected_response",
        ]
    }

    // The lists below are copied from REFERENCE.md (§3 both tables, §4i, §1 redirect errors),
    // independently of the tables in this file, so a code dropped from a table fails here.
    const REF_KOE: &[&str] = &[
        "KOE010", "KOE101", "KOE009", "KOE303", "KOE310", "KOE319", "KOE320", "KOE322", "KOE237",
        "KOE400", "KOE001", "KOE002", "KOE003", "KOE004", "KOE005", "KOE006", "KOE007", "KOE008",
        "KOE023", "KOE102", "KOE201", "KOE202", "KOE203", "KOE204", "KOE205", "KOE207",
    ];
    const REF_API: &[i64] = &[
        -1, -2, -3, -4, -5, -6, -7, -8, -9, -10, -11, -12, -101, -102, -103, -201, -301, -401,
        -402, -405, -406, -501, -9798,
    ];
    const REF_REDIRECT: &[&str] = &[
        "access_denied",
        "consent_required",
        "login_required",
        "interaction_required",
        "invalid_request",
        "invalid_client",
        "invalid_scope",
        "misconfigured",
        "unauthorized",
        "server_error",
    ];

    fn assert_specific(err: &Error, label: &str) {
        let kind = err.kind();
        assert!(
            !generic_kinds().contains(&kind),
            "{label}: generic kind {kind}"
        );
        assert!(
            kind.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'),
            "{label}: kind {kind} not snake_case"
        );
        let m = err.message();
        for generic in [&AUTH_GENERIC, &API_GENERIC, &REDIRECT_GENERIC, &UNEXPECTED] {
            assert_ne!(m.en, generic.en, "{label}: generic message");
        }
        assert!(
            m.ko.chars().any(|c| ('가'..='힣').contains(&c)),
            "{label}: ko not Korean"
        );
        assert!(m.en.is_ascii() && m.en.len() > 15, "{label}: en {:?}", m.en);
        if let Some(fix) = err.fix() {
            assert!(!fix.ko.is_empty() && !fix.en.is_empty(), "{label}");
        }
    }

    #[test]
    fn every_reference_code_has_a_specific_kind_and_message() {
        for code in REF_KOE {
            let err = Error::auth(400, "invalid_grant", Some("x"), Some(code.to_string()));
            assert_specific(&err, code);
        }
        for code in REF_API {
            assert_specific(&api_err(*code), &code.to_string());
        }
        for error in REF_REDIRECT {
            assert_specific(&Error::redirect(error, Some("d"), None), error);
        }
        // The tables hold nothing beyond the reference either (no stale codes).
        assert_eq!(KOE.len(), REF_KOE.len());
        assert_eq!(API.len(), REF_API.len());
    }

    /// Reads REFERENCE.md when it is beside the repository (it is in the workplace and in CI)
    /// and checks every KOE and kapi code in it is in the tables.
    #[test]
    fn reference_file_codes_are_covered_when_present() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../../shared/kakao/REFERENCE.md");
        let Ok(text) = std::fs::read_to_string(&path) else {
            eprintln!("REFERENCE.md not found at {}; skipped", path.display());
            return;
        };
        let mut koe_seen = 0;
        for (i, _) in text.match_indices("KOE") {
            let code: String = text[i..].chars().take(6).collect();
            if code.len() == 6 && code[3..].bytes().all(|b| b.is_ascii_digit()) {
                assert!(
                    koe(&code).is_some(),
                    "{code} from REFERENCE.md has no entry"
                );
                koe_seen += 1;
            }
        }
        assert!(koe_seen > 20);
        let section = text
            .split("### 4i.")
            .nth(1)
            .and_then(|s| s.split("\n## ").next())
            .expect("§4i in REFERENCE.md");
        let mut api_seen = 0;
        for line in section.lines() {
            let first = line
                .trim_start_matches('|')
                .split('|')
                .next()
                .unwrap_or("")
                .trim();
            if let Ok(code) = first.parse::<i64>() {
                assert!(
                    api(code).is_some(),
                    "kapi {code} from REFERENCE.md has no entry"
                );
                api_seen += 1;
            }
        }
        assert_eq!(api_seen, REF_API.len());
    }

    #[test]
    fn named_kinds() {
        let a = |code: &str| Error::auth(400, "invalid_grant", None, Some(code.into())).kind();
        assert_eq!(a("KOE006"), "redirect_uri_not_registered");
        assert_eq!(a("KOE303"), "redirect_uri_mismatch");
        assert_eq!(a("KOE010"), "invalid_client_secret");
        assert_eq!(a("KOE101"), "invalid_app_key");
        assert_eq!(a("KOE320"), "code_expired_or_used");
        assert_eq!(a("KOE322"), "refresh_token_expired");
        assert_eq!(a("KOE237"), "rate_limited");
        assert_eq!(a("KOE003"), "kakao_temporary");
        assert_eq!(api_err(-10).kind(), "rate_limited");
        assert_eq!(api_err(-402).kind(), "insufficient_scope");
        assert_eq!(api_err(-401).kind(), "access_token_invalid");
        assert_eq!(api_err(-1).kind(), "kakao_temporary");
        assert_eq!(
            Error::redirect("access_denied", None, None).kind(),
            "access_denied"
        );
        assert_eq!(Error::Status { status: 502 }.kind(), "kakao_temporary");
        assert_eq!(Error::Status { status: 429 }.kind(), "rate_limited");
        assert_eq!(Error::Status { status: 302 }.kind(), "unexpected_response");
        assert_eq!(Error::decode(200, "eof").kind(), "malformed_response");
        assert_eq!(
            Error::IdToken(IdTokenError::Nonce).kind(),
            "id_token_invalid"
        );
        let t = |k| Error::from(TransportError::new(k, "x")).kind();
        assert_eq!(t(TransportErrorKind::Timeout), "timeout");
        assert_eq!(t(TransportErrorKind::Connect), "network");
        assert_eq!(t(TransportErrorKind::Dropped), "network");
        // Unknown code, 5xx → temporary; unknown code, 4xx → generic but still typed.
        assert_eq!(
            Error::auth(503, "server_error", None, Some("KOE999".into())).kind(),
            "kakao_temporary"
        );
        assert_eq!(
            Error::auth(400, "weird", None, Some("KOE999".into())).kind(),
            "kakao_auth_error"
        );
        assert_eq!(
            Error::auth(400, "invalid_client", None, None).kind(),
            "invalid_client"
        );
        let mut revoke = api_err(-3);
        if let Error::Api { call, .. } = &mut revoke {
            *call = ApiCall::RevokeScopes;
        }
        assert_eq!(revoke.kind(), "scope_not_revocable");
        assert_eq!(api_err(-3).kind(), "app_setting_missing");
        // A redirect that carries a KOE code uses it.
        assert_eq!(
            Error::redirect("invalid_request", None, Some("KOE205")).kind(),
            "scope_not_configured"
        );
    }

    #[test]
    fn transient_and_dead_refresh_token() {
        let a = |code: &str| Error::auth(400, "invalid_grant", None, Some(code.into()));
        for transient in [
            Error::from(TransportError::new(TransportErrorKind::Timeout, "")),
            Error::from(TransportError::new(TransportErrorKind::Connect, "")),
            Error::Status { status: 500 },
            Error::decode(200, "x"),
            api_err(-1),
            api_err(-9798),
            a("KOE003"),
            a("KOE237"),
            Error::auth(502, "server_error", None, None),
        ] {
            assert!(transient.is_transient(), "{transient}");
            assert!(!transient.is_refresh_token_dead(), "{transient}");
        }
        for permanent in [
            a("KOE322"),
            a("KOE320"),
            a("KOE010"),
            api_err(-401),
            api_err(-402),
        ] {
            assert!(!permanent.is_transient(), "{permanent}");
        }
        assert!(a("KOE322").is_refresh_token_dead());
        assert!(a("KOE319").is_refresh_token_dead());
        for alive in [a("KOE010"), a("KOE101"), a("KOE320"), api_err(-401)] {
            assert!(!alive.is_refresh_token_dead(), "{alive}");
        }
        assert!(api_err(-401).is_access_token_invalid());
    }

    #[test]
    fn fixes_name_the_exact_redirect_uri() {
        let uri = "http://127.0.0.1:9212/oauth/callback";
        for code in ["KOE006", "KOE303"] {
            let err =
                Error::auth(400, "invalid_grant", None, Some(code.into())).with_redirect_uri(uri);
            let fix = err.fix().unwrap();
            assert!(
                fix.ko.contains(uri) && fix.en.contains(uri),
                "{code}: {fix:?}"
            );
            assert!(fix
                .ko
                .contains("[앱] > [플랫폼 키] > [REST API 키] > 리다이렉트 URI"));
            // Without context there is still a useful fix.
            let bare = Error::auth(400, "invalid_grant", None, Some(code.into()));
            assert!(bare.fix().unwrap().en.contains("Redirect URI"));
        }
        let logout = Error::redirect("x", None, Some("KOE007"))
            .with_logout_redirect_uri("http://127.0.0.1:9212/logout");
        assert_eq!(logout.kind(), "logout_redirect_uri_not_registered");
        assert!(logout
            .fix()
            .unwrap()
            .en
            .contains("http://127.0.0.1:9212/logout"));
        let secret = Error::auth(
            401,
            "invalid_client",
            Some("Bad client credentials"),
            Some("KOE010".into()),
        );
        assert!(secret
            .fix()
            .unwrap()
            .en
            .contains("KAKAO_SIGNIN_CLIENT_SECRET"));
        let key = Error::auth(401, "invalid_client", None, Some("KOE101".into()));
        assert!(key.fix().unwrap().en.contains("KAKAO_SIGNIN_CLIENT_ID"));
        assert!(key.fix().unwrap().en.contains("REST API key"));
        let mut scope = api_err(-402);
        if let Error::Api {
            required_scopes, ..
        } = &mut scope
        {
            *required_scopes = vec!["account_email".into()];
        }
        assert_eq!(scope.required_scopes().unwrap(), ["account_email"]);
        assert!(scope.fix().unwrap().en.contains("account_email"));
        assert_eq!(secret.kind(), "invalid_client_secret");
        let message = serde_json::to_value(secret.message()).unwrap();
        assert!(message["ko"].is_string() && message["en"].is_string());
    }

    #[test]
    fn never_shows_codes_or_tokens() {
        let code = "SVBIOeu9xQ3kW0Ptf2AmXnvbb9Dtk1VzGz3bhP2e0rcL6Dkr2EC0uD3TCSsKPXP0AAABkCz0B5Zw";
        let err = Error::auth(
            400,
            "invalid_grant",
            Some(&format!("authorization code not found for code={code}")),
            Some("KOE320".into()),
        );
        for shown in [format!("{err}"), format!("{err:?}")] {
            assert!(!shown.contains(code), "{shown}");
            assert!(!shown.contains("SVBIOeu9"), "{shown}");
            assert!(shown.contains("code=<redacted>"), "{shown}");
        }
        let d = redact("expired_or_invalid_refresh_token");
        assert_eq!(d, "expired_or_invalid_refresh_token");
        assert_eq!(redact("User denied access"), "User denied access");
        assert_eq!(redact("Bearer abc.def"), "Bearer <redacted>");
        assert!(
            !redact("token eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxMjMifQ.c2lnbmF0dXJlMTIz")
                .contains("eyJ")
        );
        let redirect = Error::redirect("access_denied", Some(&format!("x {code}")), None);
        assert!(!format!("{redirect:?}").contains(code));
        let long = "a ".repeat(400);
        assert!(redact(&long).chars().count() <= 301);
    }
}
