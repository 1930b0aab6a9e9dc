//! RS256 signing keys for ID tokens and the JWKS document.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::{DecodingKey, EncodingKey};
use rsa::pkcs1::EncodeRsaPrivateKey;
use rsa::traits::PublicKeyParts;
use rsa::RsaPrivateKey;
use sha2::{Digest, Sha256};
use std::sync::OnceLock;

/// One RSA key pair with its `kid`.
pub struct SigningKey {
    pub kid: String,
    pub encoding: EncodingKey,
    pub decoding: DecodingKey,
    pub n: String,
    pub e: String,
    /// When it stopped being the current key (sim clock); `None` = current.
    pub retired_at: Option<i64>,
}

fn generate_der() -> Vec<u8> {
    let key = RsaPrivateKey::new(&mut rand::rngs::OsRng, 2048).expect("RSA key generation");
    key.to_pkcs1_der().expect("pkcs1 der").as_bytes().to_vec()
}

/// The first key of every simulator in this process (generating RSA keys is slow, and
/// tests start many simulators). Rotation always generates a fresh key.
fn initial_der() -> &'static [u8] {
    static DER: OnceLock<Vec<u8>> = OnceLock::new();
    DER.get_or_init(generate_der)
}

impl SigningKey {
    fn from_der(der: &[u8]) -> SigningKey {
        use rsa::pkcs1::DecodeRsaPrivateKey;
        let key = RsaPrivateKey::from_pkcs1_der(der).expect("pkcs1 der");
        let n = URL_SAFE_NO_PAD.encode(key.n().to_bytes_be());
        let e = URL_SAFE_NO_PAD.encode(key.e().to_bytes_be());
        let kid = URL_SAFE_NO_PAD.encode(&Sha256::digest(n.as_bytes())[..12]);
        SigningKey {
            kid,
            encoding: EncodingKey::from_rsa_der(der),
            decoding: DecodingKey::from_rsa_components(&n, &e).expect("rsa components"),
            n,
            e,
            retired_at: None,
        }
    }

    /// The process-wide initial key.
    pub fn initial() -> SigningKey {
        Self::from_der(initial_der())
    }

    /// A freshly generated key.
    pub fn fresh() -> SigningKey {
        Self::from_der(&generate_der())
    }

    /// JWK of the public key.
    pub fn jwk(&self) -> serde_json::Value {
        serde_json::json!({
            "kid": self.kid, "kty": "RSA", "alg": "RS256", "use": "sig", "n": self.n, "e": self.e
        })
    }
}
