/** What the broker is given from outside the pipeline: connectors, a logger, where its files are. */
import type { AdaConfig } from '../../config/index.ts';
import type { ConnectorHealthCheck } from '../contract.ts';
import type { ConnectorLookup } from '../bus.ts';

/**
 * The connectors the broker syncs with, injected by `ops/` (the pipeline may not import
 * `connectors/`): `connectors/index.ts`'s `ConnectorRegistry` fits.
 */
export interface BrokerConnectors extends ConnectorLookup {
  /** Health checks contributed by the enabled connectors. */
  healthChecks(ctx: { dataDir: string; now: Date }): Promise<ConnectorHealthCheck[]>;
  /** Closes every connector created so far. */
  close(): Promise<void>;
}

/** Creates the connectors of a configuration. */
export type BrokerConnectorsFactory = (config: AdaConfig) => BrokerConnectors;

/** Where the broker's own lines go (pino's logger fits through a small adapter); fields are structured data. */
export interface BrokerLogger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

/** A logger that writes warnings and errors to stderr and drops the rest: the default of one-shot commands. */
export const stderrLogger: BrokerLogger = {
  info: () => undefined,
  warn: (m) => process.stderr.write(`warning: ${m}\n`),
  error: (m) => process.stderr.write(`error: ${m}\n`),
};

/** How to open a broker. */
export interface BrokerOptions {
  config: AdaConfig;
  dataDir: string;
  connectors: BrokerConnectorsFactory;
  /** `source` of the events this process appends (`serve`, `cli:sync`, …). */
  eventSource: string;
  logger?: BrokerLogger;
  /** Aborted on shutdown: running syncs and profiling stop. */
  signal?: AbortSignal;
}
