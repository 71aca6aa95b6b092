import assert from 'node:assert/strict';
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { lastValueFrom, toArray } from 'rxjs';
import { loadConfig } from '../../connectors/index.ts';
import { CheckpointStore, EventLogReader } from '../../events/index.ts';
import type { RecordedEvent } from '../../events/index.ts';
import { authenticateToken, hashToken } from '../../pipeline/projections/access/index.ts';
import type { AccessState, Principal } from '../../pipeline/projections/access/index.ts';
import { runCli } from '../helpers/cli.ts';
import { csvInstance } from '../helpers/instance.ts';
import type { TestInstance } from '../helpers/instance.ts';

const TABLES = `  - id: csv.shop.orders
    name: orders
    description: Orders
    file: orders.csv
`;

const ALICE_KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEQbJOmlyzs64YgVQ0HF8K4cBExR9W2xtO56faVlLfzM alice@laptop';
const ALICE_FP = 'SHA256:7RWHJEcA/uFUjFOyMxlwCty8+glKdgnF+HJD5E1qAB4';
const BOB_KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAICNnj/UxSghsFZWAjma/irwb3ekUWqMkPlltTVu1elVu bob@example.com';
const BOB_FP = 'SHA256:DqMxc3OKSIKKjLkmCotOuMoQfj8/xhLy7zH62oYlv3I';
const ADMIN_KEY = 'ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBPOdzZS+3gqbzm4+HbCX3g4X3M5e7EZH3RqZkZuUL+H7tGUjzfeVMY8d5Z3dOBXrxOy+QFp5ct0Vjzd5f9RPTVI= boss@example.com';
const ADMIN_FP = 'SHA256:9rAScW4teftK15HLPNAHrDmmVW/R11oNsVBJwvt8IqU';

async function instance(t: Parameters<typeof csvInstance>[0]): Promise<TestInstance & { ada: (...args: string[]) => ReturnType<typeof runCli> }> {
  const inst = await csvInstance(t, TABLES, `admins:\n  - username: boss\n    ssh_public_key: ${ADMIN_KEY}\n`);
  return { ...inst, ada: (...args: string[]) => runCli(['analyst', ...args, ...inst.flags]) };
}

async function eventsOf(dataDir: string): Promise<RecordedEvent[]> {
  return lastValueFrom(new EventLogReader(path.join(dataDir, 'events')).read$(1).pipe(toArray()), { defaultValue: [] });
}

/** Authenticates a token against the access state the commands left in their checkpoint. */
async function authenticate(inst: TestInstance, token: string): Promise<Principal | undefined> {
  const checkpoint = await new CheckpointStore(path.join(inst.dataDir, 'metadata', 'checkpoints')).load<AccessState>('access');
  const config = await loadConfig({ configDir: inst.configDir, env: {} });
  return authenticateToken(checkpoint!.state!, config, token);
}

/** Every file under `dir`, recursively. */
async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries.filter((e) => e.isFile()).map((e) => path.join(e.parentPath, e.name));
}

interface ListedAnalyst { name: string; role: string; email: string | null; sshKeyFingerprint: string | null; source: string; addedAt: string | null; tokens: number; issuedTokens: Array<{ tokenId: string; issuedAt: string }> }

async function listJson(inst: Awaited<ReturnType<typeof instance>>): Promise<ListedAnalyst[]> {
  const r = await inst.ada('list', '--json');
  assert.equal(r.code, 0, r.stderr);
  return (JSON.parse(r.stdout) as { analysts: ListedAnalyst[] }).analysts;
}

