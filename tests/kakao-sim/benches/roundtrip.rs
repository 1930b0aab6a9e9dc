//! Full authorize → token round trips over loopback, no browser: GET /oauth/authorize (login
//! page) → POST /oauth/login (consent page) → POST /oauth/consent (302 with code) →
//! POST /oauth/token. Prints median / min / max.
//!
//! Run: `cargo bench -p kakao-sim --bench roundtrip` (N via `KAKAO_SIM_BENCH_N`, default 300).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use kakao_sim::{Sim, SimConfig};
use sha2::{Digest, Sha256};
use std::time::{Duration, Instant};

const CLIENT_ID: &str = "sandbox-rest-api-key";
const REDIRECT: &str = "http://127.0.0.1:18682/callback";

fn tx_of(html: &str) -> String {
    let i = html.find(r#"name="tx" value=""#).expect("tx field") + 17;
    html[i..].split('"').next().unwrap().to_string()
}

async fn round_trip(base: &str, client: &reqwest::Client) -> Duration {
    let verifier = URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>());
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    let t0 = Instant::now();
    let html = client
        .get(format!("{base}/oauth/authorize"))
        .query(&[
            ("client_id", CLIENT_ID),
            ("redirect_uri", REDIRECT),
            ("response_type", "code"),
            ("state", "bench"),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
        ])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let html = client
        .post(format!("{base}/oauth/login"))
        .form(&[
            ("tx", tx_of(&html).as_str()),
            ("login_id", "full@kakao.test"),
            ("password", "demo1234"),
        ])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("consent-agree"), "consent page expected");
    let r = client
        .post(format!("{base}/oauth/consent"))
        .form(&[
            ("tx", tx_of(&html).as_str()),
            ("consent_all", "1"),
            ("action", "agree"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 302);
    let loc = url::Url::parse(r.headers()["location"].to_str().unwrap()).unwrap();
    let code = loc
        .query_pairs()
        .find(|(k, _)| k == "code")
        .unwrap()
        .1
        .into_owned();
    let r = client
        .post(format!("{base}/oauth/token"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("client_id", CLIENT_ID),
            ("redirect_uri", REDIRECT),
            ("code", &code),
            ("code_verifier", &verifier),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let v: serde_json::Value = r.json().await.unwrap();
    let elapsed = t0.elapsed();
    // Reset outside the measurement: unlink so the next round shows the consent page again.
    let r = client
        .post(format!("{base}/v1/user/unlink"))
        .bearer_auth(v["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    elapsed
}

fn main() {
    let n: usize = std::env::var("KAKAO_SIM_BENCH_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(300);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let sim = Sim::start(SimConfig::demo()).await.unwrap();
        let base = sim.base_url();
        // A browser without a cookie jar: every round logs in again (no Kakao session).
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .build()
            .unwrap();
        for _ in 0..10 {
            round_trip(&base, &client).await;
            sim.advance_clock(3601); // stay clear of the per-user issuance limits
        }
        let mut times = Vec::with_capacity(n);
        for _ in 0..n {
            times.push(round_trip(&base, &client).await);
            sim.advance_clock(3601);
        }
        times.sort();
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        println!(
            "kakao-sim authorize→token round trip over loopback (4 HTTP requests: authorize, login, consent, token), n={n}: median {:.3} ms, min {:.3} ms, max {:.3} ms, p90 {:.3} ms",
            ms(times[n / 2]),
            ms(times[0]),
            ms(times[n - 1]),
            ms(times[n * 9 / 10]),
        );
        sim.shutdown().await;
    });
}
