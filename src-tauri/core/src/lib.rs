//! Kakao Sign-in's core: everything but the window.
//!
//! Layers, imported one way only (a module never imports one listed above it):
//! - [`session`]: the state machine the Tauri commands call (restore, sign in, refresh,
//!   additional consent, logout, unlink) and the view models it hands out.
//! - [`signin`]: one sign-in attempt: loopback listener, its pages, the browser opener.
//! - [`vault`]: tokens in the OS keychain.
//! - [`kakao`]: Kakao's wire format. Knows nothing of the keychain, the listener or Tauri.
//! - [`localdata`]: values the person typed in (not secrets), per member id.
//! - [`secret`], [`text`], [`clock`], [`config`], [`net`]: small shared pieces; [`instance`]: one window
//!   per person (Unix); [`hardening`]: no core files (Linux).
//!
//! Beside the layers, [`messages`] holds the words shown to a person, Korean and English, one
//! submodule per layer. Any layer may use it: it imports only [`text`] and the layers' kind
//! enums (to key words by kind), never their logic.
//!
//! This crate does not depend on Tauri at all, so the compiler enforces that the protocol and the
//! session can be tested without a window.

#![warn(missing_docs)]
// Outside text (Kakao's answers, the config file, a proxy's pages) is never sliced by byte
// index: a cut inside a character panics. `get`, `chars` or `split_once` instead.
#![cfg_attr(not(test), warn(clippy::string_slice))]

/// `Display` and, for tests, `PartialEq<&str>` for a kind enum with `fn as_str(self) -> &'static
/// str`: both give the snake_case wire string the window branches on. Production code matches on
/// the variants, so a misspelt kind does not compile.
macro_rules! wire_string_impls {
    ($kind:ty) => {
        impl std::fmt::Display for $kind {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        /// For tests that pin the wire string; production code matches on variants.
        impl PartialEq<&str> for $kind {
            fn eq(&self, other: &&str) -> bool {
                self.as_str() == *other
            }
        }
    };
}

pub mod clock;
pub mod config;
pub mod hardening;
#[cfg(unix)]
pub mod instance;
pub mod kakao;
pub mod localdata;
pub mod messages;
pub mod net;
pub mod secret;
pub mod session;
pub mod signin;
pub mod text;
pub mod vault;
