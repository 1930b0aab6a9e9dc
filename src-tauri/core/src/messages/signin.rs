//! Words for the sign-in layer: its errors ([`crate::signin::Error`]) and the pages the
//! loopback listener shows in the browser.
//!
//! Every page word is a compile-time constant; the only value put into one is an OAuth `error`
//! name the caller has matched against a fixed list.

use crate::text::Text;
use std::fmt;

/// `KAKAO_SIGNIN_REDIRECT_PORTS` is empty or holds 0 (`ports_invalid`).
pub fn ports_invalid() -> Text {
    Text::fixed(
        "로그인에 사용할 리다이렉트 포트 목록이 비어 있거나 0이 들어 있습니다.",
        "The list of redirect ports for sign-in is empty or contains 0.",
    )
}

/// Fix for [`ports_invalid`].
pub fn ports_invalid_fix() -> Text {
    Text::fixed(
        "KAKAO_SIGNIN_REDIRECT_PORTS에 1–65535 사이의 포트를 쉼표로 나열하고, 각 포트마다 http://127.0.0.1:<포트>/callback 을 카카오 디벨로퍼스 콘솔에 리다이렉트 URI로 등록하세요.",
        "List ports between 1 and 65535, comma-separated, in KAKAO_SIGNIN_REDIRECT_PORTS and register http://127.0.0.1:<port>/callback for each in the Kakao Developers console as a redirect URI.",
    )
}

/// Every configured port is taken (`ports_busy`). `ports`: the list as shown, `18682, 18683`.
pub fn ports_busy(ports: &str) -> Text {
    Text::owned(
        format!("로그인 응답을 받을 포트({ports})가 모두 다른 프로그램에서 사용 중입니다."),
        format!("All ports for the sign-in response ({ports}) are in use by other programs."),
    )
}

/// Fix for [`ports_busy`], naming the same `ports`.
pub fn ports_busy_fix(ports: &str) -> Text {
    Text::owned(
        format!("포트 {ports}를 쓰는 프로그램을 종료하거나, KAKAO_SIGNIN_REDIRECT_PORTS에 다른 포트를 추가하세요. 추가한 포트마다 http://127.0.0.1:<포트>/callback 을 카카오 디벨로퍼스 콘솔에 리다이렉트 URI로 등록해야 합니다."),
        format!("Quit the program using ports {ports}, or add other ports to KAKAO_SIGNIN_REDIRECT_PORTS. Each added port must be registered in the Kakao Developers console as the redirect URI http://127.0.0.1:<port>/callback."),
    )
}

/// The system refused the ports `reserved` with "permission denied" (`ports_reserved`); the
/// other configured ports, `busy` (empty when none), are in use. `windows`: the words for
/// Windows (WSAEACCES: a reserved range, or a program holding the port exclusively) rather than
/// for Linux and macOS (EACCES: a security policy or a privileged port). Lists as shown,
/// `18682, 18683`.
pub fn ports_reserved(reserved: &str, busy: &str, windows: bool) -> Text {
    let (mut ko, mut en) = if windows {
        (
            format!("Windows가 로그인 응답을 받을 포트({reserved})의 사용을 거부했습니다. 이 포트를 쓰는 프로그램이 없어도, 시스템이 예약한 포트 범위(Hyper-V, WSL2, Docker 등이 잡아 둡니다)에 들어 있거나 다른 프로그램이 독점 사용 중이면 이렇게 됩니다."),
            format!("Windows refused the ports for the sign-in response ({reserved}). No program need be listening there: this happens when they lie in a port range the system reserved (Hyper-V, WSL2 and Docker reserve such ranges), or when another program holds them exclusively."),
        )
    } else {
        (
            format!("운영체제가 이 앱에 로그인 응답을 받을 포트({reserved})의 사용을 허락하지 않았습니다 (권한 거부). 다른 프로그램이 쓰고 있는 것이 아닙니다."),
            format!("The system does not allow this app to use the ports for the sign-in response ({reserved}) (permission denied). No other program is using them."),
        )
    };
    if !busy.is_empty() {
        ko.push_str(&format!(
            " 나머지 포트({busy})는 다른 프로그램에서 사용 중입니다."
        ));
        en.push_str(&format!(
            " The other ports ({busy}) are in use by other programs."
        ));
    }
    Text::owned(ko, en)
}

