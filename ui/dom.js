// Small DOM helpers. Values from the core (nicknames, emails, …) are user-controlled, so they
// only ever become text nodes or attribute values, never markup.

import { t } from './i18n.js';

/**
 * h('button', {id: 'x', class: 'a b', type: 'button', data: {state: 's'}, on: {click: f}}, 'text', child)
 * Any other attribute is set with setAttribute; `null`/`false` attributes are skipped.
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v == null || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k === 'data') for (const [dk, dv] of Object.entries(v)) el.dataset[dk] = String(dv);
    else if (k === 'on') for (const [ev, fn] of Object.entries(v)) el.addEventListener(ev, fn);
    else if (k === 'text') el.textContent = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) {
    if (c == null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

export const $ = (id) => document.getElementById(id);

/** Sets textContent only when it changed, so screen readers are not re-notified. */
export function setText(el, s) {
  if (el.textContent !== s) el.textContent = s;
}

/**
 * Replaces the children of `list` with one node per item, reusing the old node when the item's
 * signature is unchanged. This keeps half-typed input, open <details> and focus intact when an
 * unrelated part of the view changes.
 */
export function keyedList(list, items, keyOf, sigOf, build) {
  const old = new Map();
  for (const el of list.children) old.set(el.dataset.key, el);
  const next = items.map((item) => {
    const key = keyOf(item);
    const sig = sigOf(item);
    const prev = old.get(key);
    if (prev && prev.dataset.sig === sig) return prev;
    const el = build(item);
    el.dataset.key = key;
    el.dataset.sig = sig;
    return el;
  });
  // Only touch the DOM when something differs: replaceChildren would blur a focused input.
  const same = next.length === list.children.length && next.every((el, i) => list.children[i] === el);
  if (!same) list.replaceChildren(...next);
}

let toastTimer = 0;

/** A short polite message in the footer's live region. */
export function toast(message) {
  const el = $('toast');
  el.textContent = message;
  el.classList.add('visible');
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => {
    el.classList.remove('visible');
    el.textContent = '';
  }, 5000);
}

// Long enough for a permission check, short enough that a click never seems ignored.
export const CLIPBOARD_WAIT_MS = 1500;

/**
 * Writes `text` to the clipboard; false when there is none, it refuses, or it has not answered
 * within `ms`. A write can stay pending (no focus, a permission check that never returns), and a
 * person who clicked "copy" must then get the text another way, not a button that did nothing.
 */
export async function writeClipboard(text, ms = CLIPBOARD_WAIT_MS) {
  if (!navigator.clipboard?.writeText) return false;
  let timer;
  const silent = new Promise((resolve) => { timer = setTimeout(() => resolve(false), ms); });
  try {
    return await Promise.race([navigator.clipboard.writeText(text).then(() => true), silent]);
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}

/** Copies `text`; says whether it worked. */
export async function copyText(text) {
  const copied = await writeClipboard(text);
  toast(t(copied ? 'copied' : 'copy_failed'));
  return copied;
}

/** A row with a selectable value and a copy button (setup screen). */
export function copyRow(value) {
  const code = h('code', { class: 'uri' }, value);
  const button = h('button', {
    type: 'button',
    class: 'button-secondary button-small',
    'aria-label': t('copy_label', { what: value }),
    on: { click: () => copyText(value) },
  }, t('copy'));
  return h('li', { class: 'copy-row' }, code, button);
}
