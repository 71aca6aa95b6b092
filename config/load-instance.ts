/** Reading `instance.yaml`: placeholders, secrets and the typed InstanceConfig. */
import { parseLocatedYaml } from './located-yaml.ts';
import { resolveTree } from './placeholders.ts';
import { documentContext, formatPath } from './problems.ts';
import type { DocumentContext, ProblemSink, YamlPath } from './problems.ts';
import {
  isAbsent, isYamlMap, readEnum, readList, readMap, readString, readStringList, warnUnknownKeys,
} from './read-fields.ts';
import type { YamlMap } from './read-fields.ts';
import { isSecretKey } from './secrets.ts';
import { validateCron } from './cron-schedule.ts';
import type { ConnectorConfigDeclaration } from './connector-config.ts';
import type { AdminConfig, DatasetConfig, InstanceConfig } from './types.ts';

/** What the rest of loading needs from instance.yaml. */
export interface LoadedInstance {
  instance: InstanceConfig;
  secrets: string[];
  /** Sources a table may name; undefined when data_source.type itself is invalid. */
  sources?: string[];
  /** The default source of a table (data_source.type), when valid. */
  defaultSource?: string;
  /** Each connector's parsed section, by type, for its per-table reader. */
  sectionSettings?: Record<string, unknown>;
}

const GENERIC_TOP_KEYS = ['instance', 'server', 'admins', 'auth', 'data_source', 'users', 'datasets', 'catalog'];
// Shorter session keys can be brute-forced offline from a signed cookie.
const MIN_SECRET_KEY_LENGTH = 16;

/**
 * Parses and validates instance.yaml text, resolving `${VAR}` placeholders
 * from `vars`. Problems go to `sink`; returns undefined only when the file
 * could not be parsed into a mapping at all.
 */
export function loadInstance(
  text: string,
  file: string,
  configDir: string,
  vars: Readonly<Record<string, string | undefined>>,
  dotenvFile: string,
  sink: ProblemSink,
  connectors: readonly ConnectorConfigDeclaration[],
): LoadedInstance | undefined {
  const parsed = parseLocatedYaml(text);
  if (!parsed.ok) {
    for (const e of parsed.errors) sink.problems.push({ file, line: e.line, message: `invalid YAML: ${e.message}` });
    return undefined;
  }
  const ctx = documentContext(sink, file, parsed.doc.lineOf);
  if (!isYamlMap(parsed.doc.value)) {
    ctx.problem([], isAbsent(parsed.doc.value) ? 'the file is empty' : 'expected a mapping of sections (instance, auth, data_source, …)');
    return undefined;
  }

  const resolved = resolveTree(parsed.doc.value, vars);
  const root = resolved.value as YamlMap;
  const secrets = collectSecrets(root, resolved.substituted, vars);

  // A connector's section is read only when its declaration says so (see ReadWhen); otherwise it is dropped with
  // its unset placeholders, so a template may keep the settings of a source it does not use.
  const inactive: YamlPath[] = [];
  const dataSourceRaw = root.data_source;
  for (const c of connectors) {
    const at = sectionPath(c);
    const parent = at.length === 1 ? root : dataSourceRaw;
    const key = at[at.length - 1] as string;
    if (!isYamlMap(parent) || !(key in parent)) continue;
    const raw = parent[key];
    if (c.readWhen === 'present') continue;
    if (c.readWhen === 'primary') {
      if (!isYamlMap(dataSourceRaw) || dataSourceRaw.type !== c.type) {
        inactive.push(at);
        delete parent[key];
      }
      continue;
    }
    if (!isYamlMap(raw)) continue;
    const keyAt = [...at, c.readWhen.keySet];
    const unset = resolved.issues.find((i) => startsWith(i.path, keyAt) && i.kind === 'missing');
    const value = raw[c.readWhen.keySet];
    if (unset || isAbsent(value) || String(value).trim() === '') {
      inactive.push(at);
      ctx.warn(keyAt, unset ? `${c.label} is disabled: ${unset.text} is not set` : `${c.label} is disabled: ${formatPath(keyAt)} is empty`);
      delete parent[key];
    }
  }

  const reported = new Set<string>();
  for (const issue of resolved.issues) {
    if (inactive.some((prefix) => startsWith(issue.path, prefix))) continue;
    reported.add(formatPath(issue.path));
    const secret = isSecretKey(lastKey(issue.path) ?? '');
    if (issue.kind === 'missing') {
      ctx.problem(issue.path, `environment variable ${issue.text} is not set (neither in the environment nor in ${dotenvFile})`);
    } else {
      ctx.problem(issue.path, `malformed placeholder${secret ? '' : ` "${issue.text}"`}: expected \${NAME} or \${NAME:-default}`);
    }
  }

  // A value left unresolved is reported once, not again as e.g. an unknown data_source.type.
  const buildCtx: DocumentContext = { ...ctx, problem: (at, message) => { if (!reported.has(formatPath(at))) ctx.problem(at, message); } };
  return { ...buildInstance(buildCtx, root, configDir, connectors), secrets };
}

