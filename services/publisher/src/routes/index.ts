import type { FastifyInstance } from 'fastify';
import type { RouteContext } from '../app.js';
import { notificationRoutes } from './notifications.js';
import { revocationRoutes } from './revocations.js';

export type RouteModule = (app: FastifyInstance, ctx: RouteContext) => Promise<void>;

/** Every API route module, in registration order. Revocations (issue 5) add theirs here. */
export const routes: readonly RouteModule[] = [notificationRoutes, revocationRoutes];
