//! `{:?}` and `{}` of every type that carries a secret never show it: tokens, codes, the PKCE
//! verifier, state and nonce, the client secret, and Kakao's error text that quotes a code.
//! These are the formats a log line, a panic message or an error view could be built from.

use kakao_signin_core::clock::SystemClock;
use kakao_signin_core::config::Config;
use kakao_signin_core::kakao::http::HttpResponse;
use kakao_signin_core::kakao::token::parse_token_response;
use kakao_signin_core::kakao::{
    self, Endpoints, KakaoClient, Nonce, PkceVerifier, ReqwestHttp, StateToken,
};
use kakao_signin_core::secret::Secret;
use kakao_signin_core::session;
use kakao_signin_core::signin::CallbackOutcome;
use kakao_signin_core::vault::{PairId, StoredRefresh, StoredSession, Vault};
use std::collections::BTreeMap;
use std::sync::Arc;

// Shaped like the real thing: long random URL-safe strings and a JWT.
const ACCESS: &str = "Hc4rYkq0W2m9Vx1bLp7sT3nQz8dF6gJ5aE0uIoKy";
const REFRESH: &str = "Rf9tU2wQx5cV8bN1mZ4kL7jH0gF3dS6aP9oI2uYt";
const ID_TOKEN: &str =
    "eyJraWQiOiJrMSIsImFsZyI6IlJTMjU2In0.eyJzdWIiOiIzMDAwIn0.c2lnbmF0dXJlLXZhbHVlLXNlY3JldA";
const CODE: &str = "Cd8eF3gH6iJ9kL2mN5oP8qR1sT4uV7wX0yZ3aB6c";
const VERIFIER: &str = "Vr2fG5hJ8kL1mN4pQ7rS0tU3vW6xY9zA2bC5dE8fG1h";
const STATE: &str = "St6aT9eB2cD5eF8gH1iJ4kL7";
const NONCE: &str = "Nn3oN6cE9aB2cD5eF8gH1iJ4";
const CLIENT_SECRET: &str = "Cs7lI0eN3tS6eC9rE2tV5aL8";

const ALL: [&str; 8] = [
    ACCESS,
    REFRESH,
    ID_TOKEN,
    CODE,
    VERIFIER,
    STATE,
    NONCE,
    CLIENT_SECRET,
];

/// Fails naming the type and the secret when any secret (or a 12-character piece of one) shows.
fn assert_clean(what: &str, text: &str) {
    for s in ALL {
        for piece in s.as_bytes().windows(12) {
            let piece = std::str::from_utf8(piece).unwrap();
            assert!(
                !text.contains(piece),
                "{what} shows part of a secret ({piece}): {text}"
            );
        }
    }
}

fn token_body() -> String {
    serde_json::json!({
        "token_type": "bearer",
        "access_token": ACCESS,
        "expires_in": 21599,
        "refresh_token": REFRESH,
        "refresh_token_expires_in": 5183999,
        "id_token": ID_TOKEN,
        "scope": "profile_nickname openid"
    })
    .to_string()
}

#[test]
fn the_checker_itself_catches_a_secret() {
    let leaked = std::panic::catch_unwind(|| assert_clean("probe", &format!("x{ACCESS}x")));
    assert!(leaked.is_err(), "assert_clean let a secret through");
    let partial = std::panic::catch_unwind(|| assert_clean("probe", &REFRESH[3..20]));
    assert!(
        partial.is_err(),
        "assert_clean let a piece of a secret through"
    );
}

#[test]
fn secret_newtypes_are_redacted() {
    let cases: Vec<(&str, String, String)> = vec![
        (
            "Secret",
            format!("{:?}", Secret::new(ACCESS)),
            format!("{}", Secret::new(ACCESS)),
        ),
        (
            "PkceVerifier",
            format!("{:?}", PkceVerifier::from_secret(Secret::new(VERIFIER))),
            String::new(),
        ),
        (
            "StateToken",
            format!("{:?}", StateToken::from_string(STATE)),
            String::new(),
        ),
        (
            "Nonce",
            format!("{:?}", Nonce::from_string(NONCE)),
            String::new(),
        ),
        (
            "CallbackOutcome::Code",
            format!("{:?}", CallbackOutcome::Code(Secret::new(CODE))),
            String::new(),
        ),
    ];
    for (what, debug, display) in cases {
        assert!(debug.contains("redacted"), "{what}: {debug}");
        assert_clean(what, &debug);
        assert_clean(what, &display);
    }
}

