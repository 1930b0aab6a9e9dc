//! kapi calls (REFERENCE §4): requests with `Authorization: Bearer`, typed responses, and
//! kapi error bodies. Member ids are `i64` everywhere: they reach 19 digits, past f64.

use super::endpoints::Endpoints;
use super::error::{ApiCall, Error};
use super::http::{HttpRequest, HttpResponse};
use crate::secret::Secret;
use serde::de::{DeserializeOwned, Deserializer};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

fn bearer(request: HttpRequest, access_token: &Secret) -> HttpRequest {
    request.header("authorization", format!("Bearer {}", access_token.expose()))
}

/// `GET /v2/user/me?secure_resource=true` (https image URLs).
pub fn user_me_request(endpoints: &Endpoints, access_token: &Secret) -> HttpRequest {
    let mut url = endpoints.user_me();
    url.set_query(Some("secure_resource=true"));
    bearer(HttpRequest::get(url), access_token)
}

/// `GET /v1/user/access_token_info` (REFERENCE §4b): checks the access token without reading
/// the profile; answers the member id, the token's seconds left and the app id.
pub fn access_token_info_request(endpoints: &Endpoints, access_token: &Secret) -> HttpRequest {
    bearer(
        HttpRequest::get(endpoints.access_token_info()),
        access_token,
    )
}

/// `POST /v1/user/logout` with an empty form (REFERENCE §4c): revokes this access token and the
/// refresh token issued with it (Decision 12). The browser's Kakao session is untouched (§6).
pub fn logout_request(endpoints: &Endpoints, access_token: &Secret) -> HttpRequest {
    bearer(
        HttpRequest::post_form(endpoints.logout(), Vec::new()),
        access_token,
    )
}

/// `POST /v1/user/unlink` with an empty form (REFERENCE §4d): withdraws the member's consents
/// to this app and revokes its tokens; the next sign-in shows the consent screen again.
pub fn unlink_request(endpoints: &Endpoints, access_token: &Secret) -> HttpRequest {
    bearer(
        HttpRequest::post_form(endpoints.unlink(), Vec::new()),
        access_token,
    )
}

/// `GET /v2/user/scopes`, optionally filtered by `scopes=["id",…]`.
pub fn scopes_request(
    endpoints: &Endpoints,
    access_token: &Secret,
    filter: Option<&[String]>,
) -> HttpRequest {
    let mut url = endpoints.scopes();
    if let Some(filter) = filter.filter(|f| !f.is_empty()) {
        url.query_pairs_mut()
            .append_pair("scopes", &json_array(filter));
    }
    bearer(HttpRequest::get(url), access_token)
}

/// `POST /v2/user/revoke/scopes` with `scopes=["a","b"]` (a JSON array inside the form).
pub fn revoke_scopes_request(
    endpoints: &Endpoints,
    access_token: &Secret,
    scopes: &[String],
) -> HttpRequest {
    bearer(
        HttpRequest::post_form(
            endpoints.revoke_scopes(),
            vec![("scopes".to_owned(), json_array(scopes))],
        ),
        access_token,
    )
}

/// `GET /v1/oidc/userinfo` (REFERENCE §4g, OpenID Connect Core 1.0 §5.3); needs OIDC enabled
/// for the app.
pub fn oidc_userinfo_request(endpoints: &Endpoints, access_token: &Secret) -> HttpRequest {
    bearer(HttpRequest::get(endpoints.oidc_userinfo()), access_token)
}

fn json_array(items: &[String]) -> String {
    serde_json::to_string(items).expect("strings serialise")
}

#[derive(Deserialize)]
struct RawApiError {
    code: i64,
    #[serde(default)]
    msg: String,
    #[serde(default)]
    required_scopes: Vec<String>,
    #[serde(default)]
    allowed_scopes: Vec<String>,
    #[serde(default)]
    api_type: Option<String>,
}

