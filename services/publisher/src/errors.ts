/**
 * The one catalogue of HTTP problems the publisher answers with (RFC 9457
 * application/problem+json). Titles and details are fixed, client-safe texts; the
 * original error goes only to the log.
 */
export const PROBLEMS = {
  malformed_json: { status: 400, title: 'Malformed request', detail: 'The request body is not valid JSON.', kind: 'validation' },
  bad_request: { status: 400, title: 'Bad request', detail: 'The request could not be understood.', kind: 'validation' },
  invalid_idempotency_key: {
    status: 400,
    title: 'Invalid Idempotency-Key',
    detail: 'Idempotency-Key must be 1 to 128 visible ASCII characters.',
    kind: 'validation',
  },
  invalid_token: {
    status: 401,
    title: 'Unauthorized',
    detail: 'A valid service token is required (Authorization: Bearer <token>).',
    kind: 'auth',
  },
  missing_scope: { status: 403, title: 'Forbidden', detail: 'The token lacks the scope this request needs.', kind: 'authz' },
  tenant_not_allowed: { status: 403, title: 'Forbidden', detail: 'The token is not allowed to publish to this tenant.', kind: 'authz' },
  not_found: { status: 404, title: 'Not found', detail: 'No such resource.', kind: undefined },
  method_not_allowed: { status: 405, title: 'Method not allowed', detail: 'This method is not allowed here.', kind: undefined },
  payload_too_large: { status: 413, title: 'Payload too large', detail: 'The request body exceeds the size limit.', kind: 'limit' },
  unsupported_media_type: {
    status: 415,
    title: 'Unsupported media type',
    detail: 'Content-Type must be application/json.',
    kind: 'validation',
  },
  validation_failed: { status: 422, title: 'Validation failed', detail: 'The request does not match the schema.', kind: 'validation' },
  data_too_deep: { status: 422, title: 'Data too deep', detail: 'data is nested deeper than allowed.', kind: 'validation' },
  data_too_many_keys: { status: 422, title: 'Data has too many keys', detail: 'data has more keys than allowed.', kind: 'validation' },
  data_too_large: { status: 422, title: 'Data too large', detail: 'data is larger than allowed once serialised.', kind: 'validation' },
  invalid_data_key: {
    status: 422,
    title: 'Invalid data key',
    detail: 'A key in data is empty or collides with another key after sanitisation.',
    kind: 'validation',
  },
  ttl_too_long: { status: 422, title: 'TTL too long', detail: 'ttl_s exceeds the stream retention.', kind: 'validation' },
  rate_limited: { status: 429, title: 'Too many requests', detail: 'The tenant publish rate limit was exceeded.', kind: 'rate_limit' },
  internal: { status: 500, title: 'Internal error', detail: 'The request could not be processed.', kind: undefined },
  unavailable: {
    status: 503,
    title: 'Service unavailable',
    detail: 'Notifications cannot be stored right now; retry later with the same Idempotency-Key.',
    kind: undefined,
  },
} as const satisfies Record<string, { status: number; title: string; detail: string; kind: SecurityKind | undefined }>;

export type SecurityKind = 'auth' | 'authz' | 'validation' | 'limit' | 'rate_limit';
export type ProblemCode = keyof typeof PROBLEMS;

/** Base of the problem `type` URIs: a URN (RFC 9457 allows non-resolvable types); the codes are listed in docs/publishing.md. */
export const PROBLEM_TYPE_BASE = 'urn:herald:problem:';

export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  code: ProblemCode;
  detail: string;
  /** Present for validation problems: where in the request (a JSON pointer), never a value. */
  pointer?: string;
  retry_after_s?: number;
}

/** A refusal with a catalogue code; `cause` (logged, never sent) keeps the original. */
export class ProblemError extends Error {
  readonly status: number;
  constructor(
    readonly code: ProblemCode,
    opts: { cause?: unknown; detail?: string; pointer?: string; retryAfterS?: number } = {},
  ) {
    super(code, { cause: opts.cause });
    this.name = 'ProblemError';
    this.status = PROBLEMS[code].status;
    this.detail = opts.detail;
    this.pointer = opts.pointer;
    this.retryAfterS = opts.retryAfterS;
  }
  /** A safe override of the catalogue detail (built by us, from schema paths only). */
  readonly detail: string | undefined;
  readonly pointer: string | undefined;
  readonly retryAfterS: number | undefined;

  body(): ProblemBody {
    return problemBody(this.code, this);
  }
}

export function problemBody(code: ProblemCode, extra: { detail?: string | undefined; pointer?: string | undefined; retryAfterS?: number | undefined } = {}): ProblemBody {
  const p = PROBLEMS[code];
  const body: ProblemBody = { type: PROBLEM_TYPE_BASE + code.replaceAll('_', '-'), title: p.title, status: p.status, code, detail: extra.detail ?? p.detail };
  if (extra.pointer !== undefined) body.pointer = extra.pointer;
  if (extra.retryAfterS !== undefined) body.retry_after_s = extra.retryAfterS;
  return body;
}

export function securityKind(code: ProblemCode): SecurityKind | undefined {
  return PROBLEMS[code].kind;
}
