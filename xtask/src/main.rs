//! `cargo xtask run`: install what is missing, then start the app (sandbox when no Kakao key).
//! `cargo xtask test`: install what is missing, then fmt, clippy and the whole suite inside a
//! private Xvfb display, D-Bus session and unlocked gnome-keyring, so nothing depends on (or
//! touches) the caller's desktop or keychain.
//! `cargo xtask package`: install what is missing (and the Tauri CLI), then `cargo tauri build`
//! the production `.deb` and `.rpm`; prints the `.deb`'s path and sizes.
//! `cargo xtask test-installed`: package, `apt-get install` the `.deb`, check the installed
//! files, run `tests/e2e/tests/installed.rs` against `/usr/bin/kakao-signin` in the same private
//! desktop as `test`, then `apt-get remove` it and check that nothing of it is left.
//! `cargo xtask bench`: release builds of the app and of the blank Tauri app
//! (`tests/blank-app`), then `kakao-signin-bench` in the same private desktop as `test`:
//! start-up, memory, size, sign-in, refresh and keychain figures side by side, written to
//! `target/bench/report.md`.
//!
//! All are safe to run again: installed packages are skipped.

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
    // `node --test tests/ui-preview/`.
    "nodejs",
    // The accessibility suite (tests/e2e/tests/accessibility.rs): the accessibility bus (started
    // on demand by D-Bus) and the AT-SPI client its probe uses, for Debian's /usr/bin/python3.
    "at-spi2-core",
    "python3-pyatspi",
    // The desktop and window-state suites: a window manager with focus-stealing prevention,
    // and tools to act as the person (xdotool) and close a window through it (wmctrl).
    "metacity",
    "xdotool",
    "wmctrl",
];

/// Extra packages `test-installed` needs: `desktop-file-validate` for the installed entry.
const INSTALLED_TEST_PACKAGES: &[&str] = &["desktop-file-utils"];

/// The Debian package `cargo tauri build` makes (`productName` in `tauri.linux.conf.json`).
const DEB_NAME: &str = "kakao-signin";
/// The one version of the workspace: the window's footer, the package, the binary.
const VERSION: &str = env!("CARGO_PKG_VERSION");

