/** Helpers every page shares: who is asking, the page context, sending markup, and the HTML answers to 401 and 403. */
import { catalogTables } from '../../config/index.ts';
import type { FastifyReply, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';
import { adaError } from '../../events/index.ts';
import type { PortalPrincipal } from '../auth-plugin.ts';
import { bare, page } from '../views/layout.ts';
import type { PageContext } from '../views/layout.ts';
import { html } from '../views/html.ts';
import type { SafeHtml } from '../views/html.ts';
import type { WebDeps } from '../web-deps.ts';
import { visibleTables } from '../data/tables.ts';
import type { TableView } from '../data/tables.ts';
import { PortalErrorCode } from '../errors.ts';

/** The principal of a request that passed `pageAuth`. */
export function principalOf(req: FastifyRequest): PortalPrincipal {
  if (!req.principal) throw adaError(PortalErrorCode.unauthenticated, 'sign in first');
  return req.principal;
}

/** Pre-handler of pages: without a principal, a redirect to the sign-in page; without the role, a 403 page. */
export function pageAuth(deps: WebDeps, ...roles: PortalPrincipal['role'][]): preHandlerAsyncHookHandler {
  return async (req, reply) => {
    if (!req.principal) {
      const next = req.url.startsWith('/') && !req.url.startsWith('//') ? req.url : '/';
      return reply.redirect(`/signin?next=${encodeURIComponent(next)}`, 302);
    }
    if (roles.length && !roles.includes(req.principal.role)) {
      return reply.code(403).type('text/html; charset=utf-8').send(bare(deps.config, {
        title: 'Not allowed',
        body: html`<h2>Not allowed</h2><p>This page needs the role ${roles.join(' or ')}; you are signed in as ${req.principal.name} (${req.principal.role}).</p><p><a href="/">Back to the dashboard</a></p>`,
      }).value);
    }
    return undefined;
  };
}

/** The context of a signed-in page. */
export function contextOf(deps: WebDeps, req: FastifyRequest, reply: FastifyReply): PageContext {
  const ticket = (req.session as FastifyRequest['session'] | undefined)?.get('ticket');
  return {
    config: deps.config,
    principal: principalOf(req),
    live: Boolean(deps.notifications),
    csrf: reply.generateCsrf(),
    ...(typeof ticket === 'string' ? { liveTicket: ticket } : {}),
  };
}

/** Sends a whole page. */
export function sendHtml(reply: FastifyReply, markup: SafeHtml, status = 200): FastifyReply {
  return reply.code(status).type('text/html; charset=utf-8').header('cache-control', 'no-store').send(markup.value);
}

/** Renders and sends a signed-in page. */
export function sendPage(deps: WebDeps, req: FastifyRequest, reply: FastifyReply, opts: { title: string; active: string; body: SafeHtml; subtitle?: string | SafeHtml }, status = 200): FastifyReply {
  return sendHtml(reply, page(contextOf(deps, req, reply), opts), status);
}

/** The tables the caller may see, and their names as a set. */
export async function tablesFor(deps: WebDeps, req: FastifyRequest): Promise<{ tables: TableView[]; names: Set<string> }> {
  const tables = await visibleTables(deps, req.principal);
  return { tables, names: new Set(tables.map((t) => t.name)) };
}

/** Names and ids of tables the caller may not see (to scrub free text). */
export function hiddenNames(deps: WebDeps, visible: ReadonlySet<string>): string[] {
  return catalogTables(deps.config).filter((t) => !visible.has(t.name)).flatMap((t) => [t.name, t.id]);
}

/** Pre-handler of JSON APIs that change something: a bearer token, or a session with the CSRF header. */
export function apiWriteGuard(app: { csrfProtection: (req: FastifyRequest, reply: FastifyReply, next: (err?: Error) => void) => void }): preHandlerAsyncHookHandler {
  return async (req, reply) => {
    if (/^Bearer\s/i.test(req.headers.authorization ?? '')) return;
    await new Promise<void>((resolve, reject) => app.csrfProtection(req, reply, (err) => (err ? reject(err) : resolve())));
  };
}

/** The origin analysts use to reach this server. */
export function serverUrl(deps: WebDeps, req: FastifyRequest): string {
  return deps.publicUrl ?? `${req.protocol}://${req.host}`;
}
