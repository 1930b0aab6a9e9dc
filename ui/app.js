// The window: holds no secret and no session state of its own. It calls the app's commands,
// and renders whatever SessionView came last (from a command or from `next_view`, which the
// window long-polls to follow the session).
// The only things it keeps are the language the person picked, open dialogs, a dismissed
// notice and a rejected command's error until the next view.

import { $, copyText, toast, writeClipboard } from './dom.js';
import { STRINGS, applyStatic, lang, pick, setLang, t } from './i18n.js';
import { renderConsents } from './views/consents.js';
import { renderProfile } from './views/profile.js';
import { renderSetup } from './views/setup.js';
import { renderWaiting, setKoeHelp } from './views/waiting.js';

const STATUSES = ['restoring', 'unconfigured', 'signed_out', 'waiting', 'completing', 'signed_in', 'offline', 'no_keychain'];

let view = null;
let chosenLang = null; // set when the person switches; wins over view.lang from then on
let localError = null; // an ErrorView from a rejected command, shown until the next view
let dismissedNotice = null;
// The page starts on the restoring screen (index.html): a first view with another status (the
// app restored before its page loaded, e.g. straight to offline) is a change to announce too.
let shownStatus = 'restoring';

const tauri = window.__TAURI__;

// ---- talking to the core ---------------------------------------------------------------

function toErrorView(err) {
  if (err && typeof err === 'object' && err.message && typeof err.message === 'object') return err;
  const s = String(err && err.message ? err.message : err);
  return { kind: 'unexpected', message: { ko: s, en: s }, fix: null, code: null };
}

/** Accepts a SessionView; the last one wins (`next_view` always answers with the newest). */
function show(next) {
  if (!next || typeof next !== 'object' || !('status' in next)) return;
  view = next;
  render();
  // `cargo xtask bench`: the first signed-in profile is on screen once the frame that draws it
  // has been painted: the task after its animation frame (a second frame would wait forever:
  // without compositing WebKitGTK runs one only when something repaints). The app prints the
  // mark only in bench runs.
  if (!profilePainted && next.status === 'signed_in' && next.profile) {
    profilePainted = true;
    requestAnimationFrame(() => setTimeout(() => {
      tauri.core.invoke('mark_painted', { what: 'profile' }).catch(() => {});
    }, 0));
  }
}
let profilePainted = false;

/**
 * Runs a command. The button that started it is marked busy (and ignores clicks) until the
 * answer comes; nothing else waits for it.
 */
async function call(name, args, button) {
  if (button) {
    if (button.getAttribute('aria-busy') === 'true') return undefined;
    button.setAttribute('aria-busy', 'true');
  }
  try {
    const next = await tauri.core.invoke(name, args);
    localError = null;
    show(next);
    return next;
  } catch (err) {
    localError = toErrorView(err);
    render();
    return undefined;
  } finally {
    if (button) button.removeAttribute('aria-busy');
  }
}

// ---- actions the views call --------------------------------------------------------------

const actions = {
  requestConsent: (scopes, button) => call('request_consent', { scopes }, button),
  setEnteredValue: (field, value, button) => call('set_entered_value', { field, value }, button),
  confirmWithdraw: (consent) => {
    const dialog = $('withdraw-dialog');
    dialog.dataset.scope = consent.id;
    $('withdraw-title').textContent = t('withdraw_title', { name: consent.display_name || consent.id });
    dialog.showModal();
  },
};

function openLogout() {
  $('logout-kakao-account').checked = false;
  $('logout-forget-entered').checked = false;
  $('logout-dialog').showModal();
}

/**
 * Asks the core for text (`command`) and copies it, saying `copiedKey`; without a clipboard,
 * `showByHand(text)` shows it to copy by hand. One request at a time per button. True when
 * the clipboard took it.
 */
async function copyFromCore(button, command, copiedKey, showByHand) {
  let text;
  try {
    if (button.getAttribute('aria-busy') === 'true') return;
    button.setAttribute('aria-busy', 'true');
    text = String(await tauri.core.invoke(command));
  } catch (err) {
    localError = toErrorView(err);
    render();
    return false;
  } finally {
    button.removeAttribute('aria-busy');
  }
  if (await writeClipboard(text)) {
    toast(t(copiedKey));
    return true;
  }
  showByHand(text);
  return false;
}

function copyDiagnostics(button) {
  return copyFromCore(button, 'diagnostics', 'diagnostics_copied', (text) => {
    // No clipboard, or it did not answer: show the text so it can be copied by hand.
    const area = $('diagnostics-text');
    area.value = text;
    $('diagnostics-dialog').showModal();
    area.select();
  });
}

/** "Copy the sign-in link": Kakao's URL of this attempt, or shown to copy by hand. */
async function copySigninLink(button) {
  const copied = await copyFromCore(button, 'sign_in_link', 'signin_link_copied', (link) => {
    const field = $('signin-link');
    field.value = link;
    $('signin-link-box').hidden = false;
    field.focus();
    field.select();
  });
  if (copied) $('signin-link-box').hidden = true;
}

