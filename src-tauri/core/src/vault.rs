//! Tokens in the OS keychain (Secret Service on Linux, Keychain on macOS, Credential Manager on
//! Windows) through `keyring`, and nowhere else: there is no plaintext fallback.
//!
//! A session is two entries under one service name, because Windows Credential Manager holds at
//! most [`WINDOWS_MAX_UTF16`] UTF-16 units in one entry:
//! - account `session`: `{member_id, pair_id, access_token, access_expires_at, oidc, scopes,
//!   token_type, saved_at}` (times in Unix seconds)
//! - account `refresh`: `{member_id, pair_id, refresh_token, refresh_expires_at?}`
//!
//! Nothing in an entry grows with the member's profile: the ID token (which carries nickname,
//! picture URL and e-mail, REFERENCE §7) is checked when it arrives and only the fact that OIDC
//! is on is kept ([`StoredSession::oidc`]); the scope list is cut to [`SCOPES_BUDGET_UTF16`].
//! So with tokens of up to [`TOKEN_ALLOWANCE_UTF16`] characters (Kakao's are about 54,
//! REFERENCE §10) an entry stays under [`ENTRY_BUDGET_UTF16`], well below Windows' limit.
//!
//! The two are tied by member id and [`PairId`]: a refresh entry that does not match the session
//! entry is never used, and a new member's session deletes the old session entry before its
//! refresh token is written ([`Vault::replace`]).
//!
//! Every keychain call runs on the blocking pool with a timeout: Secret Service can sit on an
//! unlock prompt forever, and the UI must not.

use crate::clock::{Clock, SystemClock};
use crate::messages::vault as words;
use crate::secret::Secret;
use crate::text::Text;
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How long one keychain call may take before the vault gives up on it.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
/// The keychain account (entry name) of the access side of a session ([`StoredSession`]).
pub const SESSION_ACCOUNT: &str = "session";
/// The keychain account (entry name) of the refresh token ([`StoredRefresh`]).
pub const REFRESH_ACCOUNT: &str = "refresh";
/// The keychain account [`Vault::check_can_store`] writes and deletes again; it never holds a
/// token.
pub const WRITE_CHECK_ACCOUNT: &str = "write-check";

/// The most a Windows Credential Manager entry holds, in UTF-16 code units: the password is
/// stored as UTF-16 in a blob of at most `CRED_MAX_CREDENTIAL_BLOB_SIZE` = 5 × 512 bytes, and
/// `keyring` 3 refuses a longer one with `Error::TooLong("password encoded as UTF-16", 2560)`
/// (`keyring/src/windows.rs`, `validate_attributes`). [`MemoryStore::with_windows_limit`]
/// enforces the same rule on every platform.
pub const WINDOWS_MAX_UTF16: usize = 2560 / 2;
/// What this vault keeps every entry under, in UTF-16 code units, for any profile and tokens of
/// up to [`TOKEN_ALLOWANCE_UTF16`] characters: a margin below [`WINDOWS_MAX_UTF16`].
pub const ENTRY_BUDGET_UTF16: usize = 1000;
/// The longest access or refresh token the entry budget is planned for, in characters. Kakao
/// documents no maximum; its tokens are about 54 URL-safe characters (REFERENCE §10), so this
/// is nearly ten times that. A longer token still fits up to Windows' limit.
pub const TOKEN_ALLOWANCE_UTF16: usize = 512;
/// How much of the session entry the scope list may take, in UTF-16 code units of its JSON.
/// All of Kakao's documented scope ids (REFERENCE §5) take about 240; scopes beyond the budget
/// are not stored (`openid`, the one the session reads back, always is).
pub const SCOPES_BUDGET_UTF16: usize = 256;

// ---------------------------------------------------------------------------------------------
// The store seam
// ---------------------------------------------------------------------------------------------

/// A minimal synchronous keychain: one string per account under a fixed service. Errors are
/// this module's one [`Error`], already sorted into what the person can do about it; their
/// details are platform messages that never contain a stored value.
pub trait SecretStore: Send + Sync {
    /// The entry's text; `Ok(None)` when there is no such entry.
    fn get(&self, account: &str) -> Result<Option<String>, Error>;
    /// Creates or overwrites the entry.
    fn set(&self, account: &str, value: &str) -> Result<(), Error>;
    /// Removes the entry; deleting a missing entry is `Ok`.
    fn delete(&self, account: &str) -> Result<(), Error>;
}

/// The OS keychain through `keyring::Entry::new(service, account)`.
#[derive(Debug, Clone)]
pub struct KeyringStore {
    service: String,
}

impl KeyringStore {
    /// Entries under the keychain service name `service` (e.g. `kakao-signin`).
    pub fn new(service: impl Into<String>) -> Self {
        KeyringStore {
            service: service.into(),
        }
    }

    /// The keychain service name the entries live under.
    pub fn service(&self) -> &str {
        &self.service
    }

    fn entry(&self, account: &str) -> Result<keyring::Entry, Error> {
        keyring::Entry::new(&self.service, account).map_err(|e| map_keyring(e, account))
    }
}

impl SecretStore for KeyringStore {
    fn get(&self, account: &str) -> Result<Option<String>, Error> {
        match self.entry(account)?.get_password() {
            Ok(v) => Ok(Some(v)),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(map_keyring(e, account)),
        }
    }

    fn set(&self, account: &str, value: &str) -> Result<(), Error> {
        self.entry(account)?
            .set_password(value)
            .map_err(|e| map_keyring(e, account))
    }

    fn delete(&self, account: &str) -> Result<(), Error> {
        match self.entry(account)?.delete_credential() {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(e) => Err(map_keyring(e, account)),
        }
    }
}

