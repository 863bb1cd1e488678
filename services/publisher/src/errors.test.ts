import { expect, it } from 'vitest';
import { PROBLEMS, ProblemError, problemBody } from './errors.js';
import { toProblem } from './app.js';

it('every catalogue entry yields an RFC 9457 body with a stable code and type', () => {
  for (const code of Object.keys(PROBLEMS) as Array<keyof typeof PROBLEMS>) {
    const b = problemBody(code);
    expect(b).toMatchObject({ code, status: PROBLEMS[code].status, title: PROBLEMS[code].title });
    expect(b.type).toBe(`urn:herald:problem:${code.replaceAll('_', '-')}`);
  }
});

it('never passes an internal message through', () => {
  const internal = toProblem(new Error('connect ECONNREFUSED 127.0.0.1:4222 nats secret'));
  expect(internal).toMatchObject({ status: 500, code: 'internal' });
  expect(JSON.stringify(internal)).not.toMatch(/ECONNREFUSED|nats|secret/);
  const wrapped = new ProblemError('unavailable', { cause: new Error('nats timeout'), retryAfterS: 2 }).body();
  expect(JSON.stringify(wrapped)).not.toContain('nats timeout');
  expect(wrapped.retry_after_s).toBe(2);
});
