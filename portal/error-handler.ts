/**
 * The one place where error codes become HTTP status: every fastify instance of ours (the web
 * server and the control socket) installs it, so a code means the same status everywhere and no
 * 5xx leaks internals to a client.
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AccessErrorCode, PipelineErrorCode } from '../pipeline/index.ts';
import { PortalErrorCode } from './errors.ts';

/** HTTP status of each stable error code a request can end with, from the rooms' code tables; anything else is a 500. */
export const HTTP_STATUS_BY_CODE: Readonly<Record<string, number>> = {
  [PortalErrorCode.badArgument]: 400,
  [PortalErrorCode.badRequest]: 400,
  [PortalErrorCode.configInvalid]: 400,
  [PortalErrorCode.unauthenticated]: 401,
  [PortalErrorCode.forbidden]: 403,
  [PortalErrorCode.signInRefused]: 403,
  [PortalErrorCode.notFound]: 404,
  [PipelineErrorCode.sourceDisabled]: 409,
  [PortalErrorCode.locked]: 409,
  [PortalErrorCode.conflict]: 409,
  [PortalErrorCode.preconditionFailed]: 412,
  [PortalErrorCode.bodyTooLarge]: 413,
  [PortalErrorCode.rangeNotSatisfiable]: 416,
  [PortalErrorCode.unsupportedMediaType]: 415,
  [PortalErrorCode.rateLimited]: 429,
  [PortalErrorCode.cancelled]: 503,
  [PortalErrorCode.unavailable]: 503,
  // Access decisions (pipeline/projections/access): mistakes in the input, then conflicts with the current state.
  [AccessErrorCode.invalidName]: 400,
  [AccessErrorCode.reservedName]: 400,
  [AccessErrorCode.invalidEmail]: 400,
  [AccessErrorCode.invalidSshKey]: 400,
  [AccessErrorCode.privateKeyRefused]: 400,
  [AccessErrorCode.invalidTokenId]: 400,
  [AccessErrorCode.analystExists]: 409,
  [AccessErrorCode.emailInUse]: 409,
  [AccessErrorCode.sshKeyInUse]: 409,
  [AccessErrorCode.datasetRequired]: 409,
  [AccessErrorCode.analystNotFound]: 404,
  [AccessErrorCode.tokenNotFound]: 404,
};

/** Fastify's own error codes that are the client's fault, by the code we answer with. */
const FASTIFY_CODES: Readonly<Record<string, string>> = {
  FST_ERR_CTP_BODY_TOO_LARGE: PortalErrorCode.bodyTooLarge,
  FST_ERR_CTP_INVALID_MEDIA_TYPE: PortalErrorCode.unsupportedMediaType,
  FST_ERR_CTP_EMPTY_JSON_BODY: PortalErrorCode.badRequest,
  FST_ERR_CTP_INVALID_JSON_BODY: PortalErrorCode.badRequest,
  FST_ERR_VALIDATION: PortalErrorCode.badRequest,
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
  if (e?.validation) code = PortalErrorCode.badRequest;
  if (e?.statusCode === 429) code = PortalErrorCode.rateLimited;
  let status = code ? HTTP_STATUS_BY_CODE[code] : undefined;
  // Errors of fastify plugins that set a 4xx status themselves (e.g. CSRF) keep it.
  if (status === undefined && typeof e?.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) status = e.statusCode;
  if (status === undefined || status >= 500) {
    return { status: status ?? 500, body: { code: status ? code! : PortalErrorCode.internal, message: status ? String(e?.message ?? code) : 'internal error; the server log has the details', ...(requestId ? { requestId } : {}) } };
  }
  return { status, body: { code: code ?? PortalErrorCode.badRequest, message: String(e?.message ?? code), ...(requestId ? { requestId } : {}) } };
}

/** Installs the error handler (and a JSON 404) on a fastify instance. */
export function installErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError, req: FastifyRequest, reply: FastifyReply) => {
    const { status, body } = errorResponse(err, req.id);
    if (status >= 500) req.log.error({ err }, 'request failed');
    void reply.code(status).type('application/json').send(body);
  });
  app.setNotFoundHandler((req: FastifyRequest, reply: FastifyReply) => {
    void reply.code(404).type('application/json').send({ code: PortalErrorCode.notFound, message: `${req.method} ${req.url.split('?')[0]} is not a route of this server` } satisfies ErrorBody);
  });
}
