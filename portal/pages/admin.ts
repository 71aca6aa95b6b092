/** Admin (`/admin`, `/api/admin`): sync a table now (progress follows live), analysts and roles, send a notification. */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { adaError } from '../../events/index.ts';
import type { AnalystRole } from '../../events/index.ts';
import { decideAddAnalyst, decideRemoveAnalyst, rolesOf } from '../../pipeline/index.ts';
import { requireRole } from '../auth-plugin.ts';
import { html } from '../views/html.ts';
import { formatAgo, formatCount } from '../views/format.ts';
import { csrfField, pill } from '../views/layout.ts';
import type { WebDeps } from '../web-deps.ts';
import { visibleTables } from '../data/tables.ts';
import { apiWriteGuard, contextOf, pageAuth, principalOf, sendPage } from './context.ts';
import { flash, takeFlash } from './flash.ts';
import { adminSchema, errorSchema } from './schemas.ts';
import { PortalErrorCode } from '../errors.ts';

const ROLES: AnalystRole[] = ['analyst', 'privileged', 'admin'];

/** Analysts, roles and running syncs. */
export async function adminData(deps: WebDeps, req: FastifyRequest) {
  const state = await deps.access();
  const tables = await visibleTables(deps, req.principal);
  return {
    analysts: [...rolesOf(state, deps.config).values()].map((m) => ({
      name: m.name, role: m.role, ...(m.email ? { email: m.email } : {}), ...(m.sshKeyFingerprint ? { sshKeyFingerprint: m.sshKeyFingerprint } : {}), source: m.source, tokens: Object.keys(m.analyst?.tokens ?? {}).length,
      ...(m.analyst ? { addedAt: m.analyst.addedAt } : {}),
    })),
    running: tables.filter((t) => t.lastRun?.status === 'running').map((t) => t.name),
    tables,
  };
}

/** Queues a sync; answers at once (the broker's queue runs it; the pages follow it live). */
function startSync(deps: WebDeps, req: FastifyRequest, tables: string[]): string[] {
  if (!deps.sync) throw adaError(PortalErrorCode.unavailable, 'this server does not run syncs');
  const unknown = tables.filter((t) => !deps.config.tables.some((c) => c.name === t));
  if (unknown.length || tables.length === 0) throw adaError(PortalErrorCode.badRequest, unknown.length ? `unknown table ${unknown.join(', ')}` : 'name at least one table');
  deps.sync(tables).catch((err: unknown) => req.log.warn(`portal sync of ${tables.join(', ')} failed: ${(err as Error).message}`));
  return tables;
}

async function addAnalyst(deps: WebDeps, body: { name?: unknown; email?: unknown; role?: unknown }) {
  if (!deps.append) throw adaError(PortalErrorCode.unavailable, 'this server cannot record changes');
  const role = ROLES.includes(body.role as AnalystRole) ? body.role as AnalystRole : 'analyst';
  const d = decideAddAnalyst(await deps.access(), deps.config, { name: String(body.name ?? ''), role, ...(typeof body.email === 'string' && body.email ? { email: body.email } : {}) });
  await deps.append({ ...d.event, key: d.idempotencyKey, source: 'portal:admin' });
  return d.event.data.name;
}

async function removeAnalyst(deps: WebDeps, name: string) {
  if (!deps.append) throw adaError(PortalErrorCode.unavailable, 'this server cannot record changes');
  const d = decideRemoveAnalyst(await deps.access(), deps.config, name);
  await deps.append({ ...d.event, key: d.idempotencyKey, source: 'portal:admin' });
}

async function notify(deps: WebDeps, req: FastifyRequest, body: { title?: unknown; message?: unknown; level?: unknown; to?: unknown }) {
  if (!deps.append) throw adaError(PortalErrorCode.unavailable, 'this server cannot record changes');
  const title = typeof body.title === 'string' ? body.title.trim().slice(0, 200) : '';
  const message = typeof body.message === 'string' ? body.message.trim().slice(0, 2000) : '';
  if (!title || !message) throw adaError(PortalErrorCode.badRequest, 'a notification needs a title and a message');
  const level = ['info', 'success', 'warning', 'error'].includes(body.level as string) ? body.level as 'info' : 'info';
  const to = typeof body.to === 'string' && body.to.trim() ? body.to.trim() : undefined;
  await deps.append({ type: 'NotificationDispatched', v: 1, source: 'portal:admin', data: { id: randomUUID(), title, message, level, ...(to ? { to } : {}), by: principalOf(req).name } });
}

