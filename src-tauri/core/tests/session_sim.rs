//! The session against the offline Kakao simulator over real HTTP and the real OS keychain
//! (Secret Service; `cargo xtask test` provides a private unlocked gnome-keyring). The "browser"
//! here posts the simulator's login and consent forms over HTTP, then follows Kakao's redirect
//! to the app's real loopback listener, as a browser would; the real-browser run is in
//! `tests/e2e`.

use kakao_signin_core::session::view::{FieldState, SessionView, Status, WaitPurpose};
use kakao_signin_core::session::Session;
use kakao_signin_core::signin::BrowserOpener;
use kakao_signin_core::vault::Vault;
use kakao_sim::{Endpoint, Fault, Sim, SimConfig};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command;

use kakao_signin_test_support::{
    free_loopback_port as free_port, keychain_accounts, session_against, start_sim, Consent,
    Script, SimBrowser,
};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const FULL: &str = "full@kakao.test";
const NO_EMAIL: &str = "noemail@kakao.test";
const HOUR: i64 = 3600;
const DAY: i64 = 24 * HOUR;

// ------------------------------------------------------------------ the keychain, from outside

fn require_secret_service() {
    assert!(
        std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_some(),
        "these tests use the real Secret Service: run them through `cargo xtask test`, which \
         starts a private D-Bus session with an unlocked gnome-keyring"
    );
}

// ------------------------------------------------------------------ the environment

struct Env {
    sim: Arc<Sim>,
    session: Arc<Session>,
    browser: Arc<SimBrowser>,
    service: String,
    data_dir: PathBuf,
    port: u16,
    auth_url: String,
}

static SEQ: AtomicUsize = AtomicUsize::new(0);

/// A session over the real keychain under `service`.
fn build_session(
    sim: &Arc<Sim>,
    auth_url: &str,
    service: &str,
    data_dir: &std::path::Path,
    browser: &Arc<SimBrowser>,
    ports: Vec<u16>,
) -> Arc<Session> {
    session_against(
        sim,
        auth_url,
        Vault::keyring(service.to_owned()),
        data_dir,
        browser,
        ports,
        Arc::new(|_| {}),
    )
}

impl Env {
    async fn new(script: Option<Script>) -> Env {
        Env::with_auth_url(script, None).await
    }

