/**
 * The `ada init` wizard: asks its questions (or takes flags), checks the Keboola token before writing anything,
 * writes instance.yaml, .env and data_description.md, validates them with loadConfig, and on later runs appends the
 * tables that are new in the source without touching what the user edited.
 */
import { copyFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { DESCRIPTION_FILE, DOTENV_FILE, formatProblem, INSTANCE_FILE, maskSecrets } from '../../config/index.ts';
import { loadConfig } from '../../connectors/index.ts';
import type { AdaConfig, ConfigProblem } from '../../config/index.ts';
import type { KeboolaClient, RetryPolicy } from '../../connectors/keboola/index.ts';
import { resolveTableFiles } from '../../connectors/csv/table-files.ts';
import { ErrorCode, hasCode } from '../../events/index.ts';
import { UsageError } from '../commands/events.ts';
import {
  CUSTOM_STACK, defaultName, parseBuckets, parseDomain, parseName, parseProjectId, parseSource, parseStack, parseStackUrl, parseToken, parseYesNo,
} from './answers.ts';
import type { Parsed } from './answers.ts';
import { scanCsvDir } from './csv-source.ts';
import {
  appendToDescription, assignFolders, assignNames, describedInMarkdown, renderAppendix, renderDescription, suggestStrategy, TODO_DESCRIPTION,
} from './data-description.ts';
import type { DescribedTables, NamedTable } from './data-description.ts';
import {
  DOTENV_MODE, dotenvValues, ensureGitignored, exists, mergeDotenv, newDotenvHeader, newSecretKey, readIfExists, renderInstanceYaml, SECRET_KEY_VAR,
  TOKEN_VAR, writeFileAtomic,
} from './instance-files.ts';
import type { InstanceAnswers } from './instance-files.ts';
import { checkToken, INIT_RETRY, KNOWN_STACKS, readKeboolaProject } from './keboola-source.ts';
import { PromptErrorCode } from './prompter.ts';
import type { Prompter } from './prompter.ts';
import type { ProjectBucket, ProjectTable } from './project.ts';

/** Exit codes of `ada init`. */
export const InitExit = {
  ok: 0,
  /** The source could not be reached or read, or the written files do not load. */
  failed: 1,
  /** A bad flag or answer, a refused token with flags, input that ended early, or an existing configuration that does not load. */
  usage: 2,
  /** Ctrl-C. */
  cancelled: 130,
} as const;

/** Wrong answers in a row before the wizard gives up (a pipe of junk must not loop forever). */
const MAX_ATTEMPTS = 5;
/** New or vanished tables listed one per line before the rest is summarised. */
const LIST_LIMIT = 30;

/** What the command line said. */
export interface InitFlags {
  /** Ask for what the flags leave out (false: `--non-interactive`, everything from flags and defaults). */
  interactive: boolean;
  /** Absolute config directory. */
  configDir: string;
  /** Absolute directory for data_description.md (`--docs`). */
  docsDir?: string;
  force: boolean;
  addNewTables: boolean;
  domain?: string;
  source?: string;
  name?: string;
  stackUrl?: string;
  /** The token and where it came from (`--token`, `$VAR`), never printed. */
  token?: { value: string; from: string };
  projectId?: string;
  /** `--buckets`, raw (`all` or a comma-separated list). */
  buckets?: string;
  csvDir?: string;
}

/** The wizard's surroundings. */
export interface InitIO {
  out(text: string): void;
  err(text: string): void;
  env: NodeJS.ProcessEnv;
  cwd: string;
  signal: AbortSignal;
  now: Date;
  /** Present exactly when interactive. */
  prompter?: Prompter;
  retry?: RetryPolicy;
}

/** The source as discovered: its tables and how to name it in prose. */
interface Discovered {
  kind: 'keboola' | 'csv';
  label: string;
  buckets: ProjectBucket[];
  tables: ProjectTable[];
}

/** A line of the final summary. */
interface Written {
  file: string;
  note: string;
}

/** Runs `ada init`; returns the exit code. */
export async function runInit(flags: InitFlags, io: InitIO): Promise<number> {
  return new InitWizard(flags, io).run();
}

class InitWizard {
  readonly #flags: InitFlags;
  readonly #io: InitIO;
  /** Everything that must never be printed: the token once known, the loaded config's secrets. */
  readonly #secrets: string[] = [];
  readonly #written: Written[] = [];
  readonly #instanceFile: string;
  readonly #dotenvFile: string;

  constructor(flags: InitFlags, io: InitIO) {
    this.#flags = flags;
    this.#io = io;
    this.#instanceFile = path.join(flags.configDir, INSTANCE_FILE);
    this.#dotenvFile = path.join(flags.configDir, DOTENV_FILE);
    if (flags.token) this.#secrets.push(flags.token.value);
  }

  async run(): Promise<number> {
    try {
      const existing = await exists(this.#instanceFile);
      if (existing && !this.#flags.force) return await this.#rerun();
      return await this.#setup(existing);
    } catch (err) {
      if (hasCode(err, PromptErrorCode.inputEnded)) {
        this.#err(`ada init: ${(err as Error).message}`);
        return InitExit.usage;
      }
      if (hasCode(err, PromptErrorCode.cancelled) || this.#io.signal.aborted) {
        this.#err('ada init: cancelled');
        return InitExit.cancelled;
      }
      if (err instanceof Error) err.message = this.#mask(err.message);
      throw err;
    }
  }

  #mask(text: string): string {
    return maskSecrets(text, this.#secrets);
  }

  #out(text: string): void {
    this.#io.out(this.#mask(text));
  }

  #err(text: string): void {
    this.#io.err(this.#mask(text));
  }

  /** A path as the user would type it: relative to the working directory when inside it. */
  #show(file: string): string {
    const rel = path.relative(this.#io.cwd, file);
    return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : file;
  }

  #date(): string {
    return this.#io.now.toISOString().slice(0, 10);
  }

  /**
   * An answer from its flag, else (interactive) asked until it parses, else its default. A bad flag is a usage
   * error; a missing one with --non-interactive too, unless there is a default.
   */
  async #answer<T>(spec: { flag?: string | undefined; flagName: string; question: string; defaultValue?: string | undefined; parse: (raw: string) => Parsed<T> }): Promise<T> {
    if (spec.flag !== undefined) {
      const parsed = spec.parse(spec.flag);
      if ('problem' in parsed) throw new UsageError(`--${spec.flagName}: ${parsed.problem}`);
      return parsed.value;
    }
    const prompter = this.#io.prompter;
    if (!prompter) {
      if (spec.defaultValue === undefined) throw new UsageError(`--${spec.flagName} is required with --non-interactive`);
      const parsed = spec.parse(spec.defaultValue);
      if ('problem' in parsed) throw new UsageError(`--${spec.flagName}: ${parsed.problem}`);
      return parsed.value;
    }
    for (let attempt = 1; ; attempt++) {
      const parsed = spec.parse(await prompter.ask(spec.question, spec.defaultValue));
      if ('value' in parsed) return parsed.value;
      this.#err(`  ${parsed.problem}`);
      if (attempt >= MAX_ATTEMPTS) throw new UsageError(`no usable answer to "${spec.question}" after ${MAX_ATTEMPTS} tries`);
    }
  }


  async #setup(instanceExists: boolean): Promise<number> {
    const flags = this.#flags;
    const previous = instanceExists ? await this.#previousAnswers() : {};
    const interactive = this.#io.prompter !== undefined;
    if (interactive) {
      this.#out(`Setting up an ada instance in ${this.#show(flags.configDir)}${instanceExists ? ' (--force: instance.yaml and .env are written again)' : ''}.`);
      this.#out('Press Enter to take the value in [brackets].\n');
    }
    const domain = await this.#answer({ flag: flags.domain, flagName: 'domain', question: 'Company domain (Google accounts of this domain may sign in)', defaultValue: previous.domain, parse: parseDomain });
    const source = await this.#answer({ flag: flags.source, flagName: 'source', question: 'Data source (keboola or csv)', defaultValue: previous.source ?? 'keboola', parse: parseSource });
    const name = await this.#answer({ flag: flags.name, flagName: 'name', question: 'Instance name (shown in the portal)', defaultValue: previous.name ?? defaultName(domain), parse: parseName });
    const answers: InstanceAnswers = { name, domain, source };

    let discovered: Discovered;
    let token: string | undefined;
    if (source === 'keboola') {
      const keboola = await this.#keboolaAnswers(previous);
      if (typeof keboola === 'number') return keboola;
      token = keboola.token;
      answers.keboola = { stackUrl: keboola.stackUrl, ...(keboola.projectId ? { projectId: keboola.projectId } : {}) };
      discovered = keboola.discovered;
    } else {
      const csv = await this.#csvAnswers(previous);
      answers.csvDir = csv.written;
      discovered = csv.discovered;
    }
    const chosen = await this.#chooseBuckets(discovered);
    this.#throwIfAborted();

    // Everything is known and the token works: only now is anything written.
    await mkdir(flags.configDir, { recursive: true });
    if (instanceExists) {
      const backup = `${this.#instanceFile}.${this.#io.now.toISOString().replace(/[:.]/g, '-')}.bak`;
      await copyFile(this.#instanceFile, backup);
      this.#written.push({ file: backup, note: 'the previous instance.yaml' });
    }
    await writeFileAtomic(this.#instanceFile, renderInstanceYaml(answers, this.#date()));
    this.#written.push({ file: this.#instanceFile, note: '' });
    await this.#writeDotenv(token);
    await this.#gitignore();
    await this.#writeDescription(discovered, chosen, name);
    return this.#finish(true);
  }

  /** Defaults for a `--force` run: what the existing instance.yaml says, where it is written literally. */
  async #previousAnswers(): Promise<{ domain?: string; source?: string; name?: string; stackUrl?: string; projectId?: string; csvDir?: string }> {
    try {
      const doc = parseYaml((await readIfExists(this.#instanceFile)) ?? '') as Record<string, Record<string, unknown> | undefined> | null;
      const literal = (v: unknown): string | undefined => (typeof v === 'string' || typeof v === 'number') && !String(v).includes('${') && String(v).trim() !== '' ? String(v) : undefined;
      const ds = doc?.data_source as { type?: unknown; keboola?: Record<string, unknown>; csv?: Record<string, unknown> } | undefined;
      const found = {
        domain: literal(doc?.auth?.allowed_domain), source: literal(ds?.type), name: literal(doc?.instance?.name),
        stackUrl: literal(ds?.keboola?.stack_url), projectId: literal(ds?.keboola?.project_id), csvDir: literal(ds?.csv?.dir),
      };
      return Object.fromEntries(Object.entries(found).filter(([, v]) => v !== undefined));
    } catch {
      return {};
    }
  }

  async #keboolaAnswers(previous: { stackUrl?: string; projectId?: string }): Promise<number | { stackUrl: string; token: string; projectId?: string; discovered: Discovered }> {
    const flags = this.#flags;
    const prompter = this.#io.prompter;
    let stackUrl = await this.#askStack(flags.stackUrl, previous.stackUrl);
    let token = await this.#askToken(false);
    let check;
    for (let attempt = 1; ; attempt++) {
      this.#out(`Checking the token at ${stackUrl} …`);
      check = await checkToken(stackUrl, token, this.#io.signal, this.#io.retry ?? INIT_RETRY);
      if (check.ok) break;
      this.#err(`error: ${check.message}`);
      const refused = check.reason === 'unauthorized' || check.reason === 'forbidden';
      if (!prompter || attempt >= MAX_ATTEMPTS) {
        this.#err('Nothing was written.');
        return refused || check.reason === 'not-keboola' ? InitExit.usage : InitExit.failed;
      }
      if (refused) token = await this.#askToken(true);
      else stackUrl = await this.#askStack(undefined, stackUrl);
    }
    const client = check.client;
    this.#out(`The token works: ${check.projectName ? `project "${check.projectName}"` : 'a project'}${check.projectId ? ` (id ${check.projectId})` : ''}.`);
    // The project id only makes links; without one from the token or a flag it is left out.
    const projectId = await this.#answer({
      flag: flags.projectId, flagName: 'project-id', question: 'Keboola project id', defaultValue: check.projectId ?? previous.projectId ?? '',
      parse: (raw): Parsed<string | undefined> => (raw.trim() === '' ? { value: undefined } : parseProjectId(raw)),
    });
    if (projectId && check.projectId && projectId !== check.projectId) this.#err(`warning: the token belongs to project ${check.projectId}, not ${projectId}`);
    const discovered = await this.#readKeboola(client, stackUrl, check.projectName, projectId ?? check.projectId);
    return { stackUrl, token, ...(projectId ? { projectId } : {}), discovered };
  }

  async #askStack(flag: string | undefined, current: string | undefined): Promise<string> {
    if (flag !== undefined) return this.#answer({ flag, flagName: 'stack-url', question: '', parse: parseStackUrl });
    const prompter = this.#io.prompter;
    if (!prompter) {
      if (current === undefined) throw new UsageError('--stack-url is required with --non-interactive --source keboola');
      return this.#answer({ flag: current, flagName: 'stack-url', question: '', parse: parseStackUrl });
    }
    const known = KNOWN_STACKS.findIndex((s) => s.url === current);
    const width = Math.max(...KNOWN_STACKS.map((s) => s.url.length));
    this.#out('Keboola stacks:');
    KNOWN_STACKS.forEach((s, i) => this.#out(`  ${i + 1}) ${s.url.padEnd(width)}  ${s.label}`));
    this.#out(`  ${CUSTOM_STACK}) another stack (type its URL)`);
    const chosen = await this.#answer({
      flagName: 'stack-url', question: 'Keboola stack (a number or a URL)', defaultValue: known !== -1 ? String(known + 1) : (current ?? '1'), parse: parseStack,
    });
    if (chosen !== 'custom') return chosen;
    return this.#answer({ flagName: 'stack-url', question: 'Stack URL (e.g. https://connection.keboola.com)', parse: parseStackUrl });
  }

  /** The token: from the flags (first time), else asked without echo, else from the environment or the existing .env. */
  async #askToken(again: boolean): Promise<string> {
    const flags = this.#flags;
    if (!again && flags.token) return this.#remember(this.#tokenFrom(flags.token.value, flags.token.from));
    const fromEnv = this.#io.env[TOKEN_VAR];
    const fromDotenv = dotenvValues(await readIfExists(this.#dotenvFile))[TOKEN_VAR];
    const fallback = again ? undefined : fromEnv ? { value: fromEnv, label: `$${TOKEN_VAR}` } : fromDotenv ? { value: fromDotenv, label: `the token in ${this.#show(this.#dotenvFile)}` } : undefined;
    const prompter = this.#io.prompter;
    if (!prompter) {
      if (!fallback) throw new UsageError(`a Storage API token is required: pass --token-env VAR (the name of a variable holding it), or set ${TOKEN_VAR}`);
      return this.#remember(this.#tokenFrom(fallback.value, fallback.label));
    }
    for (let attempt = 1; ; attempt++) {
      const raw = await prompter.askSecret(`Storage API token${again ? ' (again)' : ''}`, fallback?.value, fallback ? `Enter: use ${fallback.label}` : undefined);
      const parsed = parseToken(raw);
      if ('value' in parsed) return this.#remember(parsed.value);
      this.#err(`  ${parsed.problem}`);
      if (attempt >= MAX_ATTEMPTS) throw new UsageError(`no usable token after ${MAX_ATTEMPTS} tries`);
    }
  }

  #tokenFrom(raw: string, from: string): string {
    this.#remember(raw);
    const parsed = parseToken(raw);
    if ('problem' in parsed) throw new UsageError(`the token from ${from}: ${parsed.problem}`);
    return parsed.value;
  }

  #remember(secret: string): string {
    if (secret !== '' && !this.#secrets.includes(secret)) this.#secrets.push(secret);
    return secret;
  }

  async #readKeboola(client: KeboolaClient, stackUrl: string, projectName: string | undefined, projectId: string | undefined): Promise<Discovered> {
    this.#out('Reading buckets and tables …');
    const { buckets, tables } = await readKeboolaProject(client, this.#io.signal);
    const project = projectName ? `Keboola project "${projectName}"${projectId ? ` (${projectId})` : ''}` : `Keboola project${projectId ? ` ${projectId}` : ''}`;
    return { kind: 'keboola', label: `${project} at ${stackUrl}`, buckets, tables };
  }

  async #csvAnswers(previous: { csvDir?: string }): Promise<{ written: string; discovered: Discovered }> {
    const configDir = this.#flags.configDir;
    const previousAbs = previous.csvDir ? path.resolve(configDir, previous.csvDir) : path.resolve(configDir, '..', 'data', 'csv');
    const dir = await this.#answer({
      flag: this.#flags.csvDir, flagName: 'csv-dir', question: 'CSV directory (relative to the current directory)', defaultValue: this.#show(previousAbs),
      parse: (raw): Parsed<string> => (raw.trim() === '' ? { problem: 'a directory is required' } : { value: path.resolve(this.#io.cwd, raw.trim()) }),
    });
    const rel = path.relative(configDir, dir).split(path.sep).join('/');
    const written = path.isAbsolute(rel) ? dir : rel === '' ? '.' : rel;
    const { tables, missing } = await scanCsvDir(dir);
    if (missing) this.#err(`note: ${this.#show(dir)} does not exist yet; create it and put CSV files there, then run \`ada init\` again to describe them`);
    else this.#out(`Found ${tables.length} CSV file${tables.length === 1 ? '' : 's'} in ${this.#show(dir)}.`);
    return { written, discovered: { kind: 'csv', label: `the CSV files in ${this.#show(dir)}`, buckets: [], tables } };
  }

  /** The buckets whose tables go into the data description (CSV: every file). */
  async #chooseBuckets(discovered: Discovered): Promise<string[]> {
    if (discovered.kind === 'csv') return [...new Set(discovered.tables.map((t) => t.bucket))];
    const { buckets } = discovered;
    if (buckets.length === 0) {
      this.#err('warning: the token can read no buckets; the data description will have no tables');
      return [];
    }
    if (this.#io.prompter && this.#flags.buckets === undefined) {
      this.#out('Buckets the token can read:');
      this.#listBuckets(buckets);
    }
    return this.#answer({
      flag: this.#flags.buckets, flagName: 'buckets', question: 'Buckets to include: all, or numbers or ids separated by commas', defaultValue: 'all',
      parse: (raw) => parseBuckets(raw, buckets, 'all'),
    });
  }

  #listBuckets(buckets: readonly ProjectBucket[]): void {
    const width = Math.max(...buckets.map((b) => b.id.length));
    buckets.forEach((b, i) => this.#out(`  ${String(i + 1).padStart(2)}) ${b.id.padEnd(width)}  ${b.tables} table${b.tables === 1 ? '' : 's'}`));
  }

  async #writeDotenv(token: string | undefined): Promise<void> {
    const existing = await readIfExists(this.#dotenvFile);
    const current = dotenvValues(existing);
    const values: Record<string, string> = {};
    if (token !== undefined) values[TOKEN_VAR] = token;
    // Keeping the session key keeps everyone signed in across a --force run.
    const keepKey = current[SECRET_KEY_VAR] !== undefined && current[SECRET_KEY_VAR] !== '';
    values[SECRET_KEY_VAR] = keepKey ? current[SECRET_KEY_VAR]! : newSecretKey();
    this.#remember(values[SECRET_KEY_VAR]);
    await writeFileAtomic(this.#dotenvFile, mergeDotenv(existing ?? newDotenvHeader(this.#date()), values), DOTENV_MODE);
    const notes = [`mode 600: ${Object.keys(values).join(', ')}`];
    if (keepKey) notes.push(`the existing ${SECRET_KEY_VAR} kept`);
    if (existing !== undefined) notes.push('other lines kept');
    this.#written.push({ file: this.#dotenvFile, note: notes.join('; ') });
    const shadow = this.#io.env[TOKEN_VAR];
    if (token !== undefined && shadow !== undefined && shadow !== '' && shadow !== token) {
      this.#err(`warning: ${TOKEN_VAR} is set in your environment to another token, and the environment wins over .env; unset it or update it`);
    }
  }

  async #gitignore(): Promise<void> {
    const { file, added } = await ensureGitignored(this.#dotenvFile, this.#io.cwd);
    if (added) this.#written.push({ file, note: 'added .env' });
  }

  /** Where the data description goes: `--docs DIR`, else the file loadConfig reads (config dir first, then ../docs), else the config dir. */
  async #descriptionFile(): Promise<string> {
    if (this.#flags.docsDir) return path.join(this.#flags.docsDir, DESCRIPTION_FILE);
    const main = path.join(this.#flags.configDir, DESCRIPTION_FILE);
    const docs = path.join(path.dirname(this.#flags.configDir), 'docs', DESCRIPTION_FILE);
    if (await exists(main)) return main;
    if (await exists(docs)) return docs;
    return main;
  }

  /** Warns when `file` is not where loadConfig looks. */
  async #warnIfUnread(file: string): Promise<void> {
    const main = path.join(this.#flags.configDir, DESCRIPTION_FILE);
    const docs = path.join(path.dirname(this.#flags.configDir), 'docs', DESCRIPTION_FILE);
    if (file === main || (file === docs && !(await exists(main)))) return;
    this.#err(`warning: ada reads the data description from ${this.#show(main)} (or, when that does not exist, ${this.#show(docs)}); ${this.#show(file)} is not read — move it there`);
  }

  /** First run: the whole description from the chosen buckets; when one exists already, only its missing tables are appended. */
  async #writeDescription(discovered: Discovered, buckets: string[], instanceName: string): Promise<void> {
    const file = await this.#descriptionFile();
    await this.#warnIfUnread(file);
    const chosen = new Set(buckets);
    const tables = discovered.tables.filter((t) => chosen.has(t.bucket));
    const existing = await readIfExists(file);
    if (existing !== undefined) {
      const described = await this.#described(file, existing);
      const fresh = tables.filter((t) => !described.ids.has(t.id));
      this.#out(`${this.#show(file)} exists: it is kept as it is${fresh.length > 0 ? `, and the ${fresh.length} table${fresh.length === 1 ? '' : 's'} it lacks are appended` : ' (it already has every chosen table)'}.`);
      if (fresh.length > 0) await this.#append(file, existing, discovered, fresh, described);
      return;
    }
    await this.#writeNewDescription(file, discovered, tables, instanceName, {}, buckets);
  }

  /** A whole new description of `tables` (folders for their buckets, and for `buckets` without tables, unless `mapped` already has them). */
  async #writeNewDescription(file: string, discovered: Discovered, tables: ProjectTable[], instanceName: string, mapped: Readonly<Record<string, string>>, buckets: string[] = []): Promise<void> {
    const folderMapping = assignFolders([...buckets, ...tables.map((t) => t.bucket)], mapped);
    const named = assignNames(tables, (b) => mapped[b] ?? folderMapping[b] ?? b);
    await mkdir(path.dirname(file), { recursive: true });
    await writeFileAtomic(file, renderDescription({ instanceName, sourceLabel: discovered.label, date: this.#date(), folderMapping, buckets: discovered.buckets, tables: named }));
    this.#written.push({ file, note: describeTables(named) });
  }

  /** What a description already defines: from loadConfig when the configuration loads, else read leniently from `file`. */
  async #described(file: string, text: string, config?: AdaConfig): Promise<DescribedTables> {
    let loaded = config;
    if (!loaded) {
      try {
        loaded = await loadConfig({ configDir: this.#flags.configDir, env: this.#validationEnv() });
      } catch (err) {
        if (!hasCode(err, ErrorCode.configInvalid) && !hasCode(err, ErrorCode.configMissing)) throw err;
      }
    }
    const fromFile = describedInMarkdown(text);
    if (!loaded) return fromFile;
    for (const t of loaded.tables) {
      fromFile.ids.add(t.id);
      fromFile.names.add(t.name.toLowerCase());
      fromFile.buckets.add(t.bucket);
    }
    Object.assign(fromFile.folderMapping, loaded.folderMapping);
    return fromFile;
  }

  /** Appends `fresh` in a new dated block; the existing text stays byte for byte. */
  async #append(file: string, existing: string, discovered: Discovered, fresh: ProjectTable[], described: DescribedTables): Promise<void> {
    // A bucket gets a folder only when none of its tables is described yet: a mapping would move the described ones.
    const unmapped = [...new Set(fresh.map((t) => t.bucket))].filter((b) => described.folderMapping[b] === undefined && !described.buckets.has(b));
    const newMapping = assignFolders(unmapped, described.folderMapping);
    const folderOf = (b: string): string => described.folderMapping[b] ?? newMapping[b] ?? b;
    const named = assignNames(fresh, folderOf, described.names);
    const appendix = renderAppendix({ date: this.#date(), sourceLabel: discovered.label, folderMapping: newMapping, tables: named });
    await writeFileAtomic(file, appendToDescription(existing, appendix));
    this.#written.push({ file, note: `appended ${describeTables(named)}` });
  }


  async #rerun(): Promise<number> {
    const flags = this.#flags;
    this.#out(`${this.#show(this.#instanceFile)} exists: it and ${DOTENV_FILE} are kept as they are (--force writes them again). Looking for new tables.`);
    let config: AdaConfig;
    try {
      config = await loadConfig({ configDir: flags.configDir, env: this.#io.env });
    } catch (err) {
      if (!hasCode(err, ErrorCode.configInvalid)) throw err;
      for (const p of err.details.problems as ConfigProblem[]) this.#err(formatProblem(p));
      this.#err('The configuration does not load; fix it (`ada config check`) and run `ada init` again.');
      return InitExit.usage;
    }
    for (const s of config.secrets) this.#remember(s);
    if (await exists(this.#dotenvFile)) await this.#gitignore();

    const ds = config.instance.dataSource;
    let discovered: Discovered;
    if (ds.type === 'keboola' && ds.keboola) {
      const check = await checkToken(ds.keboola.stackUrl, ds.keboola.storageToken, this.#io.signal, this.#io.retry ?? INIT_RETRY);
      if (!check.ok) {
        this.#err(`error: ${check.message} (the token of ${this.#show(this.#instanceFile)})`);
        return check.reason === 'unreachable' ? InitExit.failed : InitExit.usage;
      }
      discovered = await this.#readKeboola(check.client, ds.keboola.stackUrl, check.projectName, ds.keboola.projectId ?? check.projectId);
    } else if (ds.type === 'csv' && ds.csv) {
      const { tables, missing } = await scanCsvDir(ds.csv.dir);
      if (missing) this.#err(`warning: the CSV directory ${this.#show(ds.csv.dir)} does not exist`);
      discovered = { kind: 'csv', label: `the CSV files in ${this.#show(ds.csv.dir)}`, buckets: [], tables: await this.#undescribedFiles(config, ds.csv.dir, tables) };
    } else {
      this.#out(`ada init discovers tables of keboola and csv sources; this instance's source is ${ds.type}. Nothing to do.`);
      return InitExit.ok;
    }

    const file = await this.#descriptionFile();
    const current = await readIfExists(file);
    const text = current ?? '';
    const described = await this.#described(file, text, config);
    const pending = discovered.tables.filter((t) => !described.ids.has(t.id));
    const included = await this.#rerunBuckets(discovered, described, pending);
    const fresh = pending.filter((t) => included.has(t.bucket));
    this.#reportVanished(discovered, described);

    const left = pending.length - fresh.length;
    const elsewhere = left > 0 ? ` (${left} more table${left === 1 ? '' : 's'} in buckets it does not include; add them with --buckets)` : '';
    if (fresh.length === 0) {
      this.#out(`No new tables: ${this.#show(file)} already describes every table of the included buckets${elsewhere}.`);
      return this.#finish(false);
    }
    this.#out(`${fresh.length} new table${fresh.length === 1 ? '' : 's'} since the last run${elsewhere}:`);
    for (const t of fresh.slice(0, LIST_LIMIT)) this.#out(`  ${t.id}  (${suggestStrategy(t).strategy})`);
    if (fresh.length > LIST_LIMIT) this.#out(`  … and ${fresh.length - LIST_LIMIT} more`);
    let add = flags.addNewTables;
    if (!add && this.#io.prompter) {
      add = await this.#answer({ flagName: 'add-new-tables', question: `Add them to ${this.#show(file)}? (y/n)`, defaultValue: 'y', parse: (raw) => parseYesNo(raw, true) });
    }
    if (!add) {
      this.#out(this.#io.prompter ? 'Nothing was added.' : 'Nothing was added; run `ada init --non-interactive --add-new-tables` to append them.');
      return this.#finish(false);
    }
    await this.#warnIfUnread(file);
    if (current === undefined) await this.#writeNewDescription(file, discovered, fresh, config.instance.instance.name, described.folderMapping);
    else await this.#append(file, text, discovered, fresh, described);
    return this.#finish(false);
  }

  /** CSV files that no configured CSV table reads (a table's `file` may be a glob covering several). */
  async #undescribedFiles(config: AdaConfig, dir: string, tables: ProjectTable[]): Promise<ProjectTable[]> {
    const covered = new Set<string>();
    for (const t of config.tables) {
      if (t.source !== 'csv' || !t.file) continue;
      try {
        for (const f of await resolveTableFiles(dir, t.file)) covered.add(f.relativePath);
      } catch {
        // A pattern matching nothing covers nothing.
      }
    }
    return tables.filter((t) => t.file === undefined || !covered.has(t.file));
  }

  /**
   * The buckets whose new tables are offered: `--buckets`; else (Keboola) those the description already has
   * tables or folders for (all when it has none), and interactively any others the user picks; CSV: all.
   */
  async #rerunBuckets(discovered: Discovered, described: DescribedTables, pending: ProjectTable[]): Promise<Set<string>> {
    if (discovered.kind === 'csv') return new Set(pending.map((t) => t.bucket));
    const flag = this.#flags.buckets;
    if (flag !== undefined) {
      const parsed = parseBuckets(flag, discovered.buckets, 'all');
      if ('problem' in parsed) throw new UsageError(`--buckets: ${parsed.problem}`);
      return new Set(parsed.value);
    }
    const known = discovered.buckets.filter((b) => described.buckets.has(b.id) || described.folderMapping[b.id] !== undefined).map((b) => b.id);
    if (known.length === 0) return new Set(discovered.buckets.map((b) => b.id));
    const included = new Set(known);
    const others = discovered.buckets
      .filter((b) => !included.has(b.id))
      .map((b) => ({ ...b, tables: pending.filter((t) => t.bucket === b.id).length }))
      .filter((b) => b.tables > 0);
    if (others.length > 0 && this.#io.prompter) {
      this.#out('Buckets that the data description does not include yet:');
      this.#listBuckets(others);
      const picked = await this.#answer({
        flagName: 'buckets', question: 'Include tables of any of them? Numbers or ids separated by commas, all, or Enter for none', defaultValue: 'none',
        parse: (raw) => parseBuckets(raw, others, 'none'),
      });
      for (const b of picked) included.add(b);
    }
    return included;
  }

  #reportVanished(discovered: Discovered, described: DescribedTables): void {
    if (discovered.kind !== 'keboola') return;
    const present = new Set(discovered.tables.map((t) => t.id));
    const projectBuckets = new Set(discovered.buckets.map((b) => b.id));
    // Only ids that look like this project's (their bucket is one Keboola listed, or has the stage form) can have vanished.
    const gone = [...described.ids].filter((id) => !present.has(id) && (projectBuckets.has(id.slice(0, id.lastIndexOf('.'))) || /^(in|out)\.c-/.test(id)));
    if (gone.length === 0) return;
    this.#err(`warning: ${gone.length} described table${gone.length === 1 ? ' is' : 's are'} no longer in the project (remove ${gone.length === 1 ? 'it' : 'them'} from the data description, or syncs will fail):`);
    for (const id of gone.slice(0, LIST_LIMIT)) this.#err(`  ${id}`);
  }


  /** The environment to validate with: the written .env must be what fills the placeholders, not stale shell variables. */
  #validationEnv(): NodeJS.ProcessEnv {
    const env = { ...this.#io.env };
    if (this.#written.some((w) => w.file === this.#dotenvFile)) {
      delete env[TOKEN_VAR];
      delete env[SECRET_KEY_VAR];
    }
    delete env.CONFIG_DIR;
    return env;
  }

  async #finish(firstRun: boolean): Promise<number> {
    let config: AdaConfig | undefined;
    let problems: ConfigProblem[] = [];
    try {
      config = await loadConfig({ configDir: this.#flags.configDir, env: firstRun ? this.#validationEnv() : this.#io.env });
      for (const s of config.secrets) this.#remember(s);
    } catch (err) {
      if (!hasCode(err, ErrorCode.configInvalid) && !hasCode(err, ErrorCode.configMissing)) throw err;
      problems = hasCode(err, ErrorCode.configInvalid) ? (err.details.problems as ConfigProblem[]) : [{ file: this.#instanceFile, message: 'not found' }];
    }
    if (this.#written.length > 0) {
      this.#out('\nWrote:');
      for (const w of this.#written) this.#out(`  ${this.#show(w.file)}${w.note ? `  (${w.note})` : ''}`);
    }
    if (!config) {
      this.#err('\nThe configuration does not load:');
      for (const p of problems) this.#err(`  ${formatProblem(p)}`);
      this.#err('Fix these (see docs/configuration.md), then check with `ada config check`.');
      return InitExit.failed;
    }
    const todo = config.tables.filter((t) => t.description.trim() === TODO_DESCRIPTION).length;
    this.#out(`\nChecked: the configuration loads (${config.tables.length} table${config.tables.length === 1 ? '' : 's'}${config.warnings?.length ? `, ${config.warnings.length} warning${config.warnings.length === 1 ? '' : 's'} — see \`ada config check\`` : ''}).`);
    const configFlag = path.resolve(this.#io.cwd, 'config') === this.#flags.configDir ? '' : ` --config ${this.#show(this.#flags.configDir)}`;
    const description = config.descriptionFiles[0];
    this.#out('\nNext steps:');
    let step = 1;
    if (description && (firstRun || todo > 0)) {
      this.#out(`  ${step++}. Review ${this.#show(description)}${todo > 0 ? `: describe the ${todo} table${todo === 1 ? '' : 's'} marked "${TODO_DESCRIPTION}"` : ''}, and check the sync strategies`);
    }
    const commands = [
      [`ada config check${configFlag}`, 'validate after editing'],
      [`ada sync${configFlag}`, 'fetch the tables into Parquet'],
      [`ada serve${configFlag}`, 'start the portal (set GOOGLE_CLIENT_ID and GOOGLE_CLIENT_SECRET for sign-in)'],
    ] as const;
    const width = Math.max(...commands.map(([c]) => c.length));
    for (const [command, why] of commands) this.#out(`  ${step++}. ${command.padEnd(width)}   ${why}`);
    return InitExit.ok;
  }

  #throwIfAborted(): void {
    if (this.#io.signal.aborted) throw Object.assign(new Error('cancelled'), { code: PromptErrorCode.cancelled });
  }
}

function describeTables(named: readonly NamedTable[]): string {
  const incremental = named.filter((n) => suggestStrategy(n.table).strategy === 'incremental').length;
  const todo = named.filter((n) => n.table.description === undefined).length;
  const folders = new Set(named.map((n) => n.table.bucket)).size;
  const parts = [`${named.length} table${named.length === 1 ? '' : 's'}${folders > 1 ? ` from ${folders} buckets` : ''}`];
  if (named.length > 0) parts.push(`${incremental} incremental, ${named.length - incremental} full_refresh`);
  if (todo > 0) parts.push(`${todo} to describe`);
  return parts.join('; ');
}
