//! Bringing the window to the front (FAQ S03: after the browser step, and on a second launch),
//! also under window managers that prevent focus stealing.
//!
//! Tauri's `set_focus` is GTK's `present` stamped with the app's last user time: the click on
//! "Login with Kakao", older than everything the person then did in the browser. GNOME's mutter,
//! metacity, xfwm4 and others compare that stamp with the newest user time they have seen and
//! refuse the request. The browser's answer (or the second launch) is the person's own doing, so
//! under X11 the window presents itself stamped with the X server's current time, which no
//! earlier input can be newer than. When the window manager still refuses (or under Wayland,
//! where GTK asks the compositor through xdg-activation and it may say no), the window is marked
//! urgent, so the task bar or dock shows that it wants the person; the mark goes as soon as the
//! window is active.

use tauri::{Manager, WebviewWindow};

/// How long the window manager gets to activate the window before it is marked urgent instead.
/// It answers asynchronously (a round trip through the X server, usually a few milliseconds).
const URGENT_AFTER: std::time::Duration = std::time::Duration::from_millis(400);

/// Shows, un-minimises and activates the main window; marks it urgent if it cannot be activated.
pub fn bring_to_front(app: &tauri::AppHandle) {
    let Some(window) = app.get_webview_window("main") else {
        return;
    };
    let _ = window.unminimize();
    let _ = window.show();
    present(window);
}

#[cfg(target_os = "linux")]
fn present(window: WebviewWindow) {
    let on_main = window.clone();
    // GTK objects live on the main thread.
    let _ = window.run_on_main_thread(move || {
        use gtk::glib;
        use gtk::prelude::*;
        let Ok(gtk_window) = on_main.gtk_window() else {
            return;
        };
        clear_urgency_when_active(&gtk_window);
        let server_time = gtk_window
            .window()
            .and_then(|w| w.downcast::<gdkx11::X11Window>().ok())
            .map(|x11| gdkx11::functions::x11_get_server_time(&x11));
        match server_time {
            Some(now) => gtk_window.present_with_time(now),
            // Wayland: GTK's own present (xdg-activation with its last input serial).
            None => gtk_window.present(),
        }
        glib::timeout_add_local_once(URGENT_AFTER, move || {
            if !gtk_window.is_active() {
                tracing::info!("the window manager did not activate the window; marked urgent");
                gtk_window.set_urgency_hint(true);
            }
        });
    });
}

/// Clears the urgency mark whenever the window becomes active (connected once).
#[cfg(target_os = "linux")]
fn clear_urgency_when_active(gtk_window: &gtk::ApplicationWindow) {
    use gtk::prelude::*;
    use std::sync::atomic::{AtomicBool, Ordering};
    static CONNECTED: AtomicBool = AtomicBool::new(false);
    if !CONNECTED.swap(true, Ordering::SeqCst) {
        gtk_window.connect_is_active_notify(|w| {
            if w.is_active() {
                w.set_urgency_hint(false);
            }
        });
    }
}

#[cfg(not(target_os = "linux"))]
fn present(window: WebviewWindow) {
    let _ = window.set_focus();
    // Windows refuses foreground changes from background processes and flashes the task bar
    // button instead only when asked; macOS bounces the dock icon.
    std::thread::spawn(move || {
        std::thread::sleep(URGENT_AFTER);
        if !window.is_focused().unwrap_or(true) {
            let _ = window.request_user_attention(Some(tauri::UserAttentionType::Critical));
        }
    });
}
