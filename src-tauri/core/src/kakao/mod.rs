//! Kakao's wire format: authorize and logout URLs, token requests, kapi calls, ID token checks,
//! typed responses and one typed error. Knows nothing of Tauri, the keychain, the loopback
//! listener or the window; all I/O goes through the [`http::HttpClient`] seam and time through
//! [`crate::clock::Clock`], corrected to Kakao's by [`KakaoClock`].
//!
//! Start with [`KakaoClient`]; [`Error::kind`] (an [`ErrorKind`]) is what callers branch on.

pub mod api;
pub mod authorize;
mod client;
pub mod consent;
pub mod endpoints;
pub mod error;
pub mod http;
pub mod idtoken;
pub mod pkce;
pub mod proxy;
pub mod skew;
pub mod token;

pub use api::{
    AccessTokenInfo, AgeRange, BirthdayType, Gender, KakaoAccount, OidcUserInfo, Profile,
    ScopeInfo, ScopeType, Scopes, UserMe,
};
pub use authorize::{AuthorizeParams, Prompt};
pub use client::KakaoClient;
pub use consent::{ConsentState, ProfileField};
pub use endpoints::Endpoints;
pub use error::{ApiCall, Error, ErrorContext, ErrorKind, IdTokenError, TokenVerdict};
pub use http::{
    HttpClient, HttpRequest, HttpResponse, ReqwestHttp, TransportError, TransportErrorKind,
    MAX_API_BODY_BYTES,
};
pub use idtoken::IdTokenClaims;
pub use pkce::{Nonce, PkceVerifier, StateToken};
pub use proxy::ProxySettings;
pub use skew::KakaoClock;
pub use token::TokenResponse;
