//! The few pages the loopback listener shows in the browser.
//!
//! Every word on them is a compile-time constant, kept in [`crate::messages::signin`]: nothing
//! from the request (not even the `error` name, which is matched against a fixed list) reaches
//! the HTML, so there is nothing to inject. Both languages are shown, the caller's [`Lang`]
//! first.

use crate::messages::signin as words;
use crate::text::Lang;
use base64::Engine as _;
use http::{header, HeaderMap, HeaderValue, StatusCode};
use sha2::{Digest, Sha256};
use std::sync::LazyLock;

/// The only script: best-effort close of the tab (browsers ignore it for tabs they opened
/// themselves, which is why the page also says the tab can be closed).
const CLOSE_SCRIPT: &str = "setTimeout(function(){window.close();},1500);";

const STYLE: &str = "body{font-family:system-ui,-apple-system,'Apple SD Gothic Neo','Malgun Gothic',sans-serif;\
background:#f7f7f7;color:#191919;margin:0;display:flex;min-height:100vh;align-items:center;justify-content:center}\
main{background:#fff;border-radius:12px;box-shadow:0 1px 4px rgba(0,0,0,.12);padding:2rem 2.5rem;max-width:32rem}\
h1{font-size:1.4rem;margin:0 0 .75rem}p{line-height:1.55;margin:0 0 .5rem}\
.second{border-top:1px solid #e5e5e5;margin-top:1.25rem;padding-top:1rem;color:#555}\
.second h1{font-size:1.1rem}.mark{font-size:2rem;margin-bottom:.5rem}";

fn csp_hash(s: &str) -> String {
    let digest = Sha256::digest(s.as_bytes());
    format!(
        "'sha256-{}'",
        base64::engine::general_purpose::STANDARD.encode(digest)
    )
}

/// `default-src 'none'` and only the one inline style and script, allowed by hash.
static CSP: LazyLock<HeaderValue> = LazyLock::new(|| {
    let csp = format!(
        "default-src 'none'; style-src {}; script-src {}; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
        csp_hash(STYLE),
        csp_hash(CLOSE_SCRIPT)
    );
    HeaderValue::from_str(&csp).expect("CSP is ASCII")
});

/// Sets the headers every response of the listener carries (pages, 302, 404 alike).
pub(crate) fn harden(headers: &mut HeaderMap) {
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(header::CONTENT_SECURITY_POLICY, CSP.clone());
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
}

/// What a page is about. `Denied` carries a reason already reduced to a fixed list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Page {
    Done,
    LoggedOut,
    Denied(DeniedReason),
    BadState,
    AlreadyUsed,
    Malformed,
    NotFound,
    /// A late redirect for an attempt that ended without a code.
    Cancelled,
    /// The one-time start URL, opened again.
    StartUsed,
}

/// The `error` values Kakao (or OAuth) documents; anything else is `Other`, shown without its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DeniedReason {
    AccessDenied,
    Known(&'static str),
    Other,
}

impl DeniedReason {
    pub(crate) fn from_error(error: &str) -> DeniedReason {
        const KNOWN: &[&str] = &[
            "consent_required",
            "login_required",
            "interaction_required",
            "invalid_request",
            "invalid_client",
            "invalid_scope",
            "invalid_grant",
            "misconfigured",
            "unauthorized",
            "unauthorized_client",
            "unsupported_response_type",
            "server_error",
            "temporarily_unavailable",
        ];
        if error == "access_denied" {
            return DeniedReason::AccessDenied;
        }
        KNOWN
            .iter()
            .find(|k| **k == error)
            .map(|k| DeniedReason::Known(k))
            .unwrap_or(DeniedReason::Other)
    }
}

/// The heading and paragraph of `page`.
fn words_of(page: Page) -> words::PageWords {
    match page {
        Page::Done => words::page_done(),
        Page::LoggedOut => words::page_logged_out(),
        Page::Denied(DeniedReason::AccessDenied) => words::page_access_denied(),
        Page::Denied(DeniedReason::Known(name)) => words::page_denied_known(name),
        Page::Denied(DeniedReason::Other) => words::page_denied_other(),
        Page::BadState => words::page_bad_state(),
        Page::AlreadyUsed => words::page_already_used(),
        Page::Malformed => words::page_malformed(),
        Page::NotFound => words::page_not_found(),
        Page::Cancelled => words::page_cancelled(),
        Page::StartUsed => words::page_start_used(),
    }
}

fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn lang_tag(lang: Lang) -> &'static str {
    match lang {
        Lang::Ko => "ko",
        Lang::En => "en",
    }
}

fn other(lang: Lang) -> Lang {
    match lang {
        Lang::Ko => Lang::En,
        Lang::En => Lang::Ko,
    }
}

