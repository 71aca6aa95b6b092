/** A Jira test bench: fake Jira, a real log and blob store, the Jira runtime on a virtual clock, and the webhook route on 127.0.0.1. */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import Fastify from 'fastify';
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import { VirtualAction, VirtualTimeScheduler } from 'rxjs';
import { BlobStore, CheckpointStore, EventLog } from '../../../events/index.ts';
import type { RecordedEvent } from '../../../events/index.ts';
import { ProjectionRunner } from '../../../pipeline/index.ts';
import { jiraConnector } from '../../../connectors/jira/index.ts';
import type { JiraRuntime, JiraSettings } from '../../../connectors/jira/index.ts';
import { FakeJira } from '../../fixtures/jira/fake-jira.ts';
import { WebhookSender } from '../../fixtures/jira/webhook-sender.ts';
import { runCli } from '../../helpers/cli.ts';
import { csvInstance, PUBLIC_AND_PRIVATE_TABLES } from '../../helpers/instance.ts';
import { readParquet } from '../../helpers/parquet.ts';

/** The secret the sender signs with. */
export const SECRET = 'whsec-test-0123456789';

/** Settings pointing at the fake. */
export function testSettings(fake: FakeJira, over: Partial<JiraSettings> = {}): JiraSettings {
  return {
    baseUrl: fake.url, email: fake.email, apiToken: fake.token, webhookSecret: SECRET, slaFields: [],
    attachmentMaxBytes: 50 * 1024 * 1024, consistencyMaxBackfill: 50, consistencyJql: 'updated >= -2d', deepJql: 'ORDER BY created',
    ...over,
  };
}

/** A started bench; everything closes when the test ends. */
export interface JiraBench {
  dataDir: string;
  fake: FakeJira;
  log: EventLog;
  blobs: BlobStore;
  runner: ProjectionRunner;
  runtime: JiraRuntime;
  app: FastifyInstance;
  sender: WebhookSender;
  scheduler: VirtualTimeScheduler;
  /** Delays the client asked to sleep (retries), in ms. */
  delays: number[];
  warnings: string[];
  /** Waits until the reactor and projection have folded the whole log. */
  settle(): Promise<void>;
  events(type?: string): Promise<RecordedEvent[]>;
  rows(table: string, orderBy?: string): Promise<Array<Record<string, unknown>>>;
  /** Month files of a table. */
  files(table: string): Promise<string[]>;
  /** Advances the virtual clock to `ms` since the epoch and lets timer jobs finish. */
  advanceTo(ms: number): Promise<void>;
}

/** What a runtime under test needs and what it must give: the data dir, fake Jira, log and blobs; routes and a stop. */
interface RuntimeBase { dataDir: string; fake: FakeJira; log: EventLog; blobs: BlobStore }

/**
 * A data dir, a started fake Jira, a log and a blob store, the runtime `start` makes of them, and its webhook route
 * on 127.0.0.1; all stopped and removed when the test ends.
 */
export async function servedRuntime<R extends { routes: FastifyPluginAsync; stop(): Promise<void> }>(
  t: Pick<TestContext, 'after'>, prefix: string, start: (base: RuntimeBase) => Promise<R>,
): Promise<RuntimeBase & { runtime: R; app: FastifyInstance; address: string }> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), prefix));
  const fake = await new FakeJira().start();
  const log = await EventLog.open(path.join(dataDir, 'events'));
  const blobs = await BlobStore.create(path.join(dataDir, 'blobs'));
  const runtime = await start({ dataDir, fake, log, blobs });
  const app = Fastify();
  await app.register(runtime.routes);
  const address = await app.listen({ port: 0, host: '127.0.0.1' });
  t.after(async () => {
    await app.close();
    await runtime.stop();
    await log.close();
    await fake.stop();
    // Last: the runtime may still have been writing when the test ended.
    await rm(dataDir, { recursive: true, force: true });
  });
  return { dataDir, fake, log, blobs, runtime, app, address };
}

