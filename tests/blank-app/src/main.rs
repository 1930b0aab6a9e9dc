//! A blank Tauri 2 app, built and measured by `cargo xtask bench` side by side with Kakao
//! Sign-in: same Tauri, same release profile, one window with one line of text.

#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() {
    tauri::Builder::default()
        // The same bench hook as the app's (`src-tauri/src/lib.rs`).
        .on_page_load(|_, payload| {
            if payload.event() == tauri::webview::PageLoadEvent::Finished
                && std::env::var_os("KAKAO_SIGNIN_BENCH_MARKS").is_some_and(|v| v == "1")
            {
                eprintln!("bench-mark first-paint");
            }
        })
        .run(tauri::generate_context!())
        .expect("error while running the blank Tauri app");
}
