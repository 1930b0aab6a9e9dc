//! WebKitGTK settings of the window that Tauri's configuration has no key for.

/// Paints the window without GPU compositing (WebKitGTK's hardware acceleration policy
/// `NEVER`).
///
/// With compositing, WebKitGTK keeps GPU tiles well beyond the visible part of a page that
/// scrolls (the profile does; a blank page does not), plus the GL state to draw them: measured
/// with `cargo xtask bench` under Xvfb (Mesa llvmpipe), the web process idles at about 267 MB
/// with it and 195 MB without, against 216-222 MB for a blank Tauri app with it. This window is
/// a short form with two small spinners and no video, canvas or WebGL, so the CPU paints it
/// without any visible difference. WebKit applies the change to a live view, so setting it
/// right after Tauri created the window is enough.
pub fn tune(app: &tauri::AppHandle) {
    #[cfg(target_os = "linux")]
    {
        use tauri::Manager;
        use webkit2gtk::{HardwareAccelerationPolicy, SettingsExt, WebViewExt};
        if let Some(window) = app.get_webview_window("main") {
            let _ = window.with_webview(|webview| {
                if let Some(settings) = WebViewExt::settings(&webview.inner()) {
                    settings.set_hardware_acceleration_policy(HardwareAccelerationPolicy::Never);
                }
            });
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = app;
}
