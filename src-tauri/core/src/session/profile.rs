//! `/v2/user/me` and `/v2/user/scopes` → what the window shows: each field in one of four
//! states (S09), the notes the FAQ calls for (S14, S15), and the consent list (S13).

use super::view::{ConsentView, FieldState, FieldView, ProfileView};
use crate::kakao::{
    ConsentState, HttpClient, HttpRequest, KakaoAccount, ProfileField, ScopeInfo, UserMe,
};
use crate::localdata::{EnteredValue, ENTERABLE_FIELDS};
use crate::messages::profile as words;
use base64::Engine;
use std::collections::BTreeMap;
use url::Url;

/// Fields shown, in order. CI (연계정보) is left out: it is an identity hash for partner apps,
/// meaningless to a person.
const SHOWN: [(ProfileField, &str); 9] = [
    (ProfileField::Nickname, "nickname"),
    (ProfileField::ProfileImage, "profile_image"),
    (ProfileField::Email, "email"),
    (ProfileField::Name, "name"),
    (ProfileField::Gender, "gender"),
    (ProfileField::AgeRange, "age_range"),
    (ProfileField::Birthday, "birthday"),
    (ProfileField::Birthyear, "birthyear"),
    (ProfileField::PhoneNumber, "phone_number"),
];

fn value(field: ProfileField, a: &KakaoAccount) -> Option<String> {
    let p = a.profile.as_ref();
    match field {
        ProfileField::Nickname => p.and_then(|p| p.nickname.clone()),
        // The picture is shown as the card's avatar (a data URL); its URL is no value to read.
        ProfileField::ProfileImage => None,
        ProfileField::Email => a.email.clone(),
        ProfileField::Name => a.name.clone(),
        ProfileField::Gender => a.gender.as_ref().map(|g| g.as_str().to_owned()),
        ProfileField::AgeRange => a.age_range.as_ref().map(|r| r.as_str().to_owned()),
        ProfileField::Birthday => a.birthday.as_ref().map(|b| {
            // Kakao's `MMDD`; anything else (it is outside text) is shown as sent.
            let formatted = match b.as_bytes() {
                [m1, m2, d1, d2] if [m1, m2, d1, d2].iter().all(|c| c.is_ascii_digit()) => {
                    format!(
                        "{}{}-{}{}",
                        *m1 as char, *m2 as char, *d1 as char, *d2 as char
                    )
                }
                _ => b.clone(),
            };
            match a.birthday_type.as_ref().map(|t| t.as_str()) {
                Some("LUNAR") => words::lunar_birthday(&formatted),
                _ => formatted,
            }
        }),
        ProfileField::Birthyear => a.birthyear.clone(),
        ProfileField::PhoneNumber => a.phone_number.clone(),
        ProfileField::Ci => None,
    }
}

/// `image_pending`: the picture is still being fetched (it follows in the next view), so no
/// "not loaded" note yet.
pub(super) fn profile_view(
    me: &UserMe,
    entered: &BTreeMap<String, EnteredValue>,
    image: Option<String>,
    image_pending: bool,
    now: i64,
) -> ProfileView {
    let account = me.kakao_account.as_ref();
    let fields = SHOWN
        .iter()
        .map(|&(field, id)| {
            let state = match field.consent_state(account) {
                ConsentState::AgreedWithValue => FieldState::Agreed,
                ConsentState::AgreedEmpty => FieldState::AgreedEmpty,
                ConsentState::NeedsConsent => FieldState::NeedsConsent,
                ConsentState::NotRequested => FieldState::NotRequested,
            };
            let enterable = ENTERABLE_FIELDS.contains(&id) && state == FieldState::AgreedEmpty;
            let mut note = (state == FieldState::AgreedEmpty).then(|| words::empty_note(id));
            if field == ProfileField::ProfileImage && state == FieldState::Agreed {
                let default = account
                    .and_then(|a| a.profile.as_ref())
                    .and_then(|p| p.is_default_image)
                    .unwrap_or(false);
                note = if default {
                    Some(words::default_picture())
                } else if image.is_none() && !image_pending {
                    Some(words::picture_not_loaded())
                } else {
                    None
                };
            }
            let (mut email_valid, mut email_verified) = (None, None);
            if field == ProfileField::Email {
                email_valid = account.and_then(|a| a.is_email_valid);
                email_verified = account.and_then(|a| a.is_email_verified);
                if state == FieldState::Agreed && email_valid == Some(false) {
                    note = Some(words::email_not_valid());
                }
            }
            FieldView {
                id,
                label: words::label(id),
                state,
                value: match state {
                    FieldState::Agreed => account.and_then(|a| value(field, a)),
                    _ => None,
                },
                scope: field.scope_id(),
                entered: if state == FieldState::AgreedEmpty {
                    entered.get(id).map(|e| e.value.clone())
                } else {
                    None
                },
                enterable,
                note,
                email_valid,
                email_verified,
            }
        })
        .collect();
    let profile = account.and_then(|a| a.profile.as_ref());
    ProfileView {
        member_id: me.id.to_string(),
        nickname: profile.and_then(|p| p.nickname.clone()),
        is_default_nickname: profile.and_then(|p| p.is_default_nickname).unwrap_or(false),
        image,
        connected_at: me.connected_at.clone(),
        fields,
        fetched_at: now,
    }
}

