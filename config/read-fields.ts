/** Typed readers for YAML mappings that report a problem instead of throwing. */
import { didYouMean } from './problems.ts';
import type { DocumentContext, YamlPath } from './problems.ts';

/** A YAML mapping as plain data. */
export type YamlMap = Record<string, unknown>;

/** True for a YAML mapping (a plain object, not a list). */
export function isYamlMap(value: unknown): value is YamlMap {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** True when the YAML value is absent (`key:` with nothing, `~`, `null`, or no key). */
export function isAbsent(value: unknown): value is null | undefined {
  return value === null || value === undefined;
}

function describe(value: unknown): string {
  if (Array.isArray(value)) return 'a list';
  if (isYamlMap(value)) return 'a mapping';
  return `${typeof value} ${JSON.stringify(value)}`;
}

interface ReadOptions {
  required?: boolean;
  /** Never echo the value in a message (secrets). */
  secret?: boolean;
}

function missing(ctx: DocumentContext, path: YamlPath, key: string, opts: ReadOptions): undefined {
  if (opts.required) ctx.problem(path, `missing required key "${key}"`);
  return undefined;
}

/** A mapping at `map[key]`; absent → undefined (a problem when required). */
export function readMap(ctx: DocumentContext, map: YamlMap, path: YamlPath, key: string, opts: ReadOptions = {}): YamlMap | undefined {
  const value = map[key];
  if (isAbsent(value)) return missing(ctx, path, key, opts);
  if (!isYamlMap(value)) {
    ctx.problem([...path, key], `expected a mapping, found ${describe(value)}`);
    return undefined;
  }
  return value;
}

/** A list at `map[key]`; absent → undefined (a problem when required). */
export function readList(ctx: DocumentContext, map: YamlMap, path: YamlPath, key: string, opts: ReadOptions = {}): unknown[] | undefined {
  const value = map[key];
  if (isAbsent(value)) return missing(ctx, path, key, opts);
  if (!Array.isArray(value)) {
    ctx.problem([...path, key], `expected a list, found ${describe(value)}`);
    return undefined;
  }
  return value;
}

/**
 * A string at `map[key]` (numbers are accepted and turned into strings); a
 * required string must not be empty or blank.
 */
export function readString(ctx: DocumentContext, map: YamlMap, path: YamlPath, key: string, opts: ReadOptions = {}): string | undefined {
  const value = map[key];
  if (isAbsent(value)) return missing(ctx, path, key, opts);
  if (typeof value === 'number' || typeof value === 'bigint') return String(value);
  if (typeof value !== 'string') {
    ctx.problem([...path, key], opts.secret ? 'expected a string' : `expected a string, found ${describe(value)}`);
    return undefined;
  }
  if (opts.required && value.trim() === '') {
    ctx.problem([...path, key], 'must not be empty');
    return undefined;
  }
  return value;
}

/** A boolean at `map[key]`; the strings `true`/`false` (e.g. from a placeholder) count too. */
export function readBoolean(ctx: DocumentContext, map: YamlMap, path: YamlPath, key: string): boolean | undefined {
  const value = map[key];
  if (isAbsent(value)) return undefined;
  if (typeof value === 'boolean') return value;
  if (typeof value === 'string' && /^(true|false)$/i.test(value.trim())) return value.trim().toLowerCase() === 'true';
  ctx.problem([...path, key], `expected true or false, found ${describe(value)}`);
  return undefined;
}

/** A whole number ≥ `min` at `map[key]`; numeric strings (from placeholders) count too. */
export function readInteger(ctx: DocumentContext, map: YamlMap, path: YamlPath, key: string, min: number): number | undefined {
  const value = map[key];
  if (isAbsent(value)) return undefined;
  const n = typeof value === 'string' && /^\s*-?\d+\s*$/.test(value) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isSafeInteger(n)) {
    ctx.problem([...path, key], `expected a whole number, found ${describe(value)}`);
    return undefined;
  }
  if (n < min) {
    ctx.problem([...path, key], `must be at least ${min}, found ${n}`);
    return undefined;
  }
  return n;
}

/** One of `allowed` at `map[key]`. */
export function readEnum<T extends string>(ctx: DocumentContext, map: YamlMap, path: YamlPath, key: string, allowed: readonly T[], opts: ReadOptions = {}): T | undefined {
  const value = readString(ctx, map, path, key, opts);
  if (value === undefined) return undefined;
  if ((allowed as readonly string[]).includes(value)) return value as T;
  ctx.problem([...path, key], `unknown value "${value}", expected one of ${allowed.join(', ')}${didYouMean(value, allowed)}`);
  return undefined;
}

/** A list of strings at `map[key]`, written as a YAML list or as one comma-separated string. */
export function readStringList(ctx: DocumentContext, map: YamlMap, path: YamlPath, key: string): string[] | undefined {
  const value = map[key];
  if (isAbsent(value)) return undefined;
  if (typeof value === 'string') return value.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (!Array.isArray(value)) {
    ctx.problem([...path, key], `expected a list or a comma-separated string, found ${describe(value)}`);
    return undefined;
  }
  const out: string[] = [];
  value.forEach((item, i) => {
    if (typeof item === 'string' || typeof item === 'number') out.push(String(item).trim());
    else ctx.problem([...path, key, i], `expected a string, found ${describe(item)}`);
  });
  return out;
}

/** Warns about keys of `map` that are not in `known`, with a hint for likely typos. */
export function warnUnknownKeys(ctx: DocumentContext, map: YamlMap, path: YamlPath, known: readonly string[]): void {
  for (const key of Object.keys(map)) {
    if (!known.includes(key)) ctx.warn([...path, key], `unknown key, ignored${didYouMean(key, known)}`);
  }
}
