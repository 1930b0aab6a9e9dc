//! The browser seam: how the authorize (or logout) URL reaches a browser.
//!
//! Errors never contain the URL: it carries `state`, `nonce` and the PKCE challenge.
//!
//! A browser this app starts gets the app's environment minus what is the app's alone
//! ([`BrowserEnv`]): the app's own settings (`KAKAO_SIGNIN_*`, the client secret among them),
//! variables it set for its own window, and, when it runs from an AppImage, what the bundle's
//! runtime set for the app's bundled libraries.

use super::Error;
use std::collections::{BTreeMap, BTreeSet};
use std::ffi::{OsStr, OsString};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The environment variable that overrides the system browser, e.g. `firefox --new-window`.
pub const BROWSER_ENV: &str = "KAKAO_SIGNIN_BROWSER";

/// Opens a URL in the system browser (RFC 8252 §6: never an embedded web view). A seam: tests
/// give the session a scripted browser.
pub trait BrowserOpener: Send + Sync {
    /// Hands `url` to a browser and returns without waiting for it.
    fn open(&self, url: &str) -> Result<(), Error>;
}

/// Any closure works as an opener, e.g. a test that follows the URL itself.
impl<F> BrowserOpener for F
where
    F: Fn(&str) -> Result<(), Error> + Send + Sync,
{
    fn open(&self, url: &str) -> Result<(), Error> {
        self(url)
    }
}

/// The platform's default browser through the `open` crate (xdg-open & co. on Linux).
///
/// `app_only_env` names variables this app set for itself (WebKit tuning of its own window) that
/// a browser it starts must not inherit.
#[derive(Debug, Default, Clone)]
pub struct SystemBrowser {
    app_only_env: Vec<String>,
}

impl SystemBrowser {
    /// The desktop's default browser, started without the environment variables in
    /// `app_only_env` (ones the app set for itself only).
    pub fn without_env(app_only_env: &[&str]) -> SystemBrowser {
        SystemBrowser {
            app_only_env: app_only_env.iter().map(|v| (*v).to_owned()).collect(),
        }
    }
}

impl BrowserOpener for SystemBrowser {
    fn open(&self, url: &str) -> Result<(), Error> {
        let failed = |e: std::io::Error| Error::BrowserFailed {
            program: "default browser".into(),
            // `open` puts the launcher command line, URL included, into its messages.
            detail: redact(&e.to_string(), url),
            from_env: false,
        };
        let env = BrowserEnv::from_process(&self.app_only_env);
        if env.is_empty() {
            return open::that_detached(url).map_err(failed);
        }
        launch_first(self.launchers(url, &env), LAUNCHER_GRACE).map_err(failed)
    }
}

impl SystemBrowser {
    /// The same launchers, in the same order, as `open::that_detached` uses, with the browser's
    /// environment, which `open` offers only through `commands` (it leaves AppImage variables
    /// alone on purpose).
    fn launchers(&self, url: &str, env: &BrowserEnv) -> Vec<Command> {
        open::commands(url)
            .into_iter()
            .map(|mut cmd| {
                env.apply(&mut cmd);
                cmd
            })
            .collect()
    }
}

// ---------------------------------------------------------------------------------------------
// The browser's environment
// ---------------------------------------------------------------------------------------------

/// The prefix of this app's settings (`KAKAO_SIGNIN_CLIENT_SECRET`, …, see `config`): none is a
/// browser's business, and the client secret must not live in a browser's environment.
const SETTINGS_PREFIX: &str = "KAKAO_SIGNIN_";

/// What a bundle's runtime records about itself: the type 2 AppImage runtime sets `APPIMAGE`
/// (the `.AppImage` file), `APPDIR` (where it is mounted or extracted), `OWD` (the working
/// directory it was started in) and `ARGV0`. None of it describes the browser.
const BUNDLE_MARKERS: [&str; 4] = ["APPIMAGE", "APPDIR", "OWD", "ARGV0"];

/// Where AppRun implementations that restore the environment of processes outside the
/// bundle save a variable's value from before the bundle, `<PREFIX><NAME>`: the
/// `appimage-exec-wrapper` (KDevelop's AppRun, AppImageKit issue 396) uses `APPIMAGE_`,
/// AppImageCrafters' AppRun (appimage-builder) `APPRUN_`. An empty `ORIGINAL` means the
/// variable was not set; a `STARTUP` value without an `ORIGINAL` one means the same.
const SAVED_PREFIXES: [(&str, &str); 2] = [
    ("APPIMAGE_ORIGINAL_", "APPIMAGE_STARTUP_"),
    ("APPRUN_ORIGINAL_", "APPRUN_STARTUP_"),
];

/// Variables a bundle sets to a whole new value rather than prefixing the old one: AppImageKit's
/// AppRun writes `GST_PLUGIN_SYSTEM_PATH{,_1_0}` as the bundle's directory followed by another
/// variable's old value, so what is left after the bundle's entries is not this one's.
const REPLACED_BY_BUNDLE: [&str; 2] = ["GST_PLUGIN_SYSTEM_PATH", "GST_PLUGIN_SYSTEM_PATH_1_0"];