/// The whole HTML document for `page`, `lang` first, the other language below.
pub(crate) fn html(page: Page, lang: Lang) -> String {
    let w = words_of(page);
    let mark = match page {
        Page::Done | Page::LoggedOut => "<div class=\"mark\" aria-hidden=\"true\">&#10003;</div>",
        _ => "",
    };
    let script = match page {
        Page::Done | Page::LoggedOut => format!("<script>{CLOSE_SCRIPT}</script>"),
        _ => String::new(),
    };
    format!(
        "<!doctype html>\n<html lang=\"{l1}\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
<meta name=\"referrer\" content=\"no-referrer\">\
<title>{t1} · Kakao Sign-in</title><style>{STYLE}</style></head>\
<body><main>{mark}<section lang=\"{l1}\"><h1>{t1}</h1><p>{b1}</p></section>\
<section class=\"second\" lang=\"{l2}\"><h1>{t2}</h1><p>{b2}</p></section></main>{script}</body></html>\n",
        l1 = lang_tag(lang),
        l2 = lang_tag(other(lang)),
        t1 = esc(w.title.get(lang)),
        b1 = esc(w.body.get(lang)),
        t2 = esc(w.title.get(other(lang))),
        b2 = esc(w.body.get(other(lang))),
    )
}

/// What the listener answers with: the whole body at once (the pages are a few KB).
pub(crate) type Response = http::Response<http_body_util::Full<bytes::Bytes>>;

fn response(status: StatusCode, body: bytes::Bytes) -> Response {
    let mut res = Response::new(http_body_util::Full::new(body));
    *res.status_mut() = status;
    res
}

/// A page as a response; the security headers are added by the listener for every answer.
pub(crate) fn page(status: StatusCode, page: Page, lang: Lang) -> Response {
    let mut res = response(status, html(page, lang).into());
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    res
}

/// `303` to Kakao's authorize (or logout) URL: the answer of the one-time start URL. The
/// listener adds `Cache-Control: no-store`, so the browser keeps no copy of where it went.
pub(crate) fn see_other(location: HeaderValue) -> Response {
    let mut res = response(StatusCode::SEE_OTHER, bytes::Bytes::new());
    res.headers_mut().insert(header::LOCATION, location);
    res
}

/// A plain `403` for a connection of another user: no page, nothing about the attempt.
pub(crate) fn forbidden() -> Response {
    let mut res = response(
        StatusCode::FORBIDDEN,
        bytes::Bytes::from_static(b"Forbidden\n"),
    );
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    res
}

/// `302` to the local done page, so the code leaves the address bar and the history entry.
pub(crate) fn redirect_to(path: &'static str) -> Response {
    let mut res = response(StatusCode::FOUND, bytes::Bytes::new());
    res.headers_mut()
        .insert(header::LOCATION, HeaderValue::from_static(path));
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn done_page_has_both_languages_and_the_right_one_first() {
        let ko = html(Page::Done, Lang::Ko);
        let en = html(Page::Done, Lang::En);
        for h in [&ko, &en] {
            assert!(h.contains("로그인 완료") && h.contains("Sign-in complete"));
            assert!(h.contains("close this tab") && h.contains("탭을 닫고"));
        }
        assert!(ko.find("로그인 완료").unwrap() < ko.find("Sign-in complete").unwrap());
        assert!(en.find("Sign-in complete").unwrap() < en.find("로그인 완료").unwrap());
        assert!(ko.starts_with("<!doctype html>\n<html lang=\"ko\">"));
        assert!(en.starts_with("<!doctype html>\n<html lang=\"en\">"));
    }

    #[test]
    fn no_external_assets() {
        for p in [
            Page::Done,
            Page::LoggedOut,
            Page::Denied(DeniedReason::AccessDenied),
            Page::Denied(DeniedReason::Other),
            Page::BadState,
            Page::AlreadyUsed,
            Page::Malformed,
            Page::NotFound,
            Page::Cancelled,
            Page::StartUsed,
        ] {
            let h = html(p, Lang::Ko);
            for bad in ["http:", "https:", "src=", "href=", "//", "url("] {
                assert!(!h.contains(bad), "{p:?} contains {bad}");
            }
        }
    }

    #[test]
    fn inline_style_and_script_match_the_csp_hashes() {
        let csp = CSP.to_str().unwrap().to_owned();
        assert!(csp.starts_with("default-src 'none'"));
        assert!(csp.contains(&csp_hash(STYLE)));
        assert!(csp.contains(&csp_hash(CLOSE_SCRIPT)));
        let h = html(Page::Done, Lang::En);
        assert!(h.contains(&format!("<style>{STYLE}</style>")));
        assert!(h.contains(&format!("<script>{CLOSE_SCRIPT}</script>")));
        assert!(!html(Page::BadState, Lang::En).contains("<script"));
    }

    #[test]
    fn error_names_come_from_a_fixed_list() {
        assert_eq!(
            DeniedReason::from_error("access_denied"),
            DeniedReason::AccessDenied
        );
        assert_eq!(
            DeniedReason::from_error("consent_required"),
            DeniedReason::Known("consent_required")
        );
        assert_eq!(
            DeniedReason::from_error("<script>alert(1)</script>"),
            DeniedReason::Other
        );
        let h = html(
            Page::Denied(DeniedReason::Known("login_required")),
            Lang::En,
        );
        assert!(h.contains("login_required"));
        let cancelled = html(Page::Denied(DeniedReason::AccessDenied), Lang::Ko);
        assert!(cancelled.contains("취소했습니다") && cancelled.contains("You cancelled"));
        assert!(!cancelled.contains("로그인 완료"));
    }
}
