import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { DiscardPolicy, jetstream, jetstreamManager, RetentionPolicy, StorageType } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { controlSubject } from '@herald/protocol';
import type { RouteContext } from '../app.js';
import { requireScope, requireTenant, SCOPES } from '../auth.js';
import type { PublishBus } from '../bus/bus.js';
import { ProblemError } from '../errors.js';
import { ID, problemResponses } from './schemas.js';

/**
 * `POST /v1/revocations` (scope notify:revoke): end sessions now. The revocation is
 * stored in the NATS KV bucket `HERALD_REVOCATIONS` (every edge loads it at start and
 * watches it) and broadcast on `<prefix>.ctl.revocations`; edges close matching
 * connections with REVOKED (4503) within a second and refuse the tokens at connect
 * until `expires_in_s` has passed. By `sub` and by tenant it covers tokens issued up to
 * now (a later login works); by `jti` exactly that token.
 *
 * The record format and KV keys are the edge's (services/edge/src/revocations.ts).
 */

/** KV bucket (the edge's HERALD_REVOCATIONS_BUCKET default). */
export const REVOCATIONS_BUCKET = 'HERALD_REVOCATIONS';
/** The bucket's TTL and the longest revocation: no client token should live longer. */
export const REVOCATION_MAX_S = 7 * 24 * 3600;
const DEFAULT_EXPIRES_S = 24 * 3600;

export const RevocationBody = Type.Object(
  {
    tenant: Type.Optional(Type.String({ pattern: ID, description: 'Tenant. Alone: revoke every session of the tenant. Required with `sub`.' })),
    sub: Type.Optional(Type.String({ pattern: ID, description: 'User id: revoke every session of this user (tokens issued up to now).' })),
    jti: Type.Optional(Type.String({ minLength: 1, maxLength: 256, description: 'Token id: revoke exactly this token. Without `tenant` the service needs every tenant (`*`).' })),
    expires_in_s: Type.Optional(
      Type.Integer({ minimum: 1, maximum: REVOCATION_MAX_S, description: 'Refuse the tokens for this long; at least the longest client token lifetime. Default 86400.' }),
    ),
  },
  { additionalProperties: false, title: 'Revocation' },
);
type RevocationBodyT = Static<typeof RevocationBody>;

export const RevocationAccepted = Type.Object(
  {
    kind: Type.Union([Type.Literal('sub'), Type.Literal('jti'), Type.Literal('tenant')]),
    at: Type.Integer({ description: 'Revocation time (s since the epoch): tokens of this user/tenant issued up to it are refused.' }),
    until: Type.Integer({ description: 'When the revocation lapses (s since the epoch).' }),
  },
  { title: 'RevocationAccepted' },
);

export interface Revocation {
  kind: 'sub' | 'jti' | 'tenant';
  tenant?: string;
  sub?: string;
  jti?: string;
  at: number;
  until: number;
}

/** Where a revocation goes. NATS in production; an embedded mode can provide its own as `deps.revocations`. */
export interface RevocationSink {
  revoke(r: Revocation): Promise<void>;
}

function keyOf(r: Revocation): string {
  if (r.kind === 'sub') return `sub.${r.tenant}.${r.sub}`;
  if (r.kind === 'tenant') return `tenant.${r.tenant}`;
  return `jti.${createHash('sha256').update(r.jti!).digest('base64url')}`;
}

/**
 * KV put + broadcast over plain JetStream: a KV bucket is the stream `KV_<bucket>` on
 * `$KV.<bucket>.>`, one message per key, so this needs no extra client library.
 */
export class NatsRevocationSink implements RevocationSink {
  private ensured: Promise<void> | undefined;
  constructor(
    private readonly nc: () => NatsConnection | undefined,
    private readonly prefix: string,
    private readonly bucket = REVOCATIONS_BUCKET,
  ) {}

