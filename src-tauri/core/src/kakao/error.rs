//! The one error type of the protocol layer.
//!
//! Callers branch on [`Error::kind`] (an [`ErrorKind`], serialised as a stable snake_case id),
//! show [`Error::message`] and [`Error::fix`], and use [`Error::is_transient`] /
//! [`Error::is_refresh_token_dead`] to decide whether tokens may be deleted. Kakao says its
//! descriptions may change, so kinds come from `error_code` / `code` (and the OAuth `error` only
//! when there is no code).
//!
//! The tables here map Kakao's codes to kinds only; the words live in
//! [`crate::messages::kakao`].
//!
//! Nothing here ever holds a token, code or secret: descriptions from Kakao are passed through
//! [`redact`] when the error is built (KOE320's description carries the authorization code).

use super::http::{TransportError, TransportErrorKind};
use crate::messages::kakao as words;
use crate::text::Text;
use serde::Serialize;
use std::fmt;

/// What went wrong, as the window and the session branch on it.
///
/// Serialised (and [`ErrorKind::as_str`]) as a stable snake_case id, e.g.
/// `redirect_uri_not_registered`; the window branches on those strings, so a variant's string
/// never changes. Several Kakao codes can share a kind (KOE003, kapi -1 and any 5xx are all
/// [`ErrorKind::KakaoTemporary`]). Production code matches on the variants; the
/// `PartialEq<&str>` impl exists so tests can write `assert_eq!(err.kind(), "timeout")`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ErrorKind {
    // kauth KOE codes (REFERENCE §3).
    /// KOE001 (and the redirect `error=invalid_request`): a malformed request.
    InvalidRequest,
    /// KOE002: a request sent to a wrong Kakao URL.
    WrongEndpoint,
    /// KOE003, kapi -1 and -603, redirect `server_error` / `temporarily_unavailable`, any 5xx
    /// without a known code: Kakao has a temporary problem. Transient.
    KakaoTemporary,
    /// KOE004: Kakao Login is off for the app.
    KakaoLoginDisabled,
    /// KOE005: a test-mode app and an account that is not a team member.
    NotTeamMember,
    /// KOE006: the authorize `redirect_uri` is not registered.
    RedirectUriNotRegistered,
    /// KOE007: the `logout_redirect_uri` is not registered.
    LogoutRedirectUriNotRegistered,
    /// KOE008: an app key of the wrong type.
    WrongAppKeyType,
    /// KOE009: tokens requested from an unregistered platform.
    PlatformNotRegistered,
    /// KOE010: the client secret is missing or wrong.
    InvalidClientSecret,
    /// KOE023: pop-up sign-in is not available.
    PopupLoginUnavailable,
    /// KOE101: the app key (REST API key) is invalid.
    InvalidAppKey,
    /// KOE102: the app is not linked to the Kakao Talk channel it named.
    ChannelNotLinked,
    /// KOE201: unsupported `response_type`.
    UnsupportedResponseType,
    /// KOE202: `response_type=token` (implicit grant) is not supported.
    ImplicitGrantUnsupported,
    /// KOE203: a required consent item was not agreed to.
    RequiredConsentMissing,
    /// KOE204, kapi -2: an invalid parameter.
    InvalidParameter,
    /// KOE205: a consent item the app has not configured was requested.
    ScopeNotConfigured,
    /// KOE207: a required parameter is missing.
    MissingParameter,
    /// KOE237, kapi -10, HTTP 429: too many requests. Transient.
    RateLimited,
    /// KOE303: the token request's `redirect_uri` differs from the authorize one.
    RedirectUriMismatch,
    /// KOE310: unsupported `grant_type`.
    UnsupportedGrantType,
    /// KOE319: a refresh request without a refresh token. The refresh token is dead.
    RefreshTokenMissing,
    /// KOE320: the authorization code expired, was used, or does not match (PKCE).
    CodeExpiredOrUsed,
    /// KOE322: the refresh token expired, was rotated away, or the user unlinked. Dead.
    RefreshTokenExpired,
    /// KOE400–KOE403 (`/oauth/tokeninfo`), the OAuth `error=invalid_token`, or an ID token this
    /// app refused itself ([`IdTokenError`]).
    IdTokenInvalid,
    // kapi codes (REFERENCE §4i).
    /// kapi -3 (except on scope revocation): an app setting the feature needs is off.
    AppSettingMissing,
    /// kapi -4: Kakao restricted this account from the action.
    AccountRestricted,
    /// kapi -5: the app may not use this API.
    AppNotPermitted,
    /// kapi -6: Kakao's policy does not allow the action.
    NotAllowedByKakao,
    /// kapi -7, -9798: maintenance. Transient.
    KakaoMaintenance,
    /// kapi -8: an invalid request header.
    InvalidHeader,
    /// kapi -9: a discontinued API.
    ApiDiscontinued,
    /// kapi -11: the paid-API budget is spent.
    PaidQuotaExceeded,
    /// kapi -12, redirect `error=unauthorized_client`: the app or its developer is sanctioned.
    DeveloperSanctioned,
    /// kapi -101: the account is not connected to the app.
    UserNotLinked,
    /// kapi -102: the user is already connected.
    AlreadyRegistered,
    /// kapi -103: a dormant or missing Kakao account.
    AccountDormantOrMissing,
    /// kapi -201: an unknown user property key.
    UnknownUserProperty,
    /// kapi -301: no app for this app key.
    AppNotFound,
    /// kapi -401: the access token expired or is unknown; refresh once and retry.
    AccessTokenInvalid,
    /// kapi -402: more consent is needed (see [`Error::required_scopes`]).
    InsufficientScope,
    /// kapi -405: the account's age must be verified.
    AgeVerificationRequired,
    /// kapi -406: the user is under 14.
    #[serde(rename = "under_age_14")]
    UnderAge14,
    /// kapi -501: the account does not use Kakao Talk.
    NotATalkUser,
    /// kapi -602, -606, -911: an image upload was refused (image-upload APIs only; not
    /// reachable from the calls this app makes).
    ImageUploadRejected,
    // Redirect `error` values without a code of their own (REFERENCE §1).
    /// `error=access_denied`: the person cancelled (or Kakao refused, e.g. under 14).
    AccessDenied,
    /// `error=consent_required` (`prompt=none`).
    ConsentRequired,
    /// `error=login_required` (`prompt=none`).
    LoginRequired,
    /// `error=interaction_required` (`prompt=none`).
    InteractionRequired,
    /// `error=invalid_client` without a KOE code.
    InvalidClient,
    /// `error=invalid_scope`.
    InvalidScope,
    /// `error=misconfigured` without a KOE code.
    Misconfigured,
    /// `error=unauthorized`.
    Unauthorized,
    // No code: what this app saw.
    /// kapi -3 on scope revocation: the item is required and cannot be withdrawn.
    ScopeNotRevocable,
    /// A kauth error with no known code or `error` name.
    KakaoAuthError,
    /// A kapi error with an unknown code and a status below 500.
    KakaoApiError,
    /// An error redirect with an unknown `error` name.
    RedirectError,
    /// A non-success status whose body was not a Kakao error (not 429 or 5xx).
    UnexpectedResponse,
    /// A body that could not be read as the expected JSON. Transient.
    MalformedResponse,
    /// No answer in time. Transient.
    Timeout,
    /// No connection, or it dropped. Transient.
    Network,
    /// A configured kauth/kapi base URL was refused.
    InvalidEndpoint,
    /// kapi -903: the app key (or the token's) belongs to a developer not registered with
    /// Kakao Developers. A configuration problem, not transient (REFERENCE §4i).
    DeveloperNotRegistered,
    /// An answer longer than this app reads ([`MAX_API_BODY_BYTES`](super::MAX_API_BODY_BYTES));
    /// not Kakao's, most likely a proxy's. Transient.
    ResponseTooLarge,
}

