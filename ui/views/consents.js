// The consent panel (S13): every item with agreed / not agreed / required, and "withdraw" for
// revocable ones (the confirmation dialog lives in app.js).

import { $, h, keyedList, setText } from '../dom.js';
import { lang, t } from '../i18n.js';

function row(c, actions) {
  const badges = h('span', { class: 'badges' },
    h('span', { class: `badge ${c.agreed ? 'badge-ok' : 'badge-off'}` }, t(c.agreed ? 'consent_agreed' : 'consent_not_agreed')));
  if (c.required) badges.append(h('span', { class: 'badge badge-required' }, t('consent_required')));
  if (c.using === false) badges.append(h('span', { class: 'badge badge-off' }, t('consent_not_used')));
  const li = h('li', { id: `consent-${c.id}`, class: 'consent', data: { agreed: c.agreed, required: c.required } },
    h('div', { class: 'consent-text' },
      h('span', { class: 'consent-name' }, c.display_name || c.id),
      h('span', { class: 'consent-id mono' }, c.id)),
    badges);
  if (c.agreed && c.revocable && !c.required) {
    li.append(h('button', {
      id: `consent-${c.id}-withdraw`,
      type: 'button',
      class: 'button-danger-quiet button-small',
      'aria-label': t('consent_withdraw_label', { name: c.display_name || c.id }),
      on: { click: () => actions.confirmWithdraw(c) },
    }, t('consent_withdraw')));
  }
  return li;
}

export function renderConsents(view, actions) {
  const list = $('consent-list');
  const loaded = Array.isArray(view.consents);
  setText($('open-consents'), t(loaded ? 'reload_consents' : 'open_consents'));
  list.hidden = !loaded;
  if (!loaded) return;
  if (view.consents.length === 0) {
    keyedList(list, [null], () => 'empty', () => lang(), () => h('li', { class: 'muted' }, t('consents_empty')));
    return;
  }
  keyedList(list, view.consents, (c) => c.id, (c) => `${lang()}|${JSON.stringify(c)}`, (c) => row(c, actions));
}
