//! One window per person: the first start holds a lock in the user's private runtime directory
//! and listens on a Unix socket beside it; a later start knocks on that socket (so the first
//! window comes to the front) and exits before it builds a session, a listener or a refresh.
//!
//! The lock is an advisory `flock` the kernel drops when the process dies, so a crash leaves
//! nothing stale behind; the socket file left by a crash is replaced by the next first start.
//! The directory is the user's own (0700), so only the same user can knock.

use std::fs::{DirBuilder, File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const KNOCK: &[u8] = b"raise\n";
const HEARD: &[u8] = b"ok\n";
/// How long a later start keeps knocking while the first one is between taking the lock and
/// listening (it does both within milliseconds of starting).
const KNOCK_PATIENCE: Duration = Duration::from_secs(3);
/// A knocker that connects and says nothing is dropped after this, so it can't stall the first.
const IO_TIMEOUT: Duration = Duration::from_secs(1);

/// What [`claim`] found.
#[derive(Debug)]
pub enum Claim {
    /// This is the only instance; keep the [`First`] alive for as long as the process runs.
    First(First),
    /// Another instance is running. `heard` says whether it answered the knock.
    Running {
        /// Whether the running instance answered the knock (and raised its window).
        heard: bool,
    },
}

/// The first instance's lock and socket.
#[derive(Debug)]
pub struct First {
    // Held, never read: the lock lasts as long as this open file.
    _lock: File,
    listener: UnixListener,
}

/// Where the lock and socket live: `$XDG_RUNTIME_DIR/<app_id>` (private to the user by the XDG
/// Base Directory spec), or, where there is no runtime dir (macOS, `su` shells, some SSH and
/// cron sessions), `<app_id>/instance` in the user's cache directory (`$XDG_CACHE_HOME` or
/// `~/.cache`; `~/Library/Caches` on macOS): inside the home, which no other user can write to.
///
/// Never a fixed name in the shared temp directory: another user could create
/// `/tmp/<app_id>-<uid>` first, and the guard would then be lost (issue 17). `None` when there
/// is no home either; the caller then runs without the guard and says so.
pub fn default_dir(app_id: &str) -> Option<PathBuf> {
    dir_from(
        std::env::var_os("XDG_RUNTIME_DIR"),
        directories::BaseDirs::new().map(|d| d.cache_dir().to_path_buf()),
        app_id,
    )
}

/// [`default_dir`] from the two places it looks, for tests.
fn dir_from(
    runtime: Option<std::ffi::OsString>,
    cache: Option<PathBuf>,
    app_id: &str,
) -> Option<PathBuf> {
    match runtime.filter(|d| !d.is_empty()) {
        Some(d) => Some(PathBuf::from(d).join(app_id)),
        None => cache
            .filter(|c| c.is_absolute())
            .map(|c| c.join(app_id).join("instance")),
    }
}

/// Takes the lock in `dir` (created 0700 if missing) or knocks on the instance that holds it.
pub fn claim(dir: &Path) -> io::Result<Claim> {
    private_dir(dir)?;
    let lock = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .mode(0o600)
        .open(dir.join("instance.lock"))?;
    let socket = dir.join("instance.sock");
    match lock.try_lock() {
        Ok(()) => {
            // Whatever socket file is here belongs to an instance that is gone.
            match std::fs::remove_file(&socket) {
                Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
                _ => {}
            }
            let listener = UnixListener::bind(&socket)?;
            Ok(Claim::First(First {
                _lock: lock,
                listener,
            }))
        }
        Err(std::fs::TryLockError::WouldBlock) => Ok(Claim::Running {
            heard: knock(&socket),
        }),
        Err(std::fs::TryLockError::Error(e)) => Err(e),
    }
}

impl First {
    /// Answers knocks on a thread of its own for the life of the process, calling `on_knock`
    /// for each one.
    pub fn serve(self, on_knock: impl Fn() + Send + 'static) {
        std::thread::Builder::new()
            .name("single-instance".into())
            .spawn(move || {
                let _lock = self._lock;
                for stream in self.listener.incoming() {
                    match stream.and_then(|s| answer(s, &on_knock)) {
                        Ok(()) => {}
                        Err(e) => tracing::debug!("single instance: a knock failed: {e}"),
                    }
                }
            })
            .expect("spawn the single-instance thread");
    }
}

fn answer(mut stream: UnixStream, on_knock: &impl Fn()) -> io::Result<()> {
    stream.set_read_timeout(Some(IO_TIMEOUT))?;
    stream.set_write_timeout(Some(IO_TIMEOUT))?;
    let mut buf = [0u8; 16];
    let mut got = 0;
    while got < KNOCK.len() {
        match stream.read(&mut buf[got..])? {
            0 => break,
            n => got += n,
        }
    }
    if &buf[..got] != KNOCK {
        return Err(io::Error::new(io::ErrorKind::InvalidData, "not a knock"));
    }
    on_knock();
    stream.write_all(HEARD)
}

/// Connects (retrying while the first instance is still getting its socket up), knocks and
/// waits for the answer.
fn knock(socket: &Path) -> bool {
    let deadline = Instant::now() + KNOCK_PATIENCE;
    loop {
        match knock_once(socket) {
            Ok(heard) => return heard,
            Err(e) if Instant::now() < deadline => {
                tracing::debug!("single instance: knocking: {e}; retrying");
                std::thread::sleep(Duration::from_millis(50));
            }
            Err(_) => return false,
        }
    }
}

fn knock_once(socket: &Path) -> io::Result<bool> {
    let mut s = UnixStream::connect(socket)?;
    s.set_read_timeout(Some(IO_TIMEOUT))?;
    s.set_write_timeout(Some(IO_TIMEOUT))?;
    s.write_all(KNOCK)?;
    let mut answer = Vec::new();
    s.take(HEARD.len() as u64).read_to_end(&mut answer)?;
    Ok(answer == HEARD)
}

/// Creates `dir` (and missing parents) as 0700 and refuses one that another user owns, that
/// others can enter, or that is a symlink: the lock and socket decide which process gets the
/// person's sign-in.
fn private_dir(dir: &Path) -> io::Result<()> {
    match DirBuilder::new().mode(0o700).recursive(true).create(dir) {
        Err(e) if e.kind() != io::ErrorKind::AlreadyExists => return Err(e),
        _ => {}
    }
    let meta = std::fs::symlink_metadata(dir)?;
    // SAFETY: getuid has no preconditions and cannot fail.
    let uid = unsafe { libc::getuid() };
    if !meta.is_dir() || meta.uid() != uid || meta.mode() & 0o077 != 0 {
        return Err(io::Error::new(
            io::ErrorKind::PermissionDenied,
            format!(
                "{} is not a private directory of this user (owner {}, mode {:o})",
                dir.display(),
                meta.uid(),
                meta.mode() & 0o777
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    fn temp_dir(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!(
            "kakao-signin-instance-{name}-{}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&d);
        d
    }

    /// Claims `name`'s directory as the first instance, which then serves and counts knocks.
    fn first_instance_counting_knocks(name: &str) -> (PathBuf, Arc<AtomicUsize>) {
        let dir = temp_dir(name);
        let Claim::First(first) = claim(&dir).unwrap() else {
            panic!("the first claim must win")
        };
        let knocks = Arc::new(AtomicUsize::new(0));
        let k = knocks.clone();
        first.serve(move || {
            k.fetch_add(1, Ordering::SeqCst);
        });
        (dir, knocks)
    }

    #[test]
    fn the_second_claim_knocks_on_the_first() {
        let (dir, knocks) = first_instance_counting_knocks("knock");
        for n in 1..=2 {
            match claim(&dir).unwrap() {
                Claim::Running { heard } => assert!(heard, "knock {n} not answered"),
                Claim::First(_) => panic!("a second instance got the lock"),
            }
            assert_eq!(knocks.load(Ordering::SeqCst), n);
        }
        let mode = std::fs::metadata(&dir).unwrap().mode() & 0o777;
        assert_eq!(mode, 0o700);
    }

    #[test]
    fn a_stale_socket_from_a_crash_does_not_block_the_next_start() {
        let dir = temp_dir("stale");
        private_dir(&dir).unwrap();
        // A crashed instance leaves its socket file (no one listens) and no lock.
        drop(UnixListener::bind(dir.join("instance.sock")).unwrap());
        assert!(dir.join("instance.sock").exists());
        assert!(matches!(claim(&dir).unwrap(), Claim::First(_)));
    }

    #[test]
    fn the_lock_goes_with_the_first_instance() {
        let dir = temp_dir("release");
        let first = claim(&dir).unwrap();
        assert!(matches!(first, Claim::First(_)));
        drop(first);
        assert!(matches!(claim(&dir).unwrap(), Claim::First(_)));
    }

    #[test]
    fn a_lock_holder_that_never_answers_is_reported_unheard() {
        let dir = temp_dir("deaf");
        private_dir(&dir).unwrap();
        let lock = File::create(dir.join("instance.lock")).unwrap();
        lock.try_lock().unwrap();
        // Held by a "process" with no socket at all: the knock gives up after its patience.
        let started = Instant::now();
        assert!(matches!(
            claim(&dir).unwrap(),
            Claim::Running { heard: false }
        ));
        assert!(started.elapsed() >= KNOCK_PATIENCE);
    }

    #[test]
    fn without_a_runtime_dir_the_guard_lives_in_the_home_never_in_the_shared_temp_dir() {
        let cache = PathBuf::from("/home/someone/.cache");
        assert_eq!(
            dir_from(Some("/run/user/1000".into()), Some(cache.clone()), "app.id"),
            Some(PathBuf::from("/run/user/1000/app.id"))
        );
        for runtime in [None, Some("".into())] {
            let dir = dir_from(runtime, Some(cache.clone()), "app.id").unwrap();
            assert_eq!(dir, cache.join("app.id").join("instance"));
            assert!(!dir.starts_with(std::env::temp_dir()), "{}", dir.display());
        }
        // No home at all: no guard (the window says so), rather than a guessable path.
        assert_eq!(dir_from(None, None, "app.id"), None);
        assert_eq!(dir_from(None, Some("relative".into()), "app.id"), None);
        // This process's own answer: in its runtime dir when it has one (a private 0700
        // folder, wherever it lives), else not in the shared temp dir.
        if let Some(d) = default_dir("app.id") {
            match std::env::var_os("XDG_RUNTIME_DIR").filter(|r| !r.is_empty()) {
                Some(runtime) => assert!(d.starts_with(runtime), "{}", d.display()),
                None => assert!(!d.starts_with(std::env::temp_dir()), "{}", d.display()),
            }
        }
    }

    #[test]
    fn the_guard_directory_is_created_0700_with_its_parents() {
        let base = temp_dir("parents");
        let dir = base.join("cache").join("app.id").join("instance");
        assert!(matches!(claim(&dir).unwrap(), Claim::First(_)));
        let meta = std::fs::metadata(&dir).unwrap();
        assert_eq!(meta.mode() & 0o777, 0o700);
        // SAFETY: getuid has no preconditions and cannot fail.
        assert_eq!(meta.uid(), unsafe { libc::getuid() });
        let _ = std::fs::remove_dir_all(&base);
    }

    #[test]
    fn a_directory_another_user_created_first_is_refused() {
        // SAFETY: geteuid has no preconditions and cannot fail.
        if unsafe { libc::geteuid() } != 0 {
            eprintln!("SKIPPED: giving a directory to another user needs root (CI runs as root)");
            return;
        }
        let dir = temp_dir("foreign");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::set_permissions(&dir, std::os::unix::fs::PermissionsExt::from_mode(0o700))
            .unwrap();
        // `nobody` made it first, private to themselves: it must not be used.
        std::os::unix::fs::chown(&dir, Some(65534), Some(65534)).unwrap();
        let err = claim(&dir).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::PermissionDenied);
        assert!(err.to_string().contains("owner 65534"), "{err}");
        // And a symlink to a directory of ours is not a private directory either.
        let link = temp_dir("foreign-link");
        let target = temp_dir("foreign-target");
        std::fs::create_dir_all(&target).unwrap();
        std::fs::set_permissions(&target, std::os::unix::fs::PermissionsExt::from_mode(0o700))
            .unwrap();
        std::os::unix::fs::symlink(&target, &link).unwrap();
        assert_eq!(
            claim(&link).unwrap_err().kind(),
            io::ErrorKind::PermissionDenied
        );
        for d in [&dir, &target] {
            let _ = std::fs::remove_dir_all(d);
        }
        let _ = std::fs::remove_file(&link);
    }

    #[test]
    fn a_directory_others_can_enter_is_refused() {
        let dir = temp_dir("open");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::set_permissions(&dir, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .unwrap();
        let err = claim(&dir).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::PermissionDenied);
        assert!(err.to_string().contains("mode 755"), "{err}");
    }

    #[test]
    fn a_stranger_who_says_anything_else_is_not_a_knock() {
        let (dir, knocks) = first_instance_counting_knocks("stranger");
        let mut s = UnixStream::connect(dir.join("instance.sock")).unwrap();
        s.write_all(b"GET / HTTP/1.1\r\n").unwrap();
        let mut out = Vec::new();
        let _ = s.read_to_end(&mut out);
        assert!(out.is_empty(), "a stranger got an answer: {out:?}");
        // …and the first instance still answers a real knock.
        assert!(matches!(
            claim(&dir).unwrap(),
            Claim::Running { heard: true }
        ));
        assert_eq!(knocks.load(Ordering::SeqCst), 1);
    }
}