/// Fix for [`ports_reserved`]: on Windows, the command that lists the reserved ranges; then
/// other ports, configured and registered. `busy` as there.
pub fn ports_reserved_fix(busy: &str, windows: bool) -> Text {
    let (mut ko, mut en) = if windows {
        (
            String::from("명령 프롬프트에서 netsh interface ipv4 show excludedportrange protocol=tcp 를 실행하면 예약된 포트 범위가 나옵니다. 그 범위 밖의 포트(예: 32768 미만)를 골라"),
            String::from("Run netsh interface ipv4 show excludedportrange protocol=tcp in a Command Prompt to list the reserved port ranges. Choose ports outside them (e.g. below 32768),"),
        )
    } else {
        (
            String::from("보안 정책(SELinux, AppArmor 등)이 이 앱의 로컬 포트 사용을 막고 있는지 확인하거나, 허용된 다른 포트를 골라"),
            String::from("Check whether a security policy (SELinux, AppArmor, …) keeps this app from listening on local ports, or choose other ports that are allowed,"),
        )
    };
    ko.push_str(" KAKAO_SIGNIN_REDIRECT_PORTS에 쉼표로 나열하고, 포트마다 http://127.0.0.1:<포트>/callback 을 카카오 디벨로퍼스 콘솔에 리다이렉트 URI로 등록하세요.");
    en.push_str(" list them comma-separated in KAKAO_SIGNIN_REDIRECT_PORTS, and register http://127.0.0.1:<port>/callback for each in the Kakao Developers console as a redirect URI.");
    if !busy.is_empty() {
        ko.push_str(&format!(
            " 포트 {busy}는 그 포트를 쓰는 프로그램이 끝나면 다시 쓸 수 있습니다."
        ));
        en.push_str(&format!(
            " Ports {busy} become usable again once the program using them quits."
        ));
    }
    Text::owned(ko, en)
}

/// No browser came back within `minutes` whole minutes (`timed_out`).
pub fn timed_out(minutes: u64) -> Text {
    Text::owned(
        format!("{minutes}분 안에 브라우저에서 로그인이 끝나지 않았습니다."),
        format!("Sign-in was not completed in the browser within {minutes} min."),
    )
}

/// Fix for [`timed_out`].
pub fn timed_out_fix() -> Text {
    Text::fixed(
        "다시 로그인을 시작하세요. 브라우저에 로그인 창이 보이지 않으면 KAKAO_SIGNIN_BROWSER로 브라우저를 지정할 수 있습니다.",
        "Start sign-in again. If no sign-in page appeared in the browser, you can choose the browser with KAKAO_SIGNIN_BROWSER.",
    )
}

/// The attempt was cancelled (`cancelled`); there is no fix.
pub fn cancelled() -> Text {
    Text::fixed("로그인을 취소했습니다.", "Sign-in was cancelled.")
}

/// The browser could not be started (`browser_failed`). `program`: its name, never the URL.
pub fn browser_failed(program: &str) -> Text {
    Text::owned(
        format!("브라우저를 열 수 없습니다 ({program})."),
        format!("Could not open the browser ({program})."),
    )
}

/// Fix for [`browser_failed`]: about `KAKAO_SIGNIN_BROWSER` when the command came from it
/// (`from_env`), else about that variable and xdg-utils.
pub fn browser_failed_fix(from_env: bool) -> Text {
    if from_env {
        Text::fixed(
            "KAKAO_SIGNIN_BROWSER 값을 확인하세요. 실행할 수 있는 브라우저 명령이어야 합니다 (예: \"firefox --new-window\"). 주소는 마지막 인자로 붙습니다.",
            "Check KAKAO_SIGNIN_BROWSER: it must be a browser command that can run (e.g. \"firefox --new-window\"); the address is appended as the last argument.",
        )
    } else {
        Text::fixed(
            "KAKAO_SIGNIN_BROWSER에 브라우저 명령을 지정하거나, 기본 브라우저를 열 수 있도록 xdg-utils(xdg-open)를 설치하세요.",
            "Set KAKAO_SIGNIN_BROWSER to a browser command, or install xdg-utils (xdg-open) so the default browser can be opened.",
        )
    }
}

/// The loopback socket failed (`listener_failed`); `detail` is the I/O error as displayed.
pub fn listener_failed(detail: &dyn fmt::Display) -> Text {
    Text::owned(
        format!("로그인 응답을 받을 로컬 주소(127.0.0.1)를 열 수 없습니다: {detail}"),
        format!("Could not open the local address (127.0.0.1) for the sign-in response: {detail}"),
    )
}

