// A stand-in for window.__TAURI__ so the real ui/ runs in a plain browser. The preview server
// loads this classic script before ui/app.js (a module, so it runs later). Like the app, it
// answers `next_view` (the window's long poll) at once with the current view and then on each
// change: a command's answer or a change of its own (restore, a finished sign-in, …).
//
// Query parameters:
//   state=<fixture>     the SessionView to start from (fixtures/<name>.json), default signed_out
//   lang=ko|en          override the fixture's lang
//   restore=<fixture>   start in `restoring` and change to <fixture> 600 ms later (the real start-up)
//   complete=<ms>       after sign_in, emit completing and then signed_in after <ms>
//   click=#a,#b         click these elements once the window has rendered (open a dialog, …)
//   focus=#a            focus this element after the clicks (to see the focus ring)
//   selftest=<name>     also load selftest.js and run that scenario (browser.test.mjs)
// Every call is recorded in window.__mockCalls.
(function () {
  'use strict';
  const params = new URLSearchParams(location.search);
  const startName = params.get('restore') ? 'restoring' : params.get('state') || 'signed_out';
  const langOverride = params.get('lang');
  const waiters = new Set(); // pending next_view calls
  let seq = 0;
  const calls = [];
  window.__mockCalls = calls;
  if (params.get('selftest')) {
    const s = document.createElement('script');
    s.src = '/__preview/selftest.js';
    document.head.append(s);
  }
  let current = null;

  const clone = (v) => JSON.parse(JSON.stringify(v));
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  async function load(name) {
    const r = await fetch(`/__preview/fixtures/${name}.json`);
    if (!r.ok) throw new Error(`no fixture ${name}`);
    const v = await r.json();
    v.lang = current ? current.lang : langOverride || v.lang;
    if (current) v.sandbox = current.sandbox;
    return v;
  }
  // The session changed: wake every pending next_view.
  function emit(v) {
    current = v;
    seq += 1;
    for (const wake of waiters) wake();
    waiters.clear();
  }
  const fail = (kind, ko, en, code) => ({ kind, message: { ko, en }, fix: null, code: code || null });

  const ready = load(startName).then((v) => {
    current = v;
    if (params.get('restore')) {
      setTimeout(async () => emit(await load(params.get('restore'))), 600);
    }
  });

  let signedIn = null; // the signed-in view to come back to after a consent round-trip

  const handlers = {
    app_state: async () => current,
    next_view: async ({ after }) => {
      if (after === seq) await new Promise((resolve) => waiters.add(resolve));
      return { seq, view: current };
    },
    sign_in: async () => {
      const v = await load('waiting');
      const ms = Number(params.get('complete'));
      if (ms) {
        setTimeout(async () => {
          emit({ ...current, status: 'completing', waiting: null });
          await sleep(ms);
          emit(await load('signed_in'));
        }, ms);
      }
      return v;
    },
    cancel_sign_in: async () => {
      if (current.profile && current.waiting && current.waiting.purpose === 'consent') {
        return { ...signedIn, waiting: null };
      }
      return { ...(await load('signed_out')), sandbox: current.sandbox };
    },
    request_consent: async ({ scopes }) => {
      if (!Array.isArray(scopes) || scopes.length === 0) throw fail('invalid_argument', '동의 항목이 없습니다.', 'No consent item given.');
      signedIn = clone(current);
      // S12: the person cancels in the browser; the field stays NeedsConsent with a notice.
      setTimeout(() => emit({
        ...signedIn,
        notice: { ko: '추가 동의를 취소했습니다. 이 항목은 계속 "동의 필요"로 남습니다.', en: 'Additional consent was cancelled. The item stays "consent needed".' },
      }), 4000);
      return {
        ...current,
        status: 'waiting',
        waiting: { purpose: 'consent', redirect_uri: 'http://127.0.0.1:18682/callback', timeout_secs: 300 },
      };
    },
    refresh_profile: async () => {
      await sleep(400);
      return { ...current, profile: { ...current.profile, fetched_at: Math.floor(Date.now() / 1000) } };
    },
    load_consents: async () => {
      await sleep(300);
      return { ...current, consents: (await load('signed_in_consents')).consents };
    },
    withdraw_consent: async ({ scope }) => {
      const consents = (current.consents || []).map((c) => (c.id === scope ? { ...c, agreed: false, revocable: false } : c));
      const fields = current.profile.fields.map((f) => (f.scope === scope ? { ...f, state: 'needs_consent', value: null, entered: null, email_valid: null, email_verified: null } : f));
      return { ...current, consents, profile: { ...current.profile, fields } };
    },
    logout: async ({ kakaoAccount }) => {
      if (typeof kakaoAccount !== 'boolean') throw fail('invalid_argument', 'kakaoAccount가 없습니다.', 'kakaoAccount missing.');
      if (kakaoAccount) {
        setTimeout(async () => emit(await load('signed_out')), 5000);
        return load('waiting_kakao_logout');
      }
      return load('signed_out');
    },
    unlink: async () => load('signed_out'),
    set_entered_value: async ({ field, value }) => {
      const fields = current.profile.fields.map((f) => (f.id === field ? { ...f, entered: value } : f));
      return { ...current, profile: { ...current.profile, fields } };
    },
    set_language: async ({ lang }) => {
      if (lang !== 'ko' && lang !== 'en') throw fail('invalid_argument', '언어는 ko 또는 en입니다.', 'lang must be ko or en.');
      return { ...current, lang };
    },
    retry: async () => {
      await sleep(500);
      return load('signed_in');
    },
    diagnostics: async () => 'kakao-signin 0.1.0 (preview)\nstatus: ' + current.status + '\nsandbox: ' + current.sandbox,
    dismiss_error: async () => ({ ...current, error: null }),
  };

  window.__TAURI__ = {
    core: {
      async invoke(cmd, args) {
        await ready;
        calls.push({ cmd, args: args === undefined ? null : clone(args) });
        const handler = handlers[cmd];
        if (!handler) throw fail('unknown_command', `알 수 없는 명령: ${cmd}`, `Unknown command: ${cmd}`);
        const out = await handler(args || {});
        // A command that returns a view changed the session, as in the app.
        if (cmd !== 'app_state' && out && typeof out === 'object' && 'status' in out) emit(out);
        return clone(out);
      },
    },
  };

  // Scripted clicks for screenshots of dialogs and other interactive states.
  const clicks = (params.get('click') || '').split(',').filter(Boolean);
  const focus = params.get('focus');
  if (clicks.length || focus) {
    ready.then(async () => {
      await sleep(300);
      for (const sel of clicks) {
        const el = document.querySelector(sel);
        if (el) el.click();
        await sleep(300);
      }
      if (focus) document.querySelector(focus)?.focus();
    });
  }
})();
