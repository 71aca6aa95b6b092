/**
 * A small Jira Cloud REST v3 client: Basic auth, retries with backoff that honour `Retry-After`, paging. It calls
 * through `node:http(s)` with a keep-alive pool: `fetch` cost about a third of the server's CPU under a webhook
 * burst (its per-request streams, abort signals and header objects), for two or three calls per delivery.
 */
import http from 'node:http';
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import https from 'node:https';
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

/** Connections kept open to Jira per client: the reactor fetches eight issues at once, two calls each. */
const MAX_SOCKETS = 16;

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

/** A 2xx answer of Jira: its headers and its body, read once (as text, JSON, or as the stream itself). */
export class JiraResponse {
  constructor(readonly status: number, readonly headers: IncomingHttpHeaders, readonly body: IncomingMessage) {}

  /** The body as UTF-8 text. */
  async text(): Promise<string> {
    const chunks: Buffer[] = [];
    for await (const chunk of this.body) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  }

  /** The body parsed as JSON. */
  async json(): Promise<unknown> {
    return JSON.parse(await this.text()) as unknown;
  }
}

/** Sends one request; resolves with the response once its headers arrived. */
function send(url: URL, agent: http.Agent, init: { method: string; headers: Record<string, string>; body?: string; signal?: AbortSignal }): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const req = (url.protocol === 'https:' ? https : http).request(url, {
      method: init.method, agent, headers: init.headers, timeout: RETRY.timeoutMs, ...(init.signal ? { signal: init.signal } : {}),
    }, resolve);
    req.on('error', reject);
    // The socket idled this long: connecting, waiting for the answer or between its chunks.
    req.on('timeout', () => req.destroy(new Error(`no answer within ${RETRY.timeoutMs / 1000} s`)));
    req.end(init.body);
  });
}

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
  private readonly agent: http.Agent;

  constructor(private readonly opts: JiraClientOptions) {
    if (opts.email && opts.apiToken) this.auth = `Basic ${Buffer.from(`${opts.email}:${opts.apiToken}`).toString('base64')}`;
    this.sleep = opts.sleep ?? defaultSleep;
    const pool = { keepAlive: true, maxSockets: MAX_SOCKETS };
    this.agent = opts.baseUrl.startsWith('https:') ? new https.Agent(pool) : new http.Agent(pool);
  }

  /** True when the client has credentials to call the REST API. */
  get canCall(): boolean {
    return this.auth !== undefined;
  }

  /** One request with retries; returns the response of a 2xx, `undefined` for 404, throws otherwise. */
  async request(method: 'GET' | 'POST', pathAndQuery: string, body?: unknown): Promise<JiraResponse | undefined> {
    if (!this.auth) throw adaError(JiraErrorCode.noCredentials, 'Jira email and api_token are not configured (jira.email, jira.api_token)');
    const attempts = this.opts.attempts ?? RETRY.attempts;
    const what = `${method} ${pathAndQuery.split('?')[0]}`;
    const url = new URL(`${this.opts.baseUrl}${pathAndQuery}`);
    const headers: Record<string, string> = { authorization: this.auth, accept: 'application/json', ...(body !== undefined ? { 'content-type': 'application/json' } : {}) };
    const payload = body !== undefined ? JSON.stringify(body) : undefined;
    for (let attempt = 0; ; attempt++) {
      let res: IncomingMessage;
      try {
        res = await send(url, this.agent, { method, headers, ...(payload !== undefined ? { body: payload } : {}), ...(this.opts.signal ? { signal: this.opts.signal } : {}) });
      } catch (err) {
        if (this.opts.signal?.aborted || attempt + 1 >= attempts) throw adaError(JiraErrorCode.unreachable, `Jira unreachable for ${what}: ${(err as Error).message}`, {}, err);
        await this.sleep(retryDelayMs(attempt, null));
        continue;
      }
      const status = res.statusCode ?? 0;
      if (status >= 200 && status < 300) return new JiraResponse(status, res.headers, res);
      if (status === 404) {
        res.resume();
        return undefined;
      }
      const text = await new JiraResponse(status, res.headers, res).text().catch(() => '');
      if (!retryable(status) || attempt + 1 >= attempts) throw jiraHttpError(status, what, text);
      const retryAfter = res.headers['retry-after'];
      await this.sleep(retryDelayMs(attempt, (Array.isArray(retryAfter) ? retryAfter[0] : retryAfter) ?? null));
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
