/**
 * Reading and checking the wizard's answers, whether typed or given as flags. Problems with free text (domain, name,
 * token, URL) never repeat the answer: someone who pastes a token into the wrong prompt must not see it printed back.
 */
import type { Parsed } from '../../pipeline/index.ts';
import type { ProjectBucket } from './project.ts';

export type { Parsed };

/** The allowed Google domain: lower-cased, a leading `@` dropped. */
export function parseDomain(raw: string): Parsed<string> {
  const domain = raw.trim().toLowerCase().replace(/^@/, '');
  if (domain === '') return { problem: 'a domain is required, e.g. acme.com' };
  if (domain.includes('@')) return { problem: 'enter the domain only (the part after @), e.g. acme.com' };
  if (!/^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?$/.test(domain)) {
    return { problem: 'that is not a domain name; expected e.g. acme.com' };
  }
  return { value: domain };
}

/** One of the data source types the wizard can set up (`types`, the connectors with setup questions). */
export function parseSource(raw: string, types: readonly string[]): Parsed<string> {
  const source = raw.trim().toLowerCase();
  if (types.includes(source)) return { value: source };
  if (/^[a-z][a-z0-9_-]*$/.test(source) && source.length <= 32) {
    return { problem: `ada init sets up ${types.join(' or ')}; for ${source} write instance.yaml by hand (docs/configuration.md)` };
  }
  return { problem: `expected ${types.join(' or ')}` };
}

/** The instance name shown in the portal. */
export function parseName(raw: string): Parsed<string> {
  const name = raw.trim();
  if (name === '') return { problem: 'a name is required, e.g. Acme Data' };
  // eslint-disable-next-line no-control-regex -- control characters are what is refused
  if (/[\x00-\x1f\x7f]/.test(name)) return { problem: 'the name may not contain control characters' };
  if (name.length > 100) return { problem: 'keep the name under 100 characters' };
  return { value: name };
}

/** A default instance name from the domain: `acme.com` → `Acme Data`. */
export function defaultName(domain: string): string {
  const label = domain.split('.')[0] ?? '';
  return label === '' ? 'Data' : `${label.charAt(0).toUpperCase()}${label.slice(1)} Data`;
}

/**
 * Buckets: `all` (or empty with `emptyMeans: 'all'`), or a comma-separated list of list numbers (1-based), bucket
 * ids, or folder-like names (`shop` for `in.c-shop` when only one bucket is called that).
 */
export function parseBuckets(raw: string, buckets: readonly ProjectBucket[], emptyMeans: 'all' | 'none'): Parsed<string[]> {
  const answer = raw.trim();
  if (answer.toLowerCase() === 'all' || (answer === '' && emptyMeans === 'all')) return { value: buckets.map((b) => b.id) };
  if (answer === '' || answer.toLowerCase() === 'none') return { value: [] };
  const chosen: string[] = [];
  const unknown: string[] = [];
  for (const part of answer.split(',').map((p) => p.trim()).filter(Boolean)) {
    const byNumber = /^\d+$/.test(part) ? buckets[Number(part) - 1] : undefined;
    const byId = buckets.find((b) => b.id === part) ?? buckets.find((b) => b.id.toLowerCase() === part.toLowerCase());
    const byShortName = buckets.filter((b) => b.id.replace(/^(?:in|out)\.c-/i, '').toLowerCase() === part.toLowerCase());
    const bucket = byNumber ?? byId ?? (byShortName.length === 1 ? byShortName[0] : undefined);
    if (bucket) {
      if (!chosen.includes(bucket.id)) chosen.push(bucket.id);
    } else unknown.push(part);
  }
  if (unknown.length > 0) {
    return { problem: `unknown bucket${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}; the project has ${buckets.map((b) => b.id).join(', ') || 'no buckets'}` };
  }
  return { value: chosen };
}

/** A yes/no answer; empty is `defaultYes`. */
export function parseYesNo(raw: string, defaultYes: boolean): Parsed<boolean> {
  const answer = raw.trim().toLowerCase();
  if (answer === '') return { value: defaultYes };
  if (['y', 'yes'].includes(answer)) return { value: true };
  if (['n', 'no'].includes(answer)) return { value: false };
  return { problem: 'answer y or n' };
}
