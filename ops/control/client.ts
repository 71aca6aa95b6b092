/** A client of a running server's control socket: the same API as an open broker, answered by the server. */
import { stat } from 'node:fs/promises';
import http from 'node:http';
import { adaError } from '../../events/index.ts';
import type { AppendResult, NewEvent } from '../../events/index.ts';
import { controlSocketPath } from '../../pipeline/index.ts';
import type { AnalystsApi, BrokerSyncRequest, HealthReport, SyncOutcome } from '../../pipeline/index.ts';
import { SOURCE_HEADER } from './source-header.ts';
import type { ControlHandlers } from './server.ts';
import { OpsErrorCode } from '../errors.ts';

/** The broker API a command uses: an open broker's, or a running server's through this client. */
export type BrokerApi = Pick<ControlHandlers, 'append' | 'sync' | 'health'> & { analysts: AnalystsApi };

/** Talks to `ada serve` through its control socket. */
export class ControlClient implements BrokerApi {
  /** Analysts, managed by the server. */
  readonly analysts: AnalystsApi;

  private constructor(readonly socket: string, private readonly source: string) {
    const name = (n: string): string => encodeURIComponent(n);
    this.analysts = {
      list: async () => (await this.request<{ analysts: Awaited<ReturnType<AnalystsApi['list']>> }>('GET', '/analysts')).analysts,
      add: (input) => this.request('POST', '/analysts', input),
      remove: (n) => this.request('DELETE', `/analysts/${name(n)}`),
      issueToken: (n) => this.request('POST', `/analysts/${name(n)}/tokens`, {}),
      revokeTokens: (n, tokenId) => this.request('POST', `/analysts/${name(n)}/tokens/revoke`, tokenId === undefined ? {} : { tokenId }),
      setSshKey: (n, sshKey) => this.request('POST', `/analysts/${name(n)}/ssh-key`, sshKey === undefined ? {} : { sshKey }),
      subscribe: (n, dataset, subscribe) => this.request('POST', `/analysts/${name(n)}/subscriptions`, { dataset, subscribe }),
    };
  }

  /** Connects when a control socket exists and answers; undefined otherwise. `source` names the command in the events it records. */
  static async connect(dataDir: string, source = 'cli'): Promise<ControlClient | undefined> {
    const socket = controlSocketPath(dataDir);
    try {
      if (!(await stat(socket)).isSocket()) return undefined;
      const client = new ControlClient(socket, source);
      await client.request('GET', '/health');
      return client;
    } catch {
      return undefined;
    }
  }

  private request<T>(method: string, url: string, body?: unknown): Promise<T> {
    return new Promise((resolve, reject) => {
      const headers: Record<string, string> = { [SOURCE_HEADER]: this.source, ...(body === undefined ? {} : { 'content-type': 'application/json' }) };
      const req = http.request({ socketPath: this.socket, method, path: url, headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          try {
            const parsed = JSON.parse(Buffer.concat(chunks).toString('utf8')) as T & { code?: string; message?: string };
            const status = res.statusCode ?? 500;
            // The server's refusals keep their code and message, so a command prints the same error as when it runs alone.
            if (status >= 500) reject(adaError(parsed.code ?? OpsErrorCode.controlError, `the running server failed: ${parsed.message ?? status}`));
            else if (status >= 400) reject(adaError(parsed.code ?? OpsErrorCode.controlError, parsed.message ?? `the running server refused (${status})`));
            else resolve(parsed);
          } catch (err) {
            reject(err);
          }
        });
      });
      req.on('error', reject);
      req.end(body === undefined ? undefined : JSON.stringify(body));
    });
  }

  /** Appends events through the server's log; those without a `source` are recorded as this command's. */
  async append(events: readonly NewEvent[]): Promise<AppendResult[]> {
    return (await this.request<{ results: AppendResult[] }>('POST', '/events', { events: events.map((e) => ({ source: this.source, ...e })) })).results;
  }

  /** Runs a sync of the named tables (all when none) in the server's queue and waits for it; progress is not streamed. */
  async sync(request: BrokerSyncRequest = {}): Promise<SyncOutcome[]> {
    return (await this.request<{ outcomes: SyncOutcome[] }>('POST', '/sync', { tables: request.tables ?? [] })).outcomes;
  }

  /** The server's health report. */
  health(): Promise<HealthReport> {
    return this.request<HealthReport>('GET', '/health');
  }
}
