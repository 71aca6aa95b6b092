/** What the portal reads from and asks of the broker: everything arrives through these functions, never by opening another room's files. */
import type { DistributionDeps } from './distribution/index.ts';
import type { Observable } from 'rxjs';
import type { AdaConfig } from '../config/index.ts';
import type { NewEvent, RecordedEvent } from '../events/index.ts';
import type { CatalogState, HealthReport, SyncState } from '../pipeline/index.ts';
import type { AccessState } from '../pipeline/index.ts';
import type { ProfilesDocument } from '../pipeline/index.ts';
import type { Authenticate } from './auth-plugin.ts';
import type { NotificationGatewayDeps } from './notifications/index.ts';
import type { MetricDefinition } from './data/metrics.ts';

/** The event log as the portal reads it (newest events for the event log page). */
export interface PortalLog {
  readonly head: number;
  read$(from?: number): Observable<RecordedEvent>;
}

/** What the app reads from the broker. Optional parts default to empty state, so a bare `/health` server needs only the first three. */
export interface AppDeps {
  config: AdaConfig;
  /** The current health report. */
  health(): Promise<HealthReport>;
  /** Resolves an analyst token; portal sessions are resolved by the app itself. */
  authenticate: Authenticate;
  /** The notification gateway's log and revocations; without them no websocket route. */
  notifications?: Pick<NotificationGatewayDeps, 'log' | 'revoked$' | 'options'>;
  /** Analysts, roles and token hashes (the access projection, caught up). */
  access?(): Promise<AccessState>;
  /** Published tables (the catalog projection, caught up). */
  catalog?(): Promise<CatalogState>;
  /** Per-table sync runs (the sync-state projection, caught up). */
  syncState?(): Promise<SyncState>;
  /** `metadata/profiles.json`. */
  profiles?(): Promise<ProfilesDocument>;
  /** Business metric definitions (`<config>/metrics/*.yml`). */
  metrics?(): Promise<MetricDefinition[]>;
  /** The event log, for the event log page and publish history. */
  events?: PortalLog;
  /** Appends an event (analyst sign-up, tokens, subscriptions, notifications). */
  append?(event: NewEvent): Promise<{ position: number; duplicate: boolean }>;
  /** Queues a sync of tables (resolves when it finished; the portal does not wait for it). */
  sync?(tables: string[]): Promise<unknown>;
  /** The address analysts use to reach this server (`https://data.example.com`), for setup commands; default the request's origin. */
  publicUrl?: string;
  /** The manifest, subscriptions and data dir of the distribution API; without them no `/api/v1/` routes. */
  distribution?: DistributionDeps;
}
