//! The one error type of the sign-in layer. It never carries a code, a token, a `state` or a URL:
//! only port numbers, durations, program names and I/O error kinds.

use crate::messages::signin as words;
use crate::text::Text;
use std::time::Duration;

/// Why a loopback sign-in (or logout) attempt could not finish.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The configured port list is empty or holds port 0 (0 would mean a random port, which
    /// can't match a redirect URI registered in the Kakao console).
    #[error("the redirect port list is invalid: {reason}")]
    PortsInvalid {
        /// Which rule was broken (English, for the log).
        reason: &'static str,
    },

    /// Every configured port is taken by another program.
    #[error("all loopback redirect ports are busy: {ports:?}")]
    PortsBusy {
        /// The configured ports, in order.
        ports: Vec<u16>,
    },

    /// No configured port could be bound, and the system refused at least one with "permission
    /// denied" (EACCES; on Windows WSAEACCES, which a port in a range the system reserved for
    /// Hyper-V, WSL2 or Docker gives although nothing listens there, and so does a port another
    /// program holds exclusively). Not "in use": quitting a program may not free it.
    #[error("the system refused loopback redirect ports {reserved:?} (busy: {busy:?})")]
    PortsReserved {
        /// The ports refused with "permission denied", in configured order.
        reserved: Vec<u16>,
        /// The other configured ports, in use by another program (may be empty).
        busy: Vec<u16>,
    },

    /// No browser came back in time.
    #[error("no sign-in response arrived within {0:?}")]
    TimedOut(Duration),

    /// The person (or the app) cancelled the attempt.
    #[error("the sign-in was cancelled")]
    Cancelled,

    /// The browser could not be started. `program` is the program name only, never the URL.
    #[error("could not open the browser ({program}): {detail}")]
    BrowserFailed {
        /// The program's name or path.
        program: String,
        /// The OS error, with the URL replaced by `<url>`.
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

    /// A pasted address is not this attempt's redirect back: not
    /// `127.0.0.1:<port>/callback`, no `state` in it, or too long. The attempt keeps waiting.
    #[error("the pasted address is not the redirect to port {port}")]
    PastedNotCallback {
        /// The port the attempt waits at (names `http://127.0.0.1:<port>/callback`).
        port: u16,
    },

    /// A pasted address whose `state` is not this attempt's (another or an older sign-in).
    /// The attempt keeps waiting.
    #[error("the pasted address belongs to another sign-in attempt")]
    PastedWrongState,

    /// A pasted address with the right `state`, after the browser (or an earlier paste)
    /// already brought this attempt back: `state` is good once.
    #[error("this sign-in attempt already came back")]
    PastedAlreadyUsed,

    /// Nothing waits for a pasted address: no sign-in in progress, or it ended.
    #[error("no sign-in is waiting")]
    NotWaiting,
}

/// Why a sign-in attempt failed, as the window and the session branch on it.
///
/// Serialised (and [`ErrorKind::as_str`]) as a stable snake_case id (`ports_busy`, …); the
/// window branches on those strings, so a variant's string never changes. Production code
/// matches on the variants; the `PartialEq<&str>` impl exists so tests can write
/// `assert_eq!(err.kind(), "timed_out")`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ErrorKind {
    /// [`Error::PortsInvalid`].
    PortsInvalid,
    /// [`Error::PortsBusy`].
    PortsBusy,
    /// [`Error::PortsReserved`].
    PortsReserved,
    /// [`Error::TimedOut`].
    TimedOut,
    /// [`Error::Cancelled`].
    Cancelled,
    /// [`Error::BrowserFailed`].
    BrowserFailed,
    /// [`Error::ListenerFailed`].
    ListenerFailed,
    /// [`Error::CallbackMalformed`].
    CallbackMalformed,
    /// [`Error::PastedNotCallback`].
    PastedNotCallback,
    /// [`Error::PastedWrongState`].
    PastedWrongState,
    /// [`Error::PastedAlreadyUsed`].
    PastedAlreadyUsed,
    /// [`Error::NotWaiting`].
    NotWaiting,
}

