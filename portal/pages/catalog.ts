/** The catalog (`/catalog`, `/api/catalog`) and each table (`/catalog/:table`, `/api/catalog/:table`). */
import { catalogTable } from '../../config/index.ts';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { adaError } from '../../events/index.ts';
import type { ColumnProfile, TableProfile } from '../../pipeline/index.ts';
import { requireRole } from '../auth-plugin.ts';
import { html } from '../views/html.ts';
import type { SafeHtml } from '../views/html.ts';
import { hbars, histogram, timeline } from '../views/charts.ts';
import { formatAgo, formatBytes, formatCount, formatNumber, formatTime } from '../views/format.ts';
import { pill } from '../views/layout.ts';
import type { WebDeps } from '../web-deps.ts';
import { relatedOf, visibleProfile, visibleTables, visibleTablesSoon } from '../data/tables.ts';
import { AnswerCache, sendAnswer, serializeAnswer } from '../data/json-answer.ts';
import type { TableView } from '../data/tables.ts';
import { pageAuth, sendPage, tablesFor } from './context.ts';
import { catalogSchema, errorSchema, tableDetailSchema } from './schemas.ts';
import { PortalErrorCode } from '../errors.ts';

/** Whether a table matches a search: name, description, column names and descriptions, case-insensitive. */
export function matches(t: TableView, q: string): boolean {
  const needle = q.trim().toLowerCase();
  if (!needle) return true;
  return [t.name, t.description, t.category, ...t.columns.flatMap((c) => [c.name, c.description ?? ''])].some((s) => s.toLowerCase().includes(needle));
}

/** The catalog grouped by category, in `catalog.order`. */
export async function catalogData(deps: WebDeps, req: FastifyRequest, q = '') {
  return groupCatalog(deps, await visibleTables(deps, req.principal), q);
}

/** Visible tables matching a search, grouped by category. */
function groupCatalog(deps: WebDeps, tables: TableView[], q: string) {
  const found = tables.filter((t) => matches(t, q));
  const groups = new Map<string, { folder: string; label: string; icon?: string; tables: TableView[] }>();
  for (const t of found) {
    const cat = deps.config.instance.catalog.categories[t.folder];
    const g = groups.get(t.folder) ?? { folder: t.folder, label: cat?.label ?? t.folder, ...(cat?.icon ? { icon: cat.icon } : {}), tables: [] };
    g.tables.push(t);
    groups.set(t.folder, g);
  }
  return { categories: [...groups.values()], total: found.length, query: q };
}

/** The SQL to query a table locally. */
export function localSql(t: TableView): string {
  return `-- in ./user/duckdb/analytics.duckdb (after ada pull) the table is a view:\nSELECT * FROM "${t.name.replace(/"/g, '""')}" LIMIT 10;\n\n-- or straight from the Parquet files:\nSELECT * FROM read_parquet('server/${t.readPath.replace(/'/g, "''")}'${t.partitionBy ? ', union_by_name = true' : ''}) LIMIT 10;`;
}

/** One visible table with its profile, relations, publish history and metrics; NOT_FOUND when it is absent for the caller. */
export async function tableData(deps: WebDeps, req: FastifyRequest, name: string) {
  const { tables, names } = await tablesFor(deps, req);
  const table = tables.find((t) => t.name === name);
  if (!table) throw adaError(PortalErrorCode.notFound, `no table named ${JSON.stringify(name)}; see /catalog`);
  await deps.index.refresh();
  const [profile, metrics] = await Promise.all([visibleProfile(deps, table, names), deps.metrics?.() ?? Promise.resolve([])]);
  return {
    table,
    profile: profile ?? null,
    related: relatedOf(table, tables),
    history: deps.index.history(table.name).map((p) => ({ at: p.at, rows: p.rows, bytes: p.bytes })),
    metrics: metrics.filter((m) => m.tables.includes(table.name) && m.tables.every((x) => names.has(x) || catalogTable(deps.config, x) === undefined)).map((m) => ({ id: m.id, name: m.name, description: m.description })),
    sql: localSql(table),
  };
}

