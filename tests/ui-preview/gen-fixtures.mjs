// Writes fixtures/*.json: one SessionView per screen/state, shaped exactly like
// src-tauri/core/src/session/view.rs (fixtures.test.mjs checks the keys against that file).
// Run: node tests/ui-preview/gen-fixtures.mjs
import { writeFileSync } from 'node:fs';

const AVATAR = 'data:image/svg+xml;base64,PHN2ZyB4bWxucz0iaHR0cDovL3d3dy53My5vcmcvMjAwMC9zdmciIHZpZXdCb3g9IjAgMCA4MCA4MCI+PHJlY3Qgd2lkdGg9IjgwIiBoZWlnaHQ9IjgwIiBmaWxsPSIjZjRiNDAwIi8+PGNpcmNsZSBjeD0iNDAiIGN5PSI0NCIgcj0iMjQiIGZpbGw9IiNmN2M5NDgiLz48Y2lyY2xlIGN4PSIyMiIgY3k9IjI0IiByPSI4IiBmaWxsPSIjZTBhODAwIi8+PGNpcmNsZSBjeD0iNTgiIGN5PSIyNCIgcj0iOCIgZmlsbD0iI2UwYTgwMCIvPjxjaXJjbGUgY3g9IjMyIiBjeT0iNDIiIHI9IjIuNiIgZmlsbD0iIzIyMiIvPjxjaXJjbGUgY3g9IjQ4IiBjeT0iNDIiIHI9IjIuNiIgZmlsbD0iIzIyMiIvPjxwYXRoIGQ9Ik0yOCAzNmg4TTQ0IDM2aDgiIHN0cm9rZT0iIzIyMiIgc3Ryb2tlLXdpZHRoPSIyLjQiIHN0cm9rZS1saW5lY2FwPSJyb3VuZCIvPjxlbGxpcHNlIGN4PSI0MCIgY3k9IjUyIiByeD0iNyIgcnk9IjUiIGZpbGw9IiNmZmYzZDAiLz48Y2lyY2xlIGN4PSI0MCIgY3k9IjUwIiByPSIyIiBmaWxsPSIjMjIyIi8+PC9zdmc+';

const text = (ko, en) => ({ ko, en });
const ports = [18682, 18683, 18684];

function base(status, extra = {}) {
  return {
    status,
    sandbox: true,
    lang: 'ko',
    version: '0.1.0',
    redirect_uris: ports.map((p) => `http://127.0.0.1:${p}/callback`),
    logout_redirect_uris: ports.map((p) => `http://127.0.0.1:${p}/logout`),
    waiting: null,
    profile: null,
    consents: null,
    error: null,
    notice: null,
    clock_offset_secs: null,
    ...extra,
  };
}

function field(id, label, state, scope, more = {}) {
  return {
    id,
    label,
    state,
    value: null,
    scope,
    entered: null,
    enterable: false,
    note: null,
    email_valid: null,
    email_verified: null,
    ...more,
  };
}

const L = {
  nickname: text('닉네임', 'Nickname'),
  profile_image: text('프로필 사진', 'Profile picture'),
  email: text('이메일', 'Email'),
  name: text('이름', 'Name'),
  gender: text('성별', 'Gender'),
  age_range: text('연령대', 'Age range'),
  birthday: text('생일', 'Birthday'),
  birthyear: text('출생 연도', 'Birth year'),
  phone_number: text('전화번호', 'Phone number'),
};

const PHONE_NOTE = text(
  '전화번호는 카카오톡에서 가져옵니다. 카카오톡을 쓰지 않는 계정에는 전화번호가 없을 수 있습니다.',
  'The phone number comes from KakaoTalk; an account without KakaoTalk may have none.',
);

// Every field in one of the four states (S09), email with flags (S14), phone entered (S15).
const fullFields = [
  field('nickname', L.nickname, 'agreed', 'profile_nickname', { value: '라이언' }),
  field('profile_image', L.profile_image, 'agreed', 'profile_image', { value: 'https://k.kakaocdn.net/dn/example/img_640x640.jpg' }),
  field('email', L.email, 'agreed', 'account_email', { value: 'ryan@kakao.test', email_valid: true, email_verified: false }),
  field('name', L.name, 'needs_consent', 'name'),
  field('age_range', L.age_range, 'agreed', 'age_range', { value: '30~39' }),
  field('birthday', L.birthday, 'agreed_empty', 'birthday', { enterable: true }),
  field('phone_number', L.phone_number, 'agreed_empty', 'phone_number', { enterable: true, entered: '010-1234-5678', note: PHONE_NOTE }),
  field('gender', L.gender, 'not_requested', 'gender'),
  field('birthyear', L.birthyear, 'not_requested', 'birthyear'),
];

