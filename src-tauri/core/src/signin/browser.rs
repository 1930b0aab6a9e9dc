//! The browser seam: how the authorize (or logout) URL reaches a browser.
//!
//! Errors never contain the URL: it carries `state`, `nonce` and the PKCE challenge.

use super::Error;
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
        if self.app_only_env.is_empty() {
            return open::that_detached(url).map_err(failed);
        }
        launch_first(self.launchers(url), LAUNCHER_GRACE).map_err(failed)
    }
}

impl SystemBrowser {
    /// The same launchers, in the same order, as `open::that_detached` uses, with the cleaned
    /// environment that `open` offers only through `commands`.
    fn launchers(&self, url: &str) -> Vec<Command> {
        open::commands(url)
            .into_iter()
            .map(|mut cmd| {
                for var in &self.app_only_env {
                    cmd.env_remove(var);
                }
                cmd
            })
            .collect()
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

    fn command(&self, url: &str) -> Command {
        let mut cmd = Command::new(&self.program);
        cmd.args(&self.args)
            .arg(url)
            .stdin(Stdio::null())
            // The browser may print the URL; keep it out of the app's output.
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        for var in &self.app_only_env {
            cmd.env_remove(var);
        }
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
        let child = self
            .command(url)
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
        let b = CommandBrowser::parse("firefox --new-window").unwrap();
        assert!(!removed(&b.command(url)));
        assert!(removed(&b.without_env(&[VAR]).command(url)));
        let launchers = SystemBrowser::without_env(&[VAR]).launchers(url);
        assert!(!launchers.is_empty());
        assert!(launchers.iter().all(removed));
        assert!(!SystemBrowser::default().launchers(url).iter().any(removed));
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
