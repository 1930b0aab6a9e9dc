//! ID token verification (REFERENCE §7): RS256 only, key by `kid` from the JWKS at
//! `<auth>/.well-known/jwks.json`, then `iss`, `aud`, `exp`, `iat`, `nonce`.
//!
//! The header and every claim are checked here, times against the [`Clock`]
//! seam; the signature is RSASSA-PKCS1-v1_5 with SHA-256 checked by ring (2048–8192-bit keys).
//! No general JWT library: one algorithm needs none, and none can be talked into another.

use super::endpoints::Endpoints;
use super::error::{Error, IdTokenError};
use super::http::{HttpClient, HttpRequest};
use super::pkce::{constant_time_eq, Nonce};
use crate::clock::{Clock, SystemClock};
use crate::secret::Secret;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use ring::signature::{RsaPublicKeyComponents, RSA_PKCS1_2048_8192_SHA256};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
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

/// How long a fetched JWKS is used before it is fetched again, in seconds (24 h). Kakao asks
/// clients to cache its keys and warns that fetching them too often may be blocked
/// (REFERENCE §7); a key it rotates in before then is fetched on its unknown `kid`.
pub const JWKS_MAX_AGE_SECS: i64 = 24 * 3600;

/// An ID token whose `kid` is not in a fresh JWKS causes a refetch at most this often (seconds
/// since the last such refetch), so tokens with made-up `kid`s can't hammer Kakao's JWKS; the
/// first one after a regular fetch goes at once (Kakao may just have rotated its key).
pub const JWKS_REFETCH_MIN_SECS: i64 = 60;

/// Largest cache file read back (bytes); Kakao's JWKS is about 1 KB.
const JWKS_FILE_MAX_BYTES: u64 = 256 * 1024;

/// JWKS keys by `kid`, with when they were fetched; shared by clones of the client.
///
/// With a file ([`JwksCache::new`]) the JWKS is also kept across runs: public keys, nothing
/// secret, written 0600 with its fetch time as `{"fetched_at", "expires_at", "jwks"}` (Unix
/// seconds, this computer's clock). The file is outside input: one that can't be read or parsed,
/// or expired, is ignored with a log line and the JWKS fetched again.
#[derive(Clone)]
pub struct JwksCache {
    held: Arc<Mutex<Held>>,
    file: Option<Arc<PathBuf>>,
    clock: Arc<dyn Clock>,
}

#[derive(Default)]
struct Held {
    keys: HashMap<String, RsaKey>,
    /// Unix seconds (this computer's clock) of the fetch the keys came from; `None`: never.
    fetched_at: Option<i64>,
    /// Unix seconds of the last fetch made for an unknown `kid`.
    refetched_at: Option<i64>,
    /// The file has been read (once per process).
    file_read: bool,
}

impl Default for JwksCache {
    /// In memory only, on the system clock.
    fn default() -> Self {
        JwksCache::new(Arc::new(SystemClock), None)
    }
}

impl std::fmt::Debug for JwksCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let n = self.lock().keys.len();
        f.debug_struct("JwksCache")
            .field("keys", &n)
            .field("file", &self.file)
            .finish()
    }
}

/// The cache file's shape.
#[derive(Serialize, Deserialize)]
struct CacheFile {
    fetched_at: i64,
    expires_at: i64,
    jwks: Value,
}

impl JwksCache {
    /// A cache judged on `clock` (this computer's), kept in `file` across runs when given
    /// (read at the first verification, written after every fetch).
    pub fn new(clock: Arc<dyn Clock>, file: Option<PathBuf>) -> JwksCache {
        JwksCache {
            held: Arc::new(Mutex::new(Held::default())),
            file: file.map(Arc::new),
            clock,
        }
    }

