//! What a screen reader hears of the window, through AT-SPI: `tests/e2e/atspi/probe.py`
//! (python3-pyatspi, run with Debian's `/usr/bin/python3`, which that package is built for) reads
//! the app's accessible tree and listens for events on the accessibility bus of the suite's
//! private D-Bus session. The app must be started with its accessibility bridge on
//! ([`crate::App::launch_accessible`]).

use crate::ProcessGroup;
use anyhow::{bail, Context, Result};
use serde_json::Value;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The application name the app has on the accessibility bus (its program name).
pub const APP_NAME: &str = "kakao-signin";

/// Roles of controls a person operates (AT-SPI role names, as pyatspi spells them).
const CONTROL_ROLES: &[&str] = &[
    "push button",
    "toggle button",
    "check box",
    "radio button",
    "entry",
    "password text",
    "combo box",
    "link",
    "menu item",
    "slider",
    "spin button",
    "page tab",
    "list box",
    "tree",
];

/// Actions that make a node something to operate, whatever its role.
const OPERATE_ACTIONS: &[&str] = &["click", "press", "jump", "activate", "toggle"];

fn python() -> &'static str {
    "/usr/bin/python3"
}

fn probe_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("atspi/probe.py")
}

fn probe() -> Command {
    let mut c = Command::new(python());
    c.arg(probe_path()).env_remove("NO_AT_BRIDGE");
    c
}

/// One node of the page's accessible tree.
#[derive(Clone, Debug)]
pub struct Node {
    pub role: String,
    pub name: String,
    pub description: String,
    pub states: Vec<String>,
    pub attributes: serde_json::Map<String, Value>,
    pub actions: Vec<String>,
    /// x, y, width, height on the screen, in pixels.
    pub extents: Option<(i32, i32, i32, i32)>,
    pub depth: u32,
}

impl Node {
    fn from_json(v: &Value) -> Node {
        let strings = |k: &str| -> Vec<String> {
            v[k].as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|s| s.as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default()
        };
        let extents = v["extents"].as_array().and_then(|a| {
            let n: Vec<i32> = a
                .iter()
                .filter_map(|x| x.as_i64().map(|x| x as i32))
                .collect();
            (n.len() == 4).then(|| (n[0], n[1], n[2], n[3]))
        });
        Node {
            role: v["role"].as_str().unwrap_or_default().to_owned(),
            name: v["name"].as_str().unwrap_or_default().to_owned(),
            description: v["description"].as_str().unwrap_or_default().to_owned(),
            states: strings("states"),
            attributes: v["attributes"].as_object().cloned().unwrap_or_default(),
            actions: strings("actions"),
            extents,
            depth: v["depth"].as_u64().unwrap_or(0) as u32,
        }
    }

    pub fn has_state(&self, s: &str) -> bool {
        self.states.iter().any(|x| x == s)
    }

    /// Something a person operates: a control's role, or an action such as click.
    pub fn is_interactive(&self) -> bool {
        CONTROL_ROLES.contains(&self.role.as_str())
            || self
                .actions
                .iter()
                .any(|a| OPERATE_ACTIONS.contains(&a.as_str()))
    }

    /// `role "name"`, for messages.
    pub fn label(&self) -> String {
        format!("{} {:?}", self.role, self.name)
    }
}

