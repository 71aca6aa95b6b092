/** The Keboola part of `ada init`: stack, token (checked before anything is written), project id, and the project's tables. */
import path from 'node:path';
import { yamlLiteral } from '../../config/index.ts';
import type { AdaConfig } from '../../config/index.ts';
import { SetupExit } from '../../pipeline/index.ts';
import type { ConnectorSetup, Discovered, Parsed, SetupAnswers, SetupBucket, SetupContext, SetupTable } from '../../pipeline/index.ts';
import type { KeboolaClient } from './client.ts';
import type { RetryPolicy } from './retry-policy.ts';
import { CUSTOM_STACK, KNOWN_STACKS, parseProjectId, parseStack, parseStackUrl, parseToken } from './setup-answers.ts';
import type { TokenCheck } from './setup-project.ts';

/** The variable instance.yaml reads the Storage API token from. */
export const TOKEN_VAR = 'KEBOOLA_STORAGE_TOKEN';

/** Asks for the stack and token, checks them, and reads the project. */
export const keboolaSetup: ConnectorSetup = {
  flags: [{ name: 'stack-url', usage: '--stack-url URL' }, { name: 'project-id', usage: '--project-id N' }],
  takesSecret: true,
  dotenvVars: [TOKEN_VAR],
  previous(section) {
    const out: Record<string, string> = {};
    const stackUrl = literal(section?.stack_url);
    const projectId = literal(section?.project_id);
    if (stackUrl !== undefined) out.stackUrl = stackUrl;
    if (projectId !== undefined) out.projectId = projectId;
    return out;
  },
  ask,
  async discover(ctx, config: AdaConfig): Promise<Discovered | number> {
    const kbc = config.instance.dataSource.keboola;
    if (!kbc) return SetupExit.usage;
    const check = await checkToken(kbc.stackUrl, kbc.storageToken, ctx.signal, retryOf(ctx));
    if (!check.ok) {
      ctx.err(`error: ${check.message} (the token of ${ctx.show(config.instanceFile)})`);
      return check.reason === 'unreachable' ? SetupExit.failed : SetupExit.usage;
    }
    return readProject(ctx, check.client, kbc.stackUrl, check.projectName, kbc.projectId ?? check.projectId);
  },
};

async function ask(ctx: SetupContext, previous: Record<string, string>): Promise<SetupAnswers | number> {
  let stackUrl = await askStack(ctx, ctx.flags['stack-url'], previous.stackUrl);
  let token = await askToken(ctx, false);
  let check;
  for (let attempt = 1; ; attempt++) {
    ctx.out(`Checking the token at ${stackUrl} …`);
    check = await checkToken(stackUrl, token, ctx.signal, retryOf(ctx));
    if (check.ok) break;
    ctx.err(`error: ${check.message}`);
    const refused = check.reason === 'unauthorized' || check.reason === 'forbidden';
    if (!ctx.interactive || attempt >= ctx.maxAttempts) {
      ctx.err('Nothing was written.');
      return refused || check.reason === 'not-keboola' ? SetupExit.usage : SetupExit.failed;
    }
    if (refused) token = await askToken(ctx, true);
    else stackUrl = await askStack(ctx, undefined, stackUrl);
  }
  ctx.out(`The token works: ${check.projectName ? `project "${check.projectName}"` : 'a project'}${check.projectId ? ` (id ${check.projectId})` : ''}.`);
  // The project id only makes links; without one from the token or a flag it is left out.
  const projectId = await ctx.answer({
    flag: ctx.flags['project-id'], flagName: 'project-id', question: 'Keboola project id', defaultValue: check.projectId ?? previous.projectId ?? '',
    parse: (raw): Parsed<string | undefined> => (raw.trim() === '' ? { value: undefined } : parseProjectId(raw)),
  });
  if (projectId && check.projectId && projectId !== check.projectId) ctx.err(`warning: the token belongs to project ${check.projectId}, not ${projectId}`);
  const discovered = await readProject(ctx, check.client, stackUrl, check.projectName, projectId ?? check.projectId);
  const sectionLines = ['  keboola:', `    storage_token: \${${TOKEN_VAR}}`, `    stack_url: ${yamlLiteral(stackUrl)}`];
  if (projectId) sectionLines.push(`    project_id: ${yamlLiteral(projectId)}`);
  return { sectionLines, dotenv: { [TOKEN_VAR]: token }, discovered };
}

