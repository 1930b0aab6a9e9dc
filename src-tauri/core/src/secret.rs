//! Secrets (tokens, codes, verifiers, the client secret) as a newtype whose `Debug` and
//! `Display` never show the value, so a `{:?}` in a log or an error cannot leak one, and whose
//! bytes are overwritten with zeros when it is dropped ([`zeroize`]), so freed memory (and a
//! core file, were one written: see [`hardening`](crate::hardening)) does not keep them.

use std::fmt;
use zeroize::Zeroizing;

/// A string that must never reach a log, the webview, a file or an error message; zeroed when
/// dropped. Clone it only where a second owner is needed: each clone is one more copy (zeroed
/// in turn when dropped).
///
/// Deliberately not `Serialize`: a secret can't be put into a view model by accident.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Zeroizing<String>);

impl Secret {
    /// Wraps a secret value (a token, code or verifier).
    pub fn new(value: impl Into<String>) -> Self {
        Secret(Zeroizing::new(value.into()))
    }

    /// The value itself, for the one place that has to send it (a request body or header).
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether the value is the empty string.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl From<String> for Secret {
    fn from(s: String) -> Self {
        Secret::new(s)
    }
}

impl From<&str> for Secret {
    fn from(s: &str) -> Self {
        Secret::new(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_display_redact() {
        let s = Secret::new("very-secret-token");
        assert_eq!(format!("{s:?}"), "Secret(<redacted>)");
        assert_eq!(format!("{s}"), "<redacted>");
        assert!(!format!("{:?}", Some(&s)).contains("very-secret"));
        assert_eq!(s.expose(), "very-secret-token");
    }
}
