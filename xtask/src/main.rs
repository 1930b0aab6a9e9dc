//! `cargo xtask run`: install what is missing, then start the app (sandbox when no Kakao key).
//! `cargo xtask test`: install what is missing, then fmt, clippy and the whole suite inside a
//! private Xvfb display, D-Bus session and unlocked gnome-keyring, so nothing depends on (or
//! touches) the caller's desktop or keychain.
//!
//! Both are safe to run again: installed packages are skipped.

use std::env;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

/// Debian/Ubuntu packages to build the app (Tauri 2 on WebKitGTK 4.1) and run it.
const BUILD_PACKAGES: &[&str] = &[
    "libwebkit2gtk-4.1-dev",
    "build-essential",
    "curl",
    "wget",
    "file",
    "libxdo-dev",
    "libssl-dev",
    "libayatana-appindicator3-dev",
    "librsvg2-dev",
    "libgtk-3-dev",
    "libsoup-3.0-dev",
    "libjavascriptcoregtk-4.1-dev",
    "libdbus-1-dev",
    "pkg-config",
    "xdg-utils",
    "gnome-keyring",
];

/// Extra packages the test suite needs: a display, the WebDriver for WebKitGTK, a private
/// keyring, and Chromium as the "system browser".
const TEST_PACKAGES: &[&str] = &[
    "xvfb",
    "xauth",
    "webkit2gtk-driver",
    "dbus-x11",
    "libsecret-tools",
    "x11-utils",
    "chromium",
    "chromium-driver",
    // Hangul glyphs for screenshots on a machine without a Korean desktop.
    "fonts-nanum",
];

fn main() -> ExitCode {
    let args: Vec<String> = env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("run") => run(&args[1..]),
        Some("test") => test(&args[1..]),
        Some("__test-inside") => test_inside(&args[1..]),
        _ => {
            eprintln!(
                "usage: cargo xtask run [-- app args]   build and start the app\n       \
                 cargo xtask test                  install test tools, then fmt, clippy and every test"
            );
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::FAILURE
        }
    }
}

type Result<T> = std::result::Result<T, String>;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in the workspace")
        .to_path_buf()
}

fn target_dir() -> PathBuf {
    env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target"))
}

fn cargo() -> Command {
    let mut c = Command::new(env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    c.current_dir(root());
    c
}

fn status(mut cmd: Command, what: &str) -> Result<()> {
    let st = cmd
        .status()
        .map_err(|e| format!("could not start {what}: {e}"))?;
    if st.success() {
        Ok(())
    } else {
        Err(format!("{what} failed ({st})"))
    }
}

fn have(program: &str) -> bool {
    find_program(program).is_some()
}

fn find_program(program: &str) -> Option<PathBuf> {
    let mut dirs: Vec<PathBuf> = env::var_os("PATH")
        .map(|p| env::split_paths(&p).collect())
        .unwrap_or_default();
    dirs.push(cargo_home().join("bin"));
    dirs.into_iter()
        .map(|d| d.join(program))
        .find(|p| p.is_file())
}

fn cargo_home() -> PathBuf {
    env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
        .unwrap_or_else(|| PathBuf::from(".cargo"))
}

/// Installs the missing Debian/Ubuntu packages; elsewhere says what to install.
fn ensure_packages(packages: &[&str]) -> Result<()> {
    if !cfg!(target_os = "linux") {
        eprintln!(
            "xtask: not Linux: install Tauri 2's prerequisites yourself \
             (macOS: Xcode command line tools; Windows: Microsoft C++ Build Tools and WebView2)"
        );
        return Ok(());
    }
    if !Path::new("/etc/debian_version").exists() {
        eprintln!(
            "xtask: not a Debian/Ubuntu system: install the equivalents of {}",
            packages.join(" ")
        );
        return Ok(());
    }
    let missing: Vec<&str> = packages
        .iter()
        .copied()
        .filter(|p| {
            let out = Command::new("dpkg-query")
                .args(["-W", "-f=${Status}", p])
                .output();
            !matches!(out, Ok(o) if String::from_utf8_lossy(&o.stdout).contains("install ok installed"))
        })
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    eprintln!("xtask: installing {}", missing.join(" "));
    let is_root = Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false);
    let apt = |args: &[&str]| {
        let mut c = if is_root {
            Command::new("apt-get")
        } else {
            let mut s = Command::new("sudo");
            s.arg("apt-get");
            s
        };
        c.env("DEBIAN_FRONTEND", "noninteractive").args(args);
        c
    };
    status(apt(&["update", "-qq"]), "apt-get update")?;
    let mut install = apt(&["install", "-y", "-qq", "--no-install-recommends"]);
    install.args(&missing);
    status(install, "apt-get install")
}

fn ensure_tauri_driver() -> Result<()> {
    if have("tauri-driver") {
        return Ok(());
    }
    eprintln!("xtask: installing tauri-driver (cargo install tauri-driver --locked)");
    let mut c = cargo();
    c.args(["install", "tauri-driver", "--locked", "--version", "^2"]);
    status(c, "cargo install tauri-driver")
}

