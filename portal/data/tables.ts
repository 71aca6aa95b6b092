/**
 * The tables a principal may see, joined from configuration, catalog and sync state. Every page and
 * API starts from `visibleTables`, so a table the caller may not see is absent everywhere.
 */
import { catalogTables } from '../../config/index.ts';
import type { TableConfig } from '../../config/index.ts';
import type { ColumnSchema, RecordedError } from '../../events/index.ts';
import { tableGlob } from '../../pipeline/index.ts';
import type { CatalogState, SyncState } from '../../pipeline/index.ts';
import type { TableProfile } from '../../pipeline/index.ts';
import type { PortalPrincipal } from '../auth-plugin.ts';
import type { AppDeps } from '../deps.ts';

/** A table as pages show it. */
export interface TableView {
  name: string;
  id: string;
  description: string;
  folder: string;
  category: string;
  dataset?: string;
  private: boolean;
  strategy: string;
  primaryKey: string[];
  partitionBy?: string;
  partitionGranularity?: string;
  schedule?: string;
  published: boolean;
  rows: number;
  bytes: number;
  files: number;
  publishedAt?: string;
  lastRun?: { status: string; startedAt: string; finishedAt?: string; error?: RecordedError };
  columns: ColumnSchema[];
  foreignKeys: Array<{ column: string; references: string; description?: string }>;
  /** How to read it with DuckDB, relative to the analyst's `server/` copy. */
  readPath: string;
}

/** Whether a principal may see a table: private tables only for privileged analysts and admins. */
export function maySee(principal: PortalPrincipal | undefined, table: Pick<TableConfig, 'private'>): boolean {
  if (!principal) return false;
  return !table.private || principal.role === 'privileged' || principal.role === 'admin';
}

/** Views built from one pair of states (states are replaced, never changed, when events arrive), by who may see private tables. */
const built = new WeakMap<CatalogState, WeakMap<SyncState, Map<string, TableView[]>>>();
const EMPTY_CATALOG: CatalogState = { tables: {} };
const EMPTY_SYNC: SyncState = { tables: {} };

/**
 * States that promises resolved to, by promise. A head-memoised read (`whenHeadMoves`) hands out
 * the same promise until the log head moves, so a request that finds its promises here is answered
 * without waiting (the common case under load).
 */
const settled = new WeakMap<Promise<object>, object>();

/** What `p` resolved to, when it is known. */
function settledValue<S extends object>(p: Promise<S>): S | undefined {
  return settled.get(p) as S | undefined;
}

/** Waits for `p`, remembering what it resolved to. */
async function settle<S extends object>(p: Promise<S>): Promise<S> {
  const value = await p;
  settled.set(p, value);
  return value;
}

/** The tables of the configuration the principal may see, in catalog order, with what is published of them. */
export async function visibleTables(deps: AppDeps, principal: PortalPrincipal | undefined): Promise<TableView[]> {
  return visibleTablesSoon(deps, principal);
}

/** `visibleTables` without a promise when both states are at hand (their reads have settled), else the promise of them. */
export function visibleTablesSoon(deps: AppDeps, principal: PortalPrincipal | undefined): TableView[] | Promise<TableView[]> {
  const reads = [deps.catalog?.(), deps.syncState?.()] as const;
  const catalog = reads[0] ? settledValue(reads[0]) : EMPTY_CATALOG;
  const sync = reads[1] ? settledValue(reads[1]) : EMPTY_SYNC;
  if (catalog && sync) return viewsOf(deps, principal, catalog, sync);
  return Promise.all([reads[0] ? settle(reads[0]) : EMPTY_CATALOG, reads[1] ? settle(reads[1]) : EMPTY_SYNC])
    .then(([c, s]) => viewsOf(deps, principal, c, s));
}

function viewsOf(deps: AppDeps, principal: PortalPrincipal | undefined, catalog: CatalogState, sync: SyncState): TableView[] {
  const key = principal ? (maySee(principal, { private: true }) ? 'all' : 'public') : 'none';
  let bySync = built.get(catalog);
  if (!bySync) built.set(catalog, (bySync = new WeakMap()));
  let byKey = bySync.get(sync);
  if (!byKey) bySync.set(sync, (byKey = new Map()));
  let views = byKey.get(key);
  if (!views) byKey.set(key, (views = buildViews(deps, principal, catalog, sync)));
  return views;
}