    /// The same clock, keeping the keys in `file` across runs (a new, empty cache).
    pub fn with_file(&self, file: PathBuf) -> JwksCache {
        JwksCache::new(self.clock.clone(), Some(file))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Held> {
        // Nothing in the guarded block can panic half-way; a poisoned lock still holds keys.
        self.held.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The key for `kid` from a JWKS fetched less than [`JWKS_MAX_AGE_SECS`] ago.
    fn fresh(&self, kid: &str) -> Option<RsaKey> {
        self.read_file_once();
        let now = self.clock.now_unix();
        let held = self.lock();
        held.fetched_at
            .filter(|&at| is_fresh(at, now))
            .and_then(|_| held.keys.get(kid).cloned())
    }

    /// Whether the keys are missing or expired: a fetch is due whatever the `kid`.
    pub fn needs_fetch(&self) -> bool {
        self.read_file_once();
        let now = self.clock.now_unix();
        let held = self.lock();
        !held.fetched_at.is_some_and(|at| is_fresh(at, now)) || held.keys.is_empty()
    }

    /// Whether a fetch for an unknown `kid` is allowed now ([`JWKS_REFETCH_MIN_SECS`]).
    fn may_refetch(&self) -> bool {
        let now = self.clock.now_unix();
        self.lock()
            .refetched_at
            .is_none_or(|at| now.saturating_sub(at) >= JWKS_REFETCH_MIN_SECS || at > now)
    }

    /// Fetches the JWKS, holds its keys and writes the file. `for_unknown_kid`: a refetch,
    /// counted against [`JWKS_REFETCH_MIN_SECS`] (whether or not it succeeds).
    async fn fetch(
        &self,
        http: &dyn HttpClient,
        endpoints: &Endpoints,
        for_unknown_kid: bool,
    ) -> Result<(), Error> {
        if for_unknown_kid {
            self.lock().refetched_at = Some(self.clock.now_unix());
        }
        let (keys, raw) = fetch_jwks(http, endpoints).await?;
        let now = self.clock.now_unix();
        {
            let mut held = self.lock();
            held.keys = keys;
            held.fetched_at = Some(now);
        }
        self.write_file(now, raw);
        Ok(())
    }

    fn read_file_once(&self) {
        let Some(path) = &self.file else { return };
        {
            let mut held = self.lock();
            if held.file_read {
                return;
            }
            held.file_read = true;
        }
        let read = match read_cache_file(path) {
            Ok(Some(c)) => c,
            Ok(None) => return,
            Err(why) => {
                tracing::warn!(path = %path.display(), "ignoring the cached JWKS: {why}");
                return;
            }
        };
        let now = self.clock.now_unix();
        if !is_fresh(read.0, now) {
            tracing::info!("the cached JWKS has expired; it will be fetched again");
            return;
        }
        let mut held = self.lock();
        // A fetch in this run is newer than the file.
        if held.fetched_at.is_none() {
            held.keys = read.1;
            held.fetched_at = Some(read.0);
        }
    }

    fn write_file(&self, now: i64, jwks: Value) {
        let Some(path) = &self.file else { return };
        let file = CacheFile {
            fetched_at: now,
            expires_at: now.saturating_add(JWKS_MAX_AGE_SECS),
            jwks,
        };
        if let Err(e) = write_private(path, &serde_json::to_vec(&file).unwrap_or_default()) {
            // Only costs a fetch in the next run.
            tracing::warn!(path = %path.display(), "could not write the JWKS cache: {e}");
        }
    }

    /// `true` before the first JWKS fetch, or when the JWKS held no usable RS256 key.
    pub fn is_empty(&self) -> bool {
        self.lock().keys.is_empty()
    }
}

/// Fetched at `at` and still within [`JWKS_MAX_AGE_SECS`] at `now`; a fetch time in the future
/// (the clock was set back) is not trusted.
fn is_fresh(at: i64, now: i64) -> bool {
    at <= now.saturating_add(JWKS_REFETCH_MIN_SECS) && now < at.saturating_add(JWKS_MAX_AGE_SECS)
}

/// Keys by `kid`.
type Keys = HashMap<String, RsaKey>;

/// The cache file's fetch time and keys; `Ok(None)` when there is no file.
fn read_cache_file(path: &Path) -> Result<Option<(i64, Keys)>, String> {
    use std::io::Read;
    let f = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e.to_string()),
    };
    let mut bytes = Vec::new();
    f.take(JWKS_FILE_MAX_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| e.to_string())?;
    if bytes.len() as u64 > JWKS_FILE_MAX_BYTES {
        return Err(format!("larger than {JWKS_FILE_MAX_BYTES} bytes"));
    }
    let file: CacheFile = serde_json::from_slice(&bytes).map_err(|e| e.to_string())?;
    let body = serde_json::to_vec(&file.jwks).map_err(|e| e.to_string())?;
    let keys = parse_jwks(&body)?;
    if keys.is_empty() {
        return Err("no usable RS256 key".into());
    }
    Ok(Some((file.fetched_at, keys)))
}