fn main() -> ExitCode {
    let args: Vec<String> = env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("run") => run(&args[1..]),
        Some("test") => test(&args[1..]),
        Some("package") => package(&args[1..]).map(drop),
        Some("test-installed") => test_installed(&args[1..]),
        Some("bench") => bench(&args[1..]),
        Some("__inside") => inside(&args[1..]),
        _ => {
            eprintln!(
                "usage: cargo xtask run [-- app args]   build and start the app\n       \
                 cargo xtask test                  install test tools, then fmt, clippy and every test\n       \
                 cargo xtask package               build the production .deb and .rpm (Tauri CLI)\n       \
                 cargo xtask test-installed        package, install the .deb, test the installed app, remove it\n       \
                 cargo xtask bench [-- --runs N]   the app side by side with a blank Tauri app (target/bench/report.md)"
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

/// The workspace root. `cargo run` sets `CARGO_MANIFEST_DIR` for the process too, and that one
/// wins over the path compiled in: with a target directory shared by two checkouts, a build of
/// xtask from the other checkout can look fresh to cargo and would name the wrong tree.
fn root() -> PathBuf {
    let manifest_dir = env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")));
    manifest_dir
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
    status(apt(&["update", "-qq"]), "apt-get update")?;
    let mut install = apt(&["install", "-y", "-qq", "--no-install-recommends"]);
    install.args(&missing);
    status(install, "apt-get install")
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// `apt-get <args>`, through `sudo` when not root, never asking questions.
fn apt(args: &[&str]) -> Command {
    let mut c = if is_root() {
        Command::new("apt-get")
    } else {
        let mut s = Command::new("sudo");
        s.arg("apt-get");
        s
    };
    c.env("DEBIAN_FRONTEND", "noninteractive").args(args);
    c
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

    // The window's own checks (strings in both languages, CSP, the real ui/ in headless
    // Chromium against a mock of Tauri, date formatting): tests/ui-preview/README.md.
    let mut c = Command::new("node");
    c.current_dir(root()).args(["--test", "tests/ui-preview/"]);
    status(c, "node --test tests/ui-preview/")?;

    let mut c = cargo();
    c.args(["test", "--workspace", "--no-fail-fast"]);
    in_private_desktop("test-env", c, "the test suite")
}

/// Runs `cmd` inside a private desktop: a throwaway home (`<target>/<env_name>`), its own Xvfb
/// display, its own D-Bus session (`dbus-run-session`) and an unlocked throwaway gnome-keyring.
/// The command never sees the caller's keyring, config or browser profile. `cmd`'s program,
/// arguments, environment and working directory are kept.
fn in_private_desktop(env_name: &str, cmd: Command, what: &str) -> Result<()> {
    // A throwaway home: the suite never sees the caller's keyring, config or browser profile.
    let env_dir = target_dir().join(env_name);
    let _ = std::fs::remove_dir_all(&env_dir);
    for d in ["home", "data", "config", "cache", "run"] {
        std::fs::create_dir_all(env_dir.join(d)).map_err(|e| e.to_string())?;
    }
    set_mode_700(&env_dir.join("run"))?;

    let mut xvfb = start_xvfb()?;
    let mut inner = Command::new(env::current_exe().map_err(|e| e.to_string())?);
    inner
        .arg("__inside")
        .arg(cmd.get_program())
        .args(cmd.get_args())
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
    // dbus-run-session gives the command its own session bus and ends it (and the keyring
    // daemon) when the command ends.
    let mut c = Command::new("dbus-run-session");
    c.arg("--").arg(inner.get_program()).args(inner.get_args());
    c.current_dir(cmd.get_current_dir().unwrap_or(&root()));
    for (k, v) in inner.get_envs().chain(cmd.get_envs()) {
        match v {
            Some(v) => c.env(k, v),
            None => c.env_remove(k),
        };
    }
    let result = status(c, what);
    let _ = xvfb.0.kill();
    let _ = xvfb.0.wait();
    result
}

/// Extra packages `bench` needs: the display and D-Bus session of the private desktop.
const BENCH_PACKAGES: &[&str] = &["xvfb", "xauth", "dbus-x11"];

/// Builds the app and the blank Tauri app the way `cargo tauri build` builds the app (release
/// profile, `custom-protocol`: assets embedded), the core benches and the bench driver, then
/// runs `kakao-signin-bench` in the private desktop of `test`. It measures: a missed target is
/// in the report, not a failure.
fn bench(args: &[String]) -> Result<()> {
    ensure_packages(BUILD_PACKAGES)?;
    ensure_packages(BENCH_PACKAGES)?;
    let mut c = cargo();
    c.args([
        "build",
        "--release",
        "-p",
        "kakao-signin",
        "-p",
        "blank-app",
        "--features",
        "kakao-signin/custom-protocol,blank-app/custom-protocol",
    ]);
    status(c, "cargo build --release (app and blank app)")?;
    let mut c = cargo();
    c.args([
        "bench",
        "--no-run",
        "-p",
        "kakao-signin-core",
        "--bench",
        "signin",
        "--bench",
        "refresh",
    ]);
    status(c, "cargo bench --no-run (core benches)")?;
    let mut c = cargo();
    // Release too: the keychain's session encryption and the simulator run in the driver.
    c.args(["build", "--release", "-p", "kakao-signin-bench"]);
    status(c, "cargo build --release -p kakao-signin-bench")?;

    if let Err(e) = bloat() {
        eprintln!("xtask: no per-crate size table: {e}");
    }

    let mut c = Command::new(target_dir().join("release/kakao-signin-bench"));
    c.args(args.iter().skip_while(|a| *a == "--")).env(
        "CARGO",
        env::var("CARGO").unwrap_or_else(|_| "cargo".into()),
    );
    in_private_desktop("bench-env", c, "the bench")
}

/// `cargo bloat --crates` of the app (the release profile, `custom-protocol`, not stripped so
/// the symbols say which crate each byte is from) into `target/bench/bloat-crates.txt`, which
/// the report shows. Its own target dir (`target/bloat`): `target/release` keeps the stripped
/// binary the bench measures. Installs cargo-bloat when missing.
fn bloat() -> Result<()> {
    if !have("cargo-bloat") {
        eprintln!("xtask: installing cargo-bloat (cargo install cargo-bloat --locked)");
        let mut c = cargo();
        c.args(["install", "cargo-bloat", "--locked"]);
        status(c, "cargo install cargo-bloat")?;
    }
    let mut c = cargo();
    c.args([
        "bloat",
        "--release",
        "-p",
        "kakao-signin",
        "--features",
        "custom-protocol",
        "--crates",
        "-n",
        "40",
    ])
    .env("CARGO_PROFILE_RELEASE_STRIP", "false")
    .env("CARGO_TARGET_DIR", target_dir().join("bloat"))
    .stderr(Stdio::inherit());
    let out = c
        .output()
        .map_err(|e| format!("could not start cargo bloat: {e}"))?;
    if !out.status.success() {
        return Err(format!("cargo bloat failed ({})", out.status));
    }
    let dir = target_dir().join("bench");
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    std::fs::write(dir.join("bloat-crates.txt"), &out.stdout).map_err(|e| e.to_string())
}

/// Inside the private D-Bus session: unlock a fresh keyring, then run the command in `args`.
fn inside(args: &[String]) -> Result<()> {
    let (program, args) = args
        .split_first()
        .ok_or("__inside needs a command to run")?;
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
    let mut c = Command::new(program);
    c.args(args);
    // "cargo test", not the toolchain's full path.
    let name = Path::new(program)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| program.clone());
    let what = match args.first() {
        Some(a) => format!("{name} {a}"),
        None => name,
    };
    status(c, &what)
}

fn ensure_tauri_cli() -> Result<()> {
    if have("cargo-tauri") {
        return Ok(());
    }
    eprintln!(
        "xtask: installing the Tauri CLI (cargo install tauri-cli --locked, several minutes)"
    );
    let started = Instant::now();
    let mut c = cargo();
    c.args(["install", "tauri-cli", "--locked", "--version", "^2"]);
    status(c, "cargo install tauri-cli")?;
    eprintln!(
        "xtask: Tauri CLI installed in {}",
        minutes(started.elapsed())
    );
    Ok(())
}

fn minutes(d: Duration) -> String {
    format!("{}m{:02}s", d.as_secs() / 60, d.as_secs() % 60)
}

/// `cargo tauri build` with the production configuration: release profile, the `custom-protocol`
/// feature (added by the CLI), no `sandbox`, the CSP of `tauri.conf.json`. Builds the `.deb` and
/// `.rpm` only: AppImage stays configured but its bundler downloads linuxdeploy, so it is built
/// only on request (`cargo tauri build --bundles appimage`, with internet). Returns the `.deb`.
fn package(_args: &[String]) -> Result<PathBuf> {
    ensure_packages(BUILD_PACKAGES)?;
    ensure_tauri_cli()?;
    let started = Instant::now();
    let mut c = cargo();
    c.current_dir(root().join("src-tauri")).args([
        "tauri",
        "build",
        "--ci",
        "--bundles",
        "deb,rpm",
    ]);
    status(c, "cargo tauri build")?;
    let build_time = started.elapsed();

    let dir = target_dir().join("release/bundle/deb");
    let prefix = format!("{DEB_NAME}_{VERSION}_");
    let deb = std::fs::read_dir(&dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| {
            p.extension().is_some_and(|x| x == "deb")
                && p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with(&prefix))
        })
        .ok_or_else(|| format!("no {prefix}*.deb in {}", dir.display()))?;
    // The package says the workspace's version and name: one version everywhere.
    let field = |name: &str| -> Result<String> {
        let out = Command::new("dpkg-deb")
            .arg("--field")
            .arg(&deb)
            .arg(name)
            .output()
            .map_err(|e| format!("dpkg-deb: {e}"))?;
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
    };
    let (package, version) = (field("Package")?, field("Version")?);
    if package != DEB_NAME || version != VERSION {
        return Err(format!(
            "{} is package {package:?} version {version:?}, not {DEB_NAME:?} {VERSION:?}",
            deb.display()
        ));
    }
    let size = std::fs::metadata(&deb).map_err(|e| e.to_string())?.len();
    let installed_kib = field("Installed-Size")?;
    println!(
        "{}\n  package {} bytes ({:.1} MiB), Installed-Size {installed_kib} KiB, built in {}",
        deb.display(),
        size,
        size as f64 / 1048576.0,
        minutes(build_time)
    );
    Ok(deb)
}

/// Whether the package is installed (any state but not-installed, config files included).
fn deb_installed(name: &str) -> bool {
    Command::new("dpkg-query")
        .args(["-W", "-f=${db:Status-Abbrev}", name])
        .output()
        .map(|o| {
            let s = String::from_utf8_lossy(&o.stdout);
            o.status.success() && !s.starts_with("un") && !s.trim().is_empty()
        })
        .unwrap_or(false)
}

/// Packages, installs the `.deb` with apt like a person would, checks the installed files,
/// runs the installed-package suite against `/usr/bin/kakao-signin` in the private desktop of
/// `cargo xtask test`, removes the package and checks that none of its files is left.
fn test_installed(_args: &[String]) -> Result<()> {
    let started = Instant::now();
    if !Path::new("/etc/debian_version").exists() {
        return Err("test-installed installs a .deb: it needs Debian or Ubuntu".into());
    }
    ensure_packages(BUILD_PACKAGES)?;
    ensure_packages(TEST_PACKAGES)?;
    ensure_packages(INSTALLED_TEST_PACKAGES)?;
    ensure_tauri_driver()?;
    let deb = package(&[])?;

    if deb_installed(DEB_NAME) {
        eprintln!("xtask: {DEB_NAME} is installed already; removing it to test a fresh install");
        status(apt(&["remove", "-y", "-qq", DEB_NAME]), "apt-get remove")?;
    }
    let mut install = apt(&["install", "-y", "-qq"]);
    install.arg(&deb);
    status(install, "apt-get install ./<deb>")?;
    let owned = owned_paths(DEB_NAME)?;

    let result = check_installed_files(&owned).and_then(|()| {
        let mut c = cargo();
        c.args([
            "test",
            "--workspace",
            "--test",
            "installed",
            "--",
            "--ignored",
            "--test-threads=1",
        ])
        .env("KAKAO_SIGNIN_APP_BIN", format!("/usr/bin/{DEB_NAME}"));
        in_private_desktop("test-installed-env", c, "the installed-package suite")
    });
    // Removed whether the suite passed or not, so a failure does not leave it installed.
    let removed = status(
        apt(&["remove", "-y", "-qq", DEB_NAME]),
        "apt-get remove kakao-signin",
    );
    result?;
    removed?;
    check_removed(&owned)?;
    eprintln!(
        "xtask: test-installed passed in {} (package, install, suite, remove)",
        minutes(started.elapsed())
    );
    Ok(())
}

/// Every path the installed package owns, as `dpkg -L` lists them.
fn owned_paths(name: &str) -> Result<Vec<PathBuf>> {
    let out = Command::new("dpkg")
        .args(["-L", name])
        .output()
        .map_err(|e| format!("dpkg -L: {e}"))?;
    if !out.status.success() {
        return Err(format!("dpkg -L {name}: {name} is not installed"));
    }
    Ok(String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| l.starts_with('/') && *l != "/.")
        .map(PathBuf::from)
        .collect())
}

/// The binary, the desktop entry (English and Korean names, command, icon; valid per
/// `desktop-file-validate`) and the icons, where the menu and icon theme look for them.
fn check_installed_files(owned: &[PathBuf]) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let bin = PathBuf::from(format!("/usr/bin/{DEB_NAME}"));
    let mode = std::fs::metadata(&bin)
        .map_err(|e| format!("{}: {e}", bin.display()))?
        .permissions()
        .mode();
    if mode & 0o111 == 0 {
        return Err(format!("{} is not executable", bin.display()));
    }
    let entry = PathBuf::from(format!("/usr/share/applications/{DEB_NAME}.desktop"));
    let text = std::fs::read_to_string(&entry).map_err(|e| format!("{}: {e}", entry.display()))?;
    for want in [
        "Name=Kakao Sign-in".to_owned(),
        "Name[ko]=카카오 로그인".to_owned(),
        format!("Exec={DEB_NAME}"),
        format!("Icon={DEB_NAME}"),
        "Comment=".to_owned(),
        "Comment[ko]=".to_owned(),
        "Categories=".to_owned(),
    ] {
        if !text.lines().any(|l| l.starts_with(&want)) {
            return Err(format!("{} has no line {want:?}:\n{text}", entry.display()));
        }
    }
    let mut validate = Command::new("desktop-file-validate");
    validate.arg(&entry);
    status(validate, "desktop-file-validate")?;
    let icons: Vec<&PathBuf> = owned
        .iter()
        .filter(|p| {
            p.starts_with("/usr/share/icons/hicolor")
                && p.parent()
                    .and_then(|d| d.file_name())
                    .is_some_and(|d| d == "apps")
                && p.file_name()
                    .is_some_and(|f| f == format!("{DEB_NAME}.png").as_str())
        })
        .collect();
    for size in ["32x32", "128x128", "256x256", "512x512"] {
        let icon = PathBuf::from(format!(
            "/usr/share/icons/hicolor/{size}/apps/{DEB_NAME}.png"
        ));
        if !icons.contains(&&icon) || !icon.is_file() {
            return Err(format!("icon {} is not installed", icon.display()));
        }
    }
    eprintln!(
        "xtask: installed {}, {} and {} icons ({})",
        bin.display(),
        entry.display(),
        icons.len(),
        icons
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    );
    Ok(())
}

