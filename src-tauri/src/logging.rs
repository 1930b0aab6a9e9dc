//! The app's log, one a person can send: every record goes to stderr and to a
//! size-bounded, rotating file in the OS's state or log directory, which the diagnostics name.
//!
//! - Libraries that log through the `log` facade (tauri, keyring, reqwest) are bridged into
//!   `tracing` (tracing-subscriber's `tracing-log` feature installs the `LogTracer`), so their
//!   records pass the same filter and reach the same places as the app's own.
//! - The filter comes from `KAKAO_SIGNIN_LOG` (a level, or `target=level` pairs); unset, the app's
//!   own crates log at info and libraries only when they warn.
//! - The file lives in [`default_dir`], or in `KAKAO_SIGNIN_LOG_DIR` when that is set (tests put
//!   it in a temporary directory). It holds at most [`MAX_FILE_BYTES`] before it is rotated, and
//!   [`MAX_FILES`] files are kept: `kakao-signin.log`, `.log.1` (older), `.log.2` (oldest).
//!
//! Nothing in the app logs a token, code or verifier at any level (their types redact
//! themselves), and reqwest, the one library here that could print request bytes, is capped at
//! info whatever the filter says ([`library_cap`]).

use file_rotate::compression::Compression;
use file_rotate::suffix::AppendCount;
use file_rotate::{ContentLimit, FileRotate};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use tracing_subscriber::filter::{FilterFn, LevelFilter, Targets};

/// The filter's environment variable: a level (`debug`) or `target=level` pairs
/// (`kakao_signin_core=debug,info`), as `tracing_subscriber::filter::Targets` parses them.
pub const LOG_ENV: &str = "KAKAO_SIGNIN_LOG";

/// The environment variable that places the log directory instead of [`default_dir`].
pub const LOG_DIR_ENV: &str = "KAKAO_SIGNIN_LOG_DIR";

/// The current log file's name in the log directory; rotated files add `.1`, `.2`.
pub const FILE_NAME: &str = "kakao-signin.log";

/// The most one log file holds, in bytes (1 MiB): the record that fills it goes on in a fresh
/// file, and the full one becomes `kakao-signin.log.1`.
pub const MAX_FILE_BYTES: u64 = 1024 * 1024;

/// How many log files are kept, the current one included: at most
/// `MAX_FILES * MAX_FILE_BYTES` bytes (3 MiB) on disk.
pub const MAX_FILES: u64 = 3;

/// Sets up the app's logging, once, before anything logs: stderr and the log file, with the
/// `log` bridge. Returns the log file's path, or `None` when no file could be opened; then the
/// app logs to stderr only and says why in a warning.
pub fn init() -> Option<PathBuf> {
    let mut warnings = Vec::new();
    let spec = std::env::var(LOG_ENV).ok();
    let filter = match parse_filter(spec.as_deref()) {
        Ok(f) => f,
        Err(e) => {
            warnings.push(format!(
                "{LOG_ENV} = {:?}: {e}; using the default filter",
                spec.unwrap_or_default()
            ));
            default_filter()
        }
    };
    let dir = std::env::var_os(LOG_DIR_ENV)
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .or_else(default_dir);
    let file = match &dir {
        Some(dir) => match open(dir, MAX_FILE_BYTES, MAX_FILES) {
            Ok(file) => Some(file),
            Err(e) => {
                warnings.push(format!(
                    "cannot open a log file in {}: {e}; logging to stderr only",
                    dir.display()
                ));
                None
            }
        },
        None => {
            warnings.push(
                "no directory for a log file (no home directory?); logging to stderr only".into(),
            );
            None
        }
    };
    let path = file.as_ref().map(|(path, _)| path.clone());
    if let Err(e) = install(filter, file.map(|(_, w)| w), true) {
        // Only if something set a logger first; its logs then go wherever it sends them.
        eprintln!("kakao-signin: logging was already set up ({e}); no log file");
        return None;
    }
    for w in warnings {
        tracing::warn!("{w}");
    }
    // One line per start, so runs can be told apart in the file.
    tracing::info!(
        "Kakao Sign-in {} started; log file: {}",
        env!("CARGO_PKG_VERSION"),
        path.as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or_else(|| "none".into())
    );
    path
}

/// Where the log file goes unless `KAKAO_SIGNIN_LOG_DIR` says otherwise: Linux
/// `$XDG_STATE_HOME/kakao-signin/logs` (`~/.local/state/kakao-signin/logs`), macOS
/// `~/Library/Logs/kakao-signin` (where Console finds logs), Windows
/// `%LOCALAPPDATA%\kakao-signin\data\logs`. `None` without a home directory.
pub fn default_dir() -> Option<PathBuf> {
    if cfg!(target_os = "macos") {
        return directories::BaseDirs::new().map(|b| {
            b.home_dir()
                .join("Library")
                .join("Logs")
                .join("kakao-signin")
        });
    }
    // The same project directories as the config (kakao_signin_core::config). Only Linux has a
    // state directory; elsewhere the local (not roaming) data directory.
    let dirs = directories::ProjectDirs::from("", "", "kakao-signin")?;
    let base = dirs.state_dir().unwrap_or_else(|| dirs.data_local_dir());
    Some(base.join("logs"))
}