    /// `auth_url`: what the app is told the auth server is (default: the simulator's URL).
    async fn with_auth_url(
        script: Option<Script>,
        auth_url: Option<&dyn Fn(&Sim) -> String>,
    ) -> Env {
        require_secret_service();
        let port = free_port();
        let sim = start_sim(port).await;
        let n = SEQ.fetch_add(1, Ordering::SeqCst);
        let service = format!("kakao-signin-test-{}-{n}", std::process::id());
        let data_dir = std::env::temp_dir().join(format!("ks-session-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&data_dir);
        let auth_url = match auth_url {
            Some(f) => f(&sim),
            None => sim.base_url(),
        };
        let browser = SimBrowser::new(script);
        let session = build_session(&sim, &auth_url, &service, &data_dir, &browser, vec![port]);
        Env {
            session,
            sim,
            browser,
            service,
            data_dir,
            port,
            auth_url,
        }
    }

    /// A fresh session over the same keychain service, simulator and data: "the app started
    /// again".
    fn new_session(&self) -> Arc<Session> {
        build_session(
            &self.sim,
            &self.auth_url,
            &self.service,
            &self.data_dir,
            &self.browser,
            vec![self.port],
        )
    }

    fn accounts(&self) -> Vec<String> {
        keychain_accounts(&self.service)
    }

    async fn stored(&self) -> Option<(String, Option<String>)> {
        Vault::keyring(self.service.clone())
            .load()
            .await
            .unwrap()
            .map(|(s, r)| {
                (
                    s.access_token.expose().to_owned(),
                    r.map(|r| r.refresh_token.expose().to_owned()),
                )
            })
    }

    async fn wait_for(&self, what: &str, pred: impl Fn(&SessionView) -> bool) -> SessionView {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let v = self.session.view();
            if pred(&v) {
                return v;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}; view: {v:#?}; browser's last page: {}",
                self.browser.last_page.lock().unwrap()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Signs in through the browser script and waits for the profile.
    async fn sign_in(&self) -> SessionView {
        let v = self.session.sign_in(None).await;
        assert_eq!(v.status, Status::Waiting, "{v:#?}");
        self.wait_for("signed in", |v| {
            v.status == Status::SignedIn && v.profile.is_some()
        })
        .await
    }

    fn member_id(&self, login: &str) -> i64 {
        let cfg = SimConfig::demo();
        cfg.users.iter().find(|u| u.login == login).unwrap().id
    }

    async fn cleanup(self) {
        let _ = Vault::keyring(self.service.clone()).clear().await;
        let _ = std::fs::remove_dir_all(&self.data_dir);
    }
}

fn field(v: &SessionView, id: &str) -> FieldState {
    v.profile
        .as_ref()
        .unwrap()
        .fields
        .iter()
        .find(|f| f.id == id)
        .unwrap_or_else(|| panic!("no field {id}"))
        .state
}

fn script(login: &'static str, consent: Consent) -> Option<Script> {
    Some(Script { login, consent })
}

// ------------------------------------------------------------------ tests

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sign_in_end_to_end_stores_tokens_in_the_keychain() {
    let env = Env::new(script(FULL, Consent::All)).await;
    assert_eq!(env.session.view().status, Status::Restoring);
    let v = env.sign_in().await;
    let p = v.profile.as_ref().unwrap();
    assert_eq!(p.member_id, env.member_id(FULL).to_string());
    assert!(p.nickname.is_some());
    assert_eq!(field(&v, "email"), FieldState::Agreed);
    assert!(
        p.image.as_deref().unwrap_or("").starts_with("data:image/"),
        "picture as data URL"
    );
    // The authorize URL carried PKCE, state and nonce, and the redirect URI on our port.
    let url = env.browser.last_kakao_url().await;
    for part in [
        "code_challenge=",
        "code_challenge_method=S256",
        "state=",
        "nonce=",
        "response_type=code",
    ] {
        assert!(url.contains(part), "{part} missing from {url}");
    }
    assert!(
        url.contains(&format!("127.0.0.1%3A{}%2Fcallback", env.port)),
        "{url}"
    );
    // One code exchange, the ID token issued and verified, both entries in the real keychain.
    let stats = env.sim.stats();
    assert_eq!(stats.token_requests.get("authorization_code"), Some(&1));
    assert_eq!(stats.id_tokens_issued, 1);
    assert_eq!(env.accounts(), vec!["refresh", "session"]);
    let (access, refresh) = env.stored().await.unwrap();
    assert!(env.sim.is_access_token_live(&access));
    assert!(env.sim.is_refresh_token_live(refresh.as_deref().unwrap()));
    // The loopback answered the browser with the done page.
    assert!(
        env.browser.last_page.lock().unwrap().contains("Kakao"),
        "done page"
    );
    env.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn restore_in_a_new_process_uses_the_keychain_without_the_browser() {
    let env = Env::new(script(FULL, Consent::All)).await;
    env.sign_in().await;
    let opened = env.browser.opened().len();
    let again = env.new_session();
    let v = again.restore().await;
    assert_eq!(v.status, Status::SignedIn, "{v:#?}");
    assert_eq!(env.browser.opened().len(), opened, "no browser on restore");
    assert_eq!(
        env.sim.stats().refreshes,
        0,
        "a live access token needs no refresh"
    );
    env.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn restore_refreshes_an_expired_access_token() {
    let env = Env::new(script(FULL, Consent::All)).await;
    env.sign_in().await;
    let (old_access, old_refresh) = env.stored().await.unwrap();
    env.sim.advance_clock(7 * HOUR); // REST API access tokens live 6 h
    let v = env.new_session().restore().await;
    assert_eq!(v.status, Status::SignedIn, "{v:#?}");
    let stats = env.sim.stats();
    assert_eq!(stats.refreshes, 1);
    assert_eq!(
        stats.refresh_rotations, 0,
        "60-day token, 2 months left: no rotation"
    );
    let (new_access, new_refresh) = env.stored().await.unwrap();
    assert_ne!(new_access, old_access);
    assert_eq!(
        new_refresh, old_refresh,
        "refresh token kept when Kakao does not rotate it"
    );
    env.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn rotated_refresh_token_is_stored_and_the_old_one_is_dead() {
    let env = Env::new(script(FULL, Consent::All)).await;
    env.sign_in().await;
    let (_, old_refresh) = env.stored().await.unwrap();
    env.sim.advance_clock(31 * DAY); // under a month left → Kakao rotates
    let session = env.new_session();
    let v = session.restore().await;
    assert_eq!(v.status, Status::SignedIn, "{v:#?}");
    assert_eq!(env.sim.stats().refresh_rotations, 1);
    let (_, new_refresh) = env.stored().await.unwrap();
    let (old_refresh, new_refresh) = (old_refresh.unwrap(), new_refresh.unwrap());
    assert_ne!(old_refresh, new_refresh);
    assert!(!env.sim.is_refresh_token_live(&old_refresh));
    assert!(env.sim.is_refresh_token_live(&new_refresh));
    // And the app keeps working after the next expiry with the rotated token.
    env.sim.advance_clock(7 * HOUR);
    let v = env.new_session().restore().await;
    assert_eq!(v.status, Status::SignedIn, "{v:#?}");
    env.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_refresh_refused_as_dead_adopts_the_newer_token_another_instance_stored() {
    let env = Env::new(script(FULL, Consent::All)).await;
    env.sign_in().await;
    let (_, first_refresh) = env.stored().await.unwrap();
    // A second instance over the same keychain refreshes with rotation: the first instance's
    // refresh token (still in its memory) is now dead at Kakao.
    env.sim.advance_clock(31 * DAY);
    let second = env.new_session();
    assert_eq!(second.restore().await.status, Status::SignedIn);
    assert_eq!(env.sim.stats().refresh_rotations, 1);
    let (_, rotated) = env.stored().await.unwrap();
    let rotated = rotated.unwrap();
    assert!(!env.sim.is_refresh_token_live(&first_refresh.unwrap()));
    // The first instance needs a fresh access token: Kakao refuses its old refresh token, the
    // keychain has the newer one, and the first instance goes on with it.
    let v = env.session.refresh_profile().await;
    assert_eq!(v.status, Status::SignedIn, "{v:#?}");
    assert!(v.error.is_none(), "{v:#?}");
    assert_eq!(
        env.stored().await.unwrap().1.as_deref(),
        Some(rotated.as_str()),
        "the other instance's rotated token is kept, not cleared"
    );
    assert!(env.sim.is_refresh_token_live(&rotated));
    assert_eq!(env.accounts().len(), 2, "{:?}", env.accounts());
    env.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn running_without_the_single_instance_guard_is_said_in_the_window_until_dismissed() {
    let env = Env::new(script(FULL, Consent::All)).await;
    let guard = kakao_signin_core::messages::session::no_single_instance_guard();
    env.session.set_standing_notice(guard.clone());
    // Restore and sign-in clear the notices of earlier commands, not this one.
    assert_eq!(env.session.restore().await.notice.as_ref(), Some(&guard));
    assert_eq!(env.sign_in().await.notice.as_ref(), Some(&guard));
    // Another notice is shown in its place while there is one...
    let v = env.session.logout(false).await;
    assert!(v.notice.unwrap().en.contains("Logged out"));
    // ...and dismissing ends both.
    assert_eq!(env.session.dismiss_error().notice, None);
    assert_eq!(env.session.restore().await.notice, None);
    env.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_concurrent_callers_cause_exactly_one_refresh() {
    let env = Env::new(script(FULL, Consent::All)).await;
    env.sign_in().await;
    env.sim.advance_clock(7 * HOUR);
    let before = env.sim.stats().refreshes;
    let calls = (0..50).map(|_| {
        let s = env.session.clone();
        tokio::spawn(async move { s.refresh_profile().await })
    });
    for v in futures::future::join_all(calls).await {
        let v = v.unwrap();
        assert_eq!(v.status, Status::SignedIn, "{:?}", v.error);
    }
    assert_eq!(
        env.sim.stats().refreshes - before,
        1,
        "single-flight refresh"
    );
    env.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_dead_refresh_token_signs_out_and_clears_the_keychain() {
    let env = Env::new(script(FULL, Consent::All)).await;
    env.sign_in().await;
    env.sim.expire_refresh_tokens_of(env.member_id(FULL));
    env.sim.advance_clock(7 * HOUR);
    let v = env.new_session().restore().await;
    assert_eq!(v.status, Status::SignedOut, "{v:#?}");
    assert!(v.notice.is_some(), "the person is told the session ended");
    assert_eq!(env.sim.stats().token_errors.get("KOE322"), Some(&1));
    assert!(env.accounts().is_empty(), "KOE322 deletes the tokens");
    env.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn transient_failures_keep_every_token_and_say_offline() {
    let env = Env::new(script(FULL, Consent::All)).await;
    env.sign_in().await;
    let stored = env.stored().await.unwrap();
    // The restore's one call before the profile is `/v2/user/me` with the stored access token.
    let cases: Vec<(&str, Endpoint, Fault, i64)> = vec![
        (
            "5xx on /v2/user/me",
            Endpoint::UserMe,
            Fault::Status(503),
            0,
        ),
        ("dropped /v2/user/me", Endpoint::UserMe, Fault::Drop, 0),
        ("Kakao -1", Endpoint::UserMe, Fault::KakaoTransient, 0),
        (
            "malformed /v2/user/me",
            Endpoint::UserMe,
            Fault::Malformed,
            0,
        ),
        (
            "5xx on refresh",
            Endpoint::Token,
            Fault::Status(500),
            7 * HOUR,
        ),
        ("dropped refresh", Endpoint::Token, Fault::Drop, 0),
        ("rate-limited refresh", Endpoint::Token, Fault::RateLimit, 0),
    ];
    for (name, endpoint, fault, advance) in cases {
        env.sim.clear_faults();
        env.sim.set_fault(endpoint, fault);
        env.sim.advance_clock(advance);
        let v = env.new_session().restore().await;
        assert_eq!(v.status, Status::Offline, "{name}: {v:#?}");
        assert!(v.error.is_some(), "{name}: says what happened");
        assert_eq!(
            env.stored().await.as_ref(),
            Some(&stored),
            "{name}: tokens kept"
        );
    }
    // Kakao's `access_token_info` check follows the profile: its transient failure neither
    // hides the profile nor touches a token.
    env.sim.clear_faults();
    env.new_session().restore().await;
    let stored = env.stored().await.unwrap();
    for fault in [Fault::Status(503), Fault::Drop, Fault::KakaoTransient] {
        env.sim.clear_faults();
        env.sim.set_fault(Endpoint::AccessTokenInfo, fault.clone());
        let v = env.new_session().restore().await;
        assert_eq!(
            v.status,
            Status::SignedIn,
            "{fault:?} on token info: {v:#?}"
        );
        assert!(
            v.profile.is_some() && v.error.is_none(),
            "{fault:?}: {v:#?}"
        );
        assert_eq!(
            env.stored().await.as_ref(),
            Some(&stored),
            "{fault:?}: tokens kept"
        );
    }
    env.sim.clear_faults();
    let v = env.new_session().restore().await;
    assert_eq!(
        v.status,
        Status::SignedIn,
        "recovers once the fault is gone: {v:#?}"
    );
    env.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn logout_clears_the_keychain_even_with_the_network_down() {
    let env = Env::new(script(FULL, Consent::All)).await;
    env.sign_in().await;
    env.sim.set_fault(Endpoint::Logout, Fault::Drop);
    let v = env.session.logout(false).await;
    assert_eq!(v.status, Status::SignedOut);
    let notice = v.notice.expect("the failed server call is reported");
    assert!(notice.en.contains("could not be told"), "{notice:?}");
    assert!(env.accounts().is_empty());
    env.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn logout_revokes_the_tokens_at_kakao() {
    let env = Env::new(script(FULL, Consent::All)).await;
    env.sign_in().await;
    let (access, refresh) = env.stored().await.unwrap();
    let v = env.session.logout(false).await;
    assert_eq!(v.status, Status::SignedOut);
    assert!(
        v.notice.unwrap().en.contains("this device"),
        "S06: this device only"
    );
    assert!(!env.sim.is_access_token_live(&access));
    assert!(!env.sim.is_refresh_token_live(&refresh.unwrap()));
    assert!(env.accounts().is_empty());
    assert_eq!(env.new_session().restore().await.status, Status::SignedOut);
    env.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn logout_with_an_access_token_expired_by_the_clock_refreshes_first_and_revokes_at_kakao() {
    let env = Env::new(script(FULL, Consent::All)).await;
    env.sign_in().await;
    env.sim.advance_clock(7 * HOUR); // REST API access tokens live 6 h
    let before = env.sim.request_log().len();
    let v = env.session.logout(false).await;
    assert_eq!(v.status, Status::SignedOut);
    let paths: Vec<String> = env.sim.request_log()[before..]
        .iter()
        .map(|r| r.path.clone())
        .collect();
    assert_eq!(
        paths,
        ["/oauth/token", "/v1/user/logout"],
        "refresh first, then tell Kakao with the fresh access token"
    );
    assert!(env
        .sim
        .request_log()
        .last()
        .is_some_and(|r| r.status == 200));
    let notice = v.notice.expect("a notice");
    assert!(!notice.en.contains("could not be told"), "{notice:?}");
    assert!(env.accounts().is_empty());
    env.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn logout_that_cannot_refresh_an_expired_access_token_does_not_claim_kakao_was_told() {
    let env = Env::new(script(FULL, Consent::All)).await;
    env.sign_in().await;
    let (_, refresh) = env.stored().await.unwrap();
    env.sim.advance_clock(7 * HOUR);
    env.sim.set_fault(Endpoint::Token, Fault::Drop);
    let v = env.session.logout(false).await;
    assert_eq!(v.status, Status::SignedOut);
    let notice = v.notice.expect("a notice");
    assert!(notice.en.contains("could not be told"), "{notice:?}");
    assert!(notice.ko.contains("알리지 못했습니다"), "{notice:?}");
    // Kakao was not told: the refresh token it issued is still alive there.
    assert!(env.sim.is_refresh_token_live(&refresh.unwrap()));
    assert!(env.accounts().is_empty(), "removed locally all the same");
    env.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn unlink_withdraws_consent_and_deletes_tokens_and_local_data() {
    let env = Env::new(script(NO_EMAIL, Consent::All)).await;
    let v = env.sign_in().await;
    assert_eq!(field(&v, "email"), FieldState::AgreedEmpty);
    let v = env
        .session
        .set_entered_value("email", "me@example.com")
        .await;
    let email = v
        .profile
        .as_ref()
        .unwrap()
        .fields
        .iter()
        .find(|f| f.id == "email")
        .unwrap()
        .clone();
    assert_eq!(email.entered.as_deref(), Some("me@example.com"));
    let id = env.member_id(NO_EMAIL);
    assert!(env.data_dir.join(format!("users/{id}.json")).exists());
    let v = env.session.unlink().await;
    assert_eq!(v.status, Status::SignedOut, "{v:#?}");
    assert!(!env.sim.is_connected(id));
    assert!(env.sim.user_consents(id).is_empty());
    assert!(env.accounts().is_empty());
    assert!(!env.data_dir.join(format!("users/{id}.json")).exists());
    env.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn unlink_failing_keeps_everything() {
    let env = Env::new(script(FULL, Consent::All)).await;
    env.sign_in().await;
    let stored = env.stored().await;
    env.sim.set_fault(Endpoint::Unlink, Fault::Status(502));
    let v = env.session.unlink().await;
    assert!(v.error.is_some());
    assert_eq!(
        env.stored().await,
        stored,
        "nothing deleted when Kakao was not told"
    );
    assert!(env.sim.is_connected(env.member_id(FULL)));
    env.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn additional_consent_accepted_swaps_tokens_and_shows_the_field() {
    let env = Env::new(script(
        FULL,
        Consent::Only(vec!["profile_nickname", "openid"]),
    ))
    .await;
    let v = env.sign_in().await;
    assert_eq!(field(&v, "email"), FieldState::NeedsConsent);
    let (old_access, _) = env.stored().await.unwrap();
    env.browser.set_script(script(FULL, Consent::All));
    let v = env
        .session
        .request_consent(vec!["account_email".into()])
        .await;
    assert_eq!(v.waiting.as_ref().unwrap().purpose, WaitPurpose::Consent);
    let url = env.browser.last_kakao_url().await;
    assert!(
        url.contains("scope=account_email%2Copenid") || url.contains("scope=account_email,openid"),
        "{url}"
    );
    let v = env
        .wait_for("email agreed", |v| {
            v.status == Status::SignedIn
                && v.profile
                    .as_ref()
                    .is_some_and(|_| field(v, "email") == FieldState::Agreed)
        })
        .await;
    assert!(v.error.is_none(), "{v:#?}");
    let (new_access, _) = env.stored().await.unwrap();
    assert_ne!(
        new_access, old_access,
        "switched to the newly issued tokens"
    );
    assert!(env
        .sim
        .user_consents(env.member_id(FULL))
        .contains(&"account_email".to_string()));
    env.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn additional_consent_refused_changes_nothing() {
    let env = Env::new(script(
        FULL,
        Consent::Only(vec!["profile_nickname", "openid"]),
    ))
    .await;
    env.sign_in().await;
    let stored = env.stored().await;
    env.browser.set_script(script(FULL, Consent::Cancel));
    env.session
        .request_consent(vec!["account_email".into()])
        .await;
    let v = env
        .wait_for("back from refusal", |v| {
            v.status == Status::SignedIn && v.waiting.is_none()
        })
        .await;
    assert!(v.error.is_none(), "refusing is not an error: {v:#?}");
    assert!(v.notice.is_some(), "but it is explained");
    assert_eq!(field(&v, "email"), FieldState::NeedsConsent);
    assert_eq!(env.stored().await, stored, "tokens untouched");
    env.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn cancel_on_kakaos_consent_page_is_access_denied_and_stores_nothing() {
    let env = Env::new(script(FULL, Consent::Cancel)).await;
    env.session.sign_in(None).await;
    let v = env
        .wait_for("sign-in refused", |v| {
            v.status == Status::SignedOut && v.error.is_some()
        })
        .await;
    assert_eq!(v.error.as_ref().unwrap().kind, "access_denied");
    assert!(env.accounts().is_empty());
    let page = env.browser.last_page.lock().unwrap().clone();
    assert!(
        !page.contains("sign-in is complete") && !page.contains("로그인이 완료"),
        "an error page, never the success page: {page}"
    );
    env.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn after_cancel_the_port_stays_ours_and_a_late_redirect_is_answered_cancelled() {
    let env = Env::new(None).await; // a browser nobody answers at first
    let v = env.session.sign_in(None).await;
    assert_eq!(v.status, Status::Waiting);
    assert_eq!(
        v.waiting.as_ref().unwrap().redirect_uri,
        format!("http://127.0.0.1:{}/callback", env.port),
        "S01: the exact redirect URI is shown"
    );
    // The browser went to Kakao; then the person cancels in the app.
    let start = env.browser.opened().pop().unwrap();
    let kakao = kakao_signin_test_support::follow_start(&start).await;
    assert!(kakao.starts_with(&env.sim.base_url()), "{kakao}");
    let v = env.session.cancel_sign_in();
    assert_eq!(v.status, Status::SignedOut);
    // The Kakao tab is still open and the person finishes there after the cancel: Kakao
    // issues a code and redirects to our port. Another program must not be able to take the
    // port meanwhile and receive it.
    // Tried for a while, not once: the old listener closed a moment after the cancel.
    let until = Instant::now() + Duration::from_millis(500);
    while Instant::now() < until {
        let bind = std::net::TcpListener::bind(("127.0.0.1", env.port));
        assert!(
            bind.is_err(),
            "the port was given up after cancel: {bind:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let codes = env.sim.stats().codes_issued;
    env.browser.set_script(script(FULL, Consent::All));
    kakao_signin_test_support::Opener(env.browser.clone())
        .open(&kakao)
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while env.browser.finished.load(Ordering::SeqCst) == 0 {
        assert!(
            Instant::now() < deadline,
            "the late redirect was not answered"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let page = env.browser.last_page.lock().unwrap().clone();
    assert!(
        page.contains("This sign-in was cancelled") && page.contains("취소된 로그인"),
        "{page}"
    );
    assert_eq!(
        env.sim.stats().codes_issued,
        codes + 1,
        "Kakao did redirect a code"
    );
    assert_eq!(
        env.sim.stats().token_requests.get("authorization_code"),
        None,
        "and nobody used it"
    );
    let v = env.session.view();
    assert_eq!(v.status, Status::SignedOut, "{v:#?}");
    assert!(env.accounts().is_empty());

    // A new attempt takes the same port over and signs in.
    let v = env.sign_in().await;
    assert_eq!(v.status, Status::SignedIn);
    env.cleanup().await;
}

/// `curl` run as the unprivileged user `nobody`: another local user's request to the app's
/// listener. Returns the HTTP status and the body.
fn curl_as_nobody(url: &str) -> (String, String) {
    let out = Command::new("setpriv")
        .args([
            "--reuid=nobody",
            "--regid=nogroup",
            "--clear-groups",
            "curl",
            "-sS",
            "--noproxy",
            "*",
            "-w",
            "\n%{http_code}",
            url,
        ])
        .output()
        .expect("setpriv and curl are installed");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "curl as nobody: {text} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (body, status) = text.rsplit_once('\n').unwrap();
    (status.to_owned(), body.to_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn another_local_user_can_neither_end_nor_complete_the_attempt() {
    // SAFETY: geteuid has no preconditions and cannot fail.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!(
            "SKIPPED: connecting as another user (nobody) needs root; the CI suite runs as root"
        );
        return;
    }
    let env = Env::new(None).await;
    let v = env.session.sign_in(None).await;
    assert_eq!(v.status, Status::Waiting);
    let opened = env.browser.opened().pop().unwrap();
    // What another user could learn (on the old code, from the opener's command line): the
    // authorize URL with `state`. Here it is taken from the one-time URL by the app's own user.
    let kakao = kakao_signin_test_support::follow_start(&opened).await;
    let state = reqwest::Url::parse(&kakao)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "state")
        .map(|(_, v)| v.into_owned())
        .unwrap();
    let callback = |q: &str| format!("http://127.0.0.1:{}/callback?{q}", env.port);
    // Ending the attempt with a forged error, or completing it with a code of their own.
    for q in [
        format!("error=access_denied&state={state}"),
        format!("code=FORGED&state={state}"),
    ] {
        let (status, body) = curl_as_nobody(&callback(&q));
        assert_eq!(status, "403", "{q}: {body}");
        assert_eq!(body.trim_end(), "Forbidden", "{q}");
    }
    // The start URL too (it is on the opener's command line).
    let (status, _) = curl_as_nobody(&opened);
    assert_eq!(status, "403", "{opened}");
    let v = env.session.view();
    assert_eq!(v.status, Status::Waiting, "{v:#?}");
    assert!(v.error.is_none(), "{v:#?}");
    // The person's own browser (this user) finishes the same attempt.
    env.browser.set_script(script(FULL, Consent::All));
    kakao_signin_test_support::Opener(env.browser.clone())
        .open(&kakao)
        .unwrap();
    env.wait_for("signed in", |v| v.status == Status::SignedIn)
        .await;
    env.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn all_ports_busy_is_named() {
    let env = Env::new(None).await;
    let held = std::net::TcpListener::bind(("127.0.0.1", env.port)).unwrap();
    let v = env.session.sign_in(None).await;
    assert_ne!(v.status, Status::Waiting);
    let e = v.error.expect("ports busy");
    assert_eq!(e.kind, "ports_busy");
    assert!(e.message.en.contains(&env.port.to_string()), "{e:?}");
    drop(held);
    env.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_id_token_from_the_wrong_issuer_is_refused_and_nothing_is_stored() {
    // The app believes the issuer is http://localhost:PORT; the simulator signs as 127.0.0.1.
    let env = Env::with_auth_url(
        script(FULL, Consent::All),
        Some(&|sim: &Sim| sim.base_url().replace("127.0.0.1", "localhost")),
    )
    .await;
    env.session.sign_in(None).await;
    let v = env
        .wait_for("refused", |v| {
            v.status == Status::SignedOut && v.error.is_some()
        })
        .await;
    assert_eq!(v.error.as_ref().unwrap().kind, "id_token_invalid", "{v:#?}");
    assert!(env.accounts().is_empty());
    env.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn unregistered_redirect_uri_shows_kakaos_error_page_and_the_app_names_the_uri() {
    let env = Env::new(script(FULL, Consent::All)).await;
    // The app listens on a port "Kakao" (the simulator) has no redirect URI for.
    let other = free_port();
    let session = build_session(
        &env.sim,
        &env.auth_url,
        &env.service,
        &env.data_dir,
        &env.browser,
        vec![other],
    );
    let v = session.sign_in(None).await;
    assert_eq!(
        v.waiting.unwrap().redirect_uri,
        format!("http://127.0.0.1:{other}/callback")
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    while env.browser.finished.load(Ordering::SeqCst) == 0 {
        assert!(Instant::now() < deadline, "browser never finished");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(env.browser.last_page.lock().unwrap().contains("KOE006"));
    // Kakao never redirects a KOE006: the app keeps waiting and keeps showing the URI (S01).
    assert_eq!(session.view().status, Status::Waiting);
    session.cancel_sign_in();
    env.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn nothing_that_reaches_the_window_carries_a_secret() {
    let env = Env::new(script(FULL, Consent::All)).await;
    let mut views = vec![env.sign_in().await];
    views.push(env.session.load_consents().await);
    views.push(env.session.refresh_profile().await);
    let (access, refresh) = env.stored().await.unwrap();
    let id_token = env
        .sim
        .last_id_token()
        .expect("OIDC is on: an ID token was issued");
    // The authorize URL's state and the PKCE challenge are one-time values the window never needs.
    let url = env.browser.last_kakao_url().await;
    let query: BTreeMap<String, String> = reqwest::Url::parse(&url)
        .unwrap()
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let diagnostics = env.session.diagnostics(&[]);
    views.push(env.session.logout(false).await);
    let secrets = [
        ("access token", access.as_str()),
        ("refresh token", refresh.as_deref().unwrap()),
        ("id token", id_token.as_str()),
        ("state", query["state"].as_str()),
        ("nonce", query["nonce"].as_str()),
        ("code challenge", query["code_challenge"].as_str()),
    ];
    for v in &views {
        let json = serde_json::to_string(v).unwrap();
        for (name, secret) in secrets {
            assert!(secret.len() > 10, "{name} looks empty");
            assert!(!json.contains(secret), "the {name} reached a view: {json}");
        }
        assert!(!json.contains("code="), "a callback URL reached a view");
    }
    for (name, secret) in secrets {
        assert!(
            !diagnostics.contains(secret),
            "the {name} is in diagnostics"
        );
    }
    assert!(
        !diagnostics.contains(&env.member_id(FULL).to_string()),
        "no member id in diagnostics"
    );
    env.cleanup().await;
}

/// A keychain that cannot be read at start (locked, slow unlock prompt, not running) may still
/// hold the tokens: the window says "no keychain" (locked, not running) or "offline" (slow)
/// with Retry, never "signed out", and nothing is deleted. Only an unreadable entry means
/// signing in again.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_unreadable_keychain_at_start_is_no_keychain_or_offline_not_signed_out() {
    use kakao_signin_core::vault::{Error as VaultError, MemoryStore, StoreOp};
    let env = Env::new(script(FULL, Consent::All)).await;
    env.sign_in().await;
    // Copy the real keychain's entries into a store whose next read fails.
    let store = Arc::new(MemoryStore::new());
    for account in ["session", "refresh"] {
        let out = Command::new("secret-tool")
            .args(["lookup", "service", &env.service, "username", account])
            .output()
            .unwrap();
        store.put_raw(account, String::from_utf8(out.stdout).unwrap().trim());
    }
    let session_with = |store: Arc<MemoryStore>| {
        let vault = Vault::new(store).with_timeout(Duration::from_millis(300));
        session_against(
            &env.sim,
            &env.auth_url,
            vault,
            &env.data_dir,
            &env.browser,
            vec![env.port],
            Arc::new(|_| {}),
        )
    };
    type Inject = Box<dyn Fn(&MemoryStore)>;
    let cases: Vec<(&str, Inject, Status)> = vec![
        (
            "locked",
            Box::new(|s: &MemoryStore| {
                s.fail_next(
                    StoreOp::Get,
                    VaultError::Locked {
                        detail: "test".into(),
                    },
                )
            }),
            Status::NoKeychain,
        ),
        (
            "no Secret Service",
            Box::new(|s: &MemoryStore| {
                s.fail_next(
                    StoreOp::Get,
                    VaultError::Unavailable {
                        detail: "test".into(),
                    },
                )
            }),
            Status::NoKeychain,
        ),
        (
            "unlock prompt unanswered",
            Box::new(|s: &MemoryStore| s.set_latency(Duration::from_secs(2))),
            Status::Offline,
        ),
        (
            "corrupt entry",
            Box::new(|s: &MemoryStore| {
                s.fail_next(
                    StoreOp::Get,
                    VaultError::Corrupt {
                        account: "session".into(),
                        detail: "test".into(),
                    },
                )
            }),
            Status::SignedOut,
        ),
    ];
    for (name, inject, expected) in cases {
        inject(&store);
        let v = session_with(store.clone()).restore().await;
        assert_eq!(v.status, expected, "{name}: {v:#?}");
        assert!(
            v.error
                .as_ref()
                .is_some_and(|e| e.kind.as_str().starts_with("keychain_")),
            "{name}: says it is the keychain"
        );
        assert!(store.raw("refresh").is_some(), "{name}: nothing deleted");
        store.set_latency(Duration::ZERO);
    }
    // Once the keychain answers, Retry restores the session.
    let s = session_with(store.clone());
    assert_eq!(s.retry().await.status, Status::SignedIn);
    env.cleanup().await;
}

// ------------------------------------------------------------------ issue 18: Kakao fidelity

const NOTALK: &str = "notalk@kakao.test";

fn kapi_fault(code: i64) -> Fault {
    Fault::Times(1, Box::new(Fault::KapiError { status: 400, code }))
}

/// S06, REFERENCE §4c: logout on one device revokes that session's tokens only; a second
/// session of the same member (another device: its own keychain) still works.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn logout_on_one_device_leaves_the_members_other_session_signed_in() {
    let env = Env::new(script(FULL, Consent::All)).await;
    env.sign_in().await;
    let other_service = format!("{}-second-device", env.service);
    let other_dir = env.data_dir.join("second-device");
    let second = build_session(
        &env.sim,
        &env.auth_url,
        &other_service,
        &other_dir,
        &env.browser,
        vec![env.port],
    );
    second.sign_in(None).await;
    let deadline = Instant::now() + Duration::from_secs(30);
    while !(second.view().status == Status::SignedIn && second.view().profile.is_some()) {
        assert!(Instant::now() < deadline, "{:#?}", second.view());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let v = env.session.logout(false).await;
    assert_eq!(v.status, Status::SignedOut);
    // The other device: the profile loads with its access token, a refresh works, and a new
    // process restores it.
    let v = second.refresh_profile().await;
    assert_eq!(v.status, Status::SignedIn, "{v:#?}");
    env.sim.advance_clock(7 * HOUR);
    let before = env.sim.stats().refreshes;
    let again = build_session(
        &env.sim,
        &env.auth_url,
        &other_service,
        &other_dir,
        &env.browser,
        vec![env.port],
    );
    let v = again.restore().await;
    assert_eq!(v.status, Status::SignedIn, "{v:#?}");
    assert_eq!(env.sim.stats().refreshes, before + 1);
    let _ = Vault::keyring(other_service).clear().await;
    env.cleanup().await;
}

/// REFERENCE §5, Decision 15: additional consent that comes back with another Kakao account's
/// tokens leaves the session as it was, revokes the stray tokens at Kakao and names the account.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn consent_with_another_kakao_account_keeps_the_session() {
    let env = Env::new(script(
        FULL,
        Consent::Only(vec!["profile_nickname", "openid"]),
    ))
    .await;
    let v = env.sign_in().await;
    assert_eq!(field(&v, "email"), FieldState::NeedsConsent);
    let stored = env.stored().await;
    // The browser now holds another Kakao account (or the person typed another one).
    env.browser.set_script(script(NOTALK, Consent::All));
    env.session
        .request_consent(vec!["account_email".into()])
        .await;
    let v = env
        .wait_for("back from the consent round", |v| {
            v.waiting.is_none() && v.status == Status::SignedIn && v.notice.is_some()
        })
        .await;
    assert!(v.error.is_none(), "{v:#?}");
    assert_eq!(
        v.profile.as_ref().unwrap().member_id,
        env.member_id(FULL).to_string(),
        "still the signed-in member"
    );
    assert_eq!(field(&v, "email"), FieldState::NeedsConsent);
    assert_eq!(env.stored().await, stored, "the keychain is untouched");
    let notice = v.notice.unwrap();
    let other = env.member_id(NOTALK).to_string();
    assert!(notice.en.contains(&other), "{notice:?}");
    assert!(notice.ko.contains(&other), "{notice:?}");
    assert!(notice.en.contains("Use another account"), "{notice:?}");
    // The stray tokens were revoked at Kakao: only the signed-in member's stay live.
    let stats = env.sim.stats();
    assert_eq!(stats.user_logouts, 1, "{stats:?}");
    assert_eq!(stats.live_access_tokens, 1, "{stats:?}");
    assert_eq!(stats.live_refresh_tokens, 1, "{stats:?}");
    let (access, refresh) = env.stored().await.unwrap();
    assert!(env.sim.is_access_token_live(&access));
    assert!(env.sim.is_refresh_token_live(&refresh.unwrap()));
    env.cleanup().await;
}

/// S07, REFERENCE §6: the app cannot know what was picked on Kakao's logout page, so it says
/// what it asked for, and the next sign-in asks Kakao for the login (`prompt=login`).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn after_a_kakao_account_logout_the_next_sign_in_asks_for_the_login() {
    let env = Env::new(script(FULL, Consent::All)).await;
    env.sign_in().await;
    env.session.logout(true).await;
    let url = env.browser.last_kakao_url().await;
    assert!(url.contains("/oauth/logout"), "{url}");
    let v = env
        .wait_for("back from Kakao's logout page", |v| {
            v.waiting.is_none() && v.notice.is_some()
        })
        .await;
    let notice = v.notice.unwrap();
    assert!(
        notice
            .en
            .contains("the browser was asked to log out of Kakao"),
        "{notice:?}"
    );
    assert!(!notice
        .en
        .contains("Logged out on this device and of the Kakao account"));
    env.sign_in().await;
    let url = env.browser.last_kakao_url().await;
    assert!(url.contains("prompt=login"), "{url}");
    // Once: a plain logout later does not ask for the login again.
    env.session.logout(false).await;
    env.sign_in().await;
    let url = env.browser.last_kakao_url().await;
    assert!(!url.contains("prompt="), "{url}");
    env.cleanup().await;
}

/// REFERENCE §4b: an `access_token_info` error other than -1, -2, -401 means the session can no
/// longer be used: signed out with Kakao's reason, not "offline" forever. -603 is transient.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn kakao_saying_the_session_is_unusable_signs_out() {
    let env = Env::new(script(FULL, Consent::All)).await;
    env.sign_in().await;
    let stored = env.stored().await;
    env.sim
        .set_fault(Endpoint::AccessTokenInfo, kapi_fault(-603));
    // access_token_info follows the profile off the critical path (issue 19): a transient
    // answer there says nothing and keeps the session.
    let v = env.new_session().restore().await;
    assert_eq!(v.status, Status::SignedIn, "-603 is transient: {v:#?}");
    assert_eq!(env.stored().await, stored);
    env.sim.set_fault(Endpoint::AccessTokenInfo, kapi_fault(-3));
    let v = env.new_session().restore().await;
    assert_eq!(v.status, Status::SignedOut, "{v:#?}");
    let notice = v.notice.expect("says why");
    assert!(notice.en.contains("can no longer be used"), "{notice:?}");
    assert!(env.accounts().is_empty(), "the tokens are gone");
    env.cleanup().await;
}

/// REFERENCE §3: any `invalid_grant` at refresh means the refresh token is dead, whatever
/// `error_code` comes with it or none.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn any_invalid_grant_at_refresh_ends_the_session() {
    for code in [Some("KOE999"), None] {
        let env = Env::new(script(FULL, Consent::All)).await;
        env.sign_in().await;
        env.sim.advance_clock(7 * HOUR);
        env.sim.set_fault(
            Endpoint::Token,
            Fault::Times(
                1,
                Box::new(Fault::KauthError {
                    status: 400,
                    error: "invalid_grant".into(),
                    error_code: code.map(String::from),
                }),
            ),
        );
        let v = env.new_session().restore().await;
        assert_eq!(v.status, Status::SignedOut, "{code:?}: {v:#?}");
        assert!(env.accounts().is_empty(), "{code:?}: tokens deleted");
        env.cleanup().await;
    }
}

impl Env {
    /// Signed in as `NO_EMAIL` with an email typed in; the typed values' file.
    async fn signed_in_with_a_typed_value() -> (Env, PathBuf) {
        let env = Env::new(script(NO_EMAIL, Consent::All)).await;
        env.sign_in().await;
        env.session
            .set_entered_value("email", "me@example.com")
            .await;
        let typed = env
            .data_dir
            .join(format!("users/{}.json", env.member_id(NO_EMAIL)));
        assert!(typed.exists());
        (env, typed)
    }
}

/// Disconnected at Kakao (account page, KakaoTalk): Disconnect in the app still completes on
/// -101; the tokens and the typed values go, the notice says it was already disconnected.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn disconnect_when_already_disconnected_at_kakao_completes() {
    let (env, typed) = Env::signed_in_with_a_typed_value().await;
    env.sim.set_fault(Endpoint::Unlink, kapi_fault(-101));
    let v = env.session.unlink().await;
    assert_eq!(v.status, Status::SignedOut, "{v:#?}");
    assert!(v.error.is_none(), "{v:#?}");
    let notice = v.notice.expect("says so");
    assert!(notice.en.contains("already disconnected"), "{notice:?}");
    assert!(env.accounts().is_empty());
    assert!(!typed.exists(), "typed values removed");
    env.cleanup().await;
}

/// At start, a session Kakao reports as not linked (-101) ends with the same notice, and the
/// member's typed values are removed.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_session_found_disconnected_at_start_ends_and_forgets_typed_values() {
    let (env, typed) = Env::signed_in_with_a_typed_value().await;
    env.sim
        .set_fault(Endpoint::AccessTokenInfo, kapi_fault(-101));
    let v = env.new_session().restore().await;
    assert_eq!(v.status, Status::SignedOut, "{v:#?}");
    assert!(v.notice.unwrap().en.contains("already disconnected"));
    assert!(env.accounts().is_empty());
    assert!(!typed.exists(), "typed values removed");
    env.cleanup().await;
}

/// REFERENCE §7: OIDC switched off in the console: a refresh brings no ID token, and
/// additional consent stops asking for `openid` (Kakao would stop at KOE205).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn oidc_switched_off_later_stops_asking_for_openid() {
    let env = Env::new(script(
        FULL,
        Consent::Only(vec!["profile_nickname", "openid"]),
    ))
    .await;
    env.sign_in().await;
    env.sim.update_app(|a| a.oidc = false);
    env.sim.advance_clock(7 * HOUR);
    let v = env.session.refresh_profile().await;
    assert_eq!(v.status, Status::SignedIn, "{v:#?}");
    assert_eq!(env.sim.stats().refreshes, 1);
    env.browser.set_script(script(FULL, Consent::All));
    env.session
        .request_consent(vec!["account_email".into()])
        .await;
    let url = env.browser.last_kakao_url().await;
    assert!(url.contains("scope=account_email"), "{url}");
    assert!(!url.contains("openid"), "{url}");
    let v = env
        .wait_for("email agreed", |v| {
            v.status == Status::SignedIn
                && v.profile
                    .as_ref()
                    .is_some_and(|_| field(v, "email") == FieldState::Agreed)
        })
        .await;
    assert!(v.error.is_none(), "{v:#?}");
    env.cleanup().await;
}

// ------------------------------------------------------------------ when the browser doesn't come back (issue 15)

impl Env {
    fn code_exchanges(&self) -> usize {
        self.sim
            .stats()
            .token_requests
            .get("authorization_code")
            .copied()
            .unwrap_or(0) as usize
    }

    /// A file for the browser's held redirect, removed first.
    fn location_file(&self) -> PathBuf {
        let f = self.data_dir.with_extension("location");
        let _ = std::fs::remove_file(&f);
        f
    }
}

async fn read_when_written(file: &std::path::Path) -> String {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Ok(s) = std::fs::read_to_string(file) {
            return s;
        }
        assert!(
            Instant::now() < deadline,
            "the browser never wrote {file:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn open_again_hands_the_browser_the_same_attempt_and_it_completes() {
    // The first opening goes nowhere (a browser that exits 0 and shows nothing).
    let env = Env::new(None).await;
    let v = env.session.sign_in(None).await;
    assert_eq!(v.status, Status::Waiting);
    let first = env.browser.opened();
    assert_eq!(first.len(), 1);
    // The sign-in link is Kakao's authorize URL of this attempt (behind the one-time start URL
    // the browser was given), without the verifier.
    let link = env.session.sign_in_link().unwrap();
    assert_eq!(
        link,
        kakao_signin_test_support::follow_start(&first[0]).await
    );
    assert!(link.contains("code_challenge=") && !link.contains("code_verifier"));

    env.browser.set_script(script(FULL, Consent::All));
    let v = env.session.open_again();
    assert!(v.error.is_none(), "{v:#?}");
    let opened = env.browser.opened();
    assert_eq!(opened.len(), 2);
    // A new one-time start URL (the first is used up), behind it the same Kakao URL: same
    // state, PKCE challenge and nonce, the same attempt opened again.
    assert_ne!(opened[1], opened[0]);
    assert_eq!(env.browser.last_kakao_url().await, link);
    env.wait_for("signed in", |v| {
        v.status == Status::SignedIn && v.profile.is_some()
    })
    .await;
    assert_eq!(env.code_exchanges(), 1);
    assert_eq!(env.accounts().len(), 2, "{:?}", env.accounts());
    // Nothing waits any more: nothing to open again or copy.
    let v = env.session.open_again();
    assert_eq!(v.error.as_ref().unwrap().kind, "not_waiting");
    assert_eq!(env.browser.opened().len(), 2);
    assert!(env.session.sign_in_link().is_err());
    env.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_pasted_address_completes_sign_in_and_the_tokens_are_in_the_keychain() {
    let env = Env::new(script(FULL, Consent::All)).await;
    let file = env.location_file();
    env.browser.hold_redirect_in(Some(file.clone()));
    env.session.sign_in(None).await;
    let location = read_when_written(&file).await;
    assert!(
        location.starts_with(&format!("http://127.0.0.1:{}/callback?", env.port)),
        "{location}"
    );

    // A wrong state first: refused, still waiting, nothing exchanged.
    let wrong = location.replace("state=", "state=x");
    let v = env.session.paste_address(&wrong).await;
    assert_eq!(
        v.error.as_ref().unwrap().kind,
        "pasted_wrong_state",
        "{v:#?}"
    );
    assert_eq!(v.status, Status::Waiting);
    // Not an address of ours at all: refused with its own words.
    let v = env.session.paste_address("https://kauth.kakao.com/").await;
    assert_eq!(v.error.as_ref().unwrap().kind, "pasted_not_callback");
    assert_eq!(v.status, Status::Waiting);
    assert_eq!(env.code_exchanges(), 0);

    // The address without its scheme, as some address bars copy it.
    let v = env
        .session
        .paste_address(location.trim_start_matches("http://"))
        .await;
    assert!(v.error.is_none(), "{v:#?}");
    env.wait_for("signed in", |v| {
        v.status == Status::SignedIn && v.profile.is_some()
    })
    .await;
    assert_eq!(env.code_exchanges(), 1);
    let (access, refresh) = env.stored().await.expect("tokens in the keychain");
    assert!(!access.is_empty() && refresh.is_some());

    // The same address again: nothing waits, nothing is exchanged or stored twice.
    let v = env.session.paste_address(&location).await;
    assert_eq!(v.error.as_ref().unwrap().kind, "not_waiting");
    assert_eq!(env.code_exchanges(), 1);
    assert_eq!(env.stored().await.unwrap().0, access);
    env.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_paste_after_the_listener_took_the_redirect_is_refused() {
    let env = Env::new(script(FULL, Consent::All)).await;
    let file = env.location_file();
    env.browser.hold_redirect_in(Some(file.clone()));
    env.session.sign_in(None).await;
    let location = read_when_written(&file).await;
    // The code exchange takes a while, so the paste arrives while the attempt completes.
    env.sim.set_fault(
        Endpoint::Token,
        Fault::Times(1, Box::new(Fault::Latency(Duration::from_secs(3)))),
    );
    // The browser reaches the listener after all.
    let res = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .build()
        .unwrap()
        .get(&location)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 302);
    env.wait_for("completing", |v| v.status == Status::Completing)
        .await;
    let v = env.session.paste_address(&location).await;
    assert_eq!(
        v.error.as_ref().unwrap().kind,
        "pasted_already_used",
        "{v:#?}"
    );
    env.wait_for("signed in", |v| v.status == Status::SignedIn)
        .await;
    assert_eq!(env.code_exchanges(), 1);
    assert_eq!(env.accounts().len(), 2, "{:?}", env.accounts());
    env.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn kakao_error_help_names_the_rest_api_key_and_the_waiting_redirect_uri() {
    let env = Env::new(None).await;
    env.session.sign_in(None).await;
    let help = env.session.kakao_error_help();
    let codes: Vec<&str> = help.iter().map(|h| h.code.as_str()).collect();
    assert_eq!(
        codes,
        ["KOE101", "KOE004", "KOE005", "KOE205", "KOE006", "KOE007", "other"]
    );
    let koe = |c: &str| help.iter().find(|h| h.code == c).unwrap();
    for t in [
        koe("KOE101").cause.clone(),
        koe("KOE101").fix.clone().unwrap(),
    ] {
        assert!(
            t.en.contains("REST API key") && t.ko.contains("REST API 키"),
            "{t:?}"
        );
    }
    assert!(koe("KOE101")
        .fix
        .as_ref()
        .unwrap()
        .en
        .contains("JavaScript"));
    let uri = format!("http://127.0.0.1:{}/callback", env.port);
    assert!(koe("KOE006").fix.as_ref().unwrap().en.contains(&uri));
    assert!(koe("KOE004")
        .fix
        .as_ref()
        .unwrap()
        .en
        .contains("[Kakao Login]"));
    assert!(koe("KOE005")
        .fix
        .as_ref()
        .unwrap()
        .en
        .contains("team member"));
    assert!(koe("KOE205")
        .fix
        .as_ref()
        .unwrap()
        .en
        .contains("OpenID Connect"));
    assert!(koe("KOE007")
        .fix
        .as_ref()
        .unwrap()
        .en
        .contains("Logout redirect URI"));
    for h in &help {
        assert!(!h.cause.ko.is_empty() && h.fix.is_some(), "{h:?}");
    }
    env.session.cancel_sign_in();
    env.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn open_again_says_when_the_browser_cannot_be_opened_and_keeps_waiting() {
    let env = Env::new(None).await;
    let mut deps = kakao_signin_test_support::deps_for(
        &env.sim,
        &env.auth_url,
        Vault::keyring(env.service.clone()),
        &env.data_dir,
        &env.browser,
        vec![env.port],
    );
    // The first opening works; the browser is gone by the time the person asks again.
    let opened = Arc::new(AtomicUsize::new(0));
    let count = opened.clone();
    deps.browser = Arc::new(move |_url: &str| {
        if count.fetch_add(1, Ordering::SeqCst) == 0 {
            Ok(())
        } else {
            Err(kakao_signin_core::signin::Error::BrowserFailed {
                program: "gone-browser".into(),
                detail: "No such file or directory".into(),
                from_env: true,
            })
        }
    });
    let session = Session::new(deps, Arc::new(|_| {}));
    assert_eq!(session.sign_in(None).await.status, Status::Waiting);
    let v = session.open_again();
    assert_eq!(opened.load(Ordering::SeqCst), 2);
    let e = v.error.as_ref().expect("the failure is said");
    assert_eq!(e.kind, "browser_failed");
    assert!(e.message.en.contains("gone-browser"), "{e:?}");
    assert_eq!(v.status, Status::Waiting, "the attempt keeps waiting");
    assert!(session.sign_in_link().is_ok());
    session.cancel_sign_in();
    env.cleanup().await;
}
