//! ID token verification (REFERENCE §7): RS256 only, key by `kid` from the JWKS at
//! `<auth>/.well-known/jwks.json`, then `iss`, `aud`, `exp`, `iat`, `nonce`.
//!
//! The header and every claim are checked here, times against the [`Clock`](crate::clock::Clock)
//! seam; the signature is RSASSA-PKCS1-v1_5 with SHA-256 checked by ring (2048–8192-bit keys).
//! No general JWT library: one algorithm needs none, and none can be talked into another.

use super::endpoints::Endpoints;
use super::error::{Error, IdTokenError};
use super::http::{HttpClient, HttpRequest};
use super::pkce::{constant_time_eq, Nonce};
use crate::secret::Secret;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use ring::signature::{RsaPublicKeyComponents, RSA_PKCS1_2048_8192_SHA256};
use serde::Deserialize;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Clock skew tolerated on `exp` and `iat`, in seconds, on top of judging them on Kakao's time
/// ([`KakaoClock`](super::KakaoClock)): what is left is the `Date` header's whole seconds and
/// the answer's time on the way.
pub const DEFAULT_LEEWAY_SECS: i64 = 60;

/// What a valid ID token says about the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdTokenClaims {
    /// Issuer; equals [`Expected::issuer`] (`https://kauth.kakao.com` at Kakao).
    pub iss: String,
    /// Audience: the app's REST API key (`client_id`).
    pub aud: String,
    /// The member id as sent (a string).
    pub sub: String,
    /// `sub` as the 64-bit member id.
    pub member_id: i64,
    /// Issued at, Unix time in seconds.
    pub iat: i64,
    /// Expiry, Unix time in seconds; the lifetime is the token response's `expires_in`.
    pub exp: i64,
    /// When the member last authenticated at Kakao, Unix time in seconds (OpenID Connect Core
    /// 1.0 §2).
    pub auth_time: Option<i64>,
    /// Consent item `profile_nickname`.
    pub nickname: Option<String>,
    /// Thumbnail URL.
    pub picture: Option<String>,
    /// Only when the email is valid and verified.
    pub email: Option<String>,
}

/// What the token must match.
pub struct Expected<'a> {
    /// [`Endpoints::issuer`].
    pub issuer: &'a str,
    /// The REST API key that `aud` must name.
    pub client_id: &'a str,
    /// `None` only for ID tokens from a refresh, which Kakao issues without a nonce.
    pub nonce: Option<&'a Nonce>,
    /// Current time, Unix time in seconds.
    pub now: i64,
    /// Seconds of clock skew allowed on `exp` and `iat` (see [`DEFAULT_LEEWAY_SECS`]).
    pub leeway: i64,
}

/// One RS256 verification key from the JWKS: modulus and exponent, big-endian.
#[derive(Clone)]
pub struct RsaKey(Arc<RsaPublicKeyComponents<Vec<u8>>>);

impl RsaKey {
    /// From a JWK's `n` and `e` (base64url, padding tolerated).
    pub fn from_jwk(n: &str, e: &str) -> Result<RsaKey, &'static str> {
        let decode = |v: &str| {
            URL_SAFE_NO_PAD
                .decode(v.trim_end_matches('='))
                .ok()
                .filter(|b| !b.is_empty())
        };
        match (decode(n), decode(e)) {
            (Some(n), Some(e)) => Ok(RsaKey(Arc::new(RsaPublicKeyComponents { n, e }))),
            _ => Err("n and e must be non-empty base64url"),
        }
    }

    fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        self.0
            .verify(&RSA_PKCS1_2048_8192_SHA256, message, signature)
            .is_ok()
    }
}

impl std::fmt::Debug for RsaKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RsaKey({} bits)", self.0.n.len() * 8)
    }
}

/// JWKS keys by `kid`. Shared by clones of the client.
#[derive(Clone, Default)]
pub struct JwksCache {
    keys: Arc<Mutex<HashMap<String, RsaKey>>>,
}

impl std::fmt::Debug for JwksCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let n = self.keys.lock().unwrap().len();
        f.debug_struct("JwksCache").field("keys", &n).finish()
    }
}

impl JwksCache {
    fn get(&self, kid: &str) -> Option<RsaKey> {
        self.keys.lock().unwrap().get(kid).cloned()
    }

    fn replace(&self, keys: HashMap<String, RsaKey>) {
        *self.keys.lock().unwrap() = keys;
    }

