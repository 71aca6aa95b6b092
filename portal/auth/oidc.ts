/**
 * OpenID Connect sign-in: `@fastify/oauth2` with discovery, PKCE (S256) and state; a nonce derived
 * from the state; the id token verified with `jose` (signature against the issuer's keys, issuer,
 * audience, expiry, nonce).
 */
import { createHmac } from 'node:crypto';
import oauth2 from '@fastify/oauth2';
import type { OAuth2Namespace } from '@fastify/oauth2';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import type { JWTPayload } from 'jose';
import type { AdaConfig } from '../../config/index.ts';
import { adaError } from '../../events/index.ts';
import { derivedKey } from './session.ts';
import { PortalErrorCode } from '../errors.ts';

/** Limits of the OIDC client, with their reasons. */
export const OIDC_LIMITS = {
  /** The discovery document is fetched at start; a provider that does not answer in this time is reported, not waited for. */
  discoveryTimeoutMs: 5_000,
  /** Clock difference tolerated between us and the provider when checking `exp`/`iat`. */
  clockToleranceS: 30,
} as const;

/** Where the provider sends the browser back to. */
export const CALLBACK_PATH = '/auth/callback';

declare module 'fastify' {
  interface FastifyInstance {
    oidc?: OAuth2Namespace;
  }
}

/** The provider's metadata that we use. */
interface Discovery {
  issuer: string;
  jwks_uri: string;
}

/** A configured OIDC client, or why sign-in is unavailable. */
export type OidcClient =
  | { ok: true; start(req: FastifyRequest, reply: FastifyReply): Promise<string>; finish(req: FastifyRequest, reply: FastifyReply): Promise<JWTPayload> }
  | { ok: false; reason: string };

/** The nonce of a sign-in: an HMAC of its state, so it needs no storage and is bound to the state cookie of this browser. */
export function nonceFor(secret: string, state: string): string {
  return createHmac('sha256', derivedKey(secret, 'oidc-nonce')).update(state).digest('base64url');
}

/** Registers the OIDC client when `auth` configures one; answers why not otherwise. */
export async function registerOidc(app: FastifyInstance, config: AdaConfig): Promise<OidcClient> {
  const auth = config.instance.auth;
  const issuer = auth.issuer ?? 'https://accounts.google.com';
  const clientId = auth.clientId ?? auth.googleClientId;
  const clientSecret = auth.clientSecret ?? auth.googleClientSecret;
  if (!clientId || !clientSecret) return { ok: false, reason: 'Sign-in is not configured on this server: set auth.client_id and auth.client_secret (see docs/portal.md).' };
  let discovery: Discovery;
  try {
    const res = await fetch(`${issuer}/.well-known/openid-configuration`, { signal: AbortSignal.timeout(OIDC_LIMITS.discoveryTimeoutMs) });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    discovery = await res.json() as Discovery;
    if (typeof discovery.jwks_uri !== 'string' || typeof discovery.issuer !== 'string') throw new Error('the discovery document has no jwks_uri or issuer');
  } catch (err) {
    app.log.warn(`sign-in: the provider ${issuer} could not be reached at start (${(err as Error).message}); sign-in is unavailable until a restart`);
    return { ok: false, reason: `The sign-in provider ${issuer} could not be reached when the server started. Ask an operator to check the network and restart the server.` };
  }
  await app.register(oauth2, {
    name: 'oidc',
    scope: ['openid', 'email', 'profile'],
    credentials: { client: { id: clientId, secret: clientSecret } },
    discovery: { issuer },
    callbackUri: (req: FastifyRequest) => `${req.protocol}://${req.host}${CALLBACK_PATH}`,
    pkce: 'S256',
    cookie: { path: '/auth', secure: 'auto', sameSite: 'lax', httpOnly: true },
  });
  const jwks = createRemoteJWKSet(new URL(discovery.jwks_uri));
  const secret = auth.webappSecretKey;
  return {
    ok: true,
    async start(req, reply) {
      const uri = new URL(await app.oidc!.generateAuthorizationUri(req, reply));
      const state = uri.searchParams.get('state') ?? '';
      uri.searchParams.set('nonce', nonceFor(secret, state));
      return uri.toString();
    },
    async finish(req, reply) {
      let idToken: unknown;
      try {
        const { token } = await app.oidc!.getAccessTokenFromAuthorizationCodeFlow(req, reply);
        idToken = (token as { id_token?: unknown }).id_token;
      } catch (err) {
        const message = (err as Error).message ?? '';
        if (/state/i.test(message)) throw adaError(PortalErrorCode.signInRefused, 'The sign-in could not be completed: it was not started from this browser, or its link was changed. Start again from the sign-in page.');
        throw adaError(PortalErrorCode.signInRefused, 'The sign-in provider did not accept the sign-in code. Start again from the sign-in page.');
      }
      if (typeof idToken !== 'string') throw adaError(PortalErrorCode.signInRefused, 'The sign-in provider sent no id token (is the scope "openid" allowed for this client?).');
      let payload: JWTPayload;
      try {
        ({ payload } = await jwtVerify(idToken, jwks, { issuer: discovery.issuer, audience: clientId, clockTolerance: OIDC_LIMITS.clockToleranceS, requiredClaims: ['exp', 'iat', 'sub'] }));
      } catch (err) {
        const code = (err as { code?: string }).code ?? '';
        const why = code === 'ERR_JWT_EXPIRED' ? 'it has expired'
          : code === 'ERR_JWT_CLAIM_VALIDATION_FAILED' ? `its "${(err as { claim?: string }).claim ?? 'claim'}" claim is not ours`
            : 'its signature could not be verified';
        throw adaError(PortalErrorCode.signInRefused, `The sign-in provider's id token was refused: ${why}. Start again from the sign-in page.`);
      }
      const state = typeof (req.query as { state?: unknown }).state === 'string' ? (req.query as { state: string }).state : '';
      if (payload.nonce !== nonceFor(secret, state)) throw adaError(PortalErrorCode.signInRefused, 'The id token does not belong to this sign-in (its nonce differs). Start again from the sign-in page.');
      return payload;
    },
  };
}
