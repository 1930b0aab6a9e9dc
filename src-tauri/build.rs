fn main() {
    // Declaring the app's commands makes Tauri generate an `allow-<command>` permission for
    // each, and deny any command a capability does not grant: the window gets only these.
    tauri_build::try_build(tauri_build::Attributes::new().app_manifest(
        tauri_build::AppManifest::new().commands(&[
            "app_state",
            "next_view",
            "sign_in",
            "cancel_sign_in",
            "request_consent",
            "refresh_profile",
            "load_consents",
            "withdraw_consent",
            "logout",
            "unlink",
            "set_entered_value",
            "set_language",
            "retry",
            "dismiss_error",
            "diagnostics",
        ]),
    ))
    .expect("tauri build script failed");
}
