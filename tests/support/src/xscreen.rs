//! The X server's pixels, read with XGetImage from the root window: what a person would see on
//! the (Xvfb) screen. The e2e suites take the window's screenshots this way and the bench
//! (`tests/bench`, which includes this file) watches for the window's first paint with it.
//!
//! WebDriver's own screenshot is not used for the app's window: WebKitGTK answers it after the
//! next paint, and with GPU compositing off (the app's setting) a page with nothing to repaint
//! has no next paint, so the call can wait forever.

use std::ffi::c_int;
use x11_dl::xlib::{Display, Xlib, ZPixmap};

pub struct Screen {
    xlib: Xlib,
    display: *mut Display,
    root: u64,
    width: u32,
    height: u32,
}

/// 8-bit RGB pixels, row by row.
pub struct Rgb {
    pub width: u32,
    pub height: u32,
    pub data: Vec<u8>,
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
        let (root, width, height) = unsafe {
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
            width: width.max(0) as u32,
            height: height.max(0) as u32,
        })
    }

    /// Width and height of the screen.
    pub fn size(&self) -> (u32, u32) {
        (self.width, self.height)
    }

    /// The pixels of a rectangle of the screen, clipped to it.
    pub fn capture(&self, x: i32, y: i32, width: u32, height: u32) -> Result<Rgb, String> {
        let x0 = x.clamp(0, self.width as i32);
        let y0 = y.clamp(0, self.height as i32);
        let w = (x + width as i32).min(self.width as i32) - x0;
        let h = (y + height as i32).min(self.height as i32) - y0;
        if w <= 0 || h <= 0 {
            return Err(format!(
                "the rectangle {width}×{height} at {x},{y} is off the {}×{} screen",
                self.width, self.height
            ));
        }
        let xl = &self.xlib;
        // SAFETY: the display is open and the rectangle lies on the root window; the image is
        // read within its own width, height and stride, then freed once.
        unsafe {
            let im = (xl.XGetImage)(
                self.display,
                self.root,
                x0 as c_int,
                y0 as c_int,
                w as u32,
                h as u32,
                (xl.XAllPlanes)(),
                ZPixmap,
            );
            if im.is_null() {
                return Err("XGetImage failed".into());
            }
            let img = &*im;
            let result = if img.bits_per_pixel != 32 || img.byte_order != 0 {
                Err(format!(
                    "{} bits per pixel, byte order {}: expected 32, LSB first",
                    img.bits_per_pixel, img.byte_order
                ))
            } else {
                let stride = img.bytes_per_line as usize;
                let raw = std::slice::from_raw_parts(img.data as *const u8, stride * h as usize);
                let channel = |mask: u64| {
                    let shift = mask.trailing_zeros();
                    move |p: u32| ((u64::from(p) & mask) >> shift) as u8
                };
                let (r, g, b) = (
                    channel(img.red_mask),
                    channel(img.green_mask),
                    channel(img.blue_mask),
                );
                let mut data = Vec::with_capacity(w as usize * h as usize * 3);
                for row in raw.chunks_exact(stride) {
                    for px in row[..w as usize * 4].chunks_exact(4) {
                        let p = u32::from_le_bytes([px[0], px[1], px[2], px[3]]);
                        data.extend_from_slice(&[r(p), g(p), b(p)]);
                    }
                }
                Ok(Rgb {
                    width: w as u32,
                    height: h as u32,
                    data,
                })
            };
            (xl.XDestroyImage)(im);
            result
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
