//! Profile field → consent item (scope id) to ask for in additional consent (REFERENCE §5).

use super::api::KakaoAccount;
use serde::Serialize;

/// The `kakao_account` fields that have a consent item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ProfileField {
    /// `profile.nickname`; consent item `profile_nickname` (legacy `profile`).
    Nickname,
    /// `profile.profile_image_url` / `thumbnail_image_url`; consent item `profile_image` (legacy
    /// `profile`).
    ProfileImage,
    /// `name`; consent item `name`.
    Name,
    /// `email`; consent item `account_email`.
    Email,
    /// `age_range`; consent item `age_range`.
    AgeRange,
    /// `birthyear`; consent item `birthyear`.
    Birthyear,
    /// `birthday` (with `birthday_type`, `is_leap_month`); consent item `birthday`.
    Birthday,
    /// `gender`; consent item `gender`.
    Gender,
    /// `phone_number`; consent item `phone_number`.
    PhoneNumber,
    /// `ci` (with `ci_authenticated_at`); consent item `account_ci`.
    Ci,
}

impl ProfileField {
    /// Every field, in declaration order (the order [`scopes_needing_agreement`] returns).
    pub const ALL: [ProfileField; 10] = [
        ProfileField::Nickname,
        ProfileField::ProfileImage,
        ProfileField::Name,
        ProfileField::Email,
        ProfileField::AgeRange,
        ProfileField::Birthyear,
        ProfileField::Birthday,
        ProfileField::Gender,
        ProfileField::PhoneNumber,
        ProfileField::Ci,
    ];

    /// The consent item id to put in `scope=` for this field.
    pub fn scope_id(self) -> &'static str {
        match self {
            ProfileField::Nickname => "profile_nickname",
            ProfileField::ProfileImage => "profile_image",
            ProfileField::Name => "name",
            ProfileField::Email => "account_email",
            ProfileField::AgeRange => "age_range",
            ProfileField::Birthyear => "birthyear",
            ProfileField::Birthday => "birthday",
            ProfileField::Gender => "gender",
            ProfileField::PhoneNumber => "phone_number",
            ProfileField::Ci => "account_ci",
        }
    }

    /// The field a scope id covers (`profile`, the legacy combined item, maps to nickname).
    pub fn from_scope_id(scope: &str) -> Option<ProfileField> {
        if scope == "profile" {
            return Some(ProfileField::Nickname);
        }
        Self::ALL.into_iter().find(|f| f.scope_id() == scope)
    }

    /// `*_needs_agreement` for this field: `None` when the app has not configured the item.
    /// Nickname and image fall back on the legacy combined `profile_needs_agreement`.
    pub fn needs_agreement(self, account: &KakaoAccount) -> Option<bool> {
        match self {
            ProfileField::Nickname => account
                .profile_nickname_needs_agreement
                .or(account.profile_needs_agreement),
            ProfileField::ProfileImage => account
                .profile_image_needs_agreement
                .or(account.profile_needs_agreement),
            ProfileField::Name => account.name_needs_agreement,
            ProfileField::Email => account.email_needs_agreement,
            ProfileField::AgeRange => account.age_range_needs_agreement,
            ProfileField::Birthyear => account.birthyear_needs_agreement,
            ProfileField::Birthday => account.birthday_needs_agreement,
            ProfileField::Gender => account.gender_needs_agreement,
            ProfileField::PhoneNumber => account.phone_number_needs_agreement,
            ProfileField::Ci => account.ci_needs_agreement,
        }
    }

    /// Whether Kakao sent a value for this field.
    pub fn has_value(self, account: &KakaoAccount) -> bool {
        let p = account.profile.as_ref();
        match self {
            ProfileField::Nickname => p.and_then(|p| p.nickname.as_ref()).is_some(),
            ProfileField::ProfileImage => p
                .and_then(|p| {
                    p.profile_image_url
                        .as_ref()
                        .or(p.thumbnail_image_url.as_ref())
                })
                .is_some(),
            ProfileField::Name => account.name.is_some(),
            ProfileField::Email => account.email.is_some(),
            ProfileField::AgeRange => account.age_range.is_some(),
            ProfileField::Birthyear => account.birthyear.is_some(),
            ProfileField::Birthday => account.birthday.is_some(),
            ProfileField::Gender => account.gender.is_some(),
            ProfileField::PhoneNumber => account.phone_number.is_some(),
            ProfileField::Ci => account.ci.is_some(),
        }
    }

    /// The S09 state of this field.
    pub fn consent_state(self, account: Option<&KakaoAccount>) -> ConsentState {
        let Some(account) = account else {
            return ConsentState::NotRequested;
        };
        match (self.needs_agreement(account), self.has_value(account)) {
            (Some(true), _) => ConsentState::NeedsConsent,
            (_, true) => ConsentState::AgreedWithValue,
            (Some(false), false) => ConsentState::AgreedEmpty,
            (None, false) => ConsentState::NotRequested,
        }
    }
}

