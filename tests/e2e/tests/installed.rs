//! The installed package, as a person gets it: `/usr/bin/kakao-signin` from
//! `apt-get install ./kakao-signin_<version>_<arch>.deb`, the production build (release profile,
//! `custom-protocol`, no `sandbox` feature, the CSP of `tauri.conf.json`), signing in through
//! headless Chromium against the simulator, with the tokens in the real keychain.
//!
//! These tests are `#[ignore]`d in a plain `cargo test`, which has only the debug build: `cargo
//! xtask test-installed` installs the package and runs them with `-- --ignored` and
//! `KAKAO_SIGNIN_APP_BIN=/usr/bin/kakao-signin`. Run with anything but an installed binary they
//! fail; they never fall back to the debug build.

use anyhow::{ensure, Context, Result};
use kakao_signin_e2e::{
    demo_member_id, serial, unconfigured_env, App, AppOptions, Chromium, Consent, Lang, Rig,
};
use std::path::PathBuf;

/// The binary under test: `KAKAO_SIGNIN_APP_BIN`, which must be an installed one under `/usr`.
fn installed_binary() -> Result<PathBuf> {
    let bin = std::env::var_os("KAKAO_SIGNIN_APP_BIN").context(
        "KAKAO_SIGNIN_APP_BIN is not set: this suite tests the installed package, not the debug \
         build; run it through `cargo xtask test-installed`, which installs the .deb and sets \
         KAKAO_SIGNIN_APP_BIN=/usr/bin/kakao-signin",
    )?;
    let bin = PathBuf::from(bin);
    ensure!(
        bin.is_absolute() && bin.starts_with("/usr/"),
        "KAKAO_SIGNIN_APP_BIN={} is not an installed binary under /usr: this suite tests the \
         installed package (cargo xtask test-installed)",
        bin.display()
    );
    ensure!(
        bin.is_file(),
        "{} does not exist: install the package first (cargo xtask test-installed does)",
        bin.display()
    );
    Ok(bin)
}

/// The version dpkg has for the installed package.
fn installed_package_version() -> Result<String> {
    let out = std::process::Command::new("dpkg-query")
        .args(["-W", "-f=${Version}", "kakao-signin"])
        .output()
        .context("dpkg-query")?;
    ensure!(
        out.status.success(),
        "dpkg does not know the kakao-signin package: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "run by cargo xtask test-installed against the installed package"]
async fn installed_app_signs_in_shows_its_version_and_keeps_tokens_in_the_keychain() -> Result<()> {
    let bin = installed_binary()?;
    let _one = serial().await;
    // One version: the workspace's, the package's and the window's footer.
    let version = env!("CARGO_PKG_VERSION");
    ensure!(
        installed_package_version()? == version,
        "the installed package is version {}, the workspace {version}",
        installed_package_version()?
    );

    let rig = Rig::start("installed", Lang::Ko).await?;
    let app = rig.launch().await?;
    app.wait_screen("signed_out").await?;
    let footer = app.text("#version").await?;
    ensure!(
        footer == format!("Kakao Sign-in {version}"),
        "{} shows {footer:?} as its version, not {version}",
        bin.display()
    );

    let browser = Chromium::launch().await?;
    let url = rig
        .sign_in(&app, &browser, "#signin", "full@kakao.test", Consent::All)
        .await?;
    ensure!(rig.is_start_url(&url), "opened {url}");
    app.wait_screen("signed_in").await?;
    let member = app.text("#profile-member-id").await?;
    let id = demo_member_id("full@kakao.test").to_string();
    ensure!(member.contains(&id), "member id shown: {member}");
    app.screenshot("installed-signed-in-ko").await?;

    // The tokens are in the keychain (read from outside, with secret-tool), not in the window.
    ensure!(
        rig.keychain() == vec!["refresh", "session"],
        "keychain items under {}: {:?}",
        rig.service,
        rig.keychain()
    );
    let page = app.client.source().await?;
    ensure!(
        !page.contains("access_token") && !page.contains("refresh_token"),
        "a token name reached the window"
    );

    browser.close().await;
    app.close().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "run by cargo xtask test-installed against the installed package"]
async fn installed_app_is_the_production_build_without_sandbox_and_with_the_csp() -> Result<()> {
    installed_binary()?;
    let _one = serial().await;
    let tag = format!("installed-prod-{}", std::process::id());
    let data = std::env::temp_dir().join(format!("kakao-signin-e2e-data-{tag}"));
    let app = App::launch(AppOptions {
        env: unconfigured_env(&format!("kakao-signin-e2e-{tag}"), &data, Lang::En),
    })
    .await?;
    // No REST API key: the production build says how to connect a Kakao app. Built with the
    // `sandbox` feature it would start the simulator and show the sandbox banner instead.
    app.wait_screen("unconfigured").await?;
    ensure!(
        !app.is_displayed("#sandbox-banner").await?,
        "the installed app shows the sandbox banner: it was built with the sandbox feature"
    );
    // The CSP (`script-src 'self'`, no 'unsafe-eval') is in force in the window.
    let eval = app
        .client
        .execute(
            "try { (0, eval)('1 + 1'); return 'allowed'; } catch (e) { return e.name; }",
            vec![],
        )
        .await?;
    ensure!(
        eval.as_str() == Some("EvalError"),
        "eval in the installed app's window gave {eval}: the CSP is not in force"
    );
    let _ = std::fs::remove_dir_all(&data);
    app.close().await
}
