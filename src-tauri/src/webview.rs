//! WebKitGTK settings of the window that Tauri's configuration has no key for.

/// WebKitGTK's switch for GPU compositing, read when the first web view is made.
pub const COMPOSITING_ENV: &str = "WEBKIT_DISABLE_COMPOSITING_MODE";

/// Paints the window without GPU compositing, unless the environment already says otherwise
/// (`WEBKIT_DISABLE_COMPOSITING_MODE=0` turns it back on). Returns whether this call set it.
///
/// With compositing, WebKitGTK keeps GPU tiles well beyond the visible part of a page that
/// scrolls (the profile does; a blank page does not) plus the GL state to draw them: under
/// `cargo xtask bench` (Xvfb, Mesa llvmpipe) the web process idles at about 267 MB with it and
/// 195 MB without, against 216-222 MB for a blank Tauri app with it. This window is a short form
/// with two small spinners and no video, canvas or WebGL, so the CPU paints it with no visible
/// difference.
///
/// It is an environment variable, not the web view's hardware acceleration policy, because
/// Tauri offers no hook before the first page load, and switching a live view made WebDriver
/// calls hang now and then in the e2e suites. It must run before any other thread exists:
/// setting the environment is only sound while nothing else can read it.
pub fn paint_without_compositing() -> bool {
    #[cfg(target_os = "linux")]
    if std::env::var_os(COMPOSITING_ENV).is_none() {
        std::env::set_var(COMPOSITING_ENV, "1");
        return true;
    }
    false
}
