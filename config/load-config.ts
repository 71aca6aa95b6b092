/** Loading and validating the whole configuration: instance.yaml, .env and the data description. */
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { adaError, ErrorCode } from '../events/index.ts';
import { deepFreeze, withoutUndefined } from './deep-freeze.ts';
import { loadInstance } from './load-instance.ts';
import { loadTables } from './load-tables.ts';
import type { DescriptionFile } from './load-tables.ts';
import { parseDotenv } from './parse-dotenv.ts';
import { readConfigFile } from './read-config-file.ts';
import { formatProblem, sortProblems } from './problems.ts';
import type { ProblemSink } from './problems.ts';
import type { AdaConfig } from './types.ts';
import type { ConnectorConfigDeclaration } from './connector-config.ts';

/** Where to load from; only the CLI passes `env` (nothing deep reads process.env). */
export interface LoadConfigOptions {
  /** Config directory (the CLI's `--config DIR`); else `env.CONFIG_DIR`; else `./config`. */
  configDir?: string;
  /** Environment for `CONFIG_DIR` and `${VAR}` placeholders; defaults to process.env. */
  env?: NodeJS.ProcessEnv;
  /** The registered connectors' declarations (`connectors/index.ts`): their sections and table keys. */
  connectors: readonly ConnectorConfigDeclaration[];
}

/** Name of the instance settings file inside the config directory. */
export const INSTANCE_FILE = 'instance.yaml';
/** Name of the placeholder values file next to it. */
export const DOTENV_FILE = '.env';
/** Name of the table definitions file (in the config directory, else `../docs/`). */
export const DESCRIPTION_FILE = 'data_description.md';

/**
 * Loads, validates and deep-freezes the configuration. Every problem found is
 * reported at once in one `CONFIG_INVALID` error (`details.problems`, each with
 * file, line and key path); a missing instance.yaml is `CONFIG_MISSING`.
 */
export async function loadConfig(options: LoadConfigOptions): Promise<AdaConfig> {
  const env = options.env ?? process.env;
  const configDir = path.resolve(options.configDir || env.CONFIG_DIR || 'config');
  const instanceFile = path.join(configDir, INSTANCE_FILE);
  const dotenvFile = path.join(configDir, DOTENV_FILE);
  const sink: ProblemSink = { problems: [], warnings: [] };

  const instanceText = await readChecked(instanceFile, sink);
  if (instanceText === null) throw invalid(configDir, sink);
  if (instanceText === undefined) {
    throw adaError(ErrorCode.configMissing, `No configuration found: ${instanceFile} does not exist. Pass --config DIR or set CONFIG_DIR to the directory holding instance.yaml (see config/instance.yaml.example).`, { file: instanceFile, configDir });
  }

  const dotenvText = (await readChecked(dotenvFile, sink)) ?? undefined;
  const dotenv = dotenvText === undefined ? { values: {}, problems: [] } : parseDotenv(dotenvText);
  const vars: Record<string, string | undefined> = { ...dotenv.values };
  for (const p of dotenv.problems) sink.problems.push({ file: dotenvFile, line: p.line, message: p.message });
  // The process environment wins over .env, as with docker compose and dotenv.
  for (const [key, value] of Object.entries(env)) if (value !== undefined) vars[key] = value;

  const loaded = loadInstance(instanceText, instanceFile, configDir, vars, dotenvFile, sink, options.connectors);

  const descriptions = await readDescriptionFiles(configDir, sink);
  const { tables, folderMapping } = loadTables(descriptions, {
    defaultSource: loaded?.defaultSource,
    sources: loaded?.sources,
    datasets: loaded ? Object.keys(loaded.instance.datasets) : undefined,
    connectors: options.connectors,
    sectionSettings: loaded?.sectionSettings,
  }, sink);

  if (sink.problems.length > 0 || !loaded) throw invalid(configDir, sink);

  return deepFreeze(withoutUndefined<AdaConfig>({
    configDir,
    instanceFile,
    instance: loaded.instance,
    tables,
    folderMapping,
    descriptionFiles: descriptions.map((d) => d.file),
    secrets: loaded.secrets,
    warnings: sortProblems(sink.warnings),
  }));
}

/**
 * The data description: `<configDir>/data_description.md`, else
 * `<configDir>/../docs/data_description.md`; then `<configDir>/../docs/datasets/*.md`
 * and `<configDir>/datasets/*.md`, each folder in name order.
 */
async function readDescriptionFiles(configDir: string, sink: ProblemSink): Promise<DescriptionFile[]> {
  const docsDir = path.join(path.dirname(configDir), 'docs');
  const candidates = [path.join(configDir, DESCRIPTION_FILE), path.join(docsDir, DESCRIPTION_FILE)];
  const files: DescriptionFile[] = [];
  let main: DescriptionFile | undefined;
  for (const file of candidates) {
    const text = await readChecked(file, sink);
    if (text === null) return files;
    if (text !== undefined) {
      main = { file, text };
      break;
    }
  }
  if (main) files.push(main);

  const extra: string[] = [];
  for (const dir of [path.join(docsDir, 'datasets'), path.join(configDir, 'datasets')]) {
    const names = await readdirOptional(dir);
    for (const name of names.filter((n) => n.endsWith('.md') && !n.startsWith('.')).sort()) extra.push(path.join(dir, name));
  }
  for (const file of [...new Set(extra)]) {
    const text = await readChecked(file, sink);
    if (typeof text === 'string') files.push({ file, text });
  }
  if (files.length === 0) {
    sink.warnings.push({ file: candidates[0]!, message: `no data description found (looked for ${candidates.join(' and ')}); no tables are configured` });
  }
  return files;
}

/** The CONFIG_INVALID error listing every problem found. */
function invalid(configDir: string, sink: ProblemSink): Error {
  const problems = sortProblems(sink.problems);
  const count = problems.length === 1 ? '1 problem' : `${problems.length} problems`;
  return adaError(ErrorCode.configInvalid, `Invalid configuration in ${configDir} (${count}):\n${problems.map((p) => `  ${formatProblem(p)}`).join('\n')}`, { problems, configDir });
}

/** A config file's text; undefined when missing; null when unusable (too large, not UTF-8, a directory), with the problem in `sink`. */
async function readChecked(file: string, sink: ProblemSink): Promise<string | undefined | null> {
  const read = await readConfigFile(file);
  if ('missing' in read) return undefined;
  if ('text' in read) return read.text;
  sink.problems.push(read.line === undefined ? { file, message: read.problem } : { file, line: read.line, message: read.problem });
  return null;
}

async function readdirOptional(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') return [];
    throw err;
  }
}
