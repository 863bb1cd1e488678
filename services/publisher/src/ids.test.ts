import { expect, it } from 'vitest';
import { isValidId } from '@herald/protocol';
import { idTime, newId } from './ids.js';

it('makes UUIDv7 ids that sort by time, also within one millisecond', () => {
  const ids = Array.from({ length: 5000 }, () => newId(1_700_000_000_000));
  expect(new Set(ids).size).toBe(5000);
  expect([...ids].sort()).toEqual(ids);
  for (const id of ids.slice(0, 10)) {
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(isValidId(id)).toBe(true);
  }
  expect(idTime(ids[0]!)).toBe(1_700_000_000_000);
  const later = newId(1_700_000_000_000 + 60_000);
  expect(later > ids.at(-1)!).toBe(true);
  // A clock step backwards does not break ordering.
  expect(newId(1_600_000_000_000) > later).toBe(true);
});
