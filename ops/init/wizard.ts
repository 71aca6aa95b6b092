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
import { CONNECTORS } from '../../connectors/index.ts';
import type { ConnectorModule, ConnectorSetup, Discovered as SourceDiscovered, SetupContext } from '../../pipeline/index.ts';
import { adaError, ErrorCode, hasCode } from '../../events/index.ts';
import { UsageError } from '../usage-error.ts';
import { defaultName, parseBuckets, parseDomain, parseName, parseSource, parseYesNo } from './answers.ts';
import type { Parsed } from './answers.ts';
import {
  appendToDescription, assignFolders, assignNames, describedInMarkdown, renderAppendix, renderDescription, suggestStrategy, TODO_DESCRIPTION,
} from './data-description.ts';
import type { DescribedTables, NamedTable } from './data-description.ts';
import {
  DOTENV_MODE, dotenvValues, ensureGitignored, exists, mergeDotenv, newDotenvHeader, newSecretKey, readIfExists, renderInstanceYaml, SECRET_KEY_VAR,
  writeFileAtomic,
} from './instance-files.ts';
import type { InstanceAnswers } from './instance-files.ts';
import { PromptErrorCode } from './prompter.ts';
import type { Prompter } from './prompter.ts';
import { bucketsOf } from './project.ts';
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
  /** The source's secret and where it came from (`--token`, `$VAR`), never printed. */
  token?: { value: string; from: string };
  /** `--buckets`, raw (`all` or a comma-separated list). */
  buckets?: string;
  /** The connectors' own flags by name (`stack-url`, `project-id`, `csv-dir`). */
  sourceFlags: Record<string, string>;
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
  /** The connector's retry policy for its checks (tests make it short). */
  retry?: unknown;
  /** The connector modules to offer; default: every registered one with setup questions. */
  connectors?: readonly ConnectorModule[];
}

/** The source as discovered, its buckets counted. */
type Discovered = Omit<SourceDiscovered, 'buckets'> & { buckets: ProjectBucket[] };

