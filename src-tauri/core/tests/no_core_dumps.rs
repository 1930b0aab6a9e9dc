//! `hardening::no_core_dumps` (issue 17, item 8), in a test binary of its own since it changes
//! the whole process: afterwards the kernel says the process is not dumpable and its core limit
//! is 0 soft and hard, read from outside with `prlimit --pid` (util-linux) and from
//! `/proc/<pid>/limits`.

#[cfg(target_os = "linux")]
#[test]
fn core_dumps_are_off_after_start() {
    use rustix::process::{dumpable_behavior, DumpableBehavior};
    let pid = std::process::id();
    let limits = || std::fs::read_to_string(format!("/proc/{pid}/limits")).unwrap();
    let core_line = |text: &str| {
        text.lines()
            .find(|l| l.starts_with("Max core file size"))
            .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
            .unwrap()
    };
    kakao_signin_core::hardening::no_core_dumps().unwrap();
    assert_eq!(
        dumpable_behavior().unwrap(),
        DumpableBehavior::NotDumpable,
        "PR_GET_DUMPABLE"
    );
    assert_eq!(core_line(&limits()), "Max core file size 0 0 bytes");
    let out = std::process::Command::new("prlimit")
        .args([
            "--pid",
            &pid.to_string(),
            "--core",
            "--raw",
            "--noheadings",
            "--output",
            "SOFT,HARD",
        ])
        .output()
        .expect("prlimit (util-linux) runs");
    assert!(out.status.success(), "{out:?}");
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        text.split_whitespace().collect::<Vec<_>>(),
        ["0", "0"],
        "{text}"
    );
}
