/** The event log (`/events`, `/api/events`, one event at `/events/:position`): newest first, filtered by type, table and time. */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { adaError, EVENT_TYPES } from '../../events/index.ts';
import type { RecordedEvent } from '../../events/index.ts';
import { requireRole } from '../auth-plugin.ts';
import { html } from '../views/html.ts';
import { formatTime } from '../views/format.ts';
import type { WebDeps } from '../web-deps.ts';
import { tablesOf, visibleEvent } from '../data/event-visibility.ts';
import { hiddenNames, pageAuth, principalOf, sendPage, tablesFor } from './context.ts';
import { errorSchema, eventsSchema } from './schemas.ts';
import { PortalErrorCode } from '../errors.ts';

/** Most events one page shows. */
const PAGE_SIZE = 100;

interface EventQuery {
  type?: string;
  table?: string;
  since?: string;
  until?: string;
  limit?: number;
}

/** The events the caller may see, newest first, filtered. */
export async function eventsData(deps: WebDeps, req: FastifyRequest, q: EventQuery) {
  const principal = principalOf(req);
  const { names } = await tablesFor(deps, req);
  const hidden = hiddenNames(deps, names);
  await deps.index.refresh();
  const out: RecordedEvent[] = [];
  const limit = Math.min(q.limit ?? PAGE_SIZE, PAGE_SIZE);
  for (const e of deps.index.newest()) {
    if (q.type && e.type !== q.type) continue;
    if (q.since && e.at < q.since) break;
    if (q.until && e.at > q.until) continue;
    const v = visibleEvent(e, principal, names, hidden);
    if (!v || (q.table && !tablesOf(v).includes(q.table))) continue;
    out.push(v);
    if (out.length >= limit) break;
  }
  return { events: out, head: deps.events?.head ?? 0, tables: [...names] };
}

function summary(e: RecordedEvent): string {
  const d = e.data as Record<string, unknown>;
  switch (e.type) {
    case 'TablePublished': return `${e.data.table}: ${e.data.rows.toLocaleString('en-US')} rows published`;
    case 'SyncStarted': return `${e.data.table}: sync started (${e.data.trigger})`;
    case 'SyncSucceeded': return `${e.data.table}: ${e.data.rows.toLocaleString('en-US')} rows fetched in ${(e.data.durationMs / 1000).toFixed(1)} s`;
    case 'SyncFailed': return `${e.data.table}: ${e.data.error.message}`;
    case 'HealthChanged': return `${e.data.previous} → ${e.data.status}${e.data.reasons.length ? `: ${e.data.reasons.join('; ')}` : ''}`;
    case 'NotificationDispatched': return `${e.data.title}${e.data.to ? ` (to ${e.data.to})` : ''}`;
    default: return typeof d.table === 'string' ? d.table : Array.isArray(d.tables) ? d.tables.join(', ') : typeof d.name === 'string' ? d.name : typeof d.analyst === 'string' ? `${d.analyst}: ${String(d.dataset)}` : '';
  }
}

const tone = (type: string): string => (type.endsWith('Failed') ? 'unhealthy' : type === 'TablePublished' || type === 'SyncSucceeded' ? 'healthy' : type === 'HealthChanged' ? 'degraded' : 'muted');

/** Registers the event log pages and APIs. */
export async function eventRoutes(app: FastifyInstance, deps: WebDeps): Promise<void> {
  const querystring = {
    type: 'object',
    properties: {
      type: { type: 'string', maxLength: 64 }, table: { type: 'string', maxLength: 300 },
      since: { type: 'string', maxLength: 40 }, until: { type: 'string', maxLength: 40 },
      limit: { type: 'integer', minimum: 1, maximum: PAGE_SIZE },
    },
  } as const;
  const params = { type: 'object', properties: { position: { type: 'integer', minimum: 1 } }, required: ['position'] } as const;
  const one = async (req: FastifyRequest): Promise<RecordedEvent> => {
    const position = (req.params as { position: number }).position;
    const { names } = await tablesFor(deps, req);
    await deps.index.refresh();
    const e = deps.index.at(position);
    const v = e && visibleEvent(e, principalOf(req), names, hiddenNames(deps, names));
    if (!v) throw adaError(PortalErrorCode.notFound, `no event at position ${position} that you may see (the page keeps the newest events)`);
    return v;
  };

  app.get('/api/events', { onRequest: requireRole(), schema: { querystring, response: { 200: eventsSchema } } }, async (req) => {
    const { events, head } = await eventsData(deps, req, req.query as EventQuery);
    return { events, head };
  });
  app.get('/api/events/:position', { onRequest: requireRole(), schema: { params, response: { 200: { type: 'object', additionalProperties: true }, 404: errorSchema } } }, async (req) => one(req));

  app.get('/events', { onRequest: pageAuth(deps), schema: { querystring } }, async (req, reply) => {
    const q = req.query as EventQuery;
    const d = await eventsData(deps, req, q);
    const body = html`
<form class="filters" method="get" action="/events">
  <label>type <select name="type"><option value="">any</option>${EVENT_TYPES.map((t) => html`<option ${q.type === t ? html`selected` : ''}>${t}</option>`)}</select></label>
  <label>table <select name="table"><option value="">any</option>${d.tables.sort().map((t) => html`<option ${q.table === t ? html`selected` : ''}>${t}</option>`)}</select></label>
  <label>since <input type="datetime-local" name="since" value="${q.since ?? ''}"></label>
  <label>until <input type="datetime-local" name="until" value="${q.until ?? ''}"></label>
  <button class="button" type="submit">Filter</button>
</form>
<section class="card">
  <table class="data events"><thead><tr><th class="num">#</th><th>time</th><th>event</th><th>what</th><th>source</th></tr></thead><tbody data-live="events">
  ${d.events.length === 0 ? html`<tr><td colspan="5" class="muted">No events match.</td></tr>` : ''}
  ${d.events.map((e) => html`<tr><td class="num"><a href="/events/${e.position}">${e.position}</a></td><td>${formatTime(e.at)}</td><td><span class="pill ${tone(e.type)}">${e.type}</span></td><td>${summary(e)}</td><td class="muted">${e.source}</td></tr>`)}
  </tbody></table>
</section>`;
    return sendPage(deps, req, reply, { title: 'Event log', active: '/events', body, subtitle: 'Everything that happened, newest first; follows live' });
  });

  app.get('/events/:position', { onRequest: pageAuth(deps), schema: { params } }, async (req, reply) => {
    let e: RecordedEvent;
    try {
      e = await one(req);
    } catch (err) {
      if ((err as { code?: string }).code !== PortalErrorCode.notFound) throw err;
      return sendPage(deps, req, reply, { title: 'No such event', active: '/events', body: html`<section class="card"><p>${(err as Error).message}</p></section>` }, 404);
    }
    const body = html`<p class="crumbs"><a href="/events">Event log</a> › #${e.position}</p>
<section class="card"><h2><span class="pill ${tone(e.type)}">${e.type}</span> v${e.v}</h2>
<dl class="facts wide"><div><dt>position</dt><dd>${e.position}</dd></div><div><dt>time</dt><dd>${e.at}</dd></div><div><dt>id</dt><dd><code>${e.id}</code></dd></div><div><dt>source</dt><dd>${e.source}</dd></div>${e.key ? html`<div><dt>key</dt><dd><code>${e.key}</code></dd></div>` : ''}</dl>
<pre class="code"><code>${JSON.stringify(e.data, null, 2)}</code></pre></section>`;
    return sendPage(deps, req, reply, { title: `Event #${e.position}`, active: '/events', body });
  });
}
