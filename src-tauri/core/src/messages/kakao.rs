//! Words for the protocol layer's errors ([`crate::kakao::Error`]): what happened and what to
//! do, in Korean and English.
//!
//! [`message`] and [`fix`] are keyed by [`ErrorKind`], so every kind has words. A Kakao code
//! that shares its kind with other codes but reads differently (KOE003 and kapi -1 are both
//! `kakao_temporary`; -7 and -9798 both `kakao_maintenance`) has its own words in the code
//! tables here ([`koe_message`], [`api_message`], [`redirect_message`], [`koe_fix`]); those win
//! over the kind's. Codes follow REFERENCE §3 (KOE), §4i (kapi) and §1 (redirect `error`).

use crate::kakao::ErrorKind;
use crate::text::Text;

/// What the caller knew when the request was made, for fixes that name an exact value.
#[derive(Debug, Clone, Copy, Default)]
pub struct FixContext<'a> {
    /// The `redirect_uri` sent at authorize and token time.
    pub redirect_uri: Option<&'a str>,
    /// The `logout_redirect_uri` sent to `/oauth/logout`.
    pub logout_redirect_uri: Option<&'a str>,
    /// For kapi -402: the consent items Kakao asks for (`required_scopes`).
    pub required_scopes: &'a [String],
}

