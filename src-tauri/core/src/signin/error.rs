//! The one error type of the sign-in layer. It never carries a code, a token, a `state` or a URL:
//! only port numbers, durations, program names and I/O error kinds.

use crate::text::Text;
use std::time::Duration;

/// Why a loopback sign-in (or logout) attempt could not finish.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The configured port list is empty or holds port 0 (0 would mean a random port, which
    /// can't match a redirect URI registered in the Kakao console).
    #[error("the redirect port list is invalid: {reason}")]
    PortsInvalid { reason: &'static str },

    /// Every configured port is taken by another program.
    #[error("all loopback redirect ports are busy: {ports:?}")]
    PortsBusy { ports: Vec<u16> },

    /// No browser came back in time.
    #[error("no sign-in response arrived within {0:?}")]
    TimedOut(Duration),

    /// The person (or the app) cancelled the attempt.
    #[error("the sign-in was cancelled")]
    Cancelled,

    /// The browser could not be started. `program` is the program name only, never the URL.
    #[error("could not open the browser ({program}): {detail}")]
    BrowserFailed {
        program: String,
        detail: String,
        /// Whether the command came from `KAKAO_SIGNIN_BROWSER` (changes the advice).
        from_env: bool,
    },

    /// Binding, converting or serving the loopback socket failed for a reason other than
    /// "port in use" (e.g. no 127.0.0.1 on this machine, permission denied).
    #[error("the loopback listener failed: {0}")]
    ListenerFailed(#[source] std::io::Error),

    /// A callback with the right `state` but neither `code` nor `error` (or a repeated one).
    #[error("the sign-in response had neither a code nor an error")]
    CallbackMalformed,
}

impl Error {
    /// A stable snake_case name for the UI and tests.
    pub fn kind(&self) -> &'static str {
        match self {
            Error::PortsInvalid { .. } => "ports_invalid",
            Error::PortsBusy { .. } => "ports_busy",
            Error::TimedOut(_) => "timed_out",
            Error::Cancelled => "cancelled",
            Error::BrowserFailed { .. } => "browser_failed",
            Error::ListenerFailed(_) => "listener_failed",
            Error::CallbackMalformed => "callback_malformed",
        }
    }

    pub fn message(&self) -> Text {
        match self {
            Error::PortsInvalid { .. } => Text::fixed(
                "로그인에 사용할 리다이렉트 포트 목록이 비어 있거나 0이 들어 있습니다.",
                "The list of redirect ports for sign-in is empty or contains 0.",
            ),
            Error::PortsBusy { ports } => {
                let list = port_list(ports);
                Text::owned(
                    format!(
                        "로그인 응답을 받을 포트({list})가 모두 다른 프로그램에서 사용 중입니다."
                    ),
                    format!(
                        "All ports for the sign-in response ({list}) are in use by other programs."
                    ),
                )
            }
            Error::TimedOut(d) => {
                let mins = d.as_secs().div_ceil(60).max(1);
                Text::owned(
                    format!("{mins}분 안에 브라우저에서 로그인이 끝나지 않았습니다."),
                    format!("Sign-in was not completed in the browser within {mins} min."),
                )
            }
            Error::Cancelled => Text::fixed("로그인을 취소했습니다.", "Sign-in was cancelled."),
            Error::BrowserFailed { program, .. } => Text::owned(
                format!("브라우저를 열 수 없습니다 ({program})."),
                format!("Could not open the browser ({program})."),
            ),
            Error::ListenerFailed(e) => Text::owned(
                format!("로그인 응답을 받을 로컬 주소(127.0.0.1)를 열 수 없습니다: {e}"),
                format!(
                    "Could not open the local address (127.0.0.1) for the sign-in response: {e}"
                ),
            ),
            Error::CallbackMalformed => Text::fixed(
                "카카오에서 돌아온 응답에 인가 코드도 오류도 없습니다.",
                "The response from Kakao had neither an authorization code nor an error.",
            ),
        }
    }

    pub fn fix(&self) -> Option<Text> {
        match self {
            Error::PortsInvalid { .. } => Some(Text::fixed(
                "KAKAO_SIGNIN_REDIRECT_PORTS에 1–65535 사이의 포트를 쉼표로 나열하고, 각 포트마다 http://127.0.0.1:<포트>/callback 을 카카오 디벨로퍼스 콘솔에 리다이렉트 URI로 등록하세요.",
                "List ports between 1 and 65535, comma-separated, in KAKAO_SIGNIN_REDIRECT_PORTS and register http://127.0.0.1:<port>/callback for each in the Kakao Developers console as a redirect URI.",
            )),
            Error::PortsBusy { ports } => {
                let list = port_list(ports);
                Some(Text::owned(
                    format!("포트 {list}를 쓰는 프로그램을 종료하거나, KAKAO_SIGNIN_REDIRECT_PORTS에 다른 포트를 추가하세요. 추가한 포트마다 http://127.0.0.1:<포트>/callback 을 카카오 디벨로퍼스 콘솔에 리다이렉트 URI로 등록해야 합니다."),
                    format!("Quit the program using ports {list}, or add other ports to KAKAO_SIGNIN_REDIRECT_PORTS. Each added port must be registered in the Kakao Developers console as the redirect URI http://127.0.0.1:<port>/callback."),
                ))
            }
            Error::TimedOut(_) => Some(Text::fixed(
                "다시 로그인을 시작하세요. 브라우저에 로그인 창이 보이지 않으면 KAKAO_SIGNIN_BROWSER로 브라우저를 지정할 수 있습니다.",
                "Start sign-in again. If no sign-in page appeared in the browser, you can choose the browser with KAKAO_SIGNIN_BROWSER.",
            )),
            Error::Cancelled => None,
            Error::BrowserFailed { from_env: true, .. } => Some(Text::fixed(
                "KAKAO_SIGNIN_BROWSER 값을 확인하세요. 실행할 수 있는 브라우저 명령이어야 합니다 (예: \"firefox --new-window\"). 주소는 마지막 인자로 붙습니다.",
                "Check KAKAO_SIGNIN_BROWSER: it must be a browser command that can run (e.g. \"firefox --new-window\"); the address is appended as the last argument.",
            )),
            Error::BrowserFailed { from_env: false, .. } => Some(Text::fixed(
                "KAKAO_SIGNIN_BROWSER에 브라우저 명령을 지정하거나, 기본 브라우저를 열 수 있도록 xdg-utils(xdg-open)를 설치하세요.",
                "Set KAKAO_SIGNIN_BROWSER to a browser command, or install xdg-utils (xdg-open) so the default browser can be opened.",
            )),
            Error::ListenerFailed(_) => Some(Text::fixed(
                "이 컴퓨터에서 127.0.0.1(루프백)이 사용 가능한지, 보안 프로그램이 로컬 포트를 막고 있지 않은지 확인하세요.",
                "Check that 127.0.0.1 (loopback) works on this computer and that no security software blocks local ports.",
            )),
            Error::CallbackMalformed => Some(Text::fixed(
                "다시 로그인을 시작하세요.",
                "Start sign-in again.",
            )),
        }
    }
}

