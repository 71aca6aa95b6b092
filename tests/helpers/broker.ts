/** A broker opened in-process on a test instance as `ada serve` opens it, alone or with its control socket served. */
import type { TestContext } from 'node:test';
import { ConnectorRegistry, loadConfig } from '../../connectors/index.ts';
import { Broker, controlSocketPath } from '../../pipeline/index.ts';
import type { BrokerLogger } from '../../pipeline/index.ts';
import { startControlServer } from '../../ops/control/server.ts';
import type { TestInstance } from './instance.ts';

/** A logger that drops every line. */
export const QUIET: BrokerLogger = { info: () => undefined, warn: () => undefined, error: () => undefined };

/** Opens the broker of an instance (events recorded with source `serve`); it closes when the test ends. */
export async function openBroker(t: Pick<TestContext, 'after'>, inst: Pick<TestInstance, 'configDir' | 'dataDir'>, logger: BrokerLogger = QUIET): Promise<Broker> {
  const config = await loadConfig({ configDir: inst.configDir, env: {} });
  const broker = await Broker.open({ config, dataDir: inst.dataDir, connectors: (c) => new ConnectorRegistry(c), eventSource: 'serve', logger });
  t.after(() => broker.close());
  return broker;
}

/** Opens the broker and serves its control socket, as `ada serve` does; the socket closes before the broker. */
export async function serveControl(t: Pick<TestContext, 'after'>, inst: Pick<TestInstance, 'configDir' | 'dataDir'>): Promise<{ broker: Broker; socket: string }> {
  const broker = await openBroker(t, inst);
  t.after(await startControlServer(inst.dataDir, broker));
  return { broker, socket: controlSocketPath(inst.dataDir) };
}
