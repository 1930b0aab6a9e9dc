// Waiting for the browser: what is happening, the exact redirect URI (S01), time left, and
// after a few seconds the help for KOE006 (KOE007 when logging out of the Kakao account).

import { $, setText } from '../dom.js';
import { t } from '../i18n.js';

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

export function renderWaiting(view) {
  const w = view.waiting;
  if (view.status !== 'waiting' || !w) {
    clearInterval(clock.timer);
    clock = { key: null, started: 0, timer: 0 };
    return;
  }
  const key = `${w.purpose}|${w.redirect_uri}|${w.timeout_secs}`;
  if (clock.key !== key) {
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
  tick(w);
}
