//! Proxies never catch loopback (issue 16, item 3): with `HTTP_PROXY`, `HTTPS_PROXY` and
//! `ALL_PROXY` pointing at a port where nothing listens, and no `NO_PROXY`, the session still
//! signs in against the simulator on 127.0.0.1, through the app's own wiring
//! (`Deps::from_config`, which reads the process environment).
//!
//! The variables are set only in a child process (this test binary, run again for one test),
//! never in this one, where other tests run in parallel. That Kakao's hosts do go through the
//! proxy, and NO_PROXY hosts do not, is tested in `kakao/http.rs` with a recording proxy.

use kakao_signin_core::session::view::Status;
use kakao_signin_core::session::Session;
use kakao_signin_core::vault::{MemoryStore, Vault};
use kakao_signin_test_support::{
    free_loopback_port, session_against, start_sim, Consent, Script, SimBrowser,
};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A port on loopback where nothing listens (the discard port).
const DEAD_PROXY: &str = "http://127.0.0.1:9";

/// Signs in against the simulator with whatever proxy variables this process has, and checks
/// the profile (and its picture, fetched from the simulator too) arrived. On its own it runs
/// with the developer's environment; [`loopback_goes_direct_with_every_proxy_variable_set`]
/// runs it again with the proxy variables pointing nowhere.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signs_in_against_the_simulator_with_this_process_proxy_variables() {
    let port = free_loopback_port();
    let sim = start_sim(port).await;
    let data = std::env::temp_dir().join(format!("ks-proxy-{}", std::process::id()));
    let browser = SimBrowser::new(Some(Script {
        login: "full@kakao.test",
        consent: Consent::All,
    }));
    let session: Arc<Session> = session_against(
        &sim,
        &sim.base_url(),
        Vault::new(Arc::new(MemoryStore::new())),
        &data,
        &browser,
        vec![port],
        Arc::new(|_| {}),
    );
    let v = session.sign_in(None).await;
    assert_eq!(
        v.status,
        Status::Waiting,
        "sign-in did not start: {:?}",
        v.error
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    let v = loop {
        let v = session.view();
        if !matches!(v.status, Status::Waiting | Status::Completing) {
            break v;
        }
        assert!(
            Instant::now() < deadline,
            "sign-in never ended: {:?}",
            v.status
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(
        v.status,
        Status::SignedIn,
        "error: {:?}; browser ended on: {}",
        v.error,
        browser.last_page.lock().unwrap()
    );
    let profile = v.profile.expect("a profile after sign-in");
    assert!(
        profile
            .image
            .as_deref()
            .is_some_and(|i| i.starts_with("data:image/")),
        "the picture did not arrive"
    );
    // The diagnostics say how kauth and kapi (here the simulator) are reached.
    let diagnostics = session.diagnostics(&[]);
    let proxy_line = diagnostics
        .lines()
        .find(|l| l.starts_with("proxy: "))
        .unwrap_or_else(|| panic!("no proxy line in:\n{diagnostics}"));
    assert!(
        proxy_line.starts_with("proxy: none (loopback is never proxied)"),
        "{proxy_line}"
    );
    let _ = std::fs::remove_dir_all(&data);
}

/// The same sign-in in a child process whose every proxy variable (both cases) points at a
/// port where nothing listens, with NO_PROXY unset.
#[test]
fn loopback_goes_direct_with_every_proxy_variable_set() {
    let mut child = Command::new(std::env::current_exe().unwrap());
    child.args([
        "--exact",
        "signs_in_against_the_simulator_with_this_process_proxy_variables",
        "--nocapture",
        "--test-threads=1",
    ]);
    for name in [
        "HTTP_PROXY",
        "http_proxy",
        "HTTPS_PROXY",
        "https_proxy",
        "ALL_PROXY",
        "all_proxy",
    ] {
        child.env(name, DEAD_PROXY);
    }
    child.env_remove("NO_PROXY").env_remove("no_proxy");
    let out = child.output().expect("the test binary runs again");
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && text.contains("1 passed"),
        "the sign-in failed with the proxy variables set:\n{text}"
    );
}