/// Fix for [`listener_failed`].
pub fn listener_failed_fix() -> Text {
    Text::fixed(
        "이 컴퓨터에서 127.0.0.1(루프백)이 사용 가능한지, 보안 프로그램이 로컬 포트를 막고 있지 않은지 확인하세요.",
        "Check that 127.0.0.1 (loopback) works on this computer and that no security software blocks local ports.",
    )
}

/// A callback with neither `code` nor `error` (`callback_malformed`).
pub fn callback_malformed() -> Text {
    Text::fixed(
        "카카오에서 돌아온 응답에 인가 코드도 오류도 없습니다.",
        "The response from Kakao had neither an authorization code nor an error.",
    )
}

/// Fix for [`callback_malformed`].
pub fn callback_malformed_fix() -> Text {
    Text::fixed("다시 로그인을 시작하세요.", "Start sign-in again.")
}

/// A pasted address that is not this attempt's redirect back (`pasted_not_callback`).
pub fn pasted_not_callback(port: u16) -> Text {
    Text::owned(
        format!("붙여 넣은 내용은 이 로그인이 기다리는 주소(http://127.0.0.1:{port}/callback?…)가 아닙니다. 로그인은 계속 기다립니다."),
        format!("What you pasted is not the address this sign-in waits for (http://127.0.0.1:{port}/callback?…). The sign-in is still waiting."),
    )
}

/// Fix for [`pasted_not_callback`].
pub fn pasted_not_callback_fix(port: u16) -> Text {
    Text::owned(
        format!("카카오 로그인을 마친 브라우저 탭의 주소 표시줄에서 http://127.0.0.1:{port}/callback 으로 시작하는 주소 전체를 복사해 붙여 넣으세요(“연결할 수 없음”이 보여도 주소는 맞습니다)."),
        format!("In the browser tab where you finished signing in, copy the whole address starting with http://127.0.0.1:{port}/callback from the address bar and paste it (it is right even if the tab says it can't connect)."),
    )
}

/// A pasted address whose `state` is not this attempt's (`pasted_wrong_state`).
pub fn pasted_wrong_state() -> Text {
    Text::fixed(
        "붙여 넣은 주소는 다른(또는 이전) 로그인 시도의 것이라 받지 않았습니다. 로그인은 계속 기다립니다.",
        "The pasted address belongs to another (or an earlier) sign-in attempt, so it was refused. The sign-in is still waiting.",
    )
}

/// Fix for [`pasted_wrong_state`].
pub fn pasted_wrong_state_fix() -> Text {
    Text::fixed(
        "이 창의 \"카카오 페이지 다시 열기\"나 \"로그인 링크 복사\"로 연 카카오 페이지에서 로그인을 마친 뒤, 그 탭의 주소를 붙여 넣으세요.",
        "Finish signing in on the Kakao page opened by this window's \"Open Kakao's page again\" or \"Copy the sign-in link\", then paste that tab's address.",
    )
}

/// A pasted address after the attempt already came back (`pasted_already_used`).
pub fn pasted_already_used() -> Text {
    Text::fixed(
        "이 로그인은 이미 브라우저(또는 먼저 붙여 넣은 주소)로 돌아왔습니다. 같은 주소는 한 번만 쓸 수 있어 이번 것은 받지 않았습니다.",
        "This sign-in already came back through the browser (or an address pasted before). The same address works only once, so this one was refused.",
    )
}

/// A pasted address with no sign-in waiting for it (`not_waiting`).
pub fn not_waiting() -> Text {
    Text::fixed(
        "기다리는 로그인이 없어 붙여 넣은 주소를 받지 않았습니다.",
        "No sign-in is waiting, so the pasted address was refused.",
    )
}

/// A loopback page's heading and paragraph, both languages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageWords {
    /// The `<h1>` (and the `<title>`).
    pub title: Text,
    /// The one paragraph.
    pub body: Text,
}

fn page(title: (&'static str, &'static str), body: (&'static str, &'static str)) -> PageWords {
    PageWords {
        title: Text::fixed(title.0, title.1),
        body: Text::fixed(body.0, body.1),
    }
}

/// The sign-in finished (`/done`, after the code was taken).
pub fn page_done() -> PageWords {
    page(
        ("로그인 완료", "Sign-in complete"),
        (
            "카카오 로그인이 완료되었습니다. 이 탭을 닫고 앱으로 돌아가세요.",
            "You are signed in with Kakao. You can close this tab and return to the app.",
        ),
    )
}

