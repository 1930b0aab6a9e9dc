// Unconfigured: what to register in the Kakao console and where the REST API key goes.

import { $, copyRow, h, keyedList } from '../dom.js';
import { lang, t } from '../i18n.js';

function fill(list, values) {
  const items = values.length ? values : [null];
  keyedList(list, items, (v) => v ?? '-', (v) => `${v}|${lang()}`, (v) =>
    v == null ? h('li', { class: 'muted' }, t('setup_none')) : copyRow(v));
}

export function renderSetup(view) {
  fill($('setup-redirect-uris'), view.redirect_uris ?? []);
  fill($('setup-logout-uris'), view.logout_redirect_uris ?? []);
  const key = t('setup_key_placeholder');
  fill($('setup-key-env'), [`KAKAO_SIGNIN_CLIENT_ID="${key}"`]);
  fill($('setup-key-file'), [`client_id = "${key}"`]);
}
