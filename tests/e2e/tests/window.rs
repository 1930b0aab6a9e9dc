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
    // The screenshot is read from the X server: the window must be on screen, not only
    // loaded (it starts hidden and shows itself once its page has loaded), with the Kakao
    // button's yellow painted.
    let shot = app.screenshot("signed-out").await?;
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(&shot)?));
    let mut reader = decoder.read_info()?;
    let mut rgb = vec![0; reader.output_buffer_size().expect("small image")];
    let frame = reader.next_frame(&mut rgb)?;
    let pixels: Vec<&[u8]> = rgb[..frame.buffer_size()].chunks_exact(3).collect();
    let kakao_yellow = pixels.iter().filter(|p| **p == [0xFE, 0xE5, 0x00]).count();
    assert!(
        kakao_yellow > 1000,
        "{} shows {kakao_yellow} pixels of Kakao yellow; is the window on screen?",
        shot.display()
    );
    app.close().await
}