/// Sorts `keyring`'s errors. The platform error types aren't ours to downcast to, so the
/// Secret Service cases are told apart by their (stable, English) messages.
fn map_keyring(e: keyring::Error, account: &str) -> Error {
    let failed = |detail: String| Error::Failed { detail };
    match e {
        keyring::Error::NoStorageAccess(inner) => {
            let detail = inner.to_string();
            if no_default_collection(&detail) {
                // No default collection (seen with a fresh gnome-keyring that never created its
                // login keyring): nothing to store into until one exists.
                Error::Unavailable { detail }
            } else {
                // Locked, or the unlock prompt was dismissed (macOS: access denied).
                Error::Locked { detail }
            }
        }
        keyring::Error::PlatformFailure(inner) => {
            let detail = inner.to_string();
            if is_unavailable(&detail) {
                Error::Unavailable { detail }
            } else if detail.contains("locked collection") || detail.contains("is locked") {
                // gnome-keyring: "Cannot create an item in a locked collection".
                Error::Locked { detail }
            } else {
                failed(detail)
            }
        }
        // The bytes are the stored value: never carry them on.
        keyring::Error::BadEncoding(_) => Error::Corrupt {
            account: account.to_owned(),
            detail: "the entry is not UTF-8 text".into(),
        },
        keyring::Error::TooLong(attr, limit) => failed(format!(
            "{attr} is longer than the keychain's limit of {limit}"
        )),
        keyring::Error::Invalid(attr, why) => failed(format!("{attr}: {why}")),
        keyring::Error::Ambiguous(found) => failed(format!(
            "{} keychain entries match; remove the extra ones",
            found.len()
        )),
        keyring::Error::NoEntry => failed("no such entry".into()),
        other => failed(other.to_string()),
    }
}

/// Secret Service's answer when it has no default collection (`map_keyring`).
fn no_default_collection(detail: &str) -> bool {
    detail.contains("no result found")
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
    /// [`SecretStore::get`].
    Get,
    /// [`SecretStore::set`].
    Set,
    /// [`SecretStore::delete`].
    Delete,
}

/// An in-memory store for tests, with injectable failures and latency. Never used outside
/// tests by this crate; nothing falls back to it.
#[derive(Debug, Default)]
pub struct MemoryStore {
    /// `Some(n)`: a value of more than `n` UTF-16 units is refused as Windows refuses it.
    max_utf16: Option<usize>,
    entries: Mutex<HashMap<String, String>>,
    /// Per operation, what the next calls do: `Some(error)` fails, `None` passes.
    failures: Mutex<HashMap<StoreOp, VecDeque<Option<Error>>>>,
    latency: Mutex<Duration>,
    log: Mutex<Vec<(StoreOp, String)>>,
}

impl MemoryStore {
    /// An empty store without failures or latency.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty store that refuses a value as Windows Credential Manager does through
    /// `keyring`: more than [`WINDOWS_MAX_UTF16`] UTF-16 code units is the same
    /// [`Error::Failed`] a [`KeyringStore`] returns on Windows, and nothing is stored.
    pub fn with_windows_limit() -> Self {
        MemoryStore {
            max_utf16: Some(WINDOWS_MAX_UTF16),
            ..Self::default()
        }
    }

    /// The next call of `op` fails with `err` (queued: call twice for two failures).
    pub fn fail_next(&self, op: StoreOp, err: Error) {
        lock(&self.failures)
            .entry(op)
            .or_default()
            .push_back(Some(err));
    }

    /// The next call of `op` succeeds; queued before a [`MemoryStore::fail_next`], it makes
    /// the second call fail (a crash between two writes).
    pub fn pass_next(&self, op: StoreOp) {
        lock(&self.failures).entry(op).or_default().push_back(None);
    }

    /// Every call sleeps this long first (to exercise the vault's timeout).
    pub fn set_latency(&self, latency: Duration) {
        *lock(&self.latency) = latency;
    }

    /// The raw stored text, to check the format or plant a corrupt entry.
    pub fn raw(&self, account: &str) -> Option<String> {
        lock(&self.entries).get(account).cloned()
    }

    /// Plants `value` as the raw text of `account`'s entry.
    pub fn put_raw(&self, account: &str, value: &str) {
        lock(&self.entries).insert(account.into(), value.into());
    }

    /// Every call so far, in order (failed ones included).
    pub fn log(&self) -> Vec<(StoreOp, String)> {
        lock(&self.log).clone()
    }

    fn enter(&self, op: StoreOp, account: &str) -> Result<(), Error> {
        lock(&self.log).push((op, account.into()));
        let latency = *lock(&self.latency);
        if !latency.is_zero() {
            std::thread::sleep(latency);
        }
        match lock(&self.failures)
            .get_mut(&op)
            .and_then(VecDeque::pop_front)
        {
            Some(Some(err)) => Err(err),
            Some(None) | None => Ok(()),
        }
    }
}

impl SecretStore for MemoryStore {
    fn get(&self, account: &str) -> Result<Option<String>, Error> {
        self.enter(StoreOp::Get, account)?;
        Ok(lock(&self.entries).get(account).cloned())
    }

    fn set(&self, account: &str, value: &str) -> Result<(), Error> {
        self.enter(StoreOp::Set, account)?;
        if let Some(max) = self.max_utf16 {
            // keyring's own check, with its own error (keyring/src/windows.rs).
            if value.encode_utf16().count() > max {
                let too_long =
                    keyring::Error::TooLong("password encoded as UTF-16".into(), (max * 2) as u32);
                return Err(map_keyring(too_long, account));
            }
        }
        lock(&self.entries).insert(account.into(), value.into());
        Ok(())
    }

