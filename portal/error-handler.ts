/**
 * The one place where error codes become HTTP status: every fastify instance of ours (the web
 * server and the control socket) installs it, so a code means the same status everywhere and no
 * 5xx leaks internals to a client.
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

/** HTTP status of each stable error code a request can end with; anything else is a 500. */
export const HTTP_STATUS_BY_CODE: Readonly<Record<string, number>> = {
  BAD_ARGUMENT: 400,
  BAD_REQUEST: 400,
  CONFIG_INVALID: 400,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  SIGN_IN_REFUSED: 403,
  NOT_FOUND: 404,
  SOURCE_DISABLED: 409,
  LOCKED: 409,
  CONFLICT: 409,
  PRECONDITION_FAILED: 412,
  BODY_TOO_LARGE: 413,
  RANGE_NOT_SATISFIABLE: 416,
  UNSUPPORTED_MEDIA_TYPE: 415,
  RATE_LIMITED: 429,
  CANCELLED: 503,
  UNAVAILABLE: 503,
  // Access decisions (pipeline/projections/access): mistakes in the input, then conflicts with the current state.
  INVALID_NAME: 400,
  RESERVED_NAME: 400,
  INVALID_EMAIL: 400,
  INVALID_SSH_KEY: 400,
  PRIVATE_KEY_REFUSED: 400,
  INVALID_TOKEN_ID: 400,
  ANALYST_EXISTS: 409,
  EMAIL_IN_USE: 409,
  SSH_KEY_IN_USE: 409,
  ANALYST_NOT_FOUND: 404,
  TOKEN_NOT_FOUND: 404,
};

/** Fastify's own error codes that are the client's fault, by the code we answer with. */
const FASTIFY_CODES: Readonly<Record<string, string>> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'BODY_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'BAD_REQUEST',
  FST_ERR_CTP_INVALID_JSON_BODY: 'BAD_REQUEST',
  FST_ERR_VALIDATION: 'BAD_REQUEST',
};

/** The body of every error answer. */
export interface ErrorBody {
  code: string;
  message: string;
  requestId?: string;
}

/** Status and body for an error: validation and client errors keep their message; 5xx say only that it failed. */
export function errorResponse(err: unknown, requestId?: string): { status: number; body: ErrorBody } {
  const e = err as Partial<FastifyError> & { code?: unknown; statusCode?: number; validation?: unknown };
  const raw = typeof e?.code === 'string' ? e.code : undefined;
  let code = raw ? (FASTIFY_CODES[raw] ?? raw) : undefined;
  if (e?.validation) code = 'BAD_REQUEST';
  if (e?.statusCode === 429) code = 'RATE_LIMITED';
  let status = code ? HTTP_STATUS_BY_CODE[code] : undefined;
  // Errors of fastify plugins that set a 4xx status themselves (e.g. CSRF) keep it.
  if (status === undefined && typeof e?.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) status = e.statusCode;
  if (status === undefined || status >= 500) {
    return { status: status ?? 500, body: { code: status ? code! : 'INTERNAL', message: status ? String(e?.message ?? code) : 'internal error; the server log has the details', ...(requestId ? { requestId } : {}) } };
  }
  return { status, body: { code: code ?? 'BAD_REQUEST', message: String(e?.message ?? code), ...(requestId ? { requestId } : {}) } };
}

/** Installs the error handler (and a JSON 404) on a fastify instance. */
export function installErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError, req: FastifyRequest, reply: FastifyReply) => {
    const { status, body } = errorResponse(err, req.id);
    if (status >= 500) req.log.error({ err }, 'request failed');
    void reply.code(status).type('application/json').send(body);
  });
  app.setNotFoundHandler((req: FastifyRequest, reply: FastifyReply) => {
    void reply.code(404).type('application/json').send({ code: 'NOT_FOUND', message: `${req.method} ${req.url.split('?')[0]} is not a route of this server` } satisfies ErrorBody);
  });
}