/// What happened, for every kind: the words of its one code, or of the situation it names
/// when several codes (or none) lead to it.
pub fn message(kind: ErrorKind) -> Text {
    use ErrorKind as K;
    let (ko, en) = match kind {
        // KOE001 and the redirect `error=invalid_request`.
        K::InvalidRequest => (
            "카카오 로그인 요청 형식이 잘못되었습니다. 앱을 업데이트하거나 다시 시도해 주세요.",
            "The sign-in request sent to Kakao was malformed. Update the app or try again.",
        ),
        // KOE002
        K::WrongEndpoint => (
            "카카오 로그인 요청이 잘못된 주소로 보내졌습니다.",
            "The sign-in request was sent to a wrong Kakao address.",
        ),
        // Any 5xx without a known code; KOE003, kapi -1 and -603, `server_error` and
        // `temporarily_unavailable` have their own words.
        K::KakaoTemporary => (
            "카카오 서버에 일시적인 문제가 있습니다. 잠시 후 다시 시도해 주세요.",
            "Kakao's servers have a temporary problem. Try again in a moment.",
        ),
        // KOE004
        K::KakaoLoginDisabled => (
            "이 앱은 카카오 로그인이 사용 설정되어 있지 않습니다.",
            "Kakao Login is not turned on for this app.",
        ),
        // KOE005
        K::NotTeamMember => (
            "테스트 중인 앱이라 팀원으로 등록된 카카오계정만 로그인할 수 있습니다.",
            "This app is in test mode: only Kakao accounts added as team members can sign in.",
        ),
        // KOE006
        K::RedirectUriNotRegistered => (
            "이 앱이 보낸 리다이렉트 URI가 카카오 앱 설정에 등록되어 있지 않습니다.",
            "The redirect URI this app sent is not registered in the Kakao app settings.",
        ),
        // KOE007
        K::LogoutRedirectUriNotRegistered => (
            "로그아웃 리다이렉트 URI가 카카오 앱 설정에 등록되어 있지 않습니다.",
            "The logout redirect URI is not registered in the Kakao app settings.",
        ),
        // KOE008
        K::WrongAppKeyType => (
            "이 요청에 쓸 수 없는 종류의 앱 키가 사용되었습니다.",
            "An app key of the wrong type was used for this request.",
        ),
        // KOE009
        K::PlatformNotRegistered => (
            "등록되지 않은 플랫폼에서 토큰을 요청했습니다.",
            "Tokens were requested from a platform not registered for this app.",
        ),
        // KOE010
        K::InvalidClientSecret => (
            "클라이언트 시크릿이 없거나 맞지 않습니다.",
            "The client secret is missing or wrong.",
        ),
        // KOE023
        K::PopupLoginUnavailable => (
            "이 환경에서는 팝업 로그인을 사용할 수 없습니다.",
            "Pop-up sign-in is not available here.",
        ),
        // KOE101
        K::InvalidAppKey => (
            "앱 키(REST API 키)가 잘못되었습니다.",
            "The app key (REST API key) is invalid.",
        ),
        // KOE102
        K::ChannelNotLinked => (
            "카카오톡 채널과 연결되지 않은 앱이 채널 정보를 요청했습니다.",
            "The app asked for a Kakao Talk channel it is not linked to.",
        ),
        // KOE201
        K::UnsupportedResponseType => (
            "지원하지 않는 인가 요청 형식(response_type)입니다.",
            "Kakao does not support the requested response_type.",
        ),
        // KOE202
        K::ImplicitGrantUnsupported => (
            "카카오는 토큰을 바로 받는 방식(implicit grant)을 지원하지 않습니다.",
            "Kakao does not support the implicit grant (response_type=token).",
        ),
        // KOE203
        K::RequiredConsentMissing => (
            "필수 동의 항목에 모두 동의해야 로그인할 수 있습니다.",
            "Every required consent item must be agreed to before signing in.",
        ),
        // KOE204; kapi -2 has its own words.
        K::InvalidParameter => (
            "요청에 잘못된 값이 들어 있습니다.",
            "The request contained an invalid parameter.",
        ),
        // KOE205
        K::ScopeNotConfigured => (
            "앱에 설정되지 않은 동의 항목을 요청했습니다.",
            "A consent item was requested that the app has not configured.",
        ),
        // KOE207
        K::MissingParameter => (
            "요청에 꼭 필요한 값이 빠졌습니다.",
            "A required parameter was missing from the request.",
        ),
        // HTTP 429; KOE237 and kapi -10 have their own words.
        K::RateLimited => (
            "요청이 너무 많습니다. 잠시 후 다시 시도해 주세요.",
            "Too many requests. Try again a little later.",
        ),
        // KOE303
        K::RedirectUriMismatch => (
            "인가 요청과 토큰 요청의 리다이렉트 URI가 다릅니다.",
            "The redirect URI of the token request differs from the one used to sign in.",
        ),
        // KOE310
        K::UnsupportedGrantType => (
            "지원하지 않는 토큰 요청 방식(grant_type)입니다.",
            "Kakao does not support the requested grant_type.",
        ),
        // KOE319
        K::RefreshTokenMissing => (
            "저장된 로그인 정보(리프레시 토큰)가 없어 로그인을 유지할 수 없습니다. 다시 로그인해 주세요.",
            "No refresh token was available to keep you signed in. Please sign in again.",
        ),
        // KOE320
        K::CodeExpiredOrUsed => (
            "로그인 코드가 만료되었거나 이미 사용되었거나 이 로그인 시도와 맞지 않습니다. 다시 로그인해 주세요.",
            "The sign-in code expired, was already used, or does not match this sign-in attempt. Please sign in again.",
        ),
        // KOE322
        K::RefreshTokenExpired => (
            "로그인이 만료되었습니다(리프레시 토큰 만료 또는 연결 해제). 다시 로그인해 주세요.",
            "Your sign-in has expired (refresh token expired or the app was disconnected). Please sign in again.",
        ),
        // KOE400; KOE401–KOE403 have their own words.
        K::IdTokenInvalid => (
            "카카오가 ID 토큰이 유효하지 않다고 응답했습니다.",
            "Kakao reported that the ID token is invalid.",
        ),
        // kapi -3
        K::AppSettingMissing => (
            "이 기능에 필요한 앱 설정(동의 항목 또는 기능 사용)이 꺼져 있습니다.",
            "An app setting this feature needs (a consent item or feature switch) is not enabled.",
        ),
        // kapi -4
        K::AccountRestricted => (
            "카카오가 이 계정의 해당 기능 사용을 제한했습니다.",
            "Kakao has restricted this account from doing this.",
        ),
        // kapi -5
        K::AppNotPermitted => (
            "이 앱은 해당 카카오 API를 사용할 권한이 없습니다.",
            "This app has no permission to use this Kakao API.",
        ),
        // kapi -6
        K::NotAllowedByKakao => (
            "카카오 서비스 정책상 허용되지 않는 요청입니다.",
            "Kakao's service does not allow this action.",
        ),
        // kapi -7; -9798 has its own words.
        K::KakaoMaintenance => (
            "카카오 서비스 점검 또는 내부 문제로 지금 처리할 수 없습니다. 잠시 후 다시 시도해 주세요.",
            "Kakao is under maintenance or has an internal problem. Try again later.",
        ),
        // kapi -8
        K::InvalidHeader => (
            "요청 헤더가 잘못되었습니다.",
            "The request had an invalid header.",
        ),
        // kapi -9
        K::ApiDiscontinued => (
            "더 이상 제공되지 않는 카카오 API입니다.",
            "This Kakao API has been discontinued.",
        ),
        // kapi -11
        K::PaidQuotaExceeded => (
            "유료 API 사용 한도(월 예산)를 넘었습니다.",
            "The spending limit for paid Kakao APIs was exceeded.",
        ),
        // kapi -12 and the redirect `error=unauthorized_client`.
        K::DeveloperSanctioned => (
            "카카오가 이 앱 또는 개발자 계정을 제재했습니다.",
            "Kakao has sanctioned this app or its developer account.",
        ),
        // kapi -101
        K::UserNotLinked => (
            "이 카카오계정은 앱에 연결되어 있지 않습니다.",
            "This Kakao account is not connected to the app.",
        ),
        // kapi -102
        K::AlreadyRegistered => (
            "이미 앱에 연결된 사용자입니다.",
            "This user is already connected to the app.",
        ),
        // kapi -103
        K::AccountDormantOrMissing => (
            "휴면 상태이거나 존재하지 않는 카카오계정입니다.",
            "The Kakao account is dormant or does not exist.",
        ),
        // kapi -201
        K::UnknownUserProperty => (
            "앱에 없는 사용자 프로퍼티를 사용했습니다.",
            "An unknown user property key was used.",
        ),
        // kapi -301; -903 has its own words.
        K::AppNotFound => (
            "앱 키에 해당하는 카카오 앱이 없습니다.",
            "No Kakao app exists for this app key.",
        ),
        // kapi -401
        K::AccessTokenInvalid => (
            "액세스 토큰이 만료되었거나 유효하지 않습니다.",
            "The access token has expired or is invalid.",
        ),
        // kapi -402
        K::InsufficientScope => (
            "이 정보를 보려면 추가 동의가 필요합니다.",
            "Additional consent is needed for this information.",
        ),
        // kapi -405
        K::AgeVerificationRequired => (
            "이 기능을 쓰려면 카카오계정 연령 인증이 필요합니다.",
            "Age verification of the Kakao account is required for this.",
        ),
        // kapi -406
        K::UnderAge14 => (
            "만 14세 미만 사용자는 이 앱을 사용할 수 없습니다.",
            "Users under 14 cannot use this app.",
        ),
        // kapi -501
        K::NotATalkUser => (
            "카카오톡을 사용하지 않는 계정이라 이 기능을 쓸 수 없습니다.",
            "This feature needs a Kakao Talk user; this account does not use Kakao Talk.",
        ),
        // kapi -602, -606, -911 each have their own words.
        K::ImageUploadRejected => (
            "카카오가 업로드한 이미지를 받아들이지 않았습니다.",
            "Kakao refused the uploaded image.",
        ),
        // Redirect `error=access_denied`.
        K::AccessDenied => (
            "로그인 또는 동의를 취소했습니다. 아무것도 바뀌지 않았습니다.",
            "Sign-in or consent was cancelled. Nothing was changed.",
        ),
        // Redirect `error=consent_required`.
        K::ConsentRequired => (
            "카카오에서 동의가 필요합니다. 다시 로그인해 동의해 주세요.",
            "Consent is needed at Kakao. Sign in again and agree.",
        ),
        // Redirect `error=login_required`.
        K::LoginRequired => (
            "카카오계정 로그인이 필요합니다. 다시 로그인해 주세요.",
            "Kakao account sign-in is required. Please sign in again.",
        ),
        // Redirect `error=interaction_required`.
        K::InteractionRequired => (
            "카카오 화면에서 직접 확인할 것이 있습니다. 다시 로그인해 주세요.",
            "Kakao needs you to do something on its page. Please sign in again.",
        ),
        // Redirect `error=invalid_client`.
        K::InvalidClient => (
            "앱 키 또는 클라이언트 시크릿이 잘못되었습니다.",
            "The app key or client secret is invalid.",
        ),
        // Redirect `error=invalid_scope`.
        K::InvalidScope => (
            "요청한 동의 항목 중 앱에 설정되지 않은 것이 있습니다.",
            "A requested consent item is not configured for the app.",
        ),
        // Redirect `error=misconfigured`.
        K::Misconfigured => (
            "카카오 앱 설정이 이 로그인 방식과 맞지 않습니다.",
            "The Kakao app settings do not allow this kind of sign-in.",
        ),
        // Redirect `error=unauthorized`.
        K::Unauthorized => (
            "이 앱은 이 방식으로 로그인할 권한이 없습니다.",
            "This app is not authorised to sign in this way.",
        ),
        // kapi -3 on scope revocation.
        K::ScopeNotRevocable => (
            "필수 동의 항목이라 동의를 철회할 수 없습니다.",
            "This consent item is required and cannot be withdrawn.",
        ),
        // kauth, no known code.
        K::KakaoAuthError => (
            "카카오 로그인 서버가 요청을 거절했습니다.",
            "Kakao's sign-in server refused the request.",
        ),
        // kapi, unknown code.
        K::KakaoApiError => (
            "카카오 API가 요청을 거절했습니다.",
            "The Kakao API refused the request.",
        ),
        // Redirect, unknown `error`.
        K::RedirectError => (
            "카카오 로그인이 오류로 끝났습니다.",
            "Kakao sign-in ended with an error.",
        ),
        // Not a Kakao error body.
        K::UnexpectedResponse => (
            "카카오 서버가 예상하지 못한 응답을 보냈습니다.",
            "Kakao's server sent an unexpected response.",
        ),
        // Unreadable body.
        K::MalformedResponse => (
            "카카오 서버의 응답을 읽을 수 없습니다. 잠시 후 다시 시도해 주세요.",
            "Kakao's response could not be read. Try again in a moment.",
        ),
        // No answer in time.
        K::Timeout => (
            "카카오 서버가 제시간에 응답하지 않았습니다. 연결을 확인하고 다시 시도해 주세요.",
            "Kakao did not answer in time. Check your connection and try again.",
        ),
        // No connection.
        K::Network => (
            "카카오 서버에 연결할 수 없습니다. 인터넷 연결을 확인해 주세요.",
            "Could not reach Kakao. Check your internet connection.",
        ),
        // Refused base URL.
        K::InvalidEndpoint => (
            "설정된 카카오 서버 주소를 사용할 수 없습니다.",
            "The configured Kakao server address cannot be used.",
        ),
        // kapi -903 (its own words are in API_MESSAGES).
        K::DeveloperNotRegistered => (
            "이 앱 키는 카카오 디벨로퍼스에 등록되지 않은 개발자의 것입니다.",
            "This app key belongs to a developer not registered with Kakao Developers.",
        ),
        // Over the body cap: not Kakao's answer.
        K::ResponseTooLarge => (
            "카카오 서버의 응답이 너무 큽니다(1 MiB 초과). 프록시나 보안 프로그램이 응답을 바꾸고 있을 수 있습니다. 잠시 후 다시 시도해 주세요.",
            "Kakao's response was too large (over 1 MiB). A proxy or security software may be changing it. Try again in a moment.",
        ),
    };
    Text::fixed(ko, en)
}