/// How the environment of a browser this app starts differs from the app's: each variable to
/// set or remove. Built from an environment snapshot, so it is tested with a map instead of the
/// process's own environment.
///
/// Always removed: every `KAKAO_SIGNIN_*` setting (the client secret too) and the variables the
/// app set for its own window (`app_only_env`).
///
/// Running from an AppImage (on Linux, `APPIMAGE` or `APPDIR` is set), the runtime's changes
/// are undone for the browser, whose own libraries and modules must be the system's
/// (otherwise `xdg-open` and the browser load the bundle's GLib, GIO modules, GTK modules or
/// pixbuf loaders and fail, often silently):
/// 1. a variable whose value from before the bundle was saved (`APPIMAGE_ORIGINAL_<NAME>`,
///    `APPRUN_ORIGINAL_<NAME>`) gets that value back, or is removed
///    when it had none; the bookkeeping variables themselves are removed;
/// 2. otherwise every `:`-separated entry under `$APPDIR` is taken out of every variable (the
///    runtime only prefixes: `LD_LIBRARY_PATH`, `PATH`, `XDG_DATA_DIRS`, `GSETTINGS_SCHEMA_DIR`,
///    `QT_PLUGIN_PATH`, `PERLLIB`, …, AppImageKit's `AppRun.c`), and a variable left with no
///    entry is removed (`GTK_PATH`, `GIO_MODULE_DIR`, `GDK_PIXBUF_MODULE_FILE`, `GTK_EXE_PREFIX`,
///    `GTK_DATA_PREFIX`, `GTK_IM_MODULE_FILE`, `GI_TYPELIB_PATH`, `PYTHONHOME`: the linuxdeploy
///    GTK plugin's AppRun hook, which Tauri's AppImages carry, sets them to paths in the
///    bundle). `PATH` keeps its value if nothing would be left of it;
/// 3. where that hook ran (`GTK_DATA_PREFIX` is `$APPDIR`), the `/usr/share` it puts after
///    `$APPDIR/usr/share` in `XDG_DATA_DIRS` goes too, and its forced `GTK_THEME` is removed;
/// 4. the runtime's own markers (`APPIMAGE`, `APPDIR`, `OWD`, `ARGV0`) are removed.
///
/// Flatpak and strict Snap confinement are not affected: there `xdg-open` asks a service
/// outside the sandbox (the desktop portal, snapd's `io.snapcraft.Launcher`) to open the URL,
/// and the browser starts with the desktop session's environment, not the app's. Without
/// `APPDIR` (never the case with the type 2 runtime) only steps 1 and 4 apply.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BrowserEnv {
    /// `Some`: set to this value; `None`: remove.
    changes: BTreeMap<OsString, Option<OsString>>,
}

impl BrowserEnv {
    /// The browser's environment for an app whose environment is `vars` (name, value pairs).
    /// `app_only_env`: variables the app set for itself only, removed whether present or not.
    pub fn for_browser<K, V>(
        vars: impl IntoIterator<Item = (K, V)>,
        app_only_env: &[String],
    ) -> BrowserEnv
    where
        K: Into<OsString>,
        V: Into<OsString>,
    {
        let vars: BTreeMap<OsString, OsString> = vars
            .into_iter()
            .map(|(k, v)| (k.into(), v.into()))
            .collect();
        let mut changes = BTreeMap::new();
        if cfg!(target_os = "linux") {
            undo_bundle(&vars, &mut changes);
        }
        for name in vars.keys().filter(|k| is_setting(k)) {
            changes.insert(name.clone(), None);
        }
        for name in app_only_env {
            changes.insert(name.into(), None);
        }
        BrowserEnv { changes }
    }

    /// [`BrowserEnv::for_browser`] for this process's environment, read now.
    pub fn from_process(app_only_env: &[String]) -> BrowserEnv {
        BrowserEnv::for_browser(std::env::vars_os(), app_only_env)
    }

    /// Nothing differs from the app's environment.
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }

    /// What the browser gets for `name`: `None` when it inherits the app's value,
    /// `Some(None)` when the variable is removed, `Some(Some(value))` when it is set.
    pub fn change(&self, name: &str) -> Option<Option<&OsStr>> {
        self.changes.get(OsStr::new(name)).map(|v| v.as_deref())
    }

    /// Sets and removes the variables on `cmd`.
    pub fn apply(&self, cmd: &mut Command) {
        for (name, value) in &self.changes {
            match value {
                Some(v) => cmd.env(name, v),
                None => cmd.env_remove(name),
            };
        }
    }
}

/// `KAKAO_SIGNIN_*`; on Windows, where names ignore case, in any case.
fn is_setting(name: &OsStr) -> bool {
    let name = name.as_encoded_bytes();
    let prefix = SETTINGS_PREFIX.as_bytes();
    name.len() >= prefix.len()
        && if cfg!(windows) {
            name[..prefix.len()].eq_ignore_ascii_case(prefix)
        } else {
            name.starts_with(prefix)
        }
}

