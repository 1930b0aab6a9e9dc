//! The words this crate shows a person, in Korean and English ([`Text`](crate::text::Text)),
//! in one place, one submodule per layer:
//!
//! - [`kakao`]: the protocol layer's errors (KOE, kapi and redirect codes, ID token checks) and
//!   their fixes.
//! - [`signin`]: the sign-in layer's errors and the loopback pages' words.
//! - [`profile`]: the profile card's field labels and notes.
//! - [`session`]: the session's own errors and the notices after logout, unlink and consent.
//! - [`vault`]: the keychain's errors and fixes.
//!
//! Words only: this module imports [`crate::text`] and the layers' kind enums (to key words by
//! kind), nothing else, so any layer may use it without pulling in another.

pub mod kakao;
pub mod profile;
pub mod session;
pub mod signin;
pub mod vault;