/** Registers the admin page, forms and APIs. */
export async function adminRoutes(app: FastifyInstance, deps: WebDeps): Promise<void> {
  const admin = requireRole('admin');
  const write = apiWriteGuard(app);
  const page = pageAuth(deps, 'admin');
  const nameParams = { type: 'object', properties: { name: { type: 'string', maxLength: 64 } }, required: ['name'] } as const;

  app.get('/api/admin', { onRequest: admin, schema: { response: { 200: adminSchema } } }, async (req) => {
    const { analysts, running } = await adminData(deps, req);
    return { analysts, running };
  });
  app.post('/api/admin/sync', { onRequest: admin, preHandler: write, schema: { body: { type: 'object', properties: { tables: { type: 'array', items: { type: 'string' }, maxItems: 1000 } }, required: ['tables'] }, response: { 202: { type: 'object', properties: { queued: { type: 'array', items: { type: 'string' } } } }, 400: errorSchema } } }, async (req, reply) => {
    return reply.code(202).send({ queued: startSync(deps, req, (req.body as { tables: string[] }).tables) });
  });
  app.post('/api/admin/analysts', { onRequest: admin, preHandler: write, schema: { body: { type: 'object', properties: { name: { type: 'string' }, email: { type: 'string' }, role: { type: 'string', enum: ROLES } }, required: ['name'] }, response: { 201: { type: 'object', properties: { name: { type: 'string' } } }, 400: errorSchema, 409: errorSchema } } }, async (req, reply) => {
    return reply.code(201).send({ name: await addAnalyst(deps, req.body as Record<string, unknown>) });
  });
  app.delete('/api/admin/analysts/:name', { onRequest: admin, preHandler: write, schema: { params: nameParams, response: { 204: { type: 'null' }, 404: errorSchema } } }, async (req, reply) => {
    await removeAnalyst(deps, (req.params as { name: string }).name);
    return reply.code(204).send();
  });

  app.get('/admin', { onRequest: page }, async (req, reply) => {
    const d = await adminData(deps, req);
    const csrf = contextOf(deps, req, reply).csrf;
    const now = new Date();
    const body = html`
${takeFlash(req)}
<section class="card"><h2>Sync now</h2>
  <p class="muted">Starts a sync of one table; this page and the dashboard follow it live.</p>
  <table class="data"><thead><tr><th>table</th><th class="num">rows</th><th>published</th><th>last sync</th><th></th></tr></thead><tbody ${d.running.length ? html`data-running="true"` : ''}>
  ${d.tables.map((t) => html`<tr data-table="${t.name}"><td><a href="/catalog/${encodeURIComponent(t.name)}">${t.name}</a></td><td class="num">${formatCount(t.rows)}</td><td>${t.publishedAt ? formatAgo(t.publishedAt, now) : 'never'}</td>
    <td>${t.lastRun ? pill(t.lastRun.status === 'succeeded' ? 'healthy' : t.lastRun.status === 'failed' ? 'unhealthy' : 'degraded', t.lastRun.status) : ''}</td>
    <td class="num"><form method="post" action="/admin/sync">${csrfField(csrf)}<input type="hidden" name="table" value="${t.name}"><button class="button small" type="submit" ${t.lastRun?.status === 'running' ? html`disabled` : ''}>Sync now</button></form></td></tr>`)}
  </tbody></table>
</section>
<section class="card"><h2>Analysts and roles</h2>
  <table class="data"><thead><tr><th>name</th><th>role</th><th>email</th><th>SSH key</th><th class="num">tokens</th><th>from</th><th></th></tr></thead><tbody>
  ${d.analysts.map((a) => html`<tr><td>${a.name}</td><td>${a.role}</td><td>${a.email ?? ''}</td><td>${a.sshKeyFingerprint ? html`<code class="fingerprint">${a.sshKeyFingerprint}</code>` : html`<span class="muted">none</span>`}</td><td class="num">${a.tokens}</td><td class="muted">${a.source === 'config' ? 'instance.yaml' : a.source === 'both' ? 'both' : 'events'}</td>
    <td class="num">${a.source !== 'config' ? html`<form method="post" action="/admin/analysts/${encodeURIComponent(a.name)}/remove">${csrfField(csrf)}<button class="button danger small" type="submit">Remove</button></form>` : ''}</td></tr>`)}
  </tbody></table>
  <form method="post" action="/admin/analysts" class="inline-form">${csrfField(csrf)}
    <label>name <input name="name" required pattern="[a-z][a-z0-9_\\-]{1,31}" placeholder="alice"></label>
    <label>email <input name="email" type="email" placeholder="alice@example.com"></label>
    <label>role <select name="role">${ROLES.map((r) => html`<option>${r}</option>`)}</select></label>
    <button class="button" type="submit">Add analyst</button>
  </form>
</section>
<section class="card"><h2>Send a notification</h2>
  <form method="post" action="/admin/notify" class="stack">${csrfField(csrf)}
    <label>title <input name="title" required maxlength="200"></label>
    <label>message <textarea name="message" required maxlength="2000" rows="3"></textarea></label>
    <div class="inline-form"><label>level <select name="level"><option>info</option><option>success</option><option>warning</option><option>error</option></select></label>
    <label>to <input name="to" placeholder="everyone"></label>
    <button class="button primary" type="submit">Send</button></div>
  </form>
</section>`;
    return sendPage(deps, req, reply, { title: 'Admin', active: '/admin', body });
  });

  const form = (path: string, act: (req: FastifyRequest) => Promise<string>) => app.post(path, { onRequest: page, preValidation: app.csrfProtection }, async (req, reply) => {
    try {
      flash(req, 'ok', await act(req));
    } catch (err) {
      flash(req, 'error', (err as Error).message);
    }
    return reply.redirect('/admin', 303);
  });
  form('/admin/sync', async (req) => `Sync of ${startSync(deps, req, [String((req.body as { table?: unknown }).table ?? '')]).join(', ')} started.`);
  form('/admin/analysts', async (req) => `Analyst ${await addAnalyst(deps, req.body as Record<string, unknown>)} added.`);
  form('/admin/analysts/:name/remove', async (req) => {
    const name = (req.params as { name: string }).name;
    await removeAnalyst(deps, name);
    return `Analyst ${name} removed; their tokens and sessions no longer work.`;
  });
  form('/admin/notify', async (req) => {
    await notify(deps, req, req.body as Record<string, unknown>);
    return 'Notification sent.';
  });
}
