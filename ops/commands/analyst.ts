/** `ada analyst add|list|remove|token|ssh-key|subscribe|unsubscribe`: analysts, their roles, SSH keys, personal tokens and datasets. */
import { readFile, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { AnalystRole } from '../../events/index.ts';
import { accessError, AccessErrorCode, INPUT_ERROR_CODES, looksLikePrivateKey, MAX_SSH_KEY_CHARS, SSH_KEY_TYPES } from '../../pipeline/index.ts';
import type { Command, CommandContext } from '../command.ts';
import { commonOptions } from '../command.ts';
import { connectBroker } from '../connect.ts';
import type { Connection } from '../connect.ts';
import { formatTable } from '../format.ts';
import { UsageError } from '../usage-error.ts';

/** The `source` of every event these commands append. */
const EVENT_SOURCE = 'cli:analyst';

const ACCESS_CODES: ReadonlySet<string> = new Set<string>(Object.values(AccessErrorCode));

type Values = Parameters<Command['run']>[0]['values'];

/** Wraps a command so access errors print as `[CODE] message` and exit 2 (bad input) or 1 (not found, conflict). */
function accessCommand(command: Command): Command {
  return {
    ...command,
    async run(args, ctx) {
      try {
        return await command.run(args, ctx);
      } catch (err) {
        const code = (err as { code?: unknown }).code;
        if (typeof code !== 'string' || !ACCESS_CODES.has(code)) throw err;
        ctx.err(`ada ${command.name}: [${code}] ${(err as Error).message}`);
        return INPUT_ERROR_CODES.has(code) ? 2 : 1;
      }
    },
  };
}

/** Runs `fn` with the broker: opened here, or the running server's through its control socket. */
async function withBroker(values: Values, ctx: CommandContext, fn: (broker: Connection) => Promise<number>): Promise<number> {
  const broker = await connectBroker(values, ctx, EVENT_SOURCE);
  try {
    return await fn(broker);
  } finally {
    await broker.close();
  }
}

function onlyName(positionals: string[], max = 1): string {
  if (positionals.length === 0) throw new UsageError('expected the analyst\'s NAME');
  if (positionals.length > max) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[max])}`);
  return positionals[0]!;
}

/**
 * The text of `--ssh-key`: the argument itself when it looks like key text, else the file it names
 * (`~/` expanded). A file holding a private key is refused without echoing it.
 */
export async function readSshKeyArgument(arg: string, env: NodeJS.ProcessEnv): Promise<string> {
  const text = arg.trim();
  if (/\s/.test(text) || text.startsWith('-----') || text.startsWith('---- ') || looksLikePrivateKey(text) || SSH_KEY_TYPES.some((t) => text === t)) return arg;
  const file = text.startsWith('~/') ? path.join(env.HOME || os.homedir(), text.slice(2)) : path.resolve(text);
  let content: string;
  try {
    const info = await stat(file);
    if (!info.isFile()) throw accessError(AccessErrorCode.invalidSshKey, `--ssh-key: ${file} is not a file`);
    // A public key file is one line; anything much larger is not one (and is not read into memory).
    if (info.size > 2 * MAX_SSH_KEY_CHARS) throw accessError(AccessErrorCode.invalidSshKey, `--ssh-key: ${file} is ${info.size} bytes, too large to be an SSH public key`);
    content = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw accessError(AccessErrorCode.invalidSshKey, `--ssh-key expects a public key ("ssh-ed25519 AAAA… comment") or the path of a .pub file; ${file} does not exist`);
    }
    throw err;
  }
  if (looksLikePrivateKey(content)) {
    const pub = `${file}.pub`;
    const hasPub = await stat(pub).then((s) => s.isFile(), () => false);
    throw accessError(AccessErrorCode.privateKeyRefused,
      `${file} holds a PRIVATE key — it must never leave your machine, and it was not stored; pass the public key instead${hasPub ? `: ${pub}` : ' (the .pub file, or the output of `ssh-keygen -y -f KEYFILE`)'}`);
  }
  return content;
}

function roleOf(values: Values): AnalystRole {
  if (values.private && values.admin) throw new UsageError('choose one of --private and --admin (admins see private tables anyway)');
  return values.admin ? 'admin' : values.private ? 'privileged' : 'analyst';
}

const ROLE_TEXT: Record<AnalystRole, string> = { analyst: 'analyst', privileged: 'privileged analyst (sees private tables)', admin: 'admin' };

const add: Command = accessCommand({
  name: 'analyst add',
  summary: 'Add an analyst (--private: sees private tables, --admin) with an optional email and SSH public key',
  usage: 'ada analyst add NAME [--private | --admin] [--email E] [--ssh-key "ssh-ed25519 AAAA…" | --ssh-key PATH.pub] [--config DIR] [--data DIR]',
  options: { ...commonOptions, private: { type: 'boolean' }, admin: { type: 'boolean' }, email: { type: 'string' }, 'ssh-key': { type: 'string' } },
  allowPositionals: true,
  async run({ values, positionals }, ctx) {
    const name = onlyName(positionals);
    const role = roleOf(values);
    const sshKey = typeof values['ssh-key'] === 'string' ? await readSshKeyArgument(values['ssh-key'], ctx.env) : undefined;
    const email = typeof values.email === 'string' ? values.email : undefined;
    return withBroker(values, ctx, async (broker) => {
      const added = await broker.api.analysts.add({ name, role, ...(email !== undefined ? { email } : {}), ...(sshKey !== undefined ? { sshKey } : {}) });
      const details = [
        added.email !== undefined ? `email ${added.email}` : undefined,
        added.sshKey ? `SSH key ${added.sshKey.fingerprint} (${added.sshKey.type})` : 'no SSH key',
      ].filter((d) => d !== undefined);
      ctx.out(`added ${name} as ${ROLE_TEXT[role]}: ${details.join(', ')}`);
      if (role !== 'admin' && broker.config.instance.admins.some((a) => a.username === name)) {
        ctx.err(`note: ${name} is listed in instance.yaml \`admins\`, so their role is admin`);
      }
      ctx.err(`next: issue a personal token with \`ada analyst token ${name}\``);
      return 0;
    });
  },
});

