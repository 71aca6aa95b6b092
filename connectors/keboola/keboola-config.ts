/** The Keboola connector's configuration: `data_source.keboola` (storage token, stack URL, project id). */
import { isHttpUrl, readString, warnUnknownKeys } from '../../config/index.ts';
import type { ConnectorConfigDeclaration } from '../../config/index.ts';

/** `data_source.keboola`, read only when Keboola is the main source. */
export interface KeboolaSettings {
  storageToken: string;
  /** Without a trailing `/`. */
  stackUrl: string;
  projectId?: string;
}

declare module '../../config/types.ts' {
  interface DataSourceSections {
    keboola?: KeboolaSettings;
  }
}

/** Read only when `data_source.type` is keboola: a CSV instance may keep a template's Keboola settings with unset placeholders. */
export const keboolaConfig: ConnectorConfigDeclaration = {
  type: 'keboola',
  label: 'Keboola',
  section: { in: 'data_source' },
  primary: true,
  readWhen: 'primary',
  readSection(kbc, { ctx, at }): KeboolaSettings {
    warnUnknownKeys(ctx, kbc, at, ['storage_token', 'stack_url', 'project_id']);
    const storageToken = readString(ctx, kbc, at, 'storage_token', { required: true, secret: true });
    const stackUrl = readString(ctx, kbc, at, 'stack_url', { required: true });
    if (stackUrl !== undefined && !isHttpUrl(stackUrl)) ctx.problem([...at, 'stack_url'], `expected an http(s) URL such as https://connection.keboola.com, found "${stackUrl}"`);
    return { storageToken: storageToken ?? '', stackUrl: (stackUrl ?? '').replace(/\/+$/, ''), projectId: readString(ctx, kbc, at, 'project_id') };
  },
  tableKeys: [],
};