/// A kapi body: `T` on 2xx, [`Error::Api`] from `{"code","msg",…}`, else status/decode errors.
pub fn parse_api_json<T: DeserializeOwned>(
    response: &HttpResponse,
    call: ApiCall,
) -> Result<T, Error> {
    if response.is_success() {
        return serde_json::from_slice(&response.body)
            .map_err(|e| Error::decode(response.status, e));
    }
    match serde_json::from_slice::<RawApiError>(&response.body) {
        Ok(raw) => Err(Error::Api {
            status: response.status,
            code: raw.code,
            msg: super::error::redact(&raw.msg),
            required_scopes: raw.required_scopes,
            allowed_scopes: raw.allowed_scopes,
            api_type: raw.api_type,
            call,
        }),
        // A 401 with no body still means the token was refused.
        Err(_) if response.status == 401 => Err(Error::Api {
            status: 401,
            code: -401,
            msg: String::new(),
            required_scopes: Vec::new(),
            allowed_scopes: Vec::new(),
            api_type: None,
            call,
        }),
        Err(_) => Err(Error::Status {
            status: response.status,
        }),
    }
}

/// `/v2/user/me`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct UserMe {
    /// 회원번호: stable per app.
    pub id: i64,
    /// Only for apps with auto-link off: `false` = preregistered, `true` = registered
    /// (REFERENCE §4a).
    #[serde(default)]
    pub has_signed_up: Option<bool>,
    /// RFC 3339 UTC, e.g. `2022-04-11T01:45:28Z`.
    #[serde(default)]
    pub connected_at: Option<String>,
    /// When the member logged in through Kakao Sync simple sign-up; RFC 3339 UTC (REFERENCE §4a).
    #[serde(default)]
    pub synched_at: Option<String>,
    /// App-defined properties (values as strings; nulls dropped).
    #[serde(default, deserialize_with = "lenient_string_map")]
    pub properties: BTreeMap<String, String>,
    /// Absent when the app has no consent items configured.
    #[serde(default)]
    pub kakao_account: Option<KakaoAccount>,
}

/// `kakao_account`. A value is present only when agreed *and* Kakao has it; every
/// `*_needs_agreement` is `None` when the app has not configured that item at all.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default)]
pub struct KakaoAccount {
    /// `true`: the legacy combined `profile` consent item (nickname and image) is configured but
    /// not agreed. Apps set up after the 2021-06-25 split use the two items below (REFERENCE §5).
    pub profile_needs_agreement: Option<bool>,
    /// `true`: consent item `profile_nickname` is configured but not agreed.
    pub profile_nickname_needs_agreement: Option<bool>,
    /// `true`: consent item `profile_image` is configured but not agreed.
    pub profile_image_needs_agreement: Option<bool>,
    /// Nickname and profile image; consent items `profile_nickname`, `profile_image` (legacy
    /// `profile`).
    pub profile: Option<Profile>,

    /// `true`: consent item `name` is configured but not agreed.
    pub name_needs_agreement: Option<bool>,
    /// The name in the Kakao account; consent item `name`.
    pub name: Option<String>,

    /// `true`: consent item `account_email` is configured but not agreed.
    pub email_needs_agreement: Option<bool>,
    /// `false`: another Kakao account has since taken this email, so it is expired (REFERENCE §4a).
    pub is_email_valid: Option<bool>,
    /// `true`: the member has verified the email with Kakao.
    pub is_email_verified: Option<bool>,
    /// The Kakao account email; consent item `account_email`. Trust it only with `is_email_valid`
    /// and `is_email_verified` both `true`.
    pub email: Option<String>,

    /// `true`: consent item `age_range` is configured but not agreed.
    pub age_range_needs_agreement: Option<bool>,
    /// Age bracket, sent as e.g. `20~29`; consent item `age_range`.
    pub age_range: Option<AgeRange>,

    /// `true`: consent item `birthyear` is configured but not agreed.
    pub birthyear_needs_agreement: Option<bool>,
    /// `YYYY`.
    pub birthyear: Option<String>,