/// KOE codes whose words differ from their kind's [`message`].
pub(crate) static KOE_MESSAGES: &[(&str, Text)] = &[
    (
        "KOE003",
        Text::fixed(
            "카카오 인증 서버에 일시적인 문제가 있습니다. 잠시 후 다시 시도해 주세요.",
            "Kakao's sign-in server has a temporary problem. Try again in a moment.",
        ),
    ),
    (
        "KOE237",
        Text::fixed(
            "짧은 시간에 토큰을 너무 많이 요청했습니다. 잠시 후 다시 시도해 주세요.",
            "Too many token requests in a short time. Try again a little later.",
        ),
    ),
    (
        "KOE401",
        Text::fixed(
            "카카오가 ID 토큰의 발급자(iss)가 올바르지 않다고 응답했습니다.",
            "Kakao reported that the ID token's issuer (iss) is wrong.",
        ),
    ),
    (
        "KOE402",
        Text::fixed(
            "카카오가 ID 토큰의 서명이 올바르지 않다고 응답했습니다.",
            "Kakao reported that the ID token's signature is not valid.",
        ),
    ),
    (
        "KOE403",
        Text::fixed(
            "카카오가 ID 토큰이 만료되었다고 응답했습니다.",
            "Kakao reported that the ID token has expired.",
        ),
    ),
];