/// Steps 1-4 of [`BrowserEnv`] into `changes`; nothing when not running from a bundle.
fn undo_bundle(
    vars: &BTreeMap<OsString, OsString>,
    changes: &mut BTreeMap<OsString, Option<OsString>>,
) {
    let get = |name: &str| vars.get(OsStr::new(name)).filter(|v| !v.is_empty());
    if get("APPIMAGE").is_none() && get("APPDIR").is_none() {
        return;
    }
    // A relative or root APPDIR would put everything "under" it: not one a runtime sets.
    let appdir = get("APPDIR")
        .map(|d| Path::new(d).components().collect::<std::path::PathBuf>())
        .filter(|d| d.is_absolute() && d.parent().is_some());
    let under_bundle = |entry: &Path| appdir.as_deref().is_some_and(|d| entry.starts_with(d));

    // 1. Values saved from before the bundle.
    let mut decided = BTreeSet::new();
    for (name, value) in vars {
        let Some(name_str) = name.to_str() else {
            continue;
        };
        for (original, startup) in SAVED_PREFIXES {
            if let Some(target) = name_str.strip_prefix(original) {
                let restored = (!value.is_empty()).then(|| value.clone());
                changes.insert(target.into(), restored);
                decided.insert(OsString::from(target));
                changes.insert(name.clone(), None);
            } else if let Some(target) = name_str.strip_prefix(startup) {
                changes.insert(name.clone(), None);
                let saved = vars.contains_key(OsStr::new(&format!("{original}{target}")));
                if !saved {
                    changes.insert(target.into(), None);
                    decided.insert(OsString::from(target));
                }
            }
        }
    }

    // 2. and 3. Entries under $APPDIR.
    let gtk_hook = appdir.is_some()
        && get("GTK_DATA_PREFIX").is_some_and(|p| {
            Some(Path::new(p).components().collect::<std::path::PathBuf>()) == appdir
        });
    for (name, value) in vars {
        if decided.contains(name) || changes.contains_key(name) {
            continue;
        }
        let entries: Vec<std::path::PathBuf> = std::env::split_paths(value).collect();
        if !entries.iter().any(|e| under_bundle(e)) {
            continue;
        }
        let replaced = REPLACED_BY_BUNDLE.iter().any(|r| name == r);
        let mut kept = Vec::new();
        let mut after_bundle = false;
        let mut hook_share_dropped = false;
        for entry in entries {
            if under_bundle(&entry) {
                after_bundle = true;
                continue;
            }
            let hook_share = gtk_hook
                && name == "XDG_DATA_DIRS"
                && after_bundle
                && !hook_share_dropped
                && entry.components().eq(Path::new("/usr/share").components());
            after_bundle = false;
            if hook_share {
                hook_share_dropped = true;
            } else if !entry.as_os_str().is_empty() {
                kept.push(entry);
            }
        }
        let value = if replaced || kept.is_empty() {
            None
        } else {
            std::env::join_paths(&kept).ok()
        };
        if value.is_none() && name == "PATH" {
            continue; // never leave the browser's launcher without a PATH
        }
        changes.insert(name.clone(), value);
    }
    if gtk_hook && !decided.contains(OsStr::new("GTK_THEME")) {
        changes.insert("GTK_THEME".into(), None);
    }

    // 4. The runtime's markers.
    for marker in BUNDLE_MARKERS {
        changes.insert(marker.into(), None);
    }
}

/// How long a launcher gets to fail before it counts as having handed the URL over (the value
/// `open::that_detached` uses).
const LAUNCHER_GRACE: Duration = Duration::from_millis(250);

/// Runs `launchers` in order until one exits 0 or is still running after `grace`; one that is
/// missing or exits non-zero gives the next its turn (xdg-open, gio, gnome-open and kde-open all
/// report a failed open that way). The error is the first failure, else the last missing one.
fn launch_first(launchers: Vec<Command>, grace: Duration) -> std::io::Result<()> {
    let mut failure = None;
    let mut missing = None;
    for mut cmd in launchers {
        cmd.stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        #[cfg(unix)]
        {
            use std::os::unix::process::CommandExt;
            cmd.process_group(0);
        }
        let mut child = match cmd.spawn() {
            Ok(c) => c,
            Err(e) => {
                missing = Some(e);
                continue;
            }
        };
        let deadline = Instant::now() + grace;
        loop {
            match child.try_wait()? {
                Some(status) if status.success() => return Ok(()),
                Some(status) => {
                    let program = cmd.get_program().to_string_lossy().into_owned();
                    failure.get_or_insert_with(|| {
                        std::io::Error::other(format!("{program} failed ({status})"))
                    });
                    break;
                }
                None if Instant::now() >= deadline => {
                    reap_later(child);
                    return Ok(());
                }
                None => std::thread::sleep(Duration::from_millis(10)),
            }
        }
    }
    Err(failure
        .or(missing)
        .unwrap_or_else(|| std::io::Error::other("no launcher to try")))
}