/** "Paste the address": the core checks it as its listener would; kept when refused. */
async function pasteAddress(event) {
  event.preventDefault();
  const input = $('paste-address');
  const address = input.value.trim();
  if (!address) {
    localError = { kind: 'paste_empty', message: { ko: STRINGS.ko.paste_empty, en: STRINGS.en.paste_empty }, fix: null, code: null };
    render();
    input.focus();
    return;
  }
  const next = await call('paste_address', { address }, $('paste-submit'));
  // Taken: the field (which holds a code) is emptied. Refused: kept, to correct it, and the
  // reason (at the top of the window) is scrolled into sight.
  if (next && !next.error) input.value = '';
  else if (next?.error) $('error').scrollIntoView({ block: 'nearest' });
}

async function toggleKoeHelp(button) {
  const open = $('koe-help').hidden;
  $('koe-help').hidden = !open;
  button.setAttribute('aria-expanded', String(open));
  if (open) await loadKoeHelp();
}

async function loadKoeHelp() {
  if ($('koe-help').hidden) return;
  try {
    setKoeHelp(await tauri.core.invoke('kakao_error_help'));
  } catch (err) {
    localError = toErrorView(err);
    render();
  }
}

function setLanguage(l) {
  if (l === lang()) return;
  chosenLang = l;
  render();
  call('set_language', { lang: l });
}

function wire() {
  const on = (id, fn) => $(id).addEventListener('click', (e) => fn(e.currentTarget));
  on('lang-ko', () => setLanguage('ko'));
  on('lang-en', () => setLanguage('en'));
  on('signin', (b) => call('sign_in', { prompt: null }, b));
  on('signin-other-account', (b) => call('sign_in', { prompt: 'login' }, b));
  on('signin-choose-account', (b) => call('sign_in', { prompt: 'select_account' }, b));
  on('copy-redirect-uri', () => view?.waiting && copyText(view.waiting.redirect_uri));
  on('cancel-signin', (b) => call('cancel_sign_in', undefined, b));
  on('open-again', (b) => call('open_again', undefined, b));
  on('copy-signin-link', copySigninLink);
  $('paste-form').addEventListener('submit', pasteAddress);
  on('koe-help-summary', toggleKoeHelp);
  on('refresh-profile', (b) => call('refresh_profile', undefined, b));
  on('open-consents', (b) => call('load_consents', undefined, b));
  on('logout', openLogout);
  on('offline-logout', openLogout);
  on('logout-confirm', () => {
    const kakaoAccount = $('logout-kakao-account').checked;
    const forgetEntered = $('logout-forget-entered').checked;
    $('logout-dialog').close();
    call('logout', { kakaoAccount, forgetEntered }, $('logout'));
  });
  on('unlink', () => $('unlink-dialog').showModal());
  on('unlink-confirm', () => {
    $('unlink-dialog').close();
    call('unlink', undefined, $('unlink'));
  });
  on('withdraw-confirm', () => {
    const dialog = $('withdraw-dialog');
    const scope = dialog.dataset.scope;
    dialog.close();
    if (scope) call('withdraw_consent', { scope }, $('open-consents'));
  });
  on('retry', (b) => call('retry', undefined, b));
  on('retry-keychain', (b) => call('retry', undefined, b));
  on('copy-diagnostics', copyDiagnostics);
  on('dismiss-error', (b) => {
    const fromCore = Boolean(view?.error);
    localError = null;
    if (fromCore) call('dismiss_error', undefined, b);
    else render();
  });
  on('dismiss-notice', () => {
    dismissedNotice = JSON.stringify(view?.notice ?? null);
    render();
  });
  for (const b of document.querySelectorAll('dialog [data-close]')) {
    b.addEventListener('click', () => b.closest('dialog').close());
  }
}

// ---- rendering -----------------------------------------------------------------------------

function renderMessages(status) {
  const err = view.error ?? localError;
  const box = $('error');
  // On the no-keychain screen the core's error is the screen's own text (renderNoKeychain).
  box.hidden = !err || (status === 'no_keychain' && err === view.error);
  if (err) {
    $('error-message').textContent = pick(err.message);
    const fix = pick(err.fix);
    $('error-fix').textContent = fix;
    $('error-fix').hidden = !fix;
    // A Kakao code is shown small, next to the message, never alone.
    $('error-code').textContent = err.code ? t('error_code', { code: err.code }) : '';
    $('error-code').hidden = !err.code;
    box.dataset.kind = err.kind ?? '';
    $('error-kind').textContent = err.kind ?? '';
    $('error-kind').dataset.kind = err.kind ?? '';
  }
  const notice = view.notice;
  const noticeShown = Boolean(notice) && JSON.stringify(notice) !== dismissedNotice;
  $('notice').hidden = !noticeShown;
  if (noticeShown) $('notice-text').textContent = pick(notice);
  // Set only when this computer's clock is minutes off Kakao's (positive: ahead).
  const offset = view.clock_offset_secs;
  const clockOff = Number.isFinite(offset) && offset !== 0;
  $('clock-notice').hidden = !clockOff;
  if (clockOff) {
    const amount = clockAmount(Math.abs(offset));
    $('clock-notice-text').textContent = offset > 0 ? t('clock_ahead', { amount }) : t('clock_behind', { amount });
  }
}

