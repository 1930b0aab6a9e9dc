// Cheap checks without a browser: `node --test tests/ui-preview/`
// - every string the window uses exists in Korean and English, with the same placeholders;
// - ui/ stays inside the CSP (no inline script, handler or style attribute) and never uses
//   innerHTML-like sinks;
// - the preview fixtures have exactly the shape of view.rs, so the preview shows what the
//   real core sends.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { test } from 'node:test';

const root = new URL('../../', import.meta.url);
const read = (p) => readFileSync(new URL(p, root), 'utf8');
const uiJs = ['ui/app.js', 'ui/dom.js', 'ui/i18n.js', ...readdirSync(new URL('ui/views/', root)).map((f) => `ui/views/${f}`)];

const { STRINGS } = await import(new URL('ui/i18n.js', root));

const placeholders = (s) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();

test('ko and en have the same keys, none empty, same placeholders', () => {
  const ko = Object.keys(STRINGS.ko).sort();
  const en = Object.keys(STRINGS.en).sort();
  assert.deepEqual(ko, en);
  for (const k of ko) {
    assert.ok(STRINGS.ko[k].trim(), `ko.${k} is empty`);
    assert.ok(STRINGS.en[k].trim(), `en.${k} is empty`);
    assert.deepEqual(placeholders(STRINGS.ko[k]), placeholders(STRINGS.en[k]), `placeholders of ${k}`);
  }
});

test('every key used by index.html and the scripts exists', () => {
  const used = new Set();
  for (const m of read('ui/index.html').matchAll(/data-i18n(?:-label)?="([^"]+)"/g)) used.add(m[1]);
  for (const f of uiJs) for (const m of read(f).matchAll(/\bt\('([a-z0-9_]+)'/g)) used.add(m[1]);
  // Keys built from the view's enums.
  for (const p of ['sign_in', 'consent', 'kakao_logout']) used.add(`waiting_title_${p}`).add(`waiting_body_${p}`);
  for (const s of ['agreed', 'agreed_empty', 'needs_consent', 'not_requested']) used.add(`state_${s}`);
  const missing = [...used].filter((k) => !(k in STRINGS.ko));
  assert.deepEqual(missing, []);
});

test('ui/ stays within the CSP and never writes markup from data', () => {
  const html = read('ui/index.html');
  assert.doesNotMatch(html, /<script(?![^>]*\bsrc=)[^>]*>/, 'inline <script>');
  assert.doesNotMatch(html, /\sstyle=/, 'style attribute');
  assert.doesNotMatch(html, /\son[a-z]+=/, 'inline event handler');
  assert.doesNotMatch(html, /(src|href)="(https?:)?\/\//, 'remote asset');
  for (const f of uiJs) {
    const js = read(f);
    assert.doesNotMatch(js, /innerHTML|outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function/, f);
  }
});

// ---- fixtures vs view.rs ----

const viewRs = new URL('src-tauri/core/src/session/view.rs', root);

function rustShapes(src) {
  const structs = {};
  for (const m of src.matchAll(/pub struct (\w+) \{([\s\S]*?)\n\}/g)) {
    structs[m[1]] = [...m[2].matchAll(/^\s*pub (\w+):/gm)].map((f) => f[1]).sort();
  }
  const enums = {};
  for (const m of src.matchAll(/pub enum (\w+) \{([\s\S]*?)\n\}/g)) {
    enums[m[1]] = [...m[2].matchAll(/^\s*([A-Z]\w*),/gm)].map((v) => v[1].replace(/(?<!^)([A-Z])/g, '_$1').toLowerCase());
  }
  return { structs, enums };
}

test('fixtures have exactly the shape of view.rs', { skip: !existsSync(viewRs) && 'view.rs not present' }, () => {
  const { structs, enums } = rustShapes(readFileSync(viewRs, 'utf8'));
  const keys = (o) => Object.keys(o).sort();
  const text = (v, where) => {
    assert.deepEqual(keys(v), ['en', 'ko'], `${where} is a Text`);
  };
  const dir = new URL('tests/ui-preview/fixtures/', root);
  const files = readdirSync(dir).filter((f) => f.endsWith('.json'));
  assert.ok(files.length >= 10);
  for (const f of files) {
    const v = JSON.parse(readFileSync(new URL(f, dir), 'utf8'));
    assert.deepEqual(keys(v), structs.SessionView, `${f}: SessionView keys`);
    assert.ok(enums.Status.includes(v.status), `${f}: status ${v.status}`);
    assert.ok(['ko', 'en'].includes(v.lang));
    if (v.waiting) {
      assert.deepEqual(keys(v.waiting), structs.WaitingView, `${f}: WaitingView`);
      assert.ok(enums.WaitPurpose.includes(v.waiting.purpose), `${f}: purpose`);
    }
    if (v.error) {
      assert.deepEqual(keys(v.error), structs.ErrorView, `${f}: ErrorView`);
      text(v.error.message, `${f}: error.message`);
      if (v.error.fix) text(v.error.fix, `${f}: error.fix`);
    }
    if (v.notice) text(v.notice, `${f}: notice`);
    if (v.profile) {
      assert.deepEqual(keys(v.profile), structs.ProfileView, `${f}: ProfileView`);
      assert.equal(typeof v.profile.member_id, 'string', 'member ids cross as strings');
      for (const fv of v.profile.fields) {
        assert.deepEqual(keys(fv), structs.FieldView, `${f}: FieldView ${fv.id}`);
        assert.ok(enums.FieldState.includes(fv.state), `${f}: state ${fv.state}`);
        text(fv.label, `${f}: ${fv.id}.label`);
        if (fv.note) text(fv.note, `${f}: ${fv.id}.note`);
      }
    }
    for (const c of v.consents ?? []) assert.deepEqual(keys(c), structs.ConsentView, `${f}: ConsentView ${c.id}`);
  }
});
