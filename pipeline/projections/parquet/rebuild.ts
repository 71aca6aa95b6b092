/**
 * Rebuilding published tables from the log without touching them until each is done: every table is rebuilt in a
 * staging directory inside the data directory, from its newest full refresh on, through the same writer as the live
 * path (consecutive upserts folded into one merge, see fold-runs.ts), then swapped in with one publish journal. A
 * table whose history cannot be read keeps its published files and is marked with `TableHistoryBroken`; the other
 * tables go on. When the files a table ends with are not byte for byte those its last `TablePublished` names (a merge
 * written again, a layout the configuration changed), a new `TablePublished` says so, so the profiler and the
 * analysts' manifests never describe bytes that are gone.
 */
import { createHash } from 'node:crypto';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { lastValueFrom, tap } from 'rxjs';
import type { AdaConfig, TableConfig } from '../../../config/index.ts';
import type { BlobStore, NewEvent, PublishedFile, RecordedEvent } from '../../../events/index.ts';
import type { RebuildContext } from '../../projection.ts';
import { foldRuns } from './fold-runs.ts';
import type { FoldedRun, LoggedChunk } from './fold-runs.ts';
import { REBUILD_DIR } from './publish-journal.ts';
import { publishedData } from './writer.ts';
import type { ParquetWriter } from './writer.ts';

/** A run as the log tells it, with the position of each chunk's event. */
interface LoggedRun {
  runId: string;
  table: string;
  mode?: 'replace' | 'upsert';
  position?: number;
  chunks: LoggedChunk[];
  published: boolean;
  /** The content hash its `TablePublished` recorded. */
  contentHash?: string;
}

/** A table's last `TablePublished`: what the profiler and the manifests believe is on disk. */
interface LastPublished {
  position: number;
  files: PublishedFile[];
}

/** Events between two progress reports. */
const PROGRESS_EVERY = 5_000;

/** What a rebuild works with besides the log. */
export interface RebuildDeps extends RebuildContext {
  config: AdaConfig;
  blobs: BlobStore;
  writer: () => Promise<ParquetWriter>;
  append: (event: NewEvent) => Promise<unknown>;
  warn: (message: string) => void;
}

/** Per table, the published runs a rebuild applies: those from the newest published full refresh (replace) on. */
export async function runsToRebuild(read$: RebuildContext['read$'], onProgress?: (position: number) => void): Promise<{ head: number; byTable: Map<string, LoggedRun[]>; broken: Record<string, number>; lastPublished: Map<string, LastPublished> }> {
  const runs = new Map<string, LoggedRun>();
  const broken: Record<string, number> = {};
  const lastPublished = new Map<string, LastPublished>();
  const published: LoggedRun[] = [];
  let head = 0;
  await lastValueFrom(read$(1).pipe(tap((e: RecordedEvent) => {
    head = e.position;
    if (onProgress && e.position % PROGRESS_EVERY === 0) onProgress(e.position);
    switch (e.type) {
      case 'TableChunkStaged': {
        const run = runs.get(e.data.runId) ?? { runId: e.data.runId, table: e.data.table, chunks: [], published: false };
        run.chunks.push({ blob: e.data.blob, rows: e.data.rows, schema: e.data.schema, at: e.position, runId: e.data.runId });
        runs.set(e.data.runId, run);
        break;
      }
      case 'TableStagingCompleted': {
        const run = runs.get(e.data.runId) ?? { runId: e.data.runId, table: e.data.table, chunks: [], published: false };
        run.mode = e.data.mode;
        run.position = e.position;
        runs.set(e.data.runId, run);
        break;
      }
      case 'TablePublished': {
        lastPublished.set(e.data.table, { position: e.position, files: e.data.files });
        const run = runs.get(e.data.runId);
        if (run && !run.published && run.mode && run.position !== undefined) {
          run.published = true;
          run.contentHash = e.data.contentHash;
          published.push(run);
        }
        break;
      }
      case 'SyncFailed': {
        const run = runs.get(e.data.runId);
        if (run && !run.published) runs.delete(e.data.runId);
        break;
      }
      case 'TableHistoryBroken':
        broken[e.data.table] = e.position;
        break;
      case 'TableHistoryRestarted':
        delete broken[e.data.table];
        break;
      default:
        break;
    }
  })), { defaultValue: undefined });
  const byTable = new Map<string, LoggedRun[]>();
  for (const run of published.sort((a, b) => (a.position ?? 0) - (b.position ?? 0))) {
    // A full refresh makes every earlier run of its table irrelevant: their blobs are not even read.
    if (run.mode === 'replace') byTable.set(run.table, [run]);
    else byTable.set(run.table, [...byTable.get(run.table) ?? [], run]);
  }
  return { head, byTable, broken, lastPublished };
}

