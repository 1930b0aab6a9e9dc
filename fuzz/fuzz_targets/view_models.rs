//! Everything that turns Kakao's answers into what the window shows (issue 17, item 5), on
//! decoded arbitrary input: `/v2/user/me` → the profile card (with values typed in and the
//! picture's URL check), `/v2/user/scopes` → the consent list, any error answer (kapi or kauth)
//! → the error view; each view serialised to the JSON the window gets. None of it may panic
//! (a panic at start would end the app at every start: restore renders the profile).
#![no_main]

mod common;

use kakao_signin_core::kakao::api::parse_api_json;
use kakao_signin_core::kakao::token::parse_token_response;
use kakao_signin_core::kakao::{ApiCall, HttpResponse, Scopes, UserMe};
use kakao_signin_core::localdata::EnteredValue;
use kakao_signin_core::session::fuzzing::{consent_views, image_url_allowed, profile_view};
use kakao_signin_core::session::Error as SessionError;
use libfuzzer_sys::fuzz_target;
use std::collections::BTreeMap;

fn show_error(e: kakao_signin_core::kakao::Error) {
    common::exercise(&e);
    let view = SessionError::from(e).view();
    let json = serde_json::to_string(&view).expect("an error view serialises");
    assert!(!view.message.ko.is_empty() && !view.message.en.is_empty(), "{json}");
}

fuzz_target!(|data: &[u8]| {
    let Some((&s, body)) = data.split_first() else {
        return;
    };
    let r = HttpResponse::new(common::status(s), body.to_vec());
    if !r.is_success() {
        if let Err(e) = parse_api_json::<UserMe>(&r, ApiCall::UserMe) {
            show_error(e);
        }
        if let Err(e) = parse_token_response(&r) {
            show_error(e);
        }
        return;
    }
    if let Ok(me) = parse_api_json::<UserMe>(&r, ApiCall::UserMe) {
        // Values typed in: every enterable field, with text taken from the answer itself.
        let text = String::from_utf8_lossy(body).chars().take(200).collect::<String>();
        let entered: BTreeMap<String, EnteredValue> = kakao_signin_core::localdata::ENTERABLE_FIELDS
            .iter()
            .map(|f| {
                let v = EnteredValue {
                    value: text.clone(),
                    entered_at: i64::from(s),
                };
                ((*f).to_owned(), v)
            })
            .collect();
        let now = i64::from(s) << 24;
        for image in [None, Some(format!("data:image/png;base64,{text}"))] {
            let view = profile_view(&me, &entered, image, now);
            serde_json::to_string(&view).expect("a profile view serialises");
        }
        let profile = me.kakao_account.as_ref().and_then(|a| a.profile.as_ref());
        let urls = profile
            .into_iter()
            .flat_map(|p| [&p.thumbnail_image_url, &p.profile_image_url])
            .flatten();
        for raw in urls {
            if let Ok(url) = url::Url::parse(raw) {
                for base in ["https://kapi.kakao.com", "http://127.0.0.1:9000"] {
                    let _ = image_url_allowed(&url, &base.parse().unwrap());
                }
            }
        }
    }
    if let Ok(scopes) = parse_api_json::<Scopes>(&r, ApiCall::Scopes) {
        let views = consent_views(&scopes.scopes);
        assert_eq!(views.len(), scopes.scopes.len());
        serde_json::to_string(&views).expect("consent views serialise");
    }
});
