import { describe, expect, it } from 'vitest';
import {
  CloseCode,
  ERRORS,
  InvalidSubjectError,
  closeClass,
  closeCodeName,
  formatRoom,
  parseClientMessage,
  parseRoom,
  roomSubject,
  shouldReconnect,
  spaceWildcard,
  tenantOfSubject,
  toSpace,
} from './index.js';

describe('subjects', () => {
  it('builds one subject per room kind, scoped by tenant', () => {
    expect(roomSubject('herald', 'live', 'acme', { kind: 'user', id: '42' })).toBe('herald.live.t.acme.u.42');
    expect(roomSubject('herald', 'n', 'acme', { kind: 'tenant' })).toBe('herald.n.t.acme.all');
    expect(roomSubject('herald', 'live', 'acme', { kind: 'global' })).toBe('herald.live.global');
    expect(roomSubject('x.y', 'live', 'acme', { kind: 'room', id: 'ops' })).toBe('x.y.live.t.acme.r.ops');
  });

  it.each(['a.b', 'a*', '>', 'a b', '', 'x'.repeat(129), 'tab\t', 'ü', 'a\nb'])(
    'rejects identifier %j in every position',
    (bad) => {
      expect(() => roomSubject('herald', 'live', bad, { kind: 'user', id: '1' })).toThrow(InvalidSubjectError);
      expect(() => roomSubject('herald', 'live', 't', { kind: 'user', id: bad })).toThrow(InvalidSubjectError);
      expect(() => roomSubject('herald', 'live', 't', { kind: 'room', id: bad })).toThrow(InvalidSubjectError);
    },
  );

  it('rejects a bad prefix', () => {
    expect(() => roomSubject('her ald', 'live', 't', { kind: 'tenant' })).toThrow(InvalidSubjectError);
    expect(() => spaceWildcard('a.>', 'n')).toThrow(InvalidSubjectError);
  });

  it('reads the tenant back from a room subject', () => {
    expect(tenantOfSubject('herald', roomSubject('herald', 'live', 'acme', { kind: 'user', id: '1' }))).toBe('acme');
    expect(tenantOfSubject('a.b', roomSubject('a.b', 'n', 't-2', { kind: 'tenant' }))).toBe('t-2');
    expect(tenantOfSubject('herald', 'herald.live.global')).toBeUndefined();
    expect(tenantOfSubject('herald', 'other.live.t.acme.all')).toBeUndefined();
  });

  it('maps between spaces', () => {
    expect(spaceWildcard('herald', 'n')).toBe('herald.n.>');
    expect(toSpace('herald', 'herald.n.t.a.u.1', 'live')).toBe('herald.live.t.a.u.1');
    expect(toSpace('herald', 'herald.live.global', 'n')).toBe('herald.n.global');
    expect(() => toSpace('herald', 'other.n.global', 'live')).toThrow(InvalidSubjectError);
  });
});

describe('rooms', () => {
  it('parses and formats the four room kinds', () => {
    for (const name of ['user:42', 'tenant', 'global', 'room:ops-1']) {
      const room = parseRoom(name);
      expect(room).toBeDefined();
      expect(formatRoom(room!)).toBe(name);
    }
  });
  it.each(['user:', 'room:a.b', 'user:*', 'tenant:x', 'global:', 'foo:bar', 'room:a b', 42, null])('rejects %j', (bad) => {
    expect(parseRoom(bad)).toBeUndefined();
  });
});

describe('close codes', () => {
  it('classifies reconnect and fatal ranges', () => {
    expect(closeClass(CloseCode.SHUTDOWN)).toBe('reconnect');
    expect(closeClass(CloseCode.OVER_CAPACITY)).toBe('reconnect');
    expect(closeClass(CloseCode.AUTH_FAILED)).toBe('fatal');
    expect(closeClass(CloseCode.MESSAGE_TOO_BIG)).toBe('fatal');
    expect(shouldReconnect(CloseCode.SLOW_CONSUMER)).toBe(true);
    expect(shouldReconnect(CloseCode.REVOKED)).toBe(false);
    expect(shouldReconnect(1006)).toBe(true);
    expect(shouldReconnect(1000)).toBe(false);
    expect(closeCodeName(4001)).toBe('SLOW_CONSUMER');
    expect(closeCodeName(4999)).toBeUndefined();
  });

  it('has a client-safe text and matching close code for every close name', () => {
    for (const [name, code] of Object.entries(CloseCode)) {
      if (code < 4000) continue;
      const info = ERRORS[name as keyof typeof ERRORS];
      expect(info, name).toBeDefined();
      expect(info.close).toBe(code);
      expect(info.message).not.toMatch(/error|exception|stack|nats|jwt/i);
    }
  });
});

describe('client messages', () => {
  it('parses auth, resume and subscriptions', () => {
    expect(parseClientMessage('{"type":"auth","token":"abc"}')).toEqual({ type: 'auth', token: 'abc' });
    expect(parseClientMessage('{"type":"auth","token":"abc","resume":17}')).toEqual({ type: 'auth', token: 'abc', resume: 17 });
    expect(parseClientMessage('{"type":"subscribe","room":"room:x"}')).toEqual({ type: 'subscribe', room: 'room:x' });
  });
  it.each([
    'not json',
    '[]',
    'null',
    '{"type":"auth"}',
    '{"type":"auth","token":""}',
    '{"type":"auth","token":"a","resume":-1}',
    '{"type":"auth","token":"a","resume":"5"}',
    '{"type":"auth","token":"a","resume":1.5}',
    '{"type":"subscribe"}',
    '{"type":"publish","room":"x"}',
  ])('rejects %s', (text) => {
    expect(parseClientMessage(text)).toBeUndefined();
  });
});