  private async ensureBucket(nc: NatsConnection): Promise<void> {
    const jsm = await jetstreamManager(nc);
    const name = `KV_${this.bucket}`;
    try {
      await jsm.streams.info(name);
      return;
    } catch {
      // Not there yet: create it the way a KV client would.
    }
    await jsm.streams.add({
      name,
      subjects: [`$KV.${this.bucket}.>`],
      retention: RetentionPolicy.Limits,
      storage: StorageType.File,
      max_msgs_per_subject: 1,
      discard: DiscardPolicy.New,
      max_age: REVOCATION_MAX_S * 1e9,
      allow_rollup_hdrs: true,
      deny_delete: true,
      allow_direct: true,
      num_replicas: 1,
    });
  }

  async revoke(r: Revocation): Promise<void> {
    const nc = this.nc();
    if (!nc || nc.isClosed()) throw new Error('NATS not connected');
    this.ensured ??= this.ensureBucket(nc).catch((err: unknown) => {
      this.ensured = undefined;
      throw err;
    });
    await this.ensured;
    const body = JSON.stringify(r);
    // Stored first (edges started later load it), then broadcast (running edges act at once).
    await jetstream(nc).publish(`$KV.${this.bucket}.${keyOf(r)}`, body);
    nc.publish(controlSubject(this.prefix, 'revocations'), body);
    await nc.flush();
  }
}

export async function revocationRoutes(app: FastifyInstance, ctx: RouteContext): Promise<void> {
  const { deps } = ctx;
  const bus = deps.bus as PublishBus & { connection?: NatsConnection | undefined };
  const sink: RevocationSink =
    deps.revocations ?? new NatsRevocationSink(() => bus.connection, deps.config.subjectPrefix, deps.config.revocationsBucket);
  const log = deps.log.child({ component: 'revocations' });

  app.post<{ Body: RevocationBodyT }>(
    '/v1/revocations',
    {
      onRequest: async (req: FastifyRequest) => {
        await ctx.authenticate(req);
        requireScope(req.principal!, SCOPES.revoke);
      },
      schema: {
        summary: 'Revoke client sessions by user, token id or tenant',
        description: 'Every edge closes matching connections with REVOKED (4503) within a second and refuses the tokens until the revocation lapses.',
        tags: ['revocations'],
        body: RevocationBody,
        response: { 202: RevocationAccepted, ...problemResponses([400, 401, 403, 415, 422, 503]) },
      },
    },
    async (req, reply) => {
      const b = req.body;
      const principal = req.principal!;
      let kind: Revocation['kind'];
      if (b.jti !== undefined) {
        if (b.sub !== undefined) throw new ProblemError('validation_failed', { pointer: '/body/sub', detail: '/body: give jti or sub, not both' });
        kind = 'jti';
        if (b.tenant !== undefined) requireTenant(principal, b.tenant);
        else if (principal.tenants !== '*') throw new ProblemError('tenant_not_allowed', { cause: new Error('jti revocation without tenant needs every tenant') });
      } else if (b.tenant === undefined) {
        throw new ProblemError('validation_failed', { pointer: '/body/tenant', detail: '/body: does not satisfy required (missing tenant)' });
      } else {
        requireTenant(principal, b.tenant);
        kind = b.sub !== undefined ? 'sub' : 'tenant';
      }
      const at = Math.floor(Date.now() / 1000);
      const r: Revocation = {
        kind,
        ...(b.tenant !== undefined ? { tenant: b.tenant } : {}),
        ...(b.sub !== undefined ? { sub: b.sub } : {}),
        ...(b.jti !== undefined ? { jti: b.jti } : {}),
        at,
        until: at + (b.expires_in_s ?? DEFAULT_EXPIRES_S),
      };
      try {
        await sink.revoke(r);
      } catch (err) {
        throw new ProblemError('unavailable', { cause: err, retryAfterS: deps.config.retryAfterS });
      }
      // An audit line: who revoked what (never the jti itself, which some systems treat as a secret).
      log.info({ event: 'security', kind: 'revocation', reason: `revoked by ${kind}`, ip: req.ip, tenant: r.tenant, sub: r.sub, service: principal.sub, until: r.until }, 'sessions revoked');
      return reply.code(202).send({ kind, at, until: r.until });
    },
  );
}
