// Signed in: the profile card and every field in one of its four states (S09), with the
// member id (S08), email flags (S14), values entered by the person (S14, S15), consent prompts
// (S12) and the time the profile was fetched (S11).

import { $, h, keyedList, setText } from '../dom.js';
import { lang, pick, t } from '../i18n.js';

const STATES = ['agreed', 'agreed_empty', 'needs_consent', 'not_requested'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/**
 * A local date and time the way Intl.DateTimeFormat writes a medium date with a short time in
 * ko-KR and en-US: "2024. 6. 10. 오후 3:04", "Jun 10, 2024, 3:04 PM". Written out by hand: Intl
 * makes WebKit load ICU's formatting code and data, about 3 MB of the window's idle memory.
 */
export function formatTime(date) {
  if (!(date instanceof Date) || Number.isNaN(date.getTime())) return '';
  const hours = date.getHours();
  const clock = `${hours % 12 || 12}:${String(date.getMinutes()).padStart(2, '0')}`;
  if (lang() === 'ko') {
    return `${date.getFullYear()}. ${date.getMonth() + 1}. ${date.getDate()}. ${hours < 12 ? '오전' : '오후'} ${clock}`;
  }
  return `${MONTHS[date.getMonth()]} ${date.getDate()}, ${date.getFullYear()}, ${clock} ${hours < 12 ? 'AM' : 'PM'}`;
}

function badge(kind, text) {
  return h('span', { class: `badge badge-${kind}` }, text);
}

/** `<input>` type and autocomplete hint for the fields a person may type in. */
function inputKind(id) {
  switch (id) {
    case 'email': return { type: 'email', autocomplete: 'email', inputmode: null };
    case 'phone_number': return { type: 'tel', autocomplete: 'tel', inputmode: 'tel' };
    case 'name': return { type: 'text', autocomplete: 'name', inputmode: null };
    case 'birthyear': return { type: 'text', autocomplete: 'bday-year', inputmode: 'numeric' };
    default: return { type: 'text', autocomplete: 'off', inputmode: null };
  }
}

function enterForm(field, label, actions) {
  const inputId = `field-${field.id}-input`;
  const kind = inputKind(field.id);
  const input = h('input', {
    id: inputId,
    name: 'value',
    type: kind.type,
    autocomplete: kind.autocomplete,
    inputmode: kind.inputmode,
    placeholder: t('enter_placeholder'),
    required: true,
  });
  input.value = field.entered ?? '';
  const form = h('form', {
    id: `field-${field.id}-enter`,
    class: 'enter-form',
    novalidate: true,
    on: {
      // Never a real submission (the CSP has form-action 'none'): Enter saves through the core.
      submit: (e) => {
        e.preventDefault();
        const value = input.value.trim();
        if (value) actions.setEnteredValue(field.id, value, form.querySelector('button'));
        else input.focus();
      },
    },
  },
  h('label', { class: 'sr-only', for: inputId }, t('enter_label', { label })),
  input,
  h('button', { id: `field-${field.id}-save`, type: 'submit', class: 'button-secondary button-small' }, t('enter_save')));
  return form;
}

function fieldBody(field, label, view, actions) {
  const body = [];
  switch (field.state) {
    case 'agreed': {
      // The picture itself is the card's avatar; the core never sends its URL as a value.
      const value = field.id === 'profile_image'
        ? t(view.profile.image ? 'image_value' : 'image_unavailable')
        : field.value ?? '';
      body.push(h('p', { class: 'field-value', id: `field-${field.id}-value` }, value));
      if (field.id === 'email' && (field.email_valid != null || field.email_verified != null)) {
        const flags = h('p', { class: 'flags' });
        if (field.email_valid != null) {
          flags.append(badge(field.email_valid ? 'ok' : 'warn', t(field.email_valid ? 'email_valid' : 'email_invalid')));
        }
        if (field.email_verified != null) {
          flags.append(badge(field.email_verified ? 'ok' : 'warn', t(field.email_verified ? 'email_verified' : 'email_unverified')));
        }
        flags.id = `field-${field.id}-flags`;
        body.push(flags);
      }
      if (field.note) body.push(h('p', { class: 'hint', id: `field-${field.id}-note` }, pick(field.note)));
      break;
    }
    case 'agreed_empty': {
      if (field.entered) {
        body.push(h('p', { class: 'field-value', id: `field-${field.id}-entered` },
          field.entered, ' ', badge('entered', t('entered_badge'))));
        body.push(h('p', { class: 'hint' }, t('entered_note')));
      } else {
        body.push(h('p', { class: 'field-empty' }, t('empty_value')));
      }
      if (field.note) body.push(h('p', { class: 'hint', id: `field-${field.id}-note` }, pick(field.note)));
      if (field.enterable) {
        const form = enterForm(field, label, actions);
        if (field.entered) {
          body.push(h('details', { class: 'change' }, h('summary', {}, t('entered_change')), form));
        } else {
          body.push(form, h('p', { class: 'hint' }, t('entered_note')));
        }
      }
      break;
    }
    case 'needs_consent': {
      body.push(h('p', { class: 'hint' }, t('needs_consent_note')));
      if (field.note) body.push(h('p', { class: 'hint', id: `field-${field.id}-note` }, pick(field.note)));
      body.push(h('button', {
        id: `field-${field.id}-consent`,
        type: 'button',
        class: 'button-secondary button-small',
        'aria-label': t('ask_consent_label', { label }),
        data: { scope: field.scope },
        on: { click: (e) => actions.requestConsent([field.scope], e.currentTarget) },
      }, t('ask_consent')));
      break;
    }
    default:
      body.push(h('p', { class: 'hint' }, t('not_requested_note')));
  }
  return body;
}

function fieldItem(field, view, actions) {
  const label = pick(field.label) || field.id;
  const state = STATES.includes(field.state) ? field.state : 'not_requested';
  const stateKind = { agreed: 'ok', agreed_empty: 'empty', needs_consent: 'attention', not_requested: 'off' }[state];
  return h('li', { id: `field-${field.id}`, class: `field field-${state}`, data: { state: field.state } },
    h('div', { class: 'field-head' },
      h('span', { class: 'field-label' }, label),
      badge(stateKind, t(`state_${state}`))),
    h('div', { class: 'field-body' }, fieldBody(field, label, view, actions)));
}

export function renderProfile(view, actions) {
  const p = view.profile;
  if (!p) return;
  const nick = $('profile-nickname');
  setText(nick, p.nickname || t('no_nickname'));
  nick.classList.toggle('muted', !p.nickname);
  $('profile-default-nickname').hidden = !p.is_default_nickname;
  setText($('profile-member-id'), p.member_id);

  const img = $('profile-image');
  if (p.image && p.image.startsWith('data:image/')) {
    if (img.getAttribute('src') !== p.image) img.src = p.image;
    img.alt = t('profile_image_alt');
    img.hidden = false;
    $('profile-placeholder').hidden = true;
  } else {
    img.hidden = true;
    img.removeAttribute('src');
    $('profile-placeholder').hidden = false;
  }

  const connected = p.connected_at ? formatTime(new Date(p.connected_at)) || p.connected_at : '';
  setText($('profile-connected-at'), connected ? t('connected_at', { time: connected }) : '');
  $('profile-connected-at').hidden = !connected;
  setText($('profile-fetched-at'), t('fetched_at', { time: formatTime(new Date(p.fetched_at * 1000)) }));

  const requested = p.fields.filter((f) => f.state !== 'not_requested');
  const others = p.fields.filter((f) => f.state === 'not_requested');
  const sig = (f) => `${lang()}|${f.id === 'profile_image' ? Boolean(p.image) : ''}|${JSON.stringify(f)}`;
  keyedList($('fields'), requested, (f) => f.id, sig, (f) => fieldItem(f, view, actions));
  keyedList($('fields-nr'), others, (f) => f.id, sig, (f) => fieldItem(f, view, actions));
  $('fields-not-requested').hidden = others.length === 0;
  setText($('fields-not-requested-summary'), t('not_requested_summary', { n: others.length }));
}
