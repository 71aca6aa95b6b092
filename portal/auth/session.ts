/**
 * Portal sessions: an encrypted, signed cookie (`@fastify/secure-session`) holding a signed session
 * ticket and the time of the last request. The ticket names the analyst and the incarnation
 * (generation) it was issued for, so removing the analyst ends every session of theirs; the same
 * ticket authenticates the browser's notification websocket.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import secureSession from '@fastify/secure-session';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Credential } from '../auth-plugin.ts';

/** Session lifetimes, with their reasons. */
export const SESSION_LIMITS = {
  /** A session unused this long ends: an unattended browser does not stay signed in overnight. */
  idleMs: 8 * 3600_000,
  /** A session ends this long after sign-in whatever its use, so a stolen cookie has a bounded life. */
  absoluteMs: 7 * 24 * 3600_000,
  /** The cookie is rewritten at most this often to record activity (each rewrite re-encrypts it). */
  touchMs: 60_000,
} as const;

/** Name of the session cookie. */
export const SESSION_COOKIE = 'ada_session';

/** What a session ticket says. */
export interface SessionTicket {
  /** Analyst (or configured admin) name. */
  name: string;
  /** Generation of the analyst record it was issued for; 0 for admins only in instance.yaml and the dev admin. */
  gen: number;
  /** Expiry, ms since the epoch (the absolute limit). */
  exp: number;
}

declare module '@fastify/secure-session' {
  interface SessionData {
    ticket: string;
    seen: number;
  }
}

function derive(secret: string, purpose: string): Buffer {
  return createHash('sha256').update(`ada:${purpose}\0${secret}`).digest();
}

function mac(secret: string, payload: string): string {
  return createHmac('sha256', derive(secret, 'session-ticket')).update(payload).digest('base64url');
}

/** Signs a ticket: `s1.<payload>.<hmac>`. */
export function mintTicket(secret: string, ticket: SessionTicket): string {
  const payload = Buffer.from(JSON.stringify(ticket)).toString('base64url');
  return `s1.${payload}.${mac(secret, payload)}`;
}

/** The ticket when its signature is good and it has not expired, else undefined. */
export function verifyTicket(secret: string, text: string, now = Date.now()): SessionTicket | undefined {
  const parts = text.split('.');
  if (parts.length !== 3 || parts[0] !== 's1') return undefined;
  const expected = Buffer.from(mac(secret, parts[1]!));
  const given = Buffer.from(parts[2]!);
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) return undefined;
  try {
    const t = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8')) as SessionTicket;
    if (typeof t.name !== 'string' || !Number.isSafeInteger(t.gen) || !Number.isSafeInteger(t.exp) || t.exp <= now) return undefined;
    return t;
  } catch {
    return undefined;
  }
}

/** A derived key for another purpose (OIDC nonces), independent of the session key. */
export function derivedKey(secret: string, purpose: string): Buffer {
  return derive(secret, purpose);
}

/** Registers the session cookie plugin. */
export async function registerSessions(app: FastifyInstance, secret: string): Promise<void> {
  await app.register(secureSession, {
    key: derive(secret, 'session-cookie'),
    cookieName: SESSION_COOKIE,
    expiry: Math.floor(SESSION_LIMITS.absoluteMs / 1000),
    cookie: { path: '/', httpOnly: true, sameSite: 'lax', secure: 'auto' },
  });
}

/** Starts a session for a name (after sign-in). */
export function startSession(req: FastifyRequest, secret: string, who: { name: string; gen: number }, now = Date.now()): string {
  const ticket = mintTicket(secret, { name: who.name, gen: who.gen, exp: now + SESSION_LIMITS.absoluteMs });
  req.session.set('ticket', ticket);
  req.session.set('seen', now);
  return ticket;
}

/** The session credential of a request (idle sessions end here), for the auth plugin. */
export function sessionCredential(req: FastifyRequest, now = Date.now()): Credential | undefined {
  const session = req.session as FastifyRequest['session'] | undefined;
  const ticket = session?.get('ticket');
  if (!session || typeof ticket !== 'string') return undefined;
  const seen = session.get('seen');
  if (typeof seen !== 'number' || now - seen > SESSION_LIMITS.idleMs) {
    session.delete();
    return undefined;
  }
  if (now - seen > SESSION_LIMITS.touchMs) session.set('seen', now);
  return { session: ticket };
}
