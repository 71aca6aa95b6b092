/** Opens everything a broker process works with: configuration, log, blobs, projections, bus. */
import path from 'node:path';
import { loadConfig } from '../config/index.ts';
import type { AdaConfig } from '../config/index.ts';
import { BlobStore, CheckpointStore, EventLog } from '../events/index.ts';
import { ConnectorRegistry } from '../connectors/index.ts';
import { ProjectionRunner, SyncBus, ParquetWriter, parquetProjection, catalogProjection, syncStateProjection, timersProjection, healthProjection } from '../pipeline/index.ts';
import type { Projection } from '../pipeline/index.ts';
import { accessProjection } from '../pipeline/projections/access/index.ts';
import { dataDirOf, eventsDirOf } from './paths.ts';

/** An open broker; close it to release the log lock and DuckDB. */
export interface Broker {
  config: AdaConfig;
  dataDir: string;
  log: EventLog;
  blobs: BlobStore;
  checkpoints: CheckpointStore;
  runner: ProjectionRunner;
  connectors: ConnectorRegistry;
  bus: SyncBus;
  /** Projections by name (parquet, catalog, sync-state, timers, health). */
  projections: Record<string, Projection<unknown>>;
  writer(): Promise<ParquetWriter>;
  close(): Promise<void>;
}

/** Loads the configuration and opens the broker's stores. */
export async function openBroker(opts: { configDir?: string; dataDir?: string; env: NodeJS.ProcessEnv; eventSource: string; warn?: (m: string) => void }): Promise<Broker> {
  const config = await loadConfig({ configDir: opts.configDir, env: opts.env });
  const dataDir = dataDirOf(opts.dataDir, opts.env);
  const warn = opts.warn ?? ((m: string) => process.stderr.write(`warning: ${m}\n`));
  const log = await EventLog.open(eventsDirOf(dataDir), { defaultSource: opts.eventSource, logger: { warn } });
  try {
    const blobs = await BlobStore.create(path.join(dataDir, 'blobs'));
    const checkpoints = new CheckpointStore(path.join(dataDir, 'metadata', 'checkpoints'));
    const runner = new ProjectionRunner(log, checkpoints, dataDir);
    const connectors = new ConnectorRegistry(config);
    let writer: Promise<ParquetWriter> | undefined;
    const getWriter = (): Promise<ParquetWriter> => (writer ??= ParquetWriter.create(dataDir, blobs));
    const bus = new SyncBus({ config, dataDir, log, blobs, writer: await getWriter(), connectors, runner, eventSource: opts.eventSource });
    const projections: Record<string, Projection<unknown>> = {
      parquet: parquetProjection({ config, writer: getWriter, logger: { warn } }) as Projection<unknown>,
      catalog: catalogProjection(config) as Projection<unknown>,
      'sync-state': syncStateProjection as Projection<unknown>,
      timers: timersProjection as Projection<unknown>,
      health: healthProjection as Projection<unknown>,
      access: accessProjection as Projection<unknown>,
    };
    return {
      config, dataDir, log, blobs, checkpoints, runner, connectors, bus, projections, writer: getWriter,
      async close() {
        await connectors.close();
        if (writer) await (await writer).close();
        await log.close();
      },
    };
  } catch (err) {
    await log.close();
    throw err;
  }
}
