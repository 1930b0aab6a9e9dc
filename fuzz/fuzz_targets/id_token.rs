//! ID token decoding: the header check, JWKS parsing, and — with tokens signed by a key the
//! fuzzer doesn't control but over payloads it does — every claim check. Unsigned or foreign
//! tokens must be refused; signed ones may pass only with every claim right; nothing may panic.
#![no_main]

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use futures::future::BoxFuture;
use jsonwebtoken::{Algorithm, EncodingKey};
use kakao_signin_core::kakao::idtoken::{parse_jwks, verify, verify_with_key, Expected, JwksCache};
use kakao_signin_core::kakao::{
    Endpoints, HttpClient, HttpRequest, HttpResponse, Nonce, TransportError,
};
use kakao_signin_core::secret::Secret;
use libfuzzer_sys::fuzz_target;
use rand::SeedableRng;
use rsa::pkcs1::EncodeRsaPrivateKey;
use rsa::traits::PublicKeyParts;
use std::sync::OnceLock;

const KID: &str = "fuzz-kid";
const CLIENT: &str = "fuzz-client";
const NONCE: &str = "fuzz-nonce-value";
const NOW: i64 = 1_700_000_000;
const LEEWAY: i64 = 60;

struct Fixture {
    signing: EncodingKey,
    jwks: Vec<u8>,
    endpoints: Endpoints,
}

/// A fixed-seed 2048-bit key (generated once per process; never a real key).
fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let mut rng = rand::rngs::StdRng::seed_from_u64(0x6b616b616f);
        let key = rsa::RsaPrivateKey::new(&mut rng, 2048).expect("keygen");
        let der = key.to_pkcs1_der().unwrap().as_bytes().to_vec();
        let jwks = serde_json::json!({"keys": [{
            "kid": KID, "kty": "RSA", "alg": "RS256", "use": "sig",
            "n": URL_SAFE_NO_PAD.encode(key.n().to_bytes_be()),
            "e": URL_SAFE_NO_PAD.encode(key.e().to_bytes_be()),
        }]});
        Fixture {
            signing: EncodingKey::from_rsa_der(&der),
            jwks: serde_json::to_vec(&jwks).unwrap(),
            endpoints: Endpoints::new("https://kauth.kakao.com", "https://kapi.kakao.com").unwrap(),
        }
    })
}

/// Serves the fixture's JWKS for any request.
struct JwksServer;
impl HttpClient for JwksServer {
    fn send(&self, _: HttpRequest) -> BoxFuture<'_, Result<HttpResponse, TransportError>> {
        Box::pin(async { Ok(HttpResponse::new(200, fixture().jwks.clone())) })
    }
}

fn sign(header: &[u8], payload: &[u8]) -> String {
    let msg = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header),
        URL_SAFE_NO_PAD.encode(payload)
    );
    let sig = jsonwebtoken::crypto::sign(msg.as_bytes(), &fixture().signing, Algorithm::RS256)
        .expect("sign");
    format!("{msg}.{sig}")
}

fn run(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let f = fixture();
    let issuer = f.endpoints.issuer();
    let nonce = Nonce::from_string(NONCE);
    let expected = Expected {
        issuer: &issuer,
        client_id: CLIENT,
        nonce: if mode & 0x80 == 0 { Some(&nonce) } else { None },
        now: NOW,
        leeway: LEEWAY,
    };
    let keys = parse_jwks(&f.jwks).unwrap();
    let key = &keys[KID];

    match mode % 4 {
        // Any string as a token, through the full path (header, JWKS fetch, signature).
        0 => {
            let token = String::from_utf8_lossy(rest).into_owned();
            let cache = JwksCache::default();
            let r = futures::executor::block_on(verify(
                &JwksServer,
                &f.endpoints,
                &cache,
                &Secret::new(token.clone()),
                &expected,
            ));
            if let Err(e) = &r {
                let _ = (
                    e.kind(),
                    e.message(),
                    e.fix(),
                    format!("{e}"),
                    format!("{e:?}"),
                );
            }
            assert!(r.is_err(), "an unsigned token was accepted: {token:?}");
            assert!(verify_with_key(&token, key, &expected).is_err());
        }
        // Any bytes as a JWKS.
        1 => {
            if let Ok(keys) = parse_jwks(rest) {
                let _ = keys.len();
            }
        }
        // A properly signed token over an arbitrary payload: every claim check is reached.
        2 => {
            let header = format!(r#"{{"alg":"RS256","typ":"JWT","kid":"{KID}"}}"#);
            let token = sign(header.as_bytes(), rest);
            check_signed(&token, rest, key, &expected);
        }
        // Arbitrary header and payload (split at the first NUL), signed.
        _ => {
            let (h, p) = match rest.iter().position(|&b| b == 0) {
                Some(i) => (&rest[..i], &rest[i + 1..]),
                None => (rest, &b"{}"[..]),
            };
            let token = sign(h, p);
            let cache = JwksCache::default();
            let r = futures::executor::block_on(verify(
                &JwksServer,
                &f.endpoints,
                &cache,
                &Secret::new(token.clone()),
                &expected,
            ));
            if r.is_ok() {
                check_signed(&token, p, key, &expected);
            }
        }
    }
}

fuzz_target!(
    // Key generation (seconds under ASan) runs before fuzzing, outside the per-input timeout.
    init: {
        let _ = fixture();
    },
    |data: &[u8]| run(data)
);

/// A signed token may pass only if its claims are exactly right.
fn check_signed(
    token: &str,
    payload: &[u8],
    key: &kakao_signin_core::kakao::idtoken::RsaKey,
    expected: &Expected<'_>,
) {
    let Ok(claims) = verify_with_key(token, key, expected) else {
        return;
    };
    let v: serde_json::Value = serde_json::from_slice(payload).expect("accepted claims are JSON");
    assert_eq!(claims.iss, expected.issuer);
    assert_eq!(v["iss"].as_str(), Some(expected.issuer));
    match &v["aud"] {
        serde_json::Value::String(a) => assert_eq!(a, CLIENT),
        serde_json::Value::Array(list) => {
            assert!(!list.is_empty() && list.iter().all(|a| a.as_str() == Some(CLIENT)))
        }
        other => panic!("aud {other:?} accepted"),
    }
    assert!(
        claims.exp + expected.leeway > expected.now,
        "expired token accepted"
    );
    assert!(
        claims.iat <= expected.now + expected.leeway,
        "future iat accepted"
    );
    if expected.nonce.is_some() {
        assert_eq!(v["nonce"].as_str(), Some(NONCE), "wrong nonce accepted");
    }
    assert_eq!(claims.sub.parse::<i64>().ok(), Some(claims.member_id));
}
