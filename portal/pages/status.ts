/** The health page (`/status`, JSON twin `/api/health`): overall status, each table's freshness, timers, disk and load. */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { requireRole, seesPrivate } from '../auth-plugin.ts';
import { redactHealth } from '../redact-health.ts';
import { html } from '../views/html.ts';
import { formatAgo, formatBytes, formatNumber, formatTime } from '../views/format.ts';
import { pill } from '../views/layout.ts';
import type { WebDeps } from '../web-deps.ts';
import { pageAuth, principalOf, sendPage } from './context.ts';

async function healthFor(deps: WebDeps, req: FastifyRequest) {
  const report = await deps.health();
  return seesPrivate(principalOf(req)) ? report : redactHealth(report, deps.config);
}

/** Registers the health page and API. */
export async function statusRoutes(app: FastifyInstance, deps: WebDeps): Promise<void> {
  app.get('/api/health', { onRequest: requireRole(), schema: { response: { 200: { type: 'object', additionalProperties: true, properties: { status: { type: 'string' }, reasons: { type: 'array', items: { type: 'string' } } }, required: ['status', 'reasons'] } } } }, async (req) => healthFor(deps, req));
  app.get('/status', { onRequest: pageAuth(deps) }, async (req, reply) => {
    const h = await healthFor(deps, req);
    const now = new Date();
    const c = h.checks;
    const body = html`
<section class="card hero ${h.status}">
  <h2>${pill(h.status)} The broker is ${h.status}</h2>
  ${h.reasons.length ? html`<ul class="reasons">${h.reasons.map((r) => html`<li>${r}</li>`)}</ul>` : html`<p class="muted">No problems found.</p>`}
  <p class="muted">Checked ${formatTime(h.checkedAt)}.</p>
</section>
<div class="grid machine">
  <section class="card"><h2>Machine</h2><dl class="facts wide">
    <div><dt>disk</dt><dd>${c.disk ? html`${pill(c.disk.status)} ${formatNumber(c.disk.usedPercent, 1)} % used, ${formatBytes(c.disk.freeBytes)} free` : '—'}</dd></div>
    <div><dt>load</dt><dd>${c.load ? html`${pill(c.load.status)} ${formatNumber(c.load.load1)} on ${c.load.cpus} cores` : '—'}</dd></div>
    ${c.connectors.map((x) => html`<div><dt>${x.name}</dt><dd>${pill(x.status)} ${x.message}</dd></div>`)}
  </dl></section>
  <section class="card"><h2>Timers</h2>
    <table class="data"><thead><tr><th>timer</th><th>cron (UTC)</th><th class="nowrap">last fired</th><th>next</th><th></th></tr></thead><tbody>
    ${Object.entries(c.timers).filter(([, t]) => t.tables.length > 0).map(([n, t]) => html`<tr><td>${n}</td><td><code>${t.cron}</code></td><td class="nowrap">${t.lastFiredAt ? formatAgo(t.lastFiredAt, now) : 'never'}</td><td class="nowrap">${formatTime(t.nextDueAt)}</td><td>${pill(t.status)}</td></tr>`)}
    </tbody></table>
  </section>
</div>
<section class="card"><h2>Tables</h2>
  <table class="data"><thead><tr><th>table</th><th>freshness</th><th>last published</th><th>last success</th><th>last error</th><th></th></tr></thead><tbody>
  ${Object.entries(c.tables).map(([n, t]) => html`<tr data-table="${n}"><td><a href="/catalog/${encodeURIComponent(n)}">${n}</a></td><td>${t.freshness.replace('_', ' ')}</td><td>${t.lastPublishedAt ? formatAgo(t.lastPublishedAt, now) : 'never'}</td><td>${t.lastSuccessAt ? formatAgo(t.lastSuccessAt, now) : 'never'}</td><td>${t.lastError ? `${t.lastError.message} (${t.lastError.code})` : ''}</td><td>${pill(t.status)}</td></tr>`)}
  </tbody></table>
</section>`;
    return sendPage(deps, req, reply, { title: 'Health', active: '/status', body });
  });
}
