//! The few pages the loopback listener shows in the browser.
//!
//! Every word on them is a compile-time constant: nothing from the request (not even the `error`
//! name, which is matched against a fixed list) reaches the HTML, so there is nothing to inject.
//! Both languages are shown, the caller's [`Lang`] first.

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

struct Words {
    title: String,
    body: String,
}

fn words(page: Page, lang: Lang) -> Words {
    let ko = lang == Lang::Ko;
    let (title, body): (&str, String) = match page {
        Page::Done => {
            if ko {
                (
                    "로그인 완료",
                    "카카오 로그인이 완료되었습니다. 이 탭을 닫고 앱으로 돌아가세요.".into(),
                )
            } else {
                (
                    "Sign-in complete",
                    "You are signed in with Kakao. You can close this tab and return to the app."
                        .into(),
                )
            }
        }
        Page::LoggedOut => {
            if ko {
                ("카카오계정 로그아웃 완료", "이 브라우저에서 카카오계정이 로그아웃되었습니다. 이 탭을 닫고 앱으로 돌아가세요.".into())
            } else {
                ("Logged out of Kakao account", "You are logged out of your Kakao account in this browser. You can close this tab and return to the app.".into())
            }
        }
        Page::Denied(DeniedReason::AccessDenied) => {
            if ko {
                ("로그인을 취소했습니다", "동의 화면에서 취소했거나 카카오가 접근을 허용하지 않았습니다. 앱에는 아무것도 바뀌지 않았습니다. 앱으로 돌아가 다시 시도할 수 있습니다.".into())
            } else {
                ("You cancelled sign-in", "You cancelled on the consent screen, or Kakao did not allow access. Nothing changed in the app. You can return to the app and try again.".into())
            }
        }
        Page::Denied(DeniedReason::Known(name)) => {
            if ko {
                (
                    "로그인하지 못했습니다",
                    format!(
                        "카카오가 오류 {name}를 돌려주었습니다. 앱으로 돌아가 안내를 확인하세요."
                    ),
                )
            } else {
                (
                    "Sign-in did not complete",
                    format!("Kakao returned the error {name}. Return to the app for details."),
                )
            }
        }
        Page::Denied(DeniedReason::Other) => {
            if ko {
                (
                    "로그인하지 못했습니다",
                    "카카오가 알 수 없는 오류를 돌려주었습니다. 앱으로 돌아가 안내를 확인하세요."
                        .into(),
                )
            } else {
                (
                    "Sign-in did not complete",
                    "Kakao returned an unknown error. Return to the app for details.".into(),
                )
            }
        }
        Page::BadState => {
            if ko {
                ("이 앱의 로그인 요청이 아닙니다", "이 요청은 앱에서 시작한 로그인에서 온 것이 아닙니다. 무시했으며, 앱은 계속 진짜 로그인 응답을 기다립니다.".into())
            } else {
                ("Not this app's sign-in", "This request did not come from the sign-in started by the app. It was ignored; the app is still waiting for the real sign-in response.".into())
            }
        }
        Page::AlreadyUsed => {
            if ko {
                ("이미 사용된 응답입니다", "이 로그인 응답은 이미 사용되었습니다. 다시 로그인하려면 앱에서 새로 시작하세요.".into())
            } else {
                ("Already used", "This sign-in response was already used. To sign in again, start again in the app.".into())
            }
        }
        Page::Malformed => {
            if ko {
                (
                    "로그인하지 못했습니다",
                    "카카오에서 돌아온 응답에 인가 코드도 오류도 없습니다. 앱에서 다시 시도하세요."
                        .into(),
                )
            } else {
                ("Sign-in did not complete", "The response from Kakao had neither an authorization code nor an error. Try again in the app.".into())
            }
        }
        Page::NotFound => {
            if ko {
                ("찾을 수 없음", "이 주소에는 아무것도 없습니다.".into())
            } else {
                ("Not found", "There is nothing at this address.".into())
            }
        }
    };
    Words {
        title: title.to_owned(),
        body,
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
    let first = words(page, lang);
    let second = words(page, other(lang));
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
        t1 = esc(&first.title),
        b1 = esc(&first.body),
        t2 = esc(&second.title),
        b2 = esc(&second.body),
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
