/** Identifier rule for tenants, users and named rooms. */
export const ID_PATTERN = /^[A-Za-z0-9_-]{1,128}$/;

export function isValidId(value: unknown): value is string {
  return typeof value === 'string' && ID_PATTERN.test(value);
}

export type Room =
  | { readonly kind: 'user'; readonly id: string }
  | { readonly kind: 'tenant' }
  | { readonly kind: 'global' }
  | { readonly kind: 'room'; readonly id: string };

/**
 * Parse a client-visible room name (`user:<id>`, `tenant`, `global`, `room:<name>`).
 * Returns undefined for anything else, including ids outside ID_PATTERN.
 */
export function parseRoom(name: unknown): Room | undefined {
  if (typeof name !== 'string' || name.length > 140) return undefined;
  if (name === 'tenant') return { kind: 'tenant' };
  if (name === 'global') return { kind: 'global' };
  const colon = name.indexOf(':');
  if (colon < 0) return undefined;
  const prefix = name.slice(0, colon);
  const id = name.slice(colon + 1);
  if (!isValidId(id)) return undefined;
  if (prefix === 'user') return { kind: 'user', id };
  if (prefix === 'room') return { kind: 'room', id };
  return undefined;
}

export function formatRoom(room: Room): string {
  switch (room.kind) {
    case 'user':
      return `user:${room.id}`;
    case 'room':
      return `room:${room.id}`;
    default:
      return room.kind;
  }
}
