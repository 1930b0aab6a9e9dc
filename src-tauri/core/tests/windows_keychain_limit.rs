//! Windows Credential Manager holds at most 1,280 UTF-16 units in one entry (`keyring` refuses
//! more). A sign-in by the largest profile Kakao can describe, against the simulator over real
//! HTTP, with the session's keychain refusing what Windows refuses
//! ([`MemoryStore::with_windows_limit`]): the sign-in, a restart, a refresh and additional
//! consent must all keep every entry under the vault's budget.

use kakao_signin_core::session::view::{SessionView, Status};
use kakao_signin_core::session::Session;
use kakao_signin_core::vault::{
    MemoryStore, Vault, ENTRY_BUDGET_UTF16, REFRESH_ACCOUNT, SESSION_ACCOUNT,
};
use kakao_signin_test_support::{
    free_loopback_port, session_against, Consent, Script, Sim, SimBrowser, SimConfig,
};
use kakao_sim::config::{ConsentItem, Profile, ScopeType, UserConfig};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

const LOGIN: &str = "longest@kakao.test";
const MEMBER: i64 = 9_223_372_036_854_775_807;

/// The demo app with every consent item Kakao documents (REFERENCE §5) and a member whose ID
/// token is as large as Kakao's can be: a 20-character Korean nickname, a Kakao CDN picture URL,
/// a verified e-mail address of 100 characters, every item agreed.
fn worst_case_config(port: u16) -> SimConfig {
    let mut cfg = SimConfig::for_loopback_port(port);
    let item = |id: &str, kind: ScopeType| ConsentItem {
        id: id.into(),
        display_name: id.into(),
        required: false,
        collect: false,
        kind,
    };
    let (p, s) = (ScopeType::Privacy, ScopeType::Service);
    cfg.app.consent_items.extend([
        item("account_ci", p),
        item("shipping_address", p),
        item("friends", s),
        item("talk_message", s),
        item("talk_chats", s),
        item("talk_calendar", s),
        item("plusfriends", s),
    ]);
    // 64 characters before the @, the most RFC 5321 allows.
    let local = "kakao.enterprise.member.with.the.longest.mailbox.name.allowed.64";
    assert_eq!(local.len(), 64);
    let email = format!("{local}@kakao-enterprise-mail.example.co.kr");
    let nickname = "가나다라마바사아자차카타파하가나다라마바";
    assert_eq!(nickname.chars().count(), 20);
    let picture =
        "http://k.kakaocdn.net/dn/dpk9l1/btqmGhA2lKL/Oz0wDuJn1YV2DIn92f6DVK/img_110x110.jpg";
    cfg.users.push(UserConfig {
        id: MEMBER,
        login: LOGIN.into(),
        password: kakao_signin_test_support::PASSWORD.into(),
        profile: Profile {
            nickname: Some(nickname.into()),
            profile_image_url: Some(picture.replace("110x110", "640x640")),
            thumbnail_image_url: Some(picture.into()),
            email: Some(email),
            name: Some("가나다라마바사아자차".into()),
            age_range: Some("30~39".into()),
            birthyear: Some("1990".into()),
            birthday: Some("0214".into()),
            birthday_type: Some("LUNAR".into()),
            gender: Some("female".into()),
            phone_number: Some("+82 10-1234-5678".into()),
            ci: Some("C".repeat(88)),
            ci_authenticated_at: Some(1_600_000_000),
            ..Profile::with_defaults()
        },
        has_kakaotalk: true,
    });
    cfg
}

struct Rig {
    sim: Arc<Sim>,
    store: Arc<MemoryStore>,
    browser: Arc<SimBrowser>,
    data_dir: PathBuf,
    port: u16,
}

impl Rig {
    fn session(&self) -> Arc<Session> {
        session_against(
            &self.sim,
            &self.sim.base_url(),
            Vault::new(self.store.clone()),
            &self.data_dir,
            &self.browser,
            vec![self.port],
            Arc::new(|_| {}),
        )
    }

