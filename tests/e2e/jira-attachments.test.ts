/**
 * Jira's attachment files reach the analysts subscribed to `jira_attachments` (manifest, files route, `ada pull`)
 * through the generic `FilesPublished` event, and nobody else: unsubscribed analysts, and plain analysts once
 * `jira.private` is set, find them absent from the manifest and refused by the files route.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { appendFile, readdir, readFile, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { it } from 'node:test';
import { runCli, startServe } from '../helpers/cli.ts';
import { tempDir } from '../helpers/tmp.ts';
import { delivery, WebhookSender } from '../fixtures/jira/webhook-sender.ts';
import { jiraServedInstance, SECRET } from '../integration/connectors/jira-harness.ts';
import { until } from '../helpers/until.ts';

interface ManifestFile { path: string; size: number; sha256: string; version: number; table?: string; dataset?: string }
interface Manifest { files: ManifestFile[]; tables: Array<{ name: string }> }

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

/** Every file under `dir`, relative, following the `server` symlink. */
async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string, rel: string): Promise<void> => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      const full = path.join(d, e.name);
      if ((await stat(full)).isDirectory()) await walk(full, path.posix.join(rel, e.name));
      else out.push(path.posix.join(rel, e.name));
    }
  };
  await walk(dir, '');
  return out.sort();
}

const ATTACHMENTS: Array<{ key: string; id: string; name: string; bytes: Buffer; expected: string }> = [
  { key: 'ADA-1', id: '701', name: 'report.pdf', bytes: Buffer.from('%PDF-1.4 a report\n'), expected: 'attachments/jira/ADA-1/701_report.pdf' },
  { key: 'ADA-1', id: '702', name: '../../../../etc/passwd', bytes: Buffer.from('not the password file'), expected: 'attachments/jira/ADA-1/702_etc_passwd' },
  { key: 'ADA-1', id: '703', name: 'Q3 100% final?.xlsx', bytes: Buffer.from([0, 1, 2, 3, 255, 254]), expected: 'attachments/jira/ADA-1/703_Q3 100_final_xlsx' },
  { key: 'ADA-2', id: '704', name: '..\\..\\windows\\naïve #1.txt', bytes: Buffer.from('naïve\n'), expected: 'attachments/jira/ADA-2/704_windows_naïve #1.txt' },
  // The same bytes as 701 under another issue: one blob, two files.
  { key: 'ADA-2', id: '705', name: 'report.pdf', bytes: Buffer.from('%PDF-1.4 a report\n'), expected: 'attachments/jira/ADA-2/705_report.pdf' },
];