/// The four states a profile field is shown in (faq S09).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ConsentState {
    /// Agreed, and Kakao sent the value.
    AgreedWithValue,
    /// Agreed, but the Kakao account has no such value.
    AgreedEmpty,
    /// `*_needs_agreement: true`: ask for additional consent.
    NeedsConsent,
    /// The app has not configured this item.
    NotRequested,
}

/// Scope ids to request for every field still needing agreement, without duplicates, in field
/// order. Add `openid` yourself when OIDC is on.
pub fn scopes_needing_agreement(account: &KakaoAccount) -> Vec<&'static str> {
    ProfileField::ALL
        .into_iter()
        .filter(|f| f.needs_agreement(account) == Some(true))
        .map(ProfileField::scope_id)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kakao::api::Profile;

    #[test]
    fn mapping_matches_reference() {
        let pairs: Vec<_> = ProfileField::ALL.iter().map(|f| f.scope_id()).collect();
        assert_eq!(
            pairs,
            [
                "profile_nickname",
                "profile_image",
                "name",
                "account_email",
                "age_range",
                "birthyear",
                "birthday",
                "gender",
                "phone_number",
                "account_ci"
            ]
        );
        assert_eq!(
            ProfileField::from_scope_id("account_email"),
            Some(ProfileField::Email)
        );
        assert_eq!(
            ProfileField::from_scope_id("account_ci"),
            Some(ProfileField::Ci)
        );
        assert_eq!(
            ProfileField::from_scope_id("profile"),
            Some(ProfileField::Nickname)
        );
        assert_eq!(ProfileField::from_scope_id("talk_chats"), None);
    }

    #[test]
    fn four_states() {
        let account = KakaoAccount {
            profile_nickname_needs_agreement: Some(false),
            profile: Some(Profile {
                nickname: Some("홍길동".into()),
                ..Default::default()
            }),
            email_needs_agreement: Some(true),
            phone_number_needs_agreement: Some(false),
            profile_needs_agreement: Some(true),
            ..Default::default()
        };
        let st = |f: ProfileField| f.consent_state(Some(&account));
        assert_eq!(st(ProfileField::Nickname), ConsentState::AgreedWithValue);
        assert_eq!(st(ProfileField::Email), ConsentState::NeedsConsent);
        assert_eq!(st(ProfileField::PhoneNumber), ConsentState::AgreedEmpty);
        assert_eq!(st(ProfileField::Gender), ConsentState::NotRequested);
        // Legacy combined flag applies when the split one is absent.
        assert_eq!(st(ProfileField::ProfileImage), ConsentState::NeedsConsent);
        assert_eq!(
            ProfileField::Email.consent_state(None),
            ConsentState::NotRequested
        );
        assert_eq!(
            scopes_needing_agreement(&account),
            ["profile_image", "account_email"]
        );
        assert_eq!(
            serde_json::to_value(ConsentState::AgreedEmpty).unwrap(),
            "agreed_empty"
        );
    }
}
