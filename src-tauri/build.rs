// The command names come from one list (src/command_list.rs).
include!("src/command_list.rs");

macro_rules! command_names {
    ($($command:ident),* $(,)?) => {
        &[$(stringify!($command)),*]
    };
}

const COMMANDS: &[&str] = app_commands!(command_names);

/// The main window's capability: exactly one `allow-<command>` per command, nothing else.
fn capability() -> String {
    let permissions: Vec<String> = COMMANDS
        .iter()
        .map(|c| format!("    \"allow-{}\"", c.replace('_', "-")))
        .collect();
    format!(
        r#"{{
  "$schema": "../gen/schemas/desktop-schema.json",
  "identifier": "main",
  "description": "The main window may call the app's own commands; nothing else. Written by build.rs from src/command_list.rs: edit that list, not this file.",
  "windows": [
    "main"
  ],
  "permissions": [
{}
  ]
}}
"#,
        permissions.join(",\n")
    )
}

fn main() {
    println!("cargo:rerun-if-changed=src/command_list.rs");
    // Written only when it differs, so a build does not trigger itself again.
    let path = std::path::Path::new("capabilities/main.json");
    let wanted = capability();
    if std::fs::read_to_string(path).ok().as_deref() != Some(wanted.as_str()) {
        std::fs::write(path, wanted).expect("write capabilities/main.json");
    }
    // Declaring the app's commands makes Tauri generate an `allow-<command>` permission for
    // each, and deny any command a capability does not grant: the window gets only these.
    tauri_build::try_build(
        tauri_build::Attributes::new()
            .app_manifest(tauri_build::AppManifest::new().commands(COMMANDS)),
    )
    .expect("tauri build script failed");
}
