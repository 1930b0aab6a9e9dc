//! Tokens in the OS keychain (Secret Service on Linux, Keychain on macOS, Credential Manager on
//! Windows) through `keyring`, and nowhere else: there is no plaintext fallback.
//!
//! A session is two entries under one service name, because Windows caps an entry near 2.5 KB:
//! - account `session`: `{member_id, access_token, access_expires_at, id_token?, scopes,
//!   token_type, saved_at}`
//! - account `refresh`: `{refresh_token, refresh_expires_at}`
//!
//! Every keychain call runs on the blocking pool with a timeout: Secret Service can sit on an
//! unlock prompt forever, and the UI must not.

use crate::clock::{Clock, SystemClock};
use crate::secret::Secret;
use crate::text::Text;
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How long one keychain call may take before the vault gives up on it.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
/// Keychain account (entry) names under the service.
pub const SESSION_ACCOUNT: &str = "session";
pub const REFRESH_ACCOUNT: &str = "refresh";

// ---------------------------------------------------------------------------------------------
// The store seam
// ---------------------------------------------------------------------------------------------

/// What can go wrong in a store, already sorted into what the person can do about it. Details
/// are platform messages; they never contain a stored value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// No keychain at all (no D-Bus session, no Secret Service provider).
    #[error("no keychain available: {0}")]
    Unavailable(String),
    /// The keychain is locked and unlocking was refused or impossible.
    #[error("the keychain is locked: {0}")]
    Locked(String),
    /// The entry exists but can't be read as text.
    #[error("the keychain entry is unreadable: {0}")]
    Corrupt(String),
    #[error("the keychain failed: {0}")]
    Failed(String),
}

/// A minimal synchronous keychain: one string per account under a fixed service.
pub trait SecretStore: Send + Sync {
    /// `Ok(None)` when there is no such entry.
    fn get(&self, account: &str) -> Result<Option<String>, StoreError>;
    fn set(&self, account: &str, value: &str) -> Result<(), StoreError>;
    /// Deleting a missing entry is `Ok`.
    fn delete(&self, account: &str) -> Result<(), StoreError>;
}

/// The OS keychain through `keyring::Entry::new(service, account)`.
#[derive(Debug, Clone)]
pub struct KeyringStore {
    service: String,
}

impl KeyringStore {
    pub fn new(service: impl Into<String>) -> Self {
        KeyringStore {
            service: service.into(),
        }
    }

    pub fn service(&self) -> &str {
        &self.service
    }

    fn entry(&self, account: &str) -> Result<keyring::Entry, StoreError> {
        keyring::Entry::new(&self.service, account).map_err(map_keyring)
    }
}

impl SecretStore for KeyringStore {
    fn get(&self, account: &str) -> Result<Option<String>, StoreError> {
        match self.entry(account)?.get_password() {
            Ok(v) => Ok(Some(v)),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(map_keyring(e)),
        }
    }

    fn set(&self, account: &str, value: &str) -> Result<(), StoreError> {
        self.entry(account)?
            .set_password(value)
            .map_err(map_keyring)
    }

    fn delete(&self, account: &str) -> Result<(), StoreError> {
        match self.entry(account)?.delete_credential() {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(e) => Err(map_keyring(e)),
        }
    }
}

/// Sorts `keyring`'s errors. The platform error types aren't ours to downcast to, so the
/// Secret Service cases are told apart by their (stable, English) messages.
fn map_keyring(e: keyring::Error) -> StoreError {
    match e {
        keyring::Error::NoStorageAccess(inner) => {
            let msg = inner.to_string();
            if msg.contains("no result found") {
                // No default collection (seen with a fresh gnome-keyring that never created its
                // login keyring): nothing to store into until one exists.
                StoreError::Unavailable(msg)
            } else {
                // Locked, or the unlock prompt was dismissed (macOS: access denied).
                StoreError::Locked(msg)
            }
        }
        keyring::Error::PlatformFailure(inner) => {
            let msg = inner.to_string();
            if is_unavailable(&msg) {
                StoreError::Unavailable(msg)
            } else if msg.contains("locked collection") || msg.contains("is locked") {
                // gnome-keyring: "Cannot create an item in a locked collection".
                StoreError::Locked(msg)
            } else {
                StoreError::Failed(msg)
            }
        }
        // The bytes are the stored value: never carry them on.
        keyring::Error::BadEncoding(_) => StoreError::Corrupt("the entry is not UTF-8 text".into()),
        keyring::Error::TooLong(attr, limit) => StoreError::Failed(format!(
            "{attr} is longer than the keychain's limit of {limit}"
        )),
        keyring::Error::Invalid(attr, why) => StoreError::Failed(format!("{attr}: {why}")),
        keyring::Error::Ambiguous(found) => StoreError::Failed(format!(
            "{} keychain entries match; remove the extra ones",
            found.len()
        )),
        keyring::Error::NoEntry => StoreError::Failed("no such entry".into()),
        other => StoreError::Failed(other.to_string()),
    }
}