/** Short UTC time for the list (`2026-01-05 14:03`). */
function shortTime(iso: string): string {
  return iso.slice(0, 16).replace('T', ' ');
}

const list: Command = accessCommand({
  name: 'analyst list',
  summary: 'List analysts and admins: role, email, SSH key fingerprint, tokens, when added',
  usage: 'ada analyst list [--json] [--config DIR] [--data DIR]',
  options: { ...commonOptions, json: { type: 'boolean' } },
  async run({ values }, ctx) {
    return withBroker(values, ctx, async (broker) => {
      const members = await broker.api.analysts.list();
      if (values.json) {
        ctx.out(JSON.stringify({
          analysts: members.map((m) => ({
            name: m.name, role: m.role, email: m.email ?? null, sshKeyFingerprint: m.sshKeyFingerprint ?? null, source: m.source,
            addedAt: m.analyst?.addedAt ?? null,
            tokens: Object.keys(m.analyst?.tokens ?? {}).length,
            datasets: m.analyst?.datasets ?? [],
            issuedTokens: Object.entries(m.analyst?.tokens ?? {}).map(([tokenId, t]) => ({ tokenId, issuedAt: t.issuedAt })),
          })),
        }, null, 2));
        return 0;
      }
      if (members.length === 0) {
        ctx.out('no analysts yet; add one with `ada analyst add NAME --ssh-key KEY.pub`');
        return 0;
      }
      ctx.out(formatTable(['name', 'role', 'email', 'ssh key', 'tokens', 'added (UTC)'], members.map((m) => [
        m.name, m.role, m.email ?? '', m.sshKeyFingerprint ?? '', String(Object.keys(m.analyst?.tokens ?? {}).length),
        m.analyst ? `${shortTime(m.analyst.addedAt)}${m.source === 'both' ? ' (+instance.yaml)' : ''}` : 'instance.yaml',
      ])));
      return 0;
    });
  },
});

const remove: Command = accessCommand({
  name: 'analyst remove',
  summary: 'Remove an analyst; their tokens stop working at once',
  usage: 'ada analyst remove NAME [--config DIR] [--data DIR]',
  options: { ...commonOptions },
  allowPositionals: true,
  async run({ values, positionals }, ctx) {
    const name = onlyName(positionals);
    return withBroker(values, ctx, async (broker) => {
      const { revokedTokens: tokens } = await broker.api.analysts.remove(name);
      ctx.out(`removed analyst ${name}${tokens ? ` and revoked their ${tokens} token${tokens === 1 ? '' : 's'}` : ''}`);
      if (broker.config.instance.admins.some((a) => a.username === name)) {
        ctx.err(`note: ${name} stays an admin: they are listed in instance.yaml \`admins\``);
      }
      return 0;
    });
  },
});

