/**
 * Authentication as one fastify plugin: it resolves the caller of every request once (a bearer
 * token today; the portal's session cookie plugs in through `credentials`) and decorates the
 * request with `principal`. Routes ask `requireRole` instead of parsing headers themselves.
 */
import fp from 'fastify-plugin';
import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import { adaError } from '../events/index.ts';
import { PortalErrorCode } from './errors.ts';

/** Who a bearer token or session belongs to. */
export interface PortalPrincipal {
  name: string;
  role: 'analyst' | 'privileged' | 'admin';
}

/** A credential as the request carries it. */
export interface Credential {
  token?: string;
  session?: string;
}

/** Resolves a credential to a principal, or undefined when it is unknown, revoked or expired. */
export type Authenticate = (credential: Credential) => Promise<PortalPrincipal | undefined> | PortalPrincipal | undefined;

/** Options of the auth plugin. */
export interface AuthPluginOptions {
  authenticate: Authenticate;
  /** Extra credential sources (the portal's session cookie); the bearer header is always read. */
  credentials?: (req: FastifyRequest) => Credential | undefined;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The authenticated caller, or undefined for an anonymous request. */
    principal: PortalPrincipal | undefined;
  }
}

/** Longest Authorization header read: a token is at most a few hundred characters. */
const MAX_AUTHORIZATION_CHARS = 1024;

/** The token of an `Authorization: Bearer <token>` header, or undefined. */
export function bearerToken(header: string | undefined): string | undefined {
  if (!header || header.length > MAX_AUTHORIZATION_CHARS) return undefined;
  return /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header)?.[1];
}

/** Roles that may see private tables. */
export function seesPrivate(principal: PortalPrincipal | undefined): boolean {
  return principal?.role === 'admin' || principal?.role === 'privileged';
}

/** A hook (onRequest or preHandler) that answers 401 without a principal and 403 when its role is not among `roles`; callback-style, since it never waits. */
export function requireRole(...roles: PortalPrincipal['role'][]): (req: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction) => void {
  return (req, _reply, done) => {
    if (!req.principal) return done(adaError(PortalErrorCode.unauthenticated, 'sign in or send a personal token (Authorization: Bearer ada_…)'));
    if (roles.length && !roles.includes(req.principal.role)) return done(adaError(PortalErrorCode.forbidden, `this needs the role ${roles.join(' or ')}; you are ${req.principal.role}`));
    done();
  };
}

/**
 * The plugin: decorates every request with its principal. A bearer token decides alone: the
 * session is not read for it, so an API client's request never touches a cookie.
 */
export const authPlugin = fp<AuthPluginOptions>(async (app, opts) => {
  app.decorateRequest('principal', undefined);
  // Callback-style: a principal the resolver knows at once costs no promise (every API request comes here).
  app.addHook('onRequest', (req, _reply, done) => {
    const token = bearerToken(req.headers.authorization);
    const credential = token ? { token } : opts.credentials?.(req);
    if (!credential?.token && !credential?.session) return done();
    let found: ReturnType<Authenticate>;
    try {
      found = opts.authenticate(credential);
    } catch (err) {
      return done(err as Error);
    }
    if (!(found instanceof Promise)) {
      req.principal = found;
      return done();
    }
    found.then((principal) => {
      req.principal = principal;
      done();
    }, (err: unknown) => done(err as Error));
  });
}, { name: 'ada-auth', fastify: '5.x' });
