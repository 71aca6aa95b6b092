/**
 * Reading and checking the wizard's answers, whether typed or given as flags. Problems with free text (domain, name,
 * token, URL) never repeat the answer: someone who pastes a token into the wrong prompt must not see it printed back.
 */
import type { ProjectBucket } from './project.ts';
import { KNOWN_STACKS, stackUrlProblem } from './keboola-source.ts';

/** An answer read into a value, or why not. */
export type Parsed<T> = { value: T } | { problem: string };

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

/** The data source kinds the wizard can set up. */
export function parseSource(raw: string): Parsed<'keboola' | 'csv'> {
  const source = raw.trim().toLowerCase();
  if (source === 'keboola' || source === 'csv') return { value: source };
  if (source === 'bigquery') return { problem: 'ada init sets up keboola or csv; for bigquery write instance.yaml by hand (docs/configuration.md)' };
  return { problem: 'expected keboola or csv' };
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

/** The number that picks another stack in the stack list. */
export const CUSTOM_STACK = String(KNOWN_STACKS.length + 1);

/**
 * A stack: a number of the known stacks, or a URL (`https://` is assumed when left out; a trailing `/` dropped).
 * `custom` means the caller should ask for the URL.
 */
export function parseStack(raw: string): Parsed<string | 'custom'> {
  const answer = raw.trim();
  if (answer === '') return { problem: 'choose a stack' };
  if (/^\d+$/.test(answer)) {
    const n = Number(answer);
    if (n >= 1 && n <= KNOWN_STACKS.length) return { value: KNOWN_STACKS[n - 1]!.url };
    if (answer === CUSTOM_STACK) return { value: 'custom' };
    return { problem: `expected a number from 1 to ${CUSTOM_STACK}, or a URL` };
  }
  if (/^(custom|other)$/i.test(answer)) return { value: 'custom' };
  return parseStackUrl(answer);
}

/** A stack URL. */
export function parseStackUrl(raw: string): Parsed<string> {
  let url = raw.trim();
  if (url === '') return { problem: 'a stack URL is required, e.g. https://connection.keboola.com' };
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) url = `https://${url}`;
  url = url.replace(/\/+$/, '');
  const problem = stackUrlProblem(url);
  return problem ? { problem } : { value: url };
}

/** A Storage API token as typed: no spaces or line breaks (they would also break the `.env` line). */
export function parseToken(raw: string): Parsed<string> {
  const token = raw.trim();
  if (token === '') return { problem: 'the token is empty' };
  // eslint-disable-next-line no-control-regex -- control characters are what is refused
  if (/[\s\x00-\x1f\x7f]/.test(token)) return { problem: 'a Storage API token has no spaces or control characters; paste it again' };
  return { value: token };
}

/** A Keboola project id (a number; Keboola ids are numeric). */
export function parseProjectId(raw: string): Parsed<string> {
  const id = raw.trim();
  if (!/^\d{1,12}$/.test(id)) return { problem: 'a project id is a number, e.g. 1234' };
  return { value: id };
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