impl ErrorKind {
    /// Every kind, in declaration order.
    pub const ALL: &'static [ErrorKind] = &[
        ErrorKind::PortsInvalid,
        ErrorKind::PortsBusy,
        ErrorKind::PortsReserved,
        ErrorKind::TimedOut,
        ErrorKind::Cancelled,
        ErrorKind::BrowserFailed,
        ErrorKind::ListenerFailed,
        ErrorKind::CallbackMalformed,
        ErrorKind::PastedNotCallback,
        ErrorKind::PastedWrongState,
        ErrorKind::PastedAlreadyUsed,
        ErrorKind::NotWaiting,
    ];

    /// The stable snake_case id, the same string serde writes.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::PortsInvalid => "ports_invalid",
            ErrorKind::PortsBusy => "ports_busy",
            ErrorKind::PortsReserved => "ports_reserved",
            ErrorKind::TimedOut => "timed_out",
            ErrorKind::Cancelled => "cancelled",
            ErrorKind::BrowserFailed => "browser_failed",
            ErrorKind::ListenerFailed => "listener_failed",
            ErrorKind::CallbackMalformed => "callback_malformed",
            ErrorKind::PastedNotCallback => "pasted_not_callback",
            ErrorKind::PastedWrongState => "pasted_wrong_state",
            ErrorKind::PastedAlreadyUsed => "pasted_already_used",
            ErrorKind::NotWaiting => "not_waiting",
        }
    }
}

wire_string_impls!(ErrorKind);

