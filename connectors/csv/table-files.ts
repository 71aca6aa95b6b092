/** Resolves a table's `file` (a path or glob relative to the CSV directory) to the files it names, refusing paths outside the directory. */
import { readdir, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { adaError, ErrorCode } from '../../events/index.ts';
import { CsvErrorCode } from './errors.ts';

/** One matched source file. */
export interface TableFile {
  /** Path relative to the CSV directory, with `/` separators; the cursor key and the name in messages. */
  relativePath: string;
  absolutePath: string;
}

/** Error code for unreadable or malformed CSV input. */
export const CSV_INVALID = CsvErrorCode.invalid;

const MAGIC = /[*?[]/;

/** True when `pattern` holds glob syntax (`*`, `**`, `?`, `[abc]`). */
export function isGlob(pattern: string): boolean {
  return MAGIC.test(pattern);
}

/**
 * The files `pattern` names inside `dir`, sorted by relative path. A plain path must exist; a glob must match at least one file.
 * `*` and `?` match within one path segment and skip names starting with `.` unless the pattern segment does; `**` matches any depth.
 */
export async function resolveTableFiles(dir: string, pattern: string): Promise<TableFile[]> {
  const relative = relativePattern(dir, pattern);
  const root = await realDirectory(dir);
  const matches = isGlob(relative) ? await matchGlob(dir, relative) : await matchPath(dir, relative);
  if (matches.length === 0) {
    throw adaError(CSV_INVALID, `No CSV file matches "${relative}" in ${dir}`, { file: relative, dir });
  }
  const files: TableFile[] = [];
  for (const rel of [...new Set(matches)].sort(compareCodePoints)) {
    const absolutePath = path.join(dir, ...rel.split('/'));
    const real = await realpath(absolutePath);
    if (!isInside(root, real)) throw escapeError(dir, `${rel} (a link to ${real})`);
    files.push({ relativePath: rel, absolutePath });
  }
  return files;
}

/** The pattern as a normalised `/`-separated path relative to `dir`; refuses anything reaching outside it. */
function relativePattern(dir: string, pattern: string): string {
  const trimmed = pattern.trim();
  if (trimmed === '') throw adaError(ErrorCode.configInvalid, 'A CSV table needs a non-empty `file`', { file: pattern });
  let rel = trimmed.replaceAll('\\', '/');
  if (path.isAbsolute(trimmed)) {
    rel = path.relative(dir, trimmed).split(path.sep).join('/');
    if (rel === '' || rel.startsWith('../') || rel === '..' || path.isAbsolute(rel)) throw escapeError(dir, pattern);
  }
  const normalised = path.posix.normalize(rel).replace(/^\.\//, '');
  if (normalised === '..' || normalised.startsWith('../') || normalised === '.' || path.posix.isAbsolute(normalised)) {
    throw escapeError(dir, pattern);
  }
  return normalised.replace(/\/$/, '');
}

/** Why `pattern` cannot name files inside `dir` (empty, absolute elsewhere, or climbing out with `..`), or undefined. */
export function tablePatternProblem(dir: string, pattern: string): string | undefined {
  try {
    relativePattern(dir, pattern);
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}

function escapeError(dir: string, file: string) {
  return adaError(ErrorCode.configInvalid, `CSV file "${file}" is outside the CSV directory ${dir}; use a path relative to it without ".."`, { file, dir });
}

async function realDirectory(dir: string): Promise<string> {
  try {
    const info = await stat(dir);
    if (!info.isDirectory()) throw new Error('not a directory');
    return await realpath(dir);
  } catch {
    throw adaError(CSV_INVALID, `The CSV directory ${dir} does not exist or is not a directory`, { dir });
  }
}

async function matchPath(dir: string, rel: string): Promise<string[]> {
  try {
    const info = await stat(path.join(dir, ...rel.split('/')));
    if (info.isFile()) return [rel];
    throw adaError(CSV_INVALID, `CSV file "${rel}" in ${dir} is not a regular file`, { file: rel, dir });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') {
      throw adaError(CSV_INVALID, `CSV file "${rel}" not found in ${dir}`, { file: rel, dir });
    }
    throw err;
  }
}

async function matchGlob(dir: string, pattern: string): Promise<string[]> {
  const out: string[] = [];
  await walk(dir, '', pattern.split('/'), 0, out);
  return out;
}

interface Entry { name: string; isFile: boolean; isDirectory: boolean; isLink: boolean }

async function list(absDir: string): Promise<Entry[]> {
  let dirents;
  try {
    dirents = await readdir(absDir, { withFileTypes: true });
  } catch {
    return [];
  }
  const entries: Entry[] = [];
  for (const d of dirents) {
    let isFile = d.isFile();
    let isDirectory = d.isDirectory();
    const isLink = d.isSymbolicLink();
    if (isLink) {
      const target = await stat(path.join(absDir, d.name)).catch(() => undefined);
      isFile = target?.isFile() ?? false;
      isDirectory = target?.isDirectory() ?? false;
    }
    entries.push({ name: d.name, isFile, isDirectory, isLink });
  }
  return entries;
}

async function walk(absDir: string, relDir: string, segments: string[], index: number, out: string[]): Promise<void> {
  const segment = segments[index];
  if (segment === undefined) return;
  const last = index === segments.length - 1;
  const join = (name: string) => (relDir === '' ? name : `${relDir}/${name}`);
  if (segment === '**') {
    const entries = await list(absDir);
    if (last) {
      for (const e of entries) if (!e.name.startsWith('.') && e.isFile) out.push(join(e.name));
    } else {
      await walk(absDir, relDir, segments, index + 1, out);
    }
    // Symlinked directories are not followed under `**`, so a link loop cannot recurse forever.
    for (const e of entries) {
      if (!e.name.startsWith('.') && e.isDirectory && !e.isLink) await walk(path.join(absDir, e.name), join(e.name), segments, index, out);
    }
    return;
  }
  if (!isGlob(segment)) {
    const target = path.join(absDir, segment);
    const info = await stat(target).catch(() => undefined);
    if (last ? info?.isFile() : info?.isDirectory()) {
      if (last) out.push(join(segment));
      else await walk(target, join(segment), segments, index + 1, out);
    }
    return;
  }
  const re = segmentRegExp(segment);
  for (const e of await list(absDir)) {
    if (e.name.startsWith('.') && !segment.startsWith('.')) continue;
    if (!re.test(e.name)) continue;
    if (last && e.isFile) out.push(join(e.name));
    else if (!last && e.isDirectory) await walk(path.join(absDir, e.name), join(e.name), segments, index + 1, out);
  }
}

/** Compiles one path segment of a glob: `*`, `?`, `[abc]`, `[a-z]`, `[!abc]`; an unclosed `[` is literal. */
export function segmentRegExp(segment: string): RegExp {
  let source = '';
  for (let i = 0; i < segment.length; i++) {
    const ch = segment[i] as string;
    if (ch === '*') {
      source += '[^/]*';
    } else if (ch === '?') {
      source += '[^/]';
    } else if (ch === '[') {
      const close = segment.indexOf(']', i + 2);
      if (close === -1) {
        source += '\\[';
        continue;
      }
      let body = segment.slice(i + 1, close);
      const negate = body.startsWith('!') || body.startsWith('^');
      if (negate) body = body.slice(1);
      source += `[${negate ? '^' : ''}${body.replace(/[\\\]^]/g, (c) => `\\${c}`)}]`;
      i = close;
    } else {
      source += ch.replace(/[.+^${}()|\\\]]/g, (c) => `\\${c}`);
    }
  }
  return new RegExp(`^${source}$`, 'u');
}

function isInside(root: string, candidate: string): boolean {
  const rel = path.relative(root, candidate);
  return rel !== '' && rel !== '..' && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel);
}

function compareCodePoints(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