impl ErrorKind {
    /// Every kind, in declaration order.
    pub const ALL: &'static [ErrorKind] = &[
        ErrorKind::InvalidRequest,
        ErrorKind::WrongEndpoint,
        ErrorKind::KakaoTemporary,
        ErrorKind::KakaoLoginDisabled,
        ErrorKind::NotTeamMember,
        ErrorKind::RedirectUriNotRegistered,
        ErrorKind::LogoutRedirectUriNotRegistered,
        ErrorKind::WrongAppKeyType,
        ErrorKind::PlatformNotRegistered,
        ErrorKind::InvalidClientSecret,
        ErrorKind::PopupLoginUnavailable,
        ErrorKind::InvalidAppKey,
        ErrorKind::ChannelNotLinked,
        ErrorKind::UnsupportedResponseType,
        ErrorKind::ImplicitGrantUnsupported,
        ErrorKind::RequiredConsentMissing,
        ErrorKind::InvalidParameter,
        ErrorKind::ScopeNotConfigured,
        ErrorKind::MissingParameter,
        ErrorKind::RateLimited,
        ErrorKind::RedirectUriMismatch,
        ErrorKind::UnsupportedGrantType,
        ErrorKind::RefreshTokenMissing,
        ErrorKind::CodeExpiredOrUsed,
        ErrorKind::RefreshTokenExpired,
        ErrorKind::IdTokenInvalid,
        ErrorKind::AppSettingMissing,
        ErrorKind::AccountRestricted,
        ErrorKind::AppNotPermitted,
        ErrorKind::NotAllowedByKakao,
        ErrorKind::KakaoMaintenance,
        ErrorKind::InvalidHeader,
        ErrorKind::ApiDiscontinued,
        ErrorKind::PaidQuotaExceeded,
        ErrorKind::DeveloperSanctioned,
        ErrorKind::UserNotLinked,
        ErrorKind::AlreadyRegistered,
        ErrorKind::AccountDormantOrMissing,
        ErrorKind::UnknownUserProperty,
        ErrorKind::AppNotFound,
        ErrorKind::AccessTokenInvalid,
        ErrorKind::InsufficientScope,
        ErrorKind::AgeVerificationRequired,
        ErrorKind::UnderAge14,
        ErrorKind::NotATalkUser,
        ErrorKind::ImageUploadRejected,
        ErrorKind::AccessDenied,
        ErrorKind::ConsentRequired,
        ErrorKind::LoginRequired,
        ErrorKind::InteractionRequired,
        ErrorKind::InvalidClient,
        ErrorKind::InvalidScope,
        ErrorKind::Misconfigured,
        ErrorKind::Unauthorized,
        ErrorKind::ScopeNotRevocable,
        ErrorKind::KakaoAuthError,
        ErrorKind::KakaoApiError,
        ErrorKind::RedirectError,
        ErrorKind::UnexpectedResponse,
        ErrorKind::MalformedResponse,
        ErrorKind::Timeout,
        ErrorKind::Network,
        ErrorKind::InvalidEndpoint,
        ErrorKind::DeveloperNotRegistered,
        ErrorKind::ResponseTooLarge,
    ];

    /// The stable snake_case id, the same string serde writes.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::InvalidRequest => "invalid_request",
            ErrorKind::WrongEndpoint => "wrong_endpoint",
            ErrorKind::KakaoTemporary => "kakao_temporary",
            ErrorKind::KakaoLoginDisabled => "kakao_login_disabled",
            ErrorKind::NotTeamMember => "not_team_member",
            ErrorKind::RedirectUriNotRegistered => "redirect_uri_not_registered",
            ErrorKind::LogoutRedirectUriNotRegistered => "logout_redirect_uri_not_registered",
            ErrorKind::WrongAppKeyType => "wrong_app_key_type",
            ErrorKind::PlatformNotRegistered => "platform_not_registered",
            ErrorKind::InvalidClientSecret => "invalid_client_secret",
            ErrorKind::PopupLoginUnavailable => "popup_login_unavailable",
            ErrorKind::InvalidAppKey => "invalid_app_key",
            ErrorKind::ChannelNotLinked => "channel_not_linked",
            ErrorKind::UnsupportedResponseType => "unsupported_response_type",
            ErrorKind::ImplicitGrantUnsupported => "implicit_grant_unsupported",
            ErrorKind::RequiredConsentMissing => "required_consent_missing",
            ErrorKind::InvalidParameter => "invalid_parameter",
            ErrorKind::ScopeNotConfigured => "scope_not_configured",
            ErrorKind::MissingParameter => "missing_parameter",
            ErrorKind::RateLimited => "rate_limited",
            ErrorKind::RedirectUriMismatch => "redirect_uri_mismatch",
            ErrorKind::UnsupportedGrantType => "unsupported_grant_type",
            ErrorKind::RefreshTokenMissing => "refresh_token_missing",
            ErrorKind::CodeExpiredOrUsed => "code_expired_or_used",
            ErrorKind::RefreshTokenExpired => "refresh_token_expired",
            ErrorKind::IdTokenInvalid => "id_token_invalid",
            ErrorKind::AppSettingMissing => "app_setting_missing",
            ErrorKind::AccountRestricted => "account_restricted",
            ErrorKind::AppNotPermitted => "app_not_permitted",
            ErrorKind::NotAllowedByKakao => "not_allowed_by_kakao",
            ErrorKind::KakaoMaintenance => "kakao_maintenance",
            ErrorKind::InvalidHeader => "invalid_header",
            ErrorKind::ApiDiscontinued => "api_discontinued",
            ErrorKind::PaidQuotaExceeded => "paid_quota_exceeded",
            ErrorKind::DeveloperSanctioned => "developer_sanctioned",
            ErrorKind::UserNotLinked => "user_not_linked",
            ErrorKind::AlreadyRegistered => "already_registered",
            ErrorKind::AccountDormantOrMissing => "account_dormant_or_missing",
            ErrorKind::UnknownUserProperty => "unknown_user_property",
            ErrorKind::AppNotFound => "app_not_found",
            ErrorKind::AccessTokenInvalid => "access_token_invalid",
            ErrorKind::InsufficientScope => "insufficient_scope",
            ErrorKind::AgeVerificationRequired => "age_verification_required",
            ErrorKind::UnderAge14 => "under_age_14",
            ErrorKind::NotATalkUser => "not_a_talk_user",
            ErrorKind::ImageUploadRejected => "image_upload_rejected",
            ErrorKind::AccessDenied => "access_denied",
            ErrorKind::ConsentRequired => "consent_required",
            ErrorKind::LoginRequired => "login_required",
            ErrorKind::InteractionRequired => "interaction_required",
            ErrorKind::InvalidClient => "invalid_client",
            ErrorKind::InvalidScope => "invalid_scope",
            ErrorKind::Misconfigured => "misconfigured",
            ErrorKind::Unauthorized => "unauthorized",
            ErrorKind::ScopeNotRevocable => "scope_not_revocable",
            ErrorKind::KakaoAuthError => "kakao_auth_error",
            ErrorKind::KakaoApiError => "kakao_api_error",
            ErrorKind::RedirectError => "redirect_error",
            ErrorKind::UnexpectedResponse => "unexpected_response",
            ErrorKind::MalformedResponse => "malformed_response",
            ErrorKind::Timeout => "timeout",
            ErrorKind::Network => "network",
            ErrorKind::InvalidEndpoint => "invalid_endpoint",
            ErrorKind::DeveloperNotRegistered => "developer_not_registered",
            ErrorKind::ResponseTooLarge => "response_too_large",
        }
    }
}

