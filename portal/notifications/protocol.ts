/** The wire protocol of `GET /ws/notifications`: messages, close codes, and parsing of the client's auth message. */
import type { Principal } from '../../pipeline/projections/notifications/index.ts';

/** What a client may present: an API token (analysts, scripts) or a portal session id (the browser). */
export interface Credential {
  token?: string;
  session?: string;
}

/** Resolves a credential to a principal; undefined when it is unknown, expired or revoked. */
export type Authenticate = (credential: Credential) => Promise<Principal | undefined> | Principal | undefined;

/** The client's first message. */
export interface AuthMessage {
  type: 'auth';
  token?: string;
  session?: string;
  /** Last log position the client has seen: it first receives every notification after it. */
  since?: number;
}

/** The server's reply to a good auth message. */
export interface AuthOkMessage {
  type: 'auth_ok';
  user: string;
  role: Principal['role'];
  /** Head of the log when authenticated: live notifications follow it. */
  position: number;
  /** Where the replay started (the `since` asked for, or later when it was older than the resume window). */
  since?: number;
}

/** The server's reply to a refused auth message, or the reason it disconnects an authenticated client. */
export interface AuthErrorMessage {
  type: 'auth_error';
  reason: string;
}

/**
 * Close codes. 4xxx mirror the HTTP status of the same meaning; a client must not reconnect
 * with the same credential after 4001 or 4003, and should back off after 4029 and 1013.
 */
export const CloseCode = {
  /** The server is shutting down; reconnect later with `since`. */
  goingAway: 1001,
  /** Something broke on the server (e.g. reading the log for a resume). */
  internalError: 1011,
  /** The client did not keep up with its notifications (its buffer limit was exceeded). */
  slowConsumer: 1013,
  /** The first message was not a valid auth message, or its credential was refused. */
  unauthenticated: 4001,
  /** Access was revoked (token revoked, analyst removed) while connected. */
  forbidden: 4003,
  /** No auth message in time, or too many pings without a pong. */
  timeout: 4008,
  /**
   * Too many connections: the user already has the maximum number, or too many sockets (in all, or from
   * this address) are waiting to authenticate. Reconnect later, with backoff.
   */
  tooManyConnections: 4029,
} as const;

/** Close reasons sent with the codes above (a close reason is at most 123 bytes). */
export const CloseReason = {
  shuttingDown: 'server shutting down',
  internalError: 'internal error',
  slowConsumer: 'slow consumer',
  badAuthMessage: 'invalid auth message',
  badCredential: 'invalid credential',
  revoked: 'access revoked',
  authTimeout: 'authentication timeout',
  pingTimeout: 'ping timeout',
  tooManyConnections: 'too many connections',
  tooManyPending: 'too many connections waiting to authenticate',
} as const;

/** Longest token or session id accepted; longer strings are not credentials we issue. */
const MAX_CREDENTIAL_CHARS = 1_024;

/** Parses the first message; returns the message or a reason to refuse it. */
export function parseAuthMessage(data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean): AuthMessage | { error: string } {
  if (isBinary) return { error: 'the first message must be a text message: {"type":"auth","token":"…"}' };
  const text = Buffer.isBuffer(data) ? data.toString('utf8') : Array.isArray(data) ? Buffer.concat(data).toString('utf8') : Buffer.from(data).toString('utf8');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { error: 'the first message must be JSON: {"type":"auth","token":"…"}' };
  }
  if (typeof parsed !== 'object' || parsed === null || (parsed as { type?: unknown }).type !== 'auth') {
    return { error: 'the first message must be {"type":"auth","token":"…"} or {"type":"auth","session":"…"}' };
  }
  const { token, session, since } = parsed as Record<string, unknown>;
  const credential = (v: unknown): v is string => typeof v === 'string' && v.length > 0 && v.length <= MAX_CREDENTIAL_CHARS;
  if (token !== undefined && !credential(token)) return { error: '"token" must be a non-empty string' };
  if (session !== undefined && !credential(session)) return { error: '"session" must be a non-empty string' };
  if (token === undefined && session === undefined) return { error: 'the auth message needs a "token" or a "session"' };
  if (since !== undefined && !(Number.isSafeInteger(since) && (since as number) >= 0)) return { error: '"since" must be a log position (an integer ≥ 0)' };
  return {
    type: 'auth',
    ...(token !== undefined ? { token: token as string } : {}),
    ...(session !== undefined ? { session: session as string } : {}),
    ...(since !== undefined ? { since: since as number } : {}),
  };
}

/** True when `p` looks like a principal (guards against a misbehaving injected `authenticate`). */
export function isPrincipal(p: unknown): p is Principal {
  if (typeof p !== 'object' || p === null) return false;
  const { name, role } = p as Record<string, unknown>;
  return typeof name === 'string' && name.length > 0 && (role === 'analyst' || role === 'privileged' || role === 'admin');
}
