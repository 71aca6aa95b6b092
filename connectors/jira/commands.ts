/** `ada jira backfill`: declared as data (name, usage, options) so the command line lists it; `run` gets a broker opener. */
import { BACKFILL_DECLARATION } from './backfill-declaration.ts';
import type { JiraCommandDeclaration } from './backfill-declaration.ts';
import type { AdaConfig } from '../../config/index.ts';
import { adaError } from '../../events/index.ts';
import type { AppendResult, BlobStore, NewEvent } from '../../events/index.ts';
import type { ProjectionRunner } from '../../pipeline/index.ts';
import { backfill, searchIssues } from './backfill.ts';
import type { BackfillPart } from './backfill.ts';
import { JiraErrorCode } from './errors.ts';
import { IssueStore } from './issue-store.ts';
import { jiraProjection } from './projection.ts';
import { issueFetcher } from './runtime.ts';
import { readJiraConfig } from './settings.ts';

/** The broker a command works with: in process (log free), or a client of the running server (`remote`). */
export interface CommandBroker {
  config: AdaConfig;
  dataDir: string;
  log: { append(event: NewEvent): Promise<AppendResult> };
  blobs?: BlobStore;
  runner: ProjectionRunner;
  remote?: unknown;
  close(): Promise<void>;
}

/** Opens the broker for a command (the command line passes its own opener). */
export type OpenBroker = (opts: { configDir?: string; dataDir?: string; env: NodeJS.ProcessEnv; eventSource: string; warn?: (m: string) => void }) => Promise<CommandBroker>;

/** What a command is run with (the command line's context). */
export interface JiraCommandContext {
  env: NodeJS.ProcessEnv;
  out: (text: string) => void;
  err: (text: string) => void;
  isTTY: boolean;
  signal: AbortSignal;
}

/** A command in the shape of the command line's `Command`, with the opener as a third argument. */
export interface JiraCommandSpec extends JiraCommandDeclaration {
  run(args: { values: Record<string, string | boolean | string[] | boolean[] | undefined>; positionals: string[] }, ctx: JiraCommandContext, open: OpenBroker): Promise<number>;
}

const badArgument = (message: string): Error => adaError(JiraErrorCode.badArgument, message);

const backfillCommand: JiraCommandSpec = {
  ...BACKFILL_DECLARATION,
  async run({ values }, ctx, open) {
    const jql = values.jql as string | undefined;
    const keysArg = values['issue-keys'] as string | undefined;
    if ((jql === undefined) === (keysArg === undefined)) throw badArgument('give exactly one of --jql or --issue-keys');
    if (values['remote-links'] && values.sla) throw badArgument('--remote-links and --sla refresh one part each; give one');
    const parallel = Number(values.parallel ?? 4);
    if (!Number.isInteger(parallel) || parallel < 1 || parallel > 32) throw badArgument(`--parallel expects 1 to 32, got ${JSON.stringify(values.parallel)}`);
    const part: BackfillPart = values['remote-links'] ? 'remote-links' : values.sla ? 'sla' : 'all';
    const broker = await open({ configDir: values.config as string | undefined, dataDir: values.data as string | undefined, env: ctx.env, eventSource: 'cli:jira-backfill', warn: (m) => ctx.err(`warning: ${m}`) });
    try {
      const { settings, problems } = readJiraConfig(broker.config, ctx.env);
      if (!settings) throw adaError(JiraErrorCode.configInvalid, problems.length ? problems.map((p) => `${p.file}: ${p.path}: ${p.message}`).join('\n') : 'Jira is not enabled: set jira.domain (or JIRA_DOMAIN)');
      const fetcher = issueFetcher({ settings, dataDir: broker.dataDir, append: (e) => broker.log.append(e), warn: (m) => ctx.err(`warning: ${m}`), ...(broker.blobs && !broker.remote ? { blobs: broker.blobs } : {}) });
      const keys = keysArg !== undefined
        ? keysArg.split(',').map((k) => k.trim()).filter(Boolean)
        : (await searchIssues(fetcher, jql!, (n) => { if (ctx.isTTY && !values.json) ctx.err(`\rsearching… ${n} issues`); })).map((i) => i.key);
      const existing = await new IssueStore(broker.dataDir).index();
      let lastLine = 0;
      const result = await backfill(fetcher, {
        keys, parallel, part, existing, skipExisting: Boolean(values['skip-existing']), dryRun: Boolean(values['dry-run']), cause: `cli:backfill:${Date.now()}`,
        onProgress: ({ done, total, key, outcome }) => {
          if (values.json) return;
          if (ctx.isTTY) ctx.err(`\r[${done}/${total}] ${key} ${outcome}`.padEnd(lastLine));
          else if (outcome === 'failed' || done === total || done % 100 === 0) ctx.err(`[${done}/${total}] ${key} ${outcome}`);
          lastLine = 40;
        },
      });
      if (!broker.remote && !values['dry-run']) await broker.runner.catchUp(jiraProjection({ append: (e) => broker.log.append(e), ...(broker.blobs ? { blobs: broker.blobs } : {}) }));
      if (values.json) ctx.out(JSON.stringify({ dryRun: Boolean(values['dry-run']), keys: values['dry-run'] ? keys : undefined, ...result }));
      else {
        if (ctx.isTTY) ctx.err('\n');
        ctx.out(values['dry-run']
          ? `dry run: ${keys.length} issue(s) would be fetched: ${keys.slice(0, 20).join(', ')}${keys.length > 20 ? ', …' : ''}`
          : `${result.fetched} fetched, ${result.deleted} deleted, ${result.skipped} skipped, ${result.failed.length} failed of ${result.total}`);
        for (const f of result.failed) ctx.err(`  ${f.key}: ${f.error}`);
      }
      return result.failed.length ? 1 : 0;
    } finally {
      await broker.close();
    }
  },
};

/** Every Jira command. */
export const JIRA_COMMANDS: readonly JiraCommandSpec[] = [backfillCommand];
