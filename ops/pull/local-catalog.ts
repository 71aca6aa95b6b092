/** The catalog as the analyst's copy holds it: `server/docs/schema.yml`, `server/metadata/profiles.json`, `.ada/manifest.json`. */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import YAML from 'yaml';
import type { AnalystManifest } from '../../pipeline/index.ts';
import type { PullLayout } from './layout.ts';

/** A column in schema.yml. */
export interface CatalogColumn {
  name: string;
  type: string;
  description?: string;
}

/** A table in schema.yml, plus its profile when there is one. */
export interface LocalTable {
  name: string;
  description?: string;
  folder?: string;
  primary_key?: string[];
  sync_strategy?: string;
  partition_by?: string;
  dataset?: string;
  private?: boolean;
  rows?: number;
  size_bytes?: number;
  last_published?: string;
  columns: CatalogColumn[];
  foreign_keys?: Array<{ column: string; references: string; description?: string }>;
  metrics?: unknown;
  profile?: {
    row_count?: number;
    alerts?: Array<{ type: string; column?: string; message: string; severity: string }>;
    related_tables?: Array<{ table: string; direction: string; from: string; to: string }>;
    date_range?: { column: string; earliest: string; latest: string } | null;
    stale?: boolean;
    columns?: Array<Record<string, unknown>>;
  };
}

/** What the local copy says about the tables the analyst has (those with a view), sorted by name. */
export async function readLocalCatalog(layout: PullLayout): Promise<{ manifest: AnalystManifest; tables: LocalTable[] }> {
  const manifest = JSON.parse(await readFile(layout.manifest, 'utf8')) as AnalystManifest;
  const read = async (rel: string): Promise<string | undefined> => readFile(path.join(layout.server, rel), 'utf8').catch(() => undefined);
  const schema = (YAML.parse((await read('docs/schema.yml')) ?? '{}') ?? {}) as { tables?: LocalTable[] };
  const profiles = JSON.parse((await read('metadata/profiles.json')) ?? '{}') as { tables?: Record<string, LocalTable['profile']> };
  const have = new Set(manifest.tables.map((t) => t.name));
  const tables = (schema.tables ?? []).filter((t) => have.has(t.name)).map((t) => {
    const profile = profiles.tables?.[t.name];
    return { ...t, columns: t.columns ?? [], ...(profile ? { profile } : {}) };
  });
  return { manifest, tables: tables.sort((a, b) => a.name.localeCompare(b.name)) };
}
