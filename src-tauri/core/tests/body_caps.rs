//! Body caps (issue 17, item 6) against the simulator over real HTTP: an answer longer than the
//! app reads (API and JWKS 1 MiB, the profile picture 512 KiB) is refused by its
//! `Content-Length` before it is read, or as soon as the bytes read pass the cap when it comes
//! chunked; the session says so and keeps every token. The keychain is a `MemoryStore` (the
//! caps are about HTTP; the session suite covers the real keychain).

use kakao_signin_core::kakao::MAX_API_BODY_BYTES;
use kakao_signin_core::session::view::{SessionView, Status};
use kakao_signin_core::session::Session;
use kakao_signin_core::vault::{MemoryStore, Vault};
use kakao_signin_test_support::{
    deps_for, free_loopback_port, start_sim, Consent, Script, SimBrowser,
};
use kakao_sim::{Endpoint, Fault, Sim};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Far more than any cap (256 MiB): a client that read it whole is seen doing so by the
/// simulator's count of bytes sent, and still ends (kept finite so that old code under test
/// cannot exhaust the machine's memory).
const HUGE: usize = 256 << 20;

struct World {
    sim: Arc<Sim>,
    store: Arc<MemoryStore>,
    browser: Arc<SimBrowser>,
    port: u16,
    data_dir: PathBuf,
}

impl World {
    async fn new(name: &str) -> World {
        let port = free_loopback_port();
        let data_dir =
            std::env::temp_dir().join(format!("ks-body-caps-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&data_dir);
        World {
            sim: start_sim(port).await,
            store: Arc::new(MemoryStore::new()),
            browser: SimBrowser::new(Some(Script {
                login: "full@kakao.test",
                consent: Consent::All,
            })),
            port,
            data_dir,
        }
    }

    fn session(&self) -> Arc<Session> {
        let deps = deps_for(
            &self.sim,
            &self.sim.base_url(),
            Vault::new(self.store.clone()),
            &self.data_dir,
            &self.browser,
            vec![self.port],
        );
        Session::new(deps, Arc::new(|_| {}))
    }

    async fn sign_in(&self, s: &Arc<Session>) -> SessionView {
        let v = s.sign_in(None).await;
        assert_eq!(v.status, Status::Waiting, "{:?}", v.error);
        let deadline = Instant::now() + Duration::from_secs(25);
        loop {
            let v = s.view();
            if !matches!(v.status, Status::Waiting | Status::Completing) {
                return v;
            }
            assert!(Instant::now() < deadline, "the sign-in never ended");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    fn refresh_token_live(&self) -> bool {
        let raw = self.store.raw("refresh").unwrap_or_default();
        let v: serde_json::Value = serde_json::from_str(&raw).unwrap_or_default();
        v["refresh_token"]
            .as_str()
            .is_some_and(|t| self.sim.is_refresh_token_live(t))
    }
}

impl Drop for World {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.data_dir);
    }
}

fn error_kind(v: &SessionView) -> String {
    v.error
        .as_ref()
        .map(|e| e.kind.as_str().to_owned())
        .unwrap_or_default()
}

/// `/v2/user/me` over the cap, declared or chunked and huge: `response_too_large` with its
/// words, tokens kept, and the next try works.
#[tokio::test]
async fn an_api_answer_over_the_cap_is_refused_and_loses_nothing() {
    let w = World::new("api").await;
    let s = w.session();
    let v = w.sign_in(&s).await;
    assert_eq!(v.status, Status::SignedIn, "{:?}", v.error);
    for (what, fault) in [
        (
            "declared",
            Fault::Oversized {
                bytes: MAX_API_BODY_BYTES + 1,
                declared: true,
            },
        ),
        (
            "chunked",
            Fault::Oversized {
                bytes: HUGE,
                declared: false,
            },
        ),
    ] {
        w.sim
            .set_fault(Endpoint::UserMe, Fault::Times(1, Box::new(fault)));
        let v = s.refresh_profile().await;
        assert_eq!(
            error_kind(&v),
            "response_too_large",
            "{what}: {:?}",
            v.error
        );
        let e = v.error.as_ref().unwrap();
        assert!(e.message.en.contains("1 MiB") && e.message.ko.contains("1 MiB"));
        assert!(w.refresh_token_live(), "{what}: the refresh token was lost");
        let v = s.refresh_profile().await;
        assert!(
            v.error.is_none() && v.profile.is_some(),
            "{what}: {:?}",
            v.error
        );
    }
    // Exactly the cap is still read.
    w.sim.set_fault(
        Endpoint::UserMe,
        Fault::Times(
            1,
            Box::new(Fault::Oversized {
                bytes: MAX_API_BODY_BYTES,
                declared: false,
            }),
        ),
    );
    let v = s.refresh_profile().await;
    assert_ne!(error_kind(&v), "response_too_large", "{:?}", v.error);
}

/// The JWKS is capped like every kauth answer: a huge one ends the sign-in with
/// `response_too_large` and stores nothing.
#[tokio::test]
async fn a_huge_jwks_ends_the_sign_in_with_too_large() {
    let w = World::new("jwks").await;
    w.sim.set_fault(
        Endpoint::Jwks,
        Fault::Oversized {
            bytes: HUGE,
            declared: false,
        },
    );
    let s = w.session();
    let v = w.sign_in(&s).await;
    assert_eq!(error_kind(&v), "response_too_large", "{:?}", v.error);
    assert!(w.store.raw("session").is_none() && w.store.raw("refresh").is_none());
    let sent = w.sim.stats().oversized_bytes_sent;
    assert!(sent < 64 << 20, "{sent} bytes of the JWKS were sent");
}

/// The picture: a declared 512 KiB + 1 is not fetched at all, a huge chunked one is cut off
/// after the cap (what the simulator got to send stays within the cap plus socket buffers);
/// either way the profile shows with the placeholder.
#[tokio::test]
async fn a_picture_over_the_cap_is_not_read_and_the_profile_still_shows() {
    let w = World::new("image").await;
    let s = w.session();
    let v = w.sign_in(&s).await;
    assert!(
        v.profile.as_ref().is_some_and(|p| p.image.is_some()),
        "the simulator's picture is shown normally"
    );
    for (what, bytes, declared) in [("declared", 512 * 1024 + 1, true), ("chunked", HUGE, false)] {
        let before = w.sim.stats().oversized_bytes_sent;
        w.sim.set_fault(
            Endpoint::ProfileImage,
            Fault::Times(1, Box::new(Fault::Oversized { bytes, declared })),
        );
        let v = s.refresh_profile().await;
        let p = v.profile.as_ref().expect("profile shown");
        assert!(v.error.is_none(), "{what}: {:?}", v.error);
        assert_eq!(p.image, None, "{what}");
        let sent = w.sim.stats().oversized_bytes_sent - before;
        assert!(
            sent < 64 << 20,
            "{what}: {sent} bytes of the picture were sent"
        );
    }
}
