/**
 * The files `ada init` writes besides the data description: `instance.yaml`, the `.env` with its secrets (mode
 * 0600), and the `.gitignore` entry that keeps `.env` out of git — every write atomic (temp file, fsync, rename).
 */
import { randomBytes } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import writeFileAtomicly from 'write-file-atomic';
import { parseDotenv, yamlLiteral } from '../../config/index.ts';
import { fsyncDir } from '../../events/index.ts';

/** The variable instance.yaml reads the session-signing key from. */
export const SECRET_KEY_VAR = 'WEBAPP_SECRET_KEY';
/** 48 random bytes (384 bits, 64 base64url characters) sign session cookies: far past guessing, short enough to paste. */
export const SECRET_KEY_BYTES = 48;
/** Only the owner may read or write `.env`: it holds the token and the session key. */
export const DOTENV_MODE = 0o600;

/** The answers instance.yaml is written from. */
export interface InstanceAnswers {
  name: string;
  domain: string;
  /** The source type (`data_source.type`). */
  source: string;
  /** Its section under `data_source:`, as its connector wrote it. */
  sectionLines: string[];
}

/** A fresh session-signing key. */
export function newSecretKey(): string {
  return randomBytes(SECRET_KEY_BYTES).toString('base64url');
}

/** A YAML double-quoted string that instance.yaml's placeholder expansion leaves as written (`${` → `$${`). */
export function literal(value: string): string {
  return yamlLiteral(value);
}

/** The text of instance.yaml: the answers, and `${VAR}` placeholders for every secret. */
export function renderInstanceYaml(answers: InstanceAnswers, date: string): string {
  const lines = [
    `# instance.yaml — written by \`ada init\` on ${date}. Every key is explained in docs/configuration.md.`,
    '# Secrets are ${VAR} placeholders, filled from the environment or from .env next to this file (never commit .env).',
    '',
    'instance:',
    `  name: ${literal(answers.name)}`,
    '',
    '# server:',
    '#   hostname: data.example.com      # needed when deploying the portal',
    '',
    'auth:',
    `  allowed_domain: ${literal(answers.domain)}   # Google accounts of this domain may sign in`,
    '  google_client_id: ${GOOGLE_CLIENT_ID:-}',
    '  google_client_secret: ${GOOGLE_CLIENT_SECRET:-}',
    `  webapp_secret_key: \${${SECRET_KEY_VAR}}   # signs session cookies; generated into .env`,
    '',
    'data_source:',
    `  type: ${answers.source}`,
    ...answers.sectionLines,
  ];
  return `${lines.join('\n')}\n`;
}

/** A `.env` value that parseDotenv reads back exactly. */
export function dotenvValue(value: string): string {
  if (/^[A-Za-z0-9_\-.,:/+=@]*$/.test(value)) return value;
  if (!value.includes("'") && !/[\r\n]/.test(value)) return `'${value}'`;
  return `"${value.replace(/[\\"$]/g, (c) => `\\${c}`).replace(/\n/g, '\\n').replace(/\r/g, '\\r').replace(/\t/g, '\\t')}"`;
}

/**
 * `.env` text with `values` set: an existing assignment of a key is replaced in place (later duplicates dropped),
 * a missing one appended; every other line, comment and value is kept as it was.
 */
export function mergeDotenv(existing: string | undefined, values: Readonly<Record<string, string>>): string {
  const lines = existing === undefined || existing === '' ? [] : existing.replace(/\r?\n$/, '').split(/\r?\n/);
  const done = new Set<string>();
  const out: string[] = [];
  for (const line of lines) {
    const key = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=/.exec(line)?.[1];
    if (key !== undefined && key in values) {
      if (!done.has(key)) out.push(`${key}=${dotenvValue(values[key]!)}`);
      done.add(key);
      continue;
    }
    out.push(line);
  }
  const missing = Object.keys(values).filter((k) => !done.has(k));
  if (missing.length > 0 && out.length > 0 && out[out.length - 1] !== '') out.push('');
  for (const key of missing) out.push(`${key}=${dotenvValue(values[key]!)}`);
  return `${out.join('\n')}\n`;
}

/** The header of a `.env` that `ada init` creates. */
export function newDotenvHeader(date: string): string {
  return [
    `# .env — secrets for instance.yaml's \${VAR} placeholders, written by \`ada init\` on ${date}.`,
    '# Variables set in the process environment win over this file. Never commit it (it is git-ignored).',
    '# Google sign-in for the portal (see docs/configuration.md):',
    '# GOOGLE_CLIENT_ID=',
    '# GOOGLE_CLIENT_SECRET=',
    '',
  ].join('\n');
}

