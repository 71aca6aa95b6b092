/**
 * The control socket of a running `ada serve`: a fastify instance on a Unix socket in the data
 * directory (mode 600) through which other `ada` commands append events, run syncs, manage
 * analysts and read health while the server holds the log's writer lock. Only local users with
 * access to the data directory can reach it.
 */
import { chmod, mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import Fastify from 'fastify';
import type { FastifyBaseLogger, FastifyRequest } from 'fastify';
import { controlSocketPath } from '../../pipeline/index.ts';
import type { AddAnalystInput, AnalystsApi, Broker } from '../../pipeline/index.ts';
import type { NewEvent } from '../../events/index.ts';
import { errorResponse, HTTP_STATUS_BY_CODE, installErrorHandler } from '../../portal/index.ts';
import { SOURCE_HEADER } from './source-header.ts';
import { SYNC_STREAM_TYPE } from './sync-client.ts';
import type { SyncStreamLine } from './sync-client.ts';

/** Largest request the control socket reads: events are small; a batch of a few hundred fits. */
const MAX_BODY_BYTES = 4 * 1024 * 1024;

/** What the control socket forwards to: the running broker's API. */
export type ControlHandlers = Pick<Broker, 'append' | 'sync' | 'health' | 'analystsFor'>;

// Its own file, so the client (every command that may talk to a running server) does not load fastify and the portal.
export { SOURCE_HEADER } from './source-header.ts';

/** HTTP status of a refusal the broker decided (a conflict or bad input of its own vocabulary, e.g. `ANALYST_EXISTS`). */
const REFUSED = 422;

const name = { type: 'string', minLength: 1, maxLength: 200 } as const;
const schemas = {
  events: {
    body: {
      type: 'object', required: ['events'], additionalProperties: false,
      properties: {
        events: {
          type: 'array', maxItems: 10_000,
          items: {
            type: 'object', required: ['type', 'v', 'data'], additionalProperties: false,
            properties: { type: name, v: { type: 'integer', minimum: 1 }, data: { type: 'object' }, key: { type: 'string', maxLength: 1000 }, source: { type: 'string', maxLength: 200 } },
          },
        },
      },
    },
  },
  sync: { body: { type: 'object', required: ['tables'], additionalProperties: false, properties: { tables: { type: 'array', items: name, maxItems: 10_000 } } } },
  addAnalyst: {
    body: {
      type: 'object', required: ['name', 'role'], additionalProperties: false,
      properties: { name, role: { type: 'string', enum: ['analyst', 'privileged', 'admin'] }, email: { type: 'string', maxLength: 1000 }, sshKey: { type: 'string', maxLength: 20_000 } },
    },
  },
  analyst: { params: { type: 'object', required: ['name'], properties: { name } } },
  revoke: { params: { type: 'object', required: ['name'], properties: { name } }, body: { type: 'object', additionalProperties: false, properties: { tokenId: name } } },
  sshKey: { params: { type: 'object', required: ['name'], properties: { name } }, body: { type: 'object', additionalProperties: false, properties: { sshKey: { type: 'string', maxLength: 20_000 } } } },
  subscription: { params: { type: 'object', required: ['name'], properties: { name } }, body: { type: 'object', required: ['dataset', 'subscribe'], additionalProperties: false, properties: { dataset: { type: 'string', minLength: 1, maxLength: 200 }, subscribe: { type: 'boolean' } } } },
  source: { type: 'object', required: [SOURCE_HEADER], properties: { [SOURCE_HEADER]: { type: 'string', pattern: '^[a-z][a-z0-9:-]{0,63}$' } } },
} as const;

/** Lets a refusal in the broker's own vocabulary reach the client with its code and message (not as a 500). */
function refusal(err: unknown): unknown {
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && !(code in HTTP_STATUS_BY_CODE) && !code.startsWith('FST_') && (err as { details?: unknown }).details !== undefined) {
    (err as { statusCode?: number }).statusCode = REFUSED;
  }
  return err;
}

async function answer<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    throw refusal(err);
  }
}

