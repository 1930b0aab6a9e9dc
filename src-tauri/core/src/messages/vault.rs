//! Words for the keychain ([`crate::vault::Error`]): what happened and what to do, per platform.

use crate::text::Text;

/// No keychain at all (`keychain_unavailable`).
pub fn unavailable() -> Text {
    Text::fixed(
        "운영체제의 키체인(비밀번호 저장소)을 사용할 수 없어 로그인 정보를 저장하거나 읽을 수 없습니다. 이 앱은 토큰을 일반 파일에 저장하지 않습니다.",
        "The operating system's keychain (secret store) is not available, so sign-in tokens can't be saved or read. This app never stores tokens in plain files.",
    )
}

/// Fix for [`unavailable`] on this platform.
pub fn unavailable_fix() -> Text {
    if cfg!(target_os = "macos") {
        Text::fixed(
            "macOS 키체인 접근(Keychain Access)에서 로그인 키체인이 있는지 확인하세요.",
            "Check in Keychain Access that a login keychain exists.",
        )
    } else if cfg!(windows) {
        Text::fixed(
            "Windows 자격 증명 관리자(Credential Manager) 서비스가 실행 중인지 확인하세요.",
            "Check that the Windows Credential Manager service is running.",
        )
    } else {
        Text::fixed(
            "Secret Service 제공자(gnome-keyring 또는 KeePassXC, KWallet 등)를 설치하고 데스크톱 세션에서 실행하세요 (D-Bus 세션 버스가 필요합니다). 예: sudo apt install gnome-keyring, 그리고 로그인 키링을 만들거나 잠금 해제하세요 (예: \"암호 및 키\" 앱).",
            "Install and run a Secret Service provider (gnome-keyring, or KeePassXC, KWallet…) in your desktop session (it needs the D-Bus session bus), e.g. `sudo apt install gnome-keyring`, and create or unlock the login keyring (e.g. in \"Passwords and Keys\").",
        )
    }
}

/// Secret Service runs but has no default collection to store into (`keychain_unavailable`):
/// gnome-keyring never created its login keyring (WSL, a headless or first login).
pub fn no_default_collection() -> Text {
    Text::fixed(
        "키체인(Secret Service)은 실행 중이지만 기본 키링이 없어 로그인 정보를 저장할 수 없습니다. 이 앱은 토큰을 일반 파일에 저장하지 않습니다.",
        "The keychain (Secret Service) is running but has no default keyring, so sign-in tokens can't be saved. This app never stores tokens in plain files.",
    )
}

/// Fix for [`no_default_collection`].
pub fn no_default_collection_fix() -> Text {
    Text::fixed(
        "키링을 만들고 기본으로 지정한 뒤 다시 시도하세요: \"암호 및 키\"(seahorse) 앱에서 [+] > [암호 키링]을 만들고 \"기본값으로 설정\"을 고릅니다. 데스크톱이 없는 환경(WSL, SSH)에서는 `gnome-keyring-daemon --replace --unlock --components=secrets`를 실행해 새 암호를 입력하고 Ctrl-D를 누르면 로그인 키링이 만들어집니다.",
        "Create a keyring, make it the default and try again: in \"Passwords and Keys\" (seahorse) choose [+] > [Password keyring], then \"Set as default\". Without a desktop (WSL, SSH), run `gnome-keyring-daemon --replace --unlock --components=secrets`, type a new password and press Ctrl-D: that creates the login keyring.",
    )
}

/// The keychain is locked (`keychain_locked`).
pub fn locked() -> Text {
    Text::fixed(
        "키체인이 잠겨 있고 잠금을 해제할 수 없었습니다 (잠금 해제 창이 거부되었거나 뜰 수 없었습니다).",
        "The keychain is locked and could not be unlocked (the unlock prompt was refused or could not appear).",
    )
}

/// Fix for [`locked`].
pub fn locked_fix() -> Text {
    if cfg!(any(target_os = "macos", windows)) {
        Text::fixed(
            "로그인 키링(키체인)을 잠금 해제한 뒤 다시 시도하세요. 잠금 해제 창이 뜨면 허용하세요.",
            "Unlock the login keyring (keychain) and try again; accept the unlock prompt if one appears.",
        )
    } else {
        // Secret Service asks through a prompt on the desktop; without one it cannot ask.
        Text::fixed(
            "로그인 키링(키체인)을 잠금 해제한 뒤 다시 시도하세요 (예: \"암호 및 키\" 앱). 잠금 해제 창이 뜨면 허용하세요. 잠금 해제 창이 뜰 수 없는 환경(데스크톱 세션 없음: SSH, WSL)에서는 `gnome-keyring-daemon --replace --unlock --components=secrets`를 실행하고 암호를 입력한 뒤 Ctrl-D를 누르세요.",
            "Unlock the login keyring (keychain) and try again (e.g. in \"Passwords and Keys\"); accept the unlock prompt if one appears. Where no prompt can appear (no desktop session: SSH, WSL), run `gnome-keyring-daemon --replace --unlock --components=secrets`, type the password and press Ctrl-D.",
        )
    }
}

/// The keychain did not answer within `secs` seconds (`keychain_timeout`).
pub fn timeout(secs: u64) -> Text {
    Text::owned(
        format!("키체인이 {secs}초 안에 응답하지 않았습니다."),
        format!("The keychain did not answer within {secs} s."),
    )
}

/// Fix for [`timeout`].
pub fn timeout_fix() -> Text {
    Text::fixed(
        "키체인 잠금 해제 창이 열려 있는지 확인하고, 잠금 해제한 뒤 다시 시도하세요.",
        "Look for a keychain unlock prompt, unlock it, and try again.",
    )
}

/// An entry can't be read (`keychain_corrupt`).
pub fn corrupt() -> Text {
    Text::fixed(
        "키체인에 저장된 로그인 정보를 읽을 수 없습니다 (형식이 잘못됨).",
        "The sign-in data saved in the keychain is unreadable (bad format).",
    )
}

/// Fix for [`corrupt`].
pub fn corrupt_fix() -> Text {
    Text::fixed(
        "다시 로그인하면 읽을 수 없는 항목이 새로 저장됩니다.",
        "Sign in again; the unreadable entry will be replaced.",
    )
}

/// Anything else the keychain reported (`keychain_failed`); `detail` is its message.
pub fn failed(detail: &str) -> Text {
    Text::owned(
        format!("키체인 오류: {detail}"),
        format!("Keychain error: {detail}"),
    )
}
