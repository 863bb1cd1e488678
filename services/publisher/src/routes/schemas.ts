import { Type, type Static } from '@sinclair/typebox';

/**
 * Request and response schemas. The routes validate with them and /openapi.json is
 * generated from them, so the document cannot drift from what the API accepts.
 */
export const ID = '^[A-Za-z0-9_-]{1,128}$';
export const EVENT = '^[a-z0-9][a-z0-9._-]{0,63}$';
export const ROOM = '^(tenant|global|user:[A-Za-z0-9_-]{1,128}|room:[A-Za-z0-9_-]{1,128})$';

export const Notification = Type.Object(
  {
    tenant: Type.String({ pattern: ID, description: 'Tenant the notification belongs to; must be allowed by the token.' }),
    room: Type.String({
      pattern: ROOM,
      description: '`user:<id>`, `tenant` (tenant admins), `global` (needs notify:global) or `room:<name>`.',
      examples: ['user:42'],
    }),
    event: Type.String({ pattern: EVENT, description: 'Event name, e.g. `order.shipped`.', examples: ['order.shipped'] }),
    data: Type.Object({}, {
      additionalProperties: true,
      description: 'Event payload. String values and keys are trimmed and HTML-sanitised; depth, key count and size are bounded.',
    }),
    ttl_s: Type.Optional(Type.Integer({ minimum: 1, description: 'Keep in the stream (resume window) for at most this many seconds.' })),
  },
  { additionalProperties: false, title: 'Notification' },
);
export type NotificationBody = Static<typeof Notification>;

export const Accepted = Type.Object(
  {
    id: Type.Union([Type.String(), Type.Null()], { description: 'Notification id (UUIDv7, time-ordered). null only if a retried original has already left the stream.' }),
    seq: Type.Integer({ description: 'JetStream sequence; the client resume cursor.' }),
    sanitized: Type.Integer({ description: 'How many string values or keys sanitisation changed.' }),
    duplicate: Type.Optional(Type.Boolean({ description: 'True when this answers a retry with a known Idempotency-Key.' })),
  },
  { title: 'Accepted', description: 'Stored in the stream (PubAck received); delivered live and available for resume.' },
);

export const Problem = Type.Object(
  {
    type: Type.String(),
    title: Type.String(),
    status: Type.Integer(),
    code: Type.String({ description: 'Stable machine-readable code; see docs/publishing.md.' }),
    detail: Type.String(),
    pointer: Type.Optional(Type.String({ description: 'JSON pointer to the offending part of the request.' })),
    retry_after_s: Type.Optional(Type.Integer()),
  },
  { title: 'Problem', description: 'RFC 9457 problem details' },
);

export const BatchItemResult = Type.Union([
  Type.Object({ index: Type.Integer(), status: Type.Literal(202), id: Type.Union([Type.String(), Type.Null()]), seq: Type.Integer(), sanitized: Type.Integer(), duplicate: Type.Optional(Type.Boolean()) }),
  Type.Object({ index: Type.Integer(), status: Type.Integer(), problem: Problem }),
]);

export const BatchResult = Type.Object(
  {
    accepted: Type.Integer(),
    rejected: Type.Integer(),
    results: Type.Array(BatchItemResult),
  },
  { title: 'BatchResult', description: 'Per-item results in request order; each item is accepted (202) or carries its own problem.' },
);

/** The batch as documented: every item is a Notification. */
export function batchBody(max: number) {
  return Type.Object(
    { notifications: Type.Array(Notification, { minItems: 1, maxItems: max }) },
    { additionalProperties: false, title: 'Batch' },
  );
}

/**
 * The batch as the route validates it: the envelope only. Items are validated one by
 * one with the Notification schema, so one bad item does not fail the others.
 */
export function batchEnvelope(max: number) {
  return Type.Object(
    { notifications: Type.Array(Type.Object({}, { additionalProperties: true }), { minItems: 1, maxItems: max }) },
    { additionalProperties: false },
  );
}

export const IdempotencyHeaders = Type.Object({
  'idempotency-key': Type.Optional(
    Type.String({
      pattern: '^[\\x21-\\x7e]{1,128}$',
      description: 'Retries with the same key (per tenant, within the duplicate window) return the original result and are not delivered twice.',
    }),
  ),
});

export function problemResponses(codes: number[]) {
  return Object.fromEntries(
    codes.map((c) => [c, { description: String(c), content: { 'application/problem+json': { schema: Problem } } }]),
  );
}