/// Writes `bytes` to `path` through a temporary file renamed over it (never half a file), the
/// file readable by this user only (0600 on Unix), creating the directory (0700) when needed.
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    if let Some(dir) = path.parent() {
        let mut b = std::fs::DirBuilder::new();
        b.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut b, 0o700);
        b.create(dir)?;
    }
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut o, 0o600);
    let written = o.open(&tmp).and_then(|mut f| f.write_all(bytes));
    if let Err(e) = written.and_then(|()| std::fs::rename(&tmp, path)) {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    Ok(())
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

/// The keys, and the JWKS as JSON for the cache file.
async fn fetch_jwks(
    http: &dyn HttpClient,
    endpoints: &Endpoints,
) -> Result<(HashMap<String, RsaKey>, Value), Error> {
    let response = http.send(HttpRequest::get(endpoints.jwks())).await?;
    if !response.is_success() {
        return Err(Error::Status {
            status: response.status,
        });
    }
    let keys = parse_jwks(&response.body).map_err(|e| Error::decode(response.status, e))?;
    let raw =
        serde_json::from_slice(&response.body).map_err(|e| Error::decode(response.status, e))?;
    Ok((keys, raw))
}

/// Fetches the JWKS unless a fresh one is held (in memory or in the cache file), so that the
/// next ID token check needs no round trip: called while the person is still at Kakao.
pub async fn prefetch(
    http: &dyn HttpClient,
    endpoints: &Endpoints,
    cache: &JwksCache,
) -> Result<(), Error> {
    if cache.needs_fetch() {
        cache.fetch(http, endpoints, false).await?;
    }
    Ok(())
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

/// Full verification: header, key from the cached JWKS (fetched when missing or older than
/// [`JWKS_MAX_AGE_SECS`], refetched when the `kid` is unknown unless such a refetch happened
/// less than [`JWKS_REFETCH_MIN_SECS`] ago, then [`IdTokenError::UnknownKid`]), signature,
/// claims.
pub async fn verify(
    http: &dyn HttpClient,
    endpoints: &Endpoints,
    cache: &JwksCache,
    token: &Secret,
    expected: &Expected<'_>,
) -> Result<IdTokenClaims, Error> {
    let token = token.expose();
    let header = parse_header(token)?;
    let key = match cache.fresh(&header.kid) {
        Some(key) => key,
        None => {
            // Kakao rotates keys: one fetch, no more, and none for a kid it was asked about
            // within the last minute, so bad kids can't make us hammer the JWKS.
            let refetch = !cache.needs_fetch();
            if refetch && !cache.may_refetch() {
                return Err(IdTokenError::UnknownKid.into());
            }
            cache.fetch(http, endpoints, refetch).await?;
            cache.fresh(&header.kid).ok_or(IdTokenError::UnknownKid)?
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
    use crate::clock::ManualClock;
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

    fn cache_at(clock: &ManualClock, file: Option<PathBuf>) -> JwksCache {
        JwksCache::new(Arc::new(clock.clone()), file)
    }

    fn temp_file(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "kakao-signin-jwks-{name}-{}-{}",
            std::process::id(),
            rand::random::<u32>()
        ));
        dir.join("data").join("jwks.json")
    }

    #[tokio::test]
    async fn jwks_cached_then_refetched_once_on_unknown_kid() {
        let fake = FakeHttp::new();
        let clock = ManualClock::new(NOW);
        let cache = cache_at(&clock, None);
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

        // Rotation: k2 appears in the JWKS → one refetch at once, success.
        fake.push_json(200, jwks(&["k1", "k2"]));
        let t2 = sign("k2", &claims(ISS, AUD, "nonce-1"));
        run(&fake, &cache, &t2).await.unwrap();
        assert_eq!(fake.requests().len(), 2);

        // Unknown kid a minute later: one refetch, then fail.
        clock.advance(JWKS_REFETCH_MIN_SECS);
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
        // Within the minute, more unknown kids fetch nothing.
        clock.advance(JWKS_REFETCH_MIN_SECS - 1);
        for _ in 0..5 {
            run(&fake, &cache, &t3).await.unwrap_err();
        }
        assert_eq!(
            fake.requests().len(),
            3,
            "rate-limited: at most one refetch a minute"
        );
        // The earlier keys still work from the cache.
        run(&fake, &cache, &t1).await.unwrap();
        assert_eq!(fake.requests().len(), 3);
        // After the minute, one more.
        clock.advance(1);
        run(&fake, &cache, &t3).await.unwrap_err();
        assert_eq!(fake.requests().len(), 4);
    }

    #[tokio::test]
    async fn jwks_kept_on_disk_across_runs_until_it_expires() {
        let file = temp_file("runs");
        let fake = FakeHttp::new();
        let clock = ManualClock::new(NOW);
        let t1 = sign("k1", &claims(ISS, AUD, "nonce-1"));
        fake.push_json(200, jwks(&["k1"]));
        run(&fake, &cache_at(&clock, Some(file.clone())), &t1)
            .await
            .unwrap();
        assert_eq!(fake.requests().len(), 1);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&file).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600, "{mode:o}");
        }
        let on_disk: Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
        assert_eq!(on_disk["fetched_at"], NOW);
        assert_eq!(on_disk["expires_at"], NOW + JWKS_MAX_AGE_SECS);

        // The next run: a new cache over the same file checks without a fetch, and prefetch
        // has nothing to do.
        clock.advance(JWKS_MAX_AGE_SECS - 1);
        let next = cache_at(&clock, Some(file.clone()));
        assert!(!next.needs_fetch());
        prefetch(&fake, &Endpoints::kakao(), &next).await.unwrap();
        run(&fake, &next, &t1).await.unwrap();
        assert_eq!(fake.requests().len(), 1, "no fetch after a restart");

        // A day after the fetch it has expired: fetched again (and written again).
        clock.advance(1);
        let later = cache_at(&clock, Some(file.clone()));
        assert!(later.needs_fetch());
        fake.push_json(200, jwks(&["k1"]));
        prefetch(&fake, &Endpoints::kakao(), &later).await.unwrap();
        assert_eq!(fake.requests().len(), 2);
        run(&fake, &later, &t1).await.unwrap();
        assert_eq!(fake.requests().len(), 2);
        let on_disk: Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
        assert_eq!(on_disk["fetched_at"], NOW + JWKS_MAX_AGE_SECS);
        let _ = std::fs::remove_dir_all(file.parent().unwrap().parent().unwrap());
    }

    #[tokio::test]
    async fn a_corrupt_or_foreign_cache_file_is_ignored_and_replaced() {
        let k = key();
        let fresh = |jwks_value: Value| {
            json!({"fetched_at": NOW, "expires_at": NOW + 10, "jwks": jwks_value}).to_string()
        };
        for (what, body) in [
            ("not json", "{\"fetched_at\": 17".to_owned()),
            (
                "binary",
                String::from_utf8_lossy(&[0xff, 0xfe, 0, 1]).into_owned(),
            ),
            ("wrong shape", json!({"keys": []}).to_string()),
            (
                "no usable key",
                fresh(json!({"keys": [{"kid":"k1","kty":"EC"}]})),
            ),
            (
                "fetched in the future",
                json!({
                    "fetched_at": NOW + 3600, "expires_at": NOW + 90000,
                    "jwks": {"keys": [{"kid":"k1","kty":"RSA","n":k.n,"e":k.e}]}
                })
                .to_string(),
            ),
            (
                "huge",
                format!("{{\"pad\":\"{}\"}}", "a".repeat(300 * 1024)),
            ),
        ] {
            let file = temp_file("corrupt");
            std::fs::create_dir_all(file.parent().unwrap()).unwrap();
            std::fs::write(&file, body).unwrap();
            let fake = FakeHttp::new();
            let clock = ManualClock::new(NOW);
            let cache = cache_at(&clock, Some(file.clone()));
            assert!(cache.needs_fetch(), "{what}");
            fake.push_json(200, jwks(&["k1"]));
            let t1 = sign("k1", &claims(ISS, AUD, "nonce-1"));
            run(&fake, &cache, &t1).await.unwrap();
            assert_eq!(fake.requests().len(), 1, "{what}: fetched instead");
            let rewritten: Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
            assert_eq!(rewritten["fetched_at"], NOW, "{what}: replaced");
            let _ = std::fs::remove_dir_all(file.parent().unwrap().parent().unwrap());
        }
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
