/** Opens everything a broker process works with: configuration, log, blobs, projections, bus. */
import path from 'node:path';
import { loadConfig } from '../config/index.ts';
import type { AdaConfig } from '../config/index.ts';
import { BlobStore, CheckpointStore, EventLog, EventLogReader, hasCode } from '../events/index.ts';
import type { AppendResult, NewEvent } from '../events/index.ts';
import { ConnectorRegistry } from '../connectors/index.ts';
import { ProjectionRunner, SyncBus, ParquetWriter, parquetProjection, catalogProjection, syncStateProjection, timersProjection, healthProjection } from '../pipeline/index.ts';
import type { Projection } from '../pipeline/index.ts';
import { accessProjection } from '../pipeline/projections/access/index.ts';
import { profilerProjection } from '../pipeline/projections/profiler/index.ts';
import { manifestProjection } from '../pipeline/projections/manifest/index.ts';
import { ControlClient } from './control.ts';
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
  /** Projections by name (parquet, catalog, sync-state, timers, health, access, manifest, profiler). */
  projections: Record<string, Projection<unknown>>;
  writer(): Promise<ParquetWriter>;
  close(): Promise<void>;
}

/** What commands that only append events need: local when the log is free, else through a running server. */
export interface EventBroker {
  config: AdaConfig;
  dataDir: string;
  log: { append(event: NewEvent): Promise<AppendResult> };
  runner: ProjectionRunner;
  projections: Record<string, Projection<unknown>>;
  /** Set when a running `ada serve` holds the log and this broker talks to it. */
  remote?: ControlClient;
  close(): Promise<void>;
}

type OpenOptions = { configDir?: string; dataDir?: string; env: NodeJS.ProcessEnv; eventSource: string; warn?: (m: string) => void; signal?: AbortSignal };

/**
 * Opens the broker, or, when `ada serve` holds the log, a client of its control socket that
 * appends through the server and reads the log directly (checkpoints are left to the server).
 */
export async function openEventBroker(opts: OpenOptions): Promise<EventBroker> {
  try {
    return await openBroker(opts);
  } catch (err) {
    if (!hasCode(err, 'LOCKED')) throw err;
    const dataDir = dataDirOf(opts.dataDir, opts.env);
    const remote = await ControlClient.connect(dataDir);
    if (!remote) throw err;
    const config = await loadConfig({ configDir: opts.configDir, env: opts.env });
    const reader = new EventLogReader(eventsDirOf(dataDir));
    const runner = new ProjectionRunner(reader, new CheckpointStore(path.join(dataDir, 'metadata', 'checkpoints'), { readOnly: true }), dataDir);
    return {
      config, dataDir, runner, remote,
      projections: { access: accessProjection as Projection<unknown> },
      log: { append: async (event) => (await remote.append([{ source: opts.eventSource, ...event }]))[0]! },
      close: async () => undefined,
    };
  }
}

/** Loads the configuration and opens the broker's stores. */
export async function openBroker(opts: OpenOptions): Promise<Broker> {
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
      manifest: manifestProjection(config) as Projection<unknown>,
      profiler: profilerProjection({ config, append: (e) => log.append(e), logger: { warn }, ...(opts.signal ? { signal: opts.signal } : {}) }) as Projection<unknown>,
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
