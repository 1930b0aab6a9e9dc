//! The vault against the REAL Secret Service (gnome-keyring on a D-Bus session), not a mock:
//! entries are checked from outside with `secret-tool`, and persistence is proven across
//! processes by re-running this test binary as a child.
//!
//! Needs a reachable, unlocked Secret Service. Without one every test here FAILS (never skips).
//! A private one for a headless run:
//!
//! ```text
//! T=$(mktemp -d); mkdir -m700 $T/run
//! export HOME=$T XDG_DATA_HOME=$T/data XDG_CONFIG_HOME=$T/config XDG_CACHE_HOME=$T/cache \
//!        XDG_RUNTIME_DIR=$T/run NO_AT_BRIDGE=1
//! dbus-run-session -- bash -c 'printf pw | gnome-keyring-daemon --daemonize --unlock \
//!     --components=secrets >/dev/null; cargo test -p kakao-signin-core --test vault_keychain'
//! ```

use kakao_signin_core::secret::Secret;
use kakao_signin_core::vault::{
    KeyringStore, PairId, SecretStore, StoredRefresh, StoredSession, Vault, REFRESH_ACCOUNT,
    SESSION_ACCOUNT,
};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Set for a child run: the service name the parent wrote to.
const CHILD_SERVICE_ENV: &str = "KAKAO_VAULT_TEST_CHILD_SERVICE";

