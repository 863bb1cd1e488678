import type { RevocationSink } from './routes/revocations.js';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import swagger from '@fastify/swagger';
import { randomUUID } from 'node:crypto';
import { bearerToken, type ServicePrincipal, type ServiceTokenVerifier } from './auth.js';
import type { PublisherConfig } from './config.js';
import { ProblemError, problemBody, securityKind, type ProblemBody, type ProblemCode } from './errors.js';
import type { Logger } from './logger.js';
import type { PublisherMetrics } from './metrics.js';
import type { PublishDeps } from './publish.js';
import { routes } from './routes/index.js';
import { batchBody } from './routes/schemas.js';

declare module 'fastify' {
  interface FastifyRequest {
    principal: ServicePrincipal | null;
  }
}

export interface AppDeps extends PublishDeps {
  readonly log: Logger;
  readonly verify: ServiceTokenVerifier;
  readonly metrics: PublisherMetrics;
  /** Where revocations go; default KV + broadcast on NATS. */
  readonly revocations?: RevocationSink;
}

/** What a route needs from the app: authentication and the refusal path. */
export interface RouteContext {
  readonly deps: AppDeps;
  /** onRequest hook: verify the bearer service token before the body is read. */
  authenticate(req: FastifyRequest): Promise<void>;
  /** Count and log one refusal (security event + rejected_total); used for batch items too. */
  recordRefusal(req: FastifyRequest, code: ProblemCode, extra?: { tenant?: string; cause?: unknown; count?: number }): void;
}

/**
 * The public HTTP API. Schema validation, body limits, content-type checks and the
 * error path are Fastify's; this maps every failure to one catalogue problem.
 */
export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const { config, metrics } = deps;
  const log = deps.log.child({ component: 'http' });
  const app = Fastify({
    loggerInstance: log as FastifyBaseLogger,
    // No per-request log lines on the hot path; refusals are logged as security events.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: config.limits.bodyLimit,
    trustProxy: config.trustProxy,
    genReqId: () => randomUUID(),
    return503OnClosing: true,
    // Slow or stalled clients cannot hold sockets: whole request within 15 s; keep-alive
    // longer than the usual 60 s load-balancer idle timeout so the LB closes first.
    requestTimeout: 15_000,
    keepAliveTimeout: 65_000,
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'error',
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, useDefaults: false, allErrors: false } },
  });
  app.decorateRequest('principal', null);
  // JSON only: drop Fastify's text/plain parser so anything else is a 415.
  app.removeContentTypeParser('text/plain');

  const ctx: RouteContext = {
    deps,
    async authenticate(req) {
      const token = bearerToken(req.headers.authorization);
      if (!token) throw new ProblemError('invalid_token', { cause: new Error('no bearer token') });
      req.principal = await deps.verify(token);
    },
    recordRefusal(req, code, extra = {}) {
      metrics.rejected.inc({ reason: code }, extra.count ?? 1);
      const kind = securityKind(code);
      if (!kind) return;
      metrics.securityEvents.inc({ kind });
      log.warn(
        {
          event: 'security',
          kind,
          reason: code,
          ip: req.ip,
          tenant: extra.tenant,
          sub: req.principal?.sub,
          route: req.routeOptions.url,
          reqId: req.id,
          ...(extra.count !== undefined ? { count: extra.count } : {}),
          ...(extra.cause ? { cause: causeText(extra.cause) } : {}),
        },
        'request refused',
      );
    },
  };

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Herald publisher API',
        version: '1.0.0',
        description: 'Publish notifications to Herald rooms. See docs/publishing.md.',
      },
      components: { securitySchemes: { serviceToken: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } },
      security: [{ serviceToken: [] }],
    },
    // The batch route validates its envelope only (items one by one); document the real item schema.
    transform: ({ schema, url }) =>
      url === '/v1/notifications/batch' && schema
        ? { schema: { ...schema, body: batchBody(config.limits.batchMax) } as typeof schema, url }
        : { schema, url },
  });

  app.setErrorHandler((err: FastifyError, req, reply) => {
    const problem = toProblem(err);
    const tenant = tenantOf(req.body);
    if (problem.code === 'internal' || problem.code === 'unavailable') {
      metrics.rejected.inc({ reason: problem.code });
      log.error({ err: problem.code === 'internal' ? err : undefined, cause: causeText(err), reqId: req.id }, `request failed: ${problem.code}`);
    } else {
      ctx.recordRefusal(req, problem.code, { tenant, cause: err instanceof ProblemError ? err.cause : err.code ?? err.message });
    }
    return sendProblem(reply, problem);
  });
  app.setNotFoundHandler((req, reply) => {
    metrics.rejected.inc({ reason: 'not_found' });
    return sendProblem(reply, problemBody('not_found'));
  });
  app.addHook('onResponse', async (req, reply) => {
    metrics.requests.inc({ route: req.routeOptions.url ?? 'unmatched', status: String(reply.statusCode) });
  });

  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  for (const register of routes) await register(app, ctx);
  return app;
}

export function sendProblem(reply: FastifyReply, p: ProblemBody): FastifyReply {
  if (p.status === 401) reply.header('www-authenticate', 'Bearer');
  if (p.retry_after_s !== undefined) reply.header('retry-after', String(p.retry_after_s));
  return reply.code(p.status).type('application/problem+json').send(p);
}

/** Map any error to a catalogue problem; nothing of the original text reaches the client. */
export function toProblem(err: FastifyError | Error): ProblemBody {
  if (err instanceof ProblemError) return err.body();
  const e = err as FastifyError;
  if (e.validation) {
    const first = e.validation[0];
    if (e.validationContext === 'headers') return problemBody('invalid_idempotency_key');
    const pointer = `/${e.validationContext ?? 'body'}${first?.instancePath ?? ''}`;
    // ajv keyword and path only, never the value: e.g. "/body/event: must match pattern".
    const detail = first ? `${pointer}: does not satisfy ${first.keyword}${missing(first.params)}` : undefined;
    return problemBody('validation_failed', { pointer, detail });
  }
  switch (e.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return problemBody('payload_too_large');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return problemBody('unsupported_media_type');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return problemBody('malformed_json');
    default:
      break;
  }
  if (err instanceof SyntaxError || e.statusCode === 400) return problemBody(err instanceof SyntaxError ? 'malformed_json' : 'bad_request');
  if (e.statusCode === 413) return problemBody('payload_too_large');
  if (e.statusCode === 415) return problemBody('unsupported_media_type');
  if (e.statusCode === 404) return problemBody('not_found');
  if (e.statusCode === 405) return problemBody('method_not_allowed');
  if (e.statusCode === 503) return problemBody('unavailable');
  return problemBody('internal');
}

function missing(params: unknown): string {
  const p = params as { missingProperty?: unknown; additionalProperty?: unknown };
  if (typeof p?.missingProperty === 'string' && /^[a-z_]{1,32}$/.test(p.missingProperty)) return ` (missing ${p.missingProperty})`;
  return '';
}

function tenantOf(body: unknown): string | undefined {
  const t = (body as { tenant?: unknown } | undefined)?.tenant;
  return typeof t === 'string' && /^[A-Za-z0-9_-]{1,128}$/.test(t) ? t : undefined;
}

function causeText(c: unknown): string | undefined {
  if (c === undefined) return undefined;
  if (c instanceof Error) return `${c.name}: ${c.message}${c.cause ? ` <- ${causeText(c.cause)}` : ''}`;
  return String(c);
}
