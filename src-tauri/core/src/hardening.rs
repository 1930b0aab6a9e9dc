//! Keeping the process's memory (tokens, the code verifier, the client secret) out of core
//! files and away from debuggers of the same user, on Linux: `PR_SET_DUMPABLE` 0 (no core
//! file, no `ptrace` attach without `CAP_SYS_PTRACE`, `/proc/<pid>/mem` closed to the user's
//! other processes) and `RLIMIT_CORE` 0 (soft and hard, so a child cannot raise it either).
//! Elsewhere a no-op: macOS writes core files only when enabled, Windows has no core files.

/// Applies both settings to this process; call first thing at start, before any secret exists.
/// Both are attempted; the first failure is returned (the app runs on, with a warning).
pub fn no_core_dumps() -> std::io::Result<()> {
    #[cfg(target_os = "linux")]
    {
        use rustix::process::{set_dumpable_behavior, setrlimit, DumpableBehavior};
        use rustix::process::{Resource, Rlimit};
        let dumpable = set_dumpable_behavior(DumpableBehavior::NotDumpable);
        let limit = setrlimit(
            Resource::Core,
            Rlimit {
                current: Some(0),
                maximum: Some(0),
            },
        );
        dumpable.and(limit).map_err(std::io::Error::from)
    }
    #[cfg(not(target_os = "linux"))]
    Ok(())
}