/// kapi codes whose words differ from their kind's [`message`].
pub(crate) static API_MESSAGES: &[(i64, Text)] = &[
    (
        -1,
        Text::fixed(
            "카카오 서버 내부에 일시적인 문제가 있습니다. 잠시 후 다시 시도해 주세요.",
            "Kakao's servers have a temporary internal problem. Try again in a moment.",
        ),
    ),
    (
        -2,
        Text::fixed(
            "요청 값이 없거나 잘못되었습니다.",
            "A request parameter was missing or invalid.",
        ),
    ),
    (
        -10,
        Text::fixed(
            "카카오 API 사용 한도를 넘었습니다. 잠시 후 다시 시도해 주세요.",
            "The Kakao API usage limit was exceeded. Try again later.",
        ),
    ),
    (
        -602,
        Text::fixed(
            "업로드한 이미지 파일이 허용된 크기보다 큽니다.",
            "The uploaded image file is larger than allowed.",
        ),
    ),
    (
        -603,
        Text::fixed(
            "카카오 내부에서 요청 처리 시간이 초과되었습니다. 잠시 후 다시 시도해 주세요.",
            "The request timed out inside Kakao. Try again in a moment.",
        ),
    ),
    (
        -606,
        Text::fixed(
            "한 번에 올릴 수 있는 이미지 수를 넘었습니다.",
            "Too many images were uploaded at once.",
        ),
    ),
    (
        -903,
        Text::fixed(
            "등록되지 않은 개발자의 앱 키이거나, 그런 앱 키로 발급된 액세스 토큰입니다.",
            "The app key belongs to an unregistered developer, or the access token was issued through such a key.",
        ),
    ),
    (
        -911,
        Text::fixed(
            "지원하지 않는 이미지 형식입니다.",
            "The image format is not supported.",
        ),
    ),
    (
        -9798,
        Text::fixed(
            "카카오 서비스 점검 중입니다. 잠시 후 다시 시도해 주세요.",
            "Kakao is under maintenance. Try again later.",
        ),
    ),
];

