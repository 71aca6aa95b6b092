/** Business metrics (`/metrics`, `/api/metrics`): definitions whose tables the caller may all see. */
import { catalogTables } from '../../config/index.ts';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { requireRole } from '../auth-plugin.ts';
import { html } from '../views/html.ts';
import type { WebDeps } from '../web-deps.ts';
import { pageAuth, sendPage, tablesFor } from './context.ts';
import { metricsSchema } from './schemas.ts';

/** Metrics the caller may see: a metric using a table they may not see is absent. */
export async function metricsData(deps: WebDeps, req: FastifyRequest) {
  const { names } = await tablesFor(deps, req);
  const configured = new Set(catalogTables(deps.config).map((t) => t.name));
  const all = (await deps.metrics?.()) ?? [];
  return { metrics: all.filter((m) => m.tables.every((t) => names.has(t) || !configured.has(t))) };
}

/** Registers the metrics page and API. */
export async function metricsRoutes(app: FastifyInstance, deps: WebDeps): Promise<void> {
  app.get('/api/metrics', { onRequest: requireRole(), schema: { response: { 200: metricsSchema } } }, async (req) => metricsData(deps, req));
  app.get('/metrics', { onRequest: pageAuth(deps) }, async (req, reply) => {
    const { metrics } = await metricsData(deps, req);
    const body = metrics.length === 0
      ? html`<section class="card"><p class="muted">No business metrics are defined. Add YAML files to <code>metrics/</code> next to instance.yaml (see docs/portal.md).</p></section>`
      : html`${metrics.map((m) => html`<section class="card metric" id="${m.id}">
  <h2>${m.name}${m.unit ? html` <span class="muted">(${m.unit})</span>` : ''}</h2>
  <p>${m.description}</p>
  <p class="muted">Uses ${m.tables.map((t, i) => html`${i ? ', ' : ''}<a href="/catalog/${encodeURIComponent(t)}">${t}</a>`)}</p>
  <pre class="code"><code>${m.sql}</code></pre>
</section>`)}`;
    return sendPage(deps, req, reply, { title: 'Business metrics', active: '/metrics', body, subtitle: 'Agreed definitions: use these instead of inventing your own' });
  });
}