it('Jira attachments: subscribed analysts get the files in their manifest and by ada pull; others and private find them absent', { timeout: 300_000 }, async (t) => {
  const { fake, inst, tokens, env } = await jiraServedInstance(t, [['bob', []], ['carol', ['--private']], ['dave', []]]);
  let serve = await startServe(t, inst.flags, { env });
  const get = (who: string, url: string): Promise<Response> => fetch(`${serve.url}${url}`, { headers: { authorization: `Bearer ${tokens[who]}` } });
  const manifest = async (who: string): Promise<Manifest> => {
    const res = await get(who, '/api/v1/manifest');
    assert.equal(res.status, 200);
    return await res.json() as Manifest;
  };
  const fileUrl = (p: string): string => `/api/v1/files/${p.split('/').map(encodeURIComponent).join('/')}`;

  // bob and carol subscribe to both datasets; dave only to jira.
  for (const [name, datasets] of [['bob', ['jira', 'jira_attachments']], ['carol', ['jira', 'jira_attachments']], ['dave', ['jira']]] as const) {
    for (const d of datasets) {
      const r = await runCli(['analyst', 'subscribe', name, d, ...inst.flags]);
      assert.equal(r.code, 0, r.stderr);
    }
  }

  fake.put('ADA-1', { created: '2024-03-05T10:00:00.000+0000', updated: '2024-03-05T10:00:00.000+0000' });
  fake.put('ADA-2', { created: '2024-04-01T08:00:00.000+0000', updated: '2024-04-02T08:00:00.000+0000' });
  for (const a of ATTACHMENTS) fake.attach(a.key, a.id, a.name, a.bytes);
  const sender = new WebhookSender(`${serve.url}/webhooks/jira`, SECRET);
  for (const [i, key] of ['ADA-1', 'ADA-2'].entries()) {
    assert.equal((await sender.send(delivery('jira:issue_created', fake.webhookIssue(key), 1_700_000_000_000 + i))).status, 200);
  }

  const attachmentsOf = (m: Manifest): ManifestFile[] => m.files.filter((f) => f.dataset === 'jira_attachments').sort((a, b) => a.path.localeCompare(b.path));
  const bobFiles = await until('attachments in bob\'s manifest', async () => {
    const files = attachmentsOf(await manifest('bob'));
    return files.length === ATTACHMENTS.length ? files : undefined;
  });
  const expected = [...ATTACHMENTS].sort((a, b) => a.expected.localeCompare(b.expected));
  assert.deepEqual(bobFiles.map((f) => f.path), expected.map((a) => a.expected), 'sanitised paths, each inside its issue folder');
  for (const [i, f] of bobFiles.entries()) {
    assert.equal(f.sha256, sha(expected[i]!.bytes), f.path);
    assert.equal(f.size, expected[i]!.bytes.length, f.path);
    assert.equal(f.table, undefined);
    const res = await get('bob', fileUrl(f.path));
    assert.equal(res.status, 200, f.path);
    assert.equal(res.headers.get('etag'), `"${f.sha256}"`);
    assert.equal(res.headers.get('content-type'), 'application/octet-stream');
    assert.deepEqual(Buffer.from(await res.arrayBuffer()), expected[i]!.bytes, f.path);
  }
  // Range and If-None-Match as for any other file.
  const pdf = bobFiles.find((f) => f.path.endsWith('701_report.pdf'))!;
  const part = await fetch(`${serve.url}${fileUrl(pdf.path)}`, { headers: { authorization: `Bearer ${tokens.bob}`, range: 'bytes=5-' } });
  assert.equal(part.status, 206);
  assert.equal(part.headers.get('content-range'), `bytes 5-${pdf.size - 1}/${pdf.size}`);
  assert.deepEqual(Buffer.from(await part.arrayBuffer()), ATTACHMENTS[0]!.bytes.subarray(5));
  const same = await fetch(`${serve.url}${fileUrl(pdf.path)}`, { headers: { authorization: `Bearer ${tokens.bob}`, 'if-none-match': `"${pdf.sha256}"` } });
  assert.equal(same.status, 304);
  // Paths that climb out of the folder never reach a file, whatever Jira named it.
  for (const attempt of ['attachments/jira/ADA-1/../../../config/instance.yaml', 'attachments/jira/ADA-1/%2e%2e/701_report.pdf', 'attachments/jira/../../etc/passwd', `blobs/sha256/${pdf.sha256.slice(0, 2)}/${pdf.sha256}`]) {
    const res = await get('bob', `/api/v1/files/${attempt}`);
    assert.ok(res.status === 403 || res.status === 404, `${attempt}: ${res.status}`);
    assert.doesNotMatch(await res.text(), /a report|webapp_secret_key/);
  }

  // dave (jira only) has the tables but no attachment file; the files route refuses them.
  const dave = await manifest('dave');
  assert.ok(dave.tables.some((x) => x.name === 'attachments'), 'dave has the attachments table');
  assert.deepEqual(attachmentsOf(dave), []);
  assert.ok(!JSON.stringify(dave).includes('701_report'), 'no trace of the files in dave\'s manifest');
  assert.equal((await get('dave', fileUrl(pdf.path))).status, 403);

  // ada pull downloads them with the right bytes (the duplicate content included) and no DuckDB view for them.
  const bobDir = await tempDir(t, 'ada-bob-');
  const pulled = await runCli(['pull', '--json', '--server', serve.url, '--token', tokens.bob!, '--dir', bobDir]);
  assert.equal(pulled.code, 0, pulled.stderr);
  const pullJson = JSON.parse(pulled.stdout) as { downloaded: string[]; views: string[] };
  for (const a of ATTACHMENTS) {
    assert.ok(pullJson.downloaded.includes(a.expected), a.expected);
    const local = path.join(bobDir, 'server', ...a.expected.split('/'));
    assert.ok((await realpath(local)).startsWith(await realpath(path.join(bobDir, '.ada', 'versions'))), `${a.expected} stays inside server/`);
    assert.deepEqual(await readFile(local), a.bytes, a.expected);
  }
  assert.ok(!pullJson.views.some((v) => /attach.*file|report/.test(v)), pullJson.views.join(','));
  const guide = await readFile(path.join(bobDir, 'CLAUDE.md'), 'utf8');
  assert.match(guide, /server\/attachments\/jira\//, 'the guide names the folder');

  // An attachment removed in Jira leaves the manifest and the next pull.
  fake.put('ADA-2', { created: '2024-04-01T08:00:00.000+0000', updated: '2024-04-03T08:00:00.000+0000' });
  fake.attach('ADA-2', '704', ATTACHMENTS[3]!.name, ATTACHMENTS[3]!.bytes);
  assert.equal((await sender.send(delivery('jira:issue_updated', fake.webhookIssue('ADA-2'), 1_700_000_000_010))).status, 200);
  await until('705 gone from bob\'s manifest', async () => (attachmentsOf(await manifest('bob')).some((f) => f.path.includes('/705_')) ? undefined : true));
  const again = await runCli(['pull', '--json', '--dir', bobDir]);
  assert.equal(again.code, 0, again.stderr);
  assert.deepEqual((JSON.parse(again.stdout) as { removed: string[] }).removed, ['attachments/jira/ADA-2/705_report.pdf']);
  assert.ok(!(await listFiles(path.join(bobDir, 'server'))).some((p) => p.includes('705_')));

  // jira.private (the domain still from the environment): the next start makes the files private; bob (plain) loses them, carol (privileged) keeps them.
  assert.equal(await serve.stop(), 0);
  await appendFile(path.join(inst.configDir, 'instance.yaml'), '\njira:\n  domain: ${JIRA_DOMAIN}\n  private: true\n');
  serve = await startServe(t, inst.flags, { env });
  const bobPrivate = await manifest('bob');
  assert.deepEqual(attachmentsOf(bobPrivate), []);
  assert.ok(!JSON.stringify(bobPrivate).includes('jira/ADA-1'), 'no trace of the files in bob\'s manifest');
  assert.equal((await get('bob', fileUrl(pdf.path))).status, 403);
  const carolFiles = attachmentsOf(await manifest('carol'));
  assert.equal(carolFiles.length, ATTACHMENTS.length - 1);
  const carolPdf = await get('carol', fileUrl(pdf.path));
  assert.equal(carolPdf.status, 200);
  assert.deepEqual(Buffer.from(await carolPdf.arrayBuffer()), ATTACHMENTS[0]!.bytes);
  const third = await runCli(['pull', '--json', '--server', serve.url, '--dir', bobDir]);
  assert.equal(third.code, 0, third.stderr);
  assert.ok(!(await listFiles(path.join(bobDir, 'server'))).some((p) => p.startsWith('attachments/')), 'bob\'s pull removed the files');
  assert.equal(await serve.stop(), 0);
});