fn unique_service() -> String {
    static N: AtomicUsize = AtomicUsize::new(0);
    format!(
        "kakao-signin-test-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    )
}

/// Fails the test, loudly, when no Secret Service answers.
fn require_secret_service() {
    let svc = unique_service();
    let store = KeyringStore::new(&svc);
    let probe = store
        .set("probe", "probe")
        .and_then(|_| store.get("probe"))
        .and_then(|v| store.delete("probe").map(|_| v));
    match probe {
        Ok(Some(v)) if v == "probe" => {}
        other => panic!(
            "No usable Secret Service (result: {other:?}; DBUS_SESSION_BUS_ADDRESS={:?}). These tests \
             need the real OS keychain. Run them in a D-Bus session with an unlocked gnome-keyring, \
             e.g. `dbus-run-session -- bash -c 'printf pw | gnome-keyring-daemon --daemonize --unlock \
             --components=secrets; cargo test -p kakao-signin-core --test vault_keychain'`.",
            std::env::var("DBUS_SESSION_BUS_ADDRESS").ok()
        ),
    }
}

fn secret_tool(args: &[&str]) -> (bool, String) {
    let out = Command::new("secret-tool")
        .args(args)
        .output()
        .unwrap_or_else(|e| {
            panic!("secret-tool is needed to check the keychain from outside (apt install libsecret-tools): {e}")
        });
    let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
    // secret-tool prints attributes of `search` on stderr in some versions.
    text.push_str(&String::from_utf8_lossy(&out.stderr));
    (out.status.success(), text)
}

/// The stored text of one entry as another program sees it.
fn lookup(service: &str, account: &str) -> Option<String> {
    let (ok, text) = secret_tool(&["lookup", "service", service, "username", account]);
    ok.then_some(text)
}

/// The `username` attributes of every item under `service`, from `secret-tool search --all`.
fn accounts_in(service: &str) -> Vec<String> {
    let (_, text) = secret_tool(&["search", "--all", "service", service]);
    let mut names: Vec<String> = text
        .lines()
        .filter_map(|l| l.strip_prefix("attribute.username = "))
        .map(str::to_owned)
        .collect();
    names.sort();
    names
}

fn session(access: &str) -> StoredSession {
    StoredSession {
        member_id: 4_242_424_242,
        pair_id: PairId(1),
        access_token: Secret::new(access),
        access_expires_at: 1_900_000_000,
        oidc: true,
        scopes: vec![
            "openid".into(),
            "profile_nickname".into(),
            "account_email".into(),
        ],
    }
}

fn refresh(token: &str) -> StoredRefresh {
    StoredRefresh {
        member_id: 4_242_424_242,
        pair_id: PairId(1),
        refresh_token: Secret::new(token),
        refresh_expires_at: Some(1_905_000_000),
    }
}

#[tokio::test]
async fn save_load_clear_in_the_real_keychain() {
    require_secret_service();
    let svc = unique_service();
    let vault = Vault::keyring(&svc);
    assert_eq!(vault.load().await.unwrap(), None);
    assert!(accounts_in(&svc).is_empty());

    vault
        .save(&session("acc-real-1"), Some(&refresh("ref-real-1")))
        .await
        .unwrap();
    assert_eq!(
        vault.load().await.unwrap(),
        Some((session("acc-real-1"), Some(refresh("ref-real-1"))))
    );

    // Seen from outside: two items, the refresh token in its own entry.
    assert_eq!(accounts_in(&svc), [REFRESH_ACCOUNT, SESSION_ACCOUNT]);
    let s = lookup(&svc, SESSION_ACCOUNT).expect("session entry visible to secret-tool");
    let s: serde_json::Value = serde_json::from_str(&s).unwrap();
    assert_eq!(s["access_token"], "acc-real-1");
    assert_eq!(s["member_id"], 4_242_424_242_i64);
    assert!(s.get("refresh_token").is_none());
    let r = lookup(&svc, REFRESH_ACCOUNT).expect("refresh entry visible to secret-tool");
    let r: serde_json::Value = serde_json::from_str(&r).unwrap();
    assert_eq!(r["refresh_token"], "ref-real-1");

    vault.clear().await.unwrap();
    assert!(accounts_in(&svc).is_empty(), "entries left after clear");
    assert_eq!(lookup(&svc, SESSION_ACCOUNT), None);
    assert_eq!(vault.load().await.unwrap(), None);
    // Clearing again (nothing there) is fine.
    vault.clear().await.unwrap();
}

#[tokio::test]
async fn rotation_replaces_the_entry_instead_of_adding_one() {
    require_secret_service();
    let svc = unique_service();
    let vault = Vault::keyring(&svc);
    vault
        .save(&session("acc-a"), Some(&refresh("ref-a")))
        .await
        .unwrap();
    vault.save_refresh(&refresh("ref-b")).await.unwrap();
    vault.save_session(&session("acc-b")).await.unwrap();
    assert_eq!(accounts_in(&svc), [REFRESH_ACCOUNT, SESSION_ACCOUNT]);
    let (s, r) = vault.load().await.unwrap().unwrap();
    assert_eq!(s.access_token.expose(), "acc-b");
    assert_eq!(r.unwrap().refresh_token.expose(), "ref-b");
    vault.clear().await.unwrap();
}

#[tokio::test]
async fn entries_written_by_one_process_are_read_by_another() {
    require_secret_service();
    let svc = unique_service();
    let vault = Vault::keyring(&svc);
    vault
        .save(&session("acc-parent"), Some(&refresh("ref-parent")))
        .await
        .unwrap();

    // A fresh process (this test binary again) reads them and rotates the refresh token.
    let out = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "child_process_reads_and_rotates",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_SERVICE_ENV, &svc)
        .output()
        .unwrap();
    let log = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "child failed:\n{log}");
    assert!(log.contains("1 passed"), "child did not run:\n{log}");

    // And what the child wrote is here.
    let (s, r) = vault.load().await.unwrap().unwrap();
    assert_eq!(s, session("acc-parent"));
    assert_eq!(r, Some(refresh("ref-child")));
    vault.clear().await.unwrap();
    assert!(accounts_in(&svc).is_empty());
}

/// Not a test of its own: the child half of `entries_written_by_one_process_are_read_by_another`.
#[tokio::test]
#[ignore = "child process of entries_written_by_one_process_are_read_by_another"]
async fn child_process_reads_and_rotates() {
    let svc = std::env::var(CHILD_SERVICE_ENV)
        .expect("run only as a child of entries_written_by_one_process_are_read_by_another");
    let vault = Vault::keyring(&svc);
    let (s, r) = vault
        .load()
        .await
        .unwrap()
        .expect("the parent's session is in the keychain");
    assert_eq!(s, session("acc-parent"));
    assert_eq!(r, Some(refresh("ref-parent")));
    vault.save_refresh(&refresh("ref-child")).await.unwrap();
}

#[test]
fn no_session_bus_is_keychain_unavailable() {
    // A child without a reachable bus must get a clear "unavailable", never a silent fallback.
    let out = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "child_process_without_bus",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(
            "DBUS_SESSION_BUS_ADDRESS",
            "unix:path=/nonexistent/kakao-signin-test-bus",
        )
        .env(CHILD_SERVICE_ENV, unique_service())
        .output()
        .unwrap();
    let log = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success() && log.contains("1 passed"),
        "child failed:\n{log}"
    );
}