pub(super) fn consent_views(scopes: &[ScopeInfo]) -> Vec<ConsentView> {
    scopes
        .iter()
        .map(|s| ConsentView {
            id: s.id.clone(),
            display_name: s.display_name.clone(),
            agreed: s.agreed,
            // Kakao sends `revocable` only for agreed items; an agreed item that cannot be
            // withdrawn is one the app set as required.
            required: s.agreed && s.revocable == Some(false),
            revocable: s.agreed && s.revocable == Some(true),
            using: s.using,
        })
        .collect()
}

/// Largest picture we turn into a data URL, in bytes (Kakao's are 110×110 thumbnails, a few
/// KB); a longer body is not read past this.
pub(crate) const MAX_IMAGE_BYTES: usize = 512 * 1024;

/// Kakao's image host: profile pictures are served from `kakaocdn.net` and its subdomains
/// (`k.kakaocdn.net`, `img1.kakaocdn.net`, …).
const KAKAO_IMAGE_DOMAIN: &str = "kakaocdn.net";

/// Whether the app fetches a picture at `url`: https on Kakao's image host, or (the simulator,
/// which an app pointed at a loopback kapi talks to) the kapi's own loopback origin. Any other
/// URL from an answer is not fetched: an answer must not make the app call this computer's
/// other services or any other host.
pub(crate) fn image_url_allowed(url: &Url, api_base: &Url) -> bool {
    let kakao_host = url.scheme() == "https"
        && url.port().is_none()
        && url.host_str().is_some_and(|h| {
            let h = h.strip_suffix('.').unwrap_or(h).to_ascii_lowercase();
            h == KAKAO_IMAGE_DOMAIN || h.ends_with(&format!(".{KAKAO_IMAGE_DOMAIN}"))
        });
    let simulator = crate::net::is_loopback(api_base) && url.origin() == api_base.origin();
    kakao_host || simulator
}

/// The picture `/v2/user/me` names, unless it is Kakao's default one (shown as a note).
pub(super) fn image_url(me: &UserMe) -> Option<&str> {
    let profile = me.kakao_account.as_ref()?.profile.as_ref()?;
    if profile.is_default_image == Some(true) {
        return None;
    }
    profile
        .thumbnail_image_url
        .as_deref()
        .or(profile.profile_image_url.as_deref())
}

/// Fetches the profile picture so the window shows it as a `data:` URL and its CSP need not
/// allow remote images. Only from [`image_url_allowed`] URLs, at most [`MAX_IMAGE_BYTES`]. Any
/// failure just means the placeholder is shown.
pub(super) async fn fetch_image(
    http: &dyn HttpClient,
    api_base: &Url,
    me: &UserMe,
) -> Option<String> {
    fetch_image_at(http, api_base, image_url(me)?).await
}

