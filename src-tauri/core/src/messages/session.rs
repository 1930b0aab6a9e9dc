//! Words for the session layer: its own errors ([`crate::session::Error`]) and the notices the
//! window shows after logout, unlink and other changes (REFERENCE §5, FAQ S05–S07, S12).

use crate::text::Text;

/// No REST API key is configured (`not_configured`).
pub fn not_configured() -> Text {
    Text::fixed(
        "카카오 REST API 키가 설정되지 않았습니다.",
        "No Kakao REST API key is configured.",
    )
}

/// Fix for [`not_configured`].
pub fn not_configured_fix() -> Text {
    Text::fixed(
        "KAKAO_SIGNIN_CLIENT_ID 환경 변수나 ~/.config/kakao-signin/config.toml의 client_id에 REST API 키를 넣으세요.",
        "Put the REST API key in KAKAO_SIGNIN_CLIENT_ID or client_id in ~/.config/kakao-signin/config.toml.",
    )
}

/// A command that needs a session ran without one (`not_signed_in`).
pub fn not_signed_in() -> Text {
    Text::fixed("로그인되어 있지 않습니다.", "You are not signed in.")
}

/// The refresh token is dead; the tokens were deleted (`session_ended`, and the notice shown
/// when a session ends by itself).
pub fn session_ended() -> Text {
    Text::fixed(
        "카카오 로그인이 만료되었습니다. 다시 로그인해 주세요.",
        "Your Kakao session has ended. Please sign in again.",
    )
}

/// An answer for a session that was replaced meanwhile was dropped (`superseded`).
pub fn superseded() -> Text {
    Text::fixed(
        "진행 중에 로그인 상태가 바뀌어 결과를 버렸습니다.",
        "The sign-in changed while this was under way; its result was dropped.",
    )
}

/// A command's argument was refused (`bad_argument`); `what` names it (`field`, `scopes`).
pub fn bad_argument(what: &str) -> Text {
    Text::owned(
        format!("잘못된 값입니다: {what}"),
        format!("That value is not valid: {what}"),
    )
}

/// A value typed in could not be kept on this computer (`local_data_failed`); `detail` is the
/// file and the I/O error.
pub fn local_data_failed(detail: &str) -> Text {
    Text::owned(
        format!("이 컴퓨터에 입력값을 저장하지 못했습니다: {detail}"),
        format!("Could not save the value on this computer: {detail}"),
    )
}

/// After logout, Kakao told (S05, S06).
pub fn logged_out() -> Text {
    Text::fixed(
        "이 기기에서 로그아웃했습니다. 다른 기기의 로그인은 그대로입니다.",
        "Logged out on this device. Other devices stay signed in.",
    )
}

/// After logout, Kakao could not be told (S05).
pub fn logged_out_kakao_not_told() -> Text {
    Text::fixed(
        "이 기기에서 로그아웃했습니다. 카카오 서버에는 알리지 못했습니다(네트워크 확인). 토큰은 이 기기에서 삭제되었습니다.",
        "Logged out on this device. Kakao could not be told (check the network); the tokens were deleted from this device.",
    )
}

/// After Kakao's logout page came back (S07, REFERENCE §6): the app cannot know which option
/// the person picked there, so it says what it asked for, and that the next sign-in asks Kakao
/// for the login again.
pub fn logged_out_of_kakao_account() -> Text {
    Text::fixed(
        "이 기기에서 로그아웃했고, 브라우저에 카카오계정 로그아웃을 요청했습니다. 카카오 페이지에서 '이 서비스만 로그아웃'을 골랐다면 브라우저는 카카오계정에 로그인된 채로 남습니다. 다음 로그인에서는 카카오가 계정과 비밀번호를 다시 묻습니다.",
        "Logged out on this device, and the browser was asked to log out of Kakao. If you chose \"this service only\" on Kakao's page, the browser is still signed in to the Kakao account. The next sign-in asks Kakao for your account and password again.",
    )
}

/// After unlink.
pub fn unlinked() -> Text {
    Text::fixed(
        "앱 연결을 끊었습니다. 카카오는 이 앱에 대한 동의를 철회했고, 이 기기의 토큰과 직접 입력한 정보를 삭제했습니다.",
        "The app is disconnected. Kakao withdrew your consents to this app; the tokens and the values you entered on this computer were deleted.",
    )
}

/// Additional consent refused on Kakao's page (S12): not an error.
pub fn consent_declined() -> Text {
    Text::fixed(
        "추가 동의를 하지 않았습니다. 이 항목은 계속 '동의 필요'로 남습니다.",
        "You did not agree, so this item stays 'consent needed'.",
    )
}

