//! Refresh under load: 100 concurrent API calls (`Session::refresh_profile`, i.e.
//! `/v2/user/me`) on an expired access token. Prints the refresh requests the simulator saw per
//! round (single-flight: must be 1) and the time until all 100 calls returned. Simulator on
//! loopback; the real Secret Service when a D-Bus session is present (the refreshed token is
//! written to it), otherwise the in-memory store, and the output says which.
//!
//! `cargo bench -p kakao-signin-core --bench refresh`

use kakao_signin_core::session::view::Status;
use kakao_signin_test_support::{
    free_loopback_port, keychain_or_memory, session_against, start_sim, Consent, Script, SimBrowser,
};
use std::sync::Arc;
use std::time::{Duration, Instant};

const ROUNDS: usize = 10;
const CALLERS: usize = 100;
const HOUR: i64 = 3600;

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
    let (vault, real_keychain) = keychain_or_memory(&format!(
        "kakao-signin-bench-refresh-{}",
        std::process::id()
    ));
    let browser = SimBrowser::new(Some(Script {
        login: "full@kakao.test",
        consent: Consent::All,
    }));
    let data =
        std::env::temp_dir().join(format!("kakao-signin-bench-refresh-{}", std::process::id()));
    let session = session_against(
        &sim,
        &sim.base_url(),
        vault.clone(),
        &data,
        &browser,
        vec![port],
        Arc::new(|_| {}),
    );
    session.restore().await;
    session.sign_in(None).await;
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let v = session.view();
        if v.status == Status::SignedIn && v.profile.is_some() {
            break;
        }
        assert!(Instant::now() < deadline, "sign-in did not finish: {v:?}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }

    let mut times = Vec::with_capacity(ROUNDS);
    let mut refreshes = Vec::with_capacity(ROUNDS);
    for _ in 0..ROUNDS {
        // REST API access tokens live 6 h: every caller finds the token expired.
        sim.advance_clock(7 * HOUR);
        let before = sim.stats().refreshes;
        let started = Instant::now();
        let calls: Vec<_> = (0..CALLERS)
            .map(|_| {
                let s = session.clone();
                tokio::spawn(async move { s.refresh_profile().await })
            })
            .collect();
        let mut failed = 0;
        for c in calls {
            if c.await.unwrap().status != Status::SignedIn {
                failed += 1;
            }
        }
        times.push(started.elapsed());
        refreshes.push(sim.stats().refreshes - before);
        assert_eq!(
            failed, 0,
            "{failed} of {CALLERS} calls did not stay signed in"
        );
    }
    let mut sorted = times.clone();
    sorted.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "refresh under load ({CALLERS} concurrent API calls on an expired access token), \
         {ROUNDS} rounds, {} keychain:",
        if real_keychain {
            "real Secret Service"
        } else {
            "in-memory (no D-Bus session)"
        }
    );
    println!(
        "  median {:.1} ms   min {:.1} ms   max {:.1} ms",
        ms(sorted[ROUNDS / 2]),
        ms(sorted[0]),
        ms(sorted[ROUNDS - 1])
    );
    println!(
        "  refreshes per round: {}",
        refreshes
            .iter()
            .map(u64::to_string)
            .collect::<Vec<_>>()
            .join(" ")
    );
    let _ = vault.clear().await;
    let _ = std::fs::remove_dir_all(&data);
}