/** A connector module that has `ada init` questions. */
type SetupModule = ConnectorModule & { setup: ConnectorSetup };

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
    const previous = instanceExists ? await this.#previousAnswers() : { section: {} };
    const interactive = this.#io.prompter !== undefined;
    if (interactive) {
      this.#out(`Setting up an ada instance in ${this.#show(flags.configDir)}${instanceExists ? ' (--force: instance.yaml and .env are written again)' : ''}.`);
      this.#out('Press Enter to take the value in [brackets].\n');
    }
    const domain = await this.#answer({ flag: flags.domain, flagName: 'domain', question: 'Company domain (Google accounts of this domain may sign in)', defaultValue: previous.domain, parse: parseDomain });
    const types = this.#modules().map((m) => m.type);
    const source = await this.#answer({ flag: flags.source, flagName: 'source', question: `Data source (${types.join(' or ')})`, defaultValue: previous.source ?? types[0], parse: (raw) => parseSource(raw, types) });
    const name = await this.#answer({ flag: flags.name, flagName: 'name', question: 'Instance name (shown in the portal)', defaultValue: previous.name ?? defaultName(domain), parse: parseName });
    const module = this.#modules().find((m) => m.type === source)!;
    const asked = await module.setup.ask(this.#setupContext(), previous.source === source ? previous.section : {});
    if (typeof asked === 'number') return asked;
    const answers: InstanceAnswers = { name, domain, source, sectionLines: asked.sectionLines };
    const discovered = counted(asked.discovered);
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
    await this.#writeDotenv(asked.dotenv);
    await this.#gitignore();
    await this.#writeDescription(discovered, chosen, name);
    return this.#finish(true);
  }

  /** Defaults for a `--force` run: what the existing instance.yaml says, where it is written literally. */
  async #previousAnswers(): Promise<{ domain?: string; source?: string; name?: string; section: Record<string, string> }> {
    try {
      const doc = parseYaml((await readIfExists(this.#instanceFile)) ?? '') as Record<string, Record<string, unknown> | undefined> | null;
      const literal = (v: unknown): string | undefined => (typeof v === 'string' || typeof v === 'number') && !String(v).includes('${') && String(v).trim() !== '' ? String(v) : undefined;
      const ds = doc?.data_source;
      const source = literal(ds?.type);
      const module = this.#modules().find((m) => m.type === source);
      const section = ds?.[source ?? ''];
      const found = { domain: literal(doc?.auth?.allowed_domain), source, name: literal(doc?.instance?.name) };
      return {
        ...Object.fromEntries(Object.entries(found).filter(([, v]) => v !== undefined)),
        section: module?.setup.previous(section !== null && typeof section === 'object' ? section as Record<string, unknown> : undefined) ?? {},
      };
    } catch {
      return { section: {} };
    }
  }

  /** The connectors `ada init` can set up, in registry order. */
  #modules(): SetupModule[] {
    return (this.#io.connectors ?? CONNECTORS).filter((m): m is SetupModule => m.setup !== undefined);
  }

  /** What a connector's questions may use of the wizard. */
  #setupContext(): SetupContext {
    const io = this.#io;
    return {
      interactive: io.prompter !== undefined,
      configDir: this.#flags.configDir,
      cwd: io.cwd,
      env: io.env,
      signal: io.signal,
      flags: this.#flags.sourceFlags,
      ...(this.#flags.token ? { secretFlag: this.#flags.token } : {}),
      retry: io.retry,
      maxAttempts: MAX_ATTEMPTS,
      out: (text) => this.#out(text),
      err: (text) => this.#err(text),
      show: (file) => this.#show(file),
      answer: (spec) => this.#answer(spec),
      askSecret: (question, fallback, hint) => {
        if (!io.prompter) throw new UsageError(`${question}: cannot ask with --non-interactive`);
        return io.prompter.askSecret(question, fallback, hint);
      },
      remember: (secret) => this.#remember(secret),
      dotenv: async () => dotenvValues(await readIfExists(this.#dotenvFile)),
      usageError: (message) => new UsageError(message),
    };
  }

  #remember(secret: string): string {
    if (secret !== '' && !this.#secrets.includes(secret)) this.#secrets.push(secret);
    return secret;
  }

  /** The buckets whose tables go into the data description (CSV: every file). */
  async #chooseBuckets(discovered: Discovered): Promise<string[]> {
    if (!discovered.pickBuckets) return [...new Set(discovered.tables.map((t) => t.bucket))];
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

  async #writeDotenv(sourceValues: Readonly<Record<string, string>>): Promise<void> {
    const existing = await readIfExists(this.#dotenvFile);
    const current = dotenvValues(existing);
    const values: Record<string, string> = { ...sourceValues };
    // Keeping the session key keeps everyone signed in across a --force run.
    const keepKey = current[SECRET_KEY_VAR] !== undefined && current[SECRET_KEY_VAR] !== '';
    values[SECRET_KEY_VAR] = keepKey ? current[SECRET_KEY_VAR]! : newSecretKey();
    this.#remember(values[SECRET_KEY_VAR]);
    await writeFileAtomic(this.#dotenvFile, mergeDotenv(existing ?? newDotenvHeader(this.#date()), values), DOTENV_MODE);
    const notes = [`mode 600: ${Object.keys(values).join(', ')}`];
    if (keepKey) notes.push(`the existing ${SECRET_KEY_VAR} kept`);
    if (existing !== undefined) notes.push('other lines kept');
    this.#written.push({ file: this.#dotenvFile, note: notes.join('; ') });
    for (const [name, value] of Object.entries(sourceValues)) {
      const shadow = this.#io.env[name];
      if (shadow !== undefined && shadow !== '' && shadow !== value) {
        this.#err(`warning: ${name} is set in your environment to another token, and the environment wins over .env; unset it or update it`);
      }
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

    const type = config.instance.dataSource.type;
    const module = this.#modules().find((m) => m.type === type);
    if (!module) {
      this.#out(`ada init discovers tables of ${this.#modules().map((m) => m.type).join(' and ')} sources; this instance's source is ${type}. Nothing to do.`);
      return InitExit.ok;
    }
    const found = await module.setup.discover(this.#setupContext(), config);
    if (typeof found === 'number') return found;
    const discovered = counted(found);

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

  /**
   * The buckets whose new tables are offered: `--buckets`; else (Keboola) those the description already has
   * tables or folders for (all when it has none), and interactively any others the user picks; CSV: all.
   */
  async #rerunBuckets(discovered: Discovered, described: DescribedTables, pending: ProjectTable[]): Promise<Set<string>> {
    if (!discovered.pickBuckets) return new Set(pending.map((t) => t.bucket));
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
    if (!discovered.complete) return;
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
      for (const m of this.#modules()) for (const name of m.setup.dotenvVars) delete env[name];
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
    if (this.#io.signal.aborted) throw adaError(PromptErrorCode.cancelled, 'cancelled');
  }
}

/** A connector's discovery with its buckets counted (only where the user picks buckets). */
function counted(found: SourceDiscovered): Discovered {
  return { ...found, buckets: found.pickBuckets ? bucketsOf(found.tables, found.buckets) : [] };
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