    fn delete(&self, account: &str) -> Result<(), Error> {
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

/// The stable kind of a vault [`Error`], serialised as the snake_case string the window branches
/// on (`keychain_locked`, …).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ErrorKind {
    /// [`Error::Unavailable`].
    KeychainUnavailable,
    /// [`Error::Locked`].
    KeychainLocked,
    /// [`Error::Timeout`].
    KeychainTimeout,
    /// [`Error::Corrupt`].
    KeychainCorrupt,
    /// [`Error::Failed`].
    KeychainFailed,
}

impl ErrorKind {
    /// Every kind, for exhaustive tests.
    pub const ALL: [ErrorKind; 5] = [
        ErrorKind::KeychainUnavailable,
        ErrorKind::KeychainLocked,
        ErrorKind::KeychainTimeout,
        ErrorKind::KeychainCorrupt,
        ErrorKind::KeychainFailed,
    ];

    /// The wire string, equal to what serde writes.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::KeychainUnavailable => "keychain_unavailable",
            ErrorKind::KeychainLocked => "keychain_locked",
            ErrorKind::KeychainTimeout => "keychain_timeout",
            ErrorKind::KeychainCorrupt => "keychain_corrupt",
            ErrorKind::KeychainFailed => "keychain_failed",
        }
    }
}

wire_string_impls!(ErrorKind);

/// The vault's one error type, for the store seam and the vault alike. Details are platform
/// messages or parse positions; none ever holds a stored value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// No keychain at all (no D-Bus session, no Secret Service provider, no default collection).
    #[error("no keychain available: {detail}")]
    Unavailable {
        /// The platform's message.
        detail: String,
    },
    /// The keychain is locked and unlocking was refused or impossible.
    #[error("the keychain is locked: {detail}")]
    Locked {
        /// The platform's message.
        detail: String,
    },
    /// One keychain call took longer than the vault's timeout (an unanswered unlock prompt).
    #[error("the keychain did not answer within {after:?} ({op})")]
    Timeout {
        /// `read`, `write` or `delete`.
        op: &'static str,
        /// The timeout that ran out.
        after: Duration,
    },
    /// A stored entry can't be read or parsed. The caller decides (usually: sign in again, which
    /// overwrites it). `detail` says where, never what.
    #[error("the keychain entry '{account}' is unreadable: {detail}")]
    Corrupt {
        /// The entry's account name ([`SESSION_ACCOUNT`] or [`REFRESH_ACCOUNT`]).
        account: String,
        /// Where it broke (e.g. `not JSON at line 1 column 2`), never the text.
        detail: String,
    },
    /// Anything else the keychain reported.
    #[error("the keychain failed: {detail}")]
    Failed {
        /// The platform's message.
        detail: String,
    },
}

impl Error {
    /// What the window branches on.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::Unavailable { .. } => ErrorKind::KeychainUnavailable,
            Error::Locked { .. } => ErrorKind::KeychainLocked,
            Error::Timeout { .. } => ErrorKind::KeychainTimeout,
            Error::Corrupt { .. } => ErrorKind::KeychainCorrupt,
            Error::Failed { .. } => ErrorKind::KeychainFailed,
        }
    }

    /// The project's one definition, used by the vault and the session alike: every keychain
    /// failure but an unreadable entry may pass (an unlock, a daemon that starts, a slow
    /// prompt), so the tokens it may still hold are kept and the window offers Retry. Only
    /// [`Error::Corrupt`] says something about the stored tokens themselves.
    pub fn is_transient(&self) -> bool {
        !matches!(self, Error::Corrupt { .. })
    }

    /// There is no keychain to store tokens in until the person does something: none is
    /// running, it has no default collection, or it is locked and unlocking was refused or
    /// cannot be asked for. A [`Error::Timeout`] is not: an unlock prompt may be waiting.
    pub fn means_no_keychain(&self) -> bool {
        matches!(self, Error::Unavailable { .. } | Error::Locked { .. })
    }

    /// What happened, in both languages; never a stored value.
    pub fn message(&self) -> Text {
        match self {
            Error::Unavailable { detail } if no_default_collection(detail) => {
                words::no_default_collection()
            }
            Error::Unavailable { .. } => words::unavailable(),
            Error::Locked { .. } => words::locked(),
            Error::Timeout { after, .. } => words::timeout(after.as_secs().max(1)),
            Error::Corrupt { .. } => words::corrupt(),
            Error::Failed { detail } => words::failed(detail),
        }
    }

    /// What the person can do about it, for this platform.
    pub fn fix(&self) -> Option<Text> {
        match self {
            Error::Unavailable { detail } if no_default_collection(detail) => {
                Some(words::no_default_collection_fix())
            }
            Error::Unavailable { .. } => Some(words::unavailable_fix()),
            Error::Locked { .. } => Some(words::locked_fix()),
            Error::Timeout { .. } => Some(words::timeout_fix()),
            Error::Corrupt { .. } => Some(words::corrupt_fix()),
            Error::Failed { .. } => None,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The vault
// ---------------------------------------------------------------------------------------------

/// The access side of a signed-in session (keychain account [`SESSION_ACCOUNT`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredSession {
    /// Kakao's member id (회원번호) of the signed-in person.
    pub member_id: i64,
    /// Ties this entry to its [`StoredRefresh`]: see [`PairId`].
    pub pair_id: PairId,
    /// The OAuth access token (RFC 6749 §1.4).
    pub access_token: Secret,
    /// When the access token expires, Unix time in seconds.
    pub access_expires_at: i64,
    /// OpenID Connect is on for this session: Kakao issued an ID token with these tokens.
    /// Only this is kept of the ID token: it was verified when it arrived and nothing reads it
    /// after, while it grows with the profile (nickname, picture URL, e-mail; REFERENCE §7) past
    /// what a Windows Credential Manager entry holds ([`WINDOWS_MAX_UTF16`]).
    pub oidc: bool,
    /// The scopes (consent items) granted with the access token. The keychain keeps those that
    /// fit [`SCOPES_BUDGET_UTF16`], `openid` always.
    pub scopes: Vec<String>,
}

/// The refresh token, kept in its own entry (keychain account [`REFRESH_ACCOUNT`]) because
/// Windows caps the size of one entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredRefresh {
    /// The member the refresh token was issued for; must equal the session's.
    pub member_id: i64,
    /// Must equal the session entry's [`StoredSession::pair_id`].
    pub pair_id: PairId,
    /// The OAuth refresh token (RFC 6749 §1.5).
    pub refresh_token: Secret,
    /// When the refresh token expires by the lifetime Kakao stated (`refresh_token_expires_in`),
    /// Unix time in seconds on Kakao's clock; `None` when Kakao stated none. Informative only:
    /// only Kakao's answer ends a refresh token.
    pub refresh_expires_at: Option<i64>,
}

