// Runs the selftest.js scenarios against the real ui/ in headless Chromium (skipped when there
// is no Chromium). `node --test tests/ui-preview/`
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const chromium = process.env.CHROMIUM || '/usr/bin/chromium';
const here = fileURLToPath(new URL('.', import.meta.url));
const skip = !existsSync(chromium) && `no Chromium at ${chromium}`;

// scenario -> fixture it starts from (extra query after &)
const SCENARIOS = {
  signin_cancel: 'signed_out',
  signin_prompts: 'signed_out',
  language: 'signed_out',
  fields: 'signed_in',
  enter_value: 'signed_in',
  logout_kakao: 'signed_in',
  logout_cancel_then_device: 'signed_in',
  unlink: 'signed_in',
  consents: 'signed_in',
  error: 'signed_out_error',
  offline: 'offline',
  no_keychain: 'no_keychain',
  restore: 'restoring&restore=signed_in',
  setup: 'unconfigured',
  setup_copy: 'unconfigured',
  diagnostics: 'signed_out',
  diagnostics_refused: 'signed_out',
  diagnostics_silent: 'signed_out',
  labels: 'signed_in_consents',
};

let server;
let base;

before(async () => {
  if (skip) return;
  server = spawn('python3', [join(here, 'serve.py'), '--port', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
  base = await new Promise((resolve, reject) => {
    server.stdout.on('data', (d) => {
      const m = /http:\/\/127\.0\.0\.1:(\d+)\//.exec(String(d));
      if (m) resolve(`http://127.0.0.1:${m[1]}/`);
    });
    server.on('exit', (c) => reject(new Error(`serve.py exited ${c}`)));
  });
});
after(() => server?.kill());

function dumpDom(url) {
  const profile = mkdtempSync(join(tmpdir(), 'ui-selftest-'));
  const args = [
    '--headless=new', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
    `--user-data-dir=${profile}`, '--window-size=520,900', '--virtual-time-budget=40000', '--dump-dom', url,
  ];
  return new Promise((resolve, reject) => {
    execFile(chromium, args, { timeout: 60000, maxBuffer: 16 << 20 }, (err, stdout) => {
      rmSync(profile, { recursive: true, force: true });
      if (err && !stdout) reject(err);
      else resolve(stdout);
    });
  });
}

const unescape = (s) => s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&amp;/g, '&');

for (const [name, state] of Object.entries(SCENARIOS)) {
  test(`window: ${name}`, { skip, concurrency: true }, async () => {
    const html = await dumpDom(`${base}?state=${state}&selftest=${name}`);
    const m = /<pre id="selftest-result">([\s\S]*?)<\/pre>/.exec(html);
    assert.ok(m, `no selftest result for ${name}`);
    const r = JSON.parse(unescape(m[1]));
    assert.equal(r.error, null, `${name}: ${r.error} (calls: ${r.calls.join(', ')})`);
    assert.equal(r.ok, true);
  });
}