/** The values of an existing `.env` (empty when there is none or it does not parse). */
export function dotenvValues(text: string | undefined): Record<string, string> {
  return text === undefined ? {} : parseDotenv(text).values;
}

/** Reads a file, or undefined when it does not exist. */
export async function readIfExists(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** True when `file` exists (of any type). */
export async function exists(file: string): Promise<boolean> {
  try {
    await stat(file);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') return false;
    throw err;
  }
}

/**
 * Replaces `file` with `text` atomically (write-file-atomic: temp file, fsync, rename), then fsyncs the directory
 * so the rename survives a power loss. With `mode` the file gets exactly that mode from its first byte on (a secret
 * is never readable by others); otherwise an existing file keeps its mode and a new one gets the umask's.
 */
export async function writeFileAtomic(file: string, text: string, mode?: number): Promise<void> {
  await writeFileAtomicly(file, text, { encoding: 'utf8', fsync: true, ...(mode === undefined ? {} : { mode }) });
  await fsyncDir(path.dirname(file));
}

/** The `.gitignore` that should list `.env`: the repository root above `target`, else the cwd when `target` is inside it, else `target`'s directory. */
export async function gitignoreFor(target: string, cwd: string): Promise<string> {
  for (let dir = path.dirname(target); ; dir = path.dirname(dir)) {
    if (await exists(path.join(dir, '.git'))) return path.join(dir, '.gitignore');
    if (path.dirname(dir) === dir) break;
  }
  const rel = path.relative(cwd, target);
  const inside = rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel);
  return path.join(inside ? cwd : path.dirname(target), '.gitignore');
}

/** Adds `.env` to the `.gitignore` for `target` unless a rule there already ignores it; returns the file and whether it changed. */
export async function ensureGitignored(target: string, cwd: string): Promise<{ file: string; added: boolean }> {
  const file = await gitignoreFor(target, cwd);
  const text = (await readIfExists(file)) ?? '';
  const rel = path.relative(path.dirname(file), target).split(path.sep).join('/');
  if (isIgnored(text, rel)) return { file, added: false };
  const addition = `# secrets of ada (written by ada init)\n.env\n`;
  await writeFileAtomic(file, `${text}${text === '' || text.endsWith('\n') ? '' : '\n'}${addition}`);
  return { file, added: true };
}

/**
 * Whether `.gitignore` rules ignore the file at `rel` (a `/`-separated path from the .gitignore's directory): the
 * last matching rule wins, and a file inside an ignored directory is ignored whatever follows (as git does).
 */
export function isIgnored(gitignore: string, rel: string): boolean {
  const rules = gitignore.split(/\r?\n/).map(parseRule).filter((r): r is GitignoreRule => r !== undefined);
  const segments = rel.split('/');
  for (let i = 1; i <= segments.length; i++) {
    const candidate = segments.slice(0, i).join('/');
    const isDir = i < segments.length;
    let ignored = false;
    for (const rule of rules) if ((!rule.dirOnly || isDir) && rule.regex.test(rule.anchored ? candidate : segments[i - 1]!)) ignored = !rule.negated;
    if (ignored) return true;
  }
  return false;
}

interface GitignoreRule {
  regex: RegExp;
  negated: boolean;
  dirOnly: boolean;
  /** Matched against the whole path (the pattern has a `/` before its end), else against the name. */
  anchored: boolean;
}

function parseRule(line: string): GitignoreRule | undefined {
  let p = line.replace(/(?<!\\)\s+$/, '');
  if (p === '' || p.startsWith('#')) return undefined;
  const negated = p.startsWith('!');
  if (negated) p = p.slice(1);
  const dirOnly = p.endsWith('/');
  if (dirOnly) p = p.slice(0, -1);
  const anchored = p.includes('/');
  p = p.replace(/^\//, '');
  if (p === '') return undefined;
  return { regex: new RegExp(`^${globToRegex(p)}$`), negated, dirOnly, anchored };
}

function globToRegex(glob: string): string {
  let out = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*' && glob[i + 1] === '*') {
      const slash = glob[i + 2] === '/';
      out += slash ? '(?:.*/)?' : '.*';
      i += slash ? 2 : 1;
    } else if (c === '*') out += '[^/]*';
    else if (c === '?') out += '[^/]';
    else if (c === '[') {
      const end = glob.indexOf(']', i + 1);
      if (end === -1) out += '\\[';
      else {
        out += `[${glob.slice(i + 1, end).replace(/^!/, '^').replace(/\\/g, '\\\\')}]`;
        i = end;
      }
    } else if (c === '\\' && i + 1 < glob.length) out += escapeRegex(glob[++i]!);
    else out += escapeRegex(c);
  }
  return out;
}

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}
