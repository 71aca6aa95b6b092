/**
 * The Keboola connector module as the registry sees it: its settings, setup questions and `enabled`, loaded with the
 * registry. The connector itself (Storage API client, downloads, S3 signing, DuckDB conversions) loads on its first
 * sync, so a process whose instance has no Keboola source never initialises it.
 */
import { defer, from, mergeMap } from 'rxjs';
import type { Observable } from 'rxjs';
import type { AdaConfig, TableConfig } from '../../config/index.ts';
import { adaError, ErrorCode } from '../../events/index.ts';
import type { Connector, ConnectorEvent, ConnectorModule, SyncRequest } from '../../pipeline/index.ts';
import { keboolaConfig } from './keboola-config.ts';
import type { KeboolaConnector, KeboolaConnectorOptions } from './keboola-connector.ts';
import { keboolaSetup } from './setup.ts';

/** A KeboolaConnector created on its first sync. */
class LazyKeboolaConnector implements Connector {
  readonly source = 'keboola';
  #connector: Promise<KeboolaConnector> | undefined;

  constructor(private readonly options: KeboolaConnectorOptions) {}

  sync(request: SyncRequest): Observable<ConnectorEvent> {
    return defer(() => from(this.#load())).pipe(mergeMap((c) => c.sync(request)));
  }

  /** Loads the connector for the coming sync and starts its set-up (see KeboolaConnector.prepare); a failure to load is the sync's error. */
  prepare(tables: readonly TableConfig[]): void {
    this.#load().then((c) => c.prepare(tables), () => undefined);
  }

  async close(): Promise<void> {
    const connector = this.#connector;
    this.#connector = undefined;
    // A load that failed (started by prepare, for a sync that then failed on it) left nothing to close.
    if (connector) await connector.then((c) => c.close(), () => undefined);
  }

  #load(): Promise<KeboolaConnector> {
    return (this.#connector ??= import('./keboola-connector.ts').then((m) => new m.KeboolaConnector(this.options)));
  }
}

/** Registers the Keboola source; enabled when `data_source.keboola` has a storage token and a stack URL. */
export const keboolaConnector: ConnectorModule = {
  type: 'keboola',
  config: keboolaConfig,
  setup: keboolaSetup,
  docs: 'docs/keboola.md',
  enabled: (config: AdaConfig) => Boolean(config.instance.dataSource.keboola?.storageToken && config.instance.dataSource.keboola?.stackUrl),
  create: (config: AdaConfig) => {
    const kbc = config.instance.dataSource.keboola;
    if (!kbc?.storageToken || !kbc.stackUrl) {
      throw adaError(ErrorCode.configMissing, 'The Keboola source needs data_source.keboola.storage_token and stack_url in instance.yaml', { field: 'data_source.keboola' });
    }
    return new LazyKeboolaConnector({ stackUrl: kbc.stackUrl, token: kbc.storageToken, secrets: config.secrets });
  },
};
