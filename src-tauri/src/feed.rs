//! How the window follows the session: it long-polls the `next_view` command, which answers at
//! once with the current view and then each time the session changes.
//!
//! This replaces a Tauri event. An event reaches the page through `webview.eval`, and on Linux
//! every eval hands its result back to the app, where WebKitGTK turns it into a JavaScript value:
//! that starts a whole JavaScriptCore VM in the app's process (about 7 MB of idle RSS, measured
//! with `cargo xtask bench`) for results nobody reads. A command's answer travels over Tauri's
//! IPC protocol instead and needs no JavaScript in the app's process.

use tokio::sync::watch;

/// A counter of session changes. Views themselves are read from the session when a waiter
/// wakes, so a waiter always gets the newest view, and changes that come in a burst reach it
/// as one.
pub struct Feed {
    seq: watch::Sender<u64>,
}

impl Feed {
    pub fn new() -> Self {
        Feed {
            seq: watch::channel(0).0,
        }
    }

    /// The session changed.
    pub fn changed(&self) {
        self.seq.send_modify(|s| *s += 1);
    }

    /// The current change number once it differs from `after` (at once when `after` is `None`
    /// or stale, e.g. from before a page reload).
    pub async fn next(&self, after: Option<u64>) -> u64 {
        let mut rx = self.seq.subscribe();
        loop {
            let seq = *rx.borrow_and_update();
            if after != Some(seq) {
                return seq;
            }
            // The sender lives as long as the app; if it went away there is nothing to wait for.
            if rx.changed().await.is_err() {
                return seq;
            }
        }
    }
}

impl Default for Feed {
    fn default() -> Self {
        Feed::new()
    }
}

#[cfg(test)]
mod tests {
    use super::Feed;
    use std::sync::Arc;
    use std::time::Duration;

    #[tokio::test]
    async fn answers_at_once_without_a_known_change_then_waits_for_the_next() {
        let feed = Arc::new(Feed::new());
        assert_eq!(feed.next(None).await, 0);
        assert_eq!(
            feed.next(Some(7)).await,
            0,
            "a stale number answers at once"
        );

        let waiter = tokio::spawn({
            let feed = feed.clone();
            async move { feed.next(Some(0)).await }
        });
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(!waiter.is_finished(), "no change yet: it waits");
        feed.changed();
        assert_eq!(waiter.await.unwrap(), 1);
    }

    #[tokio::test]
    async fn a_burst_of_changes_wakes_a_waiter_once_with_the_latest_number() {
        let feed = Feed::new();
        feed.changed();
        feed.changed();
        feed.changed();
        assert_eq!(feed.next(Some(0)).await, 3);
        assert_eq!(feed.next(Some(1)).await, 3);
    }
}