/// Redirect `error` values whose words differ from their kind's [`message`].
pub(crate) static REDIRECT_MESSAGES: &[(&str, Text)] = &[
    (
        "server_error",
        Text::fixed(
            "카카오 인증 서버에 일시적인 문제가 있습니다. 잠시 후 다시 시도해 주세요.",
            "Kakao's sign-in server has a temporary problem. Try again in a moment.",
        ),
    ),
    (
        "temporarily_unavailable",
        Text::fixed(
            "카카오 인증 서버를 잠시 사용할 수 없습니다. 잠시 후 다시 시도해 주세요.",
            "Kakao's sign-in server is briefly unavailable. Try again in a moment.",
        ),
    ),
];

/// KOE codes whose fix differs from their kind's [`fix`] (the `/oauth/tokeninfo` codes, and
/// the error pages KOE101 and KOE205).
pub(crate) static KOE_FIXES: &[(&str, Text)] = &[
    (
        "KOE401",
        Text::fixed(
            "KAKAO_SIGNIN_AUTH_URL을 설정했다면 카카오 인증 서버 주소(https://kauth.kakao.com)인지 확인한 뒤 다시 로그인해 주세요.",
            "If KAKAO_SIGNIN_AUTH_URL is set, check that it is Kakao's sign-in server (https://kauth.kakao.com), then sign in again.",
        ),
    ),
    (
        "KOE402",
        Text::fixed(
            "다시 로그인해 새 ID 토큰을 받으세요. 계속되면 프록시 등이 응답을 바꾸고 있지 않은지 확인하세요.",
            "Sign in again to get a new ID token. If it keeps happening, check that nothing (such as a proxy) alters the responses.",
        ),
    ),
    (
        "KOE403",
        Text::fixed(
            "다시 로그인해 새 ID 토큰을 받으세요. 컴퓨터 시계가 맞는지도 확인하세요.",
            "Sign in again to get a new ID token, and check the computer's clock.",
        ),
    ),
    // Kakao's error page for a key that is not the REST API key (a JavaScript, native app or
    // Admin key), REFERENCE §3; the kind's fix is shared with KOE008/KOE009.
    (
        "KOE101",
        Text::fixed(
            "카카오 디벨로퍼스 [앱] > [플랫폼 키] > [REST API 키]의 키 값을 설정 파일의 client_id(또는 KAKAO_SIGNIN_CLIENT_ID)에 넣으세요. JavaScript 키, 네이티브 앱 키, Admin 키는 쓸 수 없습니다.",
            "Put the key shown in Kakao Developers under [App] > [Platform keys] > [REST API key] into client_id in the config file (or KAKAO_SIGNIN_CLIENT_ID). A JavaScript, native app or Admin key does not work.",
        ),
    ),
    // Also shown when `openid` is asked while OpenID Connect is off (REFERENCE §3, S13).
    (
        "KOE205",
        Text::fixed(
            "카카오 디벨로퍼스 [카카오 로그인] > [동의항목]에서 요청한 항목을 설정하세요. OpenID Connect를 쓰면 [카카오 로그인] > [OpenID Connect]도 ON이어야 합니다.",
            "Configure the requested items in Kakao Developers under [Kakao Login] > [Consent items]. When OpenID Connect is used, [Kakao Login] > [OpenID Connect] must be ON too.",
        ),
    ),
];

fn find<K: ?Sized>(table: &[(&K, Text)], hit: impl Fn(&K) -> bool) -> Option<Text> {
    table.iter().find(|(k, _)| hit(k)).map(|(_, t)| t.clone())
}

/// "Kakao showed an error code" on the waiting screen, for a code not in its list.
pub fn error_page_other() -> Text {
    Text::fixed(
        "카카오 페이지에 다른 오류 코드(KOE…)가 보이면, 대개 카카오 디벨로퍼스의 앱 설정 문제입니다.",
        "Another error code (KOE…) on Kakao's page is usually a setting of the app in Kakao Developers.",
    )
}

/// Fix for [`error_page_other`].
pub fn error_page_other_fix() -> Text {
    Text::fixed(
        "카카오 디벨로퍼스 문서의 문제 해결(KOE 코드 표)에서 그 코드를 찾아보세요. 설정을 고친 뒤 이 창에서 \"카카오 페이지 다시 열기\"를 누르면 같은 로그인을 이어 갈 수 있습니다.",
        "Look the code up in the troubleshooting table (KOE codes) of the Kakao Developers docs. After fixing the setting, press \"Open Kakao's page again\" here to carry on with the same sign-in.",
    )
}