/** Starts a bench. */
export async function jiraBench(t: Pick<TestContext, 'after'>, over: Partial<JiraSettings> = {}, opts: { sleepGate?: Promise<void> } = {}): Promise<JiraBench> {
  const delays: number[] = [];
  const warnings: string[] = [];
  const scheduler = new VirtualTimeScheduler(VirtualAction, Infinity);
  let runner!: ProjectionRunner;
  const { dataDir, fake, log, blobs, runtime, app, address } = await servedRuntime(t, 'ada-jira-', ({ dataDir, fake, log, blobs }) => {
    runner = new ProjectionRunner(log, new CheckpointStore(path.join(dataDir, 'metadata', 'checkpoints')), dataDir);
    return jiraConnector.start({
      settings: testSettings(fake, over), log, blobs, runner, dataDir, scheduler,
      warn: (m) => warnings.push(m),
      sleep: async (ms) => { delays.push(ms); await opts.sleepGate; },
    });
  });
  const settle = async (): Promise<void> => {
    for (let i = 0; i < 20; i++) {
      await runtime.pump();
      if (runner.positionOf('jira') >= log.head && runner.positionOf('jira-fetch') >= log.head) return;
    }
  };
  const events = async (type?: string): Promise<RecordedEvent[]> => {
    const out: RecordedEvent[] = [];
    await new Promise<void>((resolve, reject) => log.read$(1).subscribe({ next: (e) => { if (!type || e.type === type) out.push(e); }, complete: resolve, error: reject }));
    return out;
  };
  const files = async (table: string): Promise<string[]> => {
    try {
      return (await readdir(path.join(dataDir, 'parquet', 'jira', table))).filter((f) => f.endsWith('.parquet')).sort();
    } catch {
      return [];
    }
  };
  return {
    dataDir, fake, log, blobs, runner, runtime, app, scheduler, delays, warnings, settle, events, files,
    sender: new WebhookSender(`${address}/webhooks/jira`, SECRET),
    rows: async (table, orderBy) => ((await files(table)).length ? readParquet(path.join(dataDir, 'parquet', 'jira', table, '*.parquet'), orderBy ? { orderBy } : {}) : []),
    advanceTo: async (ms) => {
      scheduler.maxFrames = ms;
      scheduler.flush();
      for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
      await runtime.timersIdle();
    },
  };
}

/** A CSV instance (a public and a private table) with analysts and their tokens, and a fake Jira for `ada serve`. */
export interface JiraServedInstance {
  fake: FakeJira;
  inst: Awaited<ReturnType<typeof csvInstance>>;
  /** Each analyst's personal token. */
  tokens: Record<string, string>;
  /** The environment that enables Jira in `ada serve` against the fake. */
  env: Record<string, string>;
}

/** Sets up `analysts` (name → `ada analyst add` flags) on a fresh instance beside a started fake Jira. */
export async function jiraServedInstance(t: TestContext, analysts: ReadonlyArray<readonly [string, readonly string[]]>): Promise<JiraServedInstance> {
  const fake = await new FakeJira().start();
  t.after(() => fake.stop());
  const inst = await csvInstance(t, PUBLIC_AND_PRIVATE_TABLES);
  await inst.writeCsv('orders.csv', 'id\n1\n');
  await inst.writeCsv('credit.csv', 'id,limit\n1,2\n');
  const tokens: Record<string, string> = {};
  for (const [name, flags] of analysts) {
    assert.equal((await runCli(['analyst', 'add', name, ...flags, ...inst.flags])).code, 0);
    tokens[name] = (await runCli(['analyst', 'token', name, ...inst.flags])).stdout.trim();
  }
  const env = { JIRA_DOMAIN: fake.url, JIRA_EMAIL: fake.email, JIRA_API_TOKEN: fake.token, JIRA_WEBHOOK_SECRET: SECRET };
  return { fake, inst, tokens, env };
}
