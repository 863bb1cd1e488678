import { ID_PATTERN, type Room } from './rooms.js';

/** Thrown when a value that would become part of a NATS subject is not a valid identifier. */
export class InvalidSubjectError extends Error {
  readonly code = 'INVALID_SUBJECT';
  constructor(what: string) {
    super(`invalid ${what} for a subject`);
    this.name = 'InvalidSubjectError';
  }
}

const PREFIX_PATTERN = /^[A-Za-z0-9_-]{1,64}(\.[A-Za-z0-9_-]{1,64}){0,3}$/;

function checkId(what: string, value: string): string {
  if (!ID_PATTERN.test(value)) throw new InvalidSubjectError(what);
  return value;
}

export function checkPrefix(prefix: string): string {
  if (!PREFIX_PATTERN.test(prefix)) throw new InvalidSubjectError('prefix');
  return prefix;
}

/** Which subject space: `n` is where the publisher writes (the stream), `live` is the republished copy edges read. */
export type SubjectSpace = 'n' | 'live';

/**
 * The only place NATS subjects are built. Every identifier is checked against
 * ID_PATTERN, so `.`, `*`, `>` and whitespace can never reach NATS; tenant rooms are
 * always scoped by the tenant given (the token's), never by client input.
 */
export function roomSubject(prefix: string, space: SubjectSpace, tenant: string, room: Room): string {
  checkPrefix(prefix);
  if (room.kind === 'global') return `${prefix}.${space}.global`;
  const t = checkId('tenant', tenant);
  switch (room.kind) {
    case 'user':
      return `${prefix}.${space}.t.${t}.u.${checkId('user', room.id)}`;
    case 'tenant':
      return `${prefix}.${space}.t.${t}.all`;
    case 'room':
      return `${prefix}.${space}.t.${t}.r.${checkId('room', room.id)}`;
  }
}

/** Wildcard covering a whole subject space, e.g. `herald.n.>` for the stream. */
export function spaceWildcard(prefix: string, space: SubjectSpace): string {
  return `${checkPrefix(prefix)}.${space}.>`;
}

/** Map a subject from one space to the other (`herald.live.x` ↔ `herald.n.x`). */
export function toSpace(prefix: string, subject: string, space: SubjectSpace): string {
  const other = space === 'n' ? 'live' : 'n';
  const from = `${prefix}.${other}.`;
  if (!subject.startsWith(from)) throw new InvalidSubjectError('subject');
  return `${prefix}.${space}.${subject.slice(from.length)}`;
}

/** Subject for control broadcasts (revocations) to all edges. */
export function controlSubject(prefix: string, name: 'revocations'): string {
  return `${checkPrefix(prefix)}.ctl.${name}`;
}

/** The tenant a room subject belongs to (`<prefix>.<space>.t.<tenant>.…`), or undefined (global, foreign). */
export function tenantOfSubject(prefix: string, subject: string): string | undefined {
  for (const space of ['live', 'n'] as const) {
    const head = `${prefix}.${space}.t.`;
    if (!subject.startsWith(head)) continue;
    const end = subject.indexOf('.', head.length);
    return end < 0 ? undefined : subject.slice(head.length, end);
  }
  return undefined;
}