fn is_unavailable(msg: &str) -> bool {
    const SIGNS: &[&str] = &[
        "No DBus session or Secret Service provider found",
        "org.freedesktop.DBus.Error.ServiceUnknown",
        "was not provided by any .service files",
        "org.freedesktop.DBus.Error.NoServer",
        "org.freedesktop.DBus.Error.FileNotFound",
        "org.freedesktop.DBus.Error.NotSupported",
        "org.freedesktop.DBus.Error.Spawn",
        "Failed to connect to socket",
        "Unable to autolaunch",
        "DBUS_SESSION_BUS_ADDRESS",
    ];
    SIGNS.iter().any(|s| msg.contains(s))
}

/// Which store operation an injected failure is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StoreOp {
    Get,
    Set,
    Delete,
}

/// An in-memory store for tests, with injectable failures and latency. Never used outside
/// tests by this crate; nothing falls back to it.
#[derive(Debug, Default)]
pub struct MemoryStore {
    entries: Mutex<HashMap<String, String>>,
    failures: Mutex<HashMap<StoreOp, VecDeque<StoreError>>>,
    latency: Mutex<Duration>,
    log: Mutex<Vec<(StoreOp, String)>>,
}

impl MemoryStore {
    pub fn new() -> Self {
        Self::default()
    }

    /// The next call of `op` fails with `err` (queued: call twice for two failures).
    pub fn fail_next(&self, op: StoreOp, err: StoreError) {
        lock(&self.failures).entry(op).or_default().push_back(err);
    }

    /// Every call sleeps this long first (to exercise the vault's timeout).
    pub fn set_latency(&self, latency: Duration) {
        *lock(&self.latency) = latency;
    }

    /// The raw stored text, to check the format or plant a corrupt entry.
    pub fn raw(&self, account: &str) -> Option<String> {
        lock(&self.entries).get(account).cloned()
    }

    pub fn put_raw(&self, account: &str, value: &str) {
        lock(&self.entries).insert(account.into(), value.into());
    }

    /// Every call so far, in order (failed ones included).
    pub fn log(&self) -> Vec<(StoreOp, String)> {
        lock(&self.log).clone()
    }

    fn enter(&self, op: StoreOp, account: &str) -> Result<(), StoreError> {
        lock(&self.log).push((op, account.into()));
        let latency = *lock(&self.latency);
        if !latency.is_zero() {
            std::thread::sleep(latency);
        }
        match lock(&self.failures)
            .get_mut(&op)
            .and_then(VecDeque::pop_front)
        {
            Some(err) => Err(err),
            None => Ok(()),
        }
    }
}

impl SecretStore for MemoryStore {
    fn get(&self, account: &str) -> Result<Option<String>, StoreError> {
        self.enter(StoreOp::Get, account)?;
        Ok(lock(&self.entries).get(account).cloned())
    }

    fn set(&self, account: &str, value: &str) -> Result<(), StoreError> {
        self.enter(StoreOp::Set, account)?;
        lock(&self.entries).insert(account.into(), value.into());
        Ok(())
    }