    /// `true`: consent item `birthday` is configured but not agreed.
    pub birthday_needs_agreement: Option<bool>,
    /// `MMDD`.
    pub birthday: Option<String>,
    /// Calendar of `birthday` (`SOLAR` / `LUNAR`); comes with consent item `birthday`.
    pub birthday_type: Option<BirthdayType>,
    /// `true`: a lunar `birthday` falls in a leap month; comes with consent item `birthday`.
    pub is_leap_month: Option<bool>,

    /// `true`: consent item `gender` is configured but not agreed.
    pub gender_needs_agreement: Option<bool>,
    /// `female` / `male`; consent item `gender`.
    pub gender: Option<Gender>,

    /// `true`: consent item `phone_number` is configured but not agreed.
    pub phone_number_needs_agreement: Option<bool>,
    /// `+82 10-1234-5678` style.
    pub phone_number: Option<String>,

    /// `true`: consent item `account_ci` is configured but not agreed.
    pub ci_needs_agreement: Option<bool>,
    /// CI (연계정보, the identity-verification linking value); consent item `account_ci`. Absent
    /// when the member never did identity verification through Kakao (REFERENCE §5).
    pub ci: Option<String>,
    /// RFC 3339 UTC.
    pub ci_authenticated_at: Option<String>,
}

/// `kakao_account.profile` (REFERENCE §4a): consent items `profile_nickname` and
/// `profile_image` (legacy `profile`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default)]
pub struct Profile {
    /// Kakao profile nickname; consent item `profile_nickname`.
    pub nickname: Option<String>,
    /// Profile image thumbnail, 110×110 or 100×100 px; consent item `profile_image`. https because
    /// [`user_me_request`] asks for `secure_resource=true`.
    pub thumbnail_image_url: Option<String>,
    /// Profile image, 640×640 or 480×480 px; consent item `profile_image`.
    pub profile_image_url: Option<String>,
    /// `true`: the image URLs are Kakao's default profile image, not one the member chose.
    pub is_default_image: Option<bool>,
    /// True when Kakao substituted its default nickname.
    pub is_default_nickname: Option<bool>,
}

/// `age_range`. Kakao's docs say `1~9`, its SDKs `0~9`: both read as [`AgeRange::Age0To9`].
/// Unknown future buckets are kept verbatim rather than failing the whole profile.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum AgeRange {
    /// `0~9` (SDKs) or `1~9` (REST docs); written back as `1~9`.
    Age0To9,
    /// `10~14`.
    Age10To14,
    /// `15~19`.
    Age15To19,
    /// `20~29`.
    Age20To29,
    /// `30~39`.
    Age30To39,
    /// `40~49`.
    Age40To49,
    /// `50~59`.
    Age50To59,
    /// `60~69`.
    Age60To69,
    /// `70~79`.
    Age70To79,
    /// `80~89`.
    Age80To89,
    /// `90~`: 90 and over.
    Age90Plus,
    /// A bucket this code does not know, kept verbatim.
    Other(String),
}

impl AgeRange {
    /// Reads Kakao's `age_range` string (surrounding whitespace ignored). Never fails: an unknown
    /// bucket becomes [`AgeRange::Other`].
    pub fn parse(s: &str) -> AgeRange {
        match s.trim() {
            "0~9" | "1~9" => AgeRange::Age0To9,
            "10~14" => AgeRange::Age10To14,
            "15~19" => AgeRange::Age15To19,
            "20~29" => AgeRange::Age20To29,
            "30~39" => AgeRange::Age30To39,
            "40~49" => AgeRange::Age40To49,
            "50~59" => AgeRange::Age50To59,
            "60~69" => AgeRange::Age60To69,
            "70~79" => AgeRange::Age70To79,
            "80~89" => AgeRange::Age80To89,
            "90~" => AgeRange::Age90Plus,
            other => AgeRange::Other(other.to_owned()),
        }
    }

