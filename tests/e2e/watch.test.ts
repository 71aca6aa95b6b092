import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { it } from 'node:test';
import type { TestContext } from 'node:test';
import { ADA_BIN, runCli, startServe } from '../helpers/cli.ts';
import { csvInstance, PUBLIC_AND_PRIVATE_TABLES, query } from '../helpers/instance.ts';
import { tempDir } from '../helpers/tmp.ts';
import { until } from '../helpers/until.ts';
import { delivery, WebhookSender } from '../fixtures/jira/webhook-sender.ts';
import { jiraServedInstance, SECRET } from '../integration/connectors/jira-harness.ts';

const TABLES = PUBLIC_AND_PRIVATE_TABLES;

/** A running `ada watch` whose output lines can be awaited. */
function startWatch(t: TestContext, args: string[]): { child: ChildProcess; out: string[]; waitFor(re: RegExp): Promise<string>; stop(): Promise<number | null> } {
  const child = spawn(process.execPath, [ADA_BIN, 'watch', ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, PATH: path.dirname(process.execPath) } });
  t.after(() => child.kill('SIGKILL'));
  const out: string[] = [];
  const waiters: Array<{ re: RegExp; resolve: (line: string) => void }> = [];
  const onLine = (line: string): void => {
    out.push(line);
    for (const w of [...waiters]) {
      if (w.re.test(line)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(line);
      }
    }
  };
  for (const stream of [child.stdout!, child.stderr!]) {
    let buf = '';
    stream.on('data', (d: Buffer) => {
      buf += d.toString();
      const lines = buf.split('\n');
      buf = lines.pop()!;
      lines.forEach(onLine);
    });
  }
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code, signal) => { if (signal) out.push(`signal ${signal}`); resolve(code); }));
  return {
    child, out,
    waitFor: (re) => {
      const seen = out.find((l) => re.test(l));
      return seen !== undefined ? Promise.resolve(seen) : new Promise((resolve) => waiters.push({ re, resolve }));
    },
    stop: () => {
      child.kill('SIGINT');
      return exited;
    },
  };
}

it('ada watch: prints updates of the analyst\'s tables, pulls on publish, resumes with since', { timeout: 180_000 }, async (t) => {
  const inst = await csvInstance(t, TABLES);
  await inst.writeCsv('orders.csv', 'id\n1\n');
  await inst.writeCsv('credit.csv', 'id,limit\n1,100\n');
  assert.equal((await runCli(['sync', ...inst.flags])).code, 0);
  assert.equal((await runCli(['analyst', 'add', 'bob', ...inst.flags])).code, 0);
  const token = (await runCli(['analyst', 'token', 'bob', ...inst.flags])).stdout.trim();
  const serve = await startServe(t, inst.flags);
  const dir = path.join(await tempDir(t, 'ada-watch-'), 'bob');
  assert.equal((await runCli(['pull', '--server', serve.url, '--token', token, '--dir', dir])).code, 0);
  const duckdb = path.join(dir, 'user', 'duckdb', 'analytics.duckdb');
  const rows = async (): Promise<number> => Number((await query(`ATTACH '${duckdb}' AS a (READ_ONLY); SELECT count(*) AS n FROM a.orders`))[0]!.n);
  assert.equal(await rows(), 1);

  const watcher = startWatch(t, ['--pull', '--dir', dir]);
  await watcher.waitFor(/watching http/);
  await inst.writeCsv('orders.csv', 'id\n1\n2\n');
  await inst.writeCsv('credit.csv', 'id,limit\n1,100\n2,200\n');
  assert.equal((await runCli(['sync', ...inst.flags])).code, 0);
  await watcher.waitFor(/pulled after orders was published/);
  assert.equal(await rows(), 2);
  assert.equal(await watcher.stop(), 0);
  assert.ok(!watcher.out.some((l) => l.includes('credit')), watcher.out.join('\n'));
  const saved = JSON.parse(await readFile(path.join(dir, '.ada', 'watch.json'), 'utf8')) as { position: number };
  assert.ok(saved.position > 0);

  // Updates while nobody watched arrive on the next start (resume with since).
  await inst.writeCsv('orders.csv', 'id\n1\n2\n3\n');
  assert.equal((await runCli(['sync', ...inst.flags])).code, 0);
  const again = startWatch(t, ['--dir', dir]);
  await again.waitFor(/resuming after position/);
  await again.waitFor(/Table orders updated: 3 rows/);
  assert.equal(await again.stop(), 0, again.out.join('\n'));
  await serve.stop();
});

