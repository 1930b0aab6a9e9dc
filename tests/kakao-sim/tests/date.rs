//! Conformance: every answer carries a `Date` header from the simulator's clock, as Kakao's carry
//! Kakao's (RFC 9110 §6.6.1). The app reads Kakao's time from it, so a simulator whose clock is
//! ahead of or behind the host's must say so there too.

mod common;
use common::*;
use kakao_sim::{Endpoint, Fault, Sim, SimConfig};

/// 2026-01-01T00:00:00Z: far from the host's clock, so the host's time can't pass for it.
const START: i64 = 1_767_225_600;

fn date_of(r: &reqwest::Response) -> i64 {
    let value = r
        .headers()
        .get("date")
        .unwrap_or_else(|| panic!("no Date header on {} {}", r.status(), r.url()))
        .to_str()
        .unwrap();
    let t = httpdate::parse_http_date(value).unwrap_or_else(|e| panic!("Date {value:?}: {e}"));
    t.duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64
}

fn assert_near(found: i64, want: i64, what: &str) {
    assert!(
        (want..=want + 5).contains(&found),
        "{what}: Date says {found}, the simulator's clock {want}"
    );
}

#[tokio::test]
async fn date_header_follows_the_simulators_clock() {
    let sim = Sim::start(SimConfig {
        start_unix: Some(START),
        ..SimConfig::demo()
    })
    .await
    .unwrap();
    let base = sim.base_url();
    let jwks = api()
        .get(format!("{base}/.well-known/jwks.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(jwks.status(), 200);
    assert_near(date_of(&jwks), START, "kauth answer");

    // Four minutes on: the header moves with the clock.
    sim.advance_clock(240);
    let me = api()
        .get(format!("{base}/v2/user/me"))
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), 401, "no token: a kapi error, still dated");
    assert_near(date_of(&me), START + 240, "kapi error");

    // A back step too (a clock set back), and on an injected fault and a browser page.
    sim.advance_clock(-3600);
    sim.set_fault(Endpoint::Token, Fault::Status(503));
    let fault = api()
        .post(format!("{base}/oauth/token"))
        .form(&[("grant_type", "refresh_token")])
        .send()
        .await
        .unwrap();
    assert_eq!(fault.status(), 503);
    assert_near(date_of(&fault), START + 240 - 3600, "injected fault");
    let page = Browser::new().get(&authorize_url(&sim, &[])).await;
    assert_near(date_of(&page), START + 240 - 3600, "browser page");
    sim.shutdown().await;
}