async function askStack(ctx: SetupContext, flag: string | undefined, current: string | undefined): Promise<string> {
  if (flag !== undefined) return ctx.answer({ flag, flagName: 'stack-url', question: '', parse: parseStackUrl });
  if (!ctx.interactive) {
    if (current === undefined) throw ctx.usageError('--stack-url is required with --non-interactive --source keboola');
    return ctx.answer({ flag: current, flagName: 'stack-url', question: '', parse: parseStackUrl });
  }
  const known = KNOWN_STACKS.findIndex((s) => s.url === current);
  const width = Math.max(...KNOWN_STACKS.map((s) => s.url.length));
  ctx.out('Keboola stacks:');
  KNOWN_STACKS.forEach((s, i) => ctx.out(`  ${i + 1}) ${s.url.padEnd(width)}  ${s.label}`));
  ctx.out(`  ${CUSTOM_STACK}) another stack (type its URL)`);
  const chosen = await ctx.answer({
    flagName: 'stack-url', question: 'Keboola stack (a number or a URL)', defaultValue: known !== -1 ? String(known + 1) : (current ?? '1'), parse: parseStack,
  });
  if (chosen !== 'custom') return chosen;
  return ctx.answer({ flagName: 'stack-url', question: 'Stack URL (e.g. https://connection.keboola.com)', parse: parseStackUrl });
}

/** The token: from the flags (first time), else asked without echo, else from the environment or the existing .env. */
async function askToken(ctx: SetupContext, again: boolean): Promise<string> {
  if (!again && ctx.secretFlag) return tokenFrom(ctx, ctx.secretFlag.value, ctx.secretFlag.from);
  const fromEnv = ctx.env[TOKEN_VAR];
  const fromDotenv = (await ctx.dotenv())[TOKEN_VAR];
  const fallback = again ? undefined : fromEnv ? { value: fromEnv, label: `$${TOKEN_VAR}` } : fromDotenv ? { value: fromDotenv, label: `the token in ${ctx.show(path.join(ctx.configDir, '.env'))}` } : undefined;
  if (!ctx.interactive) {
    if (!fallback) throw ctx.usageError(`a Storage API token is required: pass --token-env VAR (the name of a variable holding it), or set ${TOKEN_VAR}`);
    return tokenFrom(ctx, fallback.value, fallback.label);
  }
  for (let attempt = 1; ; attempt++) {
    const raw = await ctx.askSecret(`Storage API token${again ? ' (again)' : ''}`, fallback?.value, fallback ? `Enter: use ${fallback.label}` : undefined);
    const parsed = parseToken(raw);
    if ('value' in parsed) return ctx.remember(parsed.value);
    ctx.err(`  ${parsed.problem}`);
    if (attempt >= ctx.maxAttempts) throw ctx.usageError(`no usable token after ${ctx.maxAttempts} tries`);
  }
}

function tokenFrom(ctx: SetupContext, raw: string, from: string): string {
  ctx.remember(raw);
  const parsed = parseToken(raw);
  if ('problem' in parsed) throw ctx.usageError(`the token from ${from}: ${parsed.problem}`);
  return parsed.value;
}

async function readProject(ctx: SetupContext, client: KeboolaClient, stackUrl: string, projectName: string | undefined, projectId: string | undefined): Promise<Discovered> {
  ctx.out('Reading buckets and tables …');
  const { buckets, tables } = await readKeboolaProject(client, ctx.signal);
  const project = projectName ? `Keboola project "${projectName}"${projectId ? ` (${projectId})` : ''}` : `Keboola project${projectId ? ` ${projectId}` : ''}`;
  return { label: `${project} at ${stackUrl}`, buckets, tables, pickBuckets: true, complete: true };
}

/** The retry policy of the test harness, or undefined for `checkToken`'s default. */
function retryOf(ctx: SetupContext): RetryPolicy | undefined {
  return ctx.retry as RetryPolicy | undefined;
}

// The token check and project reading (the Storage API client) load when `ada init` asks, not with the registry.
const project = () => import('./setup-project.ts');
const checkToken = async (stackUrl: string, token: string, signal: AbortSignal, retry: RetryPolicy | undefined): Promise<TokenCheck> => (await project()).checkToken(stackUrl, token, signal, retry);
const readKeboolaProject = async (client: KeboolaClient, signal: AbortSignal): Promise<{ buckets: SetupBucket[]; tables: SetupTable[] }> => (await project()).readKeboolaProject(client, signal);

/** A value written literally in the existing section (not a placeholder), for defaults. */
function literal(v: unknown): string | undefined {
  return (typeof v === 'string' || typeof v === 'number') && !String(v).includes('${') && String(v).trim() !== '' ? String(v) : undefined;
}