/// The own words of a KOE code (`KOE003`, any case), if they differ from its kind's.
pub fn koe_message(code: &str) -> Option<Text> {
    find(KOE_MESSAGES, |c| c.eq_ignore_ascii_case(code))
}

/// The own words of a kapi code (`-1`), if they differ from its kind's.
pub fn api_message(code: i64) -> Option<Text> {
    API_MESSAGES
        .iter()
        .find(|(c, _)| *c == code)
        .map(|(_, t)| t.clone())
}

/// The own words of a redirect `error` value (`server_error`), if they differ from its kind's.
pub fn redirect_message(error: &str) -> Option<Text> {
    find(REDIRECT_MESSAGES, |e| e == error)
}

/// The own fix of a KOE code (`KOE401`, any case), if it differs from its kind's.
pub fn koe_fix(code: &str) -> Option<Text> {
    find(KOE_FIXES, |c| c.eq_ignore_ascii_case(code))
}

const REDIRECT_URI_PLACE_KO: &str =
    "카카오 디벨로퍼스 [앱] > [플랫폼 키] > [REST API 키] > 리다이렉트 URI";
const REDIRECT_URI_PLACE_EN: &str =
    "Kakao Developers: [App] > [Platform keys] > [REST API key] > Redirect URI";

/// What to do about an error of this kind, where there is something to do. Names the exact
/// redirect URI, logout redirect URI or consent items when `ctx` has them.
pub fn fix(kind: ErrorKind, ctx: &FixContext<'_>) -> Option<Text> {
    use ErrorKind as K;
    Some(match kind {
        K::RedirectUriNotRegistered => match ctx.redirect_uri {
            Some(uri) => Text::owned(
                format!("{REDIRECT_URI_PLACE_KO}에 다음 주소를 한 글자도 다르지 않게 등록하세요: {uri}"),
                format!("Register exactly this address in {REDIRECT_URI_PLACE_EN}: {uri}"),
            ),
            None => Text::owned(
                format!("{REDIRECT_URI_PLACE_KO}에 이 앱이 보여 주는 리다이렉트 URI(http://127.0.0.1:<포트>/…, 사용하는 포트마다)를 정확히 등록하세요."),
                format!("Register the redirect URI this app shows (http://127.0.0.1:<port>/…, one per port it uses) exactly in {REDIRECT_URI_PLACE_EN}."),
            ),
        },
        K::RedirectUriMismatch => match ctx.redirect_uri {
            Some(uri) => Text::owned(
                format!("토큰 요청에 보낸 리다이렉트 URI는 {uri} 입니다. 로그인할 때 보낸 주소와 같아야 하며, {REDIRECT_URI_PLACE_KO}에 정확히 등록되어 있어야 합니다. 다시 로그인해 주세요."),
                format!("The token request sent the redirect URI {uri}. It must equal the one used to sign in and be registered exactly in {REDIRECT_URI_PLACE_EN}. Please sign in again."),
            ),
            None => Text::owned(
                format!("로그인과 토큰 요청에 같은 리다이렉트 URI를 쓰고, 그 주소를 {REDIRECT_URI_PLACE_KO}에 정확히 등록하세요."),
                format!("Use the same redirect URI to sign in and to get tokens, and register it exactly in {REDIRECT_URI_PLACE_EN}."),
            ),
        },
        K::LogoutRedirectUriNotRegistered => {
            let (ko_uri, en_uri) = match ctx.logout_redirect_uri {
                Some(uri) => (format!("다음 주소를 정확히 등록하세요: {uri}"), format!("register exactly this address: {uri}")),
                None => ("이 앱이 보여 주는 로그아웃 리다이렉트 URI를 정확히 등록하세요.".to_owned(), "register the logout redirect URI this app shows.".to_owned()),
            };
            Text::owned(
                format!("카카오 디벨로퍼스 [카카오 로그인] > [고급] > 로그아웃 리다이렉트 URI에 {ko_uri}"),
                format!("In Kakao Developers under [Kakao Login] > [Advanced] > Logout redirect URI, {en_uri}"),
            )
        }
        K::InvalidClientSecret => Text::fixed(
            "카카오 디벨로퍼스 [앱] > [플랫폼 키] > [REST API 키]의 클라이언트 시크릿 설정을 확인하세요. 사용(ON)이면 같은 키의 시크릿 값을 KAKAO_SIGNIN_CLIENT_SECRET에 설정하고, 쓰지 않으려면 그 설정을 끄세요.",
            "Check the client secret setting in Kakao Developers under [App] > [Platform keys] > [REST API key]. If it is ON, set KAKAO_SIGNIN_CLIENT_SECRET to that key's secret; otherwise turn the setting off.",
        ),
        K::InvalidAppKey | K::WrongAppKeyType | K::PlatformNotRegistered | K::AppNotFound => Text::fixed(
            "카카오 디벨로퍼스 [앱] > [플랫폼 키] > [REST API 키]의 키 값을 KAKAO_SIGNIN_CLIENT_ID에 설정하세요(네이티브 앱 키나 JavaScript 키가 아닌 REST API 키).",
            "Set KAKAO_SIGNIN_CLIENT_ID to the key shown in Kakao Developers under [App] > [Platform keys] > [REST API key] (the REST API key, not the native app or JavaScript key).",
        ),
        K::InvalidClient => Text::fixed(
            "KAKAO_SIGNIN_CLIENT_ID에 REST API 키가, KAKAO_SIGNIN_CLIENT_SECRET에 같은 키의 클라이언트 시크릿이 설정되어 있는지 확인하세요([앱] > [플랫폼 키] > [REST API 키]).",
            "Check that KAKAO_SIGNIN_CLIENT_ID holds the REST API key and KAKAO_SIGNIN_CLIENT_SECRET that key's client secret ([App] > [Platform keys] > [REST API key]).",
        ),
        K::KakaoLoginDisabled => Text::fixed(
            "카카오 디벨로퍼스 [카카오 로그인]에서 사용 설정을 ON으로 바꾸세요.",
            "Turn Kakao Login ON in Kakao Developers under [Kakao Login].",
        ),
        K::NotTeamMember => Text::fixed(
            "카카오 디벨로퍼스에서 이 카카오계정을 앱의 팀원으로 추가하거나, 다른 카카오계정으로 로그인하세요.",
            "Add this Kakao account as a team member of the app in Kakao Developers, or sign in with another Kakao account.",
        ),
        K::ScopeNotConfigured | K::InvalidScope | K::AppSettingMissing => Text::fixed(
            "카카오 디벨로퍼스 [카카오 로그인] > [동의항목]에서 필요한 항목을 설정하세요.",
            "Configure the needed items in Kakao Developers under [Kakao Login] > [Consent items].",
        ),
        K::InsufficientScope => {
            let scopes = ctx.required_scopes.join(", ");
            Text::owned(
                format!("다음 항목에 추가로 동의해 주세요: {scopes}"),
                format!("Agree to these additional items: {scopes}"),
            )
        }
        K::CodeExpiredOrUsed
        | K::RefreshTokenExpired
        | K::RefreshTokenMissing
        | K::IdTokenInvalid
        | K::AccessDenied
        | K::ConsentRequired
        | K::LoginRequired
        | K::InteractionRequired => Text::fixed("다시 로그인해 주세요.", "Sign in again."),
        K::RateLimited => Text::fixed(
            "10분쯤 기다린 뒤 다시 시도하세요.",
            "Wait about ten minutes, then try again.",
        ),
        K::Network | K::Timeout | K::ResponseTooLarge => Text::fixed(
            "인터넷 연결(프록시, 방화벽 포함)을 확인하고 다시 시도하세요.",
            "Check the internet connection (including proxy and firewall) and try again.",
        ),
        K::DeveloperNotRegistered => Text::fixed(
            "앱 개발자가 developers.kakao.com에서 개발자 등록을 마치거나, 등록된 개발자 계정의 앱의 REST API 키를 KAKAO_SIGNIN_CLIENT_ID에 설정해야 합니다. 그 전에는 로그인할 수 없습니다.",
            "The app's developer must complete the developer registration at developers.kakao.com, or set KAKAO_SIGNIN_CLIENT_ID to the REST API key of an app of a registered developer account. Until then nobody can sign in.",
        ),
        K::DeveloperSanctioned => Text::fixed(
            "이 앱에서 할 수 있는 일은 없습니다. 앱 개발자가 카카오 데브톡이나 고객센터에 제재 해제를 문의해야 합니다.",
            "Nothing can be done in this app: the app's developer must ask Kakao (DevTalk or customer support) to lift the suspension.",
        ),
        K::UnderAge14 => Text::fixed(
            "이 앱은 만 14세 미만 카카오계정의 로그인을 허용하지 않습니다. 만 14세 이상인 다른 카카오계정으로 로그인하세요(\"다른 계정으로 로그인\").",
            "This app does not accept Kakao accounts of people under 14. Sign in with another Kakao account (\"Use another account\").",
        ),
        K::InvalidEndpoint => Text::fixed(
            "https 주소를 쓰세요. http는 127.0.0.1, ::1, localhost에서만 허용됩니다.",
            "Use an https address; plain http is allowed only for 127.0.0.1, ::1 and localhost.",
        ),
        // Nothing the person or the developer can do beyond the message (or a retry later).
        K::InvalidRequest
        | K::WrongEndpoint
        | K::KakaoTemporary
        | K::PopupLoginUnavailable
        | K::ChannelNotLinked
        | K::UnsupportedResponseType
        | K::ImplicitGrantUnsupported
        | K::RequiredConsentMissing
        | K::InvalidParameter
        | K::MissingParameter
        | K::UnsupportedGrantType
        | K::AccountRestricted
        | K::AppNotPermitted
        | K::NotAllowedByKakao
        | K::KakaoMaintenance
        | K::InvalidHeader
        | K::ApiDiscontinued
        | K::PaidQuotaExceeded
        | K::UserNotLinked
        | K::AlreadyRegistered
        | K::AccountDormantOrMissing
        | K::UnknownUserProperty
        | K::AccessTokenInvalid
        | K::AgeVerificationRequired
        | K::NotATalkUser
        | K::ImageUploadRejected
        | K::Misconfigured
        | K::Unauthorized
        | K::ScopeNotRevocable
        | K::KakaoAuthError
        | K::KakaoApiError
        | K::RedirectError
        | K::UnexpectedResponse
        | K::MalformedResponse => return None,
    })
}