    /// The display form (`1~9` as Kakao's REST docs write it).
    pub fn as_str(&self) -> &str {
        match self {
            AgeRange::Age0To9 => "1~9",
            AgeRange::Age10To14 => "10~14",
            AgeRange::Age15To19 => "15~19",
            AgeRange::Age20To29 => "20~29",
            AgeRange::Age30To39 => "30~39",
            AgeRange::Age40To49 => "40~49",
            AgeRange::Age50To59 => "50~59",
            AgeRange::Age60To69 => "60~69",
            AgeRange::Age70To79 => "70~79",
            AgeRange::Age80To89 => "80~89",
            AgeRange::Age90Plus => "90~",
            AgeRange::Other(s) => s,
        }
    }
}

/// `gender` of `/v2/user/me` and OIDC userinfo (REFERENCE §4a, §4g); consent item `gender`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Gender {
    /// `female`.
    Female,
    /// `male`.
    Male,
    /// Any other value, kept verbatim.
    Other(String),
}

impl Gender {
    /// Case-insensitive: the OIDC example shows `MALE`.
    pub fn parse(s: &str) -> Gender {
        match s.to_ascii_lowercase().as_str() {
            "female" => Gender::Female,
            "male" => Gender::Male,
            _ => Gender::Other(s.to_owned()),
        }
    }

    /// Kakao's lowercase form (`female`, `male`), or an unknown value as received.
    pub fn as_str(&self) -> &str {
        match self {
            Gender::Female => "female",
            Gender::Male => "male",
            Gender::Other(s) => s,
        }
    }
}

/// `birthday_type`: which calendar `birthday` is in (REFERENCE §4a).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum BirthdayType {
    /// `SOLAR`: solar (Gregorian) calendar.
    Solar,
    /// `LUNAR`: lunar calendar; see `is_leap_month`.
    Lunar,
    /// Any other value, kept verbatim.
    Other(String),
}

impl BirthdayType {
    /// Case-insensitive; an unknown value becomes [`BirthdayType::Other`].
    pub fn parse(s: &str) -> BirthdayType {
        match s.to_ascii_uppercase().as_str() {
            "SOLAR" => BirthdayType::Solar,
            "LUNAR" => BirthdayType::Lunar,
            _ => BirthdayType::Other(s.to_owned()),
        }
    }

    /// Kakao's upper-case form (`SOLAR`, `LUNAR`), or an unknown value as received.
    pub fn as_str(&self) -> &str {
        match self {
            BirthdayType::Solar => "SOLAR",
            BirthdayType::Lunar => "LUNAR",
            BirthdayType::Other(s) => s,
        }
    }
}

macro_rules! string_enum_serde {
    ($t:ty) => {
        impl<'de> Deserialize<'de> for $t {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                Ok(<$t>::parse(&String::deserialize(d)?))
            }
        }
        impl Serialize for $t {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }
    };
}
string_enum_serde!(AgeRange);
string_enum_serde!(Gender);
string_enum_serde!(BirthdayType);

fn lenient_string_map<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<BTreeMap<String, String>, D::Error> {
    let raw: Option<BTreeMap<String, serde_json::Value>> = Option::deserialize(d)?;
    Ok(raw
        .unwrap_or_default()
        .into_iter()
        .filter_map(|(k, v)| match v {
            serde_json::Value::Null => None,
            serde_json::Value::String(s) => Some((k, s)),
            other => Some((k, other.to_string())),
        })
        .collect())
}

/// `/v1/user/access_token_info`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
pub struct AccessTokenInfo {
    /// Member id the access token belongs to.
    pub id: i64,
    /// Seconds the access token has left.
    pub expires_in: i64,
    /// Kakao app id the token was issued for; 0 when Kakao omits it.
    #[serde(default)]
    pub app_id: i64,
}

/// `{"id": …}` from logout and unlink.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
pub struct UserId {
    /// Member id that was logged out or unlinked.
    pub id: i64,
}

