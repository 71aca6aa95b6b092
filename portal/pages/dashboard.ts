/** The dashboard (`/`, `/api/dashboard`): data stats, freshness of every table, health, the user's datasets and how to get started. */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { requireRole, seesPrivate } from '../auth-plugin.ts';
import { redactHealth } from '../redact-health.ts';
import { html } from '../views/html.ts';
import { hbars } from '../views/charts.ts';
import { formatAgo, formatBytes, formatCount, formatTime } from '../views/format.ts';
import { pill } from '../views/layout.ts';
import type { WebDeps } from '../web-deps.ts';
import { pageAuth, principalOf, sendPage, serverUrl, tablesFor } from './context.ts';
import { dashboardSchema } from './schemas.ts';

/** Hours after which a table counts as stale on the freshness chart (the original alerted on data older than 48 h). */
const STALE_HOURS = 48;

/** The analyst's first commands, with this server filled in. */
export function getStartedCommands(url: string): string[] {
  return [
    'npm install -g ai-data-analyst',
    `ada login ${url}    # paste a personal token from "My account"`,
    'ada pull    # copies the tables you may see into ./server',
    'duckdb user/duckdb/analytics.duckdb',
  ];
}

/** The dashboard's data for the caller. */
export async function dashboardData(deps: WebDeps, req: FastifyRequest) {
  const principal = principalOf(req);
  const now = new Date();
  const { tables } = await tablesFor(deps, req);
  const report = await deps.health();
  const health = seesPrivate(principal) ? report : redactHealth(report, deps.config);
  const access = await deps.access();
  const mine = new Set(access.analysts[principal.name]?.datasets ?? []);
  const published = tables.filter((t) => t.publishedAt);
  const lastUpdate = published.map((t) => t.publishedAt!).sort().at(-1) ?? null;
  return {
    instance: { name: deps.config.instance.instance.name, subtitle: deps.config.instance.instance.subtitle ?? '' },
    stats: {
      tables: tables.length,
      columns: tables.reduce((n, t) => n + t.columns.length, 0),
      rows: tables.reduce((n, t) => n + t.rows, 0),
      bytes: tables.reduce((n, t) => n + t.bytes, 0),
      lastUpdate,
    },
    freshness: tables.map((t) => ({
      table: t.name,
      publishedAt: t.publishedAt ?? null,
      ageHours: t.publishedAt ? Math.max(0, (now.getTime() - Date.parse(t.publishedAt)) / 3600_000) : null,
      lastRun: t.lastRun?.status ?? null,
    })),
    health: { status: health.status, reasons: health.reasons, checkedAt: health.checkedAt },
    datasets: Object.values(deps.config.instance.datasets).map((d) => ({ key: d.key, label: d.label, description: d.description ?? '', subscribed: mine.has(d.key) })),
    getStarted: getStartedCommands(serverUrl(deps, req)),
  };
}

/** Registers `/` and `/api/dashboard`. */
export async function dashboardRoutes(app: FastifyInstance, deps: WebDeps): Promise<void> {
  app.get('/api/dashboard', { onRequest: requireRole(), schema: { response: { 200: dashboardSchema } } }, async (req) => dashboardData(deps, req));

  app.get('/', { onRequest: pageAuth(deps) }, async (req, reply) => {
    const d = await dashboardData(deps, req);
    const now = new Date();
    // A full bar is a table published just now; it empties over STALE_HOURS.
    const bars = d.freshness.map((f) => ({
      label: f.table,
      value: f.ageHours === null ? 0 : Math.max(STALE_HOURS * 0.02, STALE_HOURS - f.ageHours),
      display: f.publishedAt ? formatAgo(f.publishedAt, now) : 'never',
      tone: f.lastRun === 'failed' ? 'bad' : f.ageHours === null ? 'muted' : f.ageHours > STALE_HOURS ? 'warn' : 'good',
      href: `/catalog/${encodeURIComponent(f.table)}`,
    }));
    const body = html`
<section class="stats">
  <div class="stat"><span class="stat-value">${formatCount(d.stats.tables)}</span><span class="stat-label">tables</span></div>
  <div class="stat"><span class="stat-value">${formatCount(d.stats.columns)}</span><span class="stat-label">columns</span></div>
  <div class="stat"><span class="stat-value">${formatCount(d.stats.rows)}</span><span class="stat-label">rows</span></div>
  <div class="stat"><span class="stat-value">${formatBytes(d.stats.bytes)}</span><span class="stat-label">Parquet</span></div>
  <div class="stat"><span class="stat-value" data-testid="last-update">${d.stats.lastUpdate ? formatAgo(d.stats.lastUpdate, now) : 'never'}</span><span class="stat-label">last update</span></div>
</section>
<div class="grid two">
  <section class="card">
    <h2>Freshness</h2>
    <p class="muted">A full bar is a table published just now; it empties over ${STALE_HOURS} h. Amber when older, red when its last sync failed.</p>
    ${hbars(bars, 'Freshness of each table', { max: STALE_HOURS, barWidth: 320 })}
  </section>
  <div class="stack">
    <section class="card">
      <h2>Health ${pill(d.health.status)}</h2>
      ${d.health.reasons.length ? html`<ul class="reasons">${d.health.reasons.map((r) => html`<li>${r}</li>`)}</ul>` : html`<p class="muted">Everything is running as it should.</p>`}
      <p><a href="/status">Details</a></p>
    </section>
    <section class="card">
      <h2>My datasets</h2>
      ${d.datasets.length ? html`<ul class="datasets">${d.datasets.map((x) => html`<li><span class="pill ${x.subscribed ? 'healthy' : 'muted'}">${x.subscribed ? 'subscribed' : 'not subscribed'}</span> <strong>${x.label}</strong> <span class="muted">${x.description}</span></li>`)}</ul>` : html`<p class="muted">This server has no datasets configured.</p>`}
      <p><a href="/account#datasets">Change subscriptions</a></p>
    </section>
  </div>
</div>
<section class="card">
  <h2>Get started</h2>
  <p>Create a personal token under <a href="/account">My account</a>, then on your machine:</p>
  <pre class="code"><code>${d.getStarted.join('\n')}</code></pre>
</section>
<section class="card">
  <h2>Recently published</h2>
  <table class="data"><thead><tr><th>table</th><th>category</th><th class="num">rows</th><th class="num">size</th><th>published</th><th>last sync</th></tr></thead>
  <tbody>${d.freshness.length === 0 ? html`<tr><td colspan="6" class="muted">No tables yet.</td></tr>` : ''}
  ${(await tablesFor(deps, req)).tables.slice().sort((a, b) => (b.publishedAt ?? '').localeCompare(a.publishedAt ?? '')).map((t) => html`<tr data-table="${t.name}"><td><a href="/catalog/${encodeURIComponent(t.name)}">${t.name}</a></td><td>${t.category}</td><td class="num">${formatCount(t.rows)}</td><td class="num">${formatBytes(t.bytes)}</td><td>${formatTime(t.publishedAt)}</td><td>${t.lastRun ? pill(t.lastRun.status === 'succeeded' ? 'healthy' : t.lastRun.status === 'failed' ? 'unhealthy' : 'degraded', t.lastRun.status) : html`<span class="muted">—</span>`}</td></tr>`)}
  </tbody></table>
</section>`;
    return sendPage(deps, req, reply, { title: 'Dashboard', active: '/', body, subtitle: d.instance.subtitle });
  });
}