    /// `true` before the first JWKS fetch, or when the JWKS held no usable RS256 key.
    pub fn is_empty(&self) -> bool {
        self.keys.lock().unwrap().is_empty()
    }
}

#[derive(Deserialize)]
struct RawJwks {
    keys: Vec<RawJwk>,
}

#[derive(Deserialize)]
struct RawJwk {
    #[serde(default)]
    kid: Option<String>,
    #[serde(default)]
    kty: String,
    #[serde(default)]
    alg: Option<String>,
    #[serde(rename = "use", default)]
    use_: Option<String>,
    #[serde(default)]
    n: Option<String>,
    #[serde(default)]
    e: Option<String>,
}

/// Parses a JWKS body into RS256 signing keys; other keys are skipped.
pub fn parse_jwks(body: &[u8]) -> Result<HashMap<String, RsaKey>, String> {
    let raw: RawJwks = serde_json::from_slice(body).map_err(|e| e.to_string())?;
    let mut keys = HashMap::new();
    for k in raw.keys {
        let usable = k.kty == "RSA"
            && k.alg.as_deref().is_none_or(|a| a == "RS256")
            && k.use_.as_deref().is_none_or(|u| u == "sig");
        if let (true, Some(kid), Some(n), Some(e)) = (usable, k.kid, k.n, k.e) {
            if let Ok(key) = RsaKey::from_jwk(&n, &e) {
                keys.insert(kid, key);
            }
        }
    }
    Ok(keys)
}

async fn fetch_jwks(
    http: &dyn HttpClient,
    endpoints: &Endpoints,
) -> Result<HashMap<String, RsaKey>, Error> {
    let response = http.send(HttpRequest::get(endpoints.jwks())).await?;
    if !response.is_success() {
        return Err(Error::Status {
            status: response.status,
        });
    }
    parse_jwks(&response.body).map_err(|e| Error::decode(response.status, e))
}

struct Header {
    kid: String,
}

/// The header, read before any key is looked up: `alg` must be exactly `RS256` (so `none` and
/// HS* get a precise refusal) and `kid` must be there.
fn parse_header(token: &str) -> Result<Header, IdTokenError> {
    let mut parts = token.split('.');
    let (Some(h), Some(_), Some(_), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(IdTokenError::Malformed("not a three-part JWT"));
    };
    let bytes = URL_SAFE_NO_PAD
        .decode(h)
        .map_err(|_| IdTokenError::Malformed("header is not base64url"))?;
    let header: Value = serde_json::from_slice(&bytes)
        .map_err(|_| IdTokenError::Malformed("header is not JSON"))?;
    let alg = header.get("alg").and_then(Value::as_str).unwrap_or("");
    if alg != "RS256" {
        return Err(IdTokenError::UnsupportedAlg(alg.chars().take(20).collect()));
    }
    let kid = header
        .get("kid")
        .and_then(Value::as_str)
        .ok_or(IdTokenError::UnknownKid)?;
    Ok(Header {
        kid: kid.to_owned(),
    })
}

/// Signature and claims against one key.
pub fn verify_with_key(
    token: &str,
    key: &RsaKey,
    expected: &Expected<'_>,
) -> Result<IdTokenClaims, IdTokenError> {
    parse_header(token)?;
    let c = verified_payload(token, key)?;
    let s = |name: &str| c.get(name).and_then(Value::as_str).map(str::to_owned);
    let n = |name: &str| c.get(name).and_then(Value::as_i64);

    let iss = s("iss").ok_or(IdTokenError::Malformed("no iss"))?;
    if iss != expected.issuer {
        return Err(IdTokenError::Issuer {
            expected: expected.issuer.to_owned(),
            found: iss.chars().take(200).collect(),
        });
    }
    let aud_ok = match c.get("aud") {
        Some(Value::String(a)) => a == expected.client_id,
        Some(Value::Array(list)) => {
            !list.is_empty() && list.iter().all(|a| a.as_str() == Some(expected.client_id))
        }
        _ => false,
    };
    if !aud_ok {
        return Err(IdTokenError::Audience);
    }
    // OIDC Core 3.1.3.7 item 5: an `azp` that is there must be our client id.
    if let Some(azp) = c.get("azp") {
        if azp.as_str() != Some(expected.client_id) {
            return Err(IdTokenError::AuthorizedParty);
        }
    }
    let exp = n("exp").ok_or(IdTokenError::Malformed("no exp"))?;
    // Saturating: `exp` is signed by Kakao, but a claim near i64::MAX must not overflow here.
    if exp.saturating_add(expected.leeway) <= expected.now {
        return Err(IdTokenError::Expired);
    }
    let iat = n("iat").ok_or(IdTokenError::Malformed("no iat"))?;
    if iat > expected.now.saturating_add(expected.leeway) {
        return Err(IdTokenError::IssuedInFuture);
    }
    if let Some(nonce) = expected.nonce {
        match s("nonce") {
            Some(got) if constant_time_eq(nonce.as_str(), &got) => {}
            _ => return Err(IdTokenError::Nonce),
        }
    }
    let sub = s("sub").ok_or(IdTokenError::Malformed("no sub"))?;
    let member_id = sub
        .parse::<i64>()
        .map_err(|_| IdTokenError::Malformed("sub is not a member id"))?;
    Ok(IdTokenClaims {
        iss,
        aud: expected.client_id.to_owned(),
        sub,
        member_id,
        iat,
        exp,
        auth_time: n("auth_time"),
        nickname: s("nickname"),
        picture: s("picture"),
        email: s("email"),
    })
}

