/** Which events a principal may see on the event log page, and how they read (private table names and token hashes removed). */
import type { RecordedEvent } from '../../events/index.ts';
import type { PortalPrincipal } from '../auth-plugin.ts';

/** Events about access (people, tokens, subscriptions): admins only. */
const ADMIN_ONLY = new Set(['AnalystAdded', 'AnalystRemoved', 'AnalystSshKeyChanged', 'TokenIssued', 'TokenRevoked', 'DatasetSubscribed', 'DatasetUnsubscribed', 'JiraIssueChanged']);

/** The tables an event is about. */
export function tablesOf(e: RecordedEvent): string[] {
  const d = e.data as { table?: unknown; tables?: unknown };
  if (typeof d.table === 'string') return [d.table];
  if (Array.isArray(d.tables)) return d.tables.filter((t): t is string => typeof t === 'string');
  return [];
}

/**
 * The event as the principal may see it, or undefined. `visible` holds the tables they may see;
 * `hidden` the names and ids of those they may not (for scrubbing free text such as health reasons).
 */
export function visibleEvent(e: RecordedEvent, principal: PortalPrincipal, visible: ReadonlySet<string>, hidden: readonly string[]): RecordedEvent | undefined {
  const admin = principal.role === 'admin';
  if (ADMIN_ONLY.has(e.type) && !admin) return undefined;
  if (e.type === 'NotificationDispatched' && !admin && e.data.to !== undefined && e.data.to !== principal.name) return undefined;
  const tables = tablesOf(e);
  if (tables.length && !tables.some((t) => visible.has(t))) return undefined;
  let out: RecordedEvent = e;
  const d = e.data as Record<string, unknown>;
  if (Array.isArray(d.tables) && tables.some((t) => !visible.has(t))) out = { ...out, data: { ...d, tables: tables.filter((t) => visible.has(t)) } } as RecordedEvent;
  if (e.type === 'TokenIssued') out = { ...out, data: { ...e.data, hash: '(not shown)' } } as RecordedEvent;
  if (e.type === 'HealthChanged' && hidden.length) {
    const mentions = (r: string): boolean => hidden.some((n) => r.includes(n));
    const kept = e.data.reasons.filter((r) => !mentions(r));
    const dropped = e.data.reasons.length - kept.length;
    out = { ...out, data: { ...e.data, reasons: dropped ? [...kept, `${dropped} problem${dropped > 1 ? 's' : ''} with restricted tables`] : kept } } as RecordedEvent;
  }
  return out;
}