/** Key path of a connector's section: `['data_source', type]` or `[key]`. */
function sectionPath(c: ConnectorConfigDeclaration): YamlPath {
  return c.section.in === 'data_source' ? ['data_source', c.type] : [c.section.key];
}

function buildInstance(ctx: DocumentContext, root: YamlMap, configDir: string, connectors: readonly ConnectorConfigDeclaration[]): Omit<LoadedInstance, 'secrets'> {
  const topKeys = [...GENERIC_TOP_KEYS, ...connectors.flatMap((c) => (c.section.in === 'top' ? [c.section.key] : []))];
  warnUnknownKeys(ctx, root, [], topKeys);

  const inst = section(ctx, root, [], 'instance');
  if (inst) warnUnknownKeys(ctx, inst, ['instance'], ['name', 'subtitle', 'copyright']);
  const instance: InstanceConfig['instance'] = {
    name: (inst && readString(ctx, inst, ['instance'], 'name', { required: true })) ?? '',
    subtitle: inst && readString(ctx, inst, ['instance'], 'subtitle'),
    copyright: inst && readString(ctx, inst, ['instance'], 'copyright'),
  };

  const srv = section(ctx, root, [], 'server');
  if (srv) warnUnknownKeys(ctx, srv, ['server'], ['hostname', 'host', 'app_dir']);
  const server: InstanceConfig['server'] = {
    hostname: srv && readString(ctx, srv, ['server'], 'hostname'),
    host: srv && readString(ctx, srv, ['server'], 'host'),
    appDir: srv && readString(ctx, srv, ['server'], 'app_dir'),
  };

  const sources = readSources(ctx, root, configDir, connectors);
  return {
    instance: {
      instance,
      server,
      admins: readAdmins(ctx, root),
      auth: readAuth(ctx, root),
      dataSource: sources.dataSource,
      ...sources.topLevel,
      users: readUsers(ctx, root),
      datasets: readDatasets(ctx, root),
      catalog: readCatalog(ctx, root),
    },
    sources: sources.names,
    defaultSource: sources.defaultSource,
    sectionSettings: sources.settings,
  };
}

function readAdmins(ctx: DocumentContext, root: YamlMap): AdminConfig[] {
  const list = readList(ctx, root, [], 'admins') ?? [];
  const admins: AdminConfig[] = [];
  list.forEach((item, i) => {
    const at = ['admins', i];
    if (typeof item === 'string') {
      admins.push({ username: item });
      return;
    }
    if (!isYamlMap(item)) {
      ctx.problem(at, 'expected a mapping with username and ssh_public_key');
      return;
    }
    warnUnknownKeys(ctx, item, at, ['username', 'ssh_public_key']);
    const username = readString(ctx, item, at, 'username', { required: true });
    if (username !== undefined) admins.push({ username, sshPublicKey: readString(ctx, item, at, 'ssh_public_key') });
  });
  return admins;
}

/** The default OpenID Connect issuer: Google accounts. */
const GOOGLE_ISSUER = 'https://accounts.google.com';

function readAuth(ctx: DocumentContext, root: YamlMap): InstanceConfig['auth'] {
  const at = ['auth'];
  const auth = section(ctx, root, [], 'auth');
  if (!auth) return { mode: 'oidc', issuer: GOOGLE_ISSUER, allowedDomain: '', webappSecretKey: '', allowedEmails: [] };
  warnUnknownKeys(ctx, auth, at, ['mode', 'issuer', 'client_id', 'client_secret', 'allowed_domain', 'allowed_emails', 'google_client_id', 'google_client_secret', 'webapp_secret_key']);

  const mode = readEnum(ctx, auth, at, 'mode', ['oidc', 'dev'] as const) ?? 'oidc';
  let issuer = (readString(ctx, auth, at, 'issuer') ?? GOOGLE_ISSUER).trim().replace(/\/+$/, '');
  if (!/^https?:\/\/[^\s/]+/.test(issuer)) {
    ctx.problem([...at, 'issuer'], `expected the OpenID Connect issuer URL, such as ${GOOGLE_ISSUER}, found "${issuer}"`);
    issuer = GOOGLE_ISSUER;
  }
  let allowedDomain = readString(ctx, auth, at, 'allowed_domain', { required: true }) ?? '';
  allowedDomain = allowedDomain.trim().replace(/^@/, '').toLowerCase();
  if (/[@/\s]/.test(allowedDomain)) ctx.problem([...at, 'allowed_domain'], `expected a domain such as example.com, found "${allowedDomain}"`);

  const webappSecretKey = readString(ctx, auth, at, 'webapp_secret_key', { required: true, secret: true }) ?? '';
  if (webappSecretKey !== '' && webappSecretKey.length < MIN_SECRET_KEY_LENGTH) {
    ctx.warn([...at, 'webapp_secret_key'], `is shorter than ${MIN_SECRET_KEY_LENGTH} characters; use a long random value`);
  }
  const clientId = readString(ctx, auth, at, 'client_id') ?? readString(ctx, auth, at, 'google_client_id');
  const clientSecret = readString(ctx, auth, at, 'client_secret', { secret: true }) ?? readString(ctx, auth, at, 'google_client_secret', { secret: true });
  return {
    mode,
    issuer,
    allowedDomain,
    ...(clientId !== undefined ? { clientId, googleClientId: clientId } : {}),
    ...(clientSecret !== undefined ? { clientSecret, googleClientSecret: clientSecret } : {}),
    webappSecretKey,
    allowedEmails: (readStringList(ctx, auth, at, 'allowed_emails') ?? []).map((e) => e.toLowerCase()),
  };
}

