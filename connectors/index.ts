/**
 * Public face of `connectors/`: the registry of connector modules. A connector is enabled only when its settings are
 * present, so removing a connector's folder and its line in CONNECTORS leaves a working product.
 */
import { loadConfig as loadConfigWith } from '../config/index.ts';
import type { AdaConfig, ConnectorConfigDeclaration, LoadConfigOptions } from '../config/index.ts';
import type { Connector, ConnectorHealthCheck, ConnectorModule } from '../pipeline/index.ts';
import { csvConnector } from './csv/index.ts';
import { jiraConfig } from './jira/index.ts';
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

/** The configuration declarations handed to `loadConfig`: the connectors', then sections reserved for coming ones. */
export const CONNECTOR_CONFIGS: readonly ConnectorConfigDeclaration[] = [...CONNECTORS.map((c) => c.config), bigqueryReserved, jiraConfig];

/** Loads the configuration with every registered connector's section and table keys. */
export function loadConfig(options: Omit<LoadConfigOptions, 'connectors'> = {}): Promise<AdaConfig> {
  return loadConfigWith({ ...options, connectors: CONNECTOR_CONFIGS });
}

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
