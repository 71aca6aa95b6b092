/** Sign-in pages and routes: `/signin`, `/auth/login`, `/auth/callback`, `/auth/logout`; `auth.mode: dev` signs in a local admin. */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { adaError, ErrorCode, hasCode } from '../../events/index.ts';
import { decideAddAnalyst } from '../../pipeline/index.ts';
import { bare } from '../views/layout.ts';
import { html } from '../views/html.ts';
import type { WebDeps } from '../web-deps.ts';
import { WEB_LIMITS } from '../web-deps.ts';
import { sendHtml } from '../pages/context.ts';
import { registerOidc } from './oidc.ts';
import { checkSignIn } from './sign-in-policy.ts';
import { enroll } from './enroll.ts';
import { DEV_ADMIN } from './resolve.ts';
import { startSession } from './session.ts';
import { PortalErrorCode } from '../errors.ts';

declare module '@fastify/secure-session' {
  interface SessionData {
    next: string;
  }
}

/** A same-site path to go back to after sign-in (never another origin). */
function safeNext(value: unknown): string {
  return typeof value === 'string' && /^\/(?![/\\])[^\s]*$/.test(value) && value.length < 512 ? value : '/';
}

/** Whether an address is the local machine. */
export function isLoopback(address: string | undefined): boolean {
  return !!address && (address === '::1' || address.startsWith('127.') || address === 'localhost' || address.startsWith('::ffff:127.'));
}

/** Refuses `auth.mode: dev` unless the server binds a loopback address. */
export function assertDevModeHost(mode: string | undefined, host: string): void {
  if (mode === 'dev' && !isLoopback(host)) {
    throw adaError(ErrorCode.configInvalid, `auth.mode: dev signs everyone in as an admin, so the server only listens on a loopback address (127.0.0.1 or ::1), not ${host}; use auth.mode: oidc to serve others`);
  }
}

/** Registers the sign-in routes. */
export async function authRoutes(app: FastifyInstance, deps: WebDeps): Promise<void> {
  const mode = deps.config.instance.auth.mode ?? 'oidc';
  const rateLimit = { max: WEB_LIMITS.signInPerMinute, timeWindow: 60_000 };
  const secret = deps.config.instance.auth.webappSecretKey;
  if (mode === 'dev') {
    // Defence in depth: even behind a proxy on loopback, dev mode answers only the local machine.
    app.addHook('onRequest', (req, reply, done) => {
      if (isLoopback(req.socket.remoteAddress)) return done();
      void reply.code(403).send({ code: PortalErrorCode.forbidden, message: 'auth.mode: dev answers only requests from this machine' });
    });
  }
  const client = mode === 'oidc' ? await registerOidc(app, deps.config) : undefined;
  const providerName = (deps.config.instance.auth.issuer ?? 'https://accounts.google.com').includes('accounts.google.com') ? 'Google' : 'your organisation';

  // The dev admin is recorded like any analyst (role admin), so it can hold tokens and subscriptions.
  const devAdmin = async (): Promise<{ name: string; gen: number }> => {
    const state = await deps.access();
    const known = state.analysts[DEV_ADMIN];
    if (known || !deps.append) return { name: DEV_ADMIN, gen: known?.generation ?? 0 };
    const d = decideAddAnalyst(state, deps.config, { name: DEV_ADMIN, role: 'admin' });
    await deps.append({ ...d.event, key: d.idempotencyKey, source: 'portal:dev' });
    return { name: DEV_ADMIN, gen: (await deps.access()).analysts[DEV_ADMIN]?.generation ?? 0 };
  };

  const refuse = (reason: string) => bare(deps.config, {
    title: 'Sign-in refused',
    body: html`<h2>Sign-in refused</h2><p class="refusal">${reason}</p><p><a class="button" href="/signin">Back to sign-in</a></p>`,
  });

  app.get('/signin', { config: { rateLimit } }, async (req, reply) => {
    const q = req.query as { next?: string; signedout?: string };
    const next = safeNext(q.next);
    if (req.principal) return reply.redirect(next, 302);
    if (mode === 'dev' && q.signedout === undefined) {
      startSession(req, secret, await devAdmin());
      return reply.redirect(next, 302);
    }
    const body = mode === 'dev'
      ? html`<h2>Signed out</h2><p>This server runs in development mode: anyone on this machine is a local admin.</p><p><a class="button primary" href="/signin?next=${encodeURIComponent(next)}">Continue as local admin</a></p>`
      : client?.ok
        ? html`<h2>Sign in</h2><p>Use your ${providerName} account${deps.config.instance.auth.allowedDomain ? html` at <strong>@${deps.config.instance.auth.allowedDomain}</strong>` : ''}.</p><p><a class="button primary" href="/auth/login?next=${encodeURIComponent(next)}">Sign in with ${providerName}</a></p>`
        : html`<h2>Sign in</h2><p class="refusal">${client?.reason ?? 'Sign-in is unavailable.'}</p><p class="muted">Scripts and the <code>ada</code> command line can still use personal tokens.</p>`;
    return sendHtml(reply, bare(deps.config, { title: 'Sign in', body }));
  });

  app.get('/auth/login', { config: { rateLimit } }, async (req, reply) => {
    if (!client?.ok) return reply.redirect('/signin', 302);
    req.session.set('next', safeNext((req.query as { next?: string }).next));
    return reply.redirect(await client.start(req, reply), 302);
  });

  app.get('/auth/callback', { config: { rateLimit } }, async (req: FastifyRequest, reply) => {
    if (!client?.ok) return reply.redirect('/signin', 302);
    const q = req.query as { error?: string; error_description?: string };
    if (typeof q.error === 'string') return sendHtml(reply, refuse(`The sign-in provider answered: ${q.error_description ?? q.error}.`), 403);
    try {
      const claims = await client.finish(req, reply);
      const verdict = checkSignIn(claims, deps.config.instance.auth);
      if (!verdict.ok) return sendHtml(reply, refuse(verdict.reason), 403);
      const who = await enroll(deps, verdict.email, verdict.via);
      const next = safeNext(req.session.get('next'));
      req.session.set('next', '/');
      startSession(req, secret, who);
      req.log.info(`sign-in: ${who.name} (${verdict.via})`);
      return reply.redirect(next, 302);
    } catch (err) {
      if (hasCode(err, PortalErrorCode.signInRefused)) return sendHtml(reply, refuse(err.message), 403);
      throw err;
    }
  });

  app.post('/auth/logout', { preValidation: app.csrfProtection }, async (req, reply) => {
    req.session.delete();
    return reply.redirect('/signin?signedout=1', 303);
  });
}