/// [`fetch_image`] for a URL known before `/v2/user/me` answers (the ID token's `picture`).
pub(super) async fn fetch_image_at(
    http: &dyn HttpClient,
    api_base: &Url,
    raw: &str,
) -> Option<String> {
    let url = Url::parse(raw).ok()?;
    if !image_url_allowed(&url, api_base) {
        tracing::info!("profile picture not fetched: not on Kakao's image host");
        return None;
    }
    let response = http
        .send(HttpRequest::get(url).max_body(MAX_IMAGE_BYTES))
        .await
        .ok()?;
    if !response.is_success() || response.body.len() > MAX_IMAGE_BYTES {
        return None;
    }
    let content_type = response
        .headers
        .iter()
        .find(|(k, _)| k == "content-type")
        .map(|(_, v)| {
            v.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        })?;
    if !matches!(
        content_type.as_str(),
        // SVG is safe here: an <img> never runs an SVG's scripts.
        "image/png" | "image/jpeg" | "image/gif" | "image/webp" | "image/svg+xml"
    ) {
        return None;
    }
    let b64 = base64::engine::general_purpose::STANDARD.encode(&response.body);
    Some(format!("data:{content_type};base64,{b64}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn me(json: serde_json::Value) -> UserMe {
        serde_json::from_value(json).unwrap()
    }

    fn state_of(p: &ProfileView, id: &str) -> FieldState {
        p.fields.iter().find(|f| f.id == id).unwrap().state
    }

    #[test]
    fn four_states_from_needs_agreement_rules() {
        let m = me(serde_json::json!({
            "id": 3000000000000000001i64,
            "kakao_account": {
                "profile_nickname_needs_agreement": false,
                "profile": {"nickname": "홍길동", "is_default_nickname": false},
                "email_needs_agreement": false,
                "phone_number_needs_agreement": false,
                "gender_needs_agreement": true,
                "birthday_needs_agreement": false,
                "birthday": "0228",
                "birthday_type": "SOLAR"
            }
        }));
        let mut entered = BTreeMap::new();
        entered.insert(
            "phone_number".to_string(),
            EnteredValue {
                value: "+82 10-0000-0000".into(),
                entered_at: 1,
            },
        );
        let p = profile_view(&m, &entered, None, false, 42);
        assert_eq!(p.member_id, "3000000000000000001");
        assert_eq!(state_of(&p, "nickname"), FieldState::Agreed);
        assert_eq!(state_of(&p, "email"), FieldState::AgreedEmpty);
        assert_eq!(state_of(&p, "phone_number"), FieldState::AgreedEmpty);
        assert_eq!(state_of(&p, "gender"), FieldState::NeedsConsent);
        assert_eq!(state_of(&p, "name"), FieldState::NotRequested);
        let phone = p.fields.iter().find(|f| f.id == "phone_number").unwrap();
        assert!(phone.enterable);
        assert_eq!(phone.entered.as_deref(), Some("+82 10-0000-0000"));
        assert!(phone.note.as_ref().unwrap().en.contains("KakaoTalk"));
        let gender = p.fields.iter().find(|f| f.id == "gender").unwrap();
        assert_eq!(gender.scope, "gender");
        assert_eq!(gender.value, None);
        let birthday = p.fields.iter().find(|f| f.id == "birthday").unwrap();
        assert_eq!(birthday.value.as_deref(), Some("02-28"));
        assert_eq!(p.fetched_at, 42);
    }

    #[test]
    fn picture_is_never_a_url_value_and_a_default_one_is_explained() {
        let m = me(serde_json::json!({
            "id": 1,
            "kakao_account": {
                "profile_image_needs_agreement": false,
                "profile": {
                    "profile_image_url": "https://k.kakaocdn.net/default.jpg",
                    "thumbnail_image_url": "https://k.kakaocdn.net/default_110.jpg",
                    "is_default_image": true
                }
            }
        }));
        let p = profile_view(&m, &BTreeMap::new(), None, false, 0);
        let pic = p.fields.iter().find(|f| f.id == "profile_image").unwrap();
        assert_eq!(pic.state, FieldState::Agreed);
        assert_eq!(pic.value, None, "no URL shown as a value");
        assert!(pic.note.as_ref().unwrap().en.contains("default"));
        let shown = profile_view(
            &m,
            &BTreeMap::new(),
            Some("data:image/png;base64,AA".into()),
            false,
            0,
        );
        let json = serde_json::to_string(&shown).unwrap();
        assert!(
            !json.contains("kakaocdn"),
            "no picture URL reaches the window: {json}"
        );
    }

    #[test]
    fn invalid_email_gets_a_note_and_flags() {
        let m = me(serde_json::json!({
            "id": 1,
            "kakao_account": {
                "email_needs_agreement": false,
                "email": "old@example.com",
                "is_email_valid": false,
                "is_email_verified": true
            }
        }));
        let p = profile_view(&m, &BTreeMap::new(), None, false, 0);
        let email = p.fields.iter().find(|f| f.id == "email").unwrap();
        assert_eq!(email.state, FieldState::Agreed);
        assert_eq!(email.email_valid, Some(false));
        assert_eq!(email.email_verified, Some(true));
        assert!(email.note.is_some());
    }

    /// Kakao's birthday is `MMDD`; 4 bytes that are not 4 ASCII digits (`1é2`: é is 2 bytes)
    /// used to be sliced at byte 2, inside the é, and panic.
    #[test]
    fn birthday_that_is_not_mmdd_is_shown_as_sent() {
        for (sent, shown) in [
            ("1é2", "1é2"),
            ("é12", "é12"),
            ("12é", "12é"),
            ("ab12", "ab12"),
            ("1231", "12-31"),
            ("12345", "12345"),
        ] {
            let m = me(serde_json::json!({
                "id": 1,
                "kakao_account": {"birthday_needs_agreement": false, "birthday": sent}
            }));
            let p = profile_view(&m, &BTreeMap::new(), None, false, 0);
            let birthday = p.fields.iter().find(|f| f.id == "birthday").unwrap();
            assert_eq!(birthday.value.as_deref(), Some(shown), "{sent:?}");
        }
    }

    #[test]
    fn pictures_only_from_kakaos_image_host_or_the_simulator() {
        let kakao: Url = "https://kapi.kakao.com".parse().unwrap();
        let sim: Url = "http://127.0.0.1:9000".parse().unwrap();
        for (url, base, allowed) in [
            ("https://k.kakaocdn.net/dn/x/img_110x110.jpg", &kakao, true),
            ("https://img1.kakaocdn.net/thumb/x.jpg", &kakao, true),
            ("https://kakaocdn.net/x.jpg", &kakao, true),
            ("https://K.KAKAOCDN.NET./x.jpg", &kakao, true),
            ("http://k.kakaocdn.net/x.jpg", &kakao, false),
            ("https://k.kakaocdn.net:8443/x.jpg", &kakao, false),
            ("https://evilkakaocdn.net/x.jpg", &kakao, false),
            ("https://kakaocdn.net.evil.example/x.jpg", &kakao, false),
            ("https://example.com/x.jpg", &kakao, false),
            ("http://127.0.0.1:9000/__sim/img/a_110.jpg", &kakao, false),
            ("http://127.0.0.1:631/printers", &kakao, false),
            ("http://127.0.0.1:9000/__sim/img/a_110.jpg", &sim, true),
            ("http://127.0.0.1:631/printers", &sim, false),
            ("http://localhost:9000/__sim/img/a_110.jpg", &sim, false),
        ] {
            let u: Url = url.parse().unwrap();
            assert_eq!(
                image_url_allowed(&u, base),
                allowed,
                "{url} with kapi {base}"
            );
        }
    }

    #[test]
    fn no_kakao_account_means_nothing_requested() {
        let p = profile_view(
            &me(serde_json::json!({"id": 7})),
            &BTreeMap::new(),
            None,
            false,
            0,
        );
        assert!(p.fields.iter().all(|f| f.state == FieldState::NotRequested));
    }

    #[test]
    fn consent_required_and_revocable() {
        let scopes: Vec<ScopeInfo> = serde_json::from_value(serde_json::json!([
            {"id": "profile_nickname", "display_name": "닉네임", "type": "PRIVACY", "using": true, "agreed": true, "revocable": false},
            {"id": "account_email", "display_name": "이메일", "type": "PRIVACY", "using": true, "agreed": true, "revocable": true},
            {"id": "gender", "display_name": "성별", "type": "PRIVACY", "using": true, "agreed": false}
        ]))
        .unwrap();
        let v = consent_views(&scopes);
        assert!(v[0].required && !v[0].revocable);
        assert!(!v[1].required && v[1].revocable);
        assert!(!v[2].agreed && !v[2].required && !v[2].revocable);
    }
}