/** Rebuilds every configured table aside and swaps each in when it is complete; returns the position reached and the tables whose history was broken there. */
export async function rebuildAside(deps: RebuildDeps): Promise<{ position: number; broken: Record<string, number> }> {
  const { head, byTable, broken, lastPublished } = await runsToRebuild(deps.read$, deps.onProgress);
  const writer = await deps.writer();
  const stageRoot = path.join(deps.dataDir, REBUILD_DIR);
  await rm(stageRoot, { recursive: true, force: true });
  try {
    for (const table of deps.config.tables) {
      const runs = byTable.get(table.name);
      if (!runs || runs.length === 0) continue;
      await rebuildTable(deps, writer, stageRoot, table, runs, head, lastPublished.get(table.name));
    }
  } finally {
    await rm(stageRoot, { recursive: true, force: true });
  }
  return { position: head, broken };
}

async function rebuildTable(deps: RebuildDeps, writer: ParquetWriter, stageRoot: string, table: TableConfig, runs: LoggedRun[], head: number, logged: LastPublished | undefined): Promise<void> {
  const aside = writer.aside(stageRoot);
  // Every chunk is verified before it is read; the later runs' chunks are hashed while the earlier runs are written.
  deps.blobs.verifyAhead(runs.flatMap((r) => r.chunks.map((c) => c.blob.sha256)));
  let current: FoldedRun | undefined;
  try {
    for (const run of foldRuns(runs.map((r) => ({ runId: r.runId, mode: r.mode!, position: r.position!, chunks: r.chunks })))) {
      current = run;
      await aside.apply({ runId: run.runId, table, mode: run.mode, position: run.position, chunks: run.chunks });
    }
  } catch (err) {
    const e = err as { code?: unknown; message?: unknown; details?: { sha256?: unknown } };
    const sha = typeof e.details?.sha256 === 'string' ? e.details.sha256 : undefined;
    const chunk = current?.chunks.find((c) => c.blob.sha256 === sha);
    const position = chunk?.at ?? current?.position ?? 0;
    const error = { code: typeof e.code === 'string' ? e.code : 'REBUILD_FAILED', message: String(e.message ?? err) };
    await deps.append({
      type: 'TableHistoryBroken', v: 1, key: `history-broken:${table.name}:${head}`,
      data: { table: table.name, runId: chunk?.runId ?? current?.runId ?? '', position, ...(sha ? { blob: sha } : {}), error },
    });
    await aside.forget(table);
    return;
  }
  const rebuilt = await aside.applied(table.name);
  const recorded = runs.at(-1)?.contentHash;
  if (rebuilt && recorded && rebuilt.contentHash !== recorded) {
    deps.warn(`replay: table ${table.name} run ${rebuilt.runId} rebuilt with content hash ${rebuilt.contentHash}, the log recorded ${recorded}`);
  }
  await writer.swapIn(aside, table);
  await aside.forget(table);
  await republishIfMoved(deps, writer, table, logged);
}

/**
 * Appends a `TablePublished` when a table's files on disk are not byte for byte those its last `TablePublished`
 * names. Compared after the swap, not decided by it, so a replay killed between the swap and the append still
 * records the change on the next replay; keyed by the event it corrects and the bytes it records, so it is recorded
 * once per correction.
 */
async function republishIfMoved(deps: RebuildDeps, writer: ParquetWriter, table: TableConfig, logged: LastPublished | undefined): Promise<void> {
  const now = await writer.applied(table.name);
  if (!now || !logged || sameBytes(now.files, logged.files)) return;
  const before = new Map(logged.files.map((f) => [f.partition, f.sha256]));
  const after = new Set(now.files.map((f) => f.partition));
  const touched = [
    ...now.files.filter((f) => f.partition !== undefined && before.get(f.partition) !== f.sha256).map((f) => f.partition!),
    ...logged.files.filter((f) => f.partition !== undefined && !after.has(f.partition)).map((f) => f.partition!),
  ].sort();
  const data = publishedData(table.syncStrategy, now);
  await deps.append({
    type: 'TablePublished', v: 1, key: `republished:${table.name}:${logged.position}:${bytesHash(now.files)}`,
    data: { ...data, ...(table.partitionBy ? { touchedPartitions: touched } : {}) },
  });
}

/** True when two file lists name the same paths with the same bytes. */
function sameBytes(a: readonly PublishedFile[], b: readonly PublishedFile[]): boolean {
  return bytesHash(a) === bytesHash(b);
}

/** sha256 over the sorted `path:sha256:bytes` lines of files. */
function bytesHash(files: readonly PublishedFile[]): string {
  return createHash('sha256').update(files.map((f) => `${f.path}:${f.sha256}:${f.bytes}`).sort().join('\n')).digest('hex');
}
