/**
 * How commands reach the broker: open it in this process, or — when `ada serve` holds the log —
 * talk to it through its control socket. Commands call the same API either way.
 */
import { loadConfig } from '../connectors/index.ts';
import type { AdaConfig } from '../config/index.ts';
import { hasCode } from '../events/index.ts';
import { ConnectorRegistry } from '../connectors/index.ts';
import { Broker } from '../pipeline/index.ts';
import type { BrokerConnectorsFactory, BrokerLogger } from '../pipeline/index.ts';
import type { BrokerApi, ControlClient } from './control/client.ts';
import type { CommandContext } from './command.ts';
import { dataDirOf } from './paths.ts';
import { OpsErrorCode } from './errors.ts';

/** Flags every broker command shares. */
export interface BrokerFlags {
  config?: unknown;
  data?: unknown;
}

/** A connected broker: the API, and whether it is a running server's. */
export interface Connection {
  config: AdaConfig;
  dataDir: string;
  api: BrokerApi;
  /** Set when a running `ada serve` holds the log and answers for it. */
  remote?: ControlClient;
  /** Set when the broker was opened in this process. */
  local?: Broker;
  close(): Promise<void>;
}

/** A logger for one-shot commands: warnings to the command's stderr. */
export function commandLogger(ctx: Pick<CommandContext, 'err'>): BrokerLogger {
  return { info: () => undefined, warn: (m) => ctx.err(`warning: ${m}`), error: (m) => ctx.err(`error: ${m}`) };
}

/** Loads the configuration and opens the broker in this process (`LOCKED` when another process holds the log). */
export async function openBroker(flags: BrokerFlags, ctx: Pick<CommandContext, 'env' | 'signal' | 'err'>, eventSource: string, logger: BrokerLogger = commandLogger(ctx), connectors: BrokerConnectorsFactory = (c) => new ConnectorRegistry(c)): Promise<Broker> {
  const config = await loadConfig({ configDir: flags.config as string | undefined, env: ctx.env });
  return Broker.open({ config, dataDir: dataDirOf(flags.data, ctx.env), connectors, eventSource, logger, signal: ctx.signal });
}

/** Opens the broker here, or connects to the running server that holds its log. */
export async function connectBroker(flags: BrokerFlags, ctx: Pick<CommandContext, 'env' | 'signal' | 'err'>, eventSource: string): Promise<Connection> {
  try {
    const local = await openBroker(flags, ctx, eventSource);
    return { config: local.config, dataDir: local.dataDir, api: local, local, close: () => local.close() };
  } catch (err) {
    if (!hasCode(err, OpsErrorCode.locked)) throw err;
    const dataDir = dataDirOf(flags.data, ctx.env);
    // Loaded on this path only: the client's node:http is about a tenth of a standalone command's loading.
    const { ControlClient } = await import('./control/client.ts');
    const remote = await ControlClient.connect(dataDir, eventSource);
    if (!remote) throw err;
    const config = await loadConfig({ configDir: flags.config as string | undefined, env: ctx.env });
    return { config, dataDir, api: remote, remote, close: async () => undefined };
  }
}
