/**
 * The Parquet writer: applies one staged run to a table's published files, idempotently.
 * It remembers, per table, the last run it applied (`metadata/published/<table>.json`), so
 * applying the same run again (after a crash, or during a catch-up) does nothing.
 */
import { mkdir, readFile, readdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import writeFileAtomic from 'write-file-atomic';
import { adaError, ErrorCode } from '../../../events/index.ts';
import type { BlobRef, BlobStore, ColumnSchema, PublishedFile, TablePublished } from '../../../events/index.ts';
import type { TableConfig } from '../../../config/index.ts';
import { ParquetPublisher } from './publish.ts';
import { applyJournal, REBUILD_DIR, writeJournal } from './publish-journal.ts';
import type { PublishJournal } from './publish-journal.ts';
import { MANIFEST_NAME, tableLayout } from './table-layout.ts';
import type { PublishedTable, PublishResult } from './publish.ts';

/** A staged chunk of a run, as named by its `TableChunkStaged` event. */
export interface StagedChunk {
  blob: BlobRef;
  rows: number;
  schema: ColumnSchema[];
}

/** A run ready to publish. */
export interface StagedRun {
  runId: string;
  /** Log position of the run's `TableStagingCompleted`: runs of a table apply in this order. */
  position: number;
  table: TableConfig;
  mode: 'replace' | 'upsert';
  chunks: StagedChunk[];
}

/** What the writer remembers of a table. */
export interface AppliedRun extends PublishResult {
  table: string;
  runId: string;
  /** `TableStagingCompleted` position of the run; older runs are never applied over it. */
  position: number;
  appliedAt: string;
}

/** The data of the `TablePublished` that announces a table's applied state. */
export function publishedData(strategy: string, result: AppliedRun): TablePublished['data'] {
  return {
    runId: result.runId, table: result.table, folder: result.folder, strategy, files: result.files,
    rows: result.rows, bytes: result.bytes, schema: result.schema, contentHash: result.contentHash,
    ...(result.touchedPartitions ? { touchedPartitions: result.touchedPartitions } : {}),
  };
}

/** Applies staged runs through the DuckDB publisher and keeps the per-table applied state. */
export class ParquetWriter {
  private constructor(
    readonly dataDir: string,
    private readonly blobs: BlobStore,
    private readonly publisher: ParquetPublisher,
  ) {}

  /** Opens the writer; finishes any publish or rebuild swap a crash interrupted, and drops a killed rebuild's staging files. */
  static async create(dataDir: string, blobs: BlobStore, options: { memoryLimit?: string; publisher?: Promise<ParquetPublisher> } = {}): Promise<ParquetWriter> {
    const publisher = await (options.publisher ?? ParquetPublisher.create({ memoryLimit: options.memoryLimit }));
    await publisher.recover(dataDir);
    // Journals are rolled forward now, so a killed rebuild's staging copies are claimed by none.
    await rm(path.join(dataDir, REBUILD_DIR), { recursive: true, force: true });
    return new ParquetWriter(dataDir, blobs, publisher);
  }

  private stateFile(table: string): string {
    return path.join(this.dataDir, 'metadata', 'published', `${table}.json`);
  }

  /** The last run applied to a table, if any. */
  async applied(table: string): Promise<AppliedRun | undefined> {
    try {
      return JSON.parse(await readFile(this.stateFile(table), 'utf8')) as AppliedRun;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }

  /** Every table's last applied run. */
  async allApplied(): Promise<AppliedRun[]> {
    const dir = path.join(this.dataDir, 'metadata', 'published');
    let names: string[];
    try {
      names = await readdir(dir);
    } catch {
      return [];
    }
    const out: AppliedRun[] = [];
    for (const n of names) if (n.endsWith('.json')) {
      const a = await this.applied(n.slice(0, -5));
      if (a) out.push(a);
    }
    return out;
  }

  /** Publishes a run unless it is the table's last applied run; returns the table's published state. */
  async apply(run: StagedRun): Promise<{ result: AppliedRun; alreadyApplied: boolean }> {
    const previous = await this.applied(run.table.name);
    // The same run, or an older one (a catch-up replaying history the table already holds): nothing to do.
    if (previous && (previous.runId === run.runId || (previous.position ?? 0) >= run.position)) return { result: previous, alreadyApplied: true };
    // Hashed a few at a time (a run of many chunks from another process's staging), checked in order.
    this.blobs.verifyAhead(run.chunks.map((c) => c.blob.sha256));
    const chunks = [];
    for (const c of run.chunks) chunks.push({ path: await this.blobs.verifiedPath(c.blob.sha256), rows: c.rows, schema: c.schema });
    const prev: PublishedTable | undefined = previous
      ? {
        folder: previous.folder, files: previous.files, rows: previous.rows, bytes: previous.bytes, schema: previous.schema, contentHash: previous.contentHash,
        ...(previous.keyRanges ? { keyRanges: previous.keyRanges } : {}), ...(previous.rowSums ? { rowSums: previous.rowSums } : {}),
      }
      : undefined;
    const appliedAt = new Date().toISOString();
    const stateRel = path.relative(this.dataDir, this.stateFile(run.table.name)).split(path.sep).join('/');
    let written = false;
    const result = await this.publisher.publish({
      dataDir: this.dataDir, table: run.table, chunks, mode: run.mode, previous: prev,
      // The applied state travels in the publish journal: a crash leaves files and state both old or both new.
      extraFiles: (r) => {
        written = true;
        return [{ path: stateRel, content: JSON.stringify({ ...r, table: run.table.name, runId: run.runId, position: run.position, appliedAt }, null, 2) }];
      },
    });
    const applied: AppliedRun = { ...result, table: run.table.name, runId: run.runId, position: run.position, appliedAt };
    if (!written) {
      // Nothing on disk changed (an upsert without rows): record the run directly.
      await mkdir(path.dirname(this.stateFile(run.table.name)), { recursive: true });
      await writeFileAtomic(this.stateFile(run.table.name), JSON.stringify(applied, null, 2), { fsync: true });
    }
    return { result: applied, alreadyApplied: false };
  }

  /** A writer over the same publisher that publishes into `dir` instead (a rebuild's staging directory). */
  aside(dir: string): ParquetWriter {
    return new ParquetWriter(dir, this.blobs, this.publisher);
  }

  /**
   * Makes what `aside` built the table's published state, atomically (one publish journal, rolled forward after a
   * crash). A table whose rebuilt content equals what is published is left untouched, bytes and mtimes included.
   */
  async swapIn(aside: ParquetWriter, table: TableConfig): Promise<'unchanged' | 'swapped'> {
    const rebuilt = await aside.applied(table.name);
    if (!rebuilt) return 'unchanged';
    const current = await this.applied(table.name);
    const stageRel = path.relative(this.dataDir, aside.dataDir).split(path.sep).join('/');
    if (stageRel !== REBUILD_DIR) throw adaError(ErrorCode.badArgument, `rebuild staging directory must be ${REBUILD_DIR}, got ${stageRel}`);
    const layout = tableLayout(table.folder, table.name);
    const currentByPath = new Map((current?.files ?? []).map((f) => [f.path, f]));
    const files: PublishedFile[] = [];
    const renames: PublishJournal['renames'] = [];
    for (const f of rebuilt.files) {
      const cur = currentByPath.get(f.path);
      const same = cur !== undefined && (cur.sha256 === f.sha256 || (f.contentSha !== undefined && cur.contentSha === f.contentSha))
        && await sizeOf(path.join(this.dataDir, f.path)) === cur.bytes;
      // Same content as published: the published file stays, bytes and mtime included.
      if (same) files.push(cur);
      else {
        files.push(f);
        renames.push({ from: `${stageRel}/${f.path}`, to: f.path });
      }
    }
    const finalPaths = new Set(files.map((f) => f.path));
    const deletes = (current?.files ?? []).map((f) => f.path).filter((p) => !finalPaths.has(p));
    const manifests = new Set((current?.files ?? []).filter((f) => f.partition !== undefined).map((f) => path.posix.join(path.posix.dirname(f.path), MANIFEST_NAME)));
    if (table.partitionBy) manifests.delete(layout.manifest);
    deletes.push(...manifests);
    const staged = table.partitionBy ? await readFile(path.join(aside.dataDir, layout.manifest), 'utf8').catch(() => undefined) : undefined;
    const onDisk = table.partitionBy ? await readFile(path.join(this.dataDir, layout.manifest), 'utf8').catch(() => undefined) : undefined;
    const manifest = staged !== undefined && staged !== onDisk && renames.length > 0 ? staged : undefined;
    const state: AppliedRun = { ...rebuilt, files };
    const sameState = current !== undefined && current.runId === state.runId && current.contentHash === state.contentHash;
    if (renames.length === 0 && deletes.length === 0 && sameState) return 'unchanged';
    const stateRel = path.relative(this.dataDir, this.stateFile(table.name)).split(path.sep).join('/');
    const journal: PublishJournal = {
      v: 1, table: table.name, renames, deletes,
      ...(manifest !== undefined ? { manifest: { path: layout.manifest, content: manifest } } : {}),
      extras: [{ path: stateRel, content: JSON.stringify(state, null, 2) }],
    };
    for (const r of renames) await mkdir(path.dirname(path.join(this.dataDir, r.to)), { recursive: true });
    await writeJournal(this.dataDir, layout.journal, journal);
    await applyJournal(this.dataDir, layout.journal, journal);
    return 'swapped';
  }

  /** Removes a table's files and applied state from this writer's directory (a rebuild's staging copy). */
  async forget(table: TableConfig): Promise<void> {
    const layout = tableLayout(table.folder, table.name);
    await rm(path.join(this.dataDir, layout.singleFile), { force: true });
    await rm(path.join(this.dataDir, layout.partitionDir), { recursive: true, force: true });
    await rm(this.stateFile(table.name), { force: true });
  }

  /** Deletes every published file and the applied state (before a rebuild from the log). */
  static async reset(dataDir: string): Promise<void> {
    await rm(path.join(dataDir, 'parquet'), { recursive: true, force: true });
    await rm(path.join(dataDir, 'metadata', 'published'), { recursive: true, force: true });
  }

  async close(): Promise<void> {
    await this.publisher.close();
  }
}

async function sizeOf(file: string): Promise<number | undefined> {
  try {
    return (await stat(file)).size;
  } catch {
    return undefined;
  }
}