function columnChart(c: ColumnProfile): SafeHtml {
  if ((c.category === 'numeric' || c.category === 'date') && c.histogram.length) {
    const tick = (v: number | string): string => (typeof v === 'number' ? formatNumber(v, Math.abs(v) >= 100 ? 0 : 2) : String(v).slice(0, 10));
    return histogram(c.histogram.map((b) => ({ label: tick(b.start), value: b.count, display: `${formatCount(b.count)} rows from ${String(b.start).slice(0, 19)} to ${String(b.end).slice(0, 19)}` })), `${c.name}: distribution`);
  }
  if (c.category === 'string' && c.top_values?.length) {
    return hbars(c.top_values.map((v) => ({ label: v.value === '' ? '(empty)' : v.value, value: v.count, display: `${formatCount(v.count)} · ${formatNumber(v.percent, 1)} %` })), `${c.name}: top values`);
  }
  if (c.category === 'boolean') {
    return hbars([{ label: 'true', value: c.true_count }, { label: 'false', value: c.false_count }, { label: 'null', value: c.null_count, tone: 'muted' }], `${c.name}: values`);
  }
  return html`<p class="muted">${formatCount(c.unique_count)} distinct values.</p>`;
}

function columnFacts(c: ColumnProfile): SafeHtml {
  const facts: Array<[string, string]> = [['complete', `${formatNumber(c.completeness, 1)} %`], ['distinct', formatCount(c.unique_count)]];
  if (c.category === 'numeric') facts.push(['min', formatNumber(c.min)], ['median', formatNumber(c.median)], ['mean', formatNumber(c.mean)], ['max', formatNumber(c.max)]);
  if (c.category === 'date') facts.push(['earliest', c.earliest ?? '—'], ['latest', c.latest ?? '—']);
  if (c.category === 'string') facts.push(['length', `${formatNumber(c.min_length)}–${formatNumber(c.max_length)}`]);
  return html`<dl class="facts">${facts.map(([k, v]) => html`<div><dt>${k}</dt><dd>${v}</dd></div>`)}</dl>`;
}

function profileSection(p: TableProfile): SafeHtml {
  return html`
<section class="card">
  <h2>Profile ${p.stale ? pill('degraded', 'stale') : ''}</h2>
  <p class="muted">Profiled ${formatTime(p.profiled_at)}${p.sampled ? `, on a sample of ${formatCount(p.sample_size)} rows` : ''}; ${formatNumber(p.avg_completeness, 1)} % of cells filled.${p.date_range ? ` Dates from ${p.date_range.earliest.slice(0, 10)} to ${p.date_range.latest.slice(0, 10)}.` : ''}</p>
  ${p.alerts.length ? html`<ul class="alerts">${p.alerts.map((a) => html`<li class="${a.severity}">${pill(a.severity === 'critical' ? 'unhealthy' : a.severity === 'warning' ? 'degraded' : 'muted', a.severity)} ${a.column ? html`<code>${a.column}</code> ` : ''}${a.message}</li>`)}</ul>` : html`<p class="muted">No alerts.</p>`}
  <div class="columns-grid">
    ${p.columns.map((c) => html`<article class="column-card" id="col-${c.name}"><header><h3>${c.name}</h3><span class="type">${c.type}</span></header>${columnFacts(c)}${columnChart(c)}</article>`)}
  </div>
</section>
${p.sample_rows.length ? html`<section class="card"><h2>Sample rows</h2><div class="scroll"><table class="data sample"><thead><tr>${Object.keys(p.sample_rows[0]!).map((k) => html`<th>${k}</th>`)}</tr></thead><tbody>${p.sample_rows.slice(0, 10).map((r) => html`<tr>${Object.values(r).map((v) => html`<td>${v === null ? html`<span class="muted">null</span>` : typeof v === 'object' ? JSON.stringify(v) : String(v)}</td>`)}</tr>`)}</tbody></table></div></section>` : ''}`;
}

