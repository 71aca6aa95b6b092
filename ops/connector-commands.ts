/**
 * Opens the broker for commands that connectors declare (`ada jira backfill`): in this process, or
 * through the running server's control socket; their projections get a runner of their own.
 */
import { BlobStore, CheckpointStore, EventLogReader } from '../events/index.ts';
import { checkpointsDirOf, eventsDirOf, ProjectionRunner } from '../pipeline/index.ts';
import type { OpenCommandBroker } from '../connectors/index.ts';
import { connectBroker } from './connect.ts';

/** The broker opener handed to connector commands. */
export const openCommandBroker: OpenCommandBroker = async (opts) => {
  const signal = new AbortController().signal;
  const conn = await connectBroker({ config: opts.configDir, data: opts.dataDir }, { env: opts.env, signal, err: (m) => opts.warn?.(m) ?? process.stderr.write(`${m}\n`) }, opts.eventSource);
  const { dataDir } = conn;
  const local = conn.local;
  // Over the control socket the server owns the checkpoints: this process folds in memory only.
  const runner = local
    ? new ProjectionRunner(local.log, new CheckpointStore(checkpointsDirOf(dataDir)), dataDir)
    : new ProjectionRunner(new EventLogReader(eventsDirOf(dataDir)), new CheckpointStore(checkpointsDirOf(dataDir), { readOnly: true }), dataDir);
  return {
    config: conn.config,
    dataDir,
    log: { append: async (event) => (await conn.api.append([{ source: opts.eventSource, ...event }]))[0]! },
    runner,
    ...(local ? { blobs: local.blobs } : { blobs: BlobStore.reader(`${dataDir}/blobs`) }),
    ...(conn.remote ? { remote: conn.remote } : {}),
    close: () => conn.close(),
  };
};