/// `/v2/user/scopes`, and `/v2/user/revoke/scopes` after a revoke (REFERENCE §4e, §4f): the
/// member's consent items for this app.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct Scopes {
    /// Member id.
    pub id: i64,
    /// Items configured in the app plus items agreed earlier and no longer used; after a revoke
    /// the revoked ones read `agreed: false`.
    #[serde(default)]
    pub scopes: Vec<ScopeInfo>,
}

/// One consent item of `/v2/user/scopes`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct ScopeInfo {
    /// Consent item id, e.g. `account_email` (REFERENCE §5).
    pub id: String,
    /// Kakao's label for the item, e.g. `Email`; for display only.
    #[serde(default)]
    pub display_name: String,
    /// `type`: personal information or permission item; [`ScopeType::Privacy`] when absent.
    #[serde(rename = "type", default)]
    pub scope_type: ScopeType,
    /// Configured in the app now (false: agreed earlier, no longer used).
    #[serde(default)]
    pub using: bool,
    /// `true`: the member has agreed to this item.
    #[serde(default)]
    pub agreed: bool,
    /// Only present when agreed; required items are not revocable.
    #[serde(default)]
    pub revocable: Option<bool>,
    /// `delegated` (위임 동의항목, delegated consent): in Kakao's SDK models, not described by the
    /// REST docs (REFERENCE §4e, open question 14).
    #[serde(default)]
    pub delegated: Option<bool>,
}

/// `type` of a consent item in `/v2/user/scopes` (REFERENCE §4e).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub enum ScopeType {
    /// Personal information item.
    #[default]
    Privacy,
    /// Permission item (e.g. `talk_chats`).
    Service,
    /// Any other value, kept verbatim.
    Other(String),
}

impl ScopeType {
    /// Exact, case-sensitive match; an unknown value becomes [`ScopeType::Other`].
    pub fn parse(s: &str) -> ScopeType {
        match s {
            "PRIVACY" => ScopeType::Privacy,
            "SERVICE" => ScopeType::Service,
            other => ScopeType::Other(other.to_owned()),
        }
    }
    /// Kakao's form (`PRIVACY`, `SERVICE`), or an unknown value as received.
    pub fn as_str(&self) -> &str {
        match self {
            ScopeType::Privacy => "PRIVACY",
            ScopeType::Service => "SERVICE",
            ScopeType::Other(s) => s,
        }
    }
}
string_enum_serde!(ScopeType);

/// `/v1/oidc/userinfo`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default)]
pub struct OidcUserInfo {
    /// Member id as a string; see [`OidcUserInfo::member_id`].
    pub sub: String,
    /// Name; consent item `name`.
    pub name: Option<String>,
    /// Nickname; consent item `profile_nickname`.
    pub nickname: Option<String>,
    /// Profile image thumbnail URL (110×110 px); consent item `profile_image`.
    pub picture: Option<String>,
    /// Email; consent item `account_email`.
    pub email: Option<String>,
    /// `true` only when the email is both verified and valid.
    pub email_verified: Option<bool>,
    /// Consent item `gender`; read case-insensitively (Kakao's example sends `MALE`).
    pub gender: Option<Gender>,
    /// `YYYY-MM-DD`, `0000-MM-DD` or `YYYY`.
    pub birthdate: Option<String>,
    /// `+82 00-0000-0000` or `+82 00 0000 0000`; consent item `phone_number`.
    pub phone_number: Option<String>,
    /// Always `true` when a number is present (REFERENCE §4g).
    pub phone_number_verified: Option<bool>,
}