/** Registers the catalog pages and APIs. */
export async function catalogRoutes(app: FastifyInstance, deps: WebDeps): Promise<void> {
  const querystring = { type: 'object', properties: { q: { type: 'string', maxLength: 200 } } } as const;
  const params = { type: 'object', properties: { table: { type: 'string', maxLength: 300 } }, required: ['table'] } as const;

  // Answers are serialised once per visible-table list (one per state and role) and search.
  const answers = new AnswerCache<TableView[]>();
  const sendCatalog = (req: FastifyRequest, reply: FastifyReply, tables: TableView[]): FastifyReply => {
    const q = (req.query as { q?: string }).q ?? '';
    return sendAnswer(req, reply, answers.peek(tables, q) ?? answers.get(tables, q, () => {
      const { categories, total } = groupCatalog(deps, tables, q);
      return serializeAnswer(reply, { categories, total });
    }));
  };
  app.get('/api/catalog', { onRequest: requireRole(), schema: { querystring, response: { 200: catalogSchema } } }, (req, reply) => {
    // Not async: with the states at hand (the log head has not moved) and the answer built, it costs no promise and no closure.
    const tables = visibleTablesSoon(deps, req.principal);
    return tables instanceof Promise ? tables.then((t) => sendCatalog(req, reply, t)) : sendCatalog(req, reply, tables);
  });

  app.get('/api/catalog/:table', { onRequest: requireRole(), schema: { params, response: { 200: tableDetailSchema, 404: errorSchema } } }, async (req) => tableData(deps, req, (req.params as { table: string }).table));

  app.get('/catalog', { onRequest: pageAuth(deps), schema: { querystring } }, async (req, reply) => {
    const q = (req.query as { q?: string }).q ?? '';
    const d = await catalogData(deps, req, q);
    const now = new Date();
    const body = html`
<form class="search" method="get" action="/catalog" role="search">
  <input type="search" name="q" value="${q}" placeholder="Search tables, descriptions and columns…" aria-label="search" autofocus>
  <button type="submit" class="button">Search</button>
</form>
${q ? html`<p class="muted">${d.total} table${d.total === 1 ? '' : 's'} match “${q}”. <a href="/catalog">Show all</a></p>` : ''}
${d.categories.map((g) => html`
<section class="category">
  <h2>${g.label} <span class="count">${g.tables.length}</span></h2>
  <div class="table-cards">
  ${g.tables.map((t) => html`<a class="table-card" href="/catalog/${encodeURIComponent(t.name)}" data-table="${t.name}">
    <header><h3>${t.name}</h3>${t.private ? pill('private', 'private') : ''}</header>
    <p>${t.description || html`<span class="muted">No description.</span>`}</p>
    <footer><span>${formatCount(t.rows)} rows</span><span>${t.columns.length} columns</span><span>${formatBytes(t.bytes)}</span><span>${t.publishedAt ? formatAgo(t.publishedAt, now) : 'not yet published'}</span></footer>
  </a>`)}
  </div>
</section>`)}
${d.total === 0 ? html`<p class="muted">No tables${q ? ' match your search' : ' yet'}.</p>` : ''}`;
    return sendPage(deps, req, reply, { title: 'Catalog', active: '/catalog', body, subtitle: `${d.total} tables` });
  });

  app.get('/catalog/:table', { onRequest: pageAuth(deps), schema: { params } }, async (req, reply) => {
    const name = (req.params as { table: string }).table;
    let d: Awaited<ReturnType<typeof tableData>>;
    try {
      d = await tableData(deps, req, name);
    } catch (err) {
      if ((err as { code?: string }).code !== PortalErrorCode.notFound) throw err;
      return sendPage(deps, req, reply, { title: 'No such table', active: '/catalog', body: html`<section class="card"><p>There is no table named <code>${name}</code>.</p><p><a href="/catalog">Back to the catalog</a></p></section>` }, 404);
    }
    const t = d.table;
    const now = new Date();
    const body = html`
<p class="crumbs"><a href="/catalog">Catalog</a> › ${t.category}</p>
<section class="stats">
  <div class="stat"><span class="stat-value">${formatCount(t.rows)}</span><span class="stat-label">rows</span></div>
  <div class="stat"><span class="stat-value">${t.columns.length}</span><span class="stat-label">columns</span></div>
  <div class="stat"><span class="stat-value">${formatBytes(t.bytes)}</span><span class="stat-label">${t.files} file${t.files === 1 ? '' : 's'}</span></div>
  <div class="stat"><span class="stat-value">${t.publishedAt ? formatAgo(t.publishedAt, now) : 'never'}</span><span class="stat-label">published</span></div>
</section>
<div class="grid two">
  <section class="card">
    <h2>About</h2>
    <p>${t.description || html`<span class="muted">No description.</span>`}</p>
    <dl class="facts wide">
      <div><dt>source id</dt><dd><code>${t.id}</code></dd></div>
      <div><dt>strategy</dt><dd>${t.strategy.replace('_', ' ')}</dd></div>
      <div><dt>primary key</dt><dd>${t.primaryKey.length ? t.primaryKey.join(', ') : '—'}</dd></div>
      ${t.partitionBy ? html`<div><dt>partitions</dt><dd>by <code>${t.partitionBy}</code> (${t.partitionGranularity})</dd></div>` : ''}
      ${t.schedule ? html`<div><dt>schedule</dt><dd><code>${t.schedule}</code> UTC</dd></div>` : ''}
      ${t.dataset ? html`<div><dt>dataset</dt><dd>${deps.config.instance.datasets[t.dataset]?.label ?? t.dataset}</dd></div>` : ''}
      <div><dt>last sync</dt><dd>${t.lastRun ? html`${pill(t.lastRun.status === 'succeeded' ? 'healthy' : t.lastRun.status === 'failed' ? 'unhealthy' : 'degraded', t.lastRun.status)} ${formatTime(t.lastRun.finishedAt ?? t.lastRun.startedAt)}` : '—'}</dd></div>
      ${t.private ? html`<div><dt>access</dt><dd>${pill('private', 'private')} privileged analysts and admins</dd></div>` : ''}
    </dl>
    ${t.lastRun?.error ? html`<p class="refusal">Last error: ${t.lastRun.error.message} (${t.lastRun.error.code})</p>` : ''}
  </section>
  <section class="card">
    <h2>Publish history</h2>
    ${timeline(d.history.map((h) => ({ at: h.at, value: h.rows, display: `${formatCount(h.rows)} rows, ${formatBytes(h.bytes)}` })), 'Rows at each publish')}
  </section>
</div>
<section class="card">
  <h2>Schema</h2>
  <table class="data"><thead><tr><th>column</th><th>type</th><th>description</th><th class="num">complete</th><th class="num">distinct</th></tr></thead><tbody>
  ${t.columns.map((c) => {
    const p = d.profile?.columns.find((x) => x.name === c.name);
    return html`<tr><td><a href="#col-${c.name}"><code>${c.name}</code></a>${t.primaryKey.includes(c.name) ? html` <span class="pill muted">key</span>` : ''}</td><td class="type">${c.type}</td><td>${c.description ?? ''}</td><td class="num">${p ? `${formatNumber(p.completeness, 1)} %` : '—'}</td><td class="num">${p ? formatCount(p.unique_count) : '—'}</td></tr>`;
  })}
  </tbody></table>
</section>
${d.related.length ? html`<section class="card"><h2>Related tables</h2><ul class="related">${d.related.map((r) => html`<li><a href="/catalog/${encodeURIComponent(r.table)}">${r.table}</a>: <code>${r.from}</code> → <code>${r.to}</code>${r.description ? html` <span class="muted">${r.description}</span>` : ''}</li>`)}</ul></section>` : ''}
${d.metrics.length ? html`<section class="card"><h2>Metrics using this table</h2><ul>${d.metrics.map((m) => html`<li><a href="/metrics#${m.id}">${m.name}</a> <span class="muted">${m.description}</span></li>`)}</ul></section>` : ''}
${d.profile ? profileSection(d.profile) : html`<section class="card"><h2>Profile</h2><p class="muted">Not profiled yet: the profiler runs after each publish.</p></section>`}
<section class="card"><h2>Query it locally</h2><pre class="code"><code>${d.sql}</code></pre></section>`;
    return sendPage(deps, req, reply, { title: t.name, active: '/catalog', body, subtitle: t.category });
  });
}
