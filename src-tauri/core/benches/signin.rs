//! Sign-in overhead: from the browser sending Kakao's redirect to the loopback listener to the
//! session reporting the profile (code exchange + ID token verification + two keychain writes +
//! `/v2/user/me` + picture). Simulator on loopback; the real Secret Service when a D-Bus session
//! is present (run through `/tmp`-style private keyring or `cargo xtask test`'s environment),
//! otherwise the in-memory store, and the output says which.
//!
//! `cargo bench -p kakao-signin-core --bench signin`

use kakao_signin_core::session::view::Status;
use kakao_signin_core::session::Event;
use kakao_signin_test_support::{
    free_loopback_port, keychain_or_memory, session_against, start_sim, Consent, Script, SimBrowser,
};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const RUNS: usize = 30;

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(run());
}

async fn run() {
    let port = free_loopback_port();
    let sim = start_sim(port).await;
    let (vault, real_keychain) =
        keychain_or_memory(&format!("kakao-signin-bench-{}", std::process::id()));
    let browser = SimBrowser::new(Some(Script {
        login: "full@kakao.test",
        consent: Consent::All,
    }));
    let signed_in_at: Arc<Mutex<Option<Instant>>> = Arc::new(Mutex::new(None));
    let seen = signed_in_at.clone();
    let data = std::env::temp_dir().join(format!("kakao-signin-bench-{}", std::process::id()));
    let session = session_against(
        &sim,
        &sim.base_url(),
        vault.clone(),
        &data,
        &browser,
        vec![port],
        Arc::new(move |e| {
            if let Event::Changed(v) = e {
                if v.status == Status::SignedIn && v.profile.is_some() {
                    seen.lock().unwrap().get_or_insert(Instant::now());
                }
            }
        }),
    );
    session.restore().await;
    let mut samples = Vec::with_capacity(RUNS);
    for _ in 0..RUNS {
        *signed_in_at.lock().unwrap() = None;
        session.sign_in(None).await;
        let deadline = Instant::now() + Duration::from_secs(30);
        let done = loop {
            if let Some(t) = *signed_in_at.lock().unwrap() {
                break t;
            }
            assert!(
                Instant::now() < deadline,
                "sign-in did not finish: {:?}",
                session.view()
            );
            tokio::time::sleep(Duration::from_millis(1)).await;
        };
        let sent = browser
            .callback_sent_at
            .lock()
            .unwrap()
            .expect("callback sent");
        samples.push(done.duration_since(sent));
        session.logout(false).await;
        // Kakao allows 20 access tokens per user per 10 minutes: move the simulator's clock on.
        sim.advance_clock(11 * 60);
    }
    samples.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "sign-in overhead (callback at the listener → profile ready), {RUNS} runs, {} keychain:",
        if real_keychain {
            "real Secret Service"
        } else {
            "in-memory (no D-Bus session)"
        }
    );
    println!(
        "  median {:.1} ms   min {:.1} ms   max {:.1} ms   p90 {:.1} ms",
        ms(samples[RUNS / 2]),
        ms(samples[0]),
        ms(samples[RUNS - 1]),
        ms(samples[RUNS * 9 / 10])
    );
    let _ = vault.clear().await;
    let _ = std::fs::remove_dir_all(&data);
}
