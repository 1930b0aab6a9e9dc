//! Shared by the targets: status selection and "everything an error offers must not panic".
#![allow(dead_code)]

use kakao_signin_core::kakao::{Error, ErrorContext};

/// Statuses Kakao answers with, then any other value: the first byte picks.
pub fn status(b: u8) -> u16 {
    const COMMON: [u16; 16] = [
        200, 201, 204, 301, 302, 400, 401, 403, 404, 405, 429, 500, 502, 503, 504, 0,
    ];
    match COMMON.get(usize::from(b & 0x1f)) {
        Some(&s) => s,
        None => u16::from(b) * 3, // 0..=765: the odd ones too
    }
}

/// Everything the app does with an error: none of it may panic.
pub fn exercise(e: &Error) {
    let _ = e.kind();
    let _ = e.message();
    let _ = e.fix();
    let _ = e.is_transient();
    let _ = e.is_refresh_token_dead();
    let _ = e.is_access_token_invalid();
    let _ = e.error_code();
    let _ = e.api_code();
    let _ = e.status();
    let _ = e.required_scopes();
    let _ = format!("{e}");
    let _ = format!("{e:?}");
    let with = e
        .clone()
        .with_redirect_uri("http://127.0.0.1:18682/callback")
        .with_logout_redirect_uri("http://127.0.0.1:18682/logout")
        .with_context(&ErrorContext::default());
    let _ = with.fix();
    let _ = format!("{with}");
    assert!(!e.kind().as_str().is_empty(), "every error has a kind");
}