wire_string_impls!(ErrorKind);

/// What the caller knew when the request was made, so [`Error::fix`] can name the exact URI.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ErrorContext {
    /// The `redirect_uri` sent at authorize and token time.
    pub redirect_uri: Option<String>,
    /// The `logout_redirect_uri` sent to `/oauth/logout`.
    pub logout_redirect_uri: Option<String>,
}

/// Which kapi call failed; a few codes mean different things per call (-3 on
/// [`ApiCall::RevokeScopes`] is [`ErrorKind::ScopeNotRevocable`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApiCall {
    /// `/v2/user/me` (REFERENCE §4a).
    UserMe,
    /// `/v1/user/access_token_info`.
    AccessTokenInfo,
    /// `/v1/user/logout`.
    Logout,
    /// `/v1/user/unlink`.
    Unlink,
    /// `/v2/user/scopes`.
    Scopes,
    /// `/v2/user/revoke/scopes`.
    RevokeScopes,
    /// `/v1/oidc/userinfo`.
    OidcUserInfo,
}

/// Why an ID token was refused (REFERENCE §7; OpenID Connect Core 1.0 §3.1.3.7). Every reason
/// is [`ErrorKind::IdTokenInvalid`]; each has its own words.
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
    /// The RS256 signature does not verify with the JWKS key named by `kid`.
    BadSignature,
    /// `iss` is not the configured auth base URL.
    Issuer {
        /// The configured issuer (`https://kauth.kakao.com`).
        expected: String,
        /// The token's `iss`.
        found: String,
    },
    /// `aud` is not this app's REST API key.
    Audience,
    /// `exp` (plus leeway) is past.
    Expired,
    /// `iat` is later than now plus leeway.
    IssuedInFuture,
    /// `nonce` is missing or not this attempt's.
    Nonce,
    /// `azp` is present but not this app's REST API key (OIDC Core 3.1.3.7 item 5).
    AuthorizedParty,
    /// A refreshed ID token's `sub` is not the signed-in member (OIDC Core 12.2).
    Subject,
}