impl Error {
    /// What went wrong, for the UI and the session to branch on.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::PortsInvalid { .. } => ErrorKind::PortsInvalid,
            Error::PortsBusy { .. } => ErrorKind::PortsBusy,
            Error::PortsReserved { .. } => ErrorKind::PortsReserved,
            Error::TimedOut(_) => ErrorKind::TimedOut,
            Error::Cancelled => ErrorKind::Cancelled,
            Error::BrowserFailed { .. } => ErrorKind::BrowserFailed,
            Error::ListenerFailed(_) => ErrorKind::ListenerFailed,
            Error::CallbackMalformed => ErrorKind::CallbackMalformed,
            Error::PastedNotCallback { .. } => ErrorKind::PastedNotCallback,
            Error::PastedWrongState => ErrorKind::PastedWrongState,
            Error::PastedAlreadyUsed => ErrorKind::PastedAlreadyUsed,
            Error::NotWaiting => ErrorKind::NotWaiting,
        }
    }

    /// What happened, for a person, in Korean and English. Names the busy and refused ports,
    /// the minutes waited (rounded up) and the browser program; never a URL.
    pub fn message(&self) -> Text {
        match self {
            Error::PortsInvalid { .. } => words::ports_invalid(),
            Error::PortsBusy { ports } => words::ports_busy(&port_list(ports)),
            Error::PortsReserved { reserved, busy } => {
                words::ports_reserved(&port_list(reserved), &port_list(busy), cfg!(windows))
            }
            Error::TimedOut(d) => words::timed_out(d.as_secs().div_ceil(60).max(1)),
            Error::Cancelled => words::cancelled(),
            Error::BrowserFailed { program, .. } => words::browser_failed(program),
            Error::ListenerFailed(e) => words::listener_failed(e),
            Error::CallbackMalformed => words::callback_malformed(),
            Error::PastedNotCallback { port } => words::pasted_not_callback(*port),
            Error::PastedWrongState => words::pasted_wrong_state(),
            Error::PastedAlreadyUsed => words::pasted_already_used(),
            Error::NotWaiting => words::not_waiting(),
        }
    }

    /// What to do about it; `None` for a cancel.
    pub fn fix(&self) -> Option<Text> {
        Some(match self {
            Error::PortsInvalid { .. } => words::ports_invalid_fix(),
            Error::PortsBusy { ports } => words::ports_busy_fix(&port_list(ports)),
            Error::PortsReserved { busy, .. } => {
                words::ports_reserved_fix(&port_list(busy), cfg!(windows))
            }
            Error::TimedOut(_) => words::timed_out_fix(),
            Error::Cancelled => return None,
            Error::BrowserFailed { from_env, .. } => words::browser_failed_fix(*from_env),
            Error::ListenerFailed(_) => words::listener_failed_fix(),
            Error::CallbackMalformed => words::callback_malformed_fix(),
            Error::PastedNotCallback { port } => words::pasted_not_callback_fix(*port),
            Error::PastedWrongState => words::pasted_wrong_state_fix(),
            Error::PastedAlreadyUsed | Error::NotWaiting => return None,
        })
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
    fn reserved_ports_are_not_called_busy_and_name_the_windows_command() {
        let e = Error::PortsReserved {
            reserved: vec![18682, 18684],
            busy: vec![],
        };
        assert_eq!(e.kind(), "ports_reserved");
        let (message, fix) = (e.message(), e.fix().unwrap());
        for s in [&message.ko, &message.en] {
            assert!(s.contains("18682, 18684"), "{s}");
        }
        // Not the words of "in use": nobody listens there, there is nothing to quit.
        assert!(
            !message.en.contains("in use") && !fix.en.contains("Quit"),
            "{message:?} {fix:?}"
        );
        for s in [&fix.ko, &fix.en] {
            assert!(s.contains("KAKAO_SIGNIN_REDIRECT_PORTS"), "{s}");
            assert!(s.contains("http://127.0.0.1:<"), "{s}");
        }
        assert!(e.to_string().contains("18684"));

        // Windows' words name what reserves ports and the command that lists the ranges.
        let (m, f) = (
            words::ports_reserved("18682", "", true),
            words::ports_reserved_fix("", true),
        );
        for s in [&f.ko, &f.en] {
            assert!(
                s.contains("netsh interface ipv4 show excludedportrange protocol=tcp"),
                "{s}"
            );
        }
        for s in [&m.ko, &m.en] {
            assert!(
                s.contains("Hyper-V") && s.contains("WSL2") && s.contains("Docker"),
                "{s}"
            );
        }
        assert!(
            m.en.contains("exclusively"),
            "WSAEACCES also means exclusive use: {m:?}"
        );
        // Elsewhere: a security policy, not Windows' command.
        let f = words::ports_reserved_fix("", false);
        assert!(!f.en.contains("netsh") && f.en.contains("SELinux"), "{f:?}");

        // Some refused, some busy: each list with its own words.
        let mixed = Error::PortsReserved {
            reserved: vec![18682],
            busy: vec![18683, 18684],
        };
        let (m, f) = (mixed.message(), mixed.fix().unwrap());
        for s in [&m.ko, &m.en, &f.ko, &f.en] {
            assert!(s.contains("18683, 18684"), "{s}");
        }
        assert!(
            m.en.contains("18682") && m.en.contains("in use by other programs"),
            "{m:?}"
        );
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

    #[test]
    fn every_kind_is_in_all_and_serialises_as_its_str() {
        // Exhaustive: a new variant does not compile here until it has the next number; then
        // the loop fails until it is appended to `ALL` in the same place.
        fn position(kind: ErrorKind) -> usize {
            match kind {
                ErrorKind::PortsInvalid => 0,
                ErrorKind::PortsBusy => 1,
                ErrorKind::PortsReserved => 2,
                ErrorKind::TimedOut => 3,
                ErrorKind::Cancelled => 4,
                ErrorKind::BrowserFailed => 5,
                ErrorKind::ListenerFailed => 6,
                ErrorKind::CallbackMalformed => 7,
                ErrorKind::PastedNotCallback => 8,
                ErrorKind::PastedWrongState => 9,
                ErrorKind::PastedAlreadyUsed => 10,
                ErrorKind::NotWaiting => 11,
            }
        }
        for (i, &kind) in ErrorKind::ALL.iter().enumerate() {
            assert_eq!(position(kind), i, "{kind:?} is out of place in ALL");
            assert_eq!(
                serde_json::to_value(kind).unwrap(),
                serde_json::Value::from(kind.as_str())
            );
            assert_eq!(kind.to_string(), kind.as_str());
            assert_eq!(kind, kind.as_str());
        }
    }
}
