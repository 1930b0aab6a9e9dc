//! A Secret Service of a test's own: a private D-Bus session bus with gnome-keyring's `secrets`
//! component, in the states a person's desktop can be in when the app cannot store tokens.
//!
//! The `keyring` crate connects to the bus named by the process's `DBUS_SESSION_BUS_ADDRESS`
//! on every call, so a test points the app (or a child test process) at [`PrivateSecretService::address`]
//! rather than changing its own environment.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The state of the private keychain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeychainState {
    /// gnome-keyring runs but never created a login keyring, so there is no default collection
    /// (WSL, a headless or first login without PAM unlocking it).
    NoDefaultCollection,
    /// A login keyring exists and is the default collection, but it is locked, and no unlock
    /// prompt can appear (no display).
    Locked,
}

/// A private session bus with gnome-keyring in a given [`KeychainState`]. Dropping it stops
/// both daemons and removes their files.
pub struct PrivateSecretService {
    address: String,
    dir: PathBuf,
    bus: Child,
    keyring: Child,
}

impl PrivateSecretService {
    /// Starts `dbus-daemon --session` and `gnome-keyring-daemon --components=secrets` on it,
    /// with a fresh home, and waits until `org.freedesktop.secrets` is on the bus.
    ///
    /// Panics with what is missing when either program is not installed.
    pub fn start(state: KeychainState) -> PrivateSecretService {
        static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "ks-private-keyring-{}-{}",
            std::process::id(),
            N.fetch_add(1, std::sync::atomic::Ordering::SeqCst)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        for sub in ["home", "data", "config", "cache", "run"] {
            std::fs::create_dir_all(dir.join(sub)).expect("a temporary directory");
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let _ =
                std::fs::set_permissions(dir.join("run"), std::fs::Permissions::from_mode(0o700));
        }
        let (bus, address) = start_bus(&dir);
        if state == KeychainState::Locked {
            // A first daemon, unlocked with a password, creates the login keyring and makes it
            // the default collection; the one started after it knows no password.
            let mut first = keyring_daemon(&dir, &address, true);
            first
                .stdin
                .take()
                .expect("piped stdin")
                .write_all(b"kakao-signin-test")
                .expect("the password reaches gnome-keyring");
            wait_for_secrets(&address, &mut first);
            wait_for_login_keyring(&dir);
            stop(&mut first);
            wait_until_gone(&address);
        }
        let mut keyring = keyring_daemon(&dir, &address, false);
        wait_for_secrets(&address, &mut keyring);
        PrivateSecretService {
            address,
            dir,
            bus,
            keyring,
        }
    }

    /// The bus address to give as `DBUS_SESSION_BUS_ADDRESS`.
    pub fn address(&self) -> &str {
        &self.address
    }

    /// The environment a process needs to use this keychain: the bus, and the home and XDG
    /// directories gnome-keyring was started with.
    pub fn env(&self) -> Vec<(String, String)> {
        let p = |sub: &str| self.dir.join(sub).display().to_string();
        vec![
            ("DBUS_SESSION_BUS_ADDRESS".into(), self.address.clone()),
            ("XDG_RUNTIME_DIR".into(), p("run")),
        ]
    }
}

impl Drop for PrivateSecretService {
    fn drop(&mut self) {
        stop(&mut self.keyring);
        stop(&mut self.bus);
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn base_env(cmd: &mut Command, dir: &Path) {
    cmd.env("HOME", dir.join("home"))
        .env("XDG_DATA_HOME", dir.join("data"))
        .env("XDG_CONFIG_HOME", dir.join("config"))
        .env("XDG_CACHE_HOME", dir.join("cache"))
        .env("XDG_RUNTIME_DIR", dir.join("run"))
        // No display: an unlock prompt cannot appear.
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .env("NO_AT_BRIDGE", "1");
}

fn start_bus(dir: &Path) -> (Child, String) {
    let mut cmd = Command::new("dbus-daemon");
    base_env(&mut cmd, dir);
    cmd.args(["--session", "--nofork", "--nopidfile", "--print-address=1"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    let mut bus = cmd
        .spawn()
        .expect("dbus-daemon (package dbus-daemon or dbus) starts a private session bus");
    let mut line = String::new();
    BufReader::new(bus.stdout.take().expect("piped stdout"))
        .read_line(&mut line)
        .expect("dbus-daemon prints its address");
    let address = line.trim().to_owned();
    assert!(!address.is_empty(), "dbus-daemon printed no address");
    (bus, address)
}

fn keyring_daemon(dir: &Path, address: &str, unlock: bool) -> Child {
    let mut cmd = Command::new("gnome-keyring-daemon");
    base_env(&mut cmd, dir);
    cmd.env("DBUS_SESSION_BUS_ADDRESS", address)
        .args(["--foreground", "--components=secrets"])
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    if unlock {
        cmd.arg("--unlock").stdin(Stdio::piped());
    } else {
        cmd.stdin(Stdio::null());
    }
    cmd.spawn()
        .expect("gnome-keyring-daemon (package gnome-keyring) provides the Secret Service")
}

/// Whether `name` has an owner on the bus, asked with `dbus-send`.
fn has_owner(address: &str, name: &str) -> bool {
    Command::new("dbus-send")
        .env("DBUS_SESSION_BUS_ADDRESS", address)
        .args([
            "--session",
            "--print-reply",
            "--dest=org.freedesktop.DBus",
            "/org/freedesktop/DBus",
            "org.freedesktop.DBus.NameHasOwner",
            &format!("string:{name}"),
        ])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).contains("boolean true"))
        .unwrap_or(false)
}

fn wait_for_secrets(address: &str, daemon: &mut Child) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !has_owner(address, "org.freedesktop.secrets") {
        if let Ok(Some(status)) = daemon.try_wait() {
            panic!("gnome-keyring-daemon exited ({status}) before it took org.freedesktop.secrets");
        }
        assert!(
            Instant::now() < deadline,
            "gnome-keyring-daemon did not take org.freedesktop.secrets within 10 s"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn wait_until_gone(address: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while has_owner(address, "org.freedesktop.secrets") {
        assert!(
            Instant::now() < deadline,
            "the first gnome-keyring did not leave the bus"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn wait_for_login_keyring(dir: &Path) {
    let file = dir.join("data/keyrings/login.keyring");
    let deadline = Instant::now() + Duration::from_secs(10);
    while !file.exists() {
        assert!(
            Instant::now() < deadline,
            "gnome-keyring wrote no login keyring at {}",
            file.display()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn stop(child: &mut Child) {
    let _ = child.kill();
    let _ = child.wait();
}
