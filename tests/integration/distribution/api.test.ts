import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile, rm, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { before, after, describe, it } from 'node:test';
import type { TestContext } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { lastValueFrom, toArray } from 'rxjs';
import type { AccessState } from '../../../pipeline/projections/access/index.ts';
import { buildServer } from '../../../portal/index.ts';
import { ConnectorRegistry, loadConfig } from '../../../connectors/index.ts';
import { Broker } from '../../../pipeline/index.ts';
import { distributionDeps } from '../../../ops/distribution-deps.ts';
import { runCli } from '../../helpers/cli.ts';
import { csvInstance } from '../../helpers/instance.ts';
import type { TestInstance } from '../../helpers/instance.ts';

const TABLES = `  - id: csv.shop.orders
    name: orders
    description: Orders
    file: orders.csv
    dataset: sales
  - id: csv.shop.notes
    name: notes
    description: Notes for everyone
    file: notes.csv
  - id: csv.finance.credit
    name: credit
    description: Credit limits
    private: true
    file: credit.csv
`;

interface Manifest { files: Array<{ path: string; size: number; sha256: string; version: number; table?: string }>; tables: Array<{ name: string }> }

describe('distribution API (inject)', () => {
  let inst: TestInstance;
  let broker: Broker;
  let app: FastifyInstance;
  const tokens: Record<string, string> = {};
  const cleanups: Array<() => Promise<void>> = [];
  const get = (url: string, token?: string, headers: Record<string, string> = {}) =>
    app.inject({ method: 'GET', url, headers: { ...headers, ...(token ? { authorization: `Bearer ${token}` } : {}) } });

  before(async () => {
    // The suite shares one instance; its temp dir goes when the suite ends.
    inst = await csvInstance({ after: ((fn: () => Promise<void>) => { cleanups.push(fn); }) as TestContext['after'] }, TABLES, 'datasets:\n  sales:\n    label: Sales\n');
    await inst.writeCsv('orders.csv', 'id,amount\n1,10\n2,20\n');
    await inst.writeCsv('notes.csv', 'id,text\n1,hello\n');
    await inst.writeCsv('credit.csv', 'id,limit\n1,100\n');
    assert.equal((await runCli(['sync', ...inst.flags])).code, 0);
    for (const [name, flags] of [['bob', []], ['carol', ['--private']], ['dave', []]] as const) {
      assert.equal((await runCli(['analyst', 'add', name, ...flags, ...inst.flags])).code, 0);
      tokens[name] = (await runCli(['analyst', 'token', name, ...inst.flags])).stdout.trim();
    }
    assert.equal((await runCli(['analyst', 'subscribe', 'bob', 'sales', ...inst.flags])).code, 0);
    assert.equal((await runCli(['analyst', 'subscribe', 'carol', 'sales', ...inst.flags])).code, 0);
    const config = await loadConfig({ configDir: inst.configDir, env: {} });
    broker = await Broker.open({ config, dataDir: inst.dataDir, connectors: (c) => new ConnectorRegistry(c), eventSource: 'test', logger: { info: () => undefined, warn: () => undefined, error: () => undefined } });
    const accessState = (): Promise<AccessState> => broker.stateOf<AccessState>('access');
    app = await buildServer({
      config: broker.config,
      health: () => Promise.reject(new Error('not used')),
      authenticate: async ({ token }) => (token ? broker.authenticate(token) : undefined),
      distribution: distributionDeps(broker, accessState),
    });
  });

  after(async () => {
    await app?.close();
    await broker?.close();
    for (const c of cleanups.reverse()) await c();
  });

  it('answers 401 without a token and with a wrong one', async () => {
    assert.equal((await get('/api/v1/manifest')).statusCode, 401);
    assert.equal((await get('/api/v1/manifest', 'ada_0000000000000000_nope')).statusCode, 401);
    assert.equal((await get('/api/v1/files/docs/schema.yml')).statusCode, 401);
  });

  it('gives a standard analyst public tables of their datasets, never a private table', async () => {
    const res = await get('/api/v1/manifest', tokens.bob);
    assert.equal(res.statusCode, 200);
    const m = res.json() as Manifest;
    assert.deepEqual(m.tables.map((t) => t.name), ['notes', 'orders']);
    const paths = m.files.map((f) => f.path).sort();
    assert.ok(paths.includes('parquet/shop/orders.parquet'), paths.join(','));
    assert.ok(paths.includes('docs/schema.yml'));
    assert.ok(!JSON.stringify(m).includes('credit'), JSON.stringify(m));
    for (const f of m.files) {
      const body = await get(`/api/v1/files/${f.path}`, tokens.bob);
      assert.equal(body.statusCode, 200, f.path);
      assert.equal(createHash('sha256').update(body.rawPayload).digest('hex'), f.sha256, f.path);
      assert.equal(body.rawPayload.length, f.size);
      assert.ok(!body.rawPayload.toString('latin1').includes('credit'), `${f.path} mentions the private table`);
    }
    const dave = (await get('/api/v1/manifest', tokens.dave)).json() as Manifest;
    assert.deepEqual(dave.tables.map((t) => t.name), ['notes'], 'orders needs the sales subscription');
  });

  it('gives a privileged analyst the private table and its docs', async () => {
    const m = (await get('/api/v1/manifest', tokens.carol)).json() as Manifest;
    assert.deepEqual(m.tables.map((t) => t.name), ['credit', 'notes', 'orders']);
    const schema = m.files.find((f) => f.path === 'docs/schema.yml')!;
    const body = await get('/api/v1/files/docs/schema.yml', tokens.carol);
    assert.equal(createHash('sha256').update(body.rawPayload).digest('hex'), schema.sha256);
    assert.match(body.body, /credit/);
  });

  it('refuses a private file with 403 and records FileAccessDenied', async () => {
    const carol = (await get('/api/v1/manifest', tokens.carol)).json() as Manifest;
    const credit = carol.files.find((f) => f.table === 'credit' && f.path.endsWith('.parquet'))!.path;
    const res = await get(`/api/v1/files/${credit}`, tokens.bob);
    assert.equal(res.statusCode, 403);
    assert.equal((res.json() as { code: string }).code, 'FORBIDDEN');
    const unsubscribed = await get('/api/v1/files/parquet/shop/orders.parquet', tokens.dave);
    assert.equal(unsubscribed.statusCode, 403);
    const denied = (await lastValueFrom(broker.log.read$(1).pipe(toArray()))).flatMap((e) => (e.type === 'FileAccessDenied' ? [e.data] : []));
    assert.deepEqual(denied.slice(0, 2), [
      { name: 'bob', path: credit, reason: 'private' },
      { name: 'dave', path: 'parquet/shop/orders.parquet', reason: 'not-subscribed' },
    ]);
  });

  it('supports ETag/If-None-Match and Range', async () => {
    const m = (await get('/api/v1/manifest', tokens.bob)).json() as Manifest;
    const f = m.files.find((x) => x.path === 'parquet/shop/orders.parquet')!;
    const full = await get(`/api/v1/files/${f.path}`, tokens.bob);
    assert.equal(full.headers.etag, `"${f.sha256}"`);
    assert.equal(full.headers['accept-ranges'], 'bytes');
    const notModified = await get(`/api/v1/files/${f.path}`, tokens.bob, { 'if-none-match': `"${f.sha256}"` });
    assert.equal(notModified.statusCode, 304);
    assert.equal(notModified.rawPayload.length, 0);
    const part = await get(`/api/v1/files/${f.path}`, tokens.bob, { range: 'bytes=4-' });
    assert.equal(part.statusCode, 206);
    assert.equal(part.headers['content-range'], `bytes 4-${f.size - 1}/${f.size}`);
    assert.deepEqual(part.rawPayload, full.rawPayload.subarray(4));
    const middle = await get(`/api/v1/files/${f.path}`, tokens.bob, { range: 'bytes=2-9' });
    assert.deepEqual(middle.rawPayload, full.rawPayload.subarray(2, 10));
    const stale = await get(`/api/v1/files/${f.path}`, tokens.bob, { range: 'bytes=4-', 'if-range': '"0000"' });
    assert.equal(stale.statusCode, 200, 'If-Range with another ETag sends the whole file');
    const beyond = await get(`/api/v1/files/${f.path}`, tokens.bob, { range: `bytes=${f.size}-` });
    assert.equal(beyond.statusCode, 416);
    assert.equal(beyond.headers['content-range'], `bytes */${f.size}`);
  });

  it('makes path traversal impossible: dot segments, encoded dots, absolute paths, symlinks', async () => {
    await inst.writeCsv('secret.txt', 'top secret');
    const attempts = [
      '/api/v1/files/../config/instance.yaml',
      '/api/v1/files/parquet/../../config/instance.yaml',
      '/api/v1/files/parquet/%2e%2e/%2e%2e/config/instance.yaml',
      '/api/v1/files/%2e%2e%2fconfig%2finstance.yaml',
      '/api/v1/files/parquet%2f..%2f..%2fconfig%2finstance.yaml',
      '/api/v1/files//etc/passwd',
      '/api/v1/files/%2fetc%2fpasswd',
      '/api/v1/files/parquet/shop/..%5c..%5cconfig',
      '/api/v1/files/events/00000000000000000001.seg',
      '/api/v1/files/metadata/profiles.json/../../events',
    ];
    for (const url of attempts) {
      const res = await get(url, tokens.carol);
      assert.ok([403, 404].includes(res.statusCode), `${url}: ${res.statusCode}`);
      assert.ok(!res.body.includes('Test shop') && !res.body.includes('root:'), url);
    }
    // A manifest file replaced by a symlink is not followed.
    const target = path.join(inst.dataDir, 'parquet', 'shop', 'notes.parquet');
    const saved = await readFile(target);
    await rm(target);
    await symlink(path.join(inst.csvDir, 'secret.txt'), target);
    try {
      const res = await get('/api/v1/files/parquet/shop/notes.parquet', tokens.carol);
      assert.equal(res.statusCode, 403);
      assert.ok(!res.body.includes('top secret'));
    } finally {
      await rm(target);
      await writeFile(target, saved);
    }
  });
});