it('ada watch --pull: files published for a subscribed dataset (Jira attachments) are pulled; an analyst not subscribed to it is not told', { timeout: 180_000 }, async (t) => {
  const { fake, inst, tokens, env } = await jiraServedInstance(t, [['bob', []], ['dave', []]]);
  const serve = await startServe(t, inst.flags, { env });
  // Through the server, which knows the datasets Jira declares.
  for (const [name, datasets] of [['bob', ['jira', 'jira_attachments']], ['dave', ['jira']]] as const) {
    for (const d of datasets) assert.equal((await runCli(['analyst', 'subscribe', name, d, ...inst.flags])).code, 0);
  }
  const sender = new WebhookSender(`${serve.url}/webhooks/jira`, SECRET);
  const report = Buffer.from('%PDF-1.4 first\n');
  fake.put('ADA-1', { created: '2024-03-05T10:00:00.000+0000', updated: '2024-03-05T10:00:00.000+0000' });
  fake.attach('ADA-1', '701', 'report.pdf', report);
  assert.equal((await sender.send(delivery('jira:issue_created', fake.webhookIssue('ADA-1'), 1_700_000_000_000))).status, 200);
  // Published (files and tables) and pulled before the watchers start: they see only what follows.
  await until('ADA-1 published with its attachment', async () => {
    const m = await (await fetch(`${serve.url}/api/v1/manifest`, { headers: { authorization: `Bearer ${tokens.bob}` } })).json() as { tables: Array<{ name: string }>; files: Array<{ path: string }> };
    return m.tables.some((x) => x.name === 'attachments') && m.files.some((f) => f.path.endsWith('/701_report.pdf')) ? true : undefined;
  });
  const root = await tempDir(t, 'ada-watch-files-');
  const dirs = { bob: path.join(root, 'bob'), dave: path.join(root, 'dave') };
  for (const who of ['bob', 'dave'] as const) {
    const r = await runCli(['pull', '--server', serve.url, '--token', tokens[who]!, '--dir', dirs[who]]);
    assert.equal(r.code, 0, r.stderr);
  }
  const server = (who: 'bob' | 'dave', ...rel: string[]): string => path.join(dirs[who], 'server', ...rel);
  assert.deepEqual(await readFile(server('bob', 'attachments', 'jira', 'ADA-1', '701_report.pdf')), report);
  const bob = startWatch(t, ['--pull', '--dir', dirs.bob]);
  const dave = startWatch(t, ['--pull', '--dir', dirs.dave]);
  await bob.waitFor(/watching http/);
  await dave.waitFor(/watching http/);

  // A second attachment: the projection appends FilesPublished for ADA-1's folder, then TablePublished for its tables.
  const sheet = Buffer.from([0, 1, 2, 254, 255]);
  fake.put('ADA-1', { created: '2024-03-05T10:00:00.000+0000', updated: '2024-03-06T10:00:00.000+0000' });
  fake.attach('ADA-1', '701', 'report.pdf', report);
  fake.attach('ADA-1', '702', 'sheet.xlsx', sheet);
  assert.equal((await sender.send(delivery('jira:issue_updated', fake.webhookIssue('ADA-1'), 1_700_000_000_010))).status, 200);

  await bob.waitFor(/Files of dataset jira_attachments updated: 2 files in one folder/);
  const pulled = await bob.waitFor(/pulled after files of jira_attachments were published: \d+ file/);
  assert.match(pulled, /: [1-9]\d* file\(s\)/, 'the pull the files started downloaded them');
  assert.deepEqual(await readFile(server('bob', 'attachments', 'jira', 'ADA-1', '702_sheet.xlsx')), sheet);
  assert.deepEqual(await readFile(server('bob', 'attachments', 'jira', 'ADA-1', '701_report.pdf')), report);

  // dave (jira only) pulls for the tables, which come after the files in the log: by then he has seen the files' notification, and kept quiet about it.
  await dave.waitFor(/pulled after \S+ was published/);
  assert.equal(await dave.stop(), 0);
  assert.ok(!dave.out.some((l) => /jira_attachments|files of/i.test(l)), dave.out.join('\n'));
  assert.deepEqual(await readdir(server('dave')).then((d) => d.filter((e) => e === 'attachments')), []);
  assert.equal(await bob.stop(), 0, bob.out.join('\n'));
  await serve.stop();
});