const profile = {
  member_id: '4102937465123456789',
  nickname: '라이언',
  is_default_nickname: false,
  image: AVATAR,
  connected_at: '2024-05-01T09:12:33Z',
  fields: fullFields,
  fetched_at: 1718000000,
};

// A plainer account: default nickname, no picture, email needs consent (S14), empty phone (S15).
const minimalProfile = {
  member_id: '3855120094',
  nickname: '사용자1234',
  is_default_nickname: true,
  image: null,
  connected_at: null,
  fields: [
    field('nickname', L.nickname, 'agreed', 'profile_nickname', { value: '사용자1234' }),
    field('profile_image', L.profile_image, 'agreed_empty', 'profile_image', {
      note: text('카카오계정에 프로필 사진이 없습니다.', 'The Kakao account has no profile picture.'),
    }),
    field('email', L.email, 'needs_consent', 'account_email', {
      note: text('카카오계정에 이메일이 있지만 아직 동의하지 않았습니다.', 'The Kakao account has an email, but you have not agreed to share it yet.'),
    }),
    field('phone_number', L.phone_number, 'agreed_empty', 'phone_number', { enterable: true, note: PHONE_NOTE }),
    field('name', L.name, 'not_requested', 'name'),
    field('gender', L.gender, 'not_requested', 'gender'),
    field('age_range', L.age_range, 'not_requested', 'age_range'),
    field('birthday', L.birthday, 'not_requested', 'birthday'),
    field('birthyear', L.birthyear, 'not_requested', 'birthyear'),
  ],
  fetched_at: 1718003600,
};

const consents = [
  { id: 'profile_nickname', display_name: '닉네임', agreed: true, required: true, revocable: false, using: true },
  { id: 'profile_image', display_name: '프로필 사진', agreed: true, required: false, revocable: true, using: true },
  { id: 'account_email', display_name: '카카오계정(이메일)', agreed: true, required: false, revocable: true, using: true },
  { id: 'name', display_name: '이름', agreed: false, required: false, revocable: false, using: true },
  { id: 'age_range', display_name: '연령대', agreed: true, required: false, revocable: true, using: true },
  { id: 'birthday', display_name: '생일', agreed: true, required: false, revocable: true, using: true },
  { id: 'phone_number', display_name: '카카오계정(전화번호)', agreed: true, required: false, revocable: true, using: true },
  { id: 'talk_message', display_name: '카카오톡 메시지 전송', agreed: false, required: false, revocable: false, using: false },
];

const REDIRECT_PLACE_KO = '카카오 디벨로퍼스 [앱] > [플랫폼 키] > [REST API 키] > 리다이렉트 URI';
const REDIRECT_PLACE_EN = 'Kakao Developers: [App] > [Platform keys] > [REST API key] > Redirect URI';

