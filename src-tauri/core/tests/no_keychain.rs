//! The session against a REAL Secret Service that cannot store tokens: gnome-keyring on a
//! private D-Bus session bus (`PrivateSecretService` of the test support crate), in the two
//! states people meet in the field:
//! - no default collection (WSL, a headless or first login that never created the login
//!   keyring);
//! - a login keyring that is locked, with no display for an unlock prompt.
//!
//! At start the window must say `no_keychain` with the fix (not `offline`, not a plain
//! `signed_out`), and a sign-in must be refused before the browser opens (no authorize request
//! reaches Kakao, the simulator), with the fix.
//!
//! `keyring` connects to the bus named by `DBUS_SESSION_BUS_ADDRESS` on each call, so each case
//! runs in a child process of this binary (`harness = false`) given that bus; this process's
//! own environment is never changed. Needs `dbus-daemon` and `gnome-keyring-daemon`; without
//! them the run FAILS, naming what is missing.

use kakao_signin_core::session::view::{SessionView, Status};
use kakao_signin_core::vault::Vault;
use kakao_signin_test_support::{
    free_loopback_port, session_against, start_sim, Consent, KeychainState, PrivateSecretService,
    Script, SimBrowser,
};
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

/// Set for a child run: which [`KeychainState`] it is given.
const CHILD_ENV: &str = "KAKAO_NO_KEYCHAIN_TEST_CHILD";

const CASES: [(&str, KeychainState); 2] = [
    ("no-default-collection", KeychainState::NoDefaultCollection),
    ("locked-no-prompt", KeychainState::Locked),
];

fn main() {
    if let Ok(case) = std::env::var(CHILD_ENV) {
        let state = CASES
            .iter()
            .find(|(name, _)| *name == case)
            .unwrap_or_else(|| panic!("unknown case {case}"))
            .1;
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("a Tokio runtime")
            .block_on(child(state));
        return;
    }
    let filter: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let mut failed = Vec::new();
    let mut passed = 0;
    let cases: Vec<_> = CASES
        .into_iter()
        .filter(|(name, _)| filter.is_empty() || filter.iter().any(|f| name.contains(f.as_str())))
        .collect();
    println!("\nrunning {} tests", cases.len());
    for (name, state) in cases {
        let keychain = PrivateSecretService::start(state);
        let out = Command::new(std::env::current_exe().expect("this test binary"))
            .envs(keychain.env())
            .env(CHILD_ENV, name)
            .output()
            .expect("the child test runs");
        let verdict = if out.status.success() { "ok" } else { "FAILED" };
        println!("test {name} ... {verdict}");
        if out.status.success() {
            passed += 1;
        } else {
            println!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            failed.push(name);
        }
    }
    let verdict = if failed.is_empty() { "ok" } else { "FAILED" };
    println!(
        "\ntest result: {verdict}. {passed} passed; {} failed\n",
        failed.len()
    );
    assert!(failed.is_empty(), "failed: {failed:?}");
}

/// One case, in a process whose `DBUS_SESSION_BUS_ADDRESS` is the private bus.
async fn child(state: KeychainState) {
    let port = free_loopback_port();
    let sim = start_sim(port).await;
    let data_dir = std::env::temp_dir().join(format!("ks-no-keychain-{}", std::process::id()));
    // A browser that would sign in at once: if the session opened it, Kakao would issue tokens.
    let browser = SimBrowser::new(Some(Script {
        login: "full@kakao.test",
        consent: Consent::All,
    }));
    let service = format!("kakao-signin-no-keychain-{}", std::process::id());
    let session = || {
        session_against(
            &sim,
            &sim.base_url(),
            Vault::keyring(service.clone()).with_timeout(Duration::from_secs(5)),
            &data_dir,
            &browser,
            vec![port],
            Arc::new(|_| {}),
        )
    };
    let (kind, fix_says) = match state {
        KeychainState::NoDefaultCollection => ("keychain_unavailable", "default"),
        KeychainState::Locked => ("keychain_locked", "Unlock"),
    };
    let says_what_to_do = |v: &SessionView, when: &str| {
        let e = v
            .error
            .as_ref()
            .unwrap_or_else(|| panic!("{when}: no error shown: {v:#?}"));
        assert_eq!(e.kind, kind, "{when}: {v:#?}");
        let fix = e
            .fix
            .as_ref()
            .unwrap_or_else(|| panic!("{when}: no fix: {v:#?}"));
        assert!(
            fix.en.contains(fix_says) && fix.en.contains("gnome-keyring-daemon"),
            "{when}: fix {:?}",
            fix.en
        );
        assert!(
            fix.ko.contains("gnome-keyring-daemon"),
            "{when}: {:?}",
            fix.ko
        );
    };
    let no_browser = |when: &str| {
        assert!(
            browser.opened().is_empty(),
            "{when}: the browser was opened: {:?}",
            browser.opened()
        );
        assert_eq!(sim.stats().authorize_hits, 0, "{when}: Kakao was asked");
        assert!(
            !sim.request_log()
                .iter()
                .any(|r| r.path == "/oauth/authorize"),
            "{when}: an authorize request reached Kakao"
        );
    };

    // At start: its own state with the fix, not "offline" and not a plain "signed out".
    let s = session();
    let v = s.restore().await;
    assert_eq!(v.status, Status::NoKeychain, "restore: {v:#?}");
    says_what_to_do(&v, "restore");
    // Retry asks again, and still knows.
    let v = s.retry().await;
    assert_eq!(v.status, Status::NoKeychain, "retry: {v:#?}");
    says_what_to_do(&v, "retry");

    // Sign-in is refused before the browser opens (and before a listener is bound).
    let v = s.sign_in(None).await;
    assert_eq!(v.status, Status::NoKeychain, "sign-in: {v:#?}");
    assert!(v.waiting.is_none(), "sign-in: waiting {v:#?}");
    says_what_to_do(&v, "sign-in");
    no_browser("sign-in after restore");
    assert!(
        std::net::TcpListener::bind(("127.0.0.1", port)).is_ok(),
        "a loopback listener was bound"
    );

    // The same from a session that did not restore first (the keychain is checked by the
    // sign-in itself, not only remembered from the start).
    let v = session().sign_in(None).await;
    assert!(v.waiting.is_none(), "fresh sign-in: waiting {v:#?}");
    says_what_to_do(&v, "fresh sign-in");
    no_browser("fresh sign-in");
    let _ = std::fs::remove_dir_all(&data_dir);
}
