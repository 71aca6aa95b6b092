/** The connector contract: what every source in `connectors/` implements. */
import type { Observable } from 'rxjs';
import type { ColumnSchema, StoredBlob } from '../events/index.ts';
import type { FastifyInstance } from 'fastify';
import type { AdaConfig, ConnectorConfigDeclaration, TableConfig } from '../config/index.ts';
import type { ConnectorSetup } from './connector-setup.ts';

/** What the bus hands a connector for one table run. */
export interface SyncRequest {
  runId: string;
  table: TableConfig;
  /** The cursor of the last successful sync of this table, or undefined on the first run. */
  cursor: unknown;
  /** A scratch directory for this run; the bus moves staged files out of it and deletes it. */
  workDir: string;
  /** Aborted when the run is cancelled (shutdown, timeout). */
  signal: AbortSignal;
  /** The time the run started; date placeholders resolve against it. */
  now: Date;
}

/** A change event a connector emits while syncing one table. */
export type ConnectorEvent =
  /**
   * Rows staged in a local file (usually Parquet); the bus moves it into the blob store. `digest`, when the connector
   * hashed the file as it was written (hashWhileWritten), is its sha256 and size, so the blob store does not read it again.
   */
  | { kind: 'chunk'; path: string; format: 'parquet' | 'csv'; rows: number; schema: ColumnSchema[]; sourceFile?: string; digest?: StoredBlob }
  /** Progress for terminals and the portal. */
  | { kind: 'progress'; rows?: number; bytes?: number; message?: string }
  /** The run fetched everything: replace the table or upsert into it; the cursor to store on success. */
  | { kind: 'complete'; mode: 'replace' | 'upsert'; cursor: unknown; metadata?: Record<string, unknown> };

/** A configured source. `sync` returns a cold Observable; it never writes Parquet. */
export interface Connector {
  readonly source: string;
  sync(request: SyncRequest): Observable<ConnectorEvent>;
  /**
   * Starts, ahead of a sync, the set-up its runs wait for (a DuckDB instance, the first table's source detail), so
   * that it is made while the bus recovers and records the run's start. `tables` are the sync's tables of this source,
   * in the order they will run. Never throws: a failure shows in the run that needed it.
   */
  prepare?(tables: readonly TableConfig[]): void;
  close?(): Promise<void>;
}

/** A health check a connector contributes (only enabled connectors are asked). */
export interface ConnectorHealthCheck {
  name: string;
  status: 'healthy' | 'degraded' | 'unhealthy';
  message: string;
  details?: Record<string, unknown>;
}

/**
 * A connector module: everything a source contributes, declared in one place (`connectors/<type>/index.ts`) and
 * listed in `connectors/index.ts` (its import and its CONNECTORS entry). Deleting the folder and those lines removes the source entirely.
 */
export interface ConnectorModule {
  readonly type: string;
  /** Its instance.yaml section (`data_source.<type>` or a top-level key) and its per-table keys. */
  readonly config: ConnectorConfigDeclaration;
  /** Its user documentation, relative to the repository root (e.g. `docs/keboola.md`, or `docs/sync.md#csv-sources`). */
  readonly docs: string;
  /** True only when its settings are present. */
  enabled(config: AdaConfig): boolean;
  create(config: AdaConfig): Connector;
  /** Checks of this source for `/health` (e.g. Jira's newest-issue age), given the data directory. */
  healthChecks?(config: AdaConfig, ctx: { dataDir: string; now: Date }): Promise<ConnectorHealthCheck[]>;
  /** HTTP routes it serves on the portal (Jira's `POST /webhooks/jira`), registered only when enabled. */
  routes?(config: AdaConfig): (app: FastifyInstance) => Promise<void>;
  /** Its `ada init` questions and table discovery. */
  readonly setup?: ConnectorSetup;
}

/** The former name of ConnectorModule. */
export type ConnectorFactory = ConnectorModule;