/// Ties a session entry and a refresh entry together. Chosen at random when a member's session
/// is first stored on this computer and kept while the same member stays signed in (refresh
/// rotation, additional consent, signing in again as the same member), so a crash between the
/// two writes of one member still leaves a usable pair. `0` marks entries written before pair
/// ids existed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(transparent)]
pub struct PairId(pub u64);

impl PairId {
    /// A fresh random pair id (never 0).
    pub fn generate() -> PairId {
        PairId(getrandom::u64().expect("the OS random number generator failed") | 1)
    }
}

// The wire format of the entries. Private, so only this file turns secrets into text.
#[derive(Serialize, Deserialize)]
struct SessionEntry {
    member_id: i64,
    #[serde(default)]
    pair_id: PairId,
    access_token: String,
    access_expires_at: i64,
    #[serde(default)]
    oidc: bool,
    /// Entries written before `oidc` held the whole ID token: read only to learn that OIDC was
    /// on (the token itself is skipped unread), never written.
    #[serde(default, skip_serializing)]
    id_token: Option<serde::de::IgnoredAny>,
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
    /// `None` only in entries written before pair ids existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    member_id: Option<i64>,
    #[serde(default)]
    pair_id: PairId,
    refresh_token: String,
    /// Absent when unknown; earlier versions always wrote one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    refresh_expires_at: Option<i64>,
}

/// Tokens in a [`SecretStore`]; cheap to clone, all methods async and off the calling thread.
#[derive(Clone)]
pub struct Vault {
    store: Arc<dyn SecretStore>,
    clock: Arc<dyn Clock>,
    timeout: Duration,
    /// A [`Vault::check_can_store`] passed and no call said "no keychain" since; shared by
    /// clones.
    can_store: Arc<AtomicBool>,
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

