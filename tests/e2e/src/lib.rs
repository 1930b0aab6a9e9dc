//! Harness for the end-to-end suites: the real app window through tauri-driver and
//! WebKitWebDriver, under the Xvfb display, D-Bus session and unlocked gnome-keyring that
//! `cargo xtask test` starts. A missing display, driver or keyring is a failure with a clear
//! message, never a skip.

use anyhow::{bail, Context, Result};
use fantoccini::{Client, ClientBuilder, Locator};
use kakao_sim::{Sim, SimConfig};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub use kakao_signin_test_support::xscreen;

pub mod atspi;
pub mod desktop;

/// The workspace's target directory (honours `CARGO_TARGET_DIR`).
pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target"))
}

pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The app binary under test: `KAKAO_SIGNIN_APP_BIN`, else the debug build.
pub fn app_binary() -> Result<PathBuf> {
    let bin = std::env::var_os("KAKAO_SIGNIN_APP_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| target_dir().join("debug/kakao-signin"));
    if !bin.exists() {
        bail!(
            "the app binary {} does not exist: build it first (`cargo build --workspace`), \
             or run the suite through `cargo xtask test`",
            bin.display()
        );
    }
    Ok(bin)
}

fn find_program(name: &str) -> Option<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect())
        .unwrap_or_default();
    if let Some(cargo_home) = std::env::var_os("CARGO_HOME") {
        dirs.push(PathBuf::from(cargo_home).join("bin"));
    }
    dirs.into_iter().map(|d| d.join(name)).find(|p| p.is_file())
}

/// Fails with what to do when the environment `cargo xtask test` provides is missing.
pub fn check_environment() -> Result<()> {
    if std::env::var_os("DISPLAY").is_none() {
        bail!("no DISPLAY: the real-window suite needs an X server; run it through `cargo xtask test`, which starts Xvfb");
    }
    if std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_none() {
        bail!("no D-Bus session: run the suite through `cargo xtask test`, which starts a private D-Bus session with an unlocked gnome-keyring");
    }
    for (prog, how) in [
        ("tauri-driver", "cargo install tauri-driver --locked"),
        ("WebKitWebDriver", "apt-get install webkit2gtk-driver"),
    ] {
        if find_program(prog).is_none() {
            bail!("{prog} not found on PATH: install it with `{how}` (cargo xtask test does)");
        }
    }
    Ok(())
}

pub use kakao_sim::free_loopback_port as free_port;

/// A child process started in its own process group; dropping it kills the whole group, so
/// WebKitWebDriver and the app go with tauri-driver even when a test panics.
pub struct ProcessGroup {
    child: Child,
    name: &'static str,
}

impl ProcessGroup {
    pub fn spawn(name: &'static str, mut cmd: Command) -> Result<ProcessGroup> {
        cmd.process_group(0).stdin(Stdio::null());
        let child = cmd
            .spawn()
            .with_context(|| format!("could not start {name}"))?;
        Ok(ProcessGroup { child, name })
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn kill(&mut self) {
        // SAFETY: kill(2) on our own child's process group; no memory is touched.
        unsafe {
            libc::kill(-(self.child.id() as i32), libc::SIGKILL);
        }
        let _ = self.child.wait();
    }

    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    pub fn name(&self) -> &'static str {
        self.name
    }
}

impl Drop for ProcessGroup {
    fn drop(&mut self) {
        self.kill();
    }
}

