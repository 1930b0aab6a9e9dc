// formatTime writes dates the way Intl.DateTimeFormat would (medium date, short time, ko-KR and
// en-US) without Intl, which would load ICU's formatting data into the web process.
import assert from 'node:assert/strict';
import { test } from 'node:test';

const root = new URL('../../', import.meta.url);
globalThis.document ??= { documentElement: {} }; // setLang marks <html lang>
const { setLang } = await import(new URL('ui/i18n.js', root));
const { formatTime } = await import(new URL('ui/views/profile.js', root));

const cases = [
  [new Date(2024, 5, 10, 6, 13), 'Jun 10, 2024, 6:13 AM', '2024. 6. 10. 오전 6:13'],
  [new Date(2024, 0, 5, 0, 7), 'Jan 5, 2024, 12:07 AM', '2024. 1. 5. 오전 12:07'],
  [new Date(2024, 11, 25, 12, 30), 'Dec 25, 2024, 12:30 PM', '2024. 12. 25. 오후 12:30'],
  [new Date(2024, 11, 25, 23, 59), 'Dec 25, 2024, 11:59 PM', '2024. 12. 25. 오후 11:59'],
];

test('formatTime: en-US and ko-KR medium date, short time, local time', () => {
  for (const [date, en, ko] of cases) {
    setLang('en');
    assert.equal(formatTime(date), en);
    setLang('ko');
    assert.equal(formatTime(date), ko);
  }
});

test('formatTime: no date, no text', () => {
  assert.equal(formatTime(new Date('not a date')), '');
  assert.equal(formatTime(null), '');
});
