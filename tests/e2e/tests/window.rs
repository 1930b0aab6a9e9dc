//! The real window comes up and shows the signed-out screen.

use kakao_signin_e2e::{serial, App, AppOptions};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn window_shows_signed_out_screen_with_kakao_button() -> anyhow::Result<()> {
    let _one = serial().await;
    let app = App::launch(AppOptions {
        env: vec![
            ("KAKAO_SIGNIN_CLIENT_ID".into(), "e2e-test-key".into()),
            (
                "KAKAO_SIGNIN_KEYRING_SERVICE".into(),
                format!("kakao-signin-e2e-{}", std::process::id()),
            ),
        ],
    })
    .await?;
    let button = app.wait_visible("#signin").await?;
    let label = button.text().await?;
    assert!(
        label.contains("카카오 로그인") || label.contains("Login with Kakao"),
        "sign-in button label was {label:?}"
    );
    assert_eq!(app.client.title().await?, "Kakao Sign-in");
    let shot = app.screenshot("signed-out").await?;
    assert!(
        std::fs::metadata(&shot)?.len() > 1000,
        "screenshot is empty"
    );
    app.close().await
}
