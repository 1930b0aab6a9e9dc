//! View models: everything the window ever receives. Plain data, no secret: no token, code,
//! verifier, client secret or callback URL can be put in here (`Secret` is not `Serialize`).
//!
//! Member ids are 64-bit and exceed JavaScript's exact integers, so they cross as strings.

use crate::text::{Lang, Text};
use serde::Serialize;

/// Where the session is, as the window shows it (serialised snake_case: `signed_in`, …).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Start-up: reading the keychain and checking the tokens.
    Restoring,
    /// No REST API key configured (and not in the sandbox): show what to register.
    Unconfigured,
    /// No session on this device.
    SignedOut,
    /// The browser is open at Kakao; the loopback listener waits for the answer.
    Waiting,
    /// The answer came; exchanging the code and fetching the profile.
    Completing,
    /// A session whose profile is shown.
    SignedIn,
    /// Tokens are kept but Kakao could not be reached; retry later.
    Offline,
    /// There is no keychain to keep tokens in (none running, no default collection, or locked
    /// with no way to unlock it): `error` says what to install or unlock; retry after that.
    NoKeychain,
}

/// What a browser round trip is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WaitPurpose {
    /// Signing in (authorize, RFC 6749 §4.1).
    SignIn,
    /// Additional consent (S12): authorize again with `scope=`.
    Consent,
    /// Logging out of the Kakao account in the browser (S07).
    KakaoLogout,
}

/// The waiting screen: a browser round trip in progress.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WaitingView {
    /// What the round trip is for.
    pub purpose: WaitPurpose,
    /// The exact redirect URI sent to Kakao (S01): what the developer must have registered.
    pub redirect_uri: String,
    /// Seconds until the attempt gives up.
    pub timeout_secs: u64,
}

/// An error as the window shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ErrorView {
    /// Stable identifier the UI may branch on (e.g. `redirect_uri_not_registered`).
    pub kind: super::error::ErrorKind,
    /// What happened, in both languages.
    pub message: Text,
    /// What the person (or the developer, for console settings) can do, when something helps.
    pub fix: Option<Text>,
    /// Kakao's code when there is one (`KOE006`, `-401`), shown small, never alone.
    pub code: Option<String>,
}

/// The four states of a profile field (S09), serialised snake_case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldState {
    /// Agreed, and Kakao has a value.
    Agreed,
    /// Agreed, but the account has no such information (S09, S14, S15).
    AgreedEmpty,
    /// The app asks for it but the user has not agreed: offer additional consent (S12).
    NeedsConsent,
    /// This app does not ask for it.
    NotRequested,
}

/// One profile field with its consent state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldView {
    /// `nickname`, `profile_image`, `email`, `name`, `gender`, `age_range`, `birthday`,
    /// `birthyear`, `phone_number`.
    pub id: &'static str,
    /// The field's name, in both languages.
    pub label: Text,
    /// Agreed, agreed but empty, consent needed, or not requested.
    pub state: FieldState,
    /// Kakao's value, formatted for display (Agreed only).
    pub value: Option<String>,
    /// The consent item that unlocks it (for NeedsConsent: what `request_consent` takes).
    pub scope: &'static str,
    /// A value the person typed in (AgreedEmpty only), kept on this machine only.
    pub entered: Option<String>,
    /// Whether the person may type a value in when Kakao has none.
    pub enterable: bool,
    /// Why it is empty, when Kakao says why or the FAQ does (e.g. phone number comes from
    /// KakaoTalk, S15).
    pub note: Option<Text>,
    /// Email only: Kakao's `is_email_valid` / `is_email_verified` (S14).
    pub email_valid: Option<bool>,
    /// Email only: Kakao's `is_email_verified` (S14).
    pub email_verified: Option<bool>,
}

/// The signed-in member's profile (`/v2/user/me`, REFERENCE §4).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProfileView {
    /// 회원번호, stable per app (S08). A string: it exceeds JavaScript's safe integers.
    pub member_id: String,
    /// Kakao's nickname, when agreed and present.
    pub nickname: Option<String>,
    /// Kakao's `is_default_nickname`: the account never chose a nickname.
    pub is_default_nickname: bool,
    /// The profile picture as a `data:` URL fetched by the core, so the window's CSP stays
    /// closed to remote images.
    pub image: Option<String>,
    /// When the member connected to this app, as Kakao writes it (ISO 8601, UTC).
    pub connected_at: Option<String>,
    /// Every field the window shows, in display order.
    pub fields: Vec<FieldView>,
    /// Unix seconds when this profile was fetched from `/v2/user/me` (S11).
    pub fetched_at: i64,
}

/// One consent item of `/v2/user/scopes` (S13, REFERENCE §4).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConsentView {
    /// The consent item's id (e.g. `account_email`).
    pub id: String,
    /// Kakao's name for it, as the console shows it.
    pub display_name: String,
    /// Whether the member agreed to it.
    pub agreed: bool,
    /// Agreed and Kakao says it cannot be withdrawn (set as required by the app).
    pub required: bool,
    /// Whether the member may withdraw it here (`/v2/user/revoke/scopes`).
    pub revocable: bool,
    /// The app still uses this item.
    pub using: bool,
}

/// How far this computer's clock may be from Kakao's (seconds) before the window says so. The
/// app goes by Kakao's time either way; past twice the ID token check's leeway (60 s) the
/// clock is plainly not set, and other programs and sites will trip over it.
pub const CLOCK_NOTICE_SECS: u64 = 120;

/// Everything the window shows, in one value: each command returns it and the window's long
/// poll (`next_view`) carries it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SessionView {
    /// Where the session is.
    pub status: Status,
    /// Talking to the offline simulator, not Kakao.
    pub sandbox: bool,
    /// The window's language.
    pub lang: Lang,
    /// The app's version.
    pub version: String,
    /// What the developer registers in the Kakao console (setup screen, S01).
    pub redirect_uris: Vec<String>,
    /// The logout redirect URIs to register for the Kakao account logout (S07).
    pub logout_redirect_uris: Vec<String>,
    /// The round trip in progress (status `waiting`).
    pub waiting: Option<WaitingView>,
    /// The signed-in member's profile.
    pub profile: Option<ProfileView>,
    /// Filled by `load_consents`; `None` until asked.
    pub consents: Option<Vec<ConsentView>>,
    /// The last command's error, until dismissed or replaced.
    pub error: Option<ErrorView>,
    /// A non-error message, e.g. "logged out on this device; Kakao could not be told".
    pub notice: Option<Text>,
    /// How far this computer's clock is from Kakao's, in seconds (positive: ahead, negative:
    /// behind), measured from Kakao's last answer; only when off by more than
    /// [`CLOCK_NOTICE_SECS`], else `None`. The window says "your computer's clock is N minutes
    /// ahead/behind".
    pub clock_offset_secs: Option<i64>,
}

/// One of Kakao's error pages, explained on the waiting screen ("Kakao showed an error code"):
/// Kakao shows these instead of redirecting back, so the app never hears of them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KakaoErrorHelp {
    /// The code on Kakao's page (`KOE101`, …), or `other`.
    pub code: String,
    /// What it means, in both languages (the protocol layer's words for that code).
    pub cause: Text,
    /// Where in the Kakao console (or what else) fixes it, when something does.
    pub fix: Option<Text>,
}