function buildViews(deps: AppDeps, principal: PortalPrincipal | undefined, catalog: CatalogState, sync: SyncState): TableView[] {
  const order = deps.config.instance.catalog.order;
  const rank = (folder: string): number => (order.includes(folder) ? order.indexOf(folder) : order.length);
  return catalogTables(deps.config)
    .filter((t) => maySee(principal, t))
    .map((t): TableView => {
      const c = Object.hasOwn(catalog.tables, t.name) ? catalog.tables[t.name] : undefined;
      const s = Object.hasOwn(sync.tables, t.name) ? sync.tables[t.name] : undefined;
      const declared = new Map(t.columns.map((col) => [col.name, col.description]));
      const columns = c ? c.schema.map((col) => ({ ...col, ...(declared.get(col.name) ? { description: declared.get(col.name)! } : {}) }))
        : t.columns.map((col) => ({ name: col.name, type: col.type ?? '?', ...(col.description ? { description: col.description } : {}) }));
      return {
        name: t.name, id: t.id, description: t.description, folder: t.folder,
        category: deps.config.instance.catalog.categories[t.folder]?.label ?? t.folder,
        ...(t.dataset ? { dataset: t.dataset } : {}),
        private: t.private,
        strategy: c?.strategy ?? t.syncStrategy,
        primaryKey: t.primaryKey,
        ...(t.partitionBy ? { partitionBy: t.partitionBy, partitionGranularity: t.partitionGranularity } : {}),
        ...(t.schedule ? { schedule: t.schedule } : {}),
        published: Boolean(c),
        rows: c?.rows ?? 0,
        bytes: c?.bytes ?? 0,
        files: c?.files.length ?? 0,
        ...(c ? { publishedAt: c.publishedAt } : {}),
        ...(s?.lastRun ? { lastRun: { status: s.lastRun.status, startedAt: s.lastRun.startedAt, ...(s.lastRun.finishedAt ? { finishedAt: s.lastRun.finishedAt } : {}), ...(s.lastRun.error ? { error: s.lastRun.error } : {}) } } : {}),
        columns,
        foreignKeys: t.foreignKeys.map((fk) => ({ column: fk.column, references: fk.references, ...(fk.description ? { description: fk.description } : {}) })),
        readPath: c ? tableGlob(c, t) : (t.partitionBy ? `parquet/${t.folder}/${t.name}/*.parquet` : `parquet/${t.folder}/${t.name}.parquet`),
      };
    })
    .sort((a, b) => rank(a.folder) - rank(b.folder) || a.folder.localeCompare(b.folder) || a.name.localeCompare(b.name));
}

/** The profile of a visible table, with references to tables the principal may not see left out. */
export async function visibleProfile(deps: AppDeps, table: TableView, visible: ReadonlySet<string>): Promise<TableProfile | undefined> {
  const doc = await deps.profiles?.();
  const p = doc && Object.hasOwn(doc.tables, table.name) ? doc.tables[table.name] : undefined;
  if (!p) return undefined;
  return { ...p, related_tables: p.related_tables.filter((r) => visible.has(r.table)) };
}

/** Tables related by foreign keys, both directions, among the visible ones. */
export function relatedOf(table: TableView, all: TableView[]): Array<{ table: string; direction: 'outgoing' | 'incoming'; from: string; to: string; description?: string }> {
  const names = new Set(all.map((t) => t.name));
  const out = table.foreignKeys.filter((fk) => names.has(fk.references.split('.')[0]!)).map((fk) => ({
    table: fk.references.split('.')[0]!, direction: 'outgoing' as const, from: `${table.name}.${fk.column}`, to: fk.references, ...(fk.description ? { description: fk.description } : {}),
  }));
  const incoming = all.flatMap((o) => o.foreignKeys.filter((fk) => fk.references.split('.')[0] === table.name).map((fk) => ({
    table: o.name, direction: 'incoming' as const, from: `${o.name}.${fk.column}`, to: fk.references, ...(fk.description ? { description: fk.description } : {}),
  })));
  return [...out, ...incoming];
}
