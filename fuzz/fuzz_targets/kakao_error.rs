//! Kakao error bodies and error redirects → `Error`, then everything the app does with an error
//! (kind, message, fix, Display, Debug, the transient/dead checks) must not panic, and
//! `redact` must be idempotent.
#![no_main]

mod common;

use kakao_signin_core::kakao::api::parse_api_json;
use kakao_signin_core::kakao::error::redact;
use kakao_signin_core::kakao::token::parse_token_response;
use kakao_signin_core::kakao::{ApiCall, Error, HttpResponse, UserMe};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&s, rest)) = data.split_first() else {
        return;
    };
    // As a body: the token endpoint's and kapi's error paths (never a 2xx here).
    let status = match common::status(s) {
        st if (200..300).contains(&st) => 400,
        st => st,
    };
    let r = HttpResponse::new(status, rest.to_vec());
    match parse_token_response(&r) {
        Ok(_) => panic!("tokens from a {status}"),
        Err(e) => common::exercise(&e),
    }
    match parse_api_json::<UserMe>(&r, ApiCall::Unlink) {
        Ok(_) => panic!("a profile from a {status}"),
        Err(e) => common::exercise(&e),
    }

    // As fields: `error`, `error_description`, `error_code` split at newlines.
    let text = String::from_utf8_lossy(rest);
    let mut parts = text.splitn(3, '\n');
    let error = parts.next().unwrap_or("");
    let description = parts.next();
    let code = parts.next();
    common::exercise(&Error::auth(
        status,
        error,
        description,
        code.map(str::to_owned),
    ));
    common::exercise(&Error::redirect(error, description, code));

    let once = redact(&text);
    assert_eq!(redact(&once), once, "redact is not idempotent");
});