/**
 * `data_source.type` and `schedule`, then each connector's section handed to its declaration. The sources a table
 * may name are the main one plus every connector whose section was read into settings.
 */
function readSources(ctx: DocumentContext, root: YamlMap, configDir: string, connectors: readonly ConnectorConfigDeclaration[]): {
  dataSource: InstanceConfig['dataSource'];
  topLevel: Record<string, unknown>;
  names?: string[];
  defaultSource?: string;
  settings: Record<string, unknown>;
} {
  const at = ['data_source'];
  const ds = section(ctx, root, [], 'data_source');
  const primaryTypes = connectors.filter((c) => c.primary).map((c) => c.type);
  const type = ds ? readEnum(ctx, ds, at, 'type', primaryTypes, { required: true }) : undefined;
  const dataSourceKeys = ['type', 'schedule', ...connectors.filter((c) => c.section.in === 'data_source').map((c) => c.type)];
  if (ds) warnUnknownKeys(ctx, ds, at, dataSourceKeys);
  const dataSource: Record<string, unknown> = { type: type ?? 'csv' };
  const topLevel: Record<string, unknown> = {};
  const settings: Record<string, unknown> = {};
  const names = new Set<string>(type ? [type] : []);

  for (const c of connectors) {
    const sectionAt = sectionPath(c);
    const parent = c.section.in === 'data_source' ? ds : root;
    if (!parent) continue;
    const key = sectionAt[sectionAt.length - 1] as string;
    const primary = type === c.type;
    if (c.readWhen === 'primary' && !primary) continue;
    const map = readMap(ctx, parent, sectionAt.slice(0, -1), key, { required: primary });
    if (!map) continue;
    const parsed = c.readSection(map, { ctx, at: sectionAt, configDir, primary });
    if (parsed === undefined) continue;
    settings[c.type] = parsed;
    names.add(c.type);
    if (c.section.in === 'data_source') dataSource[c.type] = parsed;
    else topLevel[c.section.key] = parsed;
  }
  if (ds) dataSource.schedule = readSchedule(ctx, ds, at);
  return {
    dataSource: dataSource as unknown as InstanceConfig['dataSource'],
    topLevel,
    settings,
    ...(type ? { names: [...names], defaultSource: type } : {}),
  };
}

function readUsers(ctx: DocumentContext, root: YamlMap): InstanceConfig['users'] {
  const users: InstanceConfig['users'] = {};
  const map = readMap(ctx, root, [], 'users');
  for (const [user, value] of Object.entries(map ?? {})) {
    const at = ['users', user];
    if (isAbsent(value)) {
      users[user] = {};
    } else if (!isYamlMap(value)) {
      ctx.problem(at, 'expected a mapping with name and initials');
    } else {
      warnUnknownKeys(ctx, value, at, ['name', 'initials']);
      users[user] = { name: readString(ctx, value, at, 'name'), initials: readString(ctx, value, at, 'initials') };
    }
  }
  return users;
}

