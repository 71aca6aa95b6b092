/**
 * `ada init`'s view of a Keboola project through the connector's client: checking a token, and reading
 * buckets and tables with their descriptions, primary keys, sizes and column types from metadata.
 */
import { hasCode } from '../../events/index.ts';
import { isKnownType } from '../../pipeline/index.ts';
import type { SetupBucket, SetupTable } from '../../pipeline/index.ts';
import { KeboolaClient } from './client.ts';
import type { TableWithMetadata } from './client.ts';
import { KeboolaErrorCode } from './errors.ts';
import type { RetryPolicy } from './retry-policy.ts';
import type { TableDetail } from './storage-api-types.ts';
import { metadataColumns, tableDescription } from './table-schema.ts';

/**
 * Someone is waiting at a prompt: three attempts within 20 s tell a typo in the stack URL (or a dead network) from
 * a blip quickly, where a sync's policy keeps retrying for five minutes.
 */
export const INIT_RETRY: RetryPolicy = { maxAttempts: 3, baseDelayMs: 300, maxDelayMs: 2_000, maxTotalMs: 20_000 };

/** Alias tables whose source metadata is fetched at once. */
const ALIAS_CONCURRENCY = 4;

/** The outcome of checking a token against a stack. */
export type TokenCheck =
  | { ok: true; client: KeboolaClient; projectId?: string; projectName?: string }
  /** `unauthorized`: 401; `forbidden`: 403; `unreachable`: network or 5xx after retries; `not-keboola`: the URL answers, but not as a Storage API. */
  | { ok: false; reason: 'unauthorized' | 'forbidden' | 'unreachable' | 'not-keboola'; message: string };

/** Checks `token` with `GET /v2/storage/tokens/verify`; a failure says why in words a user can act on (never with the token). */
export async function checkToken(stackUrl: string, token: string, signal: AbortSignal, retry: RetryPolicy = INIT_RETRY): Promise<TokenCheck> {
  const client = new KeboolaClient({ stackUrl, token, retry });
  try {
    const info = await client.verifyToken(signal);
    const owner = info.owner;
    const result: TokenCheck = { ok: true, client };
    if (owner?.id !== undefined && owner.id !== null && String(owner.id) !== '') result.projectId = String(owner.id);
    if (typeof owner?.name === 'string' && owner.name !== '') result.projectName = owner.name;
    return result;
  } catch (err) {
    if (hasCode(err, KeboolaErrorCode.cancelled)) throw err;
    const detail = client.redact(err instanceof Error ? err.message : String(err));
    if (hasCode(err, KeboolaErrorCode.unauthorized)) {
      return { ok: false, reason: 'unauthorized', message: `${client.stackUrl} refused the Storage API token (HTTP 401). Check that you copied the whole token, that it is not expired, and that its project is on this stack.` };
    }
    if (hasCode(err, KeboolaErrorCode.forbidden)) {
      return { ok: false, reason: 'forbidden', message: `${client.stackUrl} does not let this token verify itself (HTTP 403). Use a Storage API token of the project (${detail}).` };
    }
    if (hasCode(err, KeboolaErrorCode.unavailable)) {
      return { ok: false, reason: 'unreachable', message: `Could not reach the Keboola stack at ${client.stackUrl}: ${detail}. Check the stack URL, your network and any proxy.` };
    }
    return { ok: false, reason: 'not-keboola', message: `${client.stackUrl} did not answer as a Keboola Storage API: ${detail}. Check the stack URL.` };
  }
}

/** Every bucket and table the token can read, tables with their columns and metadata. */
export async function readKeboolaProject(client: KeboolaClient, signal: AbortSignal): Promise<{ buckets: SetupBucket[]; tables: SetupTable[] }> {
  const [buckets, details] = await Promise.all([client.listBuckets(signal), client.listTables(signal)]);
  const withMetadata = await withAliasMetadata(client, details, signal);
  const tables = withMetadata.map(toProjectTable).sort((a, b) => a.id.localeCompare(b.id));
  return { buckets: buckets.map((b) => ({ id: b.id, ...(b.description ? { description: b.description } : {}) })), tables };
}

/** Table metadata as listed; an alias without column metadata takes its source table's (fetched). */
async function withAliasMetadata(client: KeboolaClient, details: TableDetail[], signal: AbortSignal): Promise<TableWithMetadata[]> {
  const out: TableWithMetadata[] = details.map((detail) => ({ detail, columnMetadata: columnMetadataOf(detail), metadata: detail.metadata ?? [] }));
  const aliases = out.map((t, i) => ({ t, i })).filter(({ t }) => t.detail.isAlias === true && Object.keys(t.columnMetadata).length === 0);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < aliases.length) {
      const { t, i } = aliases[next++]!;
      try {
        out[i] = await client.tableWithMetadata(t.detail.id, signal);
      } catch (err) {
        // The alias is still listed, with the columns it has; only its types and descriptions are missing.
        if (hasCode(err, KeboolaErrorCode.cancelled)) throw err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(ALIAS_CONCURRENCY, aliases.length) }, worker));
  return out;
}

function columnMetadataOf(detail: TableDetail): TableWithMetadata['columnMetadata'] {
  const value = detail.columnMetadata;
  return value && !Array.isArray(value) ? value : {};
}

function toProjectTable(keboola: TableWithMetadata): SetupTable {
  const { detail } = keboola;
  const bucket = typeof detail.bucket?.id === 'string' && detail.bucket.id !== '' ? detail.bucket.id : detail.id.slice(0, Math.max(0, detail.id.lastIndexOf('.')));
  const table: SetupTable = {
    id: detail.id,
    bucket,
    tableName: detail.name || detail.id.slice(detail.id.lastIndexOf('.') + 1),
    primaryKey: detail.primaryKey ?? [],
    columns: metadataColumns(keboola).map((c) => {
      const column: SetupTable['columns'][number] = { name: c.name };
      const base = c.typeFrom === 'default' ? undefined : c.sourceType?.trim().toUpperCase().replace(/\(.*\)$/, '').trim();
      if (base && isKnownType(base)) column.type = base;
      if (c.description !== undefined && c.description.trim() !== '') column.description = c.description.trim();
      return column;
    }),
  };
  const description = tableDescription(keboola)?.trim();
  if (description) table.description = description;
  if (typeof detail.rowsCount === 'number') table.rowsCount = detail.rowsCount;
  if (typeof detail.dataSizeBytes === 'number') table.dataSizeBytes = detail.dataSizeBytes;
  return table;
}