/// The rotating log file's writer.
pub type LogFile = FileRotate<AppendCount>;

/// Opens (creating it and its directory if needed) the rotating log file [`FILE_NAME`] in `dir`:
/// a file holds at most `max_file_bytes` bytes, and at most `max_files` files are kept, the
/// current one included. On Unix a directory this creates gets mode 0700 and every log file 0600
/// (a file left from before, or made by hand, is made 0600 here): the log says what the app did,
/// for its user only. Returns the file's path and its writer, which writes each record straight
/// to the file (no buffer) and rotates in the write that fills a file.
///
/// # Panics
///
/// If `max_file_bytes` or `max_files` is 0.
pub fn open(
    dir: &Path,
    max_file_bytes: u64,
    max_files: u64,
) -> std::io::Result<(PathBuf, LogFile)> {
    assert!(max_file_bytes > 0 && max_files > 0, "a log file needs room");
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)?;
    let path = dir.join(FILE_NAME);
    let mut options = std::fs::OpenOptions::new();
    // What file-rotate needs of them (its docs), and the mode of every file it creates.
    options.read(true).create(true).append(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    // file-rotate keeps an open failure to itself (it then writes nowhere): try it here, so the
    // caller hears why there is no log file.
    drop(options.open(&path)?);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))?;
    }
    let writer = FileRotate::new(
        &path,
        // Counts the rotated files only.
        AppendCount::new(usize::try_from(max_files - 1).unwrap_or(usize::MAX)),
        ContentLimit::Bytes(usize::try_from(max_file_bytes).unwrap_or(usize::MAX)),
        Compression::None,
        Some(options),
    );
    Ok((path, writer))
}

/// The filter for a `KAKAO_SIGNIN_LOG` value: the value as `Targets` parses it, or, unset or
/// blank, [`default_filter`].
fn parse_filter(spec: Option<&str>) -> Result<Targets, tracing_subscriber::filter::ParseError> {
    match spec.map(str::trim) {
        Some(s) if !s.is_empty() => s.parse(),
        _ => Ok(default_filter()),
    }
}

/// The app's own crates at info (`kakao_signin` matches `kakao_signin_lib` and
/// `kakao_signin_core` too: targets match by prefix), the sandbox simulator at info, and
/// libraries only when they warn: their info and debug lines say little to a person reading the
/// file, and the fewer of them, the less a library's wording can carry.
fn default_filter() -> Targets {
    Targets::new()
        .with_default(LevelFilter::WARN)
        .with_target("kakao_signin", LevelFilter::INFO)
        .with_target("kakao_sim", LevelFilter::INFO)
}

/// Drops reqwest's records above info, whatever `KAKAO_SIGNIN_LOG` asks.
///
/// reqwest's "verbose connection" mode logs every byte it reads and writes at TRACE (target
/// `reqwest::connect::verbose`): request headers with `Authorization: Bearer …`, token request
/// bodies with the code, the PKCE verifier and the client secret, and token responses. The app
/// never turns that mode on, but reqwest builds the verbose wrapper only when
/// `log_enabled!(Trace)` answers yes for it, and with this cap it never does. reqwest's other
/// debug and trace lines (connection set-up, retries) are not worth keeping that door open.
///
/// hyper 1 logs nothing here (its tracing is behind `--cfg hyper_unstable_tracing`), h2 is not
/// built (no HTTP/2), and hyper-util's records name pool keys (scheme, host, port) and socket
/// addresses, never headers or bodies: they follow the filter like any library.
fn library_cap() -> FilterFn<impl Fn(&tracing::Metadata<'_>) -> bool> {
    tracing_subscriber::filter::filter_fn(|meta| {
        let target = meta.target();
        let reqwest = target == "reqwest" || target.starts_with("reqwest::");
        !(reqwest && *meta.level() > tracing::Level::INFO)
    })
}