/** Starts the control server; the returned function stops it and removes the socket. */
export async function startControlServer(dataDir: string, handlers: ControlHandlers, options: { logger?: FastifyBaseLogger } = {}): Promise<() => Promise<void>> {
  const socket = controlSocketPath(dataDir);
  await mkdir(path.dirname(socket), { recursive: true, mode: 0o700 });
  // A socket left by a killed server: this process holds the log lock, so no server owns it.
  await rm(socket, { force: true });
  // Syncs can take long and the socket is local: no request timeout; a shutdown closes what is open.
  // Strict validation: fastify's defaults would turn `"orders"` into `["orders"]` and drop unknown keys silently.
  const app = Fastify({ bodyLimit: MAX_BODY_BYTES, requestTimeout: 0, forceCloseConnections: true, ajv: { customOptions: { coerceTypes: false, removeAdditional: false } }, ...(options.logger ? { loggerInstance: options.logger } : { logger: false }) });
  installErrorHandler(app);
  app.get('/health', () => answer(() => handlers.health()));
  app.post<{ Body: { events: NewEvent[] } }>('/events', { schema: schemas.events }, async (req) => ({ results: await answer(() => handlers.append(req.body.events)) }));
  app.post<{ Body: { tables: string[] } }>('/sync', { schema: schemas.sync }, async (req, reply) => {
    const request = { tables: req.body.tables, trigger: 'api', by: 'ada sync (via control socket)' } as const;
    if (!String(req.headers.accept ?? '').includes(SYNC_STREAM_TYPE)) return { outcomes: await answer(() => handlers.sync(request)) };
    // Streamed (the thin `ada sync`, ops/control/sync-client.ts): a JSON line per progress step, then the outcomes or the error.
    const stream = new PassThrough();
    const line = (l: SyncStreamLine): void => void stream.write(`${JSON.stringify(l)}\n`);
    handlers.sync({ ...request, onProgress: (progress) => line({ progress }) }).then(
      (outcomes) => line({ outcomes }),
      (err: unknown) => {
        const { status, body } = errorResponse(refusal(err), req.id);
        if (status >= 500) req.log.error({ err }, 'sync failed');
        line({ error: { status, code: body.code, message: body.message } });
      },
    ).finally(() => stream.end());
    return reply.type(SYNC_STREAM_TYPE).send(stream);
  });
  const analysts = (req: FastifyRequest): AnalystsApi => handlers.analystsFor(req.headers[SOURCE_HEADER] as string);
  app.get('/analysts', { schema: { headers: schemas.source } }, async (req) => ({ analysts: await answer(() => analysts(req).list()) }));
  app.post<{ Body: AddAnalystInput }>('/analysts', { schema: { ...schemas.addAnalyst, headers: schemas.source } }, (req) => answer(() => analysts(req).add(req.body)));
  app.delete<{ Params: { name: string } }>('/analysts/:name', { schema: { ...schemas.analyst, headers: schemas.source } }, (req) => answer(() => analysts(req).remove(req.params.name)));
  app.post<{ Params: { name: string } }>('/analysts/:name/tokens', { schema: { ...schemas.analyst, headers: schemas.source } }, (req) => answer(() => analysts(req).issueToken(req.params.name)));
  app.post<{ Params: { name: string }; Body: { dataset: string; subscribe: boolean } }>('/analysts/:name/subscriptions', { schema: { ...schemas.subscription, headers: schemas.source } }, (req) => answer(() => analysts(req).subscribe(req.params.name, req.body.dataset, req.body.subscribe)));
  app.post<{ Params: { name: string }; Body: { sshKey?: string } }>('/analysts/:name/ssh-key', { schema: { ...schemas.sshKey, headers: schemas.source } }, (req) => answer(() => analysts(req).setSshKey(req.params.name, req.body?.sshKey)));
  app.post<{ Params: { name: string }; Body: { tokenId?: string } }>('/analysts/:name/tokens/revoke', { schema: { ...schemas.revoke, headers: schemas.source } }, (req) => answer(() => analysts(req).revokeTokens(req.params.name, req.body?.tokenId)));
  try {
    await app.listen({ path: socket });
    await chmod(socket, 0o600);
  } catch (err) {
    await app.close();
    await rm(socket, { force: true });
    throw err;
  }
  return async () => {
    await app.close();
    await rm(socket, { force: true });
  };
}