    fn delete(&self, account: &str) -> Result<(), StoreError> {
        self.enter(StoreOp::Delete, account)?;
        lock(&self.entries).remove(account);
        Ok(())
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

// ---------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    #[error("no keychain available: {detail}")]
    Unavailable { detail: String },
    #[error("the keychain is locked: {detail}")]
    Locked { detail: String },
    #[error("the keychain did not answer within {after:?} ({op})")]
    Timeout { op: &'static str, after: Duration },
    /// A stored entry can't be parsed. The caller decides (usually: sign in again, which
    /// overwrites it). `detail` says where, never what.
    #[error("the keychain entry '{account}' is unreadable: {detail}")]
    Corrupt {
        account: &'static str,
        detail: String,
    },
    #[error("the keychain failed: {detail}")]
    Failed { detail: String },
}

impl Error {
    pub fn kind(&self) -> &'static str {
        match self {
            Error::Unavailable { .. } => "keychain_unavailable",
            Error::Locked { .. } => "keychain_locked",
            Error::Timeout { .. } => "keychain_timeout",
            Error::Corrupt { .. } => "keychain_corrupt",
            Error::Failed { .. } => "keychain_failed",
        }
    }

    /// A retry may work without changing anything installed: a timeout (an unlock prompt may be
    /// waiting) or a locked keychain (the person can unlock it). Unavailable, corrupt and other
    /// failures need a change first. No vault error says anything about the tokens themselves.
    pub fn is_transient(&self) -> bool {
        matches!(self, Error::Timeout { .. } | Error::Locked { .. })
    }

    pub fn message(&self) -> Text {
        match self {
            Error::Unavailable { .. } => Text::fixed(
                "운영체제의 키체인(비밀번호 저장소)을 사용할 수 없어 로그인 정보를 저장하거나 읽을 수 없습니다. 이 앱은 토큰을 일반 파일에 저장하지 않습니다.",
                "The operating system's keychain (secret store) is not available, so sign-in tokens can't be saved or read. This app never stores tokens in plain files.",
            ),
            Error::Locked { .. } => Text::fixed(
                "키체인이 잠겨 있고 잠금 해제가 거부되었습니다.",
                "The keychain is locked and unlocking was refused.",
            ),
            Error::Timeout { after, .. } => Text::owned(
                format!("키체인이 {}초 안에 응답하지 않았습니다.", after.as_secs().max(1)),
                format!("The keychain did not answer within {} s.", after.as_secs().max(1)),
            ),
            Error::Corrupt { .. } => Text::fixed(
                "키체인에 저장된 로그인 정보를 읽을 수 없습니다 (형식이 잘못됨).",
                "The sign-in data saved in the keychain is unreadable (bad format).",
            ),
            Error::Failed { detail } => Text::owned(
                format!("키체인 오류: {detail}"),
                format!("Keychain error: {detail}"),
            ),
        }
    }

    pub fn fix(&self) -> Option<Text> {
        match self {
            Error::Unavailable { .. } if cfg!(target_os = "macos") => Some(Text::fixed(
                "macOS 키체인 접근(Keychain Access)에서 로그인 키체인이 있는지 확인하세요.",
                "Check in Keychain Access that a login keychain exists.",
            )),
            Error::Unavailable { .. } if cfg!(windows) => Some(Text::fixed(
                "Windows 자격 증명 관리자(Credential Manager) 서비스가 실행 중인지 확인하세요.",
                "Check that the Windows Credential Manager service is running.",
            )),
            Error::Unavailable { .. } => Some(Text::fixed(
                "Secret Service 제공자(gnome-keyring 또는 KeePassXC, KWallet 등)를 설치하고 데스크톱 세션에서 실행하세요 (D-Bus 세션 버스가 필요합니다). 예: sudo apt install gnome-keyring, 그리고 로그인 키링을 만들거나 잠금 해제하세요 (예: \"암호 및 키\" 앱).",
                "Install and run a Secret Service provider (gnome-keyring, or KeePassXC, KWallet…) in your desktop session (it needs the D-Bus session bus), e.g. `sudo apt install gnome-keyring`, and create or unlock the login keyring (e.g. in \"Passwords and Keys\").",
            )),
            Error::Locked { .. } => Some(Text::fixed(
                "로그인 키링(키체인)을 잠금 해제한 뒤 다시 시도하세요. 잠금 해제 창이 뜨면 허용하세요.",
                "Unlock the login keyring (keychain) and try again; accept the unlock prompt if one appears.",
            )),
            Error::Timeout { .. } => Some(Text::fixed(
                "키체인 잠금 해제 창이 열려 있는지 확인하고, 잠금 해제한 뒤 다시 시도하세요.",
                "Look for a keychain unlock prompt, unlock it, and try again.",
            )),
            Error::Corrupt { .. } => Some(Text::fixed(
                "다시 로그인하면 읽을 수 없는 항목이 새로 저장됩니다.",
                "Sign in again; the unreadable entry will be replaced.",
            )),
            Error::Failed { .. } => None,
        }
    }

    fn from_store(e: StoreError, account: &'static str) -> Error {
        match e {
            StoreError::Unavailable(detail) => Error::Unavailable { detail },
            StoreError::Locked(detail) => Error::Locked { detail },
            StoreError::Corrupt(detail) => Error::Corrupt { account, detail },
            StoreError::Failed(detail) => Error::Failed { detail },
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The vault
// ---------------------------------------------------------------------------------------------

/// The access side of a signed-in session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredSession {
    pub member_id: i64,
    pub access_token: Secret,
    /// Unix seconds.
    pub access_expires_at: i64,
    pub id_token: Option<Secret>,
    pub scopes: Vec<String>,
}

/// The refresh token, kept in its own entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredRefresh {
    pub refresh_token: Secret,
    /// Unix seconds.
    pub refresh_expires_at: i64,
}

// The wire format of the entries. Private, so only this file turns secrets into text.
#[derive(Serialize, Deserialize)]
struct SessionEntry {
    member_id: i64,
    access_token: String,
    access_expires_at: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    id_token: Option<String>,
    #[serde(default)]
    scopes: Vec<String>,
    #[serde(default = "bearer")]
    token_type: String,
    #[serde(default)]
    saved_at: i64,
}

fn bearer() -> String {
    "bearer".into()
}

#[derive(Serialize, Deserialize)]
struct RefreshEntry {
    refresh_token: String,
    refresh_expires_at: i64,
}

/// Tokens in a [`SecretStore`]; cheap to clone, all methods async and off the calling thread.
#[derive(Clone)]
pub struct Vault {
    store: Arc<dyn SecretStore>,
    clock: Arc<dyn Clock>,
    timeout: Duration,
}

impl std::fmt::Debug for Vault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Vault")
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl Vault {
    /// The OS keychain under `service`.
    pub fn keyring(service: impl Into<String>) -> Vault {
        Vault::new(Arc::new(KeyringStore::new(service)))
    }

    pub fn new(store: Arc<dyn SecretStore>) -> Vault {
        Vault {
            store,
            clock: Arc::new(SystemClock),
            timeout: DEFAULT_TIMEOUT,
        }
    }

    /// Per-call timeout (default [`DEFAULT_TIMEOUT`]).
    pub fn with_timeout(mut self, timeout: Duration) -> Vault {
        self.timeout = timeout;
        self
    }

    /// The clock that stamps `saved_at`.
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Vault {
        self.clock = clock;
        self
    }

    /// The saved session and, if present, its refresh token. `None` when signed out (no
    /// `session` entry; a lone `refresh` entry is useless without it and reads as signed out).
    pub async fn load(&self) -> Result<Option<(StoredSession, Option<StoredRefresh>)>, Error> {
        let Some(raw) = self.get(SESSION_ACCOUNT).await? else {
            return Ok(None);
        };
        let s: SessionEntry = parse(&raw, SESSION_ACCOUNT)?;
        let session = StoredSession {
            member_id: s.member_id,
            access_token: Secret::new(s.access_token),
            access_expires_at: s.access_expires_at,
            id_token: s.id_token.map(Secret::new),
            scopes: s.scopes,
        };
        let refresh = match self.get(REFRESH_ACCOUNT).await? {
            None => None,
            Some(raw) => {
                let r: RefreshEntry = parse(&raw, REFRESH_ACCOUNT)?;
                Some(StoredRefresh {
                    refresh_token: Secret::new(r.refresh_token),
                    refresh_expires_at: r.refresh_expires_at,
                })
            }
        };
        Ok(Some((session, refresh)))
    }

    pub async fn save_session(&self, session: &StoredSession) -> Result<(), Error> {
        let entry = SessionEntry {
            member_id: session.member_id,
            access_token: session.access_token.expose().to_owned(),
            access_expires_at: session.access_expires_at,
            id_token: session.id_token.as_ref().map(|t| t.expose().to_owned()),
            scopes: session.scopes.clone(),
            token_type: bearer(),
            saved_at: self.clock.now_unix(),
        };
        self.set(SESSION_ACCOUNT, to_json(&entry)).await
    }

    pub async fn save_refresh(&self, refresh: &StoredRefresh) -> Result<(), Error> {
        let entry = RefreshEntry {
            refresh_token: refresh.refresh_token.expose().to_owned(),
            refresh_expires_at: refresh.refresh_expires_at,
        };
        self.set(REFRESH_ACCOUNT, to_json(&entry)).await
    }

    /// Both entries, refresh token first: if the second write fails, the keychain holds the
    /// newest refresh token (a rotated old one is already dead at Kakao) rather than losing it.
    pub async fn save(
        &self,
        session: &StoredSession,
        refresh: Option<&StoredRefresh>,
    ) -> Result<(), Error> {
        if let Some(r) = refresh {
            self.save_refresh(r).await?;
        }
        self.save_session(session).await
    }

    /// Deletes both entries; missing ones are fine. Tries both even if the first fails and
    /// reports the first failure.
    pub async fn clear(&self) -> Result<(), Error> {
        let refresh = self.delete(REFRESH_ACCOUNT).await;
        let session = self.delete(SESSION_ACCOUNT).await;
        refresh.and(session)
    }

    async fn get(&self, account: &'static str) -> Result<Option<String>, Error> {
        self.run("read", account, move |s| s.get(account)).await
    }

    async fn set(&self, account: &'static str, value: String) -> Result<(), Error> {
        self.run("write", account, move |s| s.set(account, &value))
            .await
    }

    async fn delete(&self, account: &'static str) -> Result<(), Error> {
        self.run("delete", account, move |s| s.delete(account))
            .await
    }

    /// One store call on the blocking pool, bounded by the timeout. A call that hangs (an
    /// unanswered unlock prompt) keeps its blocking thread, but the caller gets an answer.
    async fn run<T: Send + 'static>(
        &self,
        op: &'static str,
        account: &'static str,
        f: impl FnOnce(&dyn SecretStore) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, Error> {
        let store = self.store.clone();
        let task = tokio::task::spawn_blocking(move || f(&*store));
        match tokio::time::timeout(self.timeout, task).await {
            Err(_) => Err(Error::Timeout {
                op,
                after: self.timeout,
            }),
            Ok(Err(join)) => Err(Error::Failed {
                detail: format!("the keychain call ({op}) failed: {join}"),
            }),
            Ok(Ok(r)) => r.map_err(|e| Error::from_store(e, account)),
        }
    }
}

fn to_json<T: Serialize>(v: &T) -> String {
    serde_json::to_string(v).expect("plain structs serialise")
}

/// serde_json's messages can quote the offending value (a token); report only where it broke.
fn parse<T: for<'de> Deserialize<'de>>(raw: &str, account: &'static str) -> Result<T, Error> {
    serde_json::from_str(raw).map_err(|e| Error::Corrupt {
        account,
        detail: format!(
            "{} at line {} column {}",
            match e.classify() {
                serde_json::error::Category::Io => "read error",
                serde_json::error::Category::Syntax => "not JSON",
                serde_json::error::Category::Data => "unexpected fields or types",
                serde_json::error::Category::Eof => "truncated",
            },
            e.line(),
            e.column()
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;

    fn session() -> StoredSession {
        StoredSession {
            member_id: 4_204_242_424_242,
            access_token: Secret::new("acc-TOKEN-aaaa"),
            access_expires_at: 1_700_021_599,
            id_token: Some(Secret::new("eyJhbGciOiJSUzI1NiJ9.payload.sig")),
            scopes: vec!["openid".into(), "profile_nickname".into()],
        }
    }

    fn refresh() -> StoredRefresh {
        StoredRefresh {
            refresh_token: Secret::new("ref-TOKEN-rrrr"),
            refresh_expires_at: 1_705_000_000,
        }
    }

    fn vault() -> (Arc<MemoryStore>, Vault) {
        let store = Arc::new(MemoryStore::new());
        let v = Vault::new(store.clone()).with_clock(Arc::new(ManualClock::new(1_700_000_000)));
        (store, v)
    }

    #[tokio::test]
    async fn roundtrip_and_format() {
        let (store, v) = vault();
        assert!(v.load().await.unwrap().is_none());
        v.save(&session(), Some(&refresh())).await.unwrap();
        assert_eq!(v.load().await.unwrap(), Some((session(), Some(refresh()))));

        let s: serde_json::Value = serde_json::from_str(&store.raw("session").unwrap()).unwrap();
        assert_eq!(
            s,
            serde_json::json!({
                "member_id": 4_204_242_424_242_i64,
                "access_token": "acc-TOKEN-aaaa",
                "access_expires_at": 1_700_021_599,
                "id_token": "eyJhbGciOiJSUzI1NiJ9.payload.sig",
                "scopes": ["openid", "profile_nickname"],
                "token_type": "bearer",
                "saved_at": 1_700_000_000,
            })
        );
        let r: serde_json::Value = serde_json::from_str(&store.raw("refresh").unwrap()).unwrap();
        assert_eq!(
            r,
            serde_json::json!({"refresh_token": "ref-TOKEN-rrrr", "refresh_expires_at": 1_705_000_000})
        );
        // The refresh token is written before the session that uses the new access token.
        let sets: Vec<_> = store
            .log()
            .into_iter()
            .filter(|(op, _)| *op == StoreOp::Set)
            .map(|(_, a)| a)
            .collect();
        assert_eq!(sets, ["refresh", "session"]);
    }

    #[tokio::test]
    async fn session_without_refresh_and_lone_refresh() {
        let (_, v) = vault();
        let mut s = session();
        s.id_token = None;
        v.save_session(&s).await.unwrap();
        assert_eq!(v.load().await.unwrap(), Some((s, None)));

        let (_, v) = vault();
        v.save_refresh(&refresh()).await.unwrap();
        assert_eq!(v.load().await.unwrap(), None);
    }

    #[tokio::test]
    async fn rotation_overwrites_the_refresh_entry() {
        let (store, v) = vault();
        v.save(&session(), Some(&refresh())).await.unwrap();
        let rotated = StoredRefresh {
            refresh_token: Secret::new("ref-ROTATED"),
            refresh_expires_at: 1_706_000_000,
        };
        v.save_refresh(&rotated).await.unwrap();
        assert_eq!(v.load().await.unwrap().unwrap().1, Some(rotated));
        assert!(!store.raw("refresh").unwrap().contains("ref-TOKEN-rrrr"));
    }

    #[tokio::test]
    async fn clear_removes_both_and_tolerates_missing() {
        let (store, v) = vault();
        v.clear().await.unwrap();
        v.save(&session(), Some(&refresh())).await.unwrap();
        v.clear().await.unwrap();
        assert!(store.raw("session").is_none() && store.raw("refresh").is_none());
        assert!(v.load().await.unwrap().is_none());
    }

    #[tokio::test]
    async fn clear_tries_both_even_when_one_fails() {
        let (store, v) = vault();
        v.save(&session(), Some(&refresh())).await.unwrap();
        store.fail_next(StoreOp::Delete, StoreError::Locked("locked".into()));
        let e = v.clear().await.unwrap_err();
        assert_eq!(e.kind(), "keychain_locked");
        // The refresh delete failed, the session delete still ran.
        assert!(store.raw("refresh").is_some());
        assert!(store.raw("session").is_none());
    }

    #[tokio::test]
    async fn a_failed_refresh_write_does_not_write_the_session() {
        let (store, v) = vault();
        store.fail_next(StoreOp::Set, StoreError::Failed("boom".into()));
        let e = v.save(&session(), Some(&refresh())).await.unwrap_err();
        assert_eq!(e.kind(), "keychain_failed");
        assert!(store.raw("session").is_none());
    }

    #[tokio::test]
    async fn store_failures_map_to_kinds_with_fixes() {
        let (store, v) = vault();
        store.fail_next(StoreOp::Get, StoreError::Unavailable("no dbus".into()));
        let e = v.load().await.unwrap_err();
        assert_eq!(e.kind(), "keychain_unavailable");
        if cfg!(target_os = "linux") {
            let fix = e.fix().unwrap();
            assert!(fix.en.contains("gnome-keyring") && fix.en.contains("Secret Service"));
            assert!(fix.ko.contains("gnome-keyring"));
        }
        assert!(e
            .message()
            .en
            .contains("never stores tokens in plain files"));

        store.fail_next(StoreOp::Set, StoreError::Locked("dismissed".into()));
        let e = v.save_session(&session()).await.unwrap_err();
        assert_eq!(e.kind(), "keychain_locked");
        assert!(e.fix().unwrap().en.contains("Unlock"));

        store.fail_next(StoreOp::Get, StoreError::Corrupt("not UTF-8".into()));
        assert_eq!(v.load().await.unwrap_err().kind(), "keychain_corrupt");

        // No plaintext fallback: after failures nothing was stored anywhere.
        assert!(store.raw("session").is_none());
    }

    #[tokio::test]
    async fn unparsable_entries_are_corrupt_without_quoting_them() {
        let (store, v) = vault();
        store.put_raw("session", "{not json acc-TOKEN-zzz");
        let e = v.load().await.unwrap_err();
        assert_eq!(e.kind(), "keychain_corrupt");

        // A type mismatch: serde_json would quote the value; we must not.
        store.put_raw(
            "session",
            r#"{"member_id":"acc-TOKEN-zzz","access_token":"x","access_expires_at":1}"#,
        );
        let e = v.load().await.unwrap_err();
        assert_eq!(e.kind(), "keychain_corrupt");
        let shown = format!("{e} {e:?} {:?} {:?}", e.message(), e.fix());
        assert!(!shown.contains("acc-TOKEN-zzz"), "{shown}");
        assert!(shown.contains("session"));

        v.save_session(&session()).await.unwrap();
        store.put_raw("refresh", r#"{"refresh_token":5}"#);
        match v.load().await.unwrap_err() {
            Error::Corrupt { account, .. } => assert_eq!(account, "refresh"),
            other => panic!("{other:?}"),
        }
    }

    #[tokio::test]
    async fn a_hanging_keychain_times_out() {
        let (store, v) = vault();
        let v = v.with_timeout(Duration::from_millis(20));
        store.set_latency(Duration::from_millis(300));
        let started = std::time::Instant::now();
        let e = v.load().await.unwrap_err();
        assert_eq!(e.kind(), "keychain_timeout");
        assert!(started.elapsed() < Duration::from_millis(250));
        assert!(e.fix().unwrap().en.contains("unlock"));
    }

    #[test]
    fn debug_never_shows_tokens() {
        let shown = format!("{:?} {:?}", session(), refresh());
        assert!(!shown.contains("acc-TOKEN") && !shown.contains("ref-TOKEN"));
        assert!(!shown.contains("payload"));
    }

    #[test]
    fn keyring_errors_are_sorted() {
        let boxed = |s: &str| -> Box<dyn std::error::Error + Send + Sync> { s.to_owned().into() };
        let k = |e| Error::from_store(map_keyring(e), "session").kind();
        assert_eq!(
            k(keyring::Error::PlatformFailure(boxed(
                "No DBus session or Secret Service provider found"
            ))),
            "keychain_unavailable"
        );
        assert_eq!(
            k(keyring::Error::PlatformFailure(boxed(
                "DBus error: The name org.freedesktop.secrets was not provided by any .service files"
            ))),
            "keychain_unavailable"
        );
        assert_eq!(
            k(keyring::Error::NoStorageAccess(boxed(
                "Secret Service: unlock prompt was dismissed"
            ))),
            "keychain_locked"
        );
        assert_eq!(
            k(keyring::Error::NoStorageAccess(boxed(
                "Secret Service: object locked"
            ))),
            "keychain_locked"
        );
        assert_eq!(
            k(keyring::Error::PlatformFailure(boxed(
                "DBus error: Cannot create an item in a locked collection"
            ))),
            "keychain_locked"
        );
        assert_eq!(
            k(keyring::Error::NoStorageAccess(boxed(
                "Secret Service: no result found"
            ))),
            "keychain_unavailable"
        );
        assert_eq!(
            k(keyring::Error::BadEncoding(b"acc-TOKEN\xff".to_vec())),
            "keychain_corrupt"
        );
        let e = map_keyring(keyring::Error::BadEncoding(b"acc-TOKEN\xff".to_vec()));
        assert!(!format!("{e:?}").contains("acc-TOKEN"));
        assert_eq!(
            k(keyring::Error::PlatformFailure(boxed("something odd"))),
            "keychain_failed"
        );
        assert_eq!(
            k(keyring::Error::TooLong("password".into(), 2560)),
            "keychain_failed"
        );
    }
}