/// What happened when this app refused an ID token ([`crate::kakao::IdTokenError`], checked as
/// OpenID Connect Core 1.0 §3.1.3.7 says), one function per reason. The fix is the kind's
/// (`id_token_invalid`: sign in again).
pub mod id_token {
    use crate::text::Text;

    /// OIDC is expected but the token response had no `id_token`.
    pub fn missing() -> Text {
        Text::fixed(
            "카카오가 ID 토큰을 보내지 않았습니다. 앱의 OpenID Connect 설정을 확인하세요.",
            "Kakao sent no ID token. Check that OpenID Connect is enabled for the app.",
        )
    }

    /// Not a well-formed JWT, or a claim is missing or of the wrong type.
    pub fn malformed() -> Text {
        Text::fixed(
            "ID 토큰의 형식이 잘못되었습니다.",
            "The ID token is malformed.",
        )
    }

    /// `alg` other than RS256.
    pub fn unsupported_alg() -> Text {
        Text::fixed(
            "ID 토큰이 허용되지 않는 방식으로 서명되었습니다(RS256만 허용).",
            "The ID token uses a signing algorithm that is not allowed (RS256 only).",
        )
    }

    /// No JWKS key with the token's `kid`.
    pub fn unknown_kid() -> Text {
        Text::fixed(
            "ID 토큰을 서명한 키를 카카오 공개키 목록에서 찾을 수 없습니다.",
            "The key that signed the ID token is not in Kakao's published keys.",
        )
    }

