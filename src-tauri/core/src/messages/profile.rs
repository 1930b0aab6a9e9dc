//! Words on the profile card: field labels and the notes beside a field (S09, S14, S15).
//! Fields are named by their view id (`nickname`, `phone_number`, …, as in `FieldView::id`).

use crate::text::Text;

/// The label of a field shown on the card; an unknown id is shown as itself.
pub fn label(id: &str) -> Text {
    match id {
        "nickname" => Text::fixed("닉네임", "Nickname"),
        "profile_image" => Text::fixed("프로필 사진", "Profile picture"),
        "email" => Text::fixed("카카오계정(이메일)", "Email"),
        "name" => Text::fixed("이름", "Name"),
        "gender" => Text::fixed("성별", "Gender"),
        "age_range" => Text::fixed("연령대", "Age range"),
        "birthday" => Text::fixed("생일", "Birthday"),
        "birthyear" => Text::fixed("출생 연도", "Birth year"),
        "phone_number" => Text::fixed("전화번호", "Phone number"),
        _ => Text::owned(id, id),
    }
}

/// Why Kakao has no value for a field the person agreed to, where the FAQ says why: the phone
/// number comes from KakaoTalk (S15), the email may be missing (S14); otherwise it was never
/// entered.
pub fn empty_note(id: &str) -> Text {
    match id {
        "phone_number" => Text::fixed(
            "카카오는 전화번호를 카카오톡에서 가져옵니다. 카카오톡을 쓰지 않는 계정에는 전화번호가 없습니다. 직접 입력할 수 있습니다.",
            "Kakao takes the phone number from KakaoTalk, so an account without KakaoTalk has none. You can enter it yourself.",
        ),
        "email" => Text::fixed(
            "카카오계정에 이메일이 없습니다. 직접 입력할 수 있습니다.",
            "Your Kakao account has no email address. You can enter one yourself.",
        ),
        _ => Text::fixed(
            "동의했지만 카카오계정에 이 정보가 없습니다(입력한 적이 없음).",
            "You agreed, but your Kakao account has no value for this (it was never entered).",
        ),
    }
}

/// The profile picture is Kakao's default one (`is_default_image`).
pub fn default_picture() -> Text {
    Text::fixed(
        "카카오 기본 프로필 사진을 쓰고 있습니다.",
        "You use Kakao's default picture.",
    )
}

/// The profile picture could not be fetched.
pub fn picture_not_loaded() -> Text {
    Text::fixed(
        "사진을 불러오지 못했습니다. 새로 고침으로 다시 시도할 수 있습니다.",
        "The picture could not be loaded. Refresh to try again.",
    )
}

/// `is_email_valid: false`: another Kakao account took the address (REFERENCE §4a).
pub fn email_not_valid() -> Text {
    Text::fixed(
        "이 이메일은 다른 카카오계정에서 사용되어 더 이상 유효하지 않습니다.",
        "This email is no longer valid: another Kakao account now uses it.",
    )
}

/// A lunar birthday as shown: `formatted` (`MM-DD`) with a mark in both languages, since a
/// field value is one string for both.
pub fn lunar_birthday(formatted: &str) -> String {
    format!("{formatted} (음력/lunar)")
}