/// The payload of `token` as a JSON object, once the signature over `header.payload` checks out
/// with `key`. Nothing of the payload is read before that.
fn verified_payload(
    token: &str,
    key: &RsaKey,
) -> Result<serde_json::Map<String, Value>, IdTokenError> {
    let (signed, signature) = token
        .rsplit_once('.')
        .ok_or(IdTokenError::Malformed("not a three-part JWT"))?;
    let signature = URL_SAFE_NO_PAD
        .decode(signature)
        .map_err(|_| IdTokenError::BadSignature)?;
    if !key.verify(signed.as_bytes(), &signature) {
        return Err(IdTokenError::BadSignature);
    }
    let (_, payload) = signed
        .split_once('.')
        .ok_or(IdTokenError::Malformed("not a three-part JWT"))?;
    let bytes = URL_SAFE_NO_PAD
        .decode(payload)
        .map_err(|_| IdTokenError::Malformed("payload is not base64url"))?;
    match serde_json::from_slice(&bytes) {
        Ok(Value::Object(claims)) => Ok(claims),
        _ => Err(IdTokenError::Malformed("payload is not a JSON object")),
    }
}

/// Full verification: header, key from the cached JWKS (fetched when empty, refetched once when
/// the `kid` is unknown, then [`IdTokenError::UnknownKid`]), signature, claims.
pub async fn verify(
    http: &dyn HttpClient,
    endpoints: &Endpoints,
    cache: &JwksCache,
    token: &Secret,
    expected: &Expected<'_>,
) -> Result<IdTokenClaims, Error> {
    let token = token.expose();
    let header = parse_header(token)?;
    let key = match cache.get(&header.kid) {
        Some(key) => key,
        None => {
            // Kakao rotates keys: one fetch, no more, so a bad kid can't make us hammer the JWKS.
            cache.replace(fetch_jwks(http, endpoints).await?);
            cache.get(&header.kid).ok_or(IdTokenError::UnknownKid)?
        }
    };
    Ok(verify_with_key(token, &key, expected)?)
}

#[cfg(test)]
pub(crate) mod test_support {
    //! A locally generated RSA key that signs test ID tokens, and its JWKS.
    use rsa::pkcs1::EncodeRsaPrivateKey;
    use rsa::traits::PublicKeyParts;
    use rsa::RsaPrivateKey;
    use serde_json::{json, Value};
    use std::sync::OnceLock;

    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;

    pub struct TestKey {
        pub der: Vec<u8>,
        pub n: String,
        pub e: String,
    }