fn run(app_args: &[String]) -> Result<()> {
    ensure_packages(BUILD_PACKAGES)?;
    let mut c = cargo();
    c.args([
        "run",
        "--package",
        "kakao-signin",
        "--features",
        "sandbox",
        "--",
    ]);
    c.args(app_args.iter().skip_while(|a| *a == "--"));
    status(c, "the app")
}

fn test(_args: &[String]) -> Result<()> {
    ensure_packages(BUILD_PACKAGES)?;
    ensure_packages(TEST_PACKAGES)?;
    ensure_tauri_driver()?;

    status(
        {
            let mut c = cargo();
            c.args(["fmt", "--all", "--check"]);
            c
        },
        "cargo fmt --check (run `cargo fmt --all`)",
    )?;
    status(
        {
            let mut c = cargo();
            c.args([
                "clippy",
                "--workspace",
                "--all-targets",
                "--",
                "-D",
                "warnings",
            ]);
            c
        },
        "cargo clippy",
    )?;
    // One build of everything with the same features `cargo test --workspace` uses, so the app
    // binary the window suites launch is built once and shared crates are not built twice.
    status(
        {
            let mut c = cargo();
            c.args(["build", "--workspace", "--all-targets"]);
            c
        },
        "cargo build",
    )?;

    // A throwaway home: the suite never sees the caller's keyring, config or browser profile.
    let env_dir = target_dir().join("test-env");
    let _ = std::fs::remove_dir_all(&env_dir);
    for d in ["home", "data", "config", "cache", "run"] {
        std::fs::create_dir_all(env_dir.join(d)).map_err(|e| e.to_string())?;
    }
    set_mode_700(&env_dir.join("run"))?;

    let mut xvfb = start_xvfb()?;
    let mut inner = Command::new(env::current_exe().map_err(|e| e.to_string())?);
    inner
        .arg("__test-inside")
        .env("CARGO_HOME", cargo_home())
        .env(
            "RUSTUP_HOME",
            env::var_os("RUSTUP_HOME").unwrap_or_else(|| {
                env::var_os("HOME")
                    .map(|h| PathBuf::from(h).join(".rustup").into_os_string())
                    .unwrap_or_default()
            }),
        )
        .env("CARGO_TARGET_DIR", target_dir())
        .env("HOME", env_dir.join("home"))
        .env("XDG_DATA_HOME", env_dir.join("data"))
        .env("XDG_CONFIG_HOME", env_dir.join("config"))
        .env("XDG_CACHE_HOME", env_dir.join("cache"))
        .env("XDG_RUNTIME_DIR", env_dir.join("run"))
        .env("NO_AT_BRIDGE", "1")
        .env("DISPLAY", &xvfb.1)
        .env_remove("DBUS_SESSION_BUS_ADDRESS")
        .env_remove("WAYLAND_DISPLAY");
    // dbus-run-session gives the suite its own session bus and ends it (and the keyring daemon)
    // when the suite ends.
    let mut c = Command::new("dbus-run-session");
    c.arg("--").arg(inner.get_program()).args(inner.get_args());
    for (k, v) in inner.get_envs() {
        match v {
            Some(v) => c.env(k, v),
            None => c.env_remove(k),
        };
    }
    let result = status(c, "the test suite");
    let _ = xvfb.0.kill();
    let _ = xvfb.0.wait();
    result
}

/// Inside the private D-Bus session: unlock a fresh keyring, then run every test.
fn test_inside(_args: &[String]) -> Result<()> {
    let mut daemon = Command::new("gnome-keyring-daemon")
        .args(["--daemonize", "--unlock", "--components=secrets"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("could not start gnome-keyring-daemon: {e}"))?;
    {
        use std::io::Write;
        let mut stdin = daemon.stdin.take().expect("piped");
        // The throwaway keyring's password; it protects nothing but test entries.
        stdin
            .write_all(b"kakao-signin-test")
            .map_err(|e| e.to_string())?;
    }
    let out = daemon.wait_with_output().map_err(|e| e.to_string())?;
    // It prints GNOME_KEYRING_CONTROL=… lines for the environment.
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        if let Some((k, v)) = line.split_once('=') {
            env::set_var(k, v);
        }
    }
    let mut c = cargo();
    c.args(["test", "--workspace", "--no-fail-fast"]);
    status(c, "cargo test")
}

fn set_mode_700(p: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o700)).map_err(|e| e.to_string())
}

/// Starts Xvfb on the first free display from :99 and waits until it accepts clients.
fn start_xvfb() -> Result<(Child, String)> {
    for n in 99..140 {
        if Path::new(&format!("/tmp/.X11-unix/X{n}")).exists()
            || Path::new(&format!("/tmp/.X{n}-lock")).exists()
        {
            continue;
        }
        let display = format!(":{n}");
        let mut child = Command::new("Xvfb")
            .args([
                display.as_str(),
                "-screen",
                "0",
                "1280x1024x24",
                "-nolisten",
                "tcp",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("could not start Xvfb: {e}"))?;
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if Path::new(&format!("/tmp/.X11-unix/X{n}")).exists() {
                return Ok((child, display));
            }
            if let Ok(Some(_)) = child.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = child.kill();
    }
    Err("could not start Xvfb on any display from :99 to :139".into())
}