/// Kakao came back to the logout redirect URI (REFERENCE §6).
pub fn page_logged_out() -> PageWords {
    page(
        ("카카오 로그아웃 페이지를 마쳤습니다", "Kakao's logout page is done"),
        (
            "카카오 로그아웃 페이지에서 고른 대로 처리되었습니다. '카카오계정과 함께 로그아웃'을 골랐다면 이 브라우저의 카카오계정도 로그아웃되었습니다. 이 탭을 닫고 앱으로 돌아가세요.",
            "Kakao did what you picked on its logout page: if you chose to log out of the Kakao account too, this browser is logged out of it. You can close this tab and return to the app.",
        ),
    )
}

/// The redirect said `error=access_denied` (REFERENCE §1).
pub fn page_access_denied() -> PageWords {
    page(
        ("로그인을 취소했습니다", "You cancelled sign-in"),
        (
            "동의 화면에서 취소했거나 카카오가 접근을 허용하지 않았습니다. 앱에는 아무것도 바뀌지 않았습니다. 앱으로 돌아가 다시 시도할 수 있습니다.",
            "You cancelled on the consent screen, or Kakao did not allow access. Nothing changed in the app. You can return to the app and try again.",
        ),
    )
}

/// The redirect carried a documented `error` other than `access_denied`; `name` is that
/// name, taken from a fixed list (never from the request).
pub fn page_denied_known(name: &'static str) -> PageWords {
    PageWords {
        title: Text::fixed("로그인하지 못했습니다", "Sign-in did not complete"),
        body: Text::owned(
            format!("카카오가 오류 {name}를 돌려주었습니다. 앱으로 돌아가 안내를 확인하세요."),
            format!("Kakao returned the error {name}. Return to the app for details."),
        ),
    }
}

/// The redirect carried an `error` name not on the list (not shown).
pub fn page_denied_other() -> PageWords {
    page(
        ("로그인하지 못했습니다", "Sign-in did not complete"),
        (
            "카카오가 알 수 없는 오류를 돌려주었습니다. 앱으로 돌아가 안내를 확인하세요.",
            "Kakao returned an unknown error. Return to the app for details.",
        ),
    )
}

/// A callback whose `state` is not this attempt's: ignored, the wait goes on.
pub fn page_bad_state() -> PageWords {
    page(
        ("이 앱의 로그인 요청이 아닙니다", "Not this app's sign-in"),
        (
            "이 요청은 앱에서 시작한 로그인에서 온 것이 아닙니다. 무시했으며, 앱은 계속 진짜 로그인 응답을 기다립니다.",
            "This request did not come from the sign-in started by the app. It was ignored; the app is still waiting for the real sign-in response.",
        ),
    )
}

/// A second callback after the first was taken.
pub fn page_already_used() -> PageWords {
    page(
        ("이미 사용된 응답입니다", "Already used"),
        (
            "이 로그인 응답은 이미 사용되었습니다. 다시 로그인하려면 앱에서 새로 시작하세요.",
            "This sign-in response was already used. To sign in again, start again in the app.",
        ),
    )
}

/// A callback with neither `code` nor `error`.
pub fn page_malformed() -> PageWords {
    page(
        ("로그인하지 못했습니다", "Sign-in did not complete"),
        (
            "카카오에서 돌아온 응답에 인가 코드도 오류도 없습니다. 앱에서 다시 시도하세요.",
            "The response from Kakao had neither an authorization code nor an error. Try again in the app.",
        ),
    )
}

/// Any other path.
pub fn page_not_found() -> PageWords {
    page(
        ("찾을 수 없음", "Not found"),
        (
            "이 주소에는 아무것도 없습니다.",
            "There is nothing at this address.",
        ),
    )
}

/// Kakao's redirect for an attempt that was cancelled, timed out or replaced: the port is kept
/// so the code reaches nobody else, and the code is not used.
pub fn page_cancelled() -> PageWords {
    page(
        ("취소된 로그인입니다", "This sign-in was cancelled"),
        (
            "이 로그인은 앱에서 취소되었거나 시간이 지나 끝났습니다. 받은 응답은 사용하지 않았습니다. 로그인하려면 앱에서 새로 시작하세요.",
            "This sign-in was cancelled in the app or timed out. The response was not used. To sign in, start again in the app.",
        ),
    )
}

/// The one-time start address was opened a second time.
pub fn page_start_used() -> PageWords {
    page(
        ("이미 사용된 주소입니다", "Address already used"),
        (
            "이 로그인 시작 주소는 한 번만 쓸 수 있으며 이미 사용되었습니다. 다시 로그인하려면 앱에서 새로 시작하세요.",
            "This sign-in start address works once and was already used. To sign in again, start again in the app.",
        ),
    )
}
