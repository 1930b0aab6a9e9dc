//! First paint on screen, seen from outside the app: the bench reads the pixels of the
//! rectangle where both apps centre their 520×760 window (Xvfb, no window manager) until it
//! holds more than one colour. That is the window mapped *and* its page painted, however the app
//! gets there (a window shown only once its page has loaded is measured the same way as one that
//! is shown blank first), so it checks the `first-paint` mark that each app prints itself.

use kakao_signin_test_support::xscreen;
use std::time::{Duration, Instant};

/// Both apps' window size (tauri.conf.json), centred on the screen.
const WINDOW: (u32, u32) = (520, 760);
/// Between two reads; one read of the rectangle costs about a millisecond under Xvfb.
const POLL: Duration = Duration::from_millis(5);

pub struct Screen(xscreen::Screen);

impl Screen {
    /// The display in `DISPLAY`.
    pub fn open() -> Result<Screen, String> {
        xscreen::Screen::open().map(Screen)
    }

    /// Whether the window's rectangle holds more than one colour.
    pub fn has_content(&self) -> Result<bool, String> {
        let (w, h) = self.0.size();
        let x = (w as i32 - WINDOW.0 as i32) / 2;
        let y = (h as i32 - WINDOW.1 as i32) / 2;
        let img = self.0.capture(x, y, WINDOW.0, WINDOW.1)?;
        let first = &img.data[..3];
        Ok(img.data.chunks_exact(3).any(|p| p != first))
    }

    /// Polls until the rectangle has content or `limit` has passed since `started`. The
    /// rectangle must be empty when this starts (the previous window gone); otherwise `Err`.
    pub fn first_content(&self, started: Instant, limit: Duration) -> Result<Duration, String> {
        if self.has_content()? {
            return Err("the screen was not clear before the start".into());
        }
        loop {
            if self.has_content()? {
                return Ok(started.elapsed());
            }
            if started.elapsed() >= limit {
                return Err(format!("no content on screen within {} s", limit.as_secs()));
            }
            std::thread::sleep(POLL);
        }
    }
}
