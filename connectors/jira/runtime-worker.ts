/**
 * The thread of `startJiraThread`: the Jira runtime (fetch reactor, projection, timers) over the log read from its
 * files, up to the head the main thread says is durable, appending through the main thread.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { Subject } from 'rxjs';
import { BlobStore, CheckpointStore, EventLogReader } from '../../events/index.ts';
import type { AppendResult, NewEvent } from '../../events/index.ts';
import { ProjectionRunner } from '../../pipeline/index.ts';
import { startJira } from './runtime.ts';
import type { JiraRuntime } from './runtime.ts';
import type { FromJiraThread, JiraThreadData, ToJiraThread } from './runtime-thread.ts';

const port = parentPort;
if (!port) throw new Error('runtime-worker.ts runs as a worker thread only');
const data = workerData as JiraThreadData;
const send = (m: FromJiraThread): void => port.postMessage(m);

let head = data.head;
const recorded = new Subject<{ position: number; type: string }>();
let nextId = 1;
const appends = new Map<number, { resolve(r: AppendResult): void; reject(err: Error): void }>();
const append = (event: NewEvent): Promise<AppendResult> => new Promise<AppendResult>((resolve, reject) => {
  const id = nextId++;
  appends.set(id, { resolve, reject });
  send({ kind: 'append', id, event });
});

const runner = new ProjectionRunner(new EventLogReader(data.logDir, { durableHead: () => head }), new CheckpointStore(data.checkpointsDir), data.dataDir);
const started: Promise<JiraRuntime> = (async () => {
  return startJira({
    settings: data.settings, dataDir: data.dataDir, runner,
    log: { append, recorded$: () => recorded.asObservable() },
    ...(data.blobsRoot ? { blobs: BlobStore.attach(data.blobsRoot) } : {}),
    warn: (message) => send({ kind: 'warn', message }),
    lastFired: new Map(data.lastFired.map(([name, at]) => [name, new Date(at)])),
  });
})();

port.on('message', (m: ToJiraThread) => {
  switch (m.kind) {
    case 'appended': {
      head = Math.max(head, m.head);
      const w = appends.get(m.id);
      appends.delete(m.id);
      if (!w) return;
      if (m.result) w.resolve(m.result);
      else w.reject(Object.assign(new Error(m.error?.message ?? 'the append failed'), m.error?.code ? { code: m.error.code } : {}));
      return;
    }
    case 'wake':
      head = Math.max(head, m.head);
      // The runtime's loops wake on the types (the records are read from the log).
      if (m.reactor) recorded.next({ position: m.head, type: 'JiraWebhookReceived' });
      if (m.projection) recorded.next({ position: m.head, type: 'JiraIssueChanged' });
      return;
    case 'health':
      void started.then((r) => r.healthChecks(new Date(m.now))).then(
        (checks) => send({ kind: 'health', id: m.id, checks }),
        (err: unknown) => send({ kind: 'health', id: m.id, checks: [{ name: 'jira:runtime', status: 'unhealthy', message: `the Jira thread cannot tell its health: ${(err as Error).message}` }] }),
      );
      return;
    case 'pump':
      void started.then((r) => r.pump()).then(
        () => send({ kind: 'pumped', id: m.id, positions: { reactor: runner.positionOf('jira-fetch'), projection: runner.positionOf('jira') } }),
        (err: unknown) => send({ kind: 'pumped', id: m.id, error: (err as Error).message }),
      );
      return;
    case 'stop':
      void started.then((r) => r.stop()).finally(() => send({ kind: 'stopped', id: m.id }));
      return;
  }
});

started.then(() => send({ kind: 'ready' }), (err: unknown) => send({ kind: 'failed', message: (err as Error).message }));