/// Additional consent came back with another member's tokens (REFERENCE §5, Decision 15): the
/// session stays, the stray tokens were revoked at Kakao. `who`: the other account as Kakao
/// named it (nickname, or member id).
pub fn consent_other_account(who: &str) -> Text {
    Text::owned(
        format!("카카오가 로그인된 계정이 아닌 다른 카카오계정({who})으로 동의를 받았습니다. 지금 로그인은 그대로 두었고, 그 계정에 발급된 토큰은 카카오에서 폐기했습니다. 그 계정으로 바꾸려면 로그아웃한 뒤 '다른 계정으로 로그인'을 누르세요. 이 계정에 동의하려면 브라우저에서 이 계정으로 카카오에 로그인한 뒤 다시 시도하세요."),
        format!("Kakao took the consent with another Kakao account ({who}), not the one signed in here. This sign-in was kept, and the tokens Kakao issued to that account were revoked at Kakao. To switch to that account, log out and use \"Use another account\". To agree with this account, sign in to Kakao with it in the browser and try again."),
    )
}

/// A stray token of another member could not be revoked at Kakao (it expires by itself).
pub fn consent_other_account_not_revoked(who: &str) -> Text {
    Text::owned(
        format!("카카오가 로그인된 계정이 아닌 다른 카카오계정({who})으로 동의를 받았습니다. 지금 로그인은 그대로 두었습니다. 그 계정의 토큰은 카카오에 폐기를 알리지 못했지만 이 앱은 보관하지 않았습니다. 그 계정으로 바꾸려면 로그아웃한 뒤 '다른 계정으로 로그인'을 누르세요."),
        format!("Kakao took the consent with another Kakao account ({who}), not the one signed in here. This sign-in was kept. Kakao could not be told to revoke that account's tokens, but this app did not keep them. To switch to that account, log out and use \"Use another account\"."),
    )
}

/// The app was disconnected from the Kakao account elsewhere (Kakao account page, KakaoTalk;
/// kapi -101): the tokens and the values typed in on this computer were deleted.
pub fn already_unlinked() -> Text {
    Text::fixed(
        "이 앱은 카카오에서 이미 연결이 끊겨 있었습니다(카카오계정 관리 페이지나 카카오톡에서 연결 끊기). 이 기기의 토큰과 직접 입력한 정보를 삭제했습니다.",
        "The app was already disconnected at Kakao (from the Kakao account page or KakaoTalk). The tokens and the values you entered on this computer were deleted.",
    )
}

/// Kakao says the session can no longer be used (REFERENCE §4b: an `access_token_info` error
/// other than -1, -2, -401): signed out. `reason`: Kakao's error in words, per language.
pub fn session_unusable(reason: &Text) -> Text {
    use crate::text::Lang;
    Text::owned(
        format!(
            "카카오가 이 로그인을 더 이상 쓸 수 없다고 답해 로그아웃했습니다: {} 다시 로그인해 주세요.",
            reason.get(Lang::Ko)
        ),
        format!(
            "Kakao says this sign-in can no longer be used, so you were logged out: {} Please sign in again.",
            reason.get(Lang::En)
        ),
    )
}

/// An operation panicked (a bug) and was ended; the app runs on ([`Error::Internal`]).
///
/// [`Error::Internal`]: crate::session::Error::Internal
pub fn internal_error() -> Text {
    Text::fixed(
        "앱 내부 오류로 이 작업을 끝내지 못했습니다. 앱은 계속 동작하며 토큰은 그대로입니다.",
        "This action could not finish because of an error inside the app. The app keeps running and your tokens are kept.",
    )
}

/// What to do after [`internal_error`].
pub fn internal_error_fix() -> Text {
    Text::fixed(
        "다시 시도해 보세요. 계속되면 [진단 정보 복사]로 정보를 복사해 문제를 알려 주세요.",
        "Try again. If it keeps happening, use Copy diagnostics and report the problem.",
    )
}

/// At start, when the single-instance lock could not be taken (no private directory for it):
/// two windows could then each refresh and rotate the same tokens (issue 17).
pub fn no_single_instance_guard() -> Text {
    Text::fixed(
        "다른 창이 이미 실행 중인지 확인할 수 없습니다(개인 잠금 폴더를 만들 수 없음). 이 앱을 한 창에서만 여세요.",
        "Could not check whether another window of this app is running (no private lock folder could be made). Keep this app open in one window only.",
    )
}