/// Doesn't wait for a browser; reaps it when it exits so it never lingers as a zombie.
fn reap_later(mut child: std::process::Child) {
    let _ = std::thread::Builder::new()
        .name("browser-reaper".into())
        .spawn(move || {
            let _ = child.wait();
        });
}

/// A browser command line from [`BROWSER_ENV`], split like a shell would; the URL is appended
/// as the last argument.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandBrowser {
    program: String,
    args: Vec<String>,
    app_only_env: Vec<String>,
}

impl CommandBrowser {
    /// `KAKAO_SIGNIN_BROWSER`'s value, split as a shell would (quotes, no expansion); the URL
    /// is appended as the last argument.
    ///
    /// Errors: [`Error::BrowserFailed`] for an empty line or an unmatched quote.
    pub fn parse(command_line: &str) -> Result<CommandBrowser, Error> {
        let invalid = |detail: &str| Error::BrowserFailed {
            program: BROWSER_ENV.into(),
            detail: detail.into(),
            from_env: true,
        };
        let mut words = shell_words::split(command_line)
            .map_err(|_| invalid("the command line has an unmatched quote"))?
            .into_iter();
        let program = words
            .next()
            .filter(|p| !p.is_empty())
            .ok_or_else(|| invalid("the command line is empty"))?;
        Ok(CommandBrowser {
            program,
            args: words.collect(),
            app_only_env: Vec::new(),
        })
    }

    /// The same browser, started without these variables (see [`SystemBrowser`]).
    pub fn without_env(mut self, app_only_env: &[&str]) -> CommandBrowser {
        self.app_only_env = app_only_env.iter().map(|v| (*v).to_owned()).collect();
        self
    }

    /// The program started.
    pub fn program(&self) -> &str {
        &self.program
    }

    /// Its arguments before the URL.
    pub fn args(&self) -> &[String] {
        &self.args
    }

    fn command(&self, url: &str, env: &BrowserEnv) -> Command {
        let mut cmd = Command::new(&self.program);
        cmd.args(&self.args)
            .arg(url)
            .stdin(Stdio::null())
            // The browser may print the URL; keep it out of the app's output.
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        env.apply(&mut cmd);
        #[cfg(unix)]
        {
            use std::os::unix::process::CommandExt;
            // Own process group: a Ctrl-C in the app's terminal doesn't close the browser.
            cmd.process_group(0);
        }
        #[cfg(windows)]
        {
            use std::os::windows::process::CommandExt;
            const DETACHED_PROCESS: u32 = 0x0000_0008;
            const CREATE_NEW_PROCESS_GROUP: u32 = 0x0000_0200;
            cmd.creation_flags(DETACHED_PROCESS | CREATE_NEW_PROCESS_GROUP);
        }
        cmd
    }
}

impl BrowserOpener for CommandBrowser {
    fn open(&self, url: &str) -> Result<(), Error> {
        let env = BrowserEnv::from_process(&self.app_only_env);
        let child = self
            .command(url, &env)
            .spawn()
            .map_err(|e| Error::BrowserFailed {
                program: self.program.clone(),
                detail: redact(&e.to_string(), url),
                from_env: true,
            })?;
        reap_later(child);
        Ok(())
    }
}

/// The opener for a [`BROWSER_ENV`]-style value (the caller reads the setting, so this is
/// testable without touching the environment): [`CommandBrowser`] when `value` is set and not
/// blank, otherwise [`SystemBrowser`]. The browser is started without the variables in
/// `app_only_env`. Errors: [`Error::BrowserFailed`] for a command line that cannot be split.
pub fn browser_from_value(
    value: Option<&str>,
    app_only_env: &[&str],
) -> Result<Box<dyn BrowserOpener>, Error> {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        Some(v) => Ok(Box::new(
            CommandBrowser::parse(v)?.without_env(app_only_env),
        )),
        None => Ok(Box::new(SystemBrowser::without_env(app_only_env))),
    }
}

