/**
 * The Parquet writer: applies one staged run to a table's published files, idempotently.
 * It remembers, per table, the last run it applied (`metadata/published/<table>.json`), so
 * applying the same run again (after a crash, or during a catch-up) does nothing.
 */
import { mkdir, readFile, readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import writeFileAtomic from 'write-file-atomic';
import type { BlobRef, BlobStore, ColumnSchema } from '../../../events/index.ts';
import type { TableConfig } from '../../../config/index.ts';
import { ParquetPublisher } from './publish.ts';
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

/** Applies staged runs through the DuckDB publisher and keeps the per-table applied state. */
export class ParquetWriter {
  private constructor(
    private readonly dataDir: string,
    private readonly blobs: BlobStore,
    private readonly publisher: ParquetPublisher,
  ) {}

  /** Opens the writer; finishes any publish a crash interrupted. */
  static async create(dataDir: string, blobs: BlobStore, options: { memoryLimit?: string } = {}): Promise<ParquetWriter> {
    const publisher = await ParquetPublisher.create({ memoryLimit: options.memoryLimit });
    await publisher.recover(dataDir);
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
    const chunks = [];
    for (const c of run.chunks) chunks.push({ path: await this.blobs.verifiedPath(c.blob.sha256), rows: c.rows, schema: c.schema });
    const prev: PublishedTable | undefined = previous
      ? { folder: previous.folder, files: previous.files, rows: previous.rows, bytes: previous.bytes, schema: previous.schema, contentHash: previous.contentHash }
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

  /** Deletes every published file and the applied state (before a rebuild from the log). */
  static async reset(dataDir: string): Promise<void> {
    await rm(path.join(dataDir, 'parquet'), { recursive: true, force: true });
    await rm(path.join(dataDir, 'metadata', 'published'), { recursive: true, force: true });
  }

  async close(): Promise<void> {
    await this.publisher.close();
  }
}