    /// Tokens in `store` (the OS keychain in the app; a [`MemoryStore`] in unit tests).
    pub fn new(store: Arc<dyn SecretStore>) -> Vault {
        Vault {
            store,
            clock: Arc::new(SystemClock),
            timeout: DEFAULT_TIMEOUT,
            can_store: Arc::new(AtomicBool::new(false)),
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
    /// A refresh entry of another member or another pair reads as "no refresh token": it can
    /// only be left from a sign-in that was interrupted between its two writes.
    ///
    /// Errors: [`Error::Corrupt`] for an entry that is not what this vault wrote; the store's
    /// errors otherwise.
    pub async fn load(&self) -> Result<Option<(StoredSession, Option<StoredRefresh>)>, Error> {
        let Some(raw) = self.get(SESSION_ACCOUNT).await? else {
            return Ok(None);
        };
        let s: SessionEntry = parse(&raw, SESSION_ACCOUNT)?;
        let session = StoredSession {
            member_id: s.member_id,
            pair_id: s.pair_id,
            access_token: Secret::new(s.access_token),
            access_expires_at: s.access_expires_at,
            oidc: s.oidc || s.id_token.is_some(),
            scopes: s.scopes,
        };
        let refresh = match self.get(REFRESH_ACCOUNT).await? {
            None => None,
            Some(raw) => {
                let r: RefreshEntry = parse(&raw, REFRESH_ACCOUNT)?;
                // Entries from before pair ids (no member id, pair 0 on both sides) still pair.
                let legacy = r.member_id.is_none() && r.pair_id == PairId(0);
                let paired = legacy && session.pair_id == PairId(0)
                    || (r.member_id == Some(session.member_id) && r.pair_id == session.pair_id);
                if paired {
                    Some(StoredRefresh {
                        member_id: session.member_id,
                        pair_id: session.pair_id,
                        refresh_token: Secret::new(r.refresh_token),
                        refresh_expires_at: r.refresh_expires_at,
                    })
                } else {
                    tracing::warn!(
                        "the keychain's refresh entry belongs to another sign-in; not using it"
                    );
                    None
                }
            }
        };
        Ok(Some((session, refresh)))
    }

    /// Writes the session entry.
    pub async fn save_session(&self, session: &StoredSession) -> Result<(), Error> {
        let entry = SessionEntry {
            member_id: session.member_id,
            pair_id: session.pair_id,
            access_token: session.access_token.expose().to_owned(),
            access_expires_at: session.access_expires_at,
            oidc: session.oidc,
            id_token: None,
            scopes: bounded_scopes(&session.scopes),
            token_type: bearer(),
            saved_at: self.clock.now_unix(),
        };
        self.set(SESSION_ACCOUNT, to_json(&entry)).await
    }

    /// Writes the refresh entry, stamped with its member and pair.
    pub async fn save_refresh(&self, refresh: &StoredRefresh) -> Result<(), Error> {
        let entry = RefreshEntry {
            member_id: Some(refresh.member_id),
            pair_id: refresh.pair_id,
            refresh_token: refresh.refresh_token.expose().to_owned(),
            refresh_expires_at: refresh.refresh_expires_at,
        };
        self.set(REFRESH_ACCOUNT, to_json(&entry)).await
    }

    /// Both entries of the same pair, refresh token first: if the second write fails, the
    /// keychain holds the newest refresh token (a rotated old one is already dead at Kakao)
    /// beside a session of the same pair, rather than losing it.
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

    /// A new pair replaces whatever is stored (another member signed in): the old session entry
    /// is deleted before the new refresh token is written, so a crash or a failure between the
    /// writes can never leave one member's refresh token beside another member's session.
    pub async fn replace(
        &self,
        session: &StoredSession,
        refresh: Option<&StoredRefresh>,
    ) -> Result<(), Error> {
        self.delete(SESSION_ACCOUNT).await?;
        if refresh.is_none() {
            self.delete(REFRESH_ACCOUNT).await?;
        }
        self.save(session, refresh).await
    }

    /// Deletes both entries; missing ones are fine. Tries both even if the first fails and
    /// reports the first failure.
    pub async fn clear(&self) -> Result<(), Error> {
        let refresh = self.delete(REFRESH_ACCOUNT).await;
        let session = self.delete(SESSION_ACCOUNT).await;
        refresh.and(session)
    }

    /// Whether tokens could be stored now, asked before a sign-in sends the person to Kakao, so
    /// that a keychain that cannot store (no default collection, locked with no way to prompt)
    /// is named before Kakao issues tokens rather than after. Writes a harmless entry under
    /// [`WRITE_CHECK_ACCOUNT`] and deletes it, each call bounded by the timeout. A pass is
    /// remembered by this vault and its clones (one write and one delete take about 35 ms on
    /// Secret Service in a release build) until a keychain call fails for a reason that may
    /// pass ([`Error::is_transient`]: not there, locked, no answer).
    ///
    /// Errors: the store's, e.g. [`Error::Unavailable`], [`Error::Locked`], [`Error::Timeout`].
    pub async fn check_can_store(&self) -> Result<(), Error> {
        if self.can_store.load(Ordering::Acquire) {
            return Ok(());
        }
        self.set(WRITE_CHECK_ACCOUNT, "write check".to_owned())
            .await?;
        self.delete(WRITE_CHECK_ACCOUNT).await?;
        self.can_store.store(true, Ordering::Release);
        Ok(())
    }

    async fn get(&self, account: &'static str) -> Result<Option<String>, Error> {
        self.run("read", move |s| s.get(account)).await
    }

    async fn set(&self, account: &'static str, value: String) -> Result<(), Error> {
        let units = value.encode_utf16().count();
        if units > ENTRY_BUDGET_UTF16 {
            // Only a token far longer than Kakao's can get here; Windows refuses past its limit.
            tracing::warn!(
                account,
                units,
                "a keychain entry is over the planned size (Windows holds {WINDOWS_MAX_UTF16})"
            );
        }
        self.run("write", move |s| s.set(account, &value)).await
    }

    async fn delete(&self, account: &'static str) -> Result<(), Error> {
        self.run("delete", move |s| s.delete(account)).await
    }

    /// One store call on the blocking pool, bounded by the timeout. A call that hangs (an
    /// unanswered unlock prompt) keeps its blocking thread, but the caller gets an answer.
    async fn run<T: Send + 'static>(
        &self,
        op: &'static str,
        f: impl FnOnce(&dyn SecretStore) -> Result<T, Error> + Send + 'static,
    ) -> Result<T, Error> {
        let store = self.store.clone();
        let task = tokio::task::spawn_blocking(move || f(&*store));
        let result = match tokio::time::timeout(self.timeout, task).await {
            Err(_) => Err(Error::Timeout {
                op,
                after: self.timeout,
            }),
            Ok(Err(join)) => Err(Error::Failed {
                detail: format!("the keychain call ({op}) failed: {join}"),
            }),
            Ok(Ok(r)) => r,
        };
        if result.as_ref().is_err_and(Error::is_transient) {
            // The keychain went away, was locked or stopped answering since the last write
            // check: the next sign-in checks again.
            self.can_store.store(false, Ordering::Release);
        }
        result
    }
}

/// The scopes the session entry keeps: in their order, each once, as many as fit
/// [`SCOPES_BUDGET_UTF16`] (measured as JSON, so any text counts at its real size); `openid`
/// first claims its place, since the session reads it back. A scope that does not fit is
/// skipped, a shorter one after it may still fit.
fn bounded_scopes(scopes: &[String]) -> Vec<String> {
    let cost =
        |s: &str| serde_json::to_string(s).map_or(usize::MAX, |j| j.encode_utf16().count() + 1);
    let mut used = 2; // the brackets
    let openid = scopes.iter().any(|s| s == "openid");
    if openid {
        used += cost("openid");
    }
    let mut kept: Vec<String> = Vec::new();
    let mut dropped = 0;
    for s in scopes {
        if kept.contains(s) {
            continue;
        }
        if s == "openid" {
            kept.push(s.clone());
            continue;
        }
        match used.checked_add(cost(s)) {
            Some(total) if total <= SCOPES_BUDGET_UTF16 => {
                used = total;
                kept.push(s.clone());
            }
            _ => dropped += 1,
        }
    }
    if dropped > 0 {
        tracing::warn!(
            dropped,
            "scopes past the keychain entry's budget were not stored"
        );
    }
    kept
}

fn to_json<T: Serialize>(v: &T) -> String {
    serde_json::to_string(v).expect("plain structs serialise")
}

/// serde_json's messages can quote the offending value (a token); report only where it broke.
fn parse<T: for<'de> Deserialize<'de>>(raw: &str, account: &'static str) -> Result<T, Error> {
    serde_json::from_str(raw).map_err(|e| Error::Corrupt {
        account: account.to_owned(),
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

    const MEMBER: i64 = 4_204_242_424_242;
    const PAIR: PairId = PairId(77);

    fn session() -> StoredSession {
        StoredSession {
            member_id: MEMBER,
            pair_id: PAIR,
            access_token: Secret::new("acc-TOKEN-aaaa"),
            access_expires_at: 1_700_021_599,
            oidc: true,
            scopes: vec!["openid".into(), "profile_nickname".into()],
        }
    }

    fn refresh() -> StoredRefresh {
        StoredRefresh {
            member_id: MEMBER,
            pair_id: PAIR,
            refresh_token: Secret::new("ref-TOKEN-rrrr"),
            refresh_expires_at: Some(1_705_000_000),
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
                "pair_id": 77,
                "access_token": "acc-TOKEN-aaaa",
                "access_expires_at": 1_700_021_599,
                "oidc": true,
                "scopes": ["openid", "profile_nickname"],
                "token_type": "bearer",
                "saved_at": 1_700_000_000,
            })
        );
        let r: serde_json::Value = serde_json::from_str(&store.raw("refresh").unwrap()).unwrap();
        assert_eq!(
            r,
            serde_json::json!({
                "member_id": 4_204_242_424_242_i64,
                "pair_id": 77,
                "refresh_token": "ref-TOKEN-rrrr",
                "refresh_expires_at": 1_705_000_000,
            })
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
        s.oidc = false;
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
            member_id: MEMBER,
            pair_id: PAIR,
            refresh_token: Secret::new("ref-ROTATED"),
            refresh_expires_at: Some(1_706_000_000),
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
        store.fail_next(
            StoreOp::Delete,
            Error::Locked {
                detail: "locked".into(),
            },
        );
        let e = v.clear().await.unwrap_err();
        assert_eq!(e.kind(), "keychain_locked");
        // The refresh delete failed, the session delete still ran.
        assert!(store.raw("refresh").is_some());
        assert!(store.raw("session").is_none());
    }

    #[tokio::test]
    async fn a_failed_refresh_write_does_not_write_the_session() {
        let (store, v) = vault();
        store.fail_next(
            StoreOp::Set,
            Error::Failed {
                detail: "boom".into(),
            },
        );
        let e = v.save(&session(), Some(&refresh())).await.unwrap_err();
        assert_eq!(e.kind(), "keychain_failed");
        assert!(store.raw("session").is_none());
    }

    #[tokio::test]
    async fn store_failures_map_to_kinds_with_fixes() {
        let (store, v) = vault();
        store.fail_next(
            StoreOp::Get,
            Error::Unavailable {
                detail: "no dbus".into(),
            },
        );
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

        store.fail_next(
            StoreOp::Set,
            Error::Locked {
                detail: "dismissed".into(),
            },
        );
        let e = v.save_session(&session()).await.unwrap_err();
        assert_eq!(e.kind(), "keychain_locked");
        assert!(e.fix().unwrap().en.contains("Unlock"));

        store.fail_next(
            StoreOp::Get,
            Error::Corrupt {
                account: "session".into(),
                detail: "not UTF-8".into(),
            },
        );
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
            Error::Corrupt { account, .. } => assert_eq!(account, REFRESH_ACCOUNT),
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

    #[tokio::test]
    async fn a_refresh_entry_of_another_member_or_pair_is_no_refresh_token() {
        let (store, v) = vault();
        v.save_session(&session()).await.unwrap();
        let mut other_member = refresh();
        other_member.member_id = 9;
        v.save_refresh(&other_member).await.unwrap();
        assert_eq!(v.load().await.unwrap(), Some((session(), None)));

        let mut other_pair = refresh();
        other_pair.pair_id = PairId(78);
        v.save_refresh(&other_pair).await.unwrap();
        assert_eq!(v.load().await.unwrap(), Some((session(), None)));

        // Entries written before pair ids: both sides without one still pair.
        store.put_raw(
            SESSION_ACCOUNT,
            r#"{"member_id":1,"access_token":"a","access_expires_at":5}"#,
        );
        store.put_raw(
            REFRESH_ACCOUNT,
            r#"{"refresh_token":"r","refresh_expires_at":6}"#,
        );
        let (s, r) = v.load().await.unwrap().unwrap();
        assert_eq!((s.member_id, s.pair_id), (1, PairId(0)));
        assert_eq!(r.unwrap().refresh_token.expose(), "r");
        // A legacy refresh entry beside a paired session does not pair.
        v.save_session(&session()).await.unwrap();
        assert_eq!(v.load().await.unwrap().unwrap().1, None);
    }

    #[tokio::test]
    async fn replace_deletes_the_old_session_before_writing_the_new_refresh_token() {
        let (store, v) = vault();
        v.save(&session(), Some(&refresh())).await.unwrap();
        let mut b = session();
        b.member_id = 5;
        b.pair_id = PairId(5);
        let mut rb = refresh();
        rb.member_id = 5;
        rb.pair_id = PairId(5);
        // The session write fails (as a crash would stop it): A's session is already gone, so
        // B's refresh token is never found beside A's session.
        store.pass_next(StoreOp::Set);
        store.fail_next(StoreOp::Set, Error::Failed { detail: "x".into() });
        v.replace(&b, Some(&rb)).await.unwrap_err();
        assert!(store.raw(SESSION_ACCOUNT).is_none());
        assert!(store
            .raw(REFRESH_ACCOUNT)
            .unwrap()
            .contains("\"member_id\":5"));
        assert_eq!(
            v.load().await.unwrap(),
            None,
            "a lone refresh entry is signed out"
        );
        v.replace(&b, Some(&rb)).await.unwrap();
        let ops: Vec<_> = store.log().into_iter().rev().take(3).collect();
        assert_eq!(
            ops,
            [
                (StoreOp::Set, SESSION_ACCOUNT.to_owned()),
                (StoreOp::Set, REFRESH_ACCOUNT.to_owned()),
                (StoreOp::Delete, SESSION_ACCOUNT.to_owned()),
            ]
        );
        assert_eq!(v.load().await.unwrap(), Some((b, Some(rb))));
    }

    /// The write check writes and deletes its own entry (never a token's), is remembered
    /// after a pass, and is asked again after a keychain call failed for a reason that may
    /// pass (not after an unreadable entry).
    #[tokio::test]
    async fn the_write_check_leaves_nothing_and_is_remembered_until_the_keychain_fails() {
        let (store, v) = vault();
        let calls = |store: &MemoryStore| store.log().len();
        v.check_can_store().await.unwrap();
        assert_eq!(
            store.log(),
            [
                (StoreOp::Set, WRITE_CHECK_ACCOUNT.to_owned()),
                (StoreOp::Delete, WRITE_CHECK_ACCOUNT.to_owned()),
            ]
        );
        assert!(store.raw(WRITE_CHECK_ACCOUNT).is_none());
        // Remembered, by clones too.
        v.clone().check_can_store().await.unwrap();
        assert_eq!(calls(&store), 2);

        // A corrupt entry says nothing about storing.
        store.put_raw(SESSION_ACCOUNT, "not json");
        v.load().await.unwrap_err();
        let before = calls(&store);
        v.check_can_store().await.unwrap();
        assert_eq!(calls(&store), before);

        // Locked since: the next check asks the keychain, and fails with it.
        store.fail_next(StoreOp::Delete, Error::Locked { detail: "x".into() });
        v.clear().await.unwrap_err();
        store.fail_next(StoreOp::Set, Error::Locked { detail: "x".into() });
        let e = v.check_can_store().await.unwrap_err();
        assert!(e.means_no_keychain(), "{e:?}");
        // A failed check is not remembered either.
        let before = calls(&store);
        v.check_can_store().await.unwrap();
        assert_eq!(calls(&store), before + 2);

        // No answer: the check times out rather than waiting for a prompt forever.
        let v = v.with_timeout(Duration::from_millis(20));
        store.fail_next(StoreOp::Delete, Error::Unavailable { detail: "x".into() });
        v.clear().await.unwrap_err();
        store.set_latency(Duration::from_millis(200));
        let e = v.check_can_store().await.unwrap_err();
        assert_eq!(e.kind(), "keychain_timeout");
        assert!(!e.means_no_keychain());
    }

    /// Secret Service without a default collection: its own words and fix, not "install one".
    #[test]
    fn no_default_collection_says_to_create_a_keyring() {
        let e = map_keyring(
            keyring::Error::NoStorageAccess("Secret Service: no result found".into()),
            SESSION_ACCOUNT,
        );
        assert_eq!(e.kind(), "keychain_unavailable");
        assert!(e.means_no_keychain());
        assert!(
            e.message().en.contains("no default keyring"),
            "{:?}",
            e.message()
        );
        let fix = e.fix().unwrap();
        assert!(fix.en.contains("make it the default"), "{fix:?}");
        assert!(fix.en.contains("gnome-keyring-daemon") && fix.ko.contains("gnome-keyring-daemon"));
        let other = Error::Unavailable {
            detail: "org.freedesktop.DBus.Error.ServiceUnknown".into(),
        };
        assert_ne!(other.message(), e.message());
    }

    #[test]
    fn kinds_serialise_as_their_wire_strings() {
        for k in ErrorKind::ALL {
            // A new variant must be listed in ALL: this match stops compiling otherwise.
            match k {
                ErrorKind::KeychainUnavailable
                | ErrorKind::KeychainLocked
                | ErrorKind::KeychainTimeout
                | ErrorKind::KeychainCorrupt
                | ErrorKind::KeychainFailed => {}
            }
            assert_eq!(serde_json::to_value(k).unwrap(), k.as_str());
        }
    }

    /// Every scope id Kakao documents (REFERENCE §5), `openid` included.
    const KAKAO_SCOPES: [&str; 18] = [
        "profile_nickname",
        "profile_image",
        "profile",
        "account_email",
        "name",
        "gender",
        "age_range",
        "birthday",
        "birthyear",
        "phone_number",
        "account_ci",
        "shipping_address",
        "openid",
        "friends",
        "talk_message",
        "talk_chats",
        "talk_calendar",
        "plusfriends",
    ];

    fn utf16(s: &str) -> usize {
        s.encode_utf16().count()
    }

    #[tokio::test]
    async fn the_windows_store_refuses_what_windows_refuses() {
        let store = MemoryStore::with_windows_limit();
        // UTF-16 units count, not bytes nor chars: 1280 Hangul syllables (3840 UTF-8 bytes) fit.
        let hangul = "가".repeat(WINDOWS_MAX_UTF16);
        store.set(SESSION_ACCOUNT, &hangul).unwrap();
        assert_eq!(store.raw(SESSION_ACCOUNT).as_deref(), Some(hangul.as_str()));
        let e = store
            .set(REFRESH_ACCOUNT, &format!("{hangul}a"))
            .unwrap_err();
        // The very error a KeyringStore returns on Windows.
        assert_eq!(
            e,
            map_keyring(
                keyring::Error::TooLong("password encoded as UTF-16".into(), 2560),
                REFRESH_ACCOUNT
            )
        );
        assert_eq!(e.kind(), "keychain_failed");
        assert!(store.raw(REFRESH_ACCOUNT).is_none());
        // A character outside the BMP takes two units: 640 fit, 641 do not.
        store.set(REFRESH_ACCOUNT, &"😀".repeat(640)).unwrap();
        store.set(REFRESH_ACCOUNT, &"😀".repeat(641)).unwrap_err();
        // The unlimited store keeps taking anything.
        MemoryStore::new()
            .set(SESSION_ACCOUNT, &"가".repeat(5000))
            .unwrap();
    }

    #[tokio::test]
    async fn every_entry_stays_under_the_budget_whatever_the_profile() {
        let store = Arc::new(MemoryStore::with_windows_limit());
        // The longest numbers JSON can hold in each field.
        let v = Vault::new(store.clone()).with_clock(Arc::new(ManualClock::new(i64::MIN)));
        let token = |c: &str| -> String { c.chars().cycle().take(TOKEN_ALLOWANCE_UTF16).collect() };
        // Every documented scope, and then far more than fit: long ids, non-ASCII, quotes
        // (JSON escapes them) and duplicates; `openid` comes last.
        let mut scopes: Vec<String> = KAKAO_SCOPES
            .iter()
            .filter(|s| **s != "openid")
            .map(|s| s.to_string())
            .collect();
        scopes.extend((0..200).map(|i| format!("custom_scope_{i}_{}", "x".repeat(40))));
        scopes.extend((0..50).map(|_| "동의항목\"\u{1}😀".repeat(10)));
        scopes.extend(KAKAO_SCOPES.iter().map(|s| s.to_string()));
        let session = StoredSession {
            member_id: i64::MIN,
            pair_id: PairId(u64::MAX),
            access_token: Secret::new(token("Az09-_")),
            access_expires_at: i64::MIN,
            oidc: true,
            scopes,
        };
        let refresh = StoredRefresh {
            member_id: i64::MIN,
            pair_id: PairId(u64::MAX),
            refresh_token: Secret::new(token("Az09-_")),
            refresh_expires_at: Some(i64::MIN),
        };
        v.save(&session, Some(&refresh)).await.unwrap();
        for account in [SESSION_ACCOUNT, REFRESH_ACCOUNT] {
            let raw = store.raw(account).unwrap();
            assert!(
                utf16(&raw) <= ENTRY_BUDGET_UTF16,
                "{account}: {} UTF-16 units",
                utf16(&raw)
            );
        }
        let (loaded, _) = v.load().await.unwrap().unwrap();
        assert!(loaded.oidc);
        // All of Kakao's documented scopes are kept, in order, once each.
        let mut want: Vec<String> = KAKAO_SCOPES
            .iter()
            .filter(|s| **s != "openid")
            .map(|s| s.to_string())
            .collect();
        assert_eq!(loaded.scopes[..want.len()], want[..]);
        want.push("openid".into());
        for s in &want {
            assert_eq!(loaded.scopes.iter().filter(|x| *x == s).count(), 1, "{s}");
        }
        assert!(!store.raw(SESSION_ACCOUNT).unwrap().contains("id_token"));
    }

    #[test]
    fn bounded_scopes_keep_openid_order_and_skip_only_what_does_not_fit() {
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert_eq!(
            bounded_scopes(&s(&[
                "profile_nickname",
                "openid",
                "account_email",
                "openid"
            ])),
            s(&["profile_nickname", "openid", "account_email"])
        );
        let huge = "x".repeat(SCOPES_BUDGET_UTF16);
        // Too long to fit: skipped, and the short ones after it still fit.
        assert_eq!(
            bounded_scopes(&s(&[&huge, "gender", "openid"])),
            s(&["gender", "openid"])
        );
        // Filling the budget never pushes `openid` out.
        let many: Vec<String> = (0..100).map(|i| format!("scope_{i:03}")).collect();
        let mut with_openid = many.clone();
        with_openid.push("openid".into());
        let kept = bounded_scopes(&with_openid);
        assert_eq!(kept.last().map(String::as_str), Some("openid"));
        let json = serde_json::to_string(&kept).unwrap();
        assert!(utf16(&json) <= SCOPES_BUDGET_UTF16, "{json}");
        assert!(kept.len() > 10 && kept.len() < with_openid.len());
        assert!(bounded_scopes(&[]).is_empty());
    }

    #[tokio::test]
    async fn entries_with_a_whole_id_token_still_load_and_are_written_without_it() {
        let (store, v) = vault();
        store.put_raw(
            SESSION_ACCOUNT,
            r#"{"member_id":1,"pair_id":3,"access_token":"a","access_expires_at":5,"id_token":"eyJ.payload-with-nickname.sig","scopes":["profile_nickname"],"token_type":"bearer","saved_at":2}"#,
        );
        let (s, _) = v.load().await.unwrap().unwrap();
        assert!(s.oidc, "an entry that held an ID token was an OIDC session");
        assert_eq!(s.scopes, ["profile_nickname"]);
        v.save_session(&s).await.unwrap();
        let raw = store.raw(SESSION_ACCOUNT).unwrap();
        assert!(
            !raw.contains("id_token") && !raw.contains("payload"),
            "{raw}"
        );
        assert_eq!(v.load().await.unwrap().unwrap().0, s);
        // Without an ID token (or with null) and without the flag: not OIDC.
        for old in [
            r#"{"member_id":1,"access_token":"a","access_expires_at":5}"#,
            r#"{"member_id":1,"access_token":"a","access_expires_at":5,"id_token":null}"#,
        ] {
            store.put_raw(SESSION_ACCOUNT, old);
            assert!(!v.load().await.unwrap().unwrap().0.oidc, "{old}");
        }
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
        let k = |e| map_keyring(e, "session").kind();
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
        let e = map_keyring(
            keyring::Error::BadEncoding(b"acc-TOKEN\xff".to_vec()),
            "session",
        );
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
