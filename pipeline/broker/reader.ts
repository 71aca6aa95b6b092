/**
 * The broker's read-only side: what commands may read while another process (or nobody) holds
 * the log's writer lock — health from the files, the log's views, who holds the writer.
 */
import type { AdaConfig } from '../../config/index.ts';
import { CheckpointStore, EventLogReader } from '../../events/index.ts';
import type { LogWriterOwner, NewEvent } from '../../events/index.ts';
import { ProjectionRunner } from '../projection-runner.ts';
import { healthProjection } from '../projections/health/health.ts';
import type { HealthReport } from '../projections/health/health.ts';
import { evaluateBrokerHealth } from './evaluate.ts';
import { eventReads } from './event-reads.ts';
import type { EventReads } from './event-reads.ts';
import { profileOnDemand } from './profile.ts';
import type { ProfileRequest, ProfileResult } from './profile.ts';
import { BACKGROUND_PROJECTION, PROJECTION_NAMES } from './registry.ts';
import { checkpointsDirOf, eventsDirOf } from './paths.ts';
import type { BrokerConnectors } from './types.ts';

/** True when the command line of a log writer is a running server (its timers are armed). */
export function isServerCommand(owner: Pick<LogWriterOwner, 'command'> | undefined): boolean {
  return owner !== undefined && /\bserve\b|start-demo/.test(owner.command);
}

/** Reads a data directory's broker files without taking the writer lock. */
export class BrokerReader {
  readonly dataDir: string;
  private readonly reader: EventLogReader;
  /** The log's views: tail, show, stats, verify. */
  readonly events: EventReads;

  constructor(dataDir: string) {
    this.dataDir = dataDir;
    this.reader = new EventLogReader(eventsDirOf(dataDir));
    this.events = eventReads(this.reader);
  }

  /** The process holding the log's writer lock, if any. */
  writer(): Promise<LogWriterOwner | undefined> {
    return this.reader.writer();
  }

  /**
   * Health from the files: the health projection's checkpoint folded on to the head, the other
   * projections' checkpoints for their lag (the profiler's is left out: it runs after the
   * server's syncs or on `ada profile`, not after every `ada sync`).
   */
  async health(config: AdaConfig, connectors: Pick<BrokerConnectors, 'healthChecks'>): Promise<HealthReport> {
    const checkpoints = new CheckpointStore(checkpointsDirOf(this.dataDir), { readOnly: true });
    const runner = new ProjectionRunner(this.reader, checkpoints, this.dataDir);
    await runner.catchUp(healthProjection);
    const projections: Record<string, number> = {};
    for (const name of PROJECTION_NAMES) if (name !== BACKGROUND_PROJECTION) projections[name] = (await checkpoints.load(name))?.position ?? 0;
    return evaluateBrokerHealth({
      config, dataDir: this.dataDir, state: runner.stateOf(healthProjection), head: await this.reader.head(), projections,
      timersActive: isServerCommand(await this.writer()), connectors,
    });
  }

  /** Profiles here, recording the outcomes through `append` (a running server's log). */
  profile(config: AdaConfig, append: (event: NewEvent) => Promise<unknown>, request: ProfileRequest): Promise<ProfileResult> {
    return profileOnDemand({ config, dataDir: this.dataDir, reader: this.reader, append }, request);
  }
}