const fixtures = {
  restoring: base('restoring'),
  unconfigured: base('unconfigured', { sandbox: false }),
  signed_out: base('signed_out'),
  signed_out_real: base('signed_out', { sandbox: false }),
  signed_out_error: base('signed_out', {
    error: {
      kind: 'redirect_uri_not_registered',
      message: text('카카오에 등록되지 않은 리다이렉트 URI로 로그인을 요청했습니다.', 'Sign-in used a redirect URI that is not registered for this Kakao app.'),
      fix: text(
        `${REDIRECT_PLACE_KO}에 다음 주소를 한 글자도 다르지 않게 등록하세요: http://127.0.0.1:18682/callback`,
        `Register exactly this address in ${REDIRECT_PLACE_EN}: http://127.0.0.1:18682/callback`,
      ),
      code: 'KOE006',
    },
  }),
  signed_out_notice: base('signed_out', {
    notice: text(
      '이 기기에서 로그아웃했습니다. 카카오에 로그아웃을 알리지 못했지만, 이 컴퓨터의 토큰은 모두 지웠습니다.',
      'You are logged out on this device. Kakao could not be told, but the tokens on this computer are deleted.',
    ),
  }),
  waiting: base('waiting', { waiting: { purpose: 'sign_in', redirect_uri: 'http://127.0.0.1:18682/callback', timeout_secs: 300 } }),
  waiting_consent: base('waiting', {
    profile,
    waiting: { purpose: 'consent', redirect_uri: 'http://127.0.0.1:18683/callback', timeout_secs: 300 },
  }),
  waiting_kakao_logout: base('waiting', {
    waiting: { purpose: 'kakao_logout', redirect_uri: 'http://127.0.0.1:18682/logout', timeout_secs: 120 },
  }),
  completing: base('completing'),
  signed_in: base('signed_in', { profile }),
  signed_in_consents: base('signed_in', { profile, consents }),
  signed_in_minimal: base('signed_in', {
    sandbox: false,
    profile: minimalProfile,
    notice: text(
      '추가 동의를 취소했습니다. 이메일은 계속 "동의 필요"로 남습니다.',
      'Additional consent was cancelled. Email stays "consent needed".',
    ),
  }),
  // This computer's clock 4 minutes behind Kakao's: signed in all the same, and told so.
  signed_in_clock: base('signed_in', { profile, clock_offset_secs: -240 }),
  offline: base('offline', {
    error: {
      kind: 'network',
      message: text('카카오 서버에 연결할 수 없습니다.', 'Could not connect to the Kakao servers.'),
      fix: text('인터넷 연결을 확인한 뒤 다시 시도하세요.', 'Check the internet connection and try again.'),
      code: null,
    },
  }),
  // Secret Service without a default collection (messages/vault.rs, Linux words).
  no_keychain: base('no_keychain', {
    error: {
      kind: 'keychain_unavailable',
      message: text(
        "키체인(Secret Service)은 실행 중이지만 기본 키링이 없어 로그인 정보를 저장할 수 없습니다. 이 앱은 토큰을 일반 파일에 저장하지 않습니다.",
        "The keychain (Secret Service) is running but has no default keyring, so sign-in tokens can't be saved. This app never stores tokens in plain files.",
      ),
      fix: text(
        "키링을 만들고 기본으로 지정한 뒤 다시 시도하세요: \"암호 및 키\"(seahorse) 앱에서 [+] > [암호 키링]을 만들고 \"기본값으로 설정\"을 고릅니다. 데스크톱이 없는 환경(WSL, SSH)에서는 `gnome-keyring-daemon --replace --unlock --components=secrets`를 실행해 새 암호를 입력하고 Ctrl-D를 누르면 로그인 키링이 만들어집니다.",
        "Create a keyring, make it the default and try again: in \"Passwords and Keys\" (seahorse) choose [+] > [Password keyring], then \"Set as default\". Without a desktop (WSL, SSH), run `gnome-keyring-daemon --replace --unlock --components=secrets`, type a new password and press Ctrl-D: that creates the login keyring.",
      ),
      code: null,
    },
  }),
  // A locked login keyring with no way to prompt (messages/vault.rs, Linux words).
  no_keychain_locked: base('no_keychain', {
    sandbox: false,
    error: {
      kind: 'keychain_locked',
      message: text("키체인이 잠겨 있고 잠금을 해제할 수 없었습니다 (잠금 해제 창이 거부되었거나 뜰 수 없었습니다).", "The keychain is locked and could not be unlocked (the unlock prompt was refused or could not appear)."),
      fix: text(
        "로그인 키링(키체인)을 잠금 해제한 뒤 다시 시도하세요 (예: \"암호 및 키\" 앱). 잠금 해제 창이 뜨면 허용하세요. 잠금 해제 창이 뜰 수 없는 환경(데스크톱 세션 없음: SSH, WSL)에서는 `gnome-keyring-daemon --replace --unlock --components=secrets`를 실행하고 암호를 입력한 뒤 Ctrl-D를 누르세요.",
        "Unlock the login keyring (keychain) and try again (e.g. in \"Passwords and Keys\"); accept the unlock prompt if one appears. Where no prompt can appear (no desktop session: SSH, WSL), run `gnome-keyring-daemon --replace --unlock --components=secrets`, type the password and press Ctrl-D.",
      ),
      code: null,
    },
  }),
};

const dir = new URL('./fixtures/', import.meta.url);
for (const [name, v] of Object.entries(fixtures)) {
  writeFileSync(new URL(`${name}.json`, dir), `${JSON.stringify(v, null, 2)}\n`);
}
console.log(`wrote ${Object.keys(fixtures).length} fixtures`);