    /// The signature does not verify.
    pub fn bad_signature() -> Text {
        Text::fixed(
            "ID 토큰의 서명이 올바르지 않습니다.",
            "The ID token's signature is not valid.",
        )
    }

    /// `iss` is not the configured auth server.
    pub fn issuer() -> Text {
        Text::fixed(
            "ID 토큰의 발급자(iss)가 설정된 카카오 인증 서버와 다릅니다.",
            "The ID token's issuer (iss) is not the configured Kakao sign-in server.",
        )
    }

    /// `aud` is not this app's REST API key.
    pub fn audience() -> Text {
        Text::fixed(
            "ID 토큰이 이 앱(REST API 키)을 위해 발급되지 않았습니다.",
            "The ID token was not issued for this app (REST API key).",
        )
    }

    /// `exp` is past.
    pub fn expired() -> Text {
        Text::fixed(
            "ID 토큰이 만료되었습니다. 컴퓨터 시계가 맞는지 확인하고 다시 로그인해 주세요.",
            "The ID token has expired. Check the computer's clock and sign in again.",
        )
    }

    /// `iat` is in the future.
    pub fn issued_in_future() -> Text {
        Text::fixed(
            "ID 토큰의 발급 시각이 미래입니다. 컴퓨터 시계가 맞는지 확인해 주세요.",
            "The ID token claims to be issued in the future. Check the computer's clock.",
        )
    }

    /// `nonce` is not this sign-in attempt's.
    pub fn nonce() -> Text {
        Text::fixed(
            "ID 토큰이 이 로그인 시도의 것이 아닙니다(nonce 불일치). 다시 로그인해 주세요.",
            "The ID token does not belong to this sign-in attempt (nonce mismatch). Please sign in again.",
        )
    }

    /// `azp` is present but names another client (OIDC Core 3.1.3.7).
    pub fn authorized_party() -> Text {
        Text::fixed(
            "ID 토큰이 다른 앱(azp)에 발급되었습니다. 다시 로그인해 주세요.",
            "The ID token was issued to another app (azp). Please sign in again.",
        )
    }

    /// A refreshed ID token names another member than the one signed in (OIDC Core 12.2).
    pub fn subject() -> Text {
        Text::fixed(
            "갱신된 ID 토큰의 회원(sub)이 로그인한 회원과 다릅니다. 다시 로그인해 주세요.",
            "The refreshed ID token names another member (sub) than the one signed in. Please sign in again.",
        )
    }
}
