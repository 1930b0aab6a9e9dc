// Behaviour checks of the real ui/ against the mock, run inside headless Chromium by
// browser.test.mjs (?selftest=<scenario>). Results land in <pre id="selftest-result"> as JSON,
// which the runner reads with --dump-dom.
(function () {
  'use strict';
  const params = new URLSearchParams(location.search);
  const name = params.get('selftest');
  const $ = (s) => document.querySelector(s);
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  const calls = () => window.__mockCalls;
  const last = (cmd) => [...calls()].reverse().find((c) => c.cmd === cmd);
  const shown = (sel) => { const el = $(sel); return Boolean(el) && el.getClientRects().length > 0; };
  const screen = () => [...document.querySelectorAll('main > [data-screen]')].filter((s) => !s.hidden).map((s) => s.dataset.screen).join(',');

  async function until(what, fn, ms = 6000) {
    const end = Date.now() + ms;
    for (;;) {
      try { if (fn()) return; } catch { /* not yet */ }
      if (Date.now() > end) throw new Error(`timed out waiting for ${what} (screen ${screen()})`);
      await sleep(50);
    }
  }
  function eq(a, b, what) {
    const ja = JSON.stringify(a); const jb = JSON.stringify(b);
    if (ja !== jb) throw new Error(`${what}: got ${ja}, want ${jb}`);
  }
  function ok(v, what) { if (!v) throw new Error(what); }
  const click = (sel) => { const el = $(sel); ok(el, `no ${sel}`); el.click(); };

  // Makes the clipboard give `answer()` to every write; returns the texts written.
  function stubClipboard(answer) {
    const written = [];
    Object.defineProperty(navigator, 'clipboard', {
      configurable: true,
      value: { writeText: (text) => { written.push(text); return answer(); } },
    });
    return written;
  }

  // Replaces the clipboard's answer, clicks "copy diagnostics" and checks the copied text.
  async function diagnosticsWith(answer) {
    await until('signed_out', () => screen() === 'signed_out');
    const written = stubClipboard(answer);
    click('#copy-diagnostics');
    await until('diagnostics called', () => last('diagnostics') && written.length === 1);
    ok(written[0].startsWith('kakao-signin'), `copied: ${written[0]}`);
  }

  const scenarios = {
    async signin_cancel() {
      await until('signed_out', () => screen() === 'signed_out');
      click('#signin');
      await until('waiting', () => screen() === 'waiting');
      eq(last('sign_in').args, { prompt: null }, 'sign_in args');
      eq($('#waiting-redirect-uri').textContent, 'http://127.0.0.1:18682/callback', 'redirect uri');
      ok($('#koe006-help').hidden, 'KOE006 help hidden at first');
      await until('KOE006 help after a few seconds', () => !$('#koe006-help').hidden, 12000);
      ok($('#waiting-progress').value > 0, 'progress shows time left');
      // The signed-in screen was laid out unseen while waiting (app.js warmSignedIn) and left
      // as it was: still hidden, not visible to anyone.
      const signedIn = document.querySelector('main > [data-screen="signed_in"]');
      ok(signedIn.hidden && !signedIn.classList.contains('prelayout'), 'signed-in screen still hidden');
      eq(getComputedStyle(signedIn).display, 'none', 'signed-in screen not displayed while waiting');
      click('#cancel-signin');
      await until('signed_out again', () => screen() === 'signed_out');
      ok(last('cancel_sign_in'), 'cancel_sign_in called');
    },
    async signin_prompts() {
      await until('signed_out', () => screen() === 'signed_out');
      click('#signin-other-account');
      await until('sign_in login', () => last('sign_in'));
      eq(last('sign_in').args, { prompt: 'login' }, 'use another account');
      click('#cancel-signin');
      await until('signed_out', () => screen() === 'signed_out');
      click('#signin-choose-account');
      await until('second sign_in', () => calls().filter((c) => c.cmd === 'sign_in').length === 2);
      eq(last('sign_in').args, { prompt: 'select_account' }, 'choose account');
    },
    async language() {
      await until('signed_out', () => screen() === 'signed_out');
      eq(document.documentElement.lang, 'ko', 'initial lang from the core');
      ok($('#signin').textContent.includes('카카오 로그인'), 'ko label');
      click('#lang-en');
      await until('set_language', () => last('set_language'));
      eq(last('set_language').args, { lang: 'en' }, 'set_language args');
      eq(document.documentElement.lang, 'en', 'html lang');
      ok($('#signin').textContent.includes('Login with Kakao'), 'en label');
      eq($('#lang-en').getAttribute('aria-pressed'), 'true', 'aria-pressed');
      ok(shown('#sandbox-banner') && $('#sandbox-banner').textContent.includes('Sandbox'), 'sandbox banner in en');
    },
    async fields() {
      await until('signed_in', () => screen() === 'signed_in');
      eq($('#profile-member-id').textContent, '4102937465123456789', 'member id kept exact');
      eq($('#field-email').dataset.state, 'agreed', 'email state');
      eq($('#field-name').dataset.state, 'needs_consent', 'name state');
      eq($('#field-birthday').dataset.state, 'agreed_empty', 'birthday state');
      eq($('#field-gender').dataset.state, 'not_requested', 'gender state');
      ok(!$('#fields-not-requested').open && $('#fields-not-requested').contains($('#field-gender')), 'not requested is collapsed');
      ok($('#field-email-flags'), 'email flags');
      click('#field-name-consent');
      await until('consent waiting', () => screen() === 'waiting');
      eq(last('request_consent').args, { scopes: ['name'] }, 'request_consent args');
      // The mock cancels in the browser: back to signed_in with a notice, not an error.
      await until('notice after cancel', () => screen() === 'signed_in' && shown('#notice'), 8000);
      ok(!shown('#error'), 'no error on consent cancel');
      eq($('#field-name').dataset.state, 'needs_consent', 'still needs consent');
    },
    async enter_value() {
      await until('signed_in', () => screen() === 'signed_in');
      const nasty = '<img src=x id=pwned>';
      $('#field-birthday-input').value = nasty;
      $('#field-birthday-save').focus();
      $('#field-birthday-save').click();
      await until('set_entered_value', () => last('set_entered_value'));
      eq(last('set_entered_value').args, { field: 'birthday', value: nasty }, 'set_entered_value args');
      await until('entered shown', () => $('#field-birthday-entered'));
      ok($('#field-birthday-entered').textContent.includes(nasty), 'shown as text');
      ok(!document.getElementById('pwned'), 'never parsed as markup');
      eq(document.activeElement && document.activeElement.id, 'field-birthday', 'focus stays on the row');
    },
    async logout_kakao() {
      await until('signed_in', () => screen() === 'signed_in');
      click('#logout');
      ok($('#logout-dialog').open, 'logout dialog open');
      ok($('#logout-dialog').textContent.includes('이 기기에서만'), 'says this device only');
      eq($('#logout-kakao-account').checked, false, 'unchecked by default');
      click('#logout-kakao-account');
      click('#logout-confirm');
      await until('logout', () => last('logout'));
      eq(last('logout').args, { kakaoAccount: true, forgetEntered: false }, 'logout args');
      ok(!$('#logout-dialog').open, 'dialog closed');
      await until('kakao logout wait', () => screen() === 'waiting' && $('#waiting-redirect-uri').textContent.endsWith('/logout'));
    },
    async logout_cancel_then_device() {
      await until('signed_in', () => screen() === 'signed_in');
      click('#logout');
      click('#logout-cancel');
      ok(!$('#logout-dialog').open, 'cancel closes');
      ok(!last('logout'), 'cancel does not log out');
      click('#logout');
      ok(!$('#logout-kakao-account').checked, 'checkbox reset when reopened');
      eq($('#logout-forget-entered').checked, false, 'forget unchecked by default');
      ok($('#logout-dialog').textContent.includes('직접 입력한 정보'), 'asks about what was typed in');
      click('#logout-forget-entered');
      click('#logout-confirm');
      await until('signed_out', () => screen() === 'signed_out');
      eq(last('logout').args, { kakaoAccount: false, forgetEntered: true }, 'device-only logout, forgetting');
    },
    async unlink() {
      await until('signed_in', () => screen() === 'signed_in');
      click('#unlink');
      ok($('#unlink-dialog').open, 'unlink dialog open');
      eq(document.activeElement && document.activeElement.id, 'unlink-cancel', 'focus starts on Cancel');
      ok($('#unlink-dialog').querySelectorAll('.delete-list li').length === 3, 'says what it deletes');
      click('#unlink-confirm');
      await until('signed_out', () => screen() === 'signed_out');
      ok(last('unlink'), 'unlink called');
    },
    async consents() {
      await until('signed_in', () => screen() === 'signed_in');
      ok(!shown('#consent-list'), 'consents hidden until loaded');
      click('#open-consents');
      await until('consents loaded', () => $('#consent-account_email'));
      ok(last('load_consents'), 'load_consents called');
      eq($('#consent-account_email').dataset.agreed, 'true', 'agreed');
      eq($('#consent-name').dataset.agreed, 'false', 'not agreed');
      ok(!$('#consent-profile_nickname-withdraw'), 'required item has no withdraw');
      click('#consent-account_email-withdraw');
      ok($('#withdraw-dialog').open, 'confirmation first');
      ok(!last('withdraw_consent'), 'nothing withdrawn before confirming');
      click('#withdraw-confirm');
      await until('withdrawn', () => $('#consent-account_email').dataset.agreed === 'false');
      eq(last('withdraw_consent').args, { scope: 'account_email' }, 'withdraw args');
      eq($('#field-email').dataset.state, 'needs_consent', 'field follows');
    },
    async error() {
      await until('error', () => shown('#error'));
      eq($('#error').dataset.kind, 'redirect_uri_not_registered', 'error kind');
      ok($('#error-message').textContent.length > 10, 'message');
      ok($('#error-fix').textContent.includes('http://127.0.0.1:18682/callback'), 'fix names the URI');
      ok($('#error-code').textContent.includes('KOE006'), 'code shown');
      click('#dismiss-error');
      await until('dismissed', () => !shown('#error'));
      ok(last('dismiss_error'), 'dismiss_error called');
    },
    async offline() {
      await until('offline', () => screen() === 'offline');
      click('#retry');
      await until('signed_in', () => screen() === 'signed_in');
      ok(last('retry'), 'retry called');
    },
    // No keychain: the core's words and fix are the screen (not the message box), in a live
    // region the heading points to; the fallback fix without an error; Retry asks the core.
    async no_keychain() {
      await until('no_keychain', () => screen() === 'no_keychain');
      ok(!shown('#error'), 'the error is on the screen, not in the box');
      ok(!shown('#signin'), 'no sign-in without a keychain');
      eq($('#no-keychain-detail').dataset.kind, 'keychain_unavailable', 'kind');
      eq($('#no-keychain-detail').getAttribute('role'), 'status', 'live region');
      ok($('#no-keychain-message').textContent.includes('기본 키링'), `message: ${$('#no-keychain-message').textContent}`);
      ok($('#no-keychain-fix').textContent.includes('gnome-keyring-daemon'), 'fix shown');
      const h1 = $('main > [data-screen="no_keychain"] h1');
      eq(h1.getAttribute('aria-describedby'), 'no-keychain-message no-keychain-fix', 'heading describes');
      click('#lang-en');
      await until('English', () => $('#no-keychain-fix').textContent.includes('make it the default'));
      ok(h1.textContent === 'No keychain to keep your sign-in', `title: ${h1.textContent}`);
      click('#retry-keychain');
      await until('signed_in after retry', () => screen() === 'signed_in');
      ok(last('retry'), 'retry called');
    },
    async restore() {
      await until('restoring', () => screen() === 'restoring');
      await until('signed_in after the change', () => screen() === 'signed_in', 4000);
    },
    async setup() {
      await until('setup', () => screen() === 'unconfigured');
      ok(shown('#setup'), '#setup');
      const uris = [...document.querySelectorAll('#setup-redirect-uris code')].map((c) => c.textContent);
      eq(uris.length, 3, 'three redirect URIs');
      ok(document.querySelectorAll('#setup-logout-uris code').length === 3, 'logout URIs');
      ok(!shown('#sandbox-banner'), 'no sandbox banner for a real setup');
    },
    // The three ways a clipboard answers, each pinned down: Chromium's own answer depends on
    // focus and load, and a test that accepts either outcome checks neither.
    async setup_copy() {
      await until('setup', () => screen() === 'unconfigured');
      const written = stubClipboard(() => new Promise(() => {}));
      click('#setup-redirect-uris button');
      await until('"could not copy" after the wait', () => /Could not copy|복사하지 못했습니다/.test($('#toast').textContent), 4000);
      eq(written, [$('#setup-redirect-uris code').textContent], 'copied the first redirect URI');
    },
    async diagnostics() {
      await diagnosticsWith(() => Promise.resolve());
      await until('copied toast', () => $('#toast').textContent.length > 0);
      ok(/clipboard|클립보드/.test($('#toast').textContent), `copied toast: ${$('#toast').textContent}`);
      ok(!$('#diagnostics-dialog').open, 'no dialog when copied');
    },
    async diagnostics_refused() {
      await diagnosticsWith(() => Promise.reject(new DOMException('Document is not focused.', 'NotAllowedError')));
      await until('dialog', () => $('#diagnostics-dialog').open);
      ok($('#diagnostics-text').value.startsWith('kakao-signin'), 'the dialog holds the diagnostics');
      eq($('#toast').textContent, '', 'no "copied" toast');
    },
    async diagnostics_silent() {
      const start = Date.now();
      await diagnosticsWith(() => new Promise(() => {}));
      await until('dialog after the wait', () => $('#diagnostics-dialog').open, 4000);
      ok(Date.now() - start >= 1000, 'waited for the clipboard first');
      ok($('#diagnostics-text').value.startsWith('kakao-signin'), 'the dialog holds the diagnostics');
    },
    async labels() {
      await until('signed_in', () => screen() === 'signed_in');
      await sleep(200);
      // Every control has an accessible name (text, aria-label or a label).
      const bad = [];
      for (const el of document.querySelectorAll('button, input, textarea, summary, [role=group]')) {
        const name = (el.getAttribute('aria-label') || el.textContent || '').trim()
          || (el.id && document.querySelector(`label[for="${el.id}"]`)?.textContent.trim())
          || el.closest('label')?.textContent.trim();
        if (!name) bad.push(el.id || el.outerHTML.slice(0, 60));
      }
      eq(bad, [], 'controls without a name');
    },
  };

  async function run() {
    const out = { scenario: name, ok: false, error: null };
    try {
      const fn = scenarios[name];
      if (!fn) throw new Error(`unknown scenario ${name}`);
      await fn();
      out.ok = true;
    } catch (e) {
      out.error = String(e && e.message ? e.message : e);
    }
    out.calls = calls().map((c) => c.cmd);
    const pre = document.createElement('pre');
    pre.id = 'selftest-result';
    pre.textContent = JSON.stringify(out);
    document.body.append(pre);
  }
  window.__selftestScenarios = Object.keys(scenarios);
  window.addEventListener('load', () => setTimeout(run, 100));
})();