/// After `apt-get remove`: dpkg no longer knows the package and none of its files or own
/// directories is left. Shared directories (`/usr/bin`, the icon theme's) stay; the user's own
/// data (config, data directory, keychain items) is never the package's to remove.
fn check_removed(owned: &[PathBuf]) -> Result<()> {
    if deb_installed(DEB_NAME) {
        return Err(format!(
            "{DEB_NAME} is still known to dpkg after apt-get remove"
        ));
    }
    let left: Vec<String> = owned
        .iter()
        .filter(|p| match std::fs::symlink_metadata(p) {
            Err(_) => false,
            // A directory left behind is fine when it holds something else or another package
            // owns it (dpkg keeps those).
            Ok(m) if m.is_dir() => {
                let empty = std::fs::read_dir(p)
                    .map(|mut d| d.next().is_none())
                    .unwrap_or(false);
                let shared = Command::new("dpkg")
                    .arg("-S")
                    .arg(p)
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .status()
                    .is_ok_and(|s| s.success());
                empty && !shared
            }
            Ok(_) => true,
        })
        .map(|p| p.display().to_string())
        .collect();
    if !left.is_empty() {
        return Err(format!(
            "apt-get remove left these behind: {}",
            left.join(", ")
        ));
    }
    eprintln!(
        "xtask: removed; none of the package's {} paths is left",
        owned.len()
    );
    Ok(())
}

