/** The MCP tools over the analyst's local copy: list, search and describe tables, and read-only SQL. */
import type { PullLayout } from '../pull/index.ts';
import { readLocalCatalog } from '../pull/index.ts';
import type { LocalTable } from '../pull/index.ts';
import type { ReadOnlyDatabase } from './read-only-query.ts';

/** A tool: JSON Schema of its input, and what it does. */
export interface Tool {
  name: string;
  description: string;
  inputSchema: { type: 'object'; properties: Record<string, unknown>; required?: string[] };
  run(args: Record<string, unknown>): Promise<unknown>;
}

function summary(t: LocalTable): Record<string, unknown> {
  return { name: t.name, description: t.description ?? null, rows: t.rows ?? null, columns: t.columns.length, last_published: t.last_published ?? null, alerts: t.profile?.alerts?.length ?? 0 };
}

/** The tools, reading the catalog afresh on each call (a pull may have changed it). */
export function mcpTools(layout: PullLayout, db: () => Promise<ReadOnlyDatabase>): Tool[] {
  const tables = async (): Promise<LocalTable[]> => (await readLocalCatalog(layout)).tables;
  return [
    {
      name: 'list_tables',
      description: 'Lists the tables of the analyst\'s local copy: name, description, rows, columns, last published, number of data quality alerts.',
      inputSchema: { type: 'object', properties: {} },
      run: async () => ({ tables: (await tables()).map(summary) }),
    },
    {
      name: 'search_tables',
      description: 'Finds tables whose name, description, column names or column descriptions contain all the words of the query (case-insensitive).',
      inputSchema: { type: 'object', properties: { query: { type: 'string', description: 'words to look for, e.g. "customer country"' } }, required: ['query'] },
      async run(args) {
        const words = String(args.query ?? '').toLowerCase().split(/\s+/).filter(Boolean);
        const hits = (await tables()).flatMap((t) => {
          const text = [t.name, t.description, ...t.columns.flatMap((c) => [c.name, c.description])].filter(Boolean).join(' ').toLowerCase();
          if (!words.every((w) => text.includes(w))) return [];
          const columns = t.columns.filter((c) => words.some((w) => `${c.name} ${c.description ?? ''}`.toLowerCase().includes(w))).map((c) => c.name);
          return [{ ...summary(t), matching_columns: columns }];
        });
        return { tables: hits };
      },
    },
    {
      name: 'describe_table',
      description: 'Describes one table: columns with types and descriptions, primary key, freshness, relations to other tables, profile statistics and alerts, metrics.',
      inputSchema: { type: 'object', properties: { table: { type: 'string' } }, required: ['table'] },
      async run(args) {
        const all = await tables();
        const t = all.find((x) => x.name === args.table);
        if (!t) throw new Error(`no table ${JSON.stringify(args.table)} in your copy; list_tables shows the ${all.length} you have`);
        const profileColumns = new Map((t.profile?.columns ?? []).map((c) => [String(c.name), c]));
        return {
          name: t.name,
          description: t.description ?? null,
          primary_key: t.primary_key ?? [],
          sync_strategy: t.sync_strategy ?? null,
          partition_by: t.partition_by ?? null,
          freshness: { last_published: t.last_published ?? null, rows: t.rows ?? null, date_range: t.profile?.date_range ?? null, profile_stale: t.profile?.stale ?? null },
          relations: [
            ...(t.foreign_keys ?? []).map((fk) => ({ from: `${t.name}.${fk.column}`, to: fk.references, description: fk.description ?? null })),
            ...(t.profile?.related_tables ?? []).filter((r) => r.direction === 'incoming').map((r) => ({ from: r.from, to: r.to })),
          ],
          columns: t.columns.map((c) => {
            const p = profileColumns.get(c.name) ?? {};
            const { histogram: _h, top_values: top, samples, ...stats } = p as Record<string, unknown>;
            return { name: c.name, type: c.type, description: c.description ?? null, ...stats, ...(top ? { top_values: top } : {}), ...(samples ? { samples } : {}) };
          }),
          alerts: t.profile?.alerts ?? [],
          metrics: t.metrics ?? null,
          query_with: `SELECT * FROM ${t.name} LIMIT 10`,
        };
      },
    },
    {
      name: 'query',
      description: 'Runs one read-only SQL SELECT (DuckDB dialect) over the views of analytics.duckdb, one per table. Limited in rows, bytes and time; aggregate or add LIMIT for big tables.',
      inputSchema: { type: 'object', properties: { sql: { type: 'string' }, max_rows: { type: 'integer', minimum: 1 } }, required: ['sql'] },
      async run(args) {
        const answer = await (await db()).query(String(args.sql ?? ''), typeof args.max_rows === 'number' ? args.max_rows : undefined);
        return { columns: answer.columns, rows: answer.rows, row_count: answer.rows.length };
      },
    },
  ];
}
