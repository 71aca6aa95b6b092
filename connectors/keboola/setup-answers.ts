/**
 * Checking the Keboola answers of `ada init`, typed or given as flags. Problems never repeat the answer: someone who
 * pastes a token into the wrong prompt must not see it printed back.
 */
import type { Parsed } from '../../pipeline/index.ts';

/** The stacks offered by the wizard, in the order shown. */
export const KNOWN_STACKS: ReadonlyArray<{ url: string; label: string }> = [
  { url: 'https://connection.keboola.com', label: 'US (AWS)' },
  { url: 'https://connection.eu-central-1.keboola.com', label: 'EU Frankfurt (AWS)' },
  { url: 'https://connection.north-europe.azure.keboola.com', label: 'EU North Europe (Azure)' },
];

/** The number that picks another stack in the stack list. */
export const CUSTOM_STACK = String(KNOWN_STACKS.length + 1);

/**
 * Why `url` is not a stack URL the wizard accepts (https to a host name with a dot, or http to this machine for a
 * local fake or proxy), or undefined. The message does not repeat the URL: a token pasted at the wrong prompt is not
 * a host name with a dot (Keboola tokens have none), and must not be printed back.
 */
export function stackUrlProblem(url: string): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'that is not a URL; expected e.g. https://connection.keboola.com';
  }
  const loopback = /^(localhost|127\.\d+\.\d+\.\d+|\[::1\])$/i.test(parsed.hostname);
  if (parsed.protocol === 'http:' && loopback) return undefined;
  if (parsed.protocol === 'http:') return 'plain http would send the token unencrypted; use https://';
  if (parsed.protocol !== 'https:') return 'expected an https:// URL, e.g. https://connection.keboola.com';
  if (!loopback && !parsed.hostname.includes('.')) return 'that is not a stack host name; expected e.g. https://connection.keboola.com';
  if (parsed.username !== '' || parsed.password !== '') return 'the stack URL must not contain credentials';
  return undefined;
}

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
