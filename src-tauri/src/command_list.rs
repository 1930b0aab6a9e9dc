// The app's commands, written once. `build.rs` includes this file to declare them to Tauri (one
// `allow-<command>` permission each) and to write the window's capability from them, `lib.rs` to
// register their handlers, and `tests/lockdown.rs` to check the generated files against them.
// A new command therefore needs one line here (and its function in `commands.rs`).

/// Calls the macro `$then` with the app's command names, as identifiers.
macro_rules! app_commands {
    ($then:ident) => {
        $then! {
            app_state,
            next_view,
            sign_in,
            cancel_sign_in,
            request_consent,
            refresh_profile,
            load_consents,
            withdraw_consent,
            logout,
            unlink,
            set_entered_value,
            set_language,
            retry,
            dismiss_error,
            diagnostics,
            open_again,
            sign_in_link,
            paste_address,
            kakao_error_help,
            mark_painted,
        }
    };
}
