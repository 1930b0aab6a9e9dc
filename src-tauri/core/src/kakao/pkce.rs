//! PKCE (RFC 7636, S256 only: Kakao advertises nothing else), `state` and `nonce`.

use crate::secret::Secret;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use sha2::{Digest, Sha256};
use std::fmt;
use subtle::ConstantTimeEq;

/// `N` bytes from the OS CSPRNG (getrandom(2) on Linux), base64url without padding. Panics
/// when the OS has no randomness to give: no token is better than a guessable one, and the
/// command boundary turns the panic into an error the window shows.
pub(crate) fn random_b64url<const N: usize>() -> String {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).expect("the OS random number generator failed");
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The PKCE code verifier: 32 bytes from the OS CSPRNG, base64url without padding
/// (43 characters, inside RFC 7636's 43..=128).
pub struct PkceVerifier(Secret);

impl PkceVerifier {
    /// A fresh verifier (RFC 7636 §4.1).
    pub fn generate() -> Self {
        PkceVerifier(Secret::new(random_b64url::<32>()))
    }

    /// Wraps a known verifier (tests, RFC vectors).
    pub fn from_secret(secret: Secret) -> Self {
        PkceVerifier(secret)
    }

    /// The value sent as `code_verifier` at the token endpoint (RFC 7636 §4.5).
    pub fn secret(&self) -> &Secret {
        &self.0
    }

    /// `code_challenge` = base64url-no-pad(SHA-256(verifier)), sent with `code_challenge_method=S256`.
    pub fn challenge(&self) -> String {
        challenge_s256(self.0.expose())
    }
}

impl fmt::Debug for PkceVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PkceVerifier(<redacted>)")
    }
}

/// RFC 7636 §4.2 `S256`: base64url-no-pad(SHA-256(`verifier`)), 43 characters.
pub fn challenge_s256(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

macro_rules! one_time_token {
    ($name:ident, $doc:literal) => {
        #[doc = $doc]
        ///
        /// 128 bits from the OS CSPRNG, base64url (22 characters). Not `Clone`: there is one
        /// holder for one attempt. What comes back is compared with it in constant time where
        /// it arrives (the loopback listener for `state`, the ID token check for `nonce`).
        /// `Debug` redacts.
        pub struct $name(String);

        impl $name {
            /// A fresh value (22 characters).
            pub fn generate() -> Self {
                $name(random_b64url::<16>())
            }

            /// For tests and for restoring a value this process generated.
            pub fn from_string(value: impl Into<String>) -> Self {
                $name(value.into())
            }

            /// The value to put in the URL.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(concat!(stringify!($name), "(<redacted>)"))
            }
        }
    };
}

one_time_token!(
    StateToken,
    "The OAuth `state`: ties the callback to this sign-in attempt (CSRF protection)."
);
one_time_token!(
    Nonce,
    "The OIDC `nonce`: ties the ID token to this sign-in attempt (replay protection)."
);

/// Compares a generated value with what came back without leaking where they differ.
pub(crate) fn constant_time_eq(a: &str, b: &str) -> bool {
    // Length is not secret (always 22 or 43 characters); the content is.
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc7636_appendix_b_vector() {
        let v =
            PkceVerifier::from_secret(Secret::new("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"));
        assert_eq!(v.challenge(), "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
    }

    #[test]
    fn generated_verifier_shape() {
        let a = PkceVerifier::generate();
        let b = PkceVerifier::generate();
        assert_eq!(a.secret().expose().len(), 43);
        assert_ne!(a.secret().expose(), b.secret().expose());
        assert!(a
            .secret()
            .expose()
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_'));
        assert_eq!(a.challenge().len(), 43);
        assert_eq!(format!("{a:?}"), "PkceVerifier(<redacted>)");
    }

    #[test]
    fn state_and_nonce_are_128_bits_and_compare() {
        let s = StateToken::generate();
        assert_eq!(s.as_str().len(), 22); // 16 bytes → 22 base64url chars
        assert!(constant_time_eq(s.as_str(), s.as_str()));
        assert!(!constant_time_eq(s.as_str(), ""));
        assert!(!constant_time_eq(s.as_str(), &s.as_str()[..21]));
        let mut other = s.as_str().to_owned();
        other.replace_range(0..1, if other.starts_with('A') { "B" } else { "A" });
        assert!(!constant_time_eq(s.as_str(), &other));
        assert_ne!(StateToken::generate().as_str(), s.as_str());
        assert!(!format!("{s:?}").contains(s.as_str()));
        let n = Nonce::generate();
        assert_eq!(format!("{n:?}"), "Nonce(<redacted>)");
        assert_eq!(n.as_str().len(), 22);
    }
}
