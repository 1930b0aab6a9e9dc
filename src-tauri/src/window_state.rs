//! The window remembers its size and place across runs (Tauri's window-state plugin), and is
//! never restored off every screen.

use tauri::{PhysicalPosition, PhysicalSize, Runtime, WebviewWindow};
use tauri_plugin_window_state::StateFlags;

/// Size, position and maximised are remembered; visibility is not (the window waits hidden until
/// its page has loaded, `show_once` in lib.rs), nor decorations or full screen (the app changes
/// neither). Saved to `<config dir>/io.github.kakaosignin.desktop/.window-state.json` on close.
pub fn plugin<R: Runtime>() -> tauri::plugin::TauriPlugin<R> {
    tauri_plugin_window_state::Builder::default()
        .with_state_flags(StateFlags::SIZE | StateFlags::POSITION | StateFlags::MAXIMIZED)
        .build()
}

/// A rectangle in physical pixels: x, y of the top-left corner, width, height.
type Rect = (i64, i64, i64, i64);

/// Moves (and if need be shrinks) the window so that all of it is on one monitor's work area.
/// The plugin restores a saved position when any corner of the window is on a monitor, so a
/// window saved half off a screen (or on a monitor since unplugged, next to another one) would
/// come back mostly out of sight. Called in `setup`, after the plugin has restored the window
/// (config windows are made before it): the window is still hidden and unmapped, so its
/// restored place is read from the plugin's file, not from the window.
pub fn keep_on_screen<R: Runtime>(window: &WebviewWindow<R>) {
    let Some(saved) = saved_place(window) else {
        return;
    };
    let Ok(monitors) = window.available_monitors() else {
        return;
    };
    let areas: Vec<Rect> = monitors
        .iter()
        .map(|m| {
            let a = m.work_area();
            (
                i64::from(a.position.x),
                i64::from(a.position.y),
                i64::from(a.size.width),
                i64::from(a.size.height),
            )
        })
        .collect();
    let Some((x, y, w, h)) = clamp(saved, &areas) else {
        return;
    };
    tracing::info!("the saved window place was off screen; moved to {x},{y} ({w}x{h})");
    if (w, h) != (saved.2, saved.3) {
        let _ = window.set_size(PhysicalSize::new(w as u32, h as u32));
    }
    let _ = window.set_position(PhysicalPosition::new(x as i32, y as i32));
}

/// The place the plugin restored: the saved outer position and inner size of `window` (physical
/// pixels), unless it was saved maximised. `None` when nothing (readable) was saved.
fn saved_place<R: Runtime>(window: &WebviewWindow<R>) -> Option<Rect> {
    use tauri::Manager;
    let file = window
        .app_handle()
        .path()
        .app_config_dir()
        .ok()?
        .join(tauri_plugin_window_state::DEFAULT_FILENAME);
    let all: serde_json::Value = serde_json::from_slice(&std::fs::read(file).ok()?).ok()?;
    let state = all.get(window.label())?;
    if state.get("maximized").and_then(|m| m.as_bool()) == Some(true) {
        return None;
    }
    let n = |k: &str| state.get(k).and_then(|v| v.as_i64());
    Some((n("x")?, n("y")?, n("width")?, n("height")?))
}

/// Where `window` goes so that all of it is on the area it overlaps most (the first area when it
/// overlaps none), shrunk to that area if larger. `None` when it already is, or with no areas.
fn clamp(window: Rect, areas: &[Rect]) -> Option<Rect> {
    let overlap = |a: &Rect| {
        let w = (window.0 + window.2).min(a.0 + a.2) - window.0.max(a.0);
        let h = (window.1 + window.3).min(a.1 + a.3) - window.1.max(a.1);
        w.max(0) * h.max(0)
    };
    // max_by_key keeps the last of equals; the first area (the primary, usually) should win.
    let area = areas
        .iter()
        .rev()
        .max_by_key(|a| overlap(a))
        .filter(|a| overlap(a) > 0)
        .or(areas.first())?;
    let w = window.2.min(area.2);
    let h = window.3.min(area.3);
    let x = window.0.clamp(area.0, area.0 + area.2 - w);
    let y = window.1.clamp(area.1, area.1 + area.3 - h);
    let placed = (x, y, w, h);
    (placed != window).then_some(placed)
}

#[cfg(test)]
mod tests {
    use super::clamp;

    const SCREEN: (i64, i64, i64, i64) = (0, 0, 1280, 1024);

    #[test]
    fn a_window_on_screen_stays() {
        assert_eq!(clamp((100, 50, 520, 760), &[SCREEN]), None);
    }

    #[test]
    fn a_window_off_every_screen_comes_onto_the_first() {
        assert_eq!(
            clamp((5000, 4000, 520, 760), &[SCREEN]),
            Some((760, 264, 520, 760))
        );
        assert_eq!(
            clamp((-3000, -10, 520, 760), &[SCREEN]),
            Some((0, 0, 520, 760))
        );
    }

    #[test]
    fn a_window_half_off_a_screen_is_pulled_fully_onto_it() {
        assert_eq!(
            clamp((1100, 900, 520, 760), &[SCREEN]),
            Some((760, 264, 520, 760))
        );
    }

    #[test]
    fn the_monitor_holding_most_of_the_window_keeps_it() {
        let right = (1280, 0, 1920, 1080);
        assert_eq!(
            clamp((1200, 100, 520, 760), &[SCREEN, right]),
            Some((1280, 100, 520, 760))
        );
    }

    #[test]
    fn a_window_larger_than_the_screen_is_shrunk_to_it() {
        assert_eq!(
            clamp((0, 0, 2000, 1500), &[SCREEN]),
            Some((0, 0, 1280, 1024))
        );
    }

    #[test]
    fn no_monitor_known_leaves_the_window_alone() {
        assert_eq!(clamp((5000, 4000, 520, 760), &[]), None);
    }
}