/// Everything that can go wrong talking to Kakao. Never holds a token, code or secret.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Error {
    /// kauth answered `{"error","error_description","error_code"}` (REFERENCE §3).
    Auth {
        /// HTTP status.
        status: u16,
        /// The OAuth `error` name (redacted).
        error: String,
        /// Redacted.
        error_description: Option<String>,
        /// The KOE code, e.g. `KOE320`.
        error_code: Option<String>,
        /// What was sent, for [`Error::fix`].
        context: ErrorContext,
    },
    /// kapi answered `{"code","msg",…}` (REFERENCE §4i).
    Api {
        /// HTTP status.
        status: u16,
        /// The negative kapi code, e.g. `-401`.
        code: i64,
        /// Redacted.
        msg: String,
        /// For -402: the consent items to ask for.
        required_scopes: Vec<String>,
        /// For -402: the items already agreed to.
        allowed_scopes: Vec<String>,
        /// For -402: Kakao's `api_type`.
        api_type: Option<String>,
        /// Which call failed.
        call: ApiCall,
    },
    /// The browser came back to the redirect URI with `?error=…` (REFERENCE §1).
    Redirect {
        /// The `error` name (redacted).
        error: String,
        /// Redacted.
        error_description: Option<String>,
        /// In case Kakao ever redirects with a KOE code (open question 4).
        error_code: Option<String>,
        /// What was sent, for [`Error::fix`].
        context: ErrorContext,
    },
    /// The ID token was refused by this app.
    IdToken(IdTokenError),
    /// No HTTP response at all.
    Transport(TransportError),
    /// A non-success status whose body was not a Kakao error (an HTML 502 page, a redirect…).
    Status {
        /// HTTP status.
        status: u16,
    },
    /// A body that could not be read as the expected JSON.
    Decode {
        /// HTTP status.
        status: u16,
        /// The parser's complaint (redacted).
        detail: String,
    },
    /// A configured kauth/kapi base URL was refused.
    InvalidEndpoint {
        /// The URL as configured.
        url: String,
        /// Why it was refused (English, for the log).
        reason: &'static str,
    },
}

/// Every KOE code of REFERENCE §3 and its kind. Codes sharing a kind may still read
/// differently: their own words are in [`crate::messages::kakao`].
pub(crate) static KOE: &[(&str, ErrorKind)] = &[
    ("KOE001", ErrorKind::InvalidRequest),
    ("KOE002", ErrorKind::WrongEndpoint),
    ("KOE003", ErrorKind::KakaoTemporary),
    ("KOE004", ErrorKind::KakaoLoginDisabled),
    ("KOE005", ErrorKind::NotTeamMember),
    ("KOE006", ErrorKind::RedirectUriNotRegistered),
    ("KOE007", ErrorKind::LogoutRedirectUriNotRegistered),
    ("KOE008", ErrorKind::WrongAppKeyType),
    ("KOE009", ErrorKind::PlatformNotRegistered),
    ("KOE010", ErrorKind::InvalidClientSecret),
    ("KOE023", ErrorKind::PopupLoginUnavailable),
    ("KOE101", ErrorKind::InvalidAppKey),
    ("KOE102", ErrorKind::ChannelNotLinked),
    ("KOE201", ErrorKind::UnsupportedResponseType),
    ("KOE202", ErrorKind::ImplicitGrantUnsupported),
    ("KOE203", ErrorKind::RequiredConsentMissing),
    ("KOE204", ErrorKind::InvalidParameter),
    ("KOE205", ErrorKind::ScopeNotConfigured),
    ("KOE207", ErrorKind::MissingParameter),
    ("KOE237", ErrorKind::RateLimited),
    ("KOE303", ErrorKind::RedirectUriMismatch),
    ("KOE310", ErrorKind::UnsupportedGrantType),
    ("KOE319", ErrorKind::RefreshTokenMissing),
    ("KOE320", ErrorKind::CodeExpiredOrUsed),
    ("KOE322", ErrorKind::RefreshTokenExpired),
    ("KOE400", ErrorKind::IdTokenInvalid),
    // `/oauth/tokeninfo`: wrong issuer, bad signature, expired (KOE400 covers the rest).
    ("KOE401", ErrorKind::IdTokenInvalid),
    ("KOE402", ErrorKind::IdTokenInvalid),
    ("KOE403", ErrorKind::IdTokenInvalid),
];

/// Every kapi code of REFERENCE §4i and its kind.
pub(crate) static API: &[(i64, ErrorKind)] = &[
    (-1, ErrorKind::KakaoTemporary),
    (-2, ErrorKind::InvalidParameter),
    (-3, ErrorKind::AppSettingMissing),
    (-4, ErrorKind::AccountRestricted),
    (-5, ErrorKind::AppNotPermitted),
    (-6, ErrorKind::NotAllowedByKakao),
    (-7, ErrorKind::KakaoMaintenance),
    (-8, ErrorKind::InvalidHeader),
    (-9, ErrorKind::ApiDiscontinued),
    (-10, ErrorKind::RateLimited),
    (-11, ErrorKind::PaidQuotaExceeded),
    (-12, ErrorKind::DeveloperSanctioned),
    (-101, ErrorKind::UserNotLinked),
    (-102, ErrorKind::AlreadyRegistered),
    (-103, ErrorKind::AccountDormantOrMissing),
    (-201, ErrorKind::UnknownUserProperty),
    (-301, ErrorKind::AppNotFound),
    (-401, ErrorKind::AccessTokenInvalid),
    (-402, ErrorKind::InsufficientScope),
    (-405, ErrorKind::AgeVerificationRequired),
    (-406, ErrorKind::UnderAge14),
    (-501, ErrorKind::NotATalkUser),
    (-602, ErrorKind::ImageUploadRejected),
    (-603, ErrorKind::KakaoTemporary),
    (-606, ErrorKind::ImageUploadRejected),
    (-903, ErrorKind::DeveloperNotRegistered),
    (-911, ErrorKind::ImageUploadRejected),
    (-9798, ErrorKind::KakaoMaintenance),
];

/// Every redirect `error` value of REFERENCE §1 (and OAuth's `temporarily_unavailable`) and
/// its kind.
pub(crate) static REDIRECT: &[(&str, ErrorKind)] = &[
    ("access_denied", ErrorKind::AccessDenied),
    ("consent_required", ErrorKind::ConsentRequired),
    ("login_required", ErrorKind::LoginRequired),
    ("interaction_required", ErrorKind::InteractionRequired),
    ("invalid_request", ErrorKind::InvalidRequest),
    ("invalid_client", ErrorKind::InvalidClient),
    ("invalid_scope", ErrorKind::InvalidScope),
    ("misconfigured", ErrorKind::Misconfigured),
    ("unauthorized", ErrorKind::Unauthorized),
    ("unauthorized_client", ErrorKind::DeveloperSanctioned),
    ("server_error", ErrorKind::KakaoTemporary),
    ("temporarily_unavailable", ErrorKind::KakaoTemporary),
];

