/** A small Jira Cloud REST v3 client: Basic auth, retries with backoff that honour `Retry-After`, paging. */
import { adaError, hasCode } from '../../events/index.ts';
import { JiraErrorCode, jiraHttpError } from './errors.ts';

/** Retry limits: Atlassian rate limits answer 429 with `Retry-After` in seconds. */
const RETRY = {
  attempts: 5,
  baseDelayMs: 250,
  /** A `Retry-After` longer than this is capped: the reactor must not stall for hours. */
  maxDelayMs: 60_000,
  timeoutMs: 30_000,
};

/** Jira's page size for comments and changelog (its cap). */
export const PAGE_SIZE = 100;

/** How the client reaches Jira; `sleep` is injectable so tests need no wall-clock waits. */
export interface JiraClientOptions {
  baseUrl: string;
  email?: string;
  apiToken?: string;
  sleep?: (ms: number) => Promise<void>;
  attempts?: number;
  signal?: AbortSignal;
}

const defaultSleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** True for failures worth retrying: rate limits, server errors, network errors. */
function retryable(status: number): boolean {
  return status === 429 || status >= 500;
}

/** The delay before retry `attempt` (0-based): `Retry-After` when Jira gave one, else exponential backoff. */
export function retryDelayMs(attempt: number, retryAfter: string | null): number {
  if (retryAfter !== null) {
    const seconds = Number(retryAfter);
    const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(retryAfter) - Date.now();
    if (Number.isFinite(ms)) return Math.min(Math.max(0, ms), RETRY.maxDelayMs);
  }
  return Math.min(RETRY.baseDelayMs * 2 ** attempt, RETRY.maxDelayMs);
}

/** Calls Jira; one instance per account. */
export class JiraClient {
  private readonly auth?: string;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(private readonly opts: JiraClientOptions) {
    if (opts.email && opts.apiToken) this.auth = `Basic ${Buffer.from(`${opts.email}:${opts.apiToken}`).toString('base64')}`;
    this.sleep = opts.sleep ?? defaultSleep;
  }

  /** True when the client has credentials to call the REST API. */
  get canCall(): boolean {
    return this.auth !== undefined;
  }

  /** One request with retries; returns the response of a 2xx, `undefined` for 404, throws otherwise. */
  async request(method: 'GET' | 'POST', pathAndQuery: string, body?: unknown): Promise<Response | undefined> {
    if (!this.auth) throw adaError(JiraErrorCode.noCredentials, 'Jira email and api_token are not configured (jira.email, jira.api_token)');
    const attempts = this.opts.attempts ?? RETRY.attempts;
    const what = `${method} ${pathAndQuery.split('?')[0]}`;
    for (let attempt = 0; ; attempt++) {
      let res: Response;
      try {
        const signals = [AbortSignal.timeout(RETRY.timeoutMs), ...(this.opts.signal ? [this.opts.signal] : [])];
        res = await fetch(`${this.opts.baseUrl}${pathAndQuery}`, {
          method,
          headers: { authorization: this.auth, accept: 'application/json', ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
          ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
          signal: AbortSignal.any(signals),
        });
      } catch (err) {
        if (this.opts.signal?.aborted || attempt + 1 >= attempts) throw adaError(JiraErrorCode.unreachable, `Jira unreachable for ${what}: ${(err as Error).message}`, {}, err);
        await this.sleep(retryDelayMs(attempt, null));
        continue;
      }
      if (res.ok) return res;
      if (res.status === 404) {
        await res.body?.cancel();
        return undefined;
      }
      const text = await res.text().catch(() => '');
      if (!retryable(res.status) || attempt + 1 >= attempts) throw jiraHttpError(res.status, what, text);
      await this.sleep(retryDelayMs(attempt, res.headers.get('retry-after')));
    }
  }

  /** GET returning JSON, or `undefined` for 404. */
  async getJson<T>(pathAndQuery: string): Promise<T | undefined> {
    const res = await this.request('GET', pathAndQuery);
    return res ? (await res.json()) as T : undefined;
  }

  /** POST returning JSON. */
  async postJson<T>(pathAndQuery: string, body: unknown): Promise<T> {
    const res = await this.request('POST', pathAndQuery, body);
    if (!res) throw jiraHttpError(404, `POST ${pathAndQuery}`, '');
    return (await res.json()) as T;
  }

  /** Every item of an offset-paged list (`startAt`, `maxResults`, `total`), starting after `have` items already known. */
  async pageAll<T>(path: string, itemsKey: string, have: T[] = []): Promise<T[]> {
    const items = [...have];
    for (;;) {
      const sep = path.includes('?') ? '&' : '?';
      const page = await this.getJson<Record<string, unknown>>(`${path}${sep}startAt=${items.length}&maxResults=${PAGE_SIZE}`);
      const got = (page?.[itemsKey] as T[] | undefined) ?? [];
      items.push(...got);
      const total = typeof page?.total === 'number' ? page.total : items.length;
      if (got.length === 0 || items.length >= total || page?.isLast === true) return items;
    }
  }
}

/** True when an error is a Jira call that could succeed later (network, 429, 5xx). */
export function isTransient(err: unknown): boolean {
  if (hasCode(err, JiraErrorCode.unreachable)) return true;
  if (hasCode(err, JiraErrorCode.http)) {
    const status = (err as { details?: { status?: number } }).details?.status ?? 0;
    return retryable(status);
  }
  return false;
}