#[test]
fn token_responses_and_stored_entries_are_redacted() {
    let r = parse_token_response(&HttpResponse::new(200, token_body())).expect("parses");
    assert_eq!(
        r.access_token.expose(),
        ACCESS,
        "the test parses real values"
    );
    assert_clean("TokenResponse", &format!("{r:?}"));
    assert_clean("TokenResponse (pretty)", &format!("{r:#?}"));
    let s = StoredSession {
        member_id: 3000000000000000001,
        pair_id: PairId(1),
        access_token: Secret::new(ACCESS),
        access_expires_at: 1,
        oidc: true,
        scopes: vec!["openid".into()],
    };
    assert_clean("StoredSession", &format!("{s:?} {s:#?}"));
    let rf = StoredRefresh {
        member_id: 3000000000000000001,
        pair_id: PairId(1),
        refresh_token: Secret::new(REFRESH),
        refresh_expires_at: Some(1),
    };
    assert_clean("StoredRefresh", &format!("{rf:?} {rf:#?}"));
    assert_clean("Vault", &format!("{:?}", Vault::keyring("svc")));
}

#[test]
fn the_client_and_config_hide_the_client_secret() {
    let http = Arc::new(ReqwestHttp::with_default_timeouts());
    let client = KakaoClient::new(
        http,
        Endpoints::new("https://kauth.kakao.com", "https://kapi.kakao.com").unwrap(),
        "rest-api-key",
        Some(Secret::new(CLIENT_SECRET)),
        Arc::new(SystemClock),
    );
    let debug = format!("{client:?} {client:#?}");
    assert!(debug.contains("KakaoClient"), "{debug}");
    assert_clean("KakaoClient", &debug);
    let env: BTreeMap<String, String> = [
        ("KAKAO_SIGNIN_CLIENT_ID", "rest-api-key"),
        ("KAKAO_SIGNIN_CLIENT_SECRET", CLIENT_SECRET),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    let config =
        Config::from_sources(&env, None, std::path::Path::new("/tmp/ks-redaction")).unwrap();
    assert_eq!(
        config.client_secret.as_ref().unwrap().expose(),
        CLIENT_SECRET
    );
    assert_clean("Config", &format!("{config:?} {config:#?}"));
}

/// Kakao's KOE320 quotes the code back (`authorization code not found for code=…`); the error's
/// Debug, Display, message, fix and view must not carry it, nor a token echoed in any body.
#[test]
fn kakao_errors_do_not_quote_codes_or_tokens() {
    let koe320 = serde_json::json!({
        "error": "invalid_grant",
        "error_description": format!("authorization code not found for code={CODE}"),
        "error_code": "KOE320"
    })
    .to_string();
    let echo = serde_json::json!({
        "error": "invalid_request",
        "error_description": format!("bad refresh_token={REFRESH} access_token {ACCESS} verifier {VERIFIER}"),
        "error_code": "KOE303"
    })
    .to_string();
    let mut errors: Vec<(&str, kakao::Error)> = vec![
        (
            "KOE320 body",
            parse_token_response(&HttpResponse::new(400, koe320)).unwrap_err(),
        ),
        (
            "echoing body",
            parse_token_response(&HttpResponse::new(400, echo)).unwrap_err(),
        ),
        (
            "truncated token body",
            parse_token_response(&HttpResponse::new(200, token_body()[..150].to_owned()))
                .unwrap_err(),
        ),
        (
            "Error::auth",
            kakao::Error::auth(
                400,
                "invalid_grant",
                Some(&format!("authorization code not found for code={CODE}")),
                Some("KOE320".into()),
            ),
        ),
        (
            "Error::redirect",
            kakao::Error::redirect(
                "invalid_request",
                Some(&format!("code={CODE}&state={STATE}")),
                None,
            ),
        ),
    ];
    // A plain-text 5xx page that quotes the request.
    errors.push((
        "5xx text",
        parse_token_response(&HttpResponse::new(
            502,
            format!("upstream failed for code={CODE}&code_verifier={VERIFIER}"),
        ))
        .unwrap_err(),
    ));
    let mut koe320_seen = false;
    for (what, e) in errors {
        koe320_seen |= e.error_code() == Some("KOE320");
        // What the window gets of it: `{kind, message, fix}` (inside the session's view).
        let view = (e.kind(), e.message(), e.fix());
        let text = format!(
            "{e:?}\n{e:#?}\n{e}\n{:?}\n{:?}\n{}",
            e.message(),
            e.fix(),
            serde_json::to_string(&view).unwrap()
        );
        assert_clean(what, &text);
        // And wrapped in the session's error, as the window and the log get it.
        let s: session::Error = e.into();
        let text = format!("{s:?}\n{s}\n{}", serde_json::to_string(&s.view()).unwrap());
        assert_clean(what, &text);
    }
    assert!(koe320_seen, "the KOE320 case parsed as KOE320");
}