impl OidcUserInfo {
    /// `sub` as the 64-bit member id; `None` when it is not an integer.
    pub fn member_id(&self) -> Option<i64> {
        self.sub.parse().ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kakao::http::Method;
    use serde_json::json;

    fn token() -> Secret {
        Secret::new("ACCESS")
    }

    #[test]
    fn requests_are_exact() {
        let e = Endpoints::kakao();
        let r = user_me_request(&e, &token());
        assert_eq!(r.method, Method::Get);
        assert_eq!(
            r.url.as_str(),
            "https://kapi.kakao.com/v2/user/me?secure_resource=true"
        );
        assert_eq!(r.header_value("Authorization"), Some("Bearer ACCESS"));
        assert!(r.form.is_empty());

        let r = access_token_info_request(&e, &token());
        assert_eq!(
            (r.method, r.url.as_str()),
            (
                Method::Get,
                "https://kapi.kakao.com/v1/user/access_token_info"
            )
        );
        assert_eq!(r.header_value("authorization"), Some("Bearer ACCESS"));

        for (r, url) in [
            (
                logout_request(&e, &token()),
                "https://kapi.kakao.com/v1/user/logout",
            ),
            (
                unlink_request(&e, &token()),
                "https://kapi.kakao.com/v1/user/unlink",
            ),
        ] {
            assert_eq!((r.method, r.url.as_str()), (Method::Post, url));
            assert_eq!(r.header_value("authorization"), Some("Bearer ACCESS"));
            assert_eq!(
                r.header_value("content-type"),
                Some("application/x-www-form-urlencoded;charset=utf-8")
            );
        }

        let r = scopes_request(&e, &token(), None);
        assert_eq!(r.url.as_str(), "https://kapi.kakao.com/v2/user/scopes");
        let filter = vec!["account_email".to_owned(), "gender".to_owned()];
        let r = scopes_request(&e, &token(), Some(&filter));
        let pairs: Vec<(String, String)> = r.url.query_pairs().into_owned().collect();
        assert_eq!(
            pairs,
            [(
                "scopes".to_owned(),
                r#"["account_email","gender"]"#.to_owned()
            )]
        );

        let r = revoke_scopes_request(&e, &token(), &filter);
        assert_eq!(
            (r.method, r.url.as_str()),
            (Method::Post, "https://kapi.kakao.com/v2/user/revoke/scopes")
        );
        assert_eq!(
            r.form_value("scopes"),
            Some(r#"["account_email","gender"]"#)
        );
        assert_eq!(
            r.encoded_form(),
            "scopes=%5B%22account_email%22%2C%22gender%22%5D"
        );

        let r = oidc_userinfo_request(&e, &token());
        assert_eq!(
            (r.method, r.url.as_str()),
            (Method::Get, "https://kapi.kakao.com/v1/oidc/userinfo")
        );
        assert!(!format!("{r:?}").contains("ACCESS"));
    }

    #[test]
    fn user_me_full() {
        let body = json!({
            "id": 1376016924429759243_i64,
            "connected_at": "2022-04-11T01:45:28Z",
            "properties": {"nickname": "홍길동", "custom": 5, "gone": null},
            "for_partner": {"uuid": "x"},
            "kakao_account": {
                "profile_needs_agreement": false,
                "profile_nickname_needs_agreement": false,
                "profile_image_needs_agreement": false,
                "profile": {
                    "nickname": "홍길동",
                    "thumbnail_image_url": "https://k.kakaocdn.net/t.jpg",
                    "profile_image_url": "https://k.kakaocdn.net/p.jpg",
                    "is_default_image": false,
                    "is_default_nickname": false
                },
                "name_needs_agreement": false, "name": "홍길동",
                "email_needs_agreement": false, "is_email_valid": true, "is_email_verified": true,
                "email": "sample@sample.com",
                "age_range_needs_agreement": false, "age_range": "20~29",
                "birthyear_needs_agreement": false, "birthyear": "2002",
                "birthday_needs_agreement": false, "birthday": "1130", "birthday_type": "SOLAR",
                "is_leap_month": false,
                "gender_needs_agreement": false, "gender": "female",
                "phone_number_needs_agreement": false, "phone_number": "+82 010-1234-5678",
                "ci_needs_agreement": false, "ci": "CI-VALUE", "ci_authenticated_at": "2019-03-11T11:25:22Z",
                "legal_name": "ignored", "has_email": true
            }
        });
        let me: UserMe = parse_api_json(&HttpResponse::json(200, &body), ApiCall::UserMe).unwrap();
        assert_eq!(me.id, 1376016924429759243);
        assert_eq!(me.connected_at.as_deref(), Some("2022-04-11T01:45:28Z"));
        assert_eq!(me.properties["nickname"], "홍길동");
        assert_eq!(me.properties["custom"], "5");
        assert!(!me.properties.contains_key("gone"));
        let a = me.kakao_account.unwrap();
        let p = a.profile.clone().unwrap();
        assert_eq!(p.nickname.as_deref(), Some("홍길동"));
        assert_eq!(p.is_default_nickname, Some(false));
        assert_eq!(a.email.as_deref(), Some("sample@sample.com"));
        assert_eq!(
            (a.is_email_valid, a.is_email_verified),
            (Some(true), Some(true))
        );
        assert_eq!(a.age_range, Some(AgeRange::Age20To29));
        assert_eq!(a.birthday_type, Some(BirthdayType::Solar));
        assert_eq!(a.gender, Some(Gender::Female));
        assert_eq!(
            a.ci_authenticated_at.as_deref(),
            Some("2019-03-11T11:25:22Z")
        );
        assert_eq!(a.phone_number.as_deref(), Some("+82 010-1234-5678"));
        // Serialises back with Kakao's strings.
        let v = serde_json::to_value(&a).unwrap();
        assert_eq!(v["age_range"], "20~29");
        assert_eq!(v["gender"], "female");
    }

    #[test]
    fn user_me_minimal_missing_and_needs_agreement() {
        let me: UserMe = serde_json::from_value(json!({"id": 123})).unwrap();
        assert_eq!(me.id, 123);
        assert!(me.kakao_account.is_none());
        assert!(me.properties.is_empty());

        let me: UserMe = serde_json::from_value(json!({
            "id": 9223372036854775807_i64,
            "kakao_account": {
                "profile_nickname_needs_agreement": false,
                "profile": {"nickname": "홍길동"},
                "email_needs_agreement": true,
                "age_range_needs_agreement": false, "age_range": "1~9",
                "ci_needs_agreement": false
            }
        }))
        .unwrap();
        assert_eq!(me.id, i64::MAX);
        let a = me.kakao_account.unwrap();
        assert_eq!(a.email_needs_agreement, Some(true));
        assert_eq!(a.email, None);
        assert_eq!(a.gender_needs_agreement, None);
        assert_eq!(a.ci_needs_agreement, Some(false));
        assert_eq!(a.ci, None);
        assert_eq!(a.age_range, Some(AgeRange::Age0To9));
        assert_eq!(AgeRange::parse("0~9"), AgeRange::Age0To9);
        assert_eq!(AgeRange::parse("90~"), AgeRange::Age90Plus);
        assert_eq!(AgeRange::parse("100~"), AgeRange::Other("100~".into()));
        assert_eq!(Gender::parse("MALE"), Gender::Male);
    }

    #[test]
    fn big_id_is_exact_from_raw_text() {
        // Straight from bytes, not via a serde_json::Value built in Rust.
        let body = br#"{"id":1376016924429759243,"expires_in":7199,"app_id":100}"#;
        let info: AccessTokenInfo = parse_api_json(
            &HttpResponse::new(200, body.to_vec()),
            ApiCall::AccessTokenInfo,
        )
        .unwrap();
        assert_eq!(info.id, 1376016924429759243);
        assert_eq!(info.expires_in, 7199);
        let id: UserId = parse_api_json(
            &HttpResponse::new(200, br#"{"id":1376016924429759243}"#.to_vec()),
            ApiCall::Logout,
        )
        .unwrap();
        assert_eq!(id.id, 1376016924429759243);
    }

    #[test]
    fn scopes_decode() {
        let body = json!({"id": 1, "scopes": [
            {"id":"profile_nickname","display_name":"닉네임","type":"PRIVACY","using":true,"agreed":true,"revocable":false},
            {"id":"account_email","display_name":"Email","type":"PRIVACY","using":true,"agreed":false},
            {"id":"talk_chats","display_name":"Read chat lists in Kakao Talk","type":"SERVICE","using":false,"agreed":true,"revocable":true,"delegated":true}
        ]});
        let s: Scopes = parse_api_json(&HttpResponse::json(200, &body), ApiCall::Scopes).unwrap();
        assert_eq!(s.scopes.len(), 3);
        assert_eq!(s.scopes[0].revocable, Some(false));
        assert_eq!(s.scopes[1].revocable, None);
        assert!(!s.scopes[1].agreed);
        assert_eq!(s.scopes[2].scope_type, ScopeType::Service);
        assert_eq!(s.scopes[2].delegated, Some(true));
        assert!(!s.scopes[2].using);
    }

    #[test]
    fn oidc_userinfo_decode() {
        let body = json!({"sub":"1376016924429759243","nickname":"홍길동","picture":"https://x/t.jpg",
            "email":"a@b.c","email_verified":true,"gender":"MALE","birthdate":"0000-11-30",
            "phone_number":"+82 010-1234-5678","phone_number_verified":true});
        let u: OidcUserInfo =
            parse_api_json(&HttpResponse::json(200, &body), ApiCall::OidcUserInfo).unwrap();
        assert_eq!(u.member_id(), Some(1376016924429759243));
        assert_eq!(u.gender, Some(Gender::Male));
        assert_eq!(u.birthdate.as_deref(), Some("0000-11-30"));
    }

    #[test]
    fn api_errors() {
        let r = HttpResponse::json(
            403,
            &json!({"msg":"insufficient scopes","code":-402,"api_type":"USER_ME",
                    "required_scopes":["account_email"],"allowed_scopes":["profile_nickname"]}),
        );
        let err = parse_api_json::<UserMe>(&r, ApiCall::UserMe).unwrap_err();
        assert_eq!(err.kind(), "insufficient_scope");
        assert_eq!(err.required_scopes().unwrap(), ["account_email"]);
        match &err {
            Error::Api {
                allowed_scopes,
                api_type,
                status,
                ..
            } => {
                assert_eq!(allowed_scopes, &["profile_nickname"]);
                assert_eq!(api_type.as_deref(), Some("USER_ME"));
                assert_eq!(*status, 403);
            }
            other => panic!("{other:?}"),
        }
        let r = HttpResponse::json(
            401,
            &json!({"msg":"this access token does not exist","code":-401}),
        );
        let err = parse_api_json::<UserMe>(&r, ApiCall::UserMe).unwrap_err();
        assert!(err.is_access_token_invalid());
        assert!(!err.is_transient());
        let r = HttpResponse::new(401, Vec::new());
        assert!(parse_api_json::<UserMe>(&r, ApiCall::UserMe)
            .unwrap_err()
            .is_access_token_invalid());
        let r = HttpResponse::json(400, &json!({"msg":"internal","code":-1}));
        assert!(parse_api_json::<UserMe>(&r, ApiCall::UserMe)
            .unwrap_err()
            .is_transient());
        let r = HttpResponse::json(
            403,
            &json!({"msg":"[profile] is not revocable. check out if it's set as required on developers.kakao.com","code":-3}),
        );
        assert_eq!(
            parse_api_json::<Scopes>(&r, ApiCall::RevokeScopes)
                .unwrap_err()
                .kind(),
            "scope_not_revocable"
        );
        let r = HttpResponse::new(503, b"<html/>".to_vec());
        let err = parse_api_json::<UserMe>(&r, ApiCall::UserMe).unwrap_err();
        assert_eq!(err.kind(), "kakao_temporary");
        let r = HttpResponse::new(200, b"{\"id\": 1.5}".to_vec());
        assert_eq!(
            parse_api_json::<UserMe>(&r, ApiCall::UserMe)
                .unwrap_err()
                .kind(),
            "malformed_response"
        );
    }
}
