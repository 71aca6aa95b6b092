/** A data directory with a real event log for profiler tests: writes Parquet with DuckDB and appends `TablePublished` for it. */
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { TestContext } from 'node:test';
import { lastValueFrom, toArray } from 'rxjs';
import type { AdaConfig } from '../../../config/index.ts';
import { CheckpointStore, EventLog, hashFile } from '../../../events/index.ts';
import type { EventType, PublishedFile, RecordedEvent } from '../../../events/index.ts';
import { ProjectionRunner } from '../../../pipeline/projection-runner.ts';
import { profilerProjection } from '../../../pipeline/projections/profiler/index.ts';
import type { ProfilerOptions, ProfilesDocument, TableProfile } from '../../../pipeline/projections/profiler/index.ts';
import { parquetColumns, queryRows, writeParquet } from '../../helpers/parquet.ts';
import { tempDir } from '../../helpers/tmp.ts';

/** A temp data directory, its open log and a projection runner. */
export interface ProfilerSandbox {
  dataDir: string;
  log: EventLog;
  runner: ProjectionRunner;
  /** Writes `select` as Parquet (one file, or one per partition) and appends its `TablePublished`; returns the event's data. */
  publish(table: string, select: string | Record<string, string>, opts?: { contentHash?: string; strategy?: string }): Promise<RecordedEvent<Extract<RecordedEvent, { type: 'TablePublished' }>>['data']>;
  /** Catches the profiler projection up with the log. */
  catchUp(config: AdaConfig, options?: ProfilerOptions): Promise<void>;
  events(...types: EventType[]): Promise<RecordedEvent[]>;
  profiles(): Promise<ProfilesDocument>;
  profile(table: string): Promise<TableProfile>;
}

export async function profilerSandbox(t: Pick<TestContext, 'after'>): Promise<ProfilerSandbox> {
  const dataDir = await tempDir(t, 'ada-profiler-');
  const log = await EventLog.open(path.join(dataDir, 'events'), { logger: { warn: () => undefined } });
  t.after(() => log.close());
  const runner = new ProjectionRunner(log, new CheckpointStore(path.join(dataDir, 'metadata', 'checkpoints')), dataDir);
  let run = 0;
  const sandbox: ProfilerSandbox = {
    dataDir, log, runner,
    async publish(table, select, opts = {}) {
      const parts = typeof select === 'string' ? { '': select } : select;
      const files: PublishedFile[] = [];
      for (const [partition, sql] of Object.entries(parts)) {
        const rel = partition ? `parquet/shop/${table}/${partition}.parquet` : `parquet/shop/${table}.parquet`;
        const abs = path.join(dataDir, rel);
        await mkdir(path.dirname(abs), { recursive: true });
        await writeParquet(abs, sql);
        const { sha256, bytes } = await hashFile(abs);
        const rows = Number((await queryRows(`SELECT count(*) AS n FROM read_parquet('${abs}')`))[0]!.n);
        files.push({ path: rel, rows, bytes, sha256, ...(partition ? { partition } : {}) });
      }
      const schema = (await parquetColumns(files.map((f) => path.join(dataDir, f.path)))).map((c) => ({ name: c.name, type: c.type }));
      const data = {
        runId: `run-${++run}`, table, folder: 'shop', strategy: opts.strategy ?? 'full_refresh', files,
        rows: files.reduce((n, f) => n + f.rows, 0), bytes: files.reduce((n, f) => n + f.bytes, 0), schema,
        contentHash: opts.contentHash ?? files.map((f) => f.sha256).join(':'),
      };
      await log.append({ type: 'TablePublished', v: 1, key: `published:${data.runId}`, data });
      return data;
    },
    async catchUp(config, options) {
      await runner.catchUp(profilerProjection({ config, append: (e) => log.append(e), options }));
    },
    async events(...types) {
      const all = await lastValueFrom(log.read$(1).pipe(toArray()));
      return types.length ? all.filter((e) => types.includes(e.type)) : all;
    },
    async profiles() {
      return JSON.parse(await readFile(path.join(dataDir, 'metadata', 'profiles.json'), 'utf8')) as ProfilesDocument;
    },
    async profile(table) {
      const p = (await sandbox.profiles()).tables[table];
      if (!p) throw new Error(`no profile of ${table}`);
      return p;
    },
  };
  return sandbox;
}

/** Asserts two numbers are equal to `digits` decimals. */
export function near(actual: unknown, expected: number, digits = 6): boolean {
  return typeof actual === 'number' && Math.abs(actual - expected) < 10 ** -digits;
}