/// The app's page as AT-SPI has it now, in tree order. Fails when the app is not on the bus.
pub fn tree() -> Result<Vec<Node>> {
    // The web process registers its tree shortly after the page loads: try for a few seconds.
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let out = probe().args(["tree", APP_NAME]).output().context(
            "could not run the AT-SPI probe (apt-get install python3-pyatspi at-spi2-core)",
        )?;
        let text = String::from_utf8_lossy(&out.stdout);
        let values: Vec<Value> = text
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect();
        if out.status.success() && values.len() > 1 {
            return Ok(values.iter().map(Node::from_json).collect());
        }
        if Instant::now() > deadline {
            bail!(
                "the AT-SPI probe found no page of {APP_NAME}: {text}{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// One event heard on the accessibility bus.
#[derive(Clone, Debug)]
pub struct Event {
    pub kind: String,
    pub detail1: i64,
    pub role: String,
    pub name: String,
    pub text: String,
    /// `polite`/`assertive` (an aria-live region), `role` (a live role such as alert), or `None`.
    pub live: Option<String>,
}

impl Event {
    /// Focus arrived on the source.
    pub fn is_focus(&self) -> bool {
        self.kind == "object:state-changed:focused" && self.detail1 == 1
    }

    /// Whether a screen reader says `needle` for it: focus moved onto a node whose name holds
    /// it (a reader speaks the focused node's name, not the text of a whole region that took
    /// focus), or a live region (aria-live, or a live role such as alert or status) got content
    /// that holds it.
    pub fn announces(&self, needle: &str) -> bool {
        let needle = normalize(needle);
        if self.is_focus() {
            normalize(&self.name).contains(&needle)
        } else {
            self.live.is_some()
                && normalize(&format!("{} {}", self.name, self.text)).contains(&needle)
        }
    }
}

/// Whitespace collapsed, for comparing what was said with what is shown.
pub fn normalize(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Listens on the accessibility bus from `start` until dropped.
pub struct Listener {
    _proc: ProcessGroup,
    file: PathBuf,
}

impl Listener {
    pub fn start() -> Result<Listener> {
        let file = std::env::temp_dir().join(format!(
            "kakao-signin-e2e-atspi-{}-{}.jsonl",
            std::process::id(),
            crate::free_port()
        ));
        let out = std::fs::File::create(&file)?;
        let mut cmd = probe();
        cmd.arg("listen")
            .stdout(Stdio::from(out))
            .stderr(Stdio::null());
        let proc_ = ProcessGroup::spawn("the AT-SPI listener", cmd)?;
        let listener = Listener { _proc: proc_, file };
        let deadline = Instant::now() + Duration::from_secs(15);
        while !listener.raw().starts_with("ready") {
            if Instant::now() > deadline {
                bail!("the AT-SPI listener did not start within 15 s");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(listener)
    }

    fn raw(&self) -> String {
        std::fs::read_to_string(&self.file).unwrap_or_default()
    }

    /// Every event heard so far, oldest first.
    pub fn events(&self) -> Vec<Event> {
        self.raw()
            .lines()
            .skip(1)
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .map(|v| Event {
                kind: v["type"].as_str().unwrap_or_default().to_owned(),
                detail1: v["detail1"].as_i64().unwrap_or(0),
                role: v["role"].as_str().unwrap_or_default().to_owned(),
                name: v["name"].as_str().unwrap_or_default().to_owned(),
                text: v["text"].as_str().unwrap_or_default().to_owned(),
                live: v["live"].as_str().map(str::to_owned),
            })
            .collect()
    }

    /// How many events were heard so far: a mark for [`Listener::wait_for`].
    pub fn mark(&self) -> usize {
        self.events().len()
    }

    /// Waits up to `within` for an event after `mark` that satisfies `pred`.
    pub fn wait_for(
        &self,
        mark: usize,
        within: Duration,
        what: &str,
        pred: impl Fn(&Event) -> bool,
    ) -> Result<Event> {
        let deadline = Instant::now() + within;
        loop {
            let events = self.events();
            if let Some(e) = events.iter().skip(mark).find(|e| pred(e)) {
                return Ok(e.clone());
            }
            if Instant::now() > deadline {
                let heard: Vec<String> = events
                    .iter()
                    .skip(mark)
                    .map(|e| {
                        format!(
                            "{} {} {:?} {:?} live={:?}",
                            e.kind, e.role, e.name, e.text, e.live
                        )
                    })
                    .collect();
                bail!(
                    "AT-SPI never announced {what} within {within:?}; heard:\n{}",
                    heard.join("\n")
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Waits for `needle` to be announced (a focus move onto it or live-region content).
    pub fn wait_announced(&self, mark: usize, needle: &str) -> Result<Event> {
        let heard = self.wait_for(mark, Duration::from_secs(10), &format!("{needle:?}"), |e| {
            e.announces(needle)
        })?;
        eprintln!(
            "announced {needle:?}: {} on {} {:?} (live: {:?})",
            heard.kind, heard.role, heard.name, heard.live
        );
        Ok(heard)
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.file);
    }
}
