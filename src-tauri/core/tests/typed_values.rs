//! Values typed in on this computer (issue 17, item 3), through the session against the
//! simulator over real HTTP: kept 0600 in a 0700 folder, kept by a plain logout, forgotten by a
//! logout that asks to forget them, and always by unlink. The keychain is a `MemoryStore`.

use kakao_signin_core::session::view::{SessionView, Status};
use kakao_signin_core::session::Session;
use kakao_signin_core::vault::{MemoryStore, Vault};
use kakao_signin_test_support::{
    deps_for, free_loopback_port, start_sim, Consent, Script, SimBrowser,
};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

async fn signed_in(s: &Arc<Session>) -> SessionView {
    let v = s.sign_in(None).await;
    assert_eq!(v.status, Status::Waiting, "{:?}", v.error);
    let deadline = Instant::now() + Duration::from_secs(25);
    loop {
        let v = s.view();
        if !matches!(v.status, Status::Waiting | Status::Completing) {
            assert_eq!(v.status, Status::SignedIn, "{:?}", v.error);
            return v;
        }
        assert!(Instant::now() < deadline, "the sign-in never ended");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn typed_values_are_private_and_forgotten_when_asked_or_unlinked() {
    let port = free_loopback_port();
    let sim = start_sim(port).await;
    let data_dir: PathBuf =
        std::env::temp_dir().join(format!("ks-typed-values-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&data_dir);
    let browser = SimBrowser::new(Some(Script {
        login: "full@kakao.test",
        consent: Consent::All,
    }));
    let deps = deps_for(
        &sim,
        &sim.base_url(),
        Vault::new(Arc::new(MemoryStore::new())),
        &data_dir,
        &browser,
        vec![port],
    );
    let s = Session::new(deps, Arc::new(|_| {}));
    let v = signed_in(&s).await;
    let member = v.profile.as_ref().unwrap().member_id.clone();
    let file = data_dir.join("users").join(format!("{member}.json"));
    let typed = |s: &Arc<Session>| {
        let s = s.clone();
        async move {
            let v = s
                .set_entered_value("phone_number", "+82 10-1111-2222")
                .await;
            assert!(v.error.is_none(), "{:?}", v.error);
        }
    };

    typed(&s).await;
    assert!(file.exists());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&file), 0o600, "the file is the person's alone");
        assert_eq!(mode(file.parent().unwrap()), 0o700, "so is the folder");
    }

    // A plain logout keeps them (the person may sign in again on their own computer).
    let v = s.logout(false).await;
    assert_eq!(v.status, Status::SignedOut, "{:?}", v.error);
    assert!(file.exists(), "a plain logout forgot the typed values");

    // "Forget what I typed on this computer".
    signed_in(&s).await;
    let v = s.logout_forgetting(false).await;
    assert_eq!(v.status, Status::SignedOut, "{:?}", v.error);
    assert!(v.error.is_none() && v.notice.is_some(), "{:?}", v.error);
    assert!(
        !file.exists(),
        "logout asked to forget, but the file is still there"
    );

    // Unlink always forgets.
    signed_in(&s).await;
    typed(&s).await;
    assert!(file.exists());
    let v = s.unlink().await;
    assert_eq!(v.status, Status::SignedOut, "{:?}", v.error);
    assert!(!file.exists(), "unlink left the typed values");
    let _ = std::fs::remove_dir_all(&data_dir);
}