/// Installs the global subscriber: `filter` and [`library_cap`] for every record, stderr when
/// `stderr` is set, and `file` when there is one. Also installs the `log` bridge, whose max level
/// follows the filter. Fails if a subscriber or a `log` logger is already set.
fn install(
    filter: Targets,
    file: Option<LogFile>,
    stderr: bool,
) -> Result<(), tracing_subscriber::util::TryInitError> {
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    let stderr = stderr.then(|| tracing_subscriber::fmt::layer().with_writer(std::io::stderr));
    // Written in place, under a lock, not through a background thread: a record is in the file
    // when the call that logged it returns, so the lines before a crash (release builds abort on
    // panic) or a kill are there for a person to send. Log volume is small; a write of a line to
    // a local file costs microseconds.
    let file = file.map(|w| {
        tracing_subscriber::fmt::layer()
            .with_ansi(false)
            .with_writer(Mutex::new(w))
    });
    tracing_subscriber::registry()
        .with(stderr)
        .with(file)
        .with(library_cap())
        .with(filter)
        .try_init()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn temp_dir(tag: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("kakao-signin-logging-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    /// (name, size) of every file in `dir`, sorted by name.
    fn files(dir: &Path) -> Vec<(String, u64)> {
        let mut out: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                (
                    e.file_name().to_string_lossy().into_owned(),
                    e.metadata().unwrap().len(),
                )
            })
            .collect();
        out.sort();
        out
    }

    #[test]
    fn rotation_bounds_each_file_and_the_number_of_files() {
        let dir = temp_dir("rotation").join("logs");
        let (path, mut w) = open(&dir, 1000, 3).unwrap();
        assert_eq!(path, dir.join(FILE_NAME));
        // 20 000 bytes in 200 lines: twenty times what one file holds.
        for i in 0..200 {
            w.write_all(format!("{i:05} {}\n", "x".repeat(93)).as_bytes())
                .unwrap();
        }
        w.flush().unwrap();
        let found = files(&dir);
        let names: Vec<&str> = found.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            [
                "kakao-signin.log",
                "kakao-signin.log.1",
                "kakao-signin.log.2"
            ]
        );
        for (name, size) in &found {
            assert!(*size <= 1000, "{name} holds {size} bytes");
        }
        // The newest records are the ones kept.
        let current = std::fs::read_to_string(&path).unwrap();
        assert!(current.ends_with(&format!("00199 {}\n", "x".repeat(93))));
        // Reopened (the next start), the file goes on where it was and stays bounded.
        drop(w);
        let (_, mut w) = open(&dir, 1000, 3).unwrap();
        for _ in 0..25 {
            w.write_all(&[b'y'; 100]).unwrap();
        }
        w.flush().unwrap();
        for (name, size) in files(&dir) {
            assert!(size <= 1000, "{name} holds {size} bytes");
        }
        assert_eq!(files(&dir).len(), 3);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode(&dir), 0o700);
            for (name, _) in files(&dir) {
                assert_eq!(mode(&dir.join(&name)), 0o600, "{name}");
            }
        }
        let _ = std::fs::remove_dir_all(dir.parent().unwrap());
    }

    #[cfg(unix)]
    #[test]
    fn an_old_world_readable_file_is_made_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = temp_dir("private");
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(FILE_NAME);
        std::fs::write(&path, "from before\n").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        open(&dir, 1000, 3).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn filters_parse_and_the_default_keeps_libraries_quiet() {
        use tracing::Level;
        let default = parse_filter(None).unwrap();
        assert!(default.would_enable("kakao_signin_core::session", &Level::INFO));
        assert!(default.would_enable("kakao_signin_lib", &Level::INFO));
        assert!(!default.would_enable("kakao_signin_core::session", &Level::DEBUG));
        assert!(!default.would_enable("keyring", &Level::INFO));
        assert!(default.would_enable("keyring", &Level::WARN));
        assert!(parse_filter(Some("  ")).is_ok());
        let trace = parse_filter(Some("trace")).unwrap();
        assert!(trace.would_enable("keyring", &Level::TRACE));
        assert!(parse_filter(Some("kakao_signin_core=loud")).is_err());
    }

    /// The one test that installs the global subscriber (a process has one): a record sent
    /// through the `log` facade, as tauri and keyring send theirs, lands in the file with its
    /// target, and reqwest stays capped at info under a trace filter.
    #[test]
    fn log_records_reach_the_file_and_reqwest_stays_at_info() {
        let dir = temp_dir("bridge");
        let (path, w) = open(&dir, MAX_FILE_BYTES, MAX_FILES).unwrap();
        install(parse_filter(Some("trace")).unwrap(), Some(w), false).unwrap();
        log::info!(target: "some_library::module", "a record from the log facade");
        log::trace!(target: "some_library", "and one at trace");
        tracing::debug!(target: "kakao_signin_core::session", "a tracing event");
        log::info!(target: "reqwest::connect", "reqwest at info");
        log::trace!(
            target: "reqwest::connect::verbose",
            "write: \"Authorization: Bearer not-in-the-file\""
        );
        assert!(!log::log_enabled!(target: "reqwest::connect::verbose", log::Level::Trace));
        // Written in place: nothing to wait for.
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            text.contains("INFO some_library::module: a record from the log facade"),
            "{text}"
        );
        assert!(
            text.contains("TRACE some_library: and one at trace"),
            "{text}"
        );
        assert!(text.contains("a tracing event"), "{text}");
        assert!(text.contains("reqwest at info"), "{text}");
        assert!(!text.contains("not-in-the-file"), "{text}");
        // No colour codes in a file meant to be read.
        assert!(!text.contains('\u{1b}'), "{text}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
