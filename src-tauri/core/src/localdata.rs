//! Values the person typed in themselves (S09, S14, S15): kept on this machine only, keyed by the
//! Kakao member id, marked as entered by the user, deleted on unlink and, when the person says
//! so, on logout. Not secrets, but personal: one JSON file per member under the data directory,
//! never a token.
//!
//! On Unix only the person's own user can read them: the `users` folder is 0700 and each file
//! 0600, also when an older version left them 0755/0644 ([`LocalData::tighten`], at start).
//! Each write is a temporary file created exclusively with mode 0600, written, synced and
//! renamed over the old one, then the folder is synced: a crash leaves the old file or the new
//! one, never half of one, and no other user ever sees the file with wider rights.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// A value the person typed in for a field Kakao has no value for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnteredValue {
    /// The text as typed (at most 200 characters).
    pub value: String,
    /// Unix seconds.
    pub entered_at: i64,
}

/// Reading, writing or deleting a member's file failed: `could not <action> <path>: <io error>`.
#[derive(Debug, thiserror::Error)]
#[error("could not {action} {path}: {source}")]
pub struct LocalDataError {
    action: &'static str,
    path: String,
    #[source]
    source: std::io::Error,
}

/// What went wrong with local data, for the session to wrap and the window to branch on.
///
/// Serialised (and [`ErrorKind::as_str`]) as a stable snake_case id. Production code matches
/// on the variants; the `PartialEq<&str>` impl exists so tests can compare with the id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ErrorKind {
    /// Reading, writing or deleting a member's file failed (`local_data_failed`).
    LocalDataFailed,
}

impl ErrorKind {
    /// Every kind, in declaration order.
    pub const ALL: &'static [ErrorKind] = &[ErrorKind::LocalDataFailed];

    /// The stable snake_case id, the same string serde writes.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::LocalDataFailed => "local_data_failed",
        }
    }
}

wire_string_impls!(ErrorKind);

impl LocalDataError {
    /// Always [`ErrorKind::LocalDataFailed`]; the `Display` says which action on which file.
    pub fn kind(&self) -> ErrorKind {
        ErrorKind::LocalDataFailed
    }
}

/// Fields a person may fill in when Kakao has no value for them.
pub const ENTERABLE_FIELDS: [&str; 6] = [
    "email",
    "phone_number",
    "name",
    "birthday",
    "birthyear",
    "gender",
];

/// The values typed in, one JSON file per member id under the data directory.
#[derive(Debug, Clone)]
pub struct LocalData {
    dir: PathBuf,
}

impl LocalData {
    /// Values kept under `data_dir` (created when the first value is saved).
    pub fn new(data_dir: &Path) -> Self {
        LocalData {
            dir: data_dir.join("users"),
        }
    }

    fn file(&self, member_id: i64) -> PathBuf {
        self.dir.join(format!("{member_id}.json"))
    }

    /// Every value `member_id` typed in, by field id; empty when there are none.
    ///
    /// Errors: the file exists but cannot be read or parsed.
    pub fn load(&self, member_id: i64) -> Result<BTreeMap<String, EnteredValue>, LocalDataError> {
        let path = self.file(member_id);
        match std::fs::read(&path) {
            Ok(bytes) => Ok(serde_json::from_slice(&bytes).unwrap_or_default()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(BTreeMap::new()),
            Err(source) => Err(LocalDataError {
                action: "read",
                path: path.display().to_string(),
                source,
            }),
        }
    }

    /// Sets (or, with an empty value, removes) one field. Written atomically and privately
    /// (see the module docs).
    ///
    /// Errors: the file cannot be read, or the folder or file cannot be created or written.
    pub fn set(
        &self,
        member_id: i64,
        field: &str,
        value: &str,
        now: i64,
    ) -> Result<(), LocalDataError> {
        let mut all = self.load(member_id)?;
        let value = value.trim();
        if value.is_empty() {
            all.remove(field);
        } else {
            all.insert(
                field.to_owned(),
                EnteredValue {
                    value: value.to_owned(),
                    entered_at: now,
                },
            );
        }
        let path = self.file(member_id);
        let io = |action, source| LocalDataError {
            action,
            path: path.display().to_string(),
            source,
        };
        private_dir(&self.dir).map_err(|e| io("create", e))?;
        let json = serde_json::to_vec_pretty(&all).expect("map of strings serialises");
        // tempfile: O_CREAT|O_EXCL with mode 0600 on Unix, a random name in the same folder.
        let mut tmp = tempfile::Builder::new()
            .prefix(".users-")
            .suffix(".tmp")
            .tempfile_in(&self.dir)
            .map_err(|e| io("write", e))?;
        use std::io::Write;
        tmp.write_all(&json).map_err(|e| io("write", e))?;
        tmp.as_file().sync_all().map_err(|e| io("write", e))?;
        tmp.persist(&path).map_err(|e| io("write", e.error))?;
        sync_dir(&self.dir).map_err(|e| io("write", e))
    }

    /// Unlink, or logout with "forget what I typed": everything kept for this member goes.
    pub fn delete_member(&self, member_id: i64) -> Result<(), LocalDataError> {
        let path = self.file(member_id);
        let failed = |source| LocalDataError {
            action: "delete",
            path: path.display().to_string(),
            source,
        };
        match std::fs::remove_file(&path) {
            Ok(()) => sync_dir(&self.dir).map_err(failed),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(source) => Err(failed(source)),
        }
    }

    /// At start: the `users` folder to 0700 and every file in it to 0600 (Unix), in case an
    /// older version or a copy left them readable by others. Nothing there yet is fine.
    ///
    /// Errors: the folder exists but its modes cannot be read or changed.
    pub fn tighten(&self) -> Result<(), LocalDataError> {
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let failed = |path: &Path, source| LocalDataError {
                action: "restrict",
                path: path.display().to_string(),
                source,
            };
            let set = |path: &Path, mode: u32| {
                let meta = std::fs::symlink_metadata(path).map_err(|e| failed(path, e))?;
                // A link is not ours to follow; its target keeps its modes.
                if meta.file_type().is_symlink() || meta.permissions().mode() & 0o777 == mode {
                    return Ok(());
                }
                std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
                    .map_err(|e| failed(path, e))
            };
            match std::fs::symlink_metadata(&self.dir) {
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
                Err(e) => return Err(failed(&self.dir, e)),
                Ok(_) => {}
            }
            set(&self.dir, 0o700)?;
            let entries = std::fs::read_dir(&self.dir).map_err(|e| failed(&self.dir, e))?;
            for entry in entries {
                let entry = entry.map_err(|e| failed(&self.dir, e))?;
                if entry.file_type().is_ok_and(|t| t.is_file()) {
                    set(&entry.path(), 0o600)?;
                }
            }
        }
        Ok(())
    }
}

