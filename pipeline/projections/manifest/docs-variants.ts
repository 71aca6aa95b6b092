/**
 * The catalog docs and profiles in two variants, written under `<data>/distribution/<audience>/`: `all` as is,
 * `public` without private tables (their schema entries, pages, profiles, and relations naming them).
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import writeFileAtomic from 'write-file-atomic';
import YAML from 'yaml';
import { catalogTable, catalogTables } from '../../../config/index.ts';
import type { AdaConfig, TableConfig } from '../../../config/index.ts';
import { schemaDocument, tablePage } from '../catalog/projection.ts';
import type { CatalogState, CatalogTable } from '../catalog/projection.ts';
import { profilesFile } from '../profiler/profiles-file.ts';
import type { Audience, ManifestFile, ManifestState } from './types.ts';

/** Folder of a docs variant under the data directory. */
export function variantDir(dataDir: string, audience: Audience): string {
  return path.join(dataDir, 'distribution', audience);
}

/** Whether a table is private (a table missing from the configuration counts as private: nothing leaks by default). */
export function isPrivateTable(config: AdaConfig, table: string): boolean {
  return catalogTable(config, table)?.private ?? true;
}

/** The configuration as an audience sees it: private tables and the relations naming them removed. */
function configFor(config: AdaConfig, audience: Audience): AdaConfig {
  if (audience === 'all') return config;
  const visible = new Set(catalogTables(config).filter((t) => !t.private).map((t) => t.name));
  const seen = (list: readonly TableConfig[]): TableConfig[] => list.filter((t) => visible.has(t.name)).map((t) => ({ ...t, foreignKeys: t.foreignKeys.filter((fk) => visible.has(fk.references.split('.')[0]!)) }));
  return { ...config, tables: seen(config.tables), declaredTables: seen(config.declaredTables ?? []) };
}

function catalogOf(state: ManifestState, config: AdaConfig): CatalogState {
  const known = new Set(catalogTables(config).map((t) => t.name));
  const tables: Record<string, CatalogTable> = {};
  for (const t of Object.values(state.tables)) {
    if (!known.has(t.table)) continue;
    tables[t.table] = { table: t.table, folder: t.folder, strategy: t.strategy, rows: t.rows, bytes: t.bytes, files: t.files.map((f) => f.path), schema: t.schema, publishedAt: t.publishedAt, contentHash: t.contentHash };
  }
  return { tables };
}

async function writeEntry(root: string, rel: string, text: string, version: number, previous: ManifestFile[], table?: string): Promise<ManifestFile> {
  const bytes = Buffer.from(text, 'utf8');
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  const before = previous.find((f) => f.path === rel);
  const file = path.join(root, rel);
  if (before?.sha256 === sha256) return before;
  await mkdir(path.dirname(file), { recursive: true });
  await writeFileAtomic(file, bytes, { mode: 0o600 });
  return { path: rel, size: bytes.length, sha256, version, ...(table !== undefined ? { table } : {}) };
}

/** Writes one audience's docs (unchanged files are not rewritten) and returns their manifest entries. */
export async function writeVariant(dataDir: string, state: ManifestState, config: AdaConfig, audience: Audience, version: number): Promise<ManifestFile[]> {
  const root = variantDir(dataDir, audience);
  const seen = configFor(config, audience);
  const catalog = catalogOf(state, seen);
  const previous = state.docs[audience];
  const out: ManifestFile[] = [];
  out.push(await writeEntry(root, 'docs/schema.yml', YAML.stringify(schemaDocument(catalog, seen)), version, previous));
  for (const t of Object.values(catalog.tables).sort((a, b) => a.table.localeCompare(b.table))) {
    const c = catalogTable(seen, t.table);
    out.push(await writeEntry(root, `docs/tables/${t.table}.md`, tablePage(t, c, catalog, seen), version, previous, t.table));
  }
  let profiles: { tables?: Record<string, unknown> } & Record<string, unknown> = {};
  try {
    profiles = JSON.parse(await readFile(profilesFile(dataDir), 'utf8')) as typeof profiles;
  } catch {
    // No profiles yet (or an unreadable file, which the profiler rewrites): the variant has none either.
  }
  if (profiles.tables && typeof profiles.tables === 'object') {
    // Relations naming a table of another audience go too: a public profile must not reveal a private table's name.
    const tables = Object.fromEntries(Object.entries(profiles.tables).filter(([name]) => Object.hasOwn(catalog.tables, name)).map(([name, p]) => {
      const entry = p as { related_tables?: Array<{ table: string }> };
      return [name, Array.isArray(entry.related_tables) ? { ...entry, related_tables: entry.related_tables.filter((r) => catalogTable(seen, r.table) !== undefined) } : entry];
    }));
    out.push(await writeEntry(root, 'metadata/profiles.json', `${JSON.stringify({ ...profiles, tables }, null, 2)}\n`, version, previous));
  }
  const keep = new Set(out.map((f) => f.path));
  for (const stale of previous.filter((f) => !keep.has(f.path))) await rm(path.join(root, stale.path), { force: true });
  return out;
}