fn set_mode_700(p: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o700)).map_err(|e| e.to_string())
}

/// Starts Xvfb on a free display and waits until it accepts clients. Xvfb picks the display
/// itself (`-displayfd`) and writes its number once it listens: it knows a lock file left by a
/// killed server from a live one, which a look at `/tmp/.X*-lock` cannot (a machine here once
/// had 42 stale ones from :100 up, and no display from :99 to :139 was "free").
fn start_xvfb() -> Result<(Child, String)> {
    let mut child = Command::new("Xvfb")
        .args([
            "-displayfd",
            "1",
            "-screen",
            "0",
            "1280x1024x24",
            "-nolisten",
            "tcp",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("could not start Xvfb: {e}"))?;
    // The pipe stays open (in `child`) for as long as the server runs.
    let out = child.stdout.take().expect("stdout is piped");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut reader = std::io::BufReader::new(out);
        let mut line = String::new();
        let _ = std::io::BufRead::read_line(&mut reader, &mut line);
        let _ = tx.send((line.trim().to_string(), reader.into_inner()));
    });
    match rx.recv_timeout(Duration::from_secs(10)) {
        Ok((n, out)) if !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) => {
            child.stdout = Some(out);
            Ok((child, format!(":{n}")))
        }
        Ok(_) => {
            let _ = child.kill();
            let status = child.wait().map_err(|e| e.to_string())?;
            Err(format!(
                "Xvfb ended before it listened on a display ({status})"
            ))
        }
        Err(_) => {
            let _ = child.kill();
            let _ = child.wait();
            Err("Xvfb did not listen on a display within 10 s".into())
        }
    }
}