/// Where an error's kind was found, so its words can be looked up the same way.
#[derive(Debug, Clone, Copy)]
enum Source {
    /// A row of [`KOE`] (the table's spelling of the code).
    Koe(&'static str),
    /// A row of [`API`].
    Api(i64),
    /// A row of [`REDIRECT`].
    Redirect(&'static str),
    /// No table: the kind's own words.
    Kind,
}

fn koe(code: &str) -> Option<(ErrorKind, Source)> {
    KOE.iter()
        .find(|(c, _)| c.eq_ignore_ascii_case(code))
        .map(|&(c, kind)| (kind, Source::Koe(c)))
}

fn api(code: i64) -> Option<(ErrorKind, Source)> {
    API.iter()
        .find(|(c, _)| *c == code)
        .map(|&(c, kind)| (kind, Source::Api(c)))
}

fn redirect(error: &str) -> Option<(ErrorKind, Source)> {
    REDIRECT
        .iter()
        .find(|(e, _)| *e == error)
        .map(|&(e, kind)| (kind, Source::Redirect(e)))
}

/// KOE400: the kind (and words) for ID tokens refused by Kakao or by this app.
const ID_TOKEN_INVALID: (ErrorKind, Source) = (ErrorKind::IdTokenInvalid, Source::Koe("KOE400"));

impl Error {
    /// A kauth error body (REFERENCE §3): HTTP status, OAuth `error`, `error_description` and
    /// the KOE `error_code`. The text fields are redacted here.
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

    /// The `error` / `error_description` (and `error_code`, if any) of an error redirect
    /// (REFERENCE §1), redacted.
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

    /// [`Error::with_context`] with only the `redirect_uri` sent at authorize and token time.
    pub fn with_redirect_uri(self, redirect_uri: &str) -> Self {
        self.with_context(&ErrorContext {
            redirect_uri: Some(redirect_uri.to_owned()),
            logout_redirect_uri: None,
        })
    }

    /// [`Error::with_context`] with only the `logout_redirect_uri` sent to `/oauth/logout`.
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

    fn classify(&self) -> (ErrorKind, Source) {
        let plain = |kind| (kind, Source::Kind);
        match self {
            Error::Auth {
                status,
                error,
                error_code,
                ..
            } => {
                if let Some(found) = error_code.as_deref().and_then(koe) {
                    return found;
                }
                if *status >= 500 {
                    return plain(ErrorKind::KakaoTemporary);
                }
                // No known code: fall back on the OAuth error name.
                match error.as_str() {
                    "invalid_token" => ID_TOKEN_INVALID,
                    other => redirect(other).unwrap_or(plain(ErrorKind::KakaoAuthError)),
                }
            }
            Error::Api {
                status, code, call, ..
            } => {
                if *code == -3 && *call == ApiCall::RevokeScopes {
                    return plain(ErrorKind::ScopeNotRevocable);
                }
                match api(*code) {
                    Some(found) => found,
                    None if *status >= 500 => plain(ErrorKind::KakaoTemporary),
                    None => plain(ErrorKind::KakaoApiError),
                }
            }
            Error::Redirect {
                error,
                error_code,
                error_description,
                ..
            } => {
                // `access_denied` is also how Kakao refuses an account under 14: not a cancel
                // (REFERENCE §1), so its description decides.
                if error == "access_denied" && error_description.as_deref().is_some_and(is_under_14)
                {
                    return plain(ErrorKind::UnderAge14);
                }
                error_code
                    .as_deref()
                    .and_then(koe)
                    .or_else(|| koe(error))
                    .or_else(|| redirect(error))
                    .unwrap_or(plain(ErrorKind::RedirectError))
            }
            Error::IdToken(_) => ID_TOKEN_INVALID,
            Error::Transport(t) => match t.kind {
                TransportErrorKind::Timeout => plain(ErrorKind::Timeout),
                TransportErrorKind::TooLarge => plain(ErrorKind::ResponseTooLarge),
                TransportErrorKind::Connect | TransportErrorKind::Dropped => {
                    plain(ErrorKind::Network)
                }
            },
            Error::Status { status } => match status {
                429 => plain(ErrorKind::RateLimited),
                s if *s >= 500 => plain(ErrorKind::KakaoTemporary),
                _ => plain(ErrorKind::UnexpectedResponse),
            },
            Error::Decode { .. } => plain(ErrorKind::MalformedResponse),
            Error::InvalidEndpoint { .. } => plain(ErrorKind::InvalidEndpoint),
        }
    }

    /// What went wrong, for the UI and the session to branch on (a KOE code, a kapi code, a
    /// redirect `error`, or what this app saw, reduced to one [`ErrorKind`]).
    pub fn kind(&self) -> ErrorKind {
        self.classify().0
    }

    /// What happened, for a person, in Korean and English.
    pub fn message(&self) -> Text {
        if let Error::IdToken(reason) = self {
            use words::id_token;
            return match reason {
                IdTokenError::Missing => id_token::missing(),
                IdTokenError::Malformed(_) => id_token::malformed(),
                IdTokenError::UnsupportedAlg(_) => id_token::unsupported_alg(),
                IdTokenError::UnknownKid => id_token::unknown_kid(),
                IdTokenError::BadSignature => id_token::bad_signature(),
                IdTokenError::Issuer { .. } => id_token::issuer(),
                IdTokenError::Audience => id_token::audience(),
                IdTokenError::Expired => id_token::expired(),
                IdTokenError::IssuedInFuture => id_token::issued_in_future(),
                IdTokenError::Nonce => id_token::nonce(),
                IdTokenError::AuthorizedParty => id_token::authorized_party(),
                IdTokenError::Subject => id_token::subject(),
            };
        }
        let (kind, source) = self.classify();
        let own = match source {
            Source::Koe(code) => words::koe_message(code),
            Source::Api(code) => words::api_message(code),
            Source::Redirect(error) => words::redirect_message(error),
            Source::Kind => None,
        };
        own.unwrap_or_else(|| words::message(kind))
    }

    /// What to do about it, where there is something to do. Names the exact redirect URI when
    /// it was attached ([`Error::with_context`]) and the consent items for -402.
    pub fn fix(&self) -> Option<Text> {
        let (kind, source) = self.classify();
        if let Source::Koe(code) = source {
            if let Some(fix) = words::koe_fix(code) {
                return Some(fix);
            }
        }
        let context = match self {
            Error::Auth { context, .. } | Error::Redirect { context, .. } => Some(context),
            _ => None,
        };
        words::fix(
            kind,
            &words::FixContext {
                redirect_uri: context.and_then(|c| c.redirect_uri.as_deref()),
                logout_redirect_uri: context.and_then(|c| c.logout_redirect_uri.as_deref()),
                required_scopes: self.required_scopes().unwrap_or(&[]),
            },
        )
    }

    /// True when nothing is known to be wrong with the tokens: network, timeout, 5xx, -1,
    /// KOE003, maintenance, rate limits, unreadable bodies. Callers must keep every token then.
    pub fn is_transient(&self) -> bool {
        matches!(
            self.kind(),
            ErrorKind::Network
                | ErrorKind::Timeout
                | ErrorKind::KakaoTemporary
                | ErrorKind::KakaoMaintenance
                | ErrorKind::RateLimited
                | ErrorKind::MalformedResponse
                | ErrorKind::ResponseTooLarge
        )
    }

    /// True, for the answer to a refresh grant, when Kakao said the refresh token cannot be used
    /// again, so deleting it is right: any `invalid_grant` (RFC 6749 §5.2), whatever
    /// `error_code` comes with it or none, as Kakao's own SDKs judge it (REFERENCE §3: KOE322
    /// expired, rotated away or unlinked; KOE319 no usable token; others alike). Never true for
    /// transient failures (5xx, network) or for client misconfiguration (`invalid_client`,
    /// KOE010/KOE101: the token is fine, the app's settings are not). "-401 right after a
    /// refresh" is the session's call, since only it knows the order of requests.
    pub fn is_refresh_token_dead(&self) -> bool {
        match self {
            Error::Auth {
                status,
                error,
                error_code,
                ..
            } => {
                *status < 500
                    && (error.eq_ignore_ascii_case("invalid_grant")
                        || matches!(error_code.as_deref(), Some("KOE322" | "KOE319")))
            }
            _ => false,
        }
    }

    /// What this error, the answer to a call made with the session's access token
    /// (`/v1/user/access_token_info`, or any kapi call), says about the session, as Kakao's
    /// guidance and SDKs judge it (REFERENCE §4b, §4i): see [`TokenVerdict`].
    pub fn token_verdict(&self) -> TokenVerdict {
        if self.is_transient() {
            return TokenVerdict::Transient;
        }
        match self {
            Error::Api { code: -401, .. } => TokenVerdict::Refresh,
            Error::Api { code: -101, .. } => TokenVerdict::NotLinked,
            // -2: a malformed request or token; Kakao names it with -1 and -401 as the errors
            // that do not end a session.
            Error::Api { code: -2, .. } => TokenVerdict::Keep,
            // -402 only asks for more consent for one API; the session is fine.
            Error::Api { code: -402, .. } => TokenVerdict::Keep,
            Error::Api { .. } => TokenVerdict::Unusable,
            _ => TokenVerdict::Keep,
        }
    }

    /// -401: the access token is expired or unknown; refresh once and retry.
    pub fn is_access_token_invalid(&self) -> bool {
        self.kind() == ErrorKind::AccessTokenInvalid
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

/// What a kapi error answered to the session's access token means for the session
/// ([`Error::token_verdict`]; REFERENCE §4b: "-1, -2 and -401 aside, the app, the user or the
/// token is no longer usable: log the user out").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenVerdict {
    /// Nothing is known to be wrong with the tokens (network, 5xx, -1, -603, -7, -9798, -10):
    /// keep every token and try again later.
    Transient,
    /// -401: the access token expired or is unknown; refresh once and retry.
    Refresh,
    /// -101: the member disconnected the app at Kakao (Kakao account page, KakaoTalk): the
    /// session and the member's data on this machine go, as after Disconnect.
    NotLinked,
    /// Any other kapi code (-3, -4, -12, -103, -406, -903, …): the app, the member or the token
    /// can no longer be used; sign out with Kakao's reason.
    Unusable,
    /// Keep the tokens and show the error (-2, -402, and errors that are not kapi answers).
    Keep,
}

/// Whether an `access_denied` description is Kakao's refusal of an account under 14
/// (`Not allowed under age 14`, REFERENCE §1), not a cancel.
fn is_under_14(description: &str) -> bool {
    let d = description.to_ascii_lowercase();
    d.contains("14") && (d.contains("age") || d.contains("under"))
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

    const GENERIC_KINDS: [ErrorKind; 4] = [
        ErrorKind::KakaoAuthError,
        ErrorKind::KakaoApiError,
        ErrorKind::RedirectError,
        ErrorKind::UnexpectedResponse,
    ];

    // The lists below are copied from REFERENCE.md (§3 both tables, §4i, §1 redirect errors),
    // independently of the tables in this file, so a code dropped from a table fails here.
    const REF_KOE: &[&str] = &[
        "KOE010", "KOE101", "KOE009", "KOE303", "KOE310", "KOE319", "KOE320", "KOE322", "KOE237",
        "KOE400", "KOE401", "KOE402", "KOE403", "KOE001", "KOE002", "KOE003", "KOE004", "KOE005",
        "KOE006", "KOE007", "KOE008", "KOE023", "KOE102", "KOE201", "KOE202", "KOE203", "KOE204",
        "KOE205", "KOE207",
    ];
    const REF_API: &[i64] = &[
        -1, -2, -3, -4, -5, -6, -7, -8, -9, -10, -11, -12, -101, -102, -103, -201, -301, -401,
        -402, -405, -406, -501, -602, -603, -606, -903, -911, -9798,
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
        "unauthorized_client",
        "server_error",
    ];

    fn assert_specific(err: &Error, label: &str) {
        let kind = err.kind();
        assert!(
            !GENERIC_KINDS.contains(&kind),
            "{label}: generic kind {kind}"
        );
        let m = err.message();
        for generic in GENERIC_KINDS {
            assert_ne!(m.en, words::message(generic).en, "{label}: generic message");
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

    /// Reads REFERENCE.md from `shared/kakao/` beside the repository (it is there in the
    /// workplace and in CI's clone) and checks every KOE and kapi code in it is in the tables.
    /// A missing file fails: a skipped check would pass with a stale table.
    #[test]
    fn reference_file_codes_are_covered() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../../shared/kakao/REFERENCE.md");
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
            panic!(
                "REFERENCE.md must be readable at {} (the `shared` folder beside the repository, \
                 from CARGO_MANIFEST_DIR {}): {e}",
                path.display(),
                env!("CARGO_MANIFEST_DIR"),
            )
        });
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

    /// REFERENCE §4b: -1 (and other transient codes), -2 and -401 do not end a session; -101 is
    /// "disconnected at Kakao"; any other kapi code means the session can no longer be used.
    #[test]
    fn token_verdicts_follow_kakaos_guidance() {
        use TokenVerdict as V;
        for (code, verdict) in [
            (-1, V::Transient),
            (-603, V::Transient),
            (-7, V::Transient),
            (-9798, V::Transient),
            (-10, V::Transient),
            (-401, V::Refresh),
            (-2, V::Keep),
            (-402, V::Keep),
            (-101, V::NotLinked),
            (-3, V::Unusable),
            (-4, V::Unusable),
            (-12, V::Unusable),
            (-103, V::Unusable),
            (-406, V::Unusable),
            (-903, V::Unusable),
            (-777, V::Unusable),
        ] {
            assert_eq!(api_err(code).token_verdict(), verdict, "{code}");
        }
        assert_eq!(
            Error::from(TransportError::new(TransportErrorKind::Timeout, "")).token_verdict(),
            V::Transient
        );
        assert_eq!(Error::Status { status: 404 }.token_verdict(), V::Keep);
    }

    /// -903, `unauthorized_client` and the under-14 `access_denied` have their own words and
    /// fixes, and the under-14 refusal is not a cancel (REFERENCE §1, §4i).
    #[test]
    fn suspended_unregistered_and_under_14_have_their_own_words() {
        let under14 = Error::redirect("access_denied", Some("Not allowed under age 14"), None);
        assert_eq!(under14.kind(), "under_age_14");
        let cancel = Error::redirect("access_denied", Some("User denied access"), None);
        assert_eq!(cancel.kind(), "access_denied");
        let sanctioned = Error::redirect("unauthorized_client", None, None);
        assert_eq!(sanctioned.kind(), "developer_sanctioned");
        let unregistered = api_err(-903);
        assert_eq!(unregistered.kind(), "developer_not_registered");
        for e in [&under14, &sanctioned, &unregistered] {
            let fix = e.fix().unwrap_or_else(|| panic!("{e}: no fix"));
            assert_ne!(e.message(), cancel.message(), "{e}");
            assert!(!fix.get(crate::text::Lang::Ko).is_empty());
            assert!(!fix.get(crate::text::Lang::En).is_empty());
        }
        assert!(under14
            .fix()
            .unwrap()
            .get(crate::text::Lang::En)
            .contains("Use another account"));
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
            api_err(-603),
            Error::auth(500, "server_error", None, Some("KOE003".into())),
            Error::auth(400, "invalid_request", None, Some("KOE237".into())),
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
            api_err(-903),
        ] {
            assert!(!permanent.is_transient(), "{permanent}");
        }
        assert!(a("KOE322").is_refresh_token_dead());
        assert!(a("KOE319").is_refresh_token_dead());
        // Any `invalid_grant` at refresh, whatever code comes with it or none, as Kakao's SDKs
        // judge it (REFERENCE §3), in any letter case.
        assert!(a("KOE999").is_refresh_token_dead());
        assert!(Error::auth(400, "invalid_grant", None, None).is_refresh_token_dead());
        assert!(Error::auth(400, "INVALID_GRANT", None, None).is_refresh_token_dead());
        let client = |code: &str| Error::auth(401, "invalid_client", None, Some(code.into()));
        for alive in [
            client("KOE010"),
            client("KOE101"),
            Error::auth(401, "invalid_client", None, None),
            Error::auth(400, "invalid_request", None, Some("KOE237".into())),
            api_err(-401),
        ] {
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
        assert_eq!(
            serde_json::to_value(secret.kind()).unwrap(),
            "invalid_client_secret"
        );
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

    #[test]
    fn every_kind_is_in_all_and_serialises_as_its_str() {
        // Exhaustive: a new variant does not compile here until it has the next number; then
        // the loop fails until it is appended to `ALL` in the same place.
        fn position(kind: ErrorKind) -> usize {
            match kind {
                ErrorKind::InvalidRequest => 0,
                ErrorKind::WrongEndpoint => 1,
                ErrorKind::KakaoTemporary => 2,
                ErrorKind::KakaoLoginDisabled => 3,
                ErrorKind::NotTeamMember => 4,
                ErrorKind::RedirectUriNotRegistered => 5,
                ErrorKind::LogoutRedirectUriNotRegistered => 6,
                ErrorKind::WrongAppKeyType => 7,
                ErrorKind::PlatformNotRegistered => 8,
                ErrorKind::InvalidClientSecret => 9,
                ErrorKind::PopupLoginUnavailable => 10,
                ErrorKind::InvalidAppKey => 11,
                ErrorKind::ChannelNotLinked => 12,
                ErrorKind::UnsupportedResponseType => 13,
                ErrorKind::ImplicitGrantUnsupported => 14,
                ErrorKind::RequiredConsentMissing => 15,
                ErrorKind::InvalidParameter => 16,
                ErrorKind::ScopeNotConfigured => 17,
                ErrorKind::MissingParameter => 18,
                ErrorKind::RateLimited => 19,
                ErrorKind::RedirectUriMismatch => 20,
                ErrorKind::UnsupportedGrantType => 21,
                ErrorKind::RefreshTokenMissing => 22,
                ErrorKind::CodeExpiredOrUsed => 23,
                ErrorKind::RefreshTokenExpired => 24,
                ErrorKind::IdTokenInvalid => 25,
                ErrorKind::AppSettingMissing => 26,
                ErrorKind::AccountRestricted => 27,
                ErrorKind::AppNotPermitted => 28,
                ErrorKind::NotAllowedByKakao => 29,
                ErrorKind::KakaoMaintenance => 30,
                ErrorKind::InvalidHeader => 31,
                ErrorKind::ApiDiscontinued => 32,
                ErrorKind::PaidQuotaExceeded => 33,
                ErrorKind::DeveloperSanctioned => 34,
                ErrorKind::UserNotLinked => 35,
                ErrorKind::AlreadyRegistered => 36,
                ErrorKind::AccountDormantOrMissing => 37,
                ErrorKind::UnknownUserProperty => 38,
                ErrorKind::AppNotFound => 39,
                ErrorKind::AccessTokenInvalid => 40,
                ErrorKind::InsufficientScope => 41,
                ErrorKind::AgeVerificationRequired => 42,
                ErrorKind::UnderAge14 => 43,
                ErrorKind::NotATalkUser => 44,
                ErrorKind::ImageUploadRejected => 45,
                ErrorKind::AccessDenied => 46,
                ErrorKind::ConsentRequired => 47,
                ErrorKind::LoginRequired => 48,
                ErrorKind::InteractionRequired => 49,
                ErrorKind::InvalidClient => 50,
                ErrorKind::InvalidScope => 51,
                ErrorKind::Misconfigured => 52,
                ErrorKind::Unauthorized => 53,
                ErrorKind::ScopeNotRevocable => 54,
                ErrorKind::KakaoAuthError => 55,
                ErrorKind::KakaoApiError => 56,
                ErrorKind::RedirectError => 57,
                ErrorKind::UnexpectedResponse => 58,
                ErrorKind::MalformedResponse => 59,
                ErrorKind::Timeout => 60,
                ErrorKind::Network => 61,
                ErrorKind::InvalidEndpoint => 62,
                ErrorKind::DeveloperNotRegistered => 63,
                ErrorKind::ResponseTooLarge => 64,
            }
        }
        let mut seen = std::collections::HashSet::new();
        for (i, &kind) in ErrorKind::ALL.iter().enumerate() {
            assert_eq!(position(kind), i, "{kind:?} is out of place in ALL");
            assert_eq!(
                serde_json::to_value(kind).unwrap(),
                serde_json::Value::from(kind.as_str()),
                "{kind:?}"
            );
            assert_eq!(kind.to_string(), kind.as_str());
            assert_eq!(kind, kind.as_str());
            assert!(seen.insert(kind.as_str()), "{kind:?}: string used twice");
            assert!(
                kind.as_str()
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'),
                "{kind:?} not snake_case"
            );
        }
    }

    #[test]
    fn every_kind_has_words_in_both_languages() {
        for &kind in ErrorKind::ALL {
            let m = words::message(kind);
            assert!(
                m.ko.chars().any(|c| ('가'..='힣').contains(&c)),
                "{kind}: ko not Korean"
            );
            assert!(m.en.is_ascii() && m.en.len() > 15, "{kind}: en {:?}", m.en);
        }
    }

    /// A code's own words are for codes in the tables, and only where the kind's words would
    /// not do.
    #[test]
    fn own_words_are_for_table_codes_and_differ_from_their_kind() {
        let differs = |kind: ErrorKind, own: &Text, label: &str| {
            assert_ne!(
                *own,
                words::message(kind),
                "{label}: same as the kind's words"
            );
            assert!(!own.ko.is_empty() && own.en.is_ascii(), "{label}");
        };
        for (code, own) in words::KOE_MESSAGES {
            let (kind, _) = koe(code).unwrap_or_else(|| panic!("{code} not in KOE"));
            differs(kind, own, code);
        }
        for (code, own) in words::API_MESSAGES {
            let (kind, _) = api(*code).unwrap_or_else(|| panic!("{code} not in API"));
            differs(kind, own, &code.to_string());
        }
        for (error, own) in words::REDIRECT_MESSAGES {
            let (kind, _) = redirect(error).unwrap_or_else(|| panic!("{error} not in REDIRECT"));
            differs(kind, own, error);
        }
        for (code, _) in words::KOE_FIXES {
            assert!(koe(code).is_some(), "{code} not in KOE");
        }
        // Codes sharing a kind keep their own words.
        assert_ne!(api_err(-7).message(), api_err(-9798).message());
        assert_eq!(api_err(-7).kind(), api_err(-9798).kind());
    }

    #[test]
    fn tokeninfo_codes_are_id_token_invalid_with_their_own_words_and_fix() {
        let a = |code: &str| Error::auth(400, "invalid_token", None, Some(code.into()));
        for code in ["KOE401", "KOE402", "KOE403"] {
            let err = a(code);
            assert_eq!(err.kind(), ErrorKind::IdTokenInvalid, "{code}");
            assert_ne!(err.message(), a("KOE400").message(), "{code}");
            let fix = err.fix().unwrap();
            assert_ne!(Some(&fix), a("KOE400").fix().as_ref(), "{code}");
            assert!(fix.ko.chars().any(|c| ('가'..='힣').contains(&c)), "{code}");
            assert!(
                !err.is_transient() && !err.is_refresh_token_dead(),
                "{code}"
            );
        }
        assert!(a("KOE401")
            .fix()
            .unwrap()
            .en
            .contains("KAKAO_SIGNIN_AUTH_URL"));
        assert!(a("koe403").fix().unwrap().en.contains("clock"));
    }
}
