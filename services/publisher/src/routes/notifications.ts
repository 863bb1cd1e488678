import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Ajv } from 'ajv';
import type { Static } from '@sinclair/typebox';
import type { RouteContext } from '../app.js';
import { requireScope, SCOPES } from '../auth.js';
import { ProblemError, problemBody, type ProblemBody, type ProblemCode } from '../errors.js';
import { publishNotification } from '../publish.js';
import { Accepted, batchEnvelope, BatchResult, IdempotencyHeaders, Notification, problemResponses, type NotificationBody } from './schemas.js';

type BatchItemResult =
  | { index: number; status: 202; id: string | null; seq: number; sanitized: number; duplicate?: boolean }
  | { index: number; status: number; problem: ProblemBody };

export async function notificationRoutes(app: FastifyInstance, ctx: RouteContext): Promise<void> {
  const { deps } = ctx;
  const { config } = deps;
  const authenticate = async (req: FastifyRequest) => {
    await ctx.authenticate(req);
    requireScope(req.principal!, SCOPES.publish);
  };

  app.post<{ Body: NotificationBody; Headers: Static<typeof IdempotencyHeaders> }>(
    '/v1/notifications',
    {
      onRequest: authenticate,
      schema: {
        summary: 'Publish one notification',
        description: 'Stored in the stream before the 202: a 202 means every connected client in the room will receive it or resume to it.',
        tags: ['notifications'],
        headers: IdempotencyHeaders,
        body: Notification,
        response: { 202: Accepted, ...problemResponses([400, 401, 403, 413, 415, 422, 429, 503]) },
      },
    },
    async (req, reply) => {
      const key = req.headers['idempotency-key'];
      // `s:` / `b:` keep single and batch keys apart: no single key can equal a batch item's.
      const out = await publishNotification(deps, req.principal!, req.body, key === undefined ? undefined : `s:${key}`);
      if (out.duplicate) reply.header('idempotent-replayed', 'true');
      return reply.code(202).send(out);
    },
  );

  // Items are validated one by one (same schema) so that a bad item is reported, not fatal.
  const ajv = new Ajv({ coerceTypes: false, removeAdditional: false, useDefaults: false, allErrors: false });
  const validItem = ajv.compile<NotificationBody>(Notification);

  app.post<{ Body: Static<ReturnType<typeof batchEnvelope>>; Headers: Static<typeof IdempotencyHeaders> }>(
    '/v1/notifications/batch',
    {
      onRequest: authenticate,
      bodyLimit: config.limits.batchBodyLimit,
      schema: {
        summary: 'Publish up to the configured maximum of notifications',
        description: 'Each item succeeds or fails on its own; results are in request order.',
        tags: ['notifications'],
        headers: IdempotencyHeaders,
        body: batchEnvelope(config.limits.batchMax),
        response: { 200: BatchResult, ...problemResponses([400, 401, 403, 413, 415, 422, 503]) },
      },
    },
    async (req, reply) => {
      if (!deps.bus.ready) throw new ProblemError('unavailable', { retryAfterS: config.retryAfterS });
      const key = req.headers['idempotency-key'];
      const refused = new Map<ProblemCode, number>();
      let retryAfter = 0;
      const results = await Promise.all(
        req.body.notifications.map(async (item, index): Promise<BatchItemResult> => {
          const at = `/notifications/${index}`;
          try {
            if (!validItem(item)) {
              const first = validItem.errors?.[0];
              throw new ProblemError('validation_failed', { pointer: `/body${at}${first?.instancePath ?? ''}`, detail: `/body${at}${first?.instancePath ?? ''}: does not satisfy ${first?.keyword ?? 'schema'}` });
            }
            const out = await publishNotification(deps, req.principal!, item, key === undefined ? undefined : `b:${key}#${index}`, `/body${at}`);
            return { index, status: 202, ...out };
          } catch (err) {
            const p = err instanceof ProblemError ? err.body() : problemBody('internal');
            if (!(err instanceof ProblemError)) req.log.error({ err }, 'batch item failed');
            refused.set(p.code, (refused.get(p.code) ?? 0) + 1);
            if (p.retry_after_s !== undefined) retryAfter = Math.max(retryAfter, p.retry_after_s);
            return { index, status: p.status, problem: p };
          }
        }),
      );
      // One security event per reason per batch (not per item), counted per item in metrics.
      for (const [code, count] of refused) {
        if (code === 'unavailable' || code === 'internal') deps.metrics.rejected.inc({ reason: code }, count);
        else ctx.recordRefusal(req, code, { count });
      }
      if (retryAfter > 0) reply.header('retry-after', String(retryAfter));
      const accepted = results.filter((r) => r.status === 202).length;
      return reply.code(200).send({ accepted, rejected: results.length - accepted, results });
    },
  );
}
