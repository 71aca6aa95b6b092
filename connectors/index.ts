/**
 * Public face of `connectors/`: the registry of connector modules. A connector is enabled only when its settings are
 * present, so removing a connector's folder and its line in CONNECTORS leaves a working product.
 */
import { loadConfig as loadConfigWith, withDeclaredTables } from '../config/index.ts';
import type { AdaConfig, ConnectorConfigDeclaration, DeclaredTables, LoadConfigOptions } from '../config/index.ts';
import type { Connector, ConnectorHealthCheck, ConnectorModule } from '../pipeline/index.ts';
import type { FastifyPluginAsync } from 'fastify';
import type { AppendResult, BlobStore, EventLog, NewEvent } from '../events/index.ts';
import type { ProjectionRunner, TimerSpec } from '../pipeline/index.ts';
import { csvConnector } from './csv/index.ts';
import { jiraConnector } from './jira/index.ts';
import { keboolaConnector } from './keboola/index.ts';

/** Every connector module this build has: one line each. */
export const CONNECTORS: readonly ConnectorModule[] = [
  keboolaConnector,
  csvConnector,
];

/** The former name of CONNECTORS. */
export const CONNECTOR_FACTORIES = CONNECTORS;

/** `data_source.bigquery` is accepted and not read until the BigQuery connector exists. */
const bigqueryReserved: ConnectorConfigDeclaration = {
  type: 'bigquery', label: 'BigQuery', section: { in: 'data_source' }, primary: true, readWhen: 'primary', readSection: () => ({}), tableKeys: [],
};



/** Connectors by source name, created only for the sources whose settings are present. */
export class ConnectorRegistry {
  private readonly connectors = new Map<string, Connector>();

  constructor(private readonly config: AdaConfig, private readonly modules: readonly ConnectorModule[] = CONNECTORS) {}

  /** Types of the connectors whose settings are present. */
  enabledTypes(): string[] {
    return this.modules.filter((f) => f.enabled(this.config)).map((f) => f.type);
  }

  /** The connector of a source, or undefined when it is not enabled or not built in. */
  get(source: string): Connector | undefined {
    const existing = this.connectors.get(source);
    if (existing) return existing;
    const factory = this.modules.find((f) => f.type === source);
    if (!factory || !factory.enabled(this.config)) return undefined;
    const connector = factory.create(this.config);
    this.connectors.set(source, connector);
    return connector;
  }

  /** Health checks contributed by the enabled connectors. */
  async healthChecks(ctx: { dataDir: string; now: Date }): Promise<ConnectorHealthCheck[]> {
    const checks: ConnectorHealthCheck[] = [];
    for (const f of this.modules) {
      if (!f.enabled(this.config) || !f.healthChecks) continue;
      try {
        checks.push(...await f.healthChecks(this.config, ctx));
      } catch (err) {
        checks.push({ name: f.type, status: 'degraded', message: `health check failed: ${(err as Error).message}` });
      }
    }
    return checks;
  }

  /** Closes every created connector. */
  async close(): Promise<void> {
    await Promise.all([...this.connectors.values()].map((c) => c.close?.()));
    this.connectors.clear();
  }
}

/** What a connector that runs inside the server (webhooks, timers) is started with. */
export interface ServiceHost {
  config: AdaConfig;
  env: Readonly<Record<string, string | undefined>>;
  log: EventLog;
  blobs: BlobStore;
  runner: ProjectionRunner;
  dataDir: string;
  warn(message: string): void;
  /** When each timer last fired (from the log, `Broker.lastFiredTimes`), so a restart neither re-fires nor forgets a timer. */
  lastFired?: ReadonlyMap<string, Date>;
}

/** A started service connector: its routes, timers (for health), health checks, and how to stop it. */
export interface RunningService {
  routes: FastifyPluginAsync;
  timerSpecs: TimerSpec[];
  healthChecks(now: Date): Promise<ConnectorHealthCheck[]>;
  stop(): Promise<void>;
}

/** A command a connector declares; `run` also gets the command line's broker opener. */
export interface ConnectorCommand {
  name: string;
  summary: string;
  usage: string;
  options: Record<string, { type: 'string' | 'boolean'; short?: string }>;
  run(args: { values: Record<string, string | boolean | string[] | boolean[] | undefined>; positionals: string[] }, ctx: { env: NodeJS.ProcessEnv; out(t: string): void; err(t: string): void; isTTY: boolean; signal: AbortSignal }, open: OpenCommandBroker): Promise<number>;
}

/** Opens the broker for a connector command: in process, or through the running server. */
export type OpenCommandBroker = (opts: { configDir?: string; dataDir?: string; env: NodeJS.ProcessEnv; eventSource: string; warn?: (m: string) => void }) => Promise<{
  config: AdaConfig; dataDir: string; log: { append(event: NewEvent): Promise<AppendResult> }; runner: ProjectionRunner; blobs?: BlobStore; remote?: unknown; close(): Promise<void>;
}>;

/** A connector that runs inside the server. */
export interface ServiceConnector {
  readonly type: string;
  /** Its `instance.yaml` section, validated by `config/` with the other connectors' sections. */
  readonly config: ConnectorConfigDeclaration;
  enabled(config: AdaConfig, env: Readonly<Record<string, string | undefined>>): boolean;
  startService(host: ServiceHost): Promise<RunningService>;
  readonly commands: readonly ConnectorCommand[];
  /** Tables (and datasets) it publishes itself, listed by the catalog, profiler, manifests and portal while it is enabled. */
  declaredTables?(config: AdaConfig): DeclaredTables;
}

/** Every service connector this build knows. */
export const SERVICE_CONNECTORS: readonly ServiceConnector[] = [
  jiraConnector,
];

/** The configuration declarations handed to `loadConfig`: the connectors', then sections reserved for coming ones. */
export const CONNECTOR_CONFIGS: readonly ConnectorConfigDeclaration[] = [...CONNECTORS.map((c) => c.config), bigqueryReserved, ...SERVICE_CONNECTORS.map((s) => s.config)];

/** Starts the enabled service connectors. */
export async function startServices(host: ServiceHost): Promise<RunningService[]> {
  const started: RunningService[] = [];
  for (const s of SERVICE_CONNECTORS) if (s.enabled(host.config, host.env)) started.push(await s.startService(host));
  return started;
}

/** The commands of every service connector, bound to the command line's broker opener. */
export function connectorCommands(open: OpenCommandBroker): Array<Omit<ConnectorCommand, 'run'> & { run: (args: Parameters<ConnectorCommand['run']>[0], ctx: Parameters<ConnectorCommand['run']>[1]) => Promise<number> }> {
  return SERVICE_CONNECTORS.flatMap((s) => s.commands.map((c) => ({ ...c, run: (args: Parameters<ConnectorCommand['run']>[0], ctx: Parameters<ConnectorCommand['run']>[1]) => c.run(args, ctx, open) })));
}

/** The configuration with the tables the enabled service connectors publish themselves (`withDeclaredTables`). */
export function withConnectorTables(config: AdaConfig, env: Readonly<Record<string, string | undefined>>): AdaConfig {
  return withDeclaredTables(config, SERVICE_CONNECTORS.flatMap((s) => (s.declaredTables && s.enabled(config, env) ? [s.declaredTables(config)] : [])));
}

/** Loads the configuration with every registered connector's section and table keys, and the tables enabled connectors publish. */
export async function loadConfig(options: Omit<LoadConfigOptions, 'connectors'> = {}): Promise<AdaConfig> {
  return withConnectorTables(await loadConfigWith({ ...options, connectors: CONNECTOR_CONFIGS }), options.env ?? process.env);
}