/** `secs` of clock offset in words: minutes, hours and minutes, or days. */
function clockAmount(secs) {
  const minutes = Math.round(secs / 60);
  if (minutes < 60) return t('clock_minutes', { n: minutes });
  const hours = Math.floor(minutes / 60);
  const rest = minutes % 60;
  if (hours >= 48) return t('clock_days', { n: Math.round(minutes / 1440) });
  return rest ? t('clock_hours_minutes', { h: hours, m: rest }) : t('clock_hours', { h: hours });
}

/** What is wrong with the keychain and what to do, from the core's error. */
function renderNoKeychain() {
  const err = view.error;
  $('no-keychain-message').textContent = err ? pick(err.message) : '';
  $('no-keychain-message').hidden = !err;
  $('no-keychain-fix').textContent = err?.fix ? pick(err.fix) : t('no_keychain_fix');
  $('no-keychain-detail').dataset.kind = err?.kind ?? '';
}

function visible(el) {
  return el && el !== document.body && el.isConnected && el.getClientRects().length > 0;
}

function render() {
  if (!view) return;
  const active = document.activeElement;
  const activeId = active && active.id;
  // The row around the focused control: where focus goes if that control is rebuilt away.
  const activeRowId = active && active.closest && active.closest('li[id]')?.id;

  setLang(chosenLang ?? view.lang);
  applyStatic();
  for (const l of ['ko', 'en']) $(`lang-${l}`).setAttribute('aria-pressed', String(lang() === l));
  $('sandbox-banner').hidden = !view.sandbox;

  const status = STATUSES.includes(view.status) ? view.status : 'restoring';
  for (const s of document.querySelectorAll('main > [data-screen]')) s.hidden = s.dataset.screen !== status;

  renderMessages(status);
  if (status === 'unconfigured') renderSetup(view);
  if (status === 'no_keychain') renderNoKeychain();
  renderWaiting(view);
  if (status === 'signed_in') {
    renderProfile(view, actions);
    renderConsents(view, actions);
  }
  $('version').textContent = t('about', { version: view.version ?? '' });

  // Dialogs that no longer fit the state (e.g. the session ended elsewhere) close themselves.
  if (status !== 'signed_in' && status !== 'offline') {
    for (const id of ['logout-dialog', 'unlink-dialog', 'withdraw-dialog']) if ($(id).open) $(id).close();
  }

  // Keep focus where the person was; when their control went away (new screen, rebuilt row),
  // put it on the same id if it still exists, else on the new screen's heading.
  if (!visible(document.activeElement) && !document.querySelector('dialog[open]')) {
    const again = activeId && $(activeId);
    const row = activeRowId && $(activeRowId);
    if (visible(again)) again.focus();
    // focus() does nothing on a control that cannot take it (e.g. inside a closed <details>).
    if (document.activeElement !== again && visible(row)) {
      row.tabIndex = -1;
      row.focus();
    }
    if (!visible(document.activeElement) && status !== shownStatus) {
      document.querySelector(`main > [data-screen="${status}"] h1`)?.focus();
    }
  }
  if (status === 'waiting') setTimeout(warmSignedIn, 0);
  shownStatus = status;
}

/**
 * Lays the signed-in screen out once, unseen, while the person is at Kakao's pages: the fonts
 * and styles it needs are then loaded when the profile arrives, and the first profile paints
 * sooner (in `cargo xtask bench` its first layout took 30–32 ms cold, 21–23 ms warmed). One task, so
 * nothing of it is rendered or announced.
 */
let warmed = false;
function warmSignedIn() {
  if (warmed) return;
  warmed = true;
  const screen = document.querySelector('main > [data-screen="signed_in"]');
  if (!screen || !screen.hidden) return;
  screen.classList.add('prelayout');
  screen.getBoundingClientRect();
  screen.classList.remove('prelayout');
}

// ---- start ---------------------------------------------------------------------------------

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Follows the session: `next_view` answers at once with the current view, then again each time
 * the session changes (a long poll; the app sends the window no events, see src-tauri/src/feed.rs).
 */
async function follow() {
  let after = null;
  let failed = false;
  for (;;) {
    try {
      const next = await tauri.core.invoke('next_view', { after });
      after = next.seq;
      if (failed) localError = null;
      failed = false;
      show(next.view);
    } catch (err) {
      failed = true;
      localError = toErrorView(err);
      view = view ?? { status: 'restoring', sandbox: false, lang: 'ko', version: '' };
      render();
      await sleep(1000);
    }
  }
}

function boot() {
  // Until the core says which language, follow the OS like the core does.
  setLang((navigator.language || '').toLowerCase().startsWith('ko') ? 'ko' : 'en');
  applyStatic();
  wire();
  if (!tauri || !tauri.core) {
    view = { status: 'restoring', sandbox: false, lang: 'ko', version: '', error: toErrorView('window.__TAURI__ is missing') };
    render();
    return;
  }
  follow();
}

boot();