describe('ada analyst', () => {
  it('adds analysts with roles, emails and SSH keys (as text or a .pub file), lists and removes them', async (t) => {
    const inst = await instance(t);
    const alice = await inst.ada('add', 'alice', '--private', '--email', 'Alice@Example.com', '--ssh-key', ALICE_KEY);
    assert.equal(alice.code, 0, alice.stderr);
    assert.match(alice.stdout, /added alice as privileged analyst .*: email alice@example\.com, SSH key SHA256:7RWH/);
    await writeFile(path.join(inst.root, 'bob.pub'), `${BOB_KEY}\n`);
    const bob = await inst.ada('add', 'bob', '--ssh-key', path.join(inst.root, 'bob.pub'));
    assert.equal(bob.code, 0, bob.stderr);
    assert.equal((await inst.ada('add', 'carol', '--admin')).code, 0);

    const list = await inst.ada('list');
    assert.equal(list.code, 0, list.stderr);
    const lines = list.stdout.split('\n');
    assert.match(lines[0]!, /^name\s+role\s+email\s+ssh key\s+tokens\s+added \(UTC\)$/);
    assert.match(list.stdout, new RegExp(`^alice\\s+privileged\\s+alice@example\\.com\\s+${ALICE_FP.replace(/[+/]/g, '\\$&')}\\s+0\\s+\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d$`, 'm'));
    assert.match(list.stdout, /^boss\s+admin\s+SHA256:9rAS\S+\s+0\s+instance\.yaml$/m);
    assert.match(list.stdout, /^carol\s+admin\s+0\s+\d{4}/m);

    const json = await listJson(inst);
    assert.deepEqual(json.map((a) => [a.name, a.role, a.email, a.sshKeyFingerprint, a.source, a.tokens]), [
      ['alice', 'privileged', 'alice@example.com', ALICE_FP, 'events', 0],
      ['bob', 'analyst', null, BOB_FP, 'events', 0],
      ['boss', 'admin', null, ADMIN_FP, 'config', 0],
      ['carol', 'admin', null, null, 'events', 0],
    ]);

    const removed = await inst.ada('remove', 'bob');
    assert.equal(removed.code, 0, removed.stderr);
    assert.match(removed.stdout, /removed analyst bob/);
    assert.deepEqual((await listJson(inst)).map((a) => a.name), ['alice', 'boss', 'carol']);
    const again = await inst.ada('remove', 'bob');
    assert.equal(again.code, 1);
    assert.match(again.stderr, /\[ANALYST_NOT_FOUND\] no analyst named "bob"/);

    const events = await eventsOf(inst.dataDir);
    assert.deepEqual(events.map((e) => e.type), ['AnalystAdded', 'AnalystAdded', 'AnalystAdded', 'AnalystRemoved']);
    assert.ok(events.every((e) => e.source === 'cli:analyst'));
    assert.deepEqual(events[1]!.data, { name: 'bob', role: 'analyst', sshKey: BOB_KEY });
  });

  it('refuses duplicates, another analyst\'s key, and allows a re-add after removal', async (t) => {
    const inst = await instance(t);
    assert.equal((await inst.ada('add', 'alice', '--ssh-key', ALICE_KEY, '--email', 'alice@example.com')).code, 0);
    const dup = await inst.ada('add', 'alice');
    assert.equal(dup.code, 1);
    assert.match(dup.stderr, /\[ANALYST_EXISTS\] analyst alice already exists/);
    const sameKey = await inst.ada('add', 'bob', '--ssh-key', ALICE_KEY);
    assert.equal(sameKey.code, 1);
    assert.match(sameKey.stderr, /\[SSH_KEY_IN_USE\].*alice/);
    const adminKey = await inst.ada('add', 'bob', '--ssh-key', ADMIN_KEY);
    assert.equal(adminKey.code, 1);
    assert.match(adminKey.stderr, /\[SSH_KEY_IN_USE\].*boss/);
    const sameEmail = await inst.ada('add', 'bob', '--email', 'ALICE@example.com');
    assert.equal(sameEmail.code, 1);
    assert.match(sameEmail.stderr, /\[EMAIL_IN_USE\]/);

    const token = (await inst.ada('token', 'alice')).stdout.trim();
    assert.equal((await authenticate(inst, token))?.name, 'alice');
    assert.equal((await inst.ada('remove', 'alice')).code, 0);
    assert.equal(await authenticate(inst, token), undefined);
    const readd = await inst.ada('add', 'alice', '--ssh-key', ALICE_KEY, '--email', 'alice@example.com');
    assert.equal(readd.code, 0, readd.stderr);
    assert.equal(await authenticate(inst, token), undefined, 'a re-added analyst starts without the old tokens');
    const [alice] = await listJson(inst);
    assert.equal(alice!.tokens, 0);
    const keys = (await eventsOf(inst.dataDir)).filter((e) => e.type === 'AnalystAdded').map((e) => e.key);
    assert.deepEqual(keys, ['analyst-added:alice#1', 'analyst-added:alice#2']);
  });

  it('sets, replaces and removes an analyst\'s SSH key (text or a .pub file); refuses bad and taken keys', async (t) => {
    const inst = await instance(t);
    assert.equal((await inst.ada('add', 'alice')).code, 0);
    const pub = path.join(inst.root, 'bob.pub');
    await writeFile(pub, `${BOB_KEY}\n`);
    const fromFile = await inst.ada('ssh-key', 'alice', pub);
    assert.equal(fromFile.code, 0, fromFile.stderr);
    assert.equal(fromFile.stdout.trim(), `SSH key of alice is now ${BOB_FP} (ssh-ed25519)`);
    assert.match((await inst.ada('ssh-key', 'alice', BOB_KEY)).stdout, /already has the SSH key/);
    assert.equal((await inst.ada('ssh-key', 'alice', ALICE_KEY)).code, 0);
    assert.equal((await listJson(inst)).find((a) => a.name === 'alice')?.sshKeyFingerprint, ALICE_FP);
    const taken = await inst.ada('ssh-key', 'alice', ADMIN_KEY);
    assert.equal(taken.code, 1);
    assert.match(taken.stderr, /\[SSH_KEY_IN_USE\].*boss/);
    const bad = await inst.ada('ssh-key', 'alice', 'ssh-ed25519 AAAA-not-base64');
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /\[INVALID_SSH_KEY\]/);
    assert.equal((await inst.ada('ssh-key', 'alice')).code, 2, 'a key or --remove is needed');
    const removed = await inst.ada('ssh-key', 'alice', '--remove');
    assert.equal(removed.stdout.trim(), 'SSH key of alice removed');
    assert.equal((await listJson(inst)).find((a) => a.name === 'alice')?.sshKeyFingerprint, null);
    const changes = (await eventsOf(inst.dataDir)).filter((e) => e.type === 'AnalystSshKeyChanged');
    assert.deepEqual(changes.map((e) => e.key), ['ssh-key-changed:alice#1:0', 'ssh-key-changed:alice#1:1', 'ssh-key-changed:alice#1:2']);
  });

  it('prints a token once, records only its hash, and the token appears nowhere under data/', async (t) => {
    const inst = await instance(t);
    assert.equal((await inst.ada('add', 'alice', '--private', '--email', 'alice@example.com')).code, 0);
    const issued = await inst.ada('token', 'alice');
    assert.equal(issued.code, 0, issued.stderr);
    const token = issued.stdout.trim();
    assert.match(token, /^ada_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);
    assert.equal(issued.stdout.split('\n').length, 1, 'stdout holds only the token');
    assert.match(issued.stderr, /shown only once/);
    assert.ok(!issued.stderr.includes(token));
    const tokenId = token.slice(4, 20);

    assert.deepEqual(await authenticate(inst, token), { name: 'alice', role: 'privileged', email: 'alice@example.com' });
    const tokenEvent = (await eventsOf(inst.dataDir)).find((e) => e.type === 'TokenIssued')!;
    assert.deepEqual(tokenEvent.data, { name: 'alice', tokenId, hash: hashToken(token) });

    const list = await inst.ada('list');
    const json = await inst.ada('list', '--json');
    for (const out of [list.stdout, list.stderr, json.stdout, json.stderr]) {
      assert.ok(!out.includes(token));
      assert.ok(!out.includes(hashToken(token)));
    }
    assert.match(list.stdout, /^alice\s+privileged\s+alice@example\.com\s+1\s/m);
    assert.deepEqual((JSON.parse(json.stdout) as { analysts: ListedAnalyst[] }).analysts[0]!.issuedTokens.map((x) => x.tokenId), [tokenId]);

    const secret = token.slice(21);
    const files = await filesUnder(inst.dataDir);
    assert.ok(files.some((f) => f.includes(`${path.sep}events${path.sep}`)) && files.some((f) => f.endsWith('access.json')), files.join('\n'));
    for (const file of files) {
      const bytes = await readFile(file);
      assert.ok(!bytes.includes(token), `token found in ${file}`);
      assert.ok(!bytes.includes(secret), `token secret found in ${file}`);
    }
  });

  it('revokes one token by id, or all of them', async (t) => {
    const inst = await instance(t);
    assert.equal((await inst.ada('add', 'alice')).code, 0);
    const [t1, t2, t3] = [
      (await inst.ada('token', 'alice')).stdout.trim(),
      (await inst.ada('token', 'alice')).stdout.trim(),
      (await inst.ada('token', 'alice')).stdout.trim(),
    ] as [string, string, string];
    assert.equal((await listJson(inst))[0]!.tokens, 3);

    const one = await inst.ada('token', 'alice', '--revoke', t1.slice(4, 20));
    assert.equal(one.code, 0, one.stderr);
    assert.match(one.stdout, new RegExp(`revoked 1 token of alice: ${t1.slice(4, 20)}`));
    assert.equal(await authenticate(inst, t1), undefined);
    assert.equal((await authenticate(inst, t2))?.name, 'alice');

    const unknown = await inst.ada('token', 'alice', '--revoke', t1.slice(4, 20));
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /\[TOKEN_NOT_FOUND\]/);
    const malformed = await inst.ada('token', 'alice', '--revoke', 'xyz');
    assert.equal(malformed.code, 2);
    assert.match(malformed.stderr, /\[INVALID_TOKEN_ID\]/);

    const all = await inst.ada('token', 'alice', '--revoke');
    assert.equal(all.code, 0, all.stderr);
    assert.match(all.stdout, /revoked 2 tokens of alice/);
    assert.equal(await authenticate(inst, t2), undefined);
    assert.equal(await authenticate(inst, t3), undefined);
    const none = await inst.ada('token', 'alice', '--revoke');
    assert.equal(none.code, 0);
    assert.match(none.stdout, /no tokens/);

    const events = (await eventsOf(inst.dataDir)).filter((e) => e.type === 'TokenRevoked');
    assert.deepEqual(events.map((e) => e.data), [{ name: 'alice', tokenId: t1.slice(4, 20) }, { name: 'alice' }]);
    assert.equal((await inst.ada('token', 'ghost')).code, 1);
  });

  it('refuses bad input with exit code 2 and records nothing', async (t) => {
    const inst = await instance(t);
    const privateFile = path.join(inst.root, 'id_ed25519');
    await writeFile(privateFile, '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ\n-----END OPENSSH PRIVATE KEY-----\n');
    await writeFile(`${privateFile}.pub`, `${ALICE_KEY}\n`);
    const cases: Array<[string[], RegExp]> = [
      [['add', 'Alice'], /\[INVALID_NAME\]/],
      [['add', 'x'], /\[INVALID_NAME\]/],
      [['add', 'root'], /\[RESERVED_NAME\]/],
      [['add', 'systemd-foo'], /\[RESERVED_NAME\]/],
      [['add', 'alice', '--email', 'not-an-email'], /\[INVALID_EMAIL\]/],
      [['add', 'alice', '--ssh-key', 'ssh-ed25519 AAAAnotakey'], /\[INVALID_SSH_KEY\]/],
      [['add', 'alice', '--ssh-key', path.join(inst.root, 'missing.pub')], /\[INVALID_SSH_KEY\].*does not exist/],
      [['add', 'alice', '--ssh-key', privateFile], new RegExp(`\\[PRIVATE_KEY_REFUSED\\].*PRIVATE key.*${privateFile.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}\\.pub`)],
      [['add', 'alice', '--ssh-key=-----BEGIN OPENSSH PRIVATE KEY-----\nabc\n-----END OPENSSH PRIVATE KEY-----'], /\[PRIVATE_KEY_REFUSED\]/],
      [['add', 'alice', '--private', '--admin'], /choose one of --private and --admin/],
      [['add'], /expected the analyst's NAME/],
      [['add', 'alice', 'bob'], /unexpected argument "bob"/],
      [['token', 'alice', 'extra'], /unexpected argument "extra"/],
    ];
    for (const [args, message] of cases) {
      const r = await inst.ada(...args);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, message, args.join(' '));
      assert.ok(!r.stderr.includes('b3BlbnNzaC1rZXktdjE'), 'the private key is not echoed');
    }
    assert.deepEqual(await eventsOf(inst.dataDir), []);
  });

  it('leaves admins of instance.yaml to instance.yaml, and rebuilds its state from the log', async (t) => {
    const inst = await instance(t);
    const remove = await inst.ada('remove', 'boss');
    assert.equal(remove.code, 1);
    assert.match(remove.stderr, /\[ANALYST_NOT_FOUND\] boss is an admin listed in instance\.yaml/);
    const token = await inst.ada('token', 'boss');
    assert.equal(token.code, 1);
    assert.match(token.stderr, /ada analyst add boss --admin/);
    const add = await inst.ada('add', 'boss', '--ssh-key', ADMIN_KEY);
    assert.equal(add.code, 0, add.stderr);
    assert.match(add.stderr, /their role is admin/);
    const bossToken = (await inst.ada('token', 'boss')).stdout.trim();
    assert.equal((await authenticate(inst, bossToken))?.role, 'admin');

    const before = await inst.ada('list', '--json');
    await rm(path.join(inst.dataDir, 'metadata', 'checkpoints', 'access.json'));
    const after = await inst.ada('list', '--json');
    assert.equal(after.stdout, before.stdout);
    const removed = await inst.ada('remove', 'boss');
    assert.equal(removed.code, 0);
    assert.match(removed.stderr, /boss stays an admin/);
    assert.equal(await authenticate(inst, bossToken), undefined);
  });
});
