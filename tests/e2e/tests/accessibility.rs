//! The window as a screen reader hears it, through AT-SPI (the app's accessibility bridge on,
//! the accessibility bus of the suite's private D-Bus session, `tests/e2e/atspi/probe.py`), in
//! Korean and in English, on every screen a sign-in passes through: signed out, waiting, an
//! error, signed in, offline, the logout dialog, signed out with a notice, and the setup screen
//! of an app with no REST API key. On each screen, generically (every control the
//! page has, whoever added it):
//! - every control has a role and a name, in the window's language;
//! - the controls' order in the tree (the order Tab and a reader follow) is the reading order on
//!   screen: top to bottom, left to right within a row;
//! - Tab reaches every control, in that order (nothing is mouse-only);
//! - each change of status is announced: a focus move onto it or a live region's new content,
//!   as AT-SPI events.

use anyhow::{bail, ensure, Result};
use kakao_signin_e2e::atspi::{self, Listener, Node};
use kakao_signin_e2e::{serial, App, AppOptions, Chromium, Consent, Lang, Rig};
use kakao_sim::{Endpoint, Fault};
use std::time::{Duration, Instant};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_screen_is_heard_in_korean() -> Result<()> {
    walk_every_screen(Lang::Ko).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_screen_is_heard_in_english() -> Result<()> {
    walk_every_screen(Lang::En).await
}

async fn walk_every_screen(lang: Lang) -> Result<()> {
    let _one = serial().await;
    let rig = Rig::start("a11y", lang).await?;
    let listener = Listener::start()?;
    let app = App::launch_accessible(AppOptions { env: rig.env() }).await?;

    // Signed out.
    app.wait_screen("signed_out").await?;
    check_screen(&app, lang, "signed out").await?;

    // Waiting for the browser.
    let mark = listener.mark();
    let n = rig.inbox.len() + 1;
    app.click("#signin").await?;
    app.wait_screen("waiting").await?;
    listener.wait_announced(mark, &app.text("#waiting-title").await?)?;
    check_screen(&app, lang, "waiting").await?;

    // An error: the person cancels on Kakao's consent page.
    let url = rig.inbox.nth(n).await?;
    let browser = Chromium::launch().await?;
    let mark = listener.mark();
    browser.client.goto(&url).await?;
    browser.log_in("full@kakao.test", "demo1234").await?;
    browser.answer_consent(Consent::Cancel).await?;
    app.wait_visible("#error").await?;
    listener.wait_announced(mark, &app.text("#error-message").await?)?;
    check_screen(&app, lang, "signed out with an error").await?;
    browser.close().await;

    // Signed in.
    let n = rig.inbox.len() + 1;
    app.click("#signin").await?;
    app.wait_screen("waiting").await?;
    let url = rig.inbox.nth(n).await?;
    let browser = Chromium::launch().await?;
    let mark = listener.mark();
    browser.client.goto(&url).await?;
    browser.log_in("full@kakao.test", "demo1234").await?;
    browser.answer_consent(Consent::All).await?;
    app.wait_screen("signed_in").await?;
    listener.wait_announced(mark, &app.text("#profile-nickname").await?)?;
    check_screen(&app, lang, "signed in").await?;
    browser.close().await;

    // Offline: the app starts again and Kakao cannot be reached.
    app.close().await?;
    for endpoint in [Endpoint::AccessTokenInfo, Endpoint::UserMe, Endpoint::Token] {
        rig.sim.set_fault(endpoint, Fault::Status(503));
    }
    let mark = listener.mark();
    let app = App::launch_accessible(AppOptions { env: rig.env() }).await?;
    app.wait_screen("offline").await?;
    listener.wait_announced(mark, &heading(&app).await?)?;
    check_screen(&app, lang, "offline").await?;
    rig.sim.clear_faults();
    let mark = listener.mark();
    app.click("#retry").await?;
    app.wait_screen("signed_in").await?;
    listener.wait_announced(mark, &app.text("#profile-nickname").await?)?;

    // The logout dialog, then signed out again, with a notice.
    app.click("#logout").await?;
    app.wait_visible("#logout-confirm").await?;
    check_dialog(&app, lang, "logout-dialog").await?;
    let mark = listener.mark();
    app.click("#logout-confirm").await?;
    app.wait_screen("signed_out").await?;
    app.wait_visible("#notice").await?;
    listener.wait_announced(mark, &app.text("#notice-text").await?)?;
    check_screen(&app, lang, "signed out with a notice").await?;
    app.close().await?;

    // No REST API key: the setup screen.
    let env = kakao_signin_e2e::unconfigured_env(&rig.service, &rig.data, lang);
    let app = App::launch_accessible(AppOptions { env }).await?;
    app.wait_screen("unconfigured").await?;
    check_screen(&app, lang, "unconfigured").await?;
    app.close().await
}

/// Names that are right in either language: each language's own name in the language switch.
const OWN_NAMES: &[&str] = &["한국어", "English"];

fn has_hangul(s: &str) -> bool {
    s.chars()
        .any(|c| matches!(c, '\u{AC00}'..='\u{D7A3}' | '\u{1100}'..='\u{11FF}' | '\u{3130}'..='\u{318F}'))
}

fn has_english_word(s: &str) -> bool {
    s.split(|c: char| !c.is_ascii_alphabetic())
        .any(|w| w.len() >= 2)
}

/// The screen's controls: what a person can operate on it now.
fn controls(nodes: &[Node]) -> Vec<Node> {
    nodes
        .iter()
        .filter(|n| n.is_interactive() && n.has_state("visible"))
        .cloned()
        .collect()
}

fn dump(nodes: &[Node]) -> String {
    nodes
        .iter()
        .map(|n| {
            format!(
                "{}{} {:?} states={:?} actions={:?} at={:?}",
                "  ".repeat(n.depth as usize),
                n.role,
                n.name,
                n.states,
                n.actions,
                n.extents
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The heading of the screen shown now.
async fn heading(app: &App) -> Result<String> {
    let shown = app
        .attr("main > [data-screen]:not([hidden])", "data-screen")
        .await?
        .unwrap_or_default();
    app.text(&format!("main > [data-screen=\"{shown}\"] h1"))
        .await
}

/// The page's tree once AT-SPI shows a node of `role` named `name` (it follows the page a
/// moment later).
async fn tree_showing(screen: &str, role: &str, name: &str) -> Result<Vec<Node>> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let nodes = atspi::tree()?;
        if nodes
            .iter()
            .any(|n| n.role == role && atspi::normalize(&n.name) == atspi::normalize(name))
        {
            return Ok(nodes);
        }
        if Instant::now() > deadline {
            bail!(
                "{screen}: AT-SPI never showed the {role} {name:?}; tree:\n{}",
                dump(&nodes)
            );
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Kakao's own words shown on the screen (consent items' display names, in Korean whatever the
/// window's language): a control's English name may quote them.
async fn kakaos_words(app: &App) -> Result<Vec<String>> {
    let v = app
        .client
        .execute(
            "return [...document.querySelectorAll('.consent-name')].map(e => e.textContent);",
            vec![],
        )
        .await?;
    Ok(serde_json::from_value(v).unwrap_or_default())
}

async fn check_screen(app: &App, lang: Lang, screen: &str) -> Result<()> {
    let nodes = tree_showing(screen, "heading", &heading(app).await?).await?;
    let controls = controls(&nodes);
    check_controls(&nodes, &controls, lang, screen, &kakaos_words(app).await?)?;
    // Tab reaches every control, in that order.
    tab_walk(app, screen, &controls, true).await
}

/// A modal dialog (its `id`): its own controls, Tab from the one it focuses when it opens.
async fn check_dialog(app: &App, lang: Lang, id: &str) -> Result<()> {
    let title = app.text(&format!("#{id} h2")).await?;
    let screen = format!("dialog {title:?}");
    let nodes = tree_showing(&screen, "dialog", &title).await?;
    let at = nodes
        .iter()
        .position(|n| n.role == "dialog" && atspi::normalize(&n.name) == atspi::normalize(&title))
        .expect("tree_showing found it");
    let inside: Vec<Node> = nodes[at + 1..]
        .iter()
        .take_while(|n| n.depth > nodes[at].depth)
        .cloned()
        .collect();
    let controls = controls(&inside);
    check_controls(&nodes, &controls, lang, &screen, &kakaos_words(app).await?)?;
    ensure!(
        controls[0].has_state("focused"),
        "{screen}: opened with focus elsewhere than on its first control {}; tree:\n{}",
        controls[0].label(),
        dump(&nodes)
    );
    tab_walk(app, &screen, &controls, false).await
}

/// Every control has a role and a name in the window's language (apart from `kakaos_words` it
/// quotes), and their tree order is the reading order on screen.
fn check_controls(
    nodes: &[Node],
    controls: &[Node],
    lang: Lang,
    screen: &str,
    kakaos_words: &[String],
) -> Result<()> {
    eprintln!(
        "{screen} ({lang:?}): {} controls: {}",
        controls.len(),
        controls
            .iter()
            .map(Node::label)
            .collect::<Vec<_>>()
            .join(", ")
    );
    ensure!(
        !controls.is_empty(),
        "{screen}: no controls heard; tree:\n{}",
        dump(nodes)
    );

    // A role and a name, in the window's language.
    for c in controls {
        let name = c.name.trim();
        let own_words = kakaos_words
            .iter()
            .filter(|w| !w.trim().is_empty())
            .fold(name.to_owned(), |n, w| n.replace(w.trim(), ""));
        let right_language = OWN_NAMES.contains(&name)
            || match lang {
                Lang::Ko => has_hangul(name),
                Lang::En => has_english_word(&own_words) && !has_hangul(&own_words),
            };
        ensure!(
            !c.role.is_empty() && c.role != "unknown" && !name.is_empty() && right_language,
            "{screen} ({lang:?}): the control {} has no role or no {lang:?} name; tree:\n{}",
            c.label(),
            dump(nodes)
        );
    }

    // Tree order is reading order: top to bottom, left to right within a row.
    for pair in controls.windows(2) {
        let (Some(a), Some(b)) = (pair[0].extents, pair[1].extents) else {
            bail!(
                "{screen}: {} or {} has no place on screen",
                pair[0].label(),
                pair[1].label()
            );
        };
        let same_row = b.1 < a.1 + a.3 && a.1 < b.1 + b.3;
        let in_order = if same_row { b.0 >= a.0 } else { b.1 >= a.1 };
        ensure!(
            in_order,
            "{screen}: {} (at {a:?}) comes after {} (at {b:?}) in the tree but before it on screen",
            pair[1].label(),
            pair[0].label()
        );
    }
    Ok(())
}

/// Presses Tab once per control and checks, through AT-SPI focus events, that each press lands
/// on the next control: from the top of the page (`from_top`), or from the first control, which
/// has focus already (a dialog that has just opened).
async fn tab_walk(app: &App, screen: &str, controls: &[Node], from_top: bool) -> Result<()> {
    let listener = Listener::start()?;
    let expected = if from_top {
        // Start from the top of the document: no control focused.
        app.client
            .execute(
                "document.activeElement && document.activeElement.blur(); window.scrollTo(0, 0);",
                vec![],
            )
            .await?;
        controls
    } else {
        &controls[1..]
    };
    let mut mark = listener.mark();
    for (i, want) in expected.iter().enumerate() {
        app.client
            .active_element()
            .await?
            .send_keys("\u{E004}")
            .await?;
        let got = listener
            .wait_for(
                mark,
                Duration::from_secs(5),
                &format!("focus on {}", want.label()),
                |e| e.is_focus() && e.role != "document web" && e.role != "frame",
            )
            .map_err(|e| {
                anyhow::anyhow!(
                    "{screen}: Tab #{} did not move focus to {} ({e})",
                    i + 1,
                    want.label()
                )
            })?;
        ensure!(
            got.role == want.role && got.name == want.name,
            "{screen}: Tab #{} focused {} {:?}; the next control in reading order is {}",
            i + 1,
            got.role,
            got.name,
            want.label()
        );
        mark = listener.mark();
    }
    Ok(())
}
