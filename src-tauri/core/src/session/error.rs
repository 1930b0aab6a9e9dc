//! The session layer's one error type: what went wrong below (Kakao, the listener, the
//! keychain, local data) or in the session itself, with a stable [`ErrorKind`] for the window.

use super::view::ErrorView;
use crate::localdata::{self, LocalDataError};
use crate::messages::session as words;
use crate::text::Text;
use crate::{kakao, signin, vault};
use serde::{Serialize, Serializer};

/// Why a session operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Kakao (or the way to it) answered with an error. Boxed: it is large, and most results
    /// of the session are not errors.
    #[error(transparent)]
    Kakao(Box<kakao::Error>),
    /// The loopback sign-in could not finish (ports, browser, timeout, cancel).
    #[error(transparent)]
    Signin(#[from] signin::Error),
    /// The keychain failed.
    #[error(transparent)]
    Vault(#[from] vault::Error),
    /// A value typed in could not be read or written.
    #[error(transparent)]
    LocalData(#[from] LocalDataError),
    /// No REST API key is configured.
    #[error("no Kakao REST API key is configured")]
    NotConfigured,
    /// The operation needs a session and there is none.
    #[error("not signed in")]
    NotSignedIn,
    /// The refresh token is dead (KOE322, or -401 right after a refresh): tokens were deleted.
    #[error("the Kakao session has ended")]
    SessionEnded,
    /// The session the call was made for was replaced or ended while the call was under way;
    /// its answer is dropped.
    #[error("the session changed while the call was under way")]
    Superseded,
    /// A command's argument was refused; names which.
    #[error("bad argument: {0}")]
    BadArgument(&'static str),
    /// The operation panicked (a bug) and was ended; the app runs on. Names the operation.
    #[error("{0} failed inside the app")]
    Internal(&'static str),
}

/// The stable kind of a session [`Error`]: the layer's own kinds, or the kind of the layer
/// below. Serialised as the snake_case string the window branches on (`session_ended`,
/// `redirect_uri_not_registered`, `keychain_locked`, …).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// From the protocol layer.
    Kakao(kakao::ErrorKind),
    /// From the sign-in layer.
    Signin(signin::ErrorKind),
    /// From the keychain.
    Vault(vault::ErrorKind),
    /// From local data.
    LocalData(localdata::ErrorKind),
    /// [`Error::NotConfigured`].
    NotConfigured,
    /// [`Error::NotSignedIn`].
    NotSignedIn,
    /// [`Error::SessionEnded`].
    SessionEnded,
    /// [`Error::Superseded`].
    Superseded,
    /// [`Error::BadArgument`].
    BadArgument,
    /// [`Error::Internal`].
    Internal,
}

impl ErrorKind {
    /// The session's own kinds (the layers below list theirs).
    pub const OWN: [ErrorKind; 6] = [
        ErrorKind::NotConfigured,
        ErrorKind::NotSignedIn,
        ErrorKind::SessionEnded,
        ErrorKind::Superseded,
        ErrorKind::BadArgument,
        ErrorKind::Internal,
    ];

    /// The wire string, equal to what serde writes.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Kakao(k) => k.as_str(),
            ErrorKind::Signin(k) => k.as_str(),
            ErrorKind::Vault(k) => k.as_str(),
            ErrorKind::LocalData(k) => k.as_str(),
            ErrorKind::NotConfigured => "not_configured",
            ErrorKind::NotSignedIn => "not_signed_in",
            ErrorKind::SessionEnded => "session_ended",
            ErrorKind::Superseded => "superseded",
            ErrorKind::BadArgument => "bad_argument",
            ErrorKind::Internal => "internal_error",
        }
    }
}

impl Serialize for ErrorKind {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

wire_string_impls!(ErrorKind);

impl From<kakao::Error> for Error {
    fn from(e: kakao::Error) -> Self {
        Error::Kakao(Box::new(e))
    }
}

impl Error {
    /// What the window branches on.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::Kakao(e) => ErrorKind::Kakao(e.kind()),
            Error::Signin(e) => ErrorKind::Signin(e.kind()),
            Error::Vault(e) => ErrorKind::Vault(e.kind()),
            Error::LocalData(e) => ErrorKind::LocalData(e.kind()),
            Error::NotConfigured => ErrorKind::NotConfigured,
            Error::NotSignedIn => ErrorKind::NotSignedIn,
            Error::SessionEnded => ErrorKind::SessionEnded,
            Error::Superseded => ErrorKind::Superseded,
            Error::BadArgument(_) => ErrorKind::BadArgument,
            Error::Internal(_) => ErrorKind::Internal,
        }
    }

    /// What happened, in both languages.
    pub fn message(&self) -> Text {
        match self {
            Error::Kakao(e) => e.message(),
            Error::Signin(e) => e.message(),
            Error::Vault(e) => e.message(),
            Error::LocalData(e) => words::local_data_failed(&e.to_string()),
            Error::NotConfigured => words::not_configured(),
            Error::NotSignedIn => words::not_signed_in(),
            Error::SessionEnded => words::session_ended(),
            Error::Superseded => words::superseded(),
            Error::BadArgument(what) => words::bad_argument(what),
            Error::Internal(_) => words::internal_error(),
        }
    }

    /// What the person can do, when something helps.
    pub fn fix(&self) -> Option<Text> {
        match self {
            Error::Kakao(e) => e.fix(),
            Error::Signin(e) => e.fix(),
            Error::Vault(e) => e.fix(),
            Error::NotConfigured => Some(words::not_configured_fix()),
            Error::Internal(_) => Some(words::internal_error_fix()),
            _ => None,
        }
    }

    /// Kakao's code, shown small beside the message (`KOE006`, `-401`).
    pub fn code(&self) -> Option<String> {
        match self {
            Error::Kakao(e) => e
                .error_code()
                .map(str::to_owned)
                .or_else(|| e.api_code().map(|c| c.to_string())),
            _ => None,
        }
    }

    /// Network, timeout, 5xx, -1, a keychain hiccup: the tokens stay and a retry may work.
    pub fn is_transient(&self) -> bool {
        match self {
            Error::Kakao(e) => e.is_transient(),
            Error::Vault(e) => e.is_transient(),
            _ => false,
        }
    }

    /// The keychain cannot keep tokens until the person installs, creates or unlocks one
    /// ([`vault::Error::means_no_keychain`]): the window shows status `no_keychain`.
    pub fn is_no_keychain(&self) -> bool {
        matches!(self, Error::Vault(e) if e.means_no_keychain())
    }

    /// The view the window shows for this error.
    pub fn view(&self) -> ErrorView {
        ErrorView {
            kind: self.kind(),
            message: self.message(),
            fix: self.fix(),
            code: self.code(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_kinds_serialise_as_their_wire_strings() {
        for k in ErrorKind::OWN {
            assert_eq!(serde_json::to_value(k).unwrap(), k.as_str());
        }
        let below = ErrorKind::Vault(vault::ErrorKind::KeychainLocked);
        assert_eq!(serde_json::to_value(below).unwrap(), "keychain_locked");
        let below = ErrorKind::Kakao(kakao::ErrorKind::AccessDenied);
        assert_eq!(serde_json::to_value(below).unwrap(), "access_denied");
    }
}