function readDatasets(ctx: DocumentContext, root: YamlMap): Record<string, DatasetConfig> {
  const datasets: Record<string, DatasetConfig> = {};
  const map = readMap(ctx, root, [], 'datasets');
  for (const [key, value] of Object.entries(map ?? {})) {
    const at = ['datasets', key];
    const entry = isAbsent(value) ? {} : value;
    if (!isYamlMap(entry)) {
      ctx.problem(at, 'expected a mapping with label, description, size_hint and requires');
      continue;
    }
    warnUnknownKeys(ctx, entry, at, ['label', 'description', 'size_hint', 'requires']);
    datasets[key] = {
      key,
      label: readString(ctx, entry, at, 'label') ?? key,
      description: readString(ctx, entry, at, 'description'),
      sizeHint: readString(ctx, entry, at, 'size_hint'),
      requires: readStringList(ctx, entry, at, 'requires') ?? [],
    };
  }

  for (const dataset of Object.values(datasets)) {
    dataset.requires.forEach((required, i) => {
      if (!(required in datasets)) ctx.problem(['datasets', dataset.key, 'requires', i], `requires unknown dataset "${required}" (configured: ${Object.keys(datasets).join(', ')})`);
    });
  }
  for (const cycle of findCycles(datasets)) {
    ctx.problem(['datasets', cycle[0]!, 'requires'], `datasets require each other in a cycle: ${[...cycle, cycle[0]].join(' → ')}`);
  }
  return datasets;
}

/** Each `requires` cycle once, starting at its first dataset in file order. */
function findCycles(datasets: Record<string, DatasetConfig>): string[][] {
  const cycles: string[][] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const stack: string[] = [];
  const visit = (key: string): void => {
    state.set(key, 'visiting');
    stack.push(key);
    for (const next of datasets[key]?.requires ?? []) {
      if (!(next in datasets)) continue;
      if (state.get(next) === 'visiting') cycles.push(stack.slice(stack.indexOf(next)));
      else if (!state.has(next)) visit(next);
    }
    stack.pop();
    state.set(key, 'done');
  };
  for (const key of Object.keys(datasets)) if (!state.has(key)) visit(key);
  return cycles;
}

function readCatalog(ctx: DocumentContext, root: YamlMap): InstanceConfig['catalog'] {
  const at = ['catalog'];
  const catalog = section(ctx, root, [], 'catalog');
  const categories: InstanceConfig['catalog']['categories'] = {};
  if (!catalog) return { categories, order: [] };
  warnUnknownKeys(ctx, catalog, at, ['categories', 'order']);
  for (const [folder, value] of Object.entries(readMap(ctx, catalog, at, 'categories') ?? {})) {
    const catAt = [...at, 'categories', folder];
    if (isAbsent(value)) {
      categories[folder] = {};
    } else if (!isYamlMap(value)) {
      ctx.problem(catAt, 'expected a mapping with label and icon');
    } else {
      warnUnknownKeys(ctx, value, catAt, ['label', 'icon']);
      categories[folder] = { label: readString(ctx, value, catAt, 'label'), icon: readString(ctx, value, catAt, 'icon') };
    }
  }
  return { categories, order: readStringList(ctx, catalog, at, 'order') ?? [] };
}

/** An optional `schedule` cron expression at `map.schedule`. */
export function readSchedule(ctx: DocumentContext, map: YamlMap, at: YamlPath): string | undefined {
  const schedule = readString(ctx, map, at, 'schedule');
  if (schedule === undefined) return undefined;
  const problem = validateCron(schedule);
  if (problem) {
    ctx.problem([...at, 'schedule'], problem);
    return undefined;
  }
  return schedule.trim().replace(/\s+/g, ' ');
}

/** An optional section: absent → empty mapping; not a mapping → a problem and undefined. */
function section(ctx: DocumentContext, map: YamlMap, at: YamlPath, key: string): YamlMap | undefined {
  return isAbsent(map[key]) ? {} : readMap(ctx, map, at, key);
}

/** Every value that must be masked: values of secret keys, and values of secret-named variables. */
function collectSecrets(
  root: YamlMap,
  substituted: ReadonlyArray<{ variables: string[] }>,
  vars: Readonly<Record<string, string | undefined>>,
): string[] {
  const secrets = new Set<string>();
  const walk = (node: unknown, key: string | undefined): void => {
    if (typeof node === 'string') {
      if (key !== undefined && isSecretKey(key) && node.trim() !== '') secrets.add(node);
    } else if (Array.isArray(node)) {
      for (const item of node) walk(item, key);
    } else if (isYamlMap(node)) {
      for (const [k, v] of Object.entries(node)) walk(v, k);
    }
  };
  walk(root, undefined);
  for (const s of substituted) {
    for (const name of s.variables) {
      const value = vars[name];
      if (isSecretKey(name) && value !== undefined && value.trim() !== '') secrets.add(value);
    }
  }
  return [...secrets].sort();
}

/** True for an http(s) URL. */
export function isHttpUrl(text: string): boolean {
  try {
    const url = new URL(text);
    return url.protocol === 'https:' || url.protocol === 'http:';
  } catch {
    return false;
  }
}

function startsWith(path: YamlPath, prefix: YamlPath): boolean {
  return prefix.every((segment, i) => path[i] === segment);
}

function lastKey(path: YamlPath): string | undefined {
  for (let i = path.length - 1; i >= 0; i--) {
    const segment = path[i];
    if (typeof segment === 'string') return segment;
  }
  return undefined;
}

