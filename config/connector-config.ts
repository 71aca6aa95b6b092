/**
 * What a connector declares about its configuration. `config/` validates only the generic keys and hands each
 * source section, and the per-table keys it does not know, to the declaration that owns them.
 */
import type { DocumentContext, YamlPath } from './problems.ts';
import type { YamlMap } from './read-fields.ts';

/** Where a connector's settings live in instance.yaml. */
export type SectionPlace =
  /** `data_source.<type>` (csv, keboola). */
  | { in: 'data_source' }
  /** A top-level section such as `jira:`. */
  | { in: 'top'; key: string };

/**
 * When the section is read:
 * - `present`: whenever it is there (csv: a CSV folder may serve tables of a Keboola instance);
 * - `primary`: only when `data_source.type` is this type (a template may keep another source's settings with unset placeholders);
 * - `{ keySet }`: only when that key of the section has a value; an unset `${VAR}` there disables the connector with a warning (Jira: `domain`).
 */
export type ReadWhen = 'present' | 'primary' | { keySet: string };

/** What a section reader is given. */
export interface SectionContext {
  /** Reports problems and warnings with file, line and key path. */
  ctx: DocumentContext;
  /** Key path of the section, e.g. `['data_source', 'csv']`. */
  at: YamlPath;
  /** Absolute config directory (relative paths in settings resolve against it). */
  configDir: string;
  /** True when `data_source.type` names this connector. */
  primary: boolean;
}

/** What a per-table reader is given. */
export interface TableKeysContext {
  ctx: DocumentContext;
  /** Key path of the table, e.g. `['tables', 2]`. */
  at: YamlPath;
  /** The table's source (its `source:` or `data_source.type`). */
  source: string;
  /** This connector's parsed settings, when its section was read. */
  settings: unknown;
}

/** A connector's instance.yaml section and per-table keys; `loadConfig` receives the list of them. */
export interface ConnectorConfigDeclaration {
  /** Source type, as written in `data_source.type` and a table's `source:`. */
  readonly type: string;
  /** Name in messages (`Jira is disabled: …`). */
  readonly label: string;
  /** Where the section lives; the parsed settings land at the same place (`instance.dataSource.<type>` or `instance.<key>`). */
  readonly section: SectionPlace;
  /** Whether `data_source.type` may name this connector. */
  readonly primary: boolean;
  /** When the section is read (see ReadWhen). */
  readonly readWhen: ReadWhen;
  /**
   * Validates the section (present, a mapping) and returns the typed settings (undefined: unusable). A missing
   * section of the connector `data_source.type` names is reported by `config/`.
   */
  readSection(section: YamlMap, c: SectionContext): unknown;
  /** Table keys this connector owns (e.g. csv's `file` and `csv`); other connectors' tables may carry them too. */
  readonly tableKeys: readonly string[];
  /** Validates the owned keys of one table; the returned fields are merged into its TableConfig. */
  readTable?(table: YamlMap, c: TableKeysContext): Record<string, unknown>;
}