async fn wait_for_status(port: u16, what: &str, proc_: &mut ProcessGroup) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            return Ok(());
        }
        if !proc_.is_running() {
            bail!("{what} exited before it listened on port {port}");
        }
        if Instant::now() > deadline {
            bail!("{what} did not listen on port {port} within 30 s");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The app under test, in its real window.
pub struct App {
    pub client: Client,
    _driver: ProcessGroup,
    pub env: Vec<(String, String)>,
}

#[derive(Default, Clone)]
pub struct AppOptions {
    /// Extra environment for the app (inherited through tauri-driver and WebKitWebDriver).
    pub env: Vec<(String, String)>,
}

impl App {
    /// Starts the app in its window. Under heavy load (2 cores shared with a build) creating the
    /// WebDriver session occasionally fails; that one step is tried a second time, with the first
    /// failure kept in the error.
    pub async fn launch(options: AppOptions) -> Result<App> {
        App::launch_with(options, None).await
    }

    /// Like [`App::launch`], with the window's accessibility bridge on (the suites otherwise run
    /// with `NO_AT_BRIDGE=1`): the AT-SPI suite reads it through the accessibility bus, which
    /// D-Bus starts on demand in the suite's private session.
    pub async fn launch_accessible(options: AppOptions) -> Result<App> {
        App::launch_checked(options, None, true).await
    }

    async fn launch_with(options: AppOptions, stderr_log: Option<&Path>) -> Result<App> {
        App::launch_checked(options, stderr_log, false).await
    }

    async fn launch_checked(
        options: AppOptions,
        stderr_log: Option<&Path>,
        at_bridge: bool,
    ) -> Result<App> {
        check_environment()?;
        match App::launch_once(&options, stderr_log, at_bridge).await {
            Ok(app) => Ok(app),
            Err(first) => {
                eprintln!("the app's window did not start ({first:#}); trying once more");
                App::launch_once(&options, stderr_log, at_bridge)
                    .await
                    .with_context(|| format!("second attempt; the first failed with: {first:#}"))
            }
        }
    }

    /// One start: tauri-driver (the app's stderr inherited, or appended to `stderr_log`), then
    /// the WebDriver session that opens the window.
    async fn launch_once(
        options: &AppOptions,
        stderr_log: Option<&Path>,
        at_bridge: bool,
    ) -> Result<App> {
        let bin = app_binary()?;
        let port = free_port();
        let native_port = free_port();
        let stderr = match stderr_log {
            Some(path) => Stdio::from(
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(path)
                    .with_context(|| format!("cannot open {}", path.display()))?,
            ),
            None => Stdio::inherit(),
        };
        let mut cmd = Command::new(find_program("tauri-driver").expect("checked above"));
        cmd.args([
            "--port",
            &port.to_string(),
            "--native-port",
            &native_port.to_string(),
        ])
        .stdout(Stdio::null())
        .stderr(stderr)
        // WebKitWebDriver drives the window through an inspector connection to 127.0.0.1 that
        // WebKitGTK opens through GIO, which honours HTTP_PROXY/ALL_PROXY for loopback too:
        // behind a proxy the window would never answer. GIO's "dummy" resolver goes direct.
        // Only the harness's link is concerned: the app's requests to Kakao go through reqwest,
        // which does not read this variable.
        .env("GIO_USE_PROXY_RESOLVER", "dummy");
        for (k, v) in &options.env {
            cmd.env(k, v);
        }
        if at_bridge {
            cmd.env_remove("NO_AT_BRIDGE");
        }
        let mut driver = ProcessGroup::spawn("tauri-driver", cmd)?;
        wait_for_status(port, "tauri-driver", &mut driver).await?;

        let mut caps = serde_json::Map::new();
        caps.insert("browserName".into(), "wry".into());
        caps.insert(
            "tauri:options".into(),
            serde_json::json!({ "application": bin }),
        );
        let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(caps)
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
            .context("tauri-driver did not start the app's window (is WebKitWebDriver working under this DISPLAY?)")?;
        Ok(App {
            client,
            _driver: driver,
            env: options.env.clone(),
        })
    }

    /// Waits until an element matching `css` is displayed, or fails naming it.
    pub async fn wait_visible(&self, css: &str) -> Result<fantoccini::elements::Element> {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(el) = self.client.find(Locator::Css(css)).await {
                if el.is_displayed().await.unwrap_or(false) {
                    return Ok(el);
                }
            }
            if Instant::now() > deadline {
                let body = self
                    .client
                    .source()
                    .await
                    .unwrap_or_else(|e| format!("<no page source: {e}>"));
                bail!("`{css}` was not displayed within 20 s; page was:\n{body}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Runs `op` on the element `css` (waiting until it is displayed). The window rebuilds rows
    /// when a view arrives, so an element found a moment ago may be gone by the time it is
    /// used: then it is looked up again, a few times, before the error counts.
    async fn on_element<T, F, Fut>(&self, css: &str, op: F) -> Result<T>
    where
        F: Fn(fantoccini::elements::Element) -> Fut,
        Fut: std::future::Future<Output = Result<T, fantoccini::error::CmdError>>,
    {
        let mut tries = 0;
        loop {
            match op(self.wait_visible(css).await?).await {
                Ok(v) => return Ok(v),
                Err(_) if tries < 5 => {
                    tries += 1;
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// The displayed text of `css`.
    pub async fn text(&self, css: &str) -> Result<String> {
        self.on_element(css, |el| async move { el.text().await })
            .await
    }

    /// Waits for `css` to be displayed and clicks it.
    pub async fn click(&self, css: &str) -> Result<()> {
        self.on_element(css, |el| async move { el.click().await.map(drop) })
            .await
    }

    /// Waits for the screen `main > [data-screen=<status>]` to be the one shown.
    pub async fn wait_screen(&self, status: &str) -> Result<()> {
        self.wait_visible(&format!("main > [data-screen=\"{status}\"]"))
            .await
            .map(drop)
    }

    /// An attribute of the first element matching `css` (displayed or not); `None` when the
    /// element or the attribute is missing.
    pub async fn attr(&self, css: &str, name: &str) -> Result<Option<String>> {
        let mut tries = 0;
        loop {
            let Ok(el) = self.client.find(Locator::Css(css)).await else {
                return Ok(None);
            };
            match el.attr(name).await {
                Ok(v) => return Ok(v),
                // Rebuilt between find and read: look it up again.
                Err(_) if tries < 5 => tries += 1,
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// Whether an element matching `css` exists and is displayed right now.
    pub async fn is_displayed(&self, css: &str) -> Result<bool> {
        let mut tries = 0;
        loop {
            let Ok(el) = self.client.find(Locator::Css(css)).await else {
                return Ok(false);
            };
            match el.is_displayed().await {
                Ok(v) => return Ok(v),
                Err(_) if tries < 5 => tries += 1,
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// Waits until the attribute `name` of `css` is `want`, or fails with what it was.
    pub async fn wait_attr(&self, css: &str, name: &str, want: &str) -> Result<()> {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let got = self.attr(css, name).await?;
            if got.as_deref() == Some(want) {
                return Ok(());
            }
            if Instant::now() > deadline {
                let body = self.client.source().await.unwrap_or_default();
                bail!("`{css}` [{name}] stayed {got:?}, not {want:?}, for 20 s; page was:\n{body}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits until the displayed text of `css` contains `needle`; returns the whole text.
    pub async fn wait_text(&self, css: &str, needle: &str) -> Result<String> {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let text = self.text(css).await?;
            if text.contains(needle) {
                return Ok(text);
            }
            if Instant::now() > deadline {
                bail!("`{css}` said {text:?} for 20 s, never {needle:?}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Saves a PNG of the window under `target/screenshots/<name>.png`, after two animation
    /// frames so the picture is the current one.
    /// Saves the window as `target/screenshots/<name>.png`, read from the screen once two
    /// animation frames have passed (see xscreen.rs for why not WebDriver's screenshot).
    pub async fn screenshot(&self, name: &str) -> Result<PathBuf> {
        self.client
            .execute_async(
                "const done = arguments[arguments.length - 1];\
                 requestAnimationFrame(() => requestAnimationFrame(() => done(true)));",
                vec![],
            )
            .await?;
        let (x, y, w, h) = self.client.get_window_rect().await?;
        let png = tokio::task::spawn_blocking(move || -> Result<Vec<u8>> {
            let screen = xscreen::Screen::open().map_err(anyhow::Error::msg)?;
            let img = screen
                .capture(x as i32, y as i32, w as u32, h as u32)
                .map_err(anyhow::Error::msg)?;
            encode_png(&img)
        })
        .await??;
        let dir = target_dir().join("screenshots");
        std::fs::create_dir_all(&dir)?;
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, png)?;
        Ok(path)
    }

    pub async fn close(self) -> Result<()> {
        let _ = self.client.close().await;
        Ok(())
    }
}

/// Runs one end-to-end test body at a time in this process: one window on a 2-core machine is
/// plenty, and the suites share the keychain.
pub async fn serial() -> tokio::sync::MutexGuard<'static, ()> {
    static LOCK: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    LOCK.lock().await
}

/// Headless Chromium through chromedriver: the "system browser" of the end-to-end suites. The
/// app is given a `KAKAO_SIGNIN_BROWSER` command that writes each URL it opens to a file; the
/// test hands that URL to this browser and clicks through Kakao's (the simulator's) pages like
/// a person.
pub struct Chromium {
    pub client: Client,
    _driver: ProcessGroup,
    _profile: PathBuf,
}

impl Chromium {
    pub async fn launch() -> Result<Chromium> {
        let driver_bin = find_program("chromedriver").context(
            "chromedriver not found: install Debian's chromium and chromium-driver (cargo xtask test does)",
        )?;
        let chromium =
            find_program("chromium").context("chromium not found (apt-get install chromium)")?;
        let port = free_port();
        let mut cmd = Command::new(driver_bin);
        cmd.arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let mut driver = ProcessGroup::spawn("chromedriver", cmd)?;
        wait_for_status(port, "chromedriver", &mut driver).await?;
        let profile = std::env::temp_dir().join(format!(
            "kakao-signin-e2e-chromium-{}-{}",
            std::process::id(),
            port
        ));
        let mut caps = serde_json::Map::new();
        caps.insert("browserName".into(), "chrome".into());
        caps.insert(
            "goog:chromeOptions".into(),
            serde_json::json!({
                "binary": chromium,
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--disable-quic", "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync", "--window-size=900,900",
                    format!("--user-data-dir={}", profile.display()),
                ]
            }),
        );
        let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(caps)
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
            .context("chromedriver did not start headless Chromium")?;
        Ok(Chromium {
            client,
            _driver: driver,
            _profile: profile,
        })
    }

    pub async fn wait_visible(&self, css: &str) -> Result<fantoccini::elements::Element> {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(el) = self.client.find(Locator::Css(css)).await {
                if el.is_displayed().await.unwrap_or(false) {
                    return Ok(el);
                }
            }
            if Instant::now() > deadline {
                let body = self.client.source().await.unwrap_or_default();
                bail!("browser: `{css}` not displayed within 20 s; page was:\n{body}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// On the simulator's login page: type the account and password, submit.
    pub async fn log_in(&self, login: &str, password: &str) -> Result<()> {
        let id = self.wait_visible("#login-id").await?;
        id.clear().await?;
        id.send_keys(login).await?;
        self.wait_visible("#login-password")
            .await?
            .send_keys(password)
            .await?;
        self.wait_visible("#login-submit").await?.click().await?;
        Ok(())
    }

    /// On the simulator's consent page: answer as `consent` says.
    pub async fn answer_consent(&self, consent: Consent) -> Result<()> {
        match consent {
            Consent::All => {
                self.wait_visible("#consent-all").await?.click().await?;
                self.wait_visible("#consent-agree").await?.click().await?;
            }
            Consent::RequiredOnly => {
                self.wait_visible("#consent-agree").await?.click().await?;
            }
            Consent::Cancel => {
                self.wait_visible("#consent-cancel").await?.click().await?;
            }
            Consent::NotAsked => {}
        }
        Ok(())
    }

    /// On Kakao's logout choice page (REFERENCE §6): "log out of the Kakao account too"
    /// (`with_account`) or "this service only".
    pub async fn answer_logout_choice(&self, with_account: bool) -> Result<()> {
        let button = if with_account {
            "#logout-choice-account"
        } else {
            "#logout-choice-service"
        };
        self.wait_visible(button).await?.click().await?;
        Ok(())
    }

    /// Waits until the browser's page text contains `needle`; returns the text.
    pub async fn wait_text(&self, needle: &str) -> Result<String> {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let text = match self.client.find(Locator::Css("body")).await {
                Ok(body) => body.text().await.unwrap_or_default(),
                Err(_) => String::new(),
            };
            if text.contains(needle) {
                return Ok(text);
            }
            if Instant::now() > deadline {
                bail!("browser page never said {needle:?}; it said:\n{text}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub async fn close(self) {
        let _ = self.client.close().await;
        let _ = std::fs::remove_dir_all(&self._profile);
    }
}

/// The file a `KAKAO_SIGNIN_BROWSER` command writes opened URLs to, and that command.
pub struct UrlInbox {
    pub path: PathBuf,
}

impl UrlInbox {
    pub fn new(tag: &str) -> UrlInbox {
        let path = std::env::temp_dir().join(format!(
            "kakao-signin-e2e-urls-{}-{tag}.txt",
            std::process::id()
        ));
        let _ = std::fs::remove_file(&path);
        UrlInbox { path }
    }

    /// The value for `KAKAO_SIGNIN_BROWSER`: the app appends the URL, which becomes `$0`.
    pub fn browser_command(&self) -> String {
        format!(
            "sh -c 'printf \"%s\\n\" \"$0\" >> \"{}\"'",
            self.path.display()
        )
    }

    /// Like [`UrlInbox::browser_command`], and the "browser" first writes the whole
    /// environment it was started with to `env_file` (complete once the URL is in the inbox).
    pub fn browser_command_saving_env(&self, env_file: &Path) -> String {
        format!(
            "sh -c 'env > \"{env}.tmp\" && mv \"{env}.tmp\" \"{env}\"; printf \"%s\\n\" \"$0\" >> \"{}\"'",
            self.path.display(),
            env = env_file.display(),
        )
    }

    /// Like [`UrlInbox::browser_command_saving_env`], and it also writes its whole command line,
    /// as every local user can read it (`/proc/<pid>/cmdline`, NUL-separated), to `argv_file`
    /// (complete once the URL is in the inbox).
    pub fn browser_command_saving_env_and_argv(&self, env_file: &Path, argv_file: &Path) -> String {
        format!(
            "sh -c 'env > \"{env}.tmp\" && mv \"{env}.tmp\" \"{env}\"; cat /proc/$$/cmdline > \"{argv}.tmp\" && mv \"{argv}.tmp\" \"{argv}\"; printf \"%s\\n\" \"$0\" >> \"{}\"'",
            self.path.display(),
            env = env_file.display(),
            argv = argv_file.display(),
        )
    }

    /// How many URLs the app has opened so far.
    pub fn len(&self) -> usize {
        std::fs::read_to_string(&self.path)
            .unwrap_or_default()
            .lines()
            .count()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Waits for the `n`-th URL (1-based) the app opened.
    pub async fn nth(&self, n: usize) -> Result<String> {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let text = std::fs::read_to_string(&self.path).unwrap_or_default();
            if let Some(url) = text.lines().nth(n - 1) {
                return Ok(url.to_owned());
            }
            if Instant::now() > deadline {
                bail!("the app did not open a browser URL #{n} within 20 s");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

pub use kakao_signin_test_support::keychain_accounts;
pub use kakao_signin_test_support::{KeychainState, PrivateSecretService};

// ---- one test's world ------------------------------------------------------------------------

/// The language a test runs the window in (through `LANG`, as the OS would set it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lang {
    Ko,
    En,
}

impl Lang {
    /// `ko` / `en`: the suffix of screenshot names and the window's `<html lang>`.
    pub fn tag(self) -> &'static str {
        match self {
            Lang::Ko => "ko",
            Lang::En => "en",
        }
    }

    pub fn locale(self) -> &'static str {
        match self {
            Lang::Ko => "ko_KR.UTF-8",
            Lang::En => "en_US.UTF-8",
        }
    }

    pub fn other(self) -> Lang {
        match self {
            Lang::Ko => Lang::En,
            Lang::En => Lang::Ko,
        }
    }

    /// The text a person reading this language expects.
    pub fn pick<'a>(self, ko: &'a str, en: &'a str) -> &'a str {
        match self {
            Lang::Ko => ko,
            Lang::En => en,
        }
    }
}

/// The member id of a demo user, from the simulator's demo config.
pub fn demo_member_id(login: &str) -> i64 {
    SimConfig::demo()
        .users
        .iter()
        .find(|u| u.login == login)
        .unwrap_or_else(|| panic!("{login} is not a demo user"))
        .id
}

/// One test's world: the simulator with a free loopback port registered as the app's redirect
/// and logout redirect URI, its own keychain service, data directory and URL inbox. Dropping it
/// removes the data directory, the inbox file and the keychain items.
pub struct Rig {
    pub sim: Sim,
    pub port: u16,
    pub lang: Lang,
    pub service: String,
    pub data: PathBuf,
    pub inbox: UrlInbox,
}

impl Rig {
    pub async fn start(tag: &str, lang: Lang) -> Result<Rig> {
        Rig::start_with(tag, lang, |_| {}).await
    }

    /// Like [`Rig::start`], with the demo config changed by `edit` first.
    pub async fn start_with(
        tag: &str,
        lang: Lang,
        edit: impl FnOnce(&mut SimConfig),
    ) -> Result<Rig> {
        let port = free_port();
        let mut cfg = SimConfig::for_loopback_port(port);
        edit(&mut cfg);
        let sim = Sim::start(cfg).await?;
        let unique = format!("{tag}-{}-{}", lang.tag(), std::process::id());
        Ok(Rig {
            sim,
            port,
            lang,
            service: format!("kakao-signin-e2e-{unique}"),
            data: std::env::temp_dir().join(format!("kakao-signin-e2e-data-{unique}")),
            inbox: UrlInbox::new(&unique),
        })
    }

    /// Whether `url` is one of the app's one-time loopback start URLs on this rig's port (what
    /// the app opens the browser at, instead of Kakao's URL: issue 17).
    pub fn is_start_url(&self, url: &str) -> bool {
        url.starts_with(&format!("http://127.0.0.1:{}/start/", self.port))
    }

    pub fn redirect_uri(&self) -> String {
        format!("http://127.0.0.1:{}/callback", self.port)
    }

    /// The app's environment: configured for the simulator, in this rig's language.
    pub fn env(&self) -> Vec<(String, String)> {
        let mut env = unconfigured_env(&self.service, &self.data, self.lang);
        env.extend(
            [
                ("KAKAO_SIGNIN_CLIENT_ID", "sandbox-rest-api-key".to_owned()),
                ("KAKAO_SIGNIN_AUTH_URL", self.sim.base_url()),
                ("KAKAO_SIGNIN_API_URL", self.sim.base_url()),
                ("KAKAO_SIGNIN_REDIRECT_PORTS", self.port.to_string()),
                ("KAKAO_SIGNIN_BROWSER", self.inbox.browser_command()),
            ]
            .map(|(k, v)| (k.to_owned(), v)),
        );
        env
    }

    /// Starts the app (a fresh process) against this rig.
    pub async fn launch(&self) -> Result<App> {
        App::launch(AppOptions { env: self.env() }).await
    }

    pub fn keychain(&self) -> Vec<String> {
        keychain_accounts(&self.service)
    }

    /// Clicks `button` (`#signin`, `#signin-other-account`, …) in the window, opens the URL the
    /// app sent in `browser`, logs in as `login` when Kakao asks, and answers the consent page as
    /// `consent` says. Returns the URL the app opened.
    pub async fn sign_in(
        &self,
        app: &App,
        browser: &Chromium,
        button: &str,
        login: &str,
        consent: Consent,
    ) -> Result<String> {
        let n = self.inbox.len() + 1;
        app.click(button).await?;
        let url = self.inbox.nth(n).await?;
        browser.client.goto(&url).await?;
        browser.log_in(login, "demo1234").await?;
        browser.answer_consent(consent).await?;
        Ok(url)
    }
}

impl Drop for Rig {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.data);
        let _ = std::fs::remove_file(&self.inbox.path);
        let _ = Command::new("secret-tool")
            .args(["clear", "service", &self.service])
            .status();
    }
}

/// The environment of an app with no REST API key: only the keychain service, data directory
/// and language are set.
pub fn unconfigured_env(service: &str, data: &Path, lang: Lang) -> Vec<(String, String)> {
    vec![
        ("KAKAO_SIGNIN_KEYRING_SERVICE".into(), service.to_owned()),
        ("KAKAO_SIGNIN_DATA_DIR".into(), data.display().to_string()),
        ("LANG".into(), lang.locale().into()),
        ("LC_ALL".into(), lang.locale().into()),
    ]
}

/// How to answer Kakao's (the simulator's) consent page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Consent {
    /// 전체 동의, then agree.
    All,
    /// Agree with only the pre-checked required items.
    RequiredOnly,
    /// Cancel on the consent page.
    Cancel,
    /// Kakao shows no consent page (everything needed was agreed before).
    NotAsked,
}

/// Waits until nothing listens on `127.0.0.1:port` any more, proving it by binding it.
pub async fn wait_port_free(port: u16) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match std::net::TcpListener::bind(("127.0.0.1", port)) {
            Ok(_) => return Ok(()),
            Err(e) if Instant::now() > deadline => {
                bail!("port {port} is still taken 10 s later: {e}")
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
}

// ---- hardening helpers (logs, kill -9, processes) --------------------------------------------

impl App {
    /// Like [`App::launch`], with everything the app writes to stderr (its log, at the level
    /// `KAKAO_SIGNIN_LOG` sets, and any panic) appended to `stderr_log`. tauri-driver and
    /// WebKitWebDriver pass the app's stderr through.
    pub async fn launch_logged(options: AppOptions, stderr_log: &Path) -> Result<App> {
        App::launch_with(options, Some(stderr_log)).await
    }

    /// The pids of the app binary running in this window's process group.
    pub fn app_pids(&self) -> Vec<i32> {
        pids_in_group(self._driver.pid() as i32, "kakao-signin")
    }

    /// kill -9 of the app and its whole process group (tauri-driver, WebKitWebDriver): no
    /// destructor, no flush, no goodbye. Returns the app pids that were killed.
    pub fn kill9(mut self) -> Vec<i32> {
        let pids = self.app_pids();
        self._driver.kill();
        pids
    }
}

/// Processes whose process group is `pgid` and whose command name is `comm`.
pub fn pids_in_group(pgid: i32, comm: &str) -> Vec<i32> {
    let mut out = Vec::new();
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return out;
    };
    for e in dir.flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        // pid (comm) state ppid pgrp …; comm may hold spaces, so split after the last ')'.
        let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else {
            continue;
        };
        let name = &stat[open + 1..close];
        let rest: Vec<&str> = stat[close + 1..].split_whitespace().collect();
        if name == comm && rest.get(2).and_then(|g| g.parse::<i32>().ok()) == Some(pgid) {
            out.push(pid);
        }
    }
    out
}

/// Whether process `pid` still exists (and is not a zombie).
pub fn pid_alive(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|s| {
            let state = s
                .rfind(')')
                .and_then(|i| s[i + 1..].split_whitespace().next().map(str::to_owned));
            !matches!(state.as_deref(), Some("Z") | Some("X"))
        })
        .unwrap_or(false)
}

/// What `secret-tool lookup service <service> username <account>` prints: the stored JSON of
/// one keychain entry, read from outside the app.
pub fn keychain_entry(service: &str, account: &str) -> Option<String> {
    let out = Command::new("secret-tool")
        .args(["lookup", "service", service, "username", account])
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    (out.status.success() && !text.is_empty()).then_some(text)
}

/// A string field of a keychain entry's JSON (`access_token`, `refresh_token`).
pub fn keychain_field(service: &str, account: &str, field: &str) -> Option<String> {
    let raw = keychain_entry(service, account)?;
    let v: serde_json::Value = serde_json::from_str(&raw).ok()?;
    v[field].as_str().map(str::to_owned)
}

/// An 8-bit RGB PNG of `img`.
fn encode_png(img: &xscreen::Rgb) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    let mut enc = png::Encoder::new(&mut out, img.width, img.height);
    enc.set_color(png::ColorType::Rgb);
    enc.set_depth(png::BitDepth::Eight);
    enc.write_header()?.write_image_data(&img.data)?;
    Ok(out)
}
