//! First content on screen, seen from outside the app: the bench reads the pixels of the
//! rectangle where both apps centre their 520×760 window (Xvfb, no window manager) until it
//! holds more than one colour. That is the window mapped *and* its page painted, however the app
//! gets there (a window shown only once its page has loaded is measured the same way as one that
//! is shown blank first), so it checks the `first-paint` mark that each app prints itself.

use std::ffi::c_int;
use std::time::{Duration, Instant};
use x11_dl::xlib::{Display, Xlib, ZPixmap};

/// Both apps' window size (tauri.conf.json), centred on the screen.
const WINDOW: (u32, u32) = (520, 760);
/// Between two reads; one read of the rectangle costs ~1 ms under Xvfb.
const POLL: Duration = Duration::from_millis(5);

pub struct Screen {
    xlib: Xlib,
    display: *mut Display,
    root: u64,
    x: c_int,
    y: c_int,
}

impl Screen {
    /// The display in `DISPLAY`.
    pub fn open() -> Result<Screen, String> {
        let xlib = Xlib::open().map_err(|e| format!("libX11: {e}"))?;
        // SAFETY: a null name means $DISPLAY; the result is checked before use.
        let display = unsafe { (xlib.XOpenDisplay)(std::ptr::null()) };
        if display.is_null() {
            return Err("cannot open the X display".into());
        }
        // SAFETY: display is open; screen 0 exists on every display.
        let (root, w, h) = unsafe {
            (
                (xlib.XDefaultRootWindow)(display),
                (xlib.XDisplayWidth)(display, 0),
                (xlib.XDisplayHeight)(display, 0),
            )
        };
        Ok(Screen {
            xlib,
            display,
            root,
            x: (w - WINDOW.0 as c_int) / 2,
            y: (h - WINDOW.1 as c_int) / 2,
        })
    }

    /// Whether the window's rectangle holds more than one colour (every other pixel of every
    /// other row is compared: text and borders span more than that).
    pub fn has_content(&self) -> Result<bool, String> {
        let x = &self.xlib;
        // SAFETY: the display is open and the rectangle lies on the root window; the image is
        // read within its own width, height and stride, then freed once.
        unsafe {
            let all_planes = (x.XAllPlanes)();
            let im = (x.XGetImage)(
                self.display,
                self.root,
                self.x,
                self.y,
                WINDOW.0,
                WINDOW.1,
                all_planes,
                ZPixmap,
            );
            if im.is_null() {
                return Err("XGetImage failed".into());
            }
            let img = &*im;
            let result = if img.bits_per_pixel != 32 {
                Err(format!(
                    "{} bits per pixel, expected 32",
                    img.bits_per_pixel
                ))
            } else {
                let stride = img.bytes_per_line as usize;
                let data =
                    std::slice::from_raw_parts(img.data as *const u8, stride * img.height as usize);
                let px = |col: usize, row: usize| {
                    let i = row * stride + col * 4;
                    // The fourth byte is padding in a depth-24 image.
                    [data[i], data[i + 1], data[i + 2]]
                };
                let first = px(0, 0);
                Ok((0..img.height as usize).step_by(2).any(|row| {
                    (0..img.width as usize)
                        .step_by(2)
                        .any(|col| px(col, row) != first)
                }))
            };
            (x.XDestroyImage)(im);
            result
        }
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

impl Drop for Screen {
    fn drop(&mut self) {
        // SAFETY: opened in `open`, closed once here.
        unsafe {
            (self.xlib.XCloseDisplay)(self.display);
        }
    }
}