/// Creates `dir` (and missing parents) with mode 0700 on Unix, and makes an existing one 0700.
fn private_dir(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)?;
        if std::fs::metadata(dir)?.permissions().mode() & 0o777 != 0o700 {
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
        }
        Ok(())
    }
    #[cfg(not(unix))]
    std::fs::create_dir_all(dir)
}

/// Makes a rename or removal in `dir` durable (fsync of the folder, Unix); Windows has no
/// folder handle to sync and commits renames itself.
fn sync_dir(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    std::fs::File::open(dir)?.sync_all()?;
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("ks-local-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        d
    }

    #[test]
    fn set_load_clear_and_delete_per_member() {
        let dir = temp_dir("roundtrip");
        let store = LocalData::new(&dir);
        assert!(store.load(1).unwrap().is_empty());
        store
            .set(1, "phone_number", " +82 10-1234-5678 ", 100)
            .unwrap();
        store.set(2, "email", "b@example.com", 101).unwrap();
        let one = store.load(1).unwrap();
        assert_eq!(one["phone_number"].value, "+82 10-1234-5678");
        assert_eq!(one["phone_number"].entered_at, 100);
        assert!(!one.contains_key("email"));
        store.set(1, "phone_number", "", 102).unwrap();
        assert!(store.load(1).unwrap().is_empty());
        store.delete_member(2).unwrap();
        assert!(store.load(2).unwrap().is_empty());
        assert!(!dir.join("users/2.json").exists());
        store.delete_member(2).unwrap(); // already gone is fine
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// Issue 17 item 3: only the person's own user can read what they typed.
    #[cfg(unix)]
    #[test]
    fn folder_0700_files_0600_and_old_modes_tightened() {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        let dir = temp_dir("modes");
        let store = LocalData::new(&dir);
        store.tighten().unwrap(); // nothing there yet
        store.set(5, "email", "a@x", 1).unwrap();
        let users = dir.join("users");
        assert_eq!(mode(&users), 0o700);
        assert_eq!(mode(&users.join("5.json")), 0o600);
        // No temporary file left behind.
        let names: Vec<_> = std::fs::read_dir(&users)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["5.json"]);
        // What an older version left: 0755 and 0644. Start tightens; a write does too.
        std::fs::set_permissions(&users, std::fs::Permissions::from_mode(0o755)).unwrap();
        std::fs::set_permissions(users.join("5.json"), std::fs::Permissions::from_mode(0o644))
            .unwrap();
        std::fs::write(users.join("6.json"), "{}").unwrap();
        std::fs::set_permissions(users.join("6.json"), std::fs::Permissions::from_mode(0o664))
            .unwrap();
        store.tighten().unwrap();
        assert_eq!(mode(&users), 0o700);
        assert_eq!(mode(&users.join("5.json")), 0o600);
        assert_eq!(mode(&users.join("6.json")), 0o600);
        std::fs::set_permissions(&users, std::fs::Permissions::from_mode(0o755)).unwrap();
        store.set(5, "name", "b", 2).unwrap();
        assert_eq!(mode(&users), 0o700);
        assert_eq!(mode(&users.join("5.json")), 0o600);
        assert_eq!(store.load(5).unwrap().len(), 2);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn ids_beyond_f64_precision_keep_separate_files() {
        let dir = temp_dir("bigid");
        let store = LocalData::new(&dir);
        // 2^53 + 1 and 2^53 + 2 collapse to the same f64; they must not share data.
        store.set(9_007_199_254_740_993, "email", "a@x", 1).unwrap();
        assert!(store.load(9_007_199_254_740_994).unwrap().is_empty());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn every_kind_is_in_all_and_serialises_as_its_str() {
        // Exhaustive: a new variant does not compile here until it has the next number; then
        // the loop fails until it is appended to `ALL` in the same place.
        fn position(kind: ErrorKind) -> usize {
            match kind {
                ErrorKind::LocalDataFailed => 0,
            }
        }
        for (i, &kind) in ErrorKind::ALL.iter().enumerate() {
            assert_eq!(position(kind), i, "{kind:?} is out of place in ALL");
            assert_eq!(
                serde_json::to_value(kind).unwrap(),
                serde_json::Value::from(kind.as_str())
            );
            assert_eq!(kind.to_string(), kind.as_str());
            assert_eq!(kind, kind.as_str());
        }
    }
}