const token: Command = accessCommand({
  name: 'analyst token',
  summary: 'Issue a personal token (printed once), or --revoke [TOKEN_ID] one or all of them',
  usage: 'ada analyst token NAME [--revoke [TOKEN_ID]] [--config DIR] [--data DIR]',
  options: { ...commonOptions, revoke: { type: 'boolean' } },
  allowPositionals: true,
  async run({ values, positionals }, ctx) {
    const name = onlyName(positionals, values.revoke ? 2 : 1);
    const which = positionals[1];
    return withBroker(values, ctx, async (broker) => {
      if (values.revoke) {
        const { revoked } = await broker.api.analysts.revokeTokens(name, which);
        if (revoked.length === 0) {
          ctx.out(`${name} has no tokens; nothing to revoke`);
          return 0;
        }
        ctx.out(`revoked ${revoked.length} token${revoked.length === 1 ? '' : 's'} of ${name}: ${revoked.join(', ')}`);
        return 0;
      }
      const issued = await broker.api.analysts.issueToken(name);
      ctx.out(issued.token);
      ctx.err(`token ${issued.tokenId} for ${name} — it is shown only once and cannot be recovered: store it now (e.g. in a password manager).`);
      ctx.err(`revoke it with \`ada analyst token ${name} --revoke ${issued.tokenId}\``);
      return 0;
    });
  },
});

const sshKey: Command = accessCommand({
  name: 'analyst ssh-key',
  summary: 'Set or replace an analyst\'s SSH public key (text or a .pub file), or --remove it',
  usage: 'ada analyst ssh-key NAME ("ssh-ed25519 AAAA…" | PATH.pub | --remove) [--config DIR] [--data DIR]',
  options: { ...commonOptions, remove: { type: 'boolean' } },
  allowPositionals: true,
  async run({ values, positionals }, ctx) {
    const remove = values.remove === true;
    if (positionals.length !== (remove ? 1 : 2)) throw new UsageError(remove ? 'expected only the analyst\'s NAME with --remove' : 'expected the analyst\'s NAME and a public key (text in quotes, or the path of a .pub file), or --remove');
    const name = positionals[0]!;
    const key = remove ? undefined : await readSshKeyArgument(positionals[1]!, ctx.env);
    return withBroker(values, ctx, async (broker) => {
      const r = await broker.api.analysts.setSshKey(name, key);
      if (!r.changed) ctx.out(r.sshKey ? `${name} already has the SSH key ${r.sshKey.fingerprint}` : `${name} has no SSH key`);
      else ctx.out(r.sshKey ? `SSH key of ${name} is now ${r.sshKey.fingerprint} (${r.sshKey.type})` : `SSH key of ${name} removed`);
      return 0;
    });
  },
});

function subscription(subscribe: boolean): Command {
  const verb = subscribe ? 'subscribe' : 'unsubscribe';
  return accessCommand({
    name: `analyst ${verb}`,
    summary: subscribe ? 'Subscribe an analyst to a dataset: its tables join their next pull' : 'Unsubscribe an analyst from a dataset: its tables leave their next pull',
    usage: `ada analyst ${verb} NAME DATASET [--config DIR] [--data DIR]`,
    options: { ...commonOptions },
    allowPositionals: true,
    async run({ values, positionals }, ctx) {
      if (positionals.length !== 2) throw new UsageError('expected the analyst\'s NAME and a DATASET');
      const [name, dataset] = positionals as [string, string];
      return withBroker(values, ctx, async (broker) => {
        const { changed } = await broker.api.analysts.subscribe(name, dataset, subscribe);
        ctx.out(changed ? `${name} ${verb}d ${subscribe ? 'to' : 'from'} ${dataset}` : `${name} was already ${subscribe ? 'subscribed to' : 'not subscribed to'} ${dataset}`);
        return 0;
      });
    },
  });
}

/** `ada analyst add|list|remove|token|ssh-key|subscribe|unsubscribe`. */
export const analystCommands: Command[] = [add, list, remove, token, sshKey, subscription(true), subscription(false)];
