/** What `ada init` asks of a connector: its questions on a first run, and its tables on every run. */
import type { AdaConfig } from '../config/index.ts';

/** Exit codes a connector's questions may end `ada init` with (nothing was written). */
export const SetupExit = {
  /** The source could not be reached or read. */
  failed: 1,
  /** A refused credential or answer, or input that ended early. */
  usage: 2,
} as const;

/** An answer read into a value, or why not. */
export type Parsed<T> = { value: T } | { problem: string };

/** A table of the source (a Keboola table, a CSV file), as `ada init` describes it. */
export interface SetupTable {
  /** The source table id (`in.c-shop.orders`; for CSV the file path with dots, `sales.orders`). */
  id: string;
  /** The id without its last segment; for a CSV file at the top of the directory, `csv`. */
  bucket: string;
  tableName: string;
  description?: string;
  primaryKey: string[];
  columns: Array<{ name: string; type?: string; description?: string }>;
  rowsCount?: number;
  dataSizeBytes?: number;
  /** CSV: the file, relative to the CSV directory. */
  file?: string;
}

/** A bucket of the source, with its description. */
export interface SetupBucket {
  id: string;
  description?: string;
}

/** The source as discovered: its tables and how to name it in prose. */
export interface Discovered {
  label: string;
  buckets: SetupBucket[];
  tables: SetupTable[];
  /** True when the user picks buckets (Keboola); false: every table is offered (CSV). */
  pickBuckets: boolean;
  /** True when the listing is the whole project, so a described table missing from it has vanished. */
  complete: boolean;
}

/** The wizard's services a connector's questions use. */
export interface SetupContext {
  readonly interactive: boolean;
  readonly configDir: string;
  readonly cwd: string;
  readonly env: NodeJS.ProcessEnv;
  readonly signal: AbortSignal;
  /** The connector's own flags as given (`stack-url`, `csv-dir`, …), and the secret one (`--token`) with where it came from. */
  readonly flags: Readonly<Record<string, string | undefined>>;
  readonly secretFlag?: { value: string; from: string };
  /** Retry policy for tests (the connector's own type); undefined: the connector's default for a waiting user. */
  readonly retry?: unknown;
  out(text: string): void;
  err(text: string): void;
  /** A path as shown to the user (relative to the working directory when shorter). */
  show(file: string): string;
  /** The flag's value, else the question (interactive), else the default; parsed, asked again on a problem. */
  answer<T>(spec: { flag?: string; flagName: string; question: string; defaultValue?: string; parse: (raw: string) => Parsed<T> }): Promise<T>;
  /** Asks without echo (interactive only). */
  askSecret(question: string, fallback?: string, hint?: string): Promise<string>;
  /** Masks `secret` in everything printed from now on; returns it. */
  remember(secret: string): string;
  /** Values of the existing `.env`. */
  dotenv(): Promise<Record<string, string>>;
  /** Wrong answers in a row before giving up. */
  readonly maxAttempts: number;
  /** An error `ada init` reports as a usage problem (exit 2) with the usage text. */
  usageError(message: string): Error;
}

/** The outcome of a first run's questions. */
export interface SetupAnswers {
  /** Lines of the connector's section under `data_source:` (indented by two spaces, the `<type>:` line included). */
  sectionLines: string[];
  /** Secrets for `.env` by variable name (the section refers to them as `${NAME}`). */
  dotenv: Record<string, string>;
  discovered: Discovered;
}

/** A connector's part of `ada init`; a number is a SetupExit code (nothing was written). */
export interface ConnectorSetup {
  /** Flags of its questions (`stack-url`, `project-id`, `csv-dir`) with their usage text (`--stack-url URL`). */
  readonly flags: ReadonlyArray<{ name: string; usage: string }>;
  /** Whether it asks for a secret, given with `--token-env VAR` or `--token T`. */
  readonly takesSecret: boolean;
  /** Variables it writes to `.env`, in order. */
  readonly dotenvVars: readonly string[];
  /** Defaults for a `--force` run from the existing section (literal values only). */
  previous(section: Record<string, unknown> | undefined): Record<string, string>;
  /** The questions of a first run (or `--force`); checks credentials before anything is written. */
  ask(ctx: SetupContext, previous: Record<string, string>): Promise<SetupAnswers | number>;
  /** The tables of the configured source not yet described, for a later run. */
  discover(ctx: SetupContext, config: AdaConfig): Promise<Discovered | number>;
}
