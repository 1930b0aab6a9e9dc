//! The session layer's one error type: what went wrong below (Kakao, the listener, the
//! keychain, local data) or in the session itself, with a stable `kind` for the window.

use super::view::ErrorView;
use crate::localdata::LocalDataError;
use crate::text::Text;
use crate::{kakao, signin, vault};

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    #[error(transparent)]
    Kakao(#[from] kakao::Error),
    #[error(transparent)]
    Signin(#[from] signin::Error),
    #[error(transparent)]
    Vault(#[from] vault::Error),
    #[error(transparent)]
    LocalData(#[from] LocalDataError),
    #[error("no Kakao REST API key is configured")]
    NotConfigured,
    #[error("not signed in")]
    NotSignedIn,
    /// The refresh token is dead (KOE322, or -401 right after a refresh): tokens were deleted.
    #[error("the Kakao session has ended")]
    SessionEnded,
    #[error("bad argument: {0}")]
    BadArgument(&'static str),
}

impl Error {
    pub fn kind(&self) -> &'static str {
        match self {
            Error::Kakao(e) => e.kind().as_str(),
            Error::Signin(e) => e.kind().as_str(),
            Error::Vault(e) => e.kind(),
            Error::LocalData(e) => e.kind().as_str(),
            Error::NotConfigured => "not_configured",
            Error::NotSignedIn => "not_signed_in",
            Error::SessionEnded => "session_ended",
            Error::BadArgument(_) => "bad_argument",
        }
    }

    pub fn message(&self) -> Text {
        match self {
            Error::Kakao(e) => e.message(),
            Error::Signin(e) => e.message(),
            Error::Vault(e) => e.message(),
            Error::LocalData(e) => Text::owned(
                format!("이 컴퓨터에 입력값을 저장하지 못했습니다: {e}"),
                format!("Could not save the value on this computer: {e}"),
            ),
            Error::NotConfigured => Text::fixed(
                "카카오 REST API 키가 설정되지 않았습니다.",
                "No Kakao REST API key is configured.",
            ),
            Error::NotSignedIn => {
                Text::fixed("로그인되어 있지 않습니다.", "You are not signed in.")
            }
            Error::SessionEnded => Text::fixed(
                "카카오 로그인이 만료되었습니다. 다시 로그인해 주세요.",
                "Your Kakao session has ended. Please sign in again.",
            ),
            Error::BadArgument(what) => Text::owned(
                format!("잘못된 값입니다: {what}"),
                format!("That value is not valid: {what}"),
            ),
        }
    }

    pub fn fix(&self) -> Option<Text> {
        match self {
            Error::Kakao(e) => e.fix(),
            Error::Signin(e) => e.fix(),
            Error::Vault(e) => e.fix(),
            Error::NotConfigured => Some(Text::fixed(
                "KAKAO_SIGNIN_CLIENT_ID 환경 변수나 ~/.config/kakao-signin/config.toml의 client_id에 REST API 키를 넣으세요.",
                "Put the REST API key in KAKAO_SIGNIN_CLIENT_ID or client_id in ~/.config/kakao-signin/config.toml.",
            )),
            _ => None,
        }
    }

    /// Kakao's code, shown small beside the message.
    pub fn code(&self) -> Option<String> {
        match self {
            Error::Kakao(e) => e
                .error_code()
                .map(str::to_owned)
                .or_else(|| e.api_code().map(|c| c.to_string())),
            _ => None,
        }
    }

    /// Network, timeout, 5xx, -1, a keychain timeout: the tokens stay and a retry may work.
    pub fn is_transient(&self) -> bool {
        match self {
            Error::Kakao(e) => e.is_transient(),
            // Any keychain failure but a corrupt entry may pass (unlock, daemon start).
            Error::Vault(e) => !matches!(e, vault::Error::Corrupt { .. }),
            _ => false,
        }
    }

    /// The session is over on this device (tokens deleted or never there).
    pub fn is_signed_out(&self) -> bool {
        matches!(self, Error::SessionEnded | Error::NotSignedIn)
    }

    pub fn view(&self) -> ErrorView {
        ErrorView {
            kind: self.kind().to_owned(),
            message: self.message(),
            fix: self.fix(),
            code: self.code(),
        }
    }
}
