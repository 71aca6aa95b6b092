/**
 * Public face of `connectors/`: the registry of connector types. A connector is enabled only when
 * its settings are present, so removing a connector's folder (and its line here) leaves a working product.
 */
import type { AdaConfig } from '../config/index.ts';
import type { Connector, ConnectorFactory, ConnectorHealthCheck } from '../pipeline/index.ts';
import { csvConnector } from './csv/index.ts';
import { keboolaConnector } from './keboola/index.ts';

/** Every connector type this build knows. */
export const CONNECTOR_FACTORIES: readonly ConnectorFactory[] = [csvConnector, keboolaConnector];

/** Connectors by source name, created only for the sources whose settings are present. */
export class ConnectorRegistry {
  private readonly connectors = new Map<string, Connector>();

  constructor(private readonly config: AdaConfig, private readonly factories: readonly ConnectorFactory[] = CONNECTOR_FACTORIES) {}

  /** Types of the connectors whose settings are present. */
  enabledTypes(): string[] {
    return this.factories.filter((f) => f.enabled(this.config)).map((f) => f.type);
  }

  /** The connector of a source, or undefined when it is not enabled or not built in. */
  get(source: string): Connector | undefined {
    const existing = this.connectors.get(source);
    if (existing) return existing;
    const factory = this.factories.find((f) => f.type === source);
    if (!factory || !factory.enabled(this.config)) return undefined;
    const connector = factory.create(this.config);
    this.connectors.set(source, connector);
    return connector;
  }

  /** Health checks contributed by the enabled connectors. */
  async healthChecks(ctx: { dataDir: string; now: Date }): Promise<ConnectorHealthCheck[]> {
    const checks: ConnectorHealthCheck[] = [];
    for (const f of this.factories) {
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
