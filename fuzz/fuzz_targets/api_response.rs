//! `parse_api_json` (kapi) for every call and every response type, on arbitrary status and
//! body. What decodes must survive a serialize/deserialize round trip unchanged.
#![no_main]

mod common;

use kakao_signin_core::kakao::api::parse_api_json;
use kakao_signin_core::kakao::{
    AccessTokenInfo, ApiCall, HttpResponse, OidcUserInfo, Scopes, UserMe,
};
use libfuzzer_sys::fuzz_target;
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::fmt::Debug;

const CALLS: [ApiCall; 7] = [
    ApiCall::UserMe,
    ApiCall::AccessTokenInfo,
    ApiCall::Logout,
    ApiCall::Unlink,
    ApiCall::Scopes,
    ApiCall::RevokeScopes,
    ApiCall::OidcUserInfo,
];

fn check<T: DeserializeOwned + Serialize + PartialEq + Debug>(r: &HttpResponse, call: ApiCall) {
    match parse_api_json::<T>(r, call) {
        Ok(v) => {
            assert!((200..300).contains(&r.status));
            let _ = format!("{v:?}");
            let json = serde_json::to_vec(&v).expect("serializes");
            let back: T = serde_json::from_slice(&json).expect("reads back what it wrote");
            assert_eq!(back, v, "round trip changed the value");
        }
        Err(e) => common::exercise(&e),
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&s, body)) = data.split_first() else {
        return;
    };
    let r = HttpResponse::new(common::status(s), body.to_vec());
    if r.is_success() {
        // The call only names the failing call in an error: one is enough for a 2xx.
        check::<UserMe>(&r, ApiCall::UserMe);
        check::<Scopes>(&r, ApiCall::Scopes);
        check::<AccessTokenInfo>(&r, ApiCall::AccessTokenInfo);
        check::<OidcUserInfo>(&r, ApiCall::OidcUserInfo);
        if let Ok(u) = parse_api_json::<OidcUserInfo>(&r, ApiCall::OidcUserInfo) {
            let _ = u.member_id();
        }
    } else {
        // The error does not depend on the type: every call, one type.
        for call in CALLS {
            check::<UserMe>(&r, call);
        }
    }
});
