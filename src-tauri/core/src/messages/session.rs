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

/// After logging out of the Kakao account in the browser too (S07).
pub fn logged_out_of_kakao_account() -> Text {
    Text::fixed(
        "이 기기와 브라우저의 카카오계정에서 모두 로그아웃했습니다.",
        "Logged out on this device and of the Kakao account in the browser.",
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

/// At start, when the single-instance lock could not be taken (no private directory for it):
/// two windows could then each refresh and rotate the same tokens (issue 17).
pub fn no_single_instance_guard() -> Text {
    Text::fixed(
        "다른 창이 이미 실행 중인지 확인할 수 없습니다(개인 잠금 폴더를 만들 수 없음). 이 앱을 한 창에서만 여세요.",
        "Could not check whether another window of this app is running (no private lock folder could be made). Keep this app open in one window only.",
    )
}
