// Waiting for the browser: what is happening, the exact redirect URI (S01), time left, and
// after a few seconds the help for KOE006 (KOE007 when logging out of the Kakao account).
// When the browser doesn't come back: open Kakao's page again, copy the sign-in link, paste
// the address the browser ended on, and the causes and fixes of Kakao's own error pages.

import { $, h, setText } from '../dom.js';
import { pick, t } from '../i18n.js';

/** Seconds before the redirect-URI help appears: long enough not to distract a normal sign-in. */
export const HELP_AFTER_SECS = 8;

// The one piece of time the window tracks itself: when it first saw this wait. It is keyed by
// the wait, so a new attempt starts the clock again.
let clock = { key: null, started: 0, timer: 0 };

function format(secs) {
  const s = Math.max(0, Math.ceil(secs));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

function tick(w) {
  const elapsed = (Date.now() - clock.started) / 1000;
  const total = Math.max(1, w.timeout_secs || 1);
  const bar = $('waiting-progress');
  bar.max = total;
  bar.value = Math.max(0, total - elapsed);
  setText($('waiting-remaining'), t('waiting_remaining', { time: format(total - elapsed) }));
  $('koe006-help').hidden = elapsed < HELP_AFTER_SECS;
}

// Kakao's error pages as the core explains them (`kakao_error_help`), and the one picked.
let koe = { list: null, chosen: null };

/** Takes the core's list of `{code, cause, fix}` (fetched when the help is opened). */
export function setKoeHelp(list) {
  koe.list = Array.isArray(list) ? list : null;
  renderKoe();
}

function chooseKoe(code) {
  koe.chosen = code;
  renderKoe();
  $('koe-answer').scrollIntoView({ block: 'nearest' });
}

function renderKoe() {
  const box = $('koe-codes');
  const list = koe.list ?? [];
  if (box.children.length !== list.length || list.some((item, i) => box.children[i].dataset.code !== item.code)) {
    box.replaceChildren(...list.map((item) => h('button', {
      type: 'button',
      id: `koe-${item.code}`,
      class: 'button-secondary button-small',
      'aria-controls': 'koe-answer',
      data: { code: item.code },
      on: { click: () => chooseKoe(item.code) },
    })));
  }
  for (const b of box.children) {
    setText(b, b.dataset.code === 'other' ? t('koe_help_other') : b.dataset.code);
    b.setAttribute('aria-pressed', String(b.dataset.code === koe.chosen));
  }
  const item = list.find((i) => i.code === koe.chosen);
  $('koe-answer').hidden = !item;
  if (!item) return;
  setText($('koe-answer-code'), item.code === 'other' ? t('koe_help_other') : item.code);
  setText($('koe-answer-cause'), pick(item.cause));
  const fix = item.fix ? t('koe_help_fix', { fix: pick(item.fix) }) : '';
  setText($('koe-answer-fix'), fix);
  $('koe-answer-fix').hidden = !fix;
}

/** Forgets what this wait showed: the pasted address (it may hold a code), the link, the pick. */
function forgetWays() {
  $('paste-address').value = '';
  $('signin-link').value = '';
  $('signin-link-box').hidden = true;
  koe = { list: null, chosen: null };
  $('koe-help').hidden = true;
  $('koe-help-summary').setAttribute('aria-expanded', 'false');
  renderKoe();
}

export function renderWaiting(view) {
  const w = view.waiting;
  if (view.status !== 'waiting' || !w) {
    if (clock.key !== null) forgetWays();
    clearInterval(clock.timer);
    clock = { key: null, started: 0, timer: 0 };
    return;
  }
  const key = `${w.purpose}|${w.redirect_uri}|${w.timeout_secs}`;
  if (clock.key !== key) {
    if (clock.key !== null) forgetWays();
    clearInterval(clock.timer);
    clock = { key, started: Date.now(), timer: setInterval(() => tick(w), 1000) };
  }
  const purpose = ['sign_in', 'consent', 'kakao_logout'].includes(w.purpose) ? w.purpose : 'sign_in';
  const logout = purpose === 'kakao_logout';
  setText($('waiting-title'), t(`waiting_title_${purpose}`));
  setText($('waiting-body'), t(`waiting_body_${purpose}`));
  setText($('waiting-uri-label'), t(logout ? 'waiting_logout_uri_label' : 'waiting_uri_label'));
  setText($('waiting-redirect-uri'), w.redirect_uri);
  $('copy-redirect-uri').setAttribute('aria-label', t('copy_label', { what: w.redirect_uri }));
  setText($('koe006-title'), t(logout ? 'koe007_title' : 'koe006_title'));
  setText($('koe006-body'), t(logout ? 'koe007_body' : 'koe006_body'));
  // A pasted address goes only to a sign-in's callback.
  $('paste-form').hidden = logout;
  setText($('copy-signin-link'), t(logout ? 'copy_logout_link' : 'copy_signin_link'));
  renderKoe();
  tick(w);
}
