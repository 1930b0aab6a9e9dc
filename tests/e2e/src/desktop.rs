//! A person's desktop on the suite's Xvfb display: a real window manager with focus-stealing
//! prevention (metacity, GNOME's own, from which mutter was forked), another application's
//! window for the person to be busy in, and what the window manager says about windows
//! (`xdotool`, `xprop`).

use crate::ProcessGroup;
use anyhow::{bail, Context, Result};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The window manager for as long as it lives (killed on drop, leaving the display bare again
/// for the other suites).
pub struct WindowManager {
    _wm: ProcessGroup,
}

impl WindowManager {
    /// Starts metacity on `DISPLAY` and waits until it manages the screen
    /// (`_NET_SUPPORTING_WM_CHECK` on the root window).
    pub fn start() -> Result<WindowManager> {
        let mut cmd = Command::new("metacity");
        cmd.args(["--replace", "--sm-disable"])
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let mut wm = ProcessGroup::spawn("metacity", cmd)
            .context("metacity is needed as the window manager (apt-get install metacity)")?;
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let out = output("xprop", &["-root", "_NET_SUPPORTING_WM_CHECK"]).unwrap_or_default();
            if out.contains("window id") {
                return Ok(WindowManager { _wm: wm });
            }
            if !wm.is_running() {
                bail!("metacity ended before it managed the screen");
            }
            if Instant::now() > deadline {
                bail!("metacity did not manage the screen within 10 s");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

/// Another application's window (xmessage), where the person is busy meanwhile.
pub struct OtherWindow {
    _proc: ProcessGroup,
    /// Its X window id.
    pub id: String,
}

impl OtherWindow {
    /// Opens it and makes it the active window the way a person does (a click in the task bar:
    /// `_NET_ACTIVE_WINDOW` with the current time), then checks the window manager agreed.
    pub fn open_and_activate() -> Result<OtherWindow> {
        let mut cmd = Command::new("xmessage");
        cmd.args(["-geometry", "500x400+0+0", "another application"])
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let proc_ = ProcessGroup::spawn("xmessage", cmd)?;
        let id = search(&["--class", "Xmessage"]).context("xmessage opened no window")?;
        let other = OtherWindow { _proc: proc_, id };
        other.activate()?;
        other.click()?;
        Ok(other)
    }

    /// A real click inside it: the newest user input the window manager has seen is now here.
    pub fn click(&self) -> Result<()> {
        output(
            "xdotool",
            &[
                "mousemove",
                "--window",
                &self.id,
                "100",
                "100",
                "click",
                "1",
            ],
        )
        .map(drop)
    }

    /// Makes it the active window again and waits until it is.
    pub fn activate(&self) -> Result<()> {
        output("xdotool", &["windowactivate", "--sync", &self.id])?;
        wait_until(Duration::from_secs(5), || {
            active_window().as_deref() == Some(&*self.id)
        })
        .context("the other window did not become active")
    }
}

/// The X window id of the app's main window (by its title).
pub fn app_window() -> Result<String> {
    search(&["--onlyvisible", "--name", "^Kakao Sign-in$"])
        .context("no window titled Kakao Sign-in")
}

/// The first window `xdotool search <args>` finds within 10 s.
fn search(args: &[&str]) -> Result<String> {
    let mut args_ = vec!["search"];
    args_.extend_from_slice(args);
    let mut found = None;
    wait_until(Duration::from_secs(10), || {
        found = output("xdotool", &args_)
            .ok()
            .and_then(|o| o.lines().next().map(str::to_owned));
        found.is_some()
    })?;
    found.context("not found")
}

/// A real mouse click (X input through the server, as a person's) on the app's element `css`:
/// unlike WebDriver's clicks, it is input the app and the window manager both see, with its
/// time.
pub async fn click_element(app: &crate::App, css: &str) -> Result<()> {
    let (x, y, w, h) = app.wait_visible(css).await?.rectangle().await?;
    let (wx, wy, _, _) = geometry(&app_window()?)?;
    let cx = (wx as f64 + x + w / 2.0).round() as i64;
    let cy = (wy as f64 + y + h / 2.0).round() as i64;
    output(
        "xdotool",
        &["mousemove", &cx.to_string(), &cy.to_string(), "click", "1"],
    )
    .map(drop)
}

/// The active window's id, as the window manager says (`_NET_ACTIVE_WINDOW`).
pub fn active_window() -> Option<String> {
    output("xdotool", &["getactivewindow"])
        .ok()
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
}

/// Whether the window is marked urgent: the ICCCM urgency hint or EWMH's demands-attention state.
pub fn marked_urgent(id: &str) -> bool {
    let out = output("xprop", &["-id", id, "WM_HINTS", "_NET_WM_STATE"]).unwrap_or_default();
    out.contains("urgency hint bit is set") || out.contains("_NET_WM_STATE_DEMANDS_ATTENTION")
}

/// Polls `cond` every 50 ms until it holds or `within` has passed.
pub fn wait_until(within: Duration, mut cond: impl FnMut() -> bool) -> Result<()> {
    let deadline = Instant::now() + within;
    while !cond() {
        if Instant::now() > deadline {
            bail!("not within {within:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Ok(())
}

/// What the window ended up as, for assertions and messages.
#[derive(Debug, PartialEq, Eq)]
pub enum Front {
    Active,
    Urgent,
    Behind,
}

/// Waits up to 5 s for the window to be active; else says whether it is at least marked urgent.
pub fn wait_in_front(id: &str) -> Front {
    if wait_until(Duration::from_secs(5), || {
        active_window().as_deref() == Some(id)
    })
    .is_ok()
    {
        Front::Active
    } else if marked_urgent(id) {
        Front::Urgent
    } else {
        Front::Behind
    }
}

/// The window's outer geometry as the window manager placed it: (x, y, width, height) in pixels.
pub fn geometry(id: &str) -> Result<(i32, i32, u32, u32)> {
    let out = output("xdotool", &["getwindowgeometry", "--shell", id])?;
    let field = |k: &str| -> Result<i64> {
        out.lines()
            .find_map(|l| l.strip_prefix(&format!("{k}=")))
            .with_context(|| format!("xdotool said no {k}: {out}"))?
            .trim()
            .parse()
            .with_context(|| format!("xdotool's {k} is not a number: {out}"))
    };
    Ok((
        field("X")? as i32,
        field("Y")? as i32,
        field("WIDTH")? as u32,
        field("HEIGHT")? as u32,
    ))
}

/// The screen's width and height in pixels.
pub fn screen_size() -> Result<(i32, i32)> {
    let out = output("xdotool", &["getdisplaygeometry"])?;
    let mut it = out.split_whitespace().map(str::parse::<i32>);
    match (it.next(), it.next()) {
        (Some(Ok(w)), Some(Ok(h))) => Ok((w, h)),
        _ => bail!("xdotool getdisplaygeometry said {out:?}"),
    }
}

/// Runs `prog args` and returns its stdout; fails with its stderr.
pub fn output(prog: &str, args: &[&str]) -> Result<String> {
    let out = Command::new(prog)
        .args(args)
        .output()
        .with_context(|| format!("could not run {prog} (apt-get install xdotool x11-utils)"))?;
    if !out.status.success() {
        bail!(
            "{prog} {} failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}
