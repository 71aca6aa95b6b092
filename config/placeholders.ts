/** `${VAR}` and `${VAR:-default}` placeholders in configuration strings. */
import type { YamlPath } from './problems.ts';

/** What resolving one string found. */
export interface ResolvedString {
  value: string;
  /** Variables referenced without a value and without a default. */
  missing: string[];
  /** Placeholder texts that are not `${NAME}` or `${NAME:-default}`. */
  malformed: string[];
  /** Every variable referenced (set or not). */
  variables: string[];
}

const TOKEN = /\$\$\{|\$\{([^{}]*)\}|\$\{/g;
const INNER = /^([A-Za-z_][A-Za-z0-9_]*)(?::-(.*))?$/s;

/**
 * Replaces placeholders in `text` from `vars`. `${NAME:-default}` uses the
 * default when NAME is unset or empty; `$${` is a literal `${`. A bare
 * `$NAME` is left alone.
 */
export function resolvePlaceholders(text: string, vars: Readonly<Record<string, string | undefined>>): ResolvedString {
  const missing: string[] = [];
  const malformed: string[] = [];
  const variables: string[] = [];
  const value = text.replace(TOKEN, (whole, inner: string | undefined) => {
    if (whole === '$${') return '${';
    const match = inner === undefined ? null : INNER.exec(inner.trim());
    if (!match) {
      malformed.push(whole);
      return whole;
    }
    const name = match[1]!;
    const fallback = match[2];
    variables.push(name);
    const set = vars[name];
    if (fallback !== undefined) return set === undefined || set === '' ? fallback : set;
    if (set === undefined) {
      missing.push(name);
      return whole;
    }
    return set;
  });
  return { value, missing, malformed, variables };
}

/** A placeholder problem at a key path of the resolved tree. */
export interface PlaceholderIssue {
  path: YamlPath;
  kind: 'missing' | 'malformed';
  /** The variable name (missing) or the placeholder text (malformed). */
  text: string;
}

/** A string value of the tree that came (at least partly) from placeholders. */
export interface SubstitutedValue {
  path: YamlPath;
  value: string;
  variables: string[];
}

/** Resolves placeholders in every string value (not keys) of a plain YAML value. */
export function resolveTree(
  root: unknown,
  vars: Readonly<Record<string, string | undefined>>,
): { value: unknown; issues: PlaceholderIssue[]; substituted: SubstitutedValue[] } {
  const issues: PlaceholderIssue[] = [];
  const substituted: SubstitutedValue[] = [];
  const visit = (node: unknown, path: YamlPath): unknown => {
    if (typeof node === 'string') {
      const r = resolvePlaceholders(node, vars);
      for (const name of r.missing) issues.push({ path, kind: 'missing', text: name });
      for (const text of r.malformed) issues.push({ path, kind: 'malformed', text });
      if (r.variables.length > 0) substituted.push({ path, value: r.value, variables: r.variables });
      return r.value;
    }
    if (Array.isArray(node)) return node.map((item, i) => visit(item, [...path, i]));
    if (node !== null && typeof node === 'object') {
      const out: Record<string, unknown> = {};
      for (const [key, child] of Object.entries(node)) out[key] = visit(child, [...path, key]);
      return out;
    }
    return node;
  };
  return { value: visit(root, []), issues, substituted };
}

/** A YAML double-quoted string that placeholder expansion leaves as written (`${` → `$${`), for files `ada init` writes. */
export function yamlLiteral(value: string): string {
  return JSON.stringify(value.replaceAll('${', () => '$${'));
}
