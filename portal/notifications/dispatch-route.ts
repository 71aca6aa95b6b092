/** `POST /api/notifications`: an admin sends a custom notification to one user or everyone, as a NotificationDispatched event. */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Principal } from '../../pipeline/index.ts';
import type { NotificationLog } from './hub.ts';
import { isPrincipal } from './protocol.ts';
import type { Authenticate } from './protocol.ts';

/** The body of a dispatch. */
export interface DispatchBody {
  title: string;
  message: string;
  level?: 'info' | 'success' | 'warning' | 'error';
  /** One user's name; absent sends to everyone. */
  to?: string;
  /** A table it is about: then only those who may see the table receive it. */
  table?: string;
}

const errorSchema = {
  type: 'object',
  properties: { statusCode: { type: 'integer' }, error: { type: 'string' }, message: { type: 'string' } },
} as const;

const bodySchema = {
  type: 'object',
  required: ['title', 'message'],
  additionalProperties: false,
  properties: {
    title: { type: 'string', minLength: 1, maxLength: 200 },
    message: { type: 'string', minLength: 1, maxLength: 2_000 },
    level: { type: 'string', enum: ['info', 'success', 'warning', 'error'] },
    to: { type: 'string', minLength: 1, maxLength: 200 },
    table: { type: 'string', minLength: 1, maxLength: 200 },
  },
} as const;

/** The bearer token of a request, or undefined. */
function bearerToken(req: FastifyRequest): string | undefined {
  const header = req.headers.authorization;
  const m = typeof header === 'string' ? /^Bearer[ \t]+([^\s]+)[ \t]*$/i.exec(header) : null;
  return m?.[1];
}

function refuse(reply: FastifyReply, status: 401 | 403 | 500, message: string): FastifyReply {
  const error = status === 401 ? 'Unauthorized' : status === 403 ? 'Forbidden' : 'Internal Server Error';
  if (status === 401) reply.header('www-authenticate', 'Bearer');
  return reply.code(status).send({ statusCode: status, error, message });
}

/** Registers the dispatch route on `app`. */
export function registerDispatchRoute(app: FastifyInstance, deps: { log: NotificationLog; authenticate: Authenticate; bodyLimit: number }): void {
  const principals = new WeakMap<FastifyRequest, Principal>();
  app.post<{ Body: DispatchBody }>('/api/notifications', {
    bodyLimit: deps.bodyLimit,
    // Authenticate before the body is read, so nobody without a token learns anything from body errors.
    onRequest: async (req, reply) => {
      const token = bearerToken(req);
      if (token === undefined) return refuse(reply, 401, 'an admin token is required: Authorization: Bearer <token>');
      let principal: unknown;
      try {
        principal = await deps.authenticate({ token });
      } catch (err) {
        req.log.warn(`notifications: authenticate failed (${(err as { code?: string })?.code ?? (err as Error)?.name ?? 'error'})`);
        return refuse(reply, 500, 'authentication is unavailable, try again later');
      }
      if (!isPrincipal(principal)) return refuse(reply, 401, 'the token is not valid (unknown, revoked or expired)');
      if (principal.role !== 'admin') return refuse(reply, 403, 'only admins may send notifications');
      principals.set(req, { name: principal.name, role: principal.role });
      return undefined;
    },
    schema: {
      body: bodySchema,
      response: {
        200: { type: 'object', properties: { id: { type: 'string' }, position: { type: 'integer' } } },
        401: errorSchema,
        403: errorSchema,
        500: errorSchema,
      },
    },
  }, async (req, reply) => {
    const by = principals.get(req)!;
    const { title, message, level, to, table } = req.body;
    const result = await deps.log.append({
      type: 'NotificationDispatched', v: 1, source: 'portal:notifications',
      data: { id: randomUUID(), title, message, level: level ?? 'info', ...(to !== undefined ? { to } : {}), ...(table !== undefined ? { table } : {}), by: by.name },
    });
    // The event id is the notification id clients receive; position lets a caller correlate it.
    return reply.code(200).send({ id: result.id, position: result.position });
  });
}
