//! The loopback listener's query parsing and state check (`classify_callback_query`), checked
//! against an independent reading of the same query; and a pasted address (`pasted_callback_query`)
//! never panics and only ever yields a query with a `state` in it.
#![no_main]

use kakao_signin_core::signin::{
    classify_callback_query, pasted_callback_query, CallbackQuery, ExpectedState,
};
use libfuzzer_sys::fuzz_target;

const STATE: &str = "Hq3vT0b9-Zx_Kw2LmN5pR7sU1yA4cE6gI8jO0qS2uW4";
const ISSUER: &str = "https://kauth.kakao.com";
const ISSUER_ENCODED: &str = "https%3A%2F%2Fkauth.kakao.com";

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let raw = String::from_utf8_lossy(rest);
    if let Ok(q) = pasted_callback_query(&raw, 18682) {
        assert!(url::form_urlencoded::parse(q.as_bytes()).any(|(k, _)| k == "state"));
    }
    // Splice the right state in (most of the time) so the fuzzer gets past the state check.
    let query = match mode % 5 {
        0 => raw.into_owned(),
        1 => format!("state={STATE}&{raw}"),
        2 => format!("{raw}&state={STATE}"),
        3 => format!("state={STATE}&code={raw}"),
        _ => format!("error={raw}&state={STATE}"),
    };
    let expected_value = if mode & 0x80 != 0 { "" } else { STATE };
    // Half the time the attempt knows Kakao's issuer (RFC 9207), and the query may carry it.
    let issuer = (mode & 0x40 != 0).then_some(ISSUER);
    let query = if mode & 0x20 != 0 {
        format!("{query}&iss={}", ISSUER_ENCODED)
    } else {
        query
    };
    let mut expected = ExpectedState::new(expected_value);
    if let Some(issuer) = issuer {
        expected = expected.with_issuer(issuer);
    }
    let verdict = classify_callback_query(&query, &expected);

    // The oracle: the same form decoding, written plainly.
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    let states: Vec<&String> = pairs
        .iter()
        .filter(|(k, _)| k == "state")
        .map(|(_, v)| v)
        .collect();
    let state_ok = !expected_value.is_empty() && states.len() == 1 && states[0] == expected_value;
    let first = |name: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    // RFC 9207 §2.4: one `iss`, equal to the expected issuer when one is known (a trailing
    // slash aside); a repeated `iss` is refused either way.
    let issuers: Vec<&String> = pairs
        .iter()
        .filter(|(k, _)| k == "iss")
        .map(|(_, v)| v)
        .collect();
    let iss_ok = match (issuers.as_slice(), issuer) {
        ([], _) | ([_], None) => true,
        ([got], Some(want)) => got.trim_end_matches('/') == want.trim_end_matches('/'),
        _ => false,
    };
    let codes: Vec<&String> = pairs
        .iter()
        .filter(|(k, _)| k == "code")
        .map(|(_, v)| v)
        .collect();

    match verdict {
        CallbackQuery::BadState => assert!(!state_ok, "the right state was refused: {query:?}"),
        CallbackQuery::Denied { error, description } => {
            assert!(state_ok, "delivered without the right state: {query:?}");
            assert!(iss_ok, "delivered with a wrong or repeated iss: {query:?}");
            assert_eq!(Some(error), first("error"));
            assert_eq!(description, first("error_description"));
        }
        CallbackQuery::Code(code) => {
            assert!(state_ok, "a code without the right state: {query:?}");
            assert!(iss_ok, "a code with a wrong or repeated iss: {query:?}");
            assert!(first("error").is_none(), "an error must win over a code");
            assert_eq!(codes.len(), 1, "exactly one code");
            assert!(!code.is_empty());
            assert_eq!(code.expose(), codes[0].as_str());
        }
        CallbackQuery::Malformed => {
            assert!(state_ok);
            assert!(
                !iss_ok || (first("error").is_none() && (codes.len() != 1 || codes[0].is_empty())),
                "refused as malformed: {query:?}"
            );
        }
    }
});