    /// Every entry is there and under the budget (so far below Windows' limit).
    fn assert_entries_small(&self, when: &str) {
        for account in [SESSION_ACCOUNT, REFRESH_ACCOUNT] {
            let raw = self
                .store
                .raw(account)
                .unwrap_or_else(|| panic!("{when}: no {account} entry"));
            let units = raw.encode_utf16().count();
            assert!(
                units <= ENTRY_BUDGET_UTF16,
                "{when}: the {account} entry is {units} UTF-16 units"
            );
        }
    }

    async fn wait_for(
        &self,
        session: &Session,
        what: &str,
        pred: impl Fn(&SessionView) -> bool,
    ) -> SessionView {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let v = session.view();
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
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_largest_profile_signs_in_with_windows_keychain_limits() {
    let port = free_loopback_port();
    let sim = Arc::new(Sim::start(worst_case_config(port)).await.unwrap());
    let data_dir = std::env::temp_dir().join(format!("ks-winlimit-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&data_dir);
    let rig = Rig {
        sim,
        store: Arc::new(MemoryStore::with_windows_limit()),
        browser: SimBrowser::new(Some(Script {
            login: LOGIN,
            consent: Consent::All,
        })),
        data_dir,
        port,
    };

    // Sign in: every item agreed, so Kakao's ID token carries nickname, picture and e-mail.
    let session = rig.session();
    let v = session.sign_in(None).await;
    assert_eq!(v.status, Status::Waiting, "{v:#?}");
    let v = rig
        .wait_for(&session, "signed in", |v| {
            v.error.is_some() || (v.status == Status::SignedIn && v.profile.is_some())
        })
        .await;
    assert!(v.error.is_none(), "the sign-in failed: {:#?}", v.error);
    assert_eq!(v.profile.as_ref().unwrap().member_id, MEMBER.to_string());
    assert_eq!(rig.sim.stats().id_tokens_issued, 1, "OIDC is on");
    let agreed = rig.sim.user_consents(MEMBER);
    for item in [
        "profile_nickname",
        "profile_image",
        "account_email",
        "talk_message",
    ] {
        assert!(
            agreed.iter().any(|a| a == item),
            "{item} not agreed: {agreed:?}"
        );
    }
    rig.assert_entries_small("after sign-in");

    // The app starts again: the session comes back from the keychain.
    let again = rig.session();
    let v = again.restore().await;
    assert_eq!(v.status, Status::SignedIn, "{v:#?}");

    // The access token expires: the refresh brings a new ID token and rewrites the session.
    rig.sim.advance_clock(7 * 3600);
    let v = again.refresh_profile().await;
    assert!(v.error.is_none(), "{:#?}", v.error);
    assert_eq!(rig.sim.stats().refreshes, 1);
    assert_eq!(rig.sim.stats().id_tokens_issued, 2);
    rig.assert_entries_small("after the refresh");

    // Additional consent still asks for `openid` after the restart: the keychain kept that
    // OIDC is on without keeping the ID token.
    let opened = rig.browser.opened().len();
    let v = again.request_consent(vec!["account_email".into()]).await;
    assert_eq!(v.status, Status::Waiting, "{v:#?}");
    assert_eq!(rig.browser.opened().len(), opened + 1);
    let url = rig.browser.last_kakao_url().await;
    let scope = reqwest::Url::parse(&url)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "scope")
        .map(|(_, v)| v.into_owned())
        .unwrap();
    assert!(scope.split(',').any(|s| s == "openid"), "scope={scope}");
    let v = rig
        .wait_for(&again, "consent done", |v| {
            v.error.is_some() || (v.status == Status::SignedIn && v.waiting.is_none())
        })
        .await;
    assert!(
        v.error.is_none(),
        "additional consent failed: {:#?}",
        v.error
    );
    assert_eq!(rig.sim.stats().id_tokens_issued, 3);
    rig.assert_entries_small("after additional consent");

    let _ = std::fs::remove_dir_all(&rig.data_dir);
}