fn redact(message: &str, url: &str) -> String {
    if url.is_empty() {
        return message.to_owned();
    }
    message.replace(url, "<url>")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    /// A fake for tests: records every URL, opens nothing. Can be told to fail.
    #[derive(Debug, Default)]
    struct RecordingBrowser {
        opened: Mutex<Vec<String>>,
        fail: bool,
    }

    impl RecordingBrowser {
        fn new() -> Self {
            Self::default()
        }

        /// Every `open` fails with `browser_failed` (and is still recorded).
        fn failing() -> Self {
            RecordingBrowser {
                opened: Mutex::default(),
                fail: true,
            }
        }

        fn opened(&self) -> Vec<String> {
            self.opened
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .clone()
        }

        fn last(&self) -> Option<String> {
            self.opened().pop()
        }
    }

    impl BrowserOpener for RecordingBrowser {
        fn open(&self, url: &str) -> Result<(), Error> {
            self.opened
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(url.to_owned());
            if self.fail {
                return Err(Error::BrowserFailed {
                    program: "recording-browser".into(),
                    detail: "told to fail".into(),
                    from_env: false,
                });
            }
            Ok(())
        }
    }

    #[test]
    fn command_line_is_split_like_a_shell() {
        let b =
            CommandBrowser::parse(r#"'/opt/My Browser/bin' --new-window "--profile=a b""#).unwrap();
        assert_eq!(b.program(), "/opt/My Browser/bin");
        assert_eq!(b.args(), ["--new-window", "--profile=a b"]);
    }

    #[test]
    fn bad_command_lines_are_browser_failed_with_env_advice() {
        for bad in ["", "   ", "firefox 'unclosed"] {
            let e = match CommandBrowser::parse(bad) {
                Err(e) => e,
                Ok(b) => panic!("{bad:?} parsed as {b:?}"),
            };
            assert_eq!(e.kind(), "browser_failed");
            assert!(e.fix().unwrap().en.contains("KAKAO_SIGNIN_BROWSER"));
        }
    }

    #[test]
    fn blank_env_value_means_system_browser() {
        assert!(browser_from_value(None, &[]).is_ok());
        assert!(browser_from_value(Some("  "), &[]).is_ok());
        assert!(browser_from_value(Some("firefox 'x"), &[]).is_err());
    }

    #[cfg(unix)]
    #[test]
    fn command_gets_the_url_last_and_does_not_block() {
        let dir = std::env::temp_dir().join(format!("kakao-browser-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let out = dir.join("args");
        // A "browser" that writes its arguments, then keeps running: open must not wait for it.
        let script = format!(
            "sh -c 'printf \"%s\\n\" \"$@\" > {}; sleep 3' browser --flag",
            out.display()
        );
        let b = CommandBrowser::parse(&script).unwrap();
        let url = "http://127.0.0.1:1/authorize?state=abc&x=1";
        let started = std::time::Instant::now();
        b.open(url).unwrap();
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
        let mut got = String::new();
        for _ in 0..100 {
            got = std::fs::read_to_string(&out).unwrap_or_default();
            if got.lines().count() == 2 {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        assert_eq!(got, format!("--flag\n{url}\n"));
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// A variable the app set for its own window is removed from every browser it starts.
    #[test]
    fn browsers_do_not_inherit_app_only_variables() {
        const VAR: &str = "WEBKIT_DISABLE_COMPOSITING_MODE";
        let removed = |cmd: &Command| {
            cmd.get_envs()
                .any(|(k, v)| k == std::ffi::OsStr::new(VAR) && v.is_none())
        };
        let url = "http://127.0.0.1:1/a";
        let app_env = [(VAR, "1"), ("HOME", "/home/u")];
        let env_of = |app_only: &[String]| BrowserEnv::for_browser(app_env, app_only);
        let b = CommandBrowser::parse("firefox --new-window").unwrap();
        assert!(!removed(&b.command(url, &env_of(&b.app_only_env))));
        let b = b.without_env(&[VAR]);
        assert!(removed(&b.command(url, &env_of(&b.app_only_env))));
        let s = SystemBrowser::without_env(&[VAR]);
        let launchers = s.launchers(url, &env_of(&s.app_only_env));
        assert!(!launchers.is_empty());
        assert!(launchers.iter().all(removed));
        let s = SystemBrowser::default();
        assert!(!s
            .launchers(url, &env_of(&s.app_only_env))
            .iter()
            .any(removed));
    }

    /// What each command line of `browser` (the configured command, or every launcher of the
    /// system browser) gets for each variable: `Some(None)` removed, `Some(Some(v))` set,
    /// `None` inherited. Every launcher must agree.
    fn browser_envs(
        app_env: &[(&str, &str)],
        app_only: &[&str],
    ) -> BTreeMap<String, Option<String>> {
        let url = "http://127.0.0.1:1/a";
        let cmd_browser = CommandBrowser::parse("firefox")
            .unwrap()
            .without_env(app_only);
        let sys_browser = SystemBrowser::without_env(app_only);
        let env = BrowserEnv::for_browser(app_env.iter().copied(), &cmd_browser.app_only_env);
        let mut commands = sys_browser.launchers(url, &env);
        assert!(!commands.is_empty());
        commands.push(cmd_browser.command(url, &env));
        let envs_of = |cmd: &Command| -> BTreeMap<String, Option<String>> {
            cmd.get_envs()
                .map(|(k, v)| {
                    let v = v.map(|v| v.to_string_lossy().into_owned());
                    (k.to_string_lossy().into_owned(), v)
                })
                .collect()
        };
        let first = envs_of(&commands[0]);
        for cmd in &commands[1..] {
            // open's Windows launcher sets OPEN_RS_TARGET itself; none of the ones here does.
            assert_eq!(envs_of(cmd), first, "{:?}", cmd.get_program());
        }
        first
    }

    /// The app's settings, the client secret among them, and one it may add later, never reach
    /// a browser, bundled or not; nothing else is touched.
    #[test]
    fn kakao_signin_settings_never_reach_the_browser() {
        let app_env = [
            ("KAKAO_SIGNIN_CLIENT_SECRET", "s3cr3t-client-secret"),
            ("KAKAO_SIGNIN_CLIENT_ID", "rest-api-key"),
            ("KAKAO_SIGNIN_BROWSER", "firefox"),
            ("KAKAO_SIGNIN_SOMETHING_NEW", "x"),
            ("HOME", "/home/u"),
            ("PATH", "/usr/bin:/bin"),
            ("LD_LIBRARY_PATH", "/opt/own/lib"),
            (
                "KAKAO_SIGNIN",
                "not a setting: no underscore after the prefix",
            ),
        ];
        let got = browser_envs(&app_env, &[]);
        let removed = |k: &str| (k.to_owned(), None);
        let want: BTreeMap<_, _> = [
            removed("KAKAO_SIGNIN_BROWSER"),
            removed("KAKAO_SIGNIN_CLIENT_ID"),
            removed("KAKAO_SIGNIN_CLIENT_SECRET"),
            removed("KAKAO_SIGNIN_SOMETHING_NEW"),
        ]
        .into();
        assert_eq!(got, want);

        // Bundled too.
        let mut bundled = app_env.to_vec();
        bundled.push(("APPDIR", "/tmp/.mount_KakaoS1"));
        let got = browser_envs(&bundled, &[]);
        assert_eq!(got.get("KAKAO_SIGNIN_CLIENT_SECRET"), Some(&None));
        assert_eq!(got.get("HOME"), None, "not the bundle's");
        assert_eq!(got.get("LD_LIBRARY_PATH"), None, "not the bundle's");
    }

    /// A Tauri AppImage: the type 2 runtime, linuxdeploy's GTK hook, then AppImageKit's
    /// AppRun, exactly as they write the variables (see `BrowserEnv`), over a session that had
    /// its own `LD_LIBRARY_PATH`, `PATH` and `XDG_DATA_DIRS`. The browser gets those back and
    /// none of the bundle's module paths.
    #[cfg(target_os = "linux")]
    #[test]
    fn a_bundled_app_starts_the_browser_with_the_sessions_environment() {
        const A: &str = "/tmp/.mount_KakaoSAbC123";
        let a = |rest: &str| rest.replace("$A", A);
        let libs = a(
            "$A/usr/lib/:$A/usr/lib/i386-linux-gnu/:$A/usr/lib/x86_64-linux-gnu/:\
                      $A/usr/lib32/:$A/usr/lib64/:$A/lib/:$A/lib/i386-linux-gnu/:\
                      $A/lib/x86_64-linux-gnu/:$A/lib32/:$A/lib64/:",
        );
        let own_data = "/home/u/.local/share/flatpak/exports/share:/usr/local/share:/usr/share";
        let vars: Vec<(String, String)> = vec![
            ("APPIMAGE".into(), "/home/u/Apps/Kakao Sign-in.AppImage".into()),
            ("APPDIR".into(), A.into()),
            ("OWD".into(), "/home/u".into()),
            ("ARGV0".into(), "./Kakao Sign-in.AppImage".into()),
            ("LD_LIBRARY_PATH".into(), format!("{libs}/opt/own/lib")),
            ("PATH".into(), a("$A/usr/bin/:$A/usr/sbin/:$A/usr/games/:$A/bin/:$A/sbin/:/usr/local/bin:/usr/bin:/bin")),
            ("XDG_DATA_DIRS".into(), a(&format!("$A/usr/share/:$A/usr/share:/usr/share:{own_data}"))),
            ("GTK_DATA_PREFIX".into(), A.into()),
            ("GTK_THEME".into(), "Adwaita:light".into()),
            ("GTK_EXE_PREFIX".into(), a("$A//usr")),
            ("GTK_PATH".into(), a("$A/usr/lib/gtk-3.0")),
            ("GTK_IM_MODULE_FILE".into(), a("$A/usr/lib/gtk-3.0/3.0.0/immodules.cache")),
            ("GIO_MODULE_DIR".into(), a("$A/usr/lib/gio/modules")),
            ("GDK_PIXBUF_MODULE_FILE".into(), a("$A/usr/lib/gdk-pixbuf-2.0/2.10.0/loaders.cache")),
            ("GSETTINGS_SCHEMA_DIR".into(), a("$A/usr/share/glib-2.0/schemas/:$A//usr/share/glib-2.0/schemas")),
            ("GI_TYPELIB_PATH".into(), a("$A/usr/lib/girepository-1.0")),
            ("PYTHONHOME".into(), a("$A/usr/")),
            ("PYTHONPATH".into(), a("$A/usr/share/pyshared/:")),
            ("QT_PLUGIN_PATH".into(), a("$A/usr/lib/qt5/plugins/:/opt/own/qt")),
            ("GST_PLUGIN_SYSTEM_PATH".into(), a("$A/usr/lib/gstreamer:/opt/own/qt")),
            ("HOME".into(), "/home/u".into()),
            ("DISPLAY".into(), ":0".into()),
            ("PWD".into(), "/home/u".into()),
        ];
        let vars: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let got = browser_envs(&vars, &[]);
        let set = |k: &str, v: &str| (k.to_owned(), Some(v.to_owned()));
        let removed = |k: &str| (k.to_owned(), None);
        let want: BTreeMap<_, _> = [
            removed("APPDIR"),
            removed("APPIMAGE"),
            removed("ARGV0"),
            removed("GDK_PIXBUF_MODULE_FILE"),
            removed("GIO_MODULE_DIR"),
            removed("GI_TYPELIB_PATH"),
            removed("GSETTINGS_SCHEMA_DIR"),
            removed("GST_PLUGIN_SYSTEM_PATH"),
            removed("GTK_DATA_PREFIX"),
            removed("GTK_EXE_PREFIX"),
            removed("GTK_IM_MODULE_FILE"),
            removed("GTK_PATH"),
            removed("GTK_THEME"),
            set("LD_LIBRARY_PATH", "/opt/own/lib"),
            removed("OWD"),
            set("PATH", "/usr/local/bin:/usr/bin:/bin"),
            removed("PYTHONHOME"),
            removed("PYTHONPATH"),
            set("QT_PLUGIN_PATH", "/opt/own/qt"),
            set("XDG_DATA_DIRS", own_data),
        ]
        .into();
        assert_eq!(got, want);
    }

    /// The same bundle over a session that had no `LD_LIBRARY_PATH` or `XDG_DATA_DIRS`: the
    /// browser gets none either (an empty `XDG_DATA_DIRS` is not the default one).
    #[cfg(target_os = "linux")]
    #[test]
    fn variables_the_session_did_not_have_are_removed_not_emptied() {
        const A: &str = "/tmp/.mount_KakaoSAbC123";
        let ld = format!("{A}/usr/lib/:{A}/lib64/:");
        let xdg = format!("{A}/usr/share/:{A}/usr/share:/usr/share:");
        let vars = [
            ("APPIMAGE", "/x.AppImage"),
            ("APPDIR", A),
            ("GTK_DATA_PREFIX", A),
            ("LD_LIBRARY_PATH", &ld),
            ("XDG_DATA_DIRS", &xdg),
        ];
        let got = browser_envs(&vars, &[]);
        assert_eq!(got.get("LD_LIBRARY_PATH"), Some(&None));
        assert_eq!(got.get("XDG_DATA_DIRS"), Some(&None));
        // Without linuxdeploy's GTK hook the `/usr/share` after the bundle is the session's.
        let vars = [("APPDIR", A), ("XDG_DATA_DIRS", &xdg)];
        let got = browser_envs(&vars, &[]);
        assert_eq!(got.get("XDG_DATA_DIRS"), Some(&Some("/usr/share".into())));
    }

    /// AppRuns that save the values from before the bundle (`APPIMAGE_ORIGINAL_*`,
    /// `APPRUN_ORIGINAL_*`): those win, an empty or missing one means "was not set", and the
    /// bookkeeping stays with the app.
    #[cfg(target_os = "linux")]
    #[test]
    fn values_saved_by_the_apprun_are_restored() {
        const A: &str = "/opt/Kakao.AppDir";
        let ld = format!("{A}/usr/lib:/from/startup");
        let preload = format!("{A}/lib/libapprun_hooks.so");
        let vars = [
            ("APPDIR", A),
            ("LD_LIBRARY_PATH", ld.as_str()),
            ("APPRUN_ORIGINAL_LD_LIBRARY_PATH", "/before/bundle"),
            ("APPRUN_STARTUP_LD_LIBRARY_PATH", ld.as_str()),
            ("LD_PRELOAD", preload.as_str()),
            ("APPRUN_STARTUP_LD_PRELOAD", preload.as_str()),
            ("GDK_BACKEND", "x11"),
            ("APPIMAGE_ORIGINAL_GDK_BACKEND", ""),
            ("GTK_THEME", "Adwaita:light"),
            ("APPIMAGE_ORIGINAL_GTK_THEME", "Yaru-dark"),
            ("HOME", "/home/u"),
        ];
        let got = browser_envs(&vars, &[]);
        let set = |k: &str, v: &str| (k.to_owned(), Some(v.to_owned()));
        let removed = |k: &str| (k.to_owned(), None);
        let want: BTreeMap<_, _> = [
            removed("APPDIR"),
            removed("APPIMAGE"),
            removed("APPIMAGE_ORIGINAL_GDK_BACKEND"),
            removed("APPIMAGE_ORIGINAL_GTK_THEME"),
            removed("APPRUN_ORIGINAL_LD_LIBRARY_PATH"),
            removed("APPRUN_STARTUP_LD_LIBRARY_PATH"),
            removed("APPRUN_STARTUP_LD_PRELOAD"),
            removed("ARGV0"),
            removed("GDK_BACKEND"),
            set("GTK_THEME", "Yaru-dark"),
            set("LD_LIBRARY_PATH", "/before/bundle"),
            removed("LD_PRELOAD"),
            removed("OWD"),
        ]
        .into();
        assert_eq!(got, want);
    }

    /// Not bundled: library and module paths are the person's own and stay; a relative or
    /// root `APPDIR` (no runtime sets one) strips nothing.
    #[test]
    fn without_a_bundle_library_and_module_paths_are_left_alone() {
        let vars = [
            ("LD_LIBRARY_PATH", "/opt/own/lib"),
            ("GTK_PATH", "/usr/lib/x86_64-linux-gnu/gtk-3.0"),
            ("GIO_MODULE_DIR", "/usr/lib/gio/modules"),
            ("XDG_DATA_DIRS", "/usr/local/share:/usr/share"),
        ];
        assert!(BrowserEnv::for_browser(vars, &[]).is_empty());
        for appdir in ["/", "relative/dir"] {
            let mut v = vars.to_vec();
            v.push(("APPDIR", appdir));
            let env = BrowserEnv::for_browser(v, &[]);
            assert_eq!(env.change("LD_LIBRARY_PATH"), None, "APPDIR={appdir}");
            assert_eq!(env.change("XDG_DATA_DIRS"), None, "APPDIR={appdir}");
        }
    }

    /// The changes reach the started process (not only the `Command`): a "browser" that
    /// writes its environment.
    #[cfg(target_os = "linux")]
    #[test]
    fn the_started_browser_sees_the_restored_environment() {
        let dir = std::env::temp_dir().join(format!("kakao-browser-env-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let out = dir.join("env");
        let b = CommandBrowser::parse(&format!(
            "sh -c 'env > {}.tmp && mv {0}.tmp {0}'",
            out.display()
        ))
        .unwrap();
        let a = "/tmp/.mount_KakaoSXyZ";
        let ld = format!("{a}/usr/lib/:/opt/own/lib");
        let env = BrowserEnv::for_browser(
            [
                ("APPDIR", a),
                ("LD_LIBRARY_PATH", ld.as_str()),
                ("GTK_PATH", "/tmp/.mount_KakaoSXyZ/usr/lib/gtk-3.0"),
            ],
            &[],
        );
        let child = b.command("http://127.0.0.1:1/a", &env).spawn().unwrap();
        reap_later(child);
        let mut got = String::new();
        for _ in 0..200 {
            if let Ok(text) = std::fs::read_to_string(&out) {
                got = text;
                break;
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        assert!(
            got.lines().any(|l| l == "LD_LIBRARY_PATH=/opt/own/lib"),
            "{got}"
        );
        assert!(!got.contains(".mount_KakaoSXyZ"), "{got}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    fn sh(script: &str) -> Command {
        let mut cmd = Command::new("sh");
        cmd.arg("-c").arg(script);
        cmd
    }

    #[cfg(unix)]
    #[test]
    fn launchers_are_tried_in_order_until_one_opens() {
        let grace = Duration::from_millis(250);
        let dir = std::env::temp_dir().join(format!("kakao-launch-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let ran = dir.join("ran");
        let mark = |name: &str| sh(&format!("echo {name} >> {}", ran.display()));
        let fails = sh(&format!("echo fails >> {}; exit 3", ran.display()));
        let launchers = vec![
            Command::new("/nonexistent/xdg-open"),
            fails,
            mark("opens"),
            mark("never"),
        ];
        launch_first(launchers, grace).unwrap();
        assert_eq!(std::fs::read_to_string(&ran).unwrap(), "fails\nopens\n");

        // Still running after the grace period: it has the URL; the rest are not tried.
        std::fs::remove_file(&ran).unwrap();
        let started = Instant::now();
        launch_first(vec![sh("sleep 3"), mark("never")], grace).unwrap();
        assert!(started.elapsed() < Duration::from_secs(2));
        assert!(!ran.exists());

        // All fail: the first failure is the message, not the missing program after it.
        let e =
            launch_first(vec![sh("exit 4"), Command::new("/nonexistent/gio")], grace).unwrap_err();
        assert!(e.to_string().contains("sh failed"), "{e}");
        let e = launch_first(vec![Command::new("/nonexistent/gio")], grace).unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::NotFound);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn missing_program_names_it_but_not_the_url() {
        let b = CommandBrowser::parse("/nonexistent/kakao-test-browser --x").unwrap();
        let url = "http://127.0.0.1:1/a?state=SECRETSTATE";
        let e = b.open(url).unwrap_err();
        assert_eq!(e.kind(), "browser_failed");
        let shown = format!("{e} {e:?} {:?} {:?}", e.message(), e.fix());
        assert!(shown.contains("/nonexistent/kakao-test-browser"));
        assert!(!shown.contains("SECRETSTATE"));
    }

    #[test]
    fn recording_fake_records_and_can_fail() {
        let r = RecordingBrowser::new();
        r.open("http://a/1").unwrap();
        r.open("http://a/2").unwrap();
        assert_eq!(r.opened(), ["http://a/1", "http://a/2"]);
        let f = RecordingBrowser::failing();
        assert_eq!(f.open("http://a/3").unwrap_err().kind(), "browser_failed");
        assert_eq!(f.last().as_deref(), Some("http://a/3"));
        let closure = |u: &str| -> Result<(), Error> {
            assert!(u.starts_with("http"));
            Ok(())
        };
        let boxed: Box<dyn BrowserOpener> = Box::new(closure);
        boxed.open("http://x").unwrap();
    }
}
