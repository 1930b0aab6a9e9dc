//! `parse_token_response` (kauth `/oauth/token`) on arbitrary status and body.
#![no_main]

mod common;

use kakao_signin_core::kakao::token::parse_token_response;
use kakao_signin_core::kakao::HttpResponse;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&s, body)) = data.split_first() else {
        return;
    };
    let status = common::status(s);
    let response = HttpResponse::new(status, body.to_vec());
    match parse_token_response(&response) {
        Ok(t) => {
            assert!((200..300).contains(&status), "tokens from a {status}");
            assert!(
                !t.access_token.is_empty(),
                "an empty access token was accepted"
            );
            assert!(t.refresh_token.as_ref().is_none_or(|r| !r.is_empty()));
            assert!(t.id_token.as_ref().is_none_or(|r| !r.is_empty()));
            let _ = t.has_scope("openid");
            let debug = format!("{t:?}");
            assert!(
                debug.contains("<redacted>"),
                "Debug shows the token: {debug}"
            );
        }
        Err(e) => common::exercise(&e),
    }
});