    /// Generated once per test binary: keygen is slow.
    pub fn key() -> &'static TestKey {
        static KEY: OnceLock<TestKey> = OnceLock::new();
        KEY.get_or_init(|| {
            let key = RsaPrivateKey::new(&mut rand::rngs::OsRng, 2048).expect("keygen");
            TestKey {
                der: key.to_pkcs1_der().unwrap().as_bytes().to_vec(),
                n: URL_SAFE_NO_PAD.encode(key.n().to_bytes_be()),
                e: URL_SAFE_NO_PAD.encode(key.e().to_bytes_be()),
            }
        })
    }

    pub fn jwks(kids: &[&str]) -> Value {
        let k = key();
        json!({"keys": kids.iter().map(|kid| json!({
            "kid": kid, "kty": "RSA", "alg": "RS256", "use": "sig", "n": k.n, "e": k.e
        })).collect::<Vec<_>>()})
    }

    pub fn sign(kid: &str, claims: &Value) -> String {
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
        header.kid = Some(kid.to_owned());
        jsonwebtoken::encode(
            &header,
            claims,
            &jsonwebtoken::EncodingKey::from_rsa_der(&key().der),
        )
        .unwrap()
    }

    pub const NOW: i64 = 1_700_000_000;

    pub fn claims(iss: &str, aud: &str, nonce: &str) -> Value {
        json!({
            "iss": iss, "aud": aud, "sub": "1376016924429759243",
            "iat": NOW - 5, "exp": NOW + 21599, "auth_time": NOW - 5,
            "nonce": nonce, "nickname": "홍길동", "picture": "https://x/t.jpg",
            "email": "a@b.c"
        })
    }
}

#[cfg(test)]
mod tests {
    use super::test_support::*;
    use super::*;
    use crate::kakao::http::testing::FakeHttp;
    use crate::kakao::http::HttpResponse;
    use serde_json::json;

    const ISS: &str = "https://kauth.kakao.com";
    const AUD: &str = "rest-key";

    fn nonce() -> Nonce {
        Nonce::from_string("nonce-1")
    }

