import { describe, expect, it } from 'vitest';
import { ProblemError } from './errors.js';
import { createSanitizer } from './sanitize.js';

const limits = { dataMaxDepth: 4, dataMaxKeys: 10, dataMaxBytes: 200 };
const none = createSanitizer({ allowedTags: [], allowedAttributes: {} }, limits);

function code(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return err instanceof ProblemError ? err.code : 'other';
  }
  return undefined;
}

describe('createSanitizer', () => {
  it('strips tags, trims, escapes, and counts changed strings (keys too)', () => {
    const r = none({ ' a ': ' <script>x()</script>ok ', b: ['<i>i</i>', 1, null, true], c: { d: 'fine' } });
    expect(r.data).toEqual({ a: 'ok', b: ['i', 1, null, true], c: { d: 'fine' } });
    expect(r.changed).toBe(3);
    expect(none({ s: 'Tom & Jerry <3' }).data).toEqual({ s: 'Tom &amp; Jerry &lt;3' });
  });

  it('leaves clean data untouched and returns a fresh object', () => {
    const input = { a: 'x', b: { c: [1, 'y'] } };
    const r = none(input);
    expect(r.changed).toBe(0);
    expect(r.data).toEqual(input);
    expect(r.data).not.toBe(input);
  });

  it('cannot be tricked into setting a prototype through a sanitised key', () => {
    const r = none({ '<b>__proto__</b>': { polluted: true } });
    expect(Object.getPrototypeOf(r.data)).toBe(null);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(JSON.stringify(r.data)).toBe('{"__proto__":{"polluted":true}}');
  });

  it('allows configured tags and attributes only', () => {
    const s = createSanitizer({ allowedTags: ['b', 'a'], allowedAttributes: { a: ['href'] } }, limits);
    expect(s({ x: '<b onclick="x()">b</b><a href="https://e.com" title="t">l</a><a href="javascript:alert(1)">j</a>' }).data.x).toBe(
      '<b>b</b><a href="https://e.com">l</a><a>j</a>',
    );
  });

  it('bounds depth, keys and size', () => {
    expect(code(() => none({ a: { b: { c: { d: 1 } } } }))).toBeUndefined();
    expect(code(() => none({ a: { b: { c: { d: { e: 1 } } } } }))).toBe('data_too_deep');
    expect(code(() => none({ a: [[[[1]]]] }))).toBe('data_too_deep');
    expect(code(() => none(Object.fromEntries(Array.from({ length: 11 }, (_, i) => [`k${i}`, i]))))).toBe('data_too_many_keys');
    expect(code(() => none({ s: 'x'.repeat(250) }))).toBe('data_too_large');
    expect(code(() => none({ '<b></b>': 1 }))).toBe('invalid_data_key');
    expect(code(() => none({ a: 1, ' a': 2 }))).toBe('invalid_data_key');
  });
});