fn port_list(ports: &[u16]) -> String {
    ports
        .iter()
        .map(u16::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_busy_names_every_port_and_the_setting() {
        let e = Error::PortsBusy {
            ports: vec![53682, 53683, 53684],
        };
        assert_eq!(e.kind(), "ports_busy");
        for t in [e.message(), e.fix().unwrap()] {
            for s in [&t.ko, &t.en] {
                assert!(s.contains("53682, 53683, 53684"), "{s}");
            }
        }
        let fix = e.fix().unwrap();
        assert!(fix.en.contains("KAKAO_SIGNIN_REDIRECT_PORTS"));
        assert!(fix.en.contains("Kakao Developers console"));
        assert!(e.to_string().contains("53684"));
    }

    #[test]
    fn browser_fix_mentions_env_and_xdg() {
        let e = Error::BrowserFailed {
            program: "xdg-open".into(),
            detail: "not found".into(),
            from_env: false,
        };
        assert_eq!(e.kind(), "browser_failed");
        let fix = e.fix().unwrap();
        assert!(fix.en.contains("KAKAO_SIGNIN_BROWSER") && fix.en.contains("xdg-utils"));
        assert!(fix.ko.contains("KAKAO_SIGNIN_BROWSER") && fix.ko.contains("xdg-utils"));
    }

    #[test]
    fn kinds_are_stable() {
        assert_eq!(Error::Cancelled.kind(), "cancelled");
        assert_eq!(
            Error::TimedOut(Duration::from_secs(300)).kind(),
            "timed_out"
        );
        assert_eq!(
            Error::ListenerFailed(std::io::ErrorKind::PermissionDenied.into()).kind(),
            "listener_failed"
        );
        assert_eq!(Error::CallbackMalformed.kind(), "callback_malformed");
        assert_eq!(
            Error::PortsInvalid { reason: "empty" }.kind(),
            "ports_invalid"
        );
        assert!(Error::TimedOut(Duration::from_secs(300))
            .message()
            .en
            .contains("5 min"));
    }
}