    fn expected(n: &Nonce) -> Expected<'_> {
        Expected {
            issuer: ISS,
            client_id: AUD,
            nonce: Some(n),
            now: NOW,
            leeway: DEFAULT_LEEWAY_SECS,
        }
    }

    fn check(token: &str) -> Result<IdTokenClaims, IdTokenError> {
        let k = key();
        let dk = RsaKey::from_jwk(&k.n, &k.e).unwrap();
        let n = nonce();
        verify_with_key(token, &dk, &expected(&n))
    }

    fn with(field: &str, value: Value) -> String {
        let mut c = claims(ISS, AUD, "nonce-1");
        c[field] = value;
        sign("k1", &c)
    }

    #[test]
    fn valid_token() {
        let c = check(&sign("k1", &claims(ISS, AUD, "nonce-1"))).unwrap();
        assert_eq!(c.member_id, 1376016924429759243);
        assert_eq!(c.sub, "1376016924429759243");
        assert_eq!(c.nickname.as_deref(), Some("홍길동"));
        assert_eq!(c.email.as_deref(), Some("a@b.c"));
        assert_eq!(c.auth_time, Some(NOW - 5));
        // aud as a one-element array is fine too.
        assert!(check(&with("aud", json!([AUD]))).is_ok());
    }

    #[test]
    fn each_bad_claim() {
        assert_eq!(
            check(&with("iss", json!("https://evil.example"))).unwrap_err(),
            IdTokenError::Issuer {
                expected: ISS.into(),
                found: "https://evil.example".into()
            }
        );
        // Trailing slash is a different issuer string.
        assert!(matches!(
            check(&with("iss", json!("https://kauth.kakao.com/"))),
            Err(IdTokenError::Issuer { .. })
        ));
        assert_eq!(
            check(&with("aud", json!("other"))).unwrap_err(),
            IdTokenError::Audience
        );
        assert_eq!(
            check(&with("aud", json!([AUD, "other"]))).unwrap_err(),
            IdTokenError::Audience
        );
        assert_eq!(
            check(&with("exp", json!(NOW - 61))).unwrap_err(),
            IdTokenError::Expired
        );
        assert!(
            check(&with("exp", json!(NOW - 59))).is_ok(),
            "within leeway"
        );
        assert_eq!(
            check(&with("iat", json!(NOW + 61))).unwrap_err(),
            IdTokenError::IssuedInFuture
        );
        assert!(
            check(&with("iat", json!(NOW + 59))).is_ok(),
            "within leeway"
        );
        assert_eq!(
            check(&with("nonce", json!("nonce-2"))).unwrap_err(),
            IdTokenError::Nonce
        );
        // azp: absent or ours is fine; anything else there is refused (OIDC Core 3.1.3.7).
        assert!(check(&with("azp", json!(AUD))).is_ok());
        assert_eq!(
            check(&with("azp", json!("other-app"))).unwrap_err(),
            IdTokenError::AuthorizedParty
        );
        assert_eq!(
            check(&with("azp", json!(7))).unwrap_err(),
            IdTokenError::AuthorizedParty
        );
        let mut c = claims(ISS, AUD, "x");
        c.as_object_mut().unwrap().remove("nonce");
        assert_eq!(check(&sign("k1", &c)).unwrap_err(), IdTokenError::Nonce);
        assert!(matches!(
            check(&with("sub", json!("not-a-number"))),
            Err(IdTokenError::Malformed(_))
        ));
        assert!(matches!(
            check(&with("exp", Value::Null)),
            Err(IdTokenError::Malformed(_))
        ));
    }

    #[test]
    fn bad_signature() {
        let good = sign("k1", &claims(ISS, AUD, "nonce-1"));
        let parts: Vec<&str> = good.split('.').collect();
        // Swap in another payload, keep the signature.
        let mut other = claims(ISS, AUD, "nonce-1");
        other["sub"] = json!("1");
        let forged_payload = URL_SAFE_NO_PAD.encode(other.to_string());
        let forged = format!("{}.{}.{}", parts[0], forged_payload, parts[2]);
        assert_eq!(check(&forged).unwrap_err(), IdTokenError::BadSignature);
        // Flip a signature byte.
        let mut sig = URL_SAFE_NO_PAD.decode(parts[2]).unwrap();
        sig[10] ^= 1;
        let flipped = format!("{}.{}.{}", parts[0], parts[1], URL_SAFE_NO_PAD.encode(sig));
        assert_eq!(check(&flipped).unwrap_err(), IdTokenError::BadSignature);
    }

    #[test]
    fn alg_none_and_hs256_refused() {
        let payload = URL_SAFE_NO_PAD.encode(claims(ISS, AUD, "nonce-1").to_string());
        let none_header = URL_SAFE_NO_PAD.encode(r#"{"alg":"none","kid":"k1"}"#);
        let none = format!("{none_header}.{payload}.");
        assert_eq!(
            parse_header(&none).err(),
            Some(IdTokenError::UnsupportedAlg("none".into()))
        );
        assert!(check(&none).is_err());
        let mut h = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
        h.kid = Some("k1".into());
        // HS256 keyed with the public modulus: the classic key-confusion attack.
        let hs = jsonwebtoken::encode(
            &h,
            &claims(ISS, AUD, "nonce-1"),
            &jsonwebtoken::EncodingKey::from_secret(key().n.as_bytes()),
        )
        .unwrap();
        assert_eq!(
            parse_header(&hs).err(),
            Some(IdTokenError::UnsupportedAlg("HS256".into()))
        );
        assert!(check(&hs).is_err());
        assert!(matches!(
            parse_header("abc"),
            Err(IdTokenError::Malformed(_))
        ));
        let no_kid = format!(
            "{}.{payload}.sig",
            URL_SAFE_NO_PAD.encode(r#"{"alg":"RS256"}"#)
        );
        assert_eq!(parse_header(&no_kid).err(), Some(IdTokenError::UnknownKid));
    }

    async fn run(fake: &FakeHttp, cache: &JwksCache, token: &str) -> Result<IdTokenClaims, Error> {
        let n = nonce();
        verify(
            fake,
            &Endpoints::kakao(),
            cache,
            &Secret::new(token),
            &expected(&n),
        )
        .await
    }

    #[tokio::test]
    async fn jwks_cached_then_refetched_once_on_unknown_kid() {
        let fake = FakeHttp::new();
        let cache = JwksCache::default();
        fake.push_json(200, jwks(&["k1"]));
        let t1 = sign("k1", &claims(ISS, AUD, "nonce-1"));
        run(&fake, &cache, &t1).await.unwrap();
        run(&fake, &cache, &t1).await.unwrap();
        let reqs = fake.requests();
        assert_eq!(reqs.len(), 1, "cached");
        assert_eq!(
            reqs[0].url.as_str(),
            "https://kauth.kakao.com/.well-known/jwks.json"
        );
        assert_eq!(reqs[0].method, crate::kakao::http::Method::Get);

        // Rotation: k2 appears in the JWKS → one refetch, success.
        fake.push_json(200, jwks(&["k1", "k2"]));
        let t2 = sign("k2", &claims(ISS, AUD, "nonce-1"));
        run(&fake, &cache, &t2).await.unwrap();
        assert_eq!(fake.requests().len(), 2);

        // Unknown kid: one refetch, then fail.
        fake.push_json(200, jwks(&["k1", "k2"]));
        fake.push_json(200, jwks(&["k1", "k2"]));
        let t3 = sign("k3", &claims(ISS, AUD, "nonce-1"));
        let err = run(&fake, &cache, &t3).await.unwrap_err();
        assert!(
            matches!(err, Error::IdToken(IdTokenError::UnknownKid)),
            "{err:?}"
        );
        assert_eq!(err.kind(), "id_token_invalid");
        assert_eq!(fake.requests().len(), 3, "exactly one refetch");
        assert_eq!(fake.remaining(), 1);
        // The earlier keys still work from the cache.
        run(&fake, &cache, &t1).await.unwrap();
        assert_eq!(fake.requests().len(), 3);
    }

    #[tokio::test]
    async fn jwks_failures_are_typed() {
        let cache = JwksCache::default();
        let fake = FakeHttp::new();
        let t1 = sign("k1", &claims(ISS, AUD, "nonce-1"));
        // Network down → transient, not an ID-token verdict.
        let err = run(&fake, &cache, &t1).await.unwrap_err();
        assert_eq!(err.kind(), "network");
        fake.push(HttpResponse::new(200, b"not json".to_vec()));
        assert_eq!(
            run(&fake, &cache, &t1).await.unwrap_err().kind(),
            "malformed_response"
        );
        fake.push(HttpResponse::new(503, Vec::new()));
        assert_eq!(
            run(&fake, &cache, &t1).await.unwrap_err().kind(),
            "kakao_temporary"
        );
        assert!(cache.is_empty());
    }

    #[test]
    fn jwks_skips_foreign_keys() {
        let k = key();
        let body = json!({"keys": [
            {"kid":"ec","kty":"EC","crv":"P-256","x":"a","y":"b"},
            {"kid":"enc","kty":"RSA","use":"enc","n":k.n,"e":k.e},
            {"kid":"hs","kty":"RSA","alg":"HS256","n":k.n,"e":k.e},
            {"kid":"ok","kty":"RSA","n":k.n,"e":k.e}
        ]});
        let keys = parse_jwks(body.to_string().as_bytes()).unwrap();
        assert_eq!(keys.keys().collect::<Vec<_>>(), ["ok"]);
    }

    #[test]
    fn a_missing_or_garbled_signature_is_a_bad_signature() {
        let good = sign("k1", &claims(ISS, AUD, "nonce-1"));
        let (signed, _) = good.rsplit_once('.').unwrap();
        for sig in ["", "!!not-base64!!", "AAAA"] {
            assert_eq!(
                check(&format!("{signed}.{sig}")).unwrap_err(),
                IdTokenError::BadSignature,
                "signature {sig:?}"
            );
        }
    }

    #[test]
    fn a_short_rsa_key_is_refused_even_with_a_valid_signature() {
        use rsa::traits::PublicKeyParts;
        let small = rsa::RsaPrivateKey::new(&mut rand::rngs::OsRng, 1024).unwrap();
        // Signed with the rsa crate: jsonwebtoken itself won't sign with a key this small.
        let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"RS256","kid":"k1"}"#);
        let payload = URL_SAFE_NO_PAD.encode(claims(ISS, AUD, "nonce-1").to_string());
        let signed = format!("{header}.{payload}");
        let signer = rsa::pkcs1v15::SigningKey::<sha2::Sha256>::new(small.clone());
        let sig = rsa::signature::Signer::sign(&signer, signed.as_bytes());
        let token = format!(
            "{signed}.{}",
            URL_SAFE_NO_PAD.encode(rsa::signature::SignatureEncoding::to_vec(&sig))
        );
        let key = RsaKey::from_jwk(
            &URL_SAFE_NO_PAD.encode(small.n().to_bytes_be()),
            &URL_SAFE_NO_PAD.encode(small.e().to_bytes_be()),
        )
        .unwrap();
        let n = nonce();
        assert_eq!(
            verify_with_key(&token, &key, &expected(&n)).unwrap_err(),
            IdTokenError::BadSignature
        );
    }

    #[test]
    fn jwk_components_must_be_base64url() {
        assert!(RsaKey::from_jwk("", "AQAB").is_err());
        assert!(RsaKey::from_jwk("abc", "+/+/").is_err());
        let k = key();
        assert!(RsaKey::from_jwk(&format!("{}=", k.n), &k.e).is_ok());
    }
}