#[tokio::test]
#[ignore = "child process of no_session_bus_is_keychain_unavailable"]
async fn child_process_without_bus() {
    let svc = std::env::var(CHILD_SERVICE_ENV)
        .expect("run only as a child of no_session_bus_is_keychain_unavailable");
    let vault = Vault::keyring(&svc);
    let e = vault.load().await.unwrap_err();
    assert_eq!(e.kind(), "keychain_unavailable", "{e:?}");
    let e = vault
        .save(&session("acc-x"), Some(&refresh("ref-x")))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), "keychain_unavailable", "{e:?}");
    let shown = format!("{e} {e:?} {:?}", e.fix());
    assert!(!shown.contains("acc-x") && !shown.contains("ref-x"));
    assert!(e.fix().unwrap().en.contains("gnome-keyring"));
}

#[test]
fn a_locked_keychain_is_keychain_locked_and_nothing_falls_back_to_a_file() {
    // Locking the shared login keyring would disturb the other tests, so this one gets its own
    // D-Bus session and gnome-keyring in a scratch HOME, and runs its checks in a child.
    let home = std::env::temp_dir().join(format!("kakao-vault-locked-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&home);
    let run = home.join("run");
    std::fs::create_dir_all(&run).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&run, std::fs::Permissions::from_mode(0o700)).unwrap();
    }
    let exe = std::env::current_exe().unwrap();
    let script = format!(
        "printf pw | gnome-keyring-daemon --daemonize --unlock --components=secrets >/dev/null && \
         exec '{}' --exact child_process_locked_keychain --ignored --nocapture --test-threads=1",
        exe.display()
    );
    let out = Command::new("dbus-run-session")
        .args(["--", "bash", "-c", &script])
        .env("HOME", &home)
        .env("XDG_DATA_HOME", home.join("data"))
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env("XDG_CACHE_HOME", home.join("cache"))
        .env("XDG_RUNTIME_DIR", &run)
        .env("NO_AT_BRIDGE", "1")
        .env(CHILD_SERVICE_ENV, unique_service())
        // No display: gnome-keyring would otherwise show an unlock prompt (gcr-prompter) that no
        // one answers; without one it refuses at once, which is the "locked" case under test.
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .output()
        .unwrap_or_else(|e| {
            panic!("dbus-run-session is needed for this test (apt install dbus): {e}")
        });
    let log = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success() && log.contains("1 passed"),
        "child failed:\n{log}"
    );

    // The keyring file is encrypted and nothing else was written: no token in plain text.
    let mut stack = vec![home.clone()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if let Ok(bytes) = std::fs::read(&path) {
                let text = String::from_utf8_lossy(&bytes);
                assert!(
                    !text.contains("acc-locked") && !text.contains("ref-locked"),
                    "token in plain text in {}",
                    path.display()
                );
            }
        }
    }
    let _ = std::fs::remove_dir_all(&home);
}

#[tokio::test]
#[ignore = "child process of a_locked_keychain_is_keychain_locked_and_nothing_falls_back_to_a_file"]
async fn child_process_locked_keychain() {
    let svc =
        std::env::var(CHILD_SERVICE_ENV).expect("run only as a child of the locked-keychain test");
    let vault = Vault::keyring(&svc);
    vault
        .save(&session("acc-locked"), Some(&refresh("ref-locked")))
        .await
        .unwrap();
    let locked = Command::new("dbus-send")
        .args([
            "--session",
            "--print-reply",
            "--dest=org.freedesktop.secrets",
            "/org/freedesktop/secrets",
            "org.freedesktop.Secret.Service.Lock",
            "array:objpath:/org/freedesktop/secrets/collection/login",
        ])
        .status()
        .expect("dbus-send");
    assert!(locked.success());

    // No display here, so the unlock prompt can't be shown: it counts as dismissed.
    let e = vault.load().await.unwrap_err();
    assert_eq!(e.kind(), "keychain_locked", "{e:?}");
    assert!(e.is_transient());
    assert!(e.fix().unwrap().en.contains("Unlock"));
    let e = vault
        .save_session(&session("acc-locked-2"))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), "keychain_locked", "{e:?}");
    let e = vault.clear().await.unwrap_err();
    assert_eq!(e.kind(), "keychain_locked", "{e:?}");
}
