// Every word the window itself says, in Korean and English. Words that come from the core
// (errors, notices, field labels) arrive as `{ko, en}` objects and go through `pick`.
// `{name}` placeholders are filled by `t(key, {name: value})`.

export const LANGS = ['ko', 'en'];

export const STRINGS = {
  ko: {
    app_title: 'Kakao Sign-in',
    lang_group: '언어',
    lang_ko: '한국어',
    lang_en: 'English',
    sandbox_banner: '샌드박스: 오프라인 카카오 시뮬레이터입니다. 실제 카카오가 아닙니다.',

    restoring_title: '저장된 로그인을 확인하는 중…',
    restoring_body: '이 컴퓨터의 키체인에서 로그인 정보를 읽고 카카오에 유효한지 확인하고 있습니다.',

    setup_title: '카카오 앱을 먼저 연결하세요',
    setup_intro: '이 앱에 카카오 REST API 키가 설정되어 있지 않습니다. 카카오 디벨로퍼스에 아래 주소를 등록하고 키를 설정한 뒤 앱을 다시 시작하세요.',
    setup_redirect_title: '1. 리다이렉트 URI 등록',
    setup_redirect_where: '카카오 디벨로퍼스 [앱] > [플랫폼 키] > [REST API 키] > 리다이렉트 URI에 아래 주소를 모두, 한 글자도 다르지 않게 등록하세요. localhost와 127.0.0.1은 서로 다른 주소입니다.',
    setup_logout_title: '2. 로그아웃 리다이렉트 URI 등록',
    setup_logout_where: '카카오 디벨로퍼스 [카카오 로그인] > [고급] > 로그아웃 리다이렉트 URI에 아래 주소를 등록하세요. "브라우저의 카카오계정에서도 로그아웃"에 쓰입니다.',
    setup_key_title: '3. REST API 키 설정',
    setup_key_where: '[앱] > [플랫폼 키] > [REST API 키]의 키 값을 다음 중 한 곳에 넣으세요 (네이티브 앱 키나 JavaScript 키가 아닙니다).',
    setup_key_env: '환경 변수',
    setup_key_file: '설정 파일 ~/.config/kakao-signin/config.toml',
    setup_restart: '설정한 뒤 앱을 다시 시작하세요.',
    setup_none: '(없음)',
    setup_key_placeholder: 'REST API 키',

    signed_out_title: '카카오계정으로 로그인',
    signed_out_lead: '로그인은 기본 브라우저에서 카카오계정(이메일 또는 전화번호와 비밀번호)으로 진행됩니다. 로그인이 끝나면 이 창이 다시 앞으로 옵니다.',
    signin_button: '카카오 로그인',
    signin_other: '다른 계정으로 로그인',
    signin_choose: '계정 선택하기',
    signin_options_hint: '브라우저가 예전 계정으로 바로 로그인해 버리면 "다른 계정으로 로그인"을 누르세요.',
    signin_privacy: '로그인 정보(토큰)는 이 컴퓨터의 키체인에만 보관되며, 이 창에는 전달되지 않습니다.',

    waiting_title_sign_in: '브라우저에서 로그인을 기다리는 중',
    waiting_body_sign_in: '브라우저에 열린 카카오 페이지에서 로그인하세요. 끝나면 이 창이 저절로 앞으로 옵니다.',
    waiting_title_consent: '브라우저에서 추가 동의를 기다리는 중',
    waiting_body_consent: '브라우저에 열린 카카오 동의 화면에서 항목을 확인하세요. 동의하지 않으려면 그 화면에서 취소해도 됩니다.',
    waiting_title_kakao_logout: '브라우저에서 카카오계정 로그아웃을 기다리는 중',
    waiting_body_kakao_logout: '이 기기에서는 이미 로그아웃되었습니다. 브라우저에 열린 카카오 페이지에서 카카오계정 로그아웃을 마치세요.',
    waiting_uri_label: '이 앱이 카카오에 보낸 리다이렉트 URI',
    waiting_logout_uri_label: '이 앱이 카카오에 보낸 로그아웃 리다이렉트 URI',
    waiting_remaining: '{time} 남음',
    waiting_progress: '남은 시간',
    cancel_signin: '취소',
    koe006_title: '브라우저에 KOE006 또는 "Invalid redirect"가 보이나요?',
    koe006_body: '카카오에 등록된 리다이렉트 URI와 이 앱이 보낸 주소가 다르다는 뜻입니다. 위 주소를 복사해 카카오 디벨로퍼스 [앱] > [플랫폼 키] > [REST API 키] > 리다이렉트 URI에 한 글자도 다르지 않게 등록한 뒤, 취소하고 다시 로그인하세요.',
    koe007_title: '브라우저에 KOE007이 보이나요?',
    koe007_body: '로그아웃 리다이렉트 URI가 등록되지 않았다는 뜻입니다. 위 주소를 카카오 디벨로퍼스 [카카오 로그인] > [고급] > 로그아웃 리다이렉트 URI에 등록하세요. 이 기기의 로그아웃은 이미 끝났습니다.',

    completing_title: '로그인을 마무리하는 중…',
    completing_body: '카카오에서 토큰을 받고 프로필을 가져오고 있습니다.',

    profile_image_alt: '프로필 사진',
    profile_no_image: '프로필 사진 없음',
    no_nickname: '닉네임 없음',
    default_nickname_note: '카카오가 정해 준 기본 닉네임입니다.',
    member_id: '회원번호',
    member_id_hint: '이 앱에서 바뀌지 않는 번호입니다.',
    connected_at: '이 앱과 연결: {time}',
    fetched_at: '카카오에서 가져온 시각: {time}',
    refresh: '새로고침',
    refresh_label: '카카오에서 프로필 다시 가져오기',
    fields_title: '이 앱이 알 수 있는 정보',
    state_agreed: '동의함',
    state_agreed_empty: '카카오에 값 없음',
    state_needs_consent: '동의 필요',
    state_not_requested: '요청 안 함',
    empty_value: '카카오에 이 정보가 없습니다.',
    image_value: '위 프로필 사진',
    image_unavailable: '표시할 사진이 없습니다',
    enter_label: '직접 입력: {label}',
    enter_save: '저장',
    enter_placeholder: '직접 입력',
    entered_badge: '직접 입력함',
    entered_note: '이 컴퓨터에만 보관되며, 카카오에서 온 정보가 아닙니다.',
    entered_change: '변경',
    ask_consent: '카카오에 동의 요청',
    ask_consent_label: '{label} 동의를 카카오에 요청',
    needs_consent_note: '아직 동의하지 않은 항목입니다. 브라우저에서 동의하면 여기에 표시됩니다.',
    not_requested_summary: '이 앱이 요청하지 않는 항목 {n}개',
    not_requested_note: '이 앱은 이 정보를 요청하지 않습니다.',
    email_valid: '유효함',
    email_invalid: '유효하지 않음',
    email_verified: '인증됨',
    email_unverified: '인증 안 됨',

    consents_title: '동의 항목',
    consents_lead: '카카오에 동의한 항목과 동의하지 않은 항목입니다. 필수가 아닌 항목은 동의를 철회할 수 있습니다.',
    open_consents: '동의 항목 보기',
    reload_consents: '다시 불러오기',
    consent_agreed: '동의함',
    consent_not_agreed: '동의 안 함',
    consent_required: '필수',
    consent_not_used: '사용 안 함',
    consent_withdraw: '철회',
    consent_withdraw_label: '{name} 동의 철회',
    consents_empty: '동의 항목이 없습니다.',
    withdraw_title: '"{name}" 동의를 철회할까요?',
    withdraw_body: '카카오가 이 앱에 더 이상 이 정보를 주지 않습니다. 필요하면 나중에 다시 동의할 수 있습니다.',
    withdraw_confirm: '동의 철회',

    account_title: '계정',
    logout: '로그아웃',
    unlink: '앱 연결 끊기',
    unlink_hint: '카카오계정과 이 앱의 연결을 끊고 이 컴퓨터의 정보를 지웁니다.',
    logout_title: '로그아웃할까요?',
    logout_body: '이 기기에서만 로그아웃됩니다. 다른 기기, 휴대전화, 카카오톡의 로그인은 그대로입니다. 카카오는 모든 기기에서 한 번에 로그아웃하는 기능을 제공하지 않습니다.',
    logout_kakao_account: '브라우저의 카카오계정에서도 로그아웃',
    logout_kakao_account_hint: '다음 로그인 때 브라우저가 예전 계정으로 바로 로그인하지 않습니다. 브라우저에서 카카오 페이지가 열립니다.',
    logout_confirm: '로그아웃',
    unlink_title: '이 앱과 카카오계정의 연결을 끊을까요?',
    unlink_body: '연결을 끊으면 다음이 삭제됩니다.',
    unlink_item_consents: '카카오에서 이 앱에 준 모든 동의 (카카오가 잊습니다)',
    unlink_item_tokens: '이 컴퓨터 키체인의 로그인 정보(토큰)',
    unlink_item_entered: '이 앱에 직접 입력해 이 컴퓨터에 보관한 값',
    unlink_after: '다시 로그인하면 처음처럼 동의 화면이 나옵니다. 되돌릴 수 없습니다.',
    unlink_confirm: '연결 끊고 삭제',
    dialog_cancel: '취소',

    offline_title: '카카오에 연결할 수 없습니다',
    offline_body: '로그인 정보는 이 컴퓨터에 그대로 남아 있습니다. 네트워크가 돌아오면 다시 시도하세요.',
    no_keychain_title: '로그인 정보를 저장할 키체인이 없습니다',
    no_keychain_body: '이 앱은 로그인 정보(토큰)를 운영체제의 키체인에만 저장하고 일반 파일에는 저장하지 않습니다. 키체인을 쓸 수 있을 때까지 로그인할 수 없습니다.',
    no_keychain_fix: '키체인(예: gnome-keyring)을 설치하거나 잠금 해제한 뒤 다시 시도하세요.',
    retry: '다시 시도',

    error_code: '코드 {code}',
    dismiss: '닫기',
    dismiss_error: '오류 메시지 닫기',
    dismiss_notice: '알림 닫기',
    copy: '복사',
    copy_label: '{what} 복사',
    copied: '복사했습니다',
    copy_failed: '복사하지 못했습니다. 직접 선택해 복사하세요.',
    copy_diagnostics: '진단 정보 복사',
    diagnostics_copied: '진단 정보를 클립보드에 복사했습니다. 토큰, 코드, 개인정보는 들어 있지 않습니다.',
    about: 'Kakao Sign-in {version}',
    busy: '처리 중…',
    diagnostics_title: '진단 정보',
    diagnostics_manual: '클립보드에 복사하지 못했습니다. 아래 내용을 선택해 복사하세요. 토큰, 코드, 개인정보는 들어 있지 않습니다.',
    close: '닫기',
  },
  en: {
    app_title: 'Kakao Sign-in',
    lang_group: 'Language',
    lang_ko: '한국어',
    lang_en: 'English',
    sandbox_banner: 'Sandbox: offline Kakao simulator, not Kakao.',

    restoring_title: 'Checking your saved sign-in…',
    restoring_body: "Reading the sign-in from this computer's keychain and checking with Kakao that it is still valid.",

    setup_title: 'Connect your Kakao app first',
    setup_intro: 'No Kakao REST API key is configured. Register the addresses below in Kakao Developers, set the key, then restart the app.',
    setup_redirect_title: '1. Register the redirect URIs',
    setup_redirect_where: 'In Kakao Developers under [App] > [Platform keys] > [REST API key] > Redirect URI, register every address below exactly as written. localhost and 127.0.0.1 are different addresses.',
    setup_logout_title: '2. Register the logout redirect URIs',
    setup_logout_where: 'In Kakao Developers under [Kakao Login] > [Advanced] > Logout redirect URI, register the addresses below. They are used by "also log out of my Kakao account in the browser".',
    setup_key_title: '3. Set the REST API key',
    setup_key_where: 'Put the key shown under [App] > [Platform keys] > [REST API key] in one of these places (not the native app key or the JavaScript key).',
    setup_key_env: 'Environment variable',
    setup_key_file: 'Config file ~/.config/kakao-signin/config.toml',
    setup_restart: 'Then restart the app.',
    setup_none: '(none)',
    setup_key_placeholder: 'your REST API key',

    signed_out_title: 'Sign in with your Kakao account',
    signed_out_lead: 'You sign in with your Kakao account (email or phone number and password) in your web browser. When you are done, this window comes back to the front.',
    signin_button: 'Login with Kakao',
    signin_other: 'Use another account',
    signin_choose: 'Choose an account',
    signin_options_hint: 'If the browser signs you straight in with a previous account, use "Use another account".',
    signin_privacy: "Your sign-in (tokens) is kept in this computer's keychain only and never reaches this window.",

    waiting_title_sign_in: 'Waiting for you to sign in in the browser',
    waiting_body_sign_in: 'Sign in on the Kakao page open in your browser. This window comes back to the front by itself when you are done.',
    waiting_title_consent: 'Waiting for your consent in the browser',
    waiting_body_consent: "Review the items on Kakao's consent page in your browser. You can also cancel there if you don't want to agree.",
    waiting_title_kakao_logout: 'Waiting for the Kakao account logout in the browser',
    waiting_body_kakao_logout: 'You are already logged out on this device. Finish logging out of your Kakao account on the Kakao page in your browser.',
    waiting_uri_label: 'Redirect URI this app sent to Kakao',
    waiting_logout_uri_label: 'Logout redirect URI this app sent to Kakao',
    waiting_remaining: '{time} left',
    waiting_progress: 'Time left',
    cancel_signin: 'Cancel',
    koe006_title: 'Does the browser show KOE006 or "Invalid redirect"?',
    koe006_body: 'The redirect URI registered for your Kakao app is not the one this app sent. Copy the address above, register it exactly in Kakao Developers under [App] > [Platform keys] > [REST API key] > Redirect URI, then cancel and sign in again.',
    koe007_title: 'Does the browser show KOE007?',
    koe007_body: 'The logout redirect URI is not registered. Register the address above in Kakao Developers under [Kakao Login] > [Advanced] > Logout redirect URI. You are already logged out on this device.',

    completing_title: 'Finishing sign-in…',
    completing_body: 'Getting the tokens from Kakao and fetching your profile.',

    profile_image_alt: 'Profile picture',
    profile_no_image: 'No profile picture',
    no_nickname: 'No nickname',
    default_nickname_note: 'This is the default nickname Kakao gave you.',
    member_id: 'Member ID',
    member_id_hint: 'Stays the same for this app.',
    connected_at: 'Connected to this app: {time}',
    fetched_at: 'Fetched from Kakao: {time}',
    refresh: 'Refresh',
    refresh_label: 'Fetch the profile from Kakao again',
    fields_title: 'What this app may know',
    state_agreed: 'Agreed',
    state_agreed_empty: 'No value at Kakao',
    state_needs_consent: 'Consent needed',
    state_not_requested: 'Not requested',
    empty_value: 'Kakao has no value for this.',
    image_value: 'The picture above',
    image_unavailable: 'No picture to show',
    enter_label: 'Enter it yourself: {label}',
    enter_save: 'Save',
    enter_placeholder: 'Enter it yourself',
    entered_badge: 'Entered by you',
    entered_note: 'Kept on this computer only; not from Kakao.',
    entered_change: 'Change',
    ask_consent: 'Ask Kakao for it',
    ask_consent_label: 'Ask Kakao for consent to {label}',
    needs_consent_note: 'You have not agreed to this item yet. Agree in the browser and it shows here.',
    not_requested_summary: 'Not requested by this app: {n}',
    not_requested_note: 'This app does not ask for this.',
    email_valid: 'Valid',
    email_invalid: 'Not valid',
    email_verified: 'Verified',
    email_unverified: 'Not verified',

    consents_title: 'Consent items',
    consents_lead: 'What you agreed to give this app at Kakao. You can withdraw items that are not required.',
    open_consents: 'Show consent items',
    reload_consents: 'Reload',
    consent_agreed: 'Agreed',
    consent_not_agreed: 'Not agreed',
    consent_required: 'Required',
    consent_not_used: 'Not used',
    consent_withdraw: 'Withdraw',
    consent_withdraw_label: 'Withdraw consent to {name}',
    consents_empty: 'No consent items.',
    withdraw_title: 'Withdraw consent to "{name}"?',
    withdraw_body: 'Kakao will stop giving this app that information. You can agree again later if you need to.',
    withdraw_confirm: 'Withdraw consent',

    account_title: 'Account',
    logout: 'Log out',
    unlink: 'Disconnect this app',
    unlink_hint: 'Disconnects this app from your Kakao account and deletes its data on this computer.',
    logout_title: 'Log out?',
    logout_body: 'This logs you out on this device only. Other devices, phones and KakaoTalk stay signed in. Kakao offers no way to log out of every device at once.',
    logout_kakao_account: 'Also log out of my Kakao account in the browser',
    logout_kakao_account_hint: 'Next time the browser will not sign you straight in with this account. A Kakao page opens in the browser.',
    logout_confirm: 'Log out',
    unlink_title: 'Disconnect this app from your Kakao account?',
    unlink_body: 'Disconnecting deletes:',
    unlink_item_consents: 'every consent you gave this app (Kakao forgets them)',
    unlink_item_tokens: "the sign-in (tokens) in this computer's keychain",
    unlink_item_entered: 'the values you entered yourself and kept on this computer',
    unlink_after: 'Signing in again starts over with the consent screen. This cannot be undone.',
    unlink_confirm: 'Disconnect and delete',
    dialog_cancel: 'Cancel',

    offline_title: "Can't reach Kakao",
    offline_body: 'Your sign-in is still kept on this computer. Try again when the network is back.',
    no_keychain_title: 'No keychain to keep your sign-in',
    no_keychain_body: "This app keeps your sign-in (tokens) only in the operating system's keychain, never in plain files. You can sign in once the keychain can be used.",
    no_keychain_fix: 'Install or unlock a keychain (e.g. gnome-keyring), then try again.',
    retry: 'Try again',

    error_code: 'Code {code}',
    dismiss: 'Dismiss',
    dismiss_error: 'Dismiss the error',
    dismiss_notice: 'Dismiss the notice',
    copy: 'Copy',
    copy_label: 'Copy {what}',
    copied: 'Copied',
    copy_failed: 'Could not copy. Select the text and copy it yourself.',
    copy_diagnostics: 'Copy diagnostics',
    diagnostics_copied: 'Diagnostics copied to the clipboard. They contain no token, code or personal data.',
    about: 'Kakao Sign-in {version}',
    busy: 'Working…',
    diagnostics_title: 'Diagnostics',
    diagnostics_manual: 'Could not copy to the clipboard. Select the text below and copy it. It contains no token, code or personal data.',
    close: 'Close',
  },
};

let current = 'ko';

export function setLang(lang) {
  current = LANGS.includes(lang) ? lang : 'ko';
  document.documentElement.lang = current;
}

export function lang() {
  return current;
}

/** The window's own words. A missing key shows itself rather than an empty string. */
export function t(key, params) {
  let s = STRINGS[current][key] ?? STRINGS.en[key] ?? key;
  if (params) {
    for (const [k, v] of Object.entries(params)) s = s.split(`{${k}}`).join(String(v));
  }
  return s;
}

/** A `Text` from the core (`{ko, en}`), in the current language. */
export function pick(text) {
  if (text == null) return '';
  if (typeof text === 'string') return text;
  return text[current] ?? text.en ?? text.ko ?? '';
}

/** Fills every static `[data-i18n]` (text) and `[data-i18n-label]` (aria-label) under `root`. */
export function applyStatic(root = document) {
  for (const el of root.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll('[data-i18n-label]')) {
    el.setAttribute('aria-label', t(el.dataset.i18nLabel));
  }
}
