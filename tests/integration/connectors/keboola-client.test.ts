import assert from 'node:assert/strict';
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import type { TestContext } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { hasCode } from '../../../events/index.ts';
import { KeboolaErrorCode } from '../../../connectors/keboola/index.ts';
import { KeboolaClient } from '../../../connectors/keboola/client.ts';
import type { KeboolaClientOptions } from '../../../connectors/keboola/index.ts';
import { redact } from '../../../connectors/keboola/errors.ts';
import { backoffDelay, DEFAULT_JOB_POLL, nextPollDelay, parseRetryAfter } from '../../../connectors/keboola/retry-policy.ts';
import { signS3Get } from '../../../connectors/keboola/s3-signing.ts';
import { FakeKeboola } from '../../fixtures/keboola/fake-keboola.ts';
import type { FakeKeboolaOptions, FakeTable } from '../../fixtures/keboola/fake-keboola.ts';
import { FAST, TOKEN } from '../../fixtures/keboola/keboola-fixtures.ts';
import { tempDir } from '../../helpers/tmp.ts';

const ORDERS: FakeTable = {
  id: 'in.c-shop.orders',
  columns: ['id', 'amount'],
  primaryKey: ['id'],
  metadata: [{ key: 'KBC.description', value: 'Orders of the shop', provider: 'user' }],
  columnMetadata: { amount: [{ key: 'KBC.datatype.basetype', value: 'NUMERIC', provider: 'storage' }] },
  rows: [{ id: '1', amount: '10' }, { id: '2', amount: '20' }, { id: '3', amount: '30' }],
};

async function setup(t: TestContext, fakeOptions: Partial<FakeKeboolaOptions> = {}, clientOptions: Partial<KeboolaClientOptions> = {}) {
  const fake = await FakeKeboola.start({ token: TOKEN, tables: [ORDERS], ...fakeOptions });
  t.after(() => fake.close());
  const client = new KeboolaClient({ stackUrl: fake.url, token: TOKEN, ...FAST, objectStoreEndpoints: fake.objectStoreEndpoints, ...clientOptions });
  return { fake, client };
}

async function rejects(promise: Promise<unknown>, code: string): Promise<Error> {
  try {
    await promise;
  } catch (err) {
    assert.ok(hasCode(err, code), `expected ${code}, got ${(err as { code?: string }).code}: ${(err as Error).message}`);
    assert.ok(!(err as Error).message.includes(TOKEN), 'the token must not appear in error messages');
    return err as Error;
  }
  assert.fail(`expected ${code}, but it resolved`);
}

/** Downloads an export of ORDERS and returns the CSV text of all its files. */
async function exportText(t: TestContext, client: KeboolaClient, params = {}): Promise<{ text: string; files: string[] }> {
  const dir = await tempDir(t, 'kbc-download-');
  const done = await client.exportTable('in.c-shop.orders', params);
  const got = await client.downloadFile(done.fileId, dir);
  const parts = await Promise.all(got.files.map((f) => readFile(f, 'utf8')));
  return { text: parts.join(''), files: got.files };
}

describe('Keboola Storage API client', () => {
  it('verifies the token and lists buckets and tables with columns and metadata (what the init wizard needs)', async (t) => {
    const { fake, client } = await setup(t);
    const token = await client.verifyToken();
    assert.equal(token.owner?.name, 'Fake project');
    assert.deepEqual(token.bucketPermissions, { 'in.c-shop': 'read' });
    const buckets = await client.listBuckets();
    assert.deepEqual(buckets.map((b) => b.id), ['in.c-shop']);
    const tables = await client.listTables();
    assert.equal(tables.length, 1);
    assert.deepEqual(tables[0]!.columns, ['id', 'amount']);
    assert.equal(tables[0]!.metadata?.[0]?.value, 'Orders of the shop');
    assert.equal(fake.requests.find((r) => r.path === '/v2/storage/tables')?.query.include, 'columns,metadata,columnMetadata');
    for (const r of fake.apiRequests()) assert.equal(r.headers['x-storageapi-token'], TOKEN);
    assert.deepEqual(fake.tokenLeaks(), []);
  });

  it('a bad token is KEBOOLA_UNAUTHORIZED and is not retried; a missing table is KEBOOLA_NOT_FOUND', async (t) => {
    const { fake } = await setup(t);
    const bad = new KeboolaClient({ stackUrl: fake.url, token: `${TOKEN}-wrong`, ...FAST });
    const err = await rejects(bad.verifyToken(), KeboolaErrorCode.unauthorized);
    assert.match(err.message, /401/);
    assert.match(err.message, /storage_token/);
    assert.equal(fake.requests.length, 1);
    const client = new KeboolaClient({ stackUrl: fake.url, token: TOKEN, ...FAST });
    const missing = await rejects(client.tableDetail('in.c-shop.nope'), KeboolaErrorCode.notFound);
    assert.match(missing.message, /in\.c-shop\.nope/);
  });

  it('an alias takes its source table\'s column metadata (fetched), plus its own', async (t) => {
    const { fake, client } = await setup(t, {
      tables: [ORDERS, { id: 'out.c-share.orders', aliasOf: 'in.c-shop.orders', columnMetadata: { id: [{ key: 'KBC.description', value: 'Order id', provider: 'user' }] } }],
    });
    const alias = await client.tableWithMetadata('out.c-share.orders');
    assert.equal(alias.detail.isAlias, true);
    assert.equal(alias.source?.id, 'in.c-shop.orders');
    assert.equal(alias.columnMetadata.amount?.[0]?.value, 'NUMERIC');
    assert.equal(alias.columnMetadata.id?.[0]?.value, 'Order id');
    assert.ok(fake.requests.some((r) => r.path === '/v2/storage/tables/in.c-shop.orders'), 'the source table is fetched');
  });

  it('an alias whose source the token cannot read uses the metadata embedded in the alias detail', async (t) => {
    const { client } = await setup(t, { tables: [ORDERS, { id: 'out.c-share.orders', aliasOf: 'in.c-shop.orders', sourceHidden: true }] });
    const alias = await client.tableWithMetadata('out.c-share.orders');
    assert.equal(alias.source, undefined);
    assert.equal(alias.columnMetadata.amount?.[0]?.value, 'NUMERIC');
  });

  it('retries 5xx and dropped connections with backoff, then succeeds', async (t) => {
    const { fake, client } = await setup(t);
    fake.inject({ method: 'GET', path: '/v2/storage/tables/in.c-shop.orders' }, { status: 500 }, { drop: true }, { status: 503 });
    const detail = await client.tableDetail('in.c-shop.orders');
    assert.equal(detail.id, 'in.c-shop.orders');
    assert.equal(fake.requests.filter((r) => r.path === '/v2/storage/tables/in.c-shop.orders').length, 4);
  });

  it('honours Retry-After on 429 (seconds)', async (t) => {
    const { fake, client } = await setup(t);
    fake.inject({ path: '/v2/storage/tokens/verify' }, { status: 429, headers: { 'Retry-After': '1' } });
    const t0 = performance.now();
    await client.verifyToken();
    const waited = performance.now() - t0;
    assert.ok(waited >= 950, `waited ${waited} ms, Retry-After asked for 1 s`);
  });

  it('gives up after the attempts are spent, and at once when Retry-After is past the retry budget', async (t) => {
    const { fake, client } = await setup(t);
    fake.inject({ path: '/v2/storage/buckets' }, ...Array.from({ length: 6 }, () => ({ status: 502 })));
    const err = await rejects(client.listBuckets(), KeboolaErrorCode.unavailable);
    assert.match(err.message, /gave up after 6 attempts/);
    assert.equal(fake.requests.filter((r) => r.path === '/v2/storage/buckets').length, 6);

    fake.inject({ path: '/v2/storage/buckets' }, { status: 503, headers: { 'Retry-After': '3600' }, body: '{"status":"maintenance","reason":"The system is down for maintenance"}' });
    const t0 = performance.now();
    const late = await rejects(client.listBuckets(), KeboolaErrorCode.unavailable);
    assert.ok(performance.now() - t0 < 1000);
    assert.match(late.message, /retry after 60 min/);
  });

  it('a failed job fails with KEBOOLA_JOB_FAILED and Keboola\'s message', async (t) => {
    const { fake, client } = await setup(t);
    fake.failNextJob('in.c-shop.orders', 'Snowflake: warehouse KEBOOLA_PROD is suspended');
    const err = await rejects(client.exportTable('in.c-shop.orders', {}), KeboolaErrorCode.jobFailed);
    assert.match(err.message, /warehouse KEBOOLA_PROD is suspended/);
  });

  it('polls a slow job until it succeeds, and times out a job that never ends', async (t) => {
    const { fake, client } = await setup(t);
    fake.slowNextJob('in.c-shop.orders', 6);
    const done = await client.exportTable('in.c-shop.orders', {});
    assert.ok(done.fileId);
    assert.equal(fake.requests.filter((r) => r.path === `/v2/storage/jobs/${done.job.id}`).length, 7);

    const impatient = new KeboolaClient({ stackUrl: fake.url, token: TOKEN, ...FAST, jobPoll: { ...FAST.jobPoll, maxWaitMs: 30 } });
    fake.slowNextJob('in.c-shop.orders', 1_000_000);
    const err = await rejects(impatient.exportTable('in.c-shop.orders', {}), KeboolaErrorCode.jobTimeout);
    assert.match(err.message, /still processing/);
  });

  it('aborting the signal stops polling at once with CANCELLED', async (t) => {
    const { fake } = await setup(t);
    const client = new KeboolaClient({ stackUrl: fake.url, token: TOKEN, ...FAST, jobPoll: { ...FAST.jobPoll, initialDelayMs: 60_000, maxDelayMs: 60_000, maxWaitMs: 3_600_000 } });
    fake.slowNextJob('in.c-shop.orders', 1_000_000);
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    const t0 = performance.now();
    await rejects(client.exportTable('in.c-shop.orders', {}, controller.signal), KeboolaErrorCode.cancelled);
    assert.ok(performance.now() - t0 < 2000);
  });

  it('asks for Parquet, falls back to gzip CSV when the stack refuses it, and then asks CSV straight away', async (t) => {
    const { fake, client } = await setup(t, { parquet: false });
    const first = await client.exportTable('in.c-shop.orders', {});
    assert.equal(first.requested, 'csv');
    assert.equal(client.exportFormat, 'csv');
    await client.exportTable('in.c-shop.orders', {});
    const bodies = fake.requests.filter((r) => r.path.endsWith('/export-async')).map((r) => r.body as Record<string, unknown>);
    assert.deepEqual(bodies.map((b) => b.fileType ?? 'csv'), ['parquet', 'csv', 'csv']);
    assert.deepEqual(bodies.slice(1).map((b) => b.gzip), [true, true]);
  });

  it('a request refused as CSV too is the request\'s fault: Parquet is asked again next time', async (t) => {
    const { fake, client } = await setup(t);
    await rejects(client.exportTable('in.c-shop.orders', { columns: 'id,nope' }), KeboolaErrorCode.requestFailed);
    assert.equal(client.exportFormat, 'parquet');
    await client.exportTable('in.c-shop.orders', {});
    const types = fake.requests.filter((r) => r.path.endsWith('/export-async')).map((r) => (r.body as { fileType?: string }).fileType ?? 'csv');
    assert.deepEqual(types, ['parquet', 'csv', 'parquet']);
  });

  it('downloads sliced gzip CSV to disk, inflated, one file per slice, without a header', async (t) => {
    const { fake, client } = await setup(t, {}, { exportFormat: 'csv' });
    const { text, files } = await exportText(t, client);
    assert.equal(files.length, 2);
    assert.equal(text, '"1","10"\n"2","20"\n"3","30"\n');
    const slices = fake.downloadRequests().filter((r) => r.path.includes('/part/'));
    assert.equal(slices.length, 2);
    for (const r of fake.downloadRequests()) assert.equal(r.headers['x-storageapi-token'], undefined, 'the token never goes to the object store');
  });

  it('a single (non-sliced) CSV keeps its header and says so', async (t) => {
    const { client } = await setup(t, { rowsPerSlice: 0 }, { exportFormat: 'csv' });
    const dir = await tempDir(t, 'kbc-download-');
    const done = await client.exportTable('in.c-shop.orders', {});
    const got = await client.downloadFile(done.fileId, dir);
    assert.equal(got.header, true);
    assert.equal(got.sliced, false);
    assert.equal(await readFile(got.files[0]!, 'utf8'), '"id","amount"\n"1","10"\n"2","20"\n"3","30"\n');
  });

  for (const style of ['s3', 'gs', 'azure'] as const) {
    it(`downloads ${style}:// slices with the file's ${style === 's3' ? 'SigV4-signed credentials' : style === 'gs' ? 'OAuth token' : 'SAS'}`, async (t) => {
      const { fake, client } = await setup(t, { sliceUrls: style }, { exportFormat: 'csv' });
      const { text } = await exportText(t, client);
      assert.equal(text, '"1","10"\n"2","20"\n"3","30"\n');
      const prefix = style === 'gs' ? '/gcs/' : `/${style}/`;
      assert.equal(fake.downloadRequests().filter((r) => r.path.startsWith(prefix)).length, 2);
    });
  }

  it('a truncated slice (Content-Length larger than the body, connection closed) is retried, not accepted', async (t) => {
    const { fake, client } = await setup(t, {}, { exportFormat: 'csv' });
    fake.inject({ path: /\/part\/0$/ }, { truncate: 0.5 });
    const { text } = await exportText(t, client);
    assert.equal(text, '"1","10"\n"2","20"\n"3","30"\n');
    assert.equal(fake.requests.filter((r) => /\/part\/0$/.test(r.path)).length, 2);
  });

  it('a cut gzip stream with a matching Content-Length is detected by gunzip and retried', async (t) => {
    const { fake, client } = await setup(t, {}, { exportFormat: 'csv' });
    fake.inject({ path: /\/part\/1$/ }, { corruptGzip: true });
    const { text } = await exportText(t, client);
    assert.equal(text, '"1","10"\n"2","20"\n"3","30"\n');
  });

  it('a stalled download is aborted after the stall timeout and retried', async (t) => {
    const { fake, client } = await setup(t, {}, { exportFormat: 'csv', stallTimeoutMs: 150 });
    fake.inject({ path: /\/part\/0$/ }, { stall: 0.3 });
    const { text } = await exportText(t, client);
    assert.equal(text, '"1","10"\n"2","20"\n"3","30"\n');
  });

  it('retries a 500 from the object store and from the manifest', async (t) => {
    const { fake, client } = await setup(t, {}, { exportFormat: 'csv' });
    fake.inject({ path: /\/manifest$/ }, { status: 500 });
    fake.inject({ path: /\/part\/1$/ }, { status: 503 }, { drop: true });
    const { text } = await exportText(t, client);
    assert.equal(text, '"1","10"\n"2","20"\n"3","30"\n');
  });

  it('an expired URL (403 like S3) is refreshed by asking for the file detail again', async (t) => {
    const { fake, client } = await setup(t, {}, { exportFormat: 'csv' });
    fake.inject({ path: /\/part\/0$/ }, { expired: true });
    const { text } = await exportText(t, client);
    assert.equal(text, '"1","10"\n"2","20"\n"3","30"\n');
    assert.equal(fake.requests.filter((r) => /^\/v2\/storage\/files\/\d+$/.test(r.path)).length, 2);
    assert.ok(fake.requests.filter((r) => /^\/v2\/storage\/files\//.test(r.path)).every((r) => r.query.federationToken === '1'));
  });

  for (const style of ['https', 's3', 'gs', 'azure'] as const) {
    it(`URLs that keep expiring (${style}) fail after a bounded number of refreshes`, async (t) => {
      const { fake, client } = await setup(t, { sliceUrls: style, urlTtlMs: 0 }, { exportFormat: 'csv', maxUrlRefreshes: 2 });
      const done = await client.exportTable('in.c-shop.orders', {});
      const dir = await tempDir(t, 'kbc-download-');
      const err = await rejects(client.downloadFile(done.fileId, dir), KeboolaErrorCode.downloadFailed);
      assert.match(err.message, /kept being refused after 2 fresh file details/);
      assert.equal(fake.requests.filter((r) => /^\/v2\/storage\/files\/\d+$/.test(r.path)).length, 3);
      assert.ok(!/sig=|X-Amz-Signature|access_token/.test(err.message), 'no signature in the message');
      assert.deepEqual((await readdir(dir)).filter((f) => !f.endsWith('.part')), []);
    });
  }

  it('Parquet exports arrive as Parquet files', async (t) => {
    const { client } = await setup(t);
    const dir = await tempDir(t, 'kbc-download-');
    const done = await client.exportTable('in.c-shop.orders', {});
    assert.equal(done.requested, 'parquet');
    const got = await client.downloadFile(done.fileId, dir);
    assert.equal(got.format, 'parquet');
    assert.ok(got.files.every((f) => f.endsWith('.parquet')));
    assert.equal((await readFile(got.files[0]!)).subarray(0, 4).toString(), 'PAR1');
  });

  it('sends export parameters as JSON: changedSince, columns, whereFilters', async (t) => {
    const { fake, client } = await setup(t, {}, { exportFormat: 'csv' });
    const { text } = await exportText(t, client, { changedSince: '2026-01-01T00:00:00+00:00', columns: 'id', whereFilters: [{ column: 'amount', operator: 'ge', values: ['20'], dataType: 'DOUBLE' }] });
    assert.equal(text, '"2"\n"3"\n');
    assert.deepEqual(fake.exports[0]!.params, {
      changedSince: '2026-01-01T00:00:00+00:00', columns: 'id', whereFilters: [{ column: 'amount', operator: 'ge', values: ['20'], dataType: 'DOUBLE' }], gzip: true,
    });
    assert.equal(fake.requests.find((r) => r.path.endsWith('/export-async'))?.headers['content-type'], 'application/json');
  });
});

describe('Keboola client parts', () => {
  it('Retry-After: delta seconds, HTTP dates, garbage', () => {
    const now = Date.parse('2026-03-15T10:00:00Z');
    assert.equal(parseRetryAfter('120', now), 120_000);
    assert.equal(parseRetryAfter('1.5', now), 1500);
    assert.equal(parseRetryAfter('Sun, 15 Mar 2026 10:00:30 GMT', now), 30_000);
    assert.equal(parseRetryAfter('Sun, 15 Mar 2026 09:00:00 GMT', now), 0);
    assert.equal(parseRetryAfter('soon', now), undefined);
    assert.equal(parseRetryAfter(null, now), undefined);
  });

  it('backoff is full jitter under an exponential cap', () => {
    const policy = { maxAttempts: 6, baseDelayMs: 100, maxDelayMs: 1000, maxTotalMs: 10_000 };
    assert.equal(backoffDelay(1, policy, () => 0.999999), 99);
    assert.equal(backoffDelay(3, policy, () => 0.5), 200);
    assert.equal(backoffDelay(10, policy, () => 0.999999), 999);
    assert.equal(backoffDelay(4, policy, () => 0), 0);
  });

  it('job polls start at 20 ms, double while short, then grow by half up to 10 s', () => {
    const waits = [DEFAULT_JOB_POLL.initialDelayMs];
    while (waits.length < 16) waits.push(nextPollDelay(waits.at(-1) as number, DEFAULT_JOB_POLL));
    assert.deepEqual(waits.slice(0, 6), [20, 40, 80, 160, 240, 360]);
    assert.deepEqual(waits.slice(-2), [10_000, 10_000]);
  });

  it('signs S3 GETs as AWS documents (Signature Version 4 example "GET Object")', () => {
    const headers = signS3Get(new URL('https://examplebucket.s3.amazonaws.com/test.txt'),
      { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' }, 'us-east-1', new Date('2013-05-24T00:00:00Z'), { Range: 'bytes=0-9' });
    assert.equal(headers.authorization, 'AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, '
      + 'SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41');
  });

  it('redacts the token and URL signatures from messages', () => {
    const text = redact(`token ${TOKEN} failed at https://s3.amazonaws.com/b/k.csv.gz?X-Amz-Signature=abc&X-Amz-Credential=xyz and gs://b/k`, [TOKEN]);
    assert.equal(text, 'token *** failed at https://s3.amazonaws.com/b/k.csv.gz?… and gs://b/k');
  });

  it('the fake serves gzip slices that really are gzip', async (t) => {
    const fake = await FakeKeboola.start({ token: TOKEN, tables: [ORDERS] });
    t.after(() => fake.close());
    const client = new KeboolaClient({ stackUrl: fake.url, token: TOKEN, ...FAST, exportFormat: 'csv' });
    const done = await client.exportTable('in.c-shop.orders', {});
    const file = await client.fileDetail(done.fileId);
    const manifest = await client.manifest(file);
    const res = await fetch(manifest.entries[0]!.url);
    assert.equal(gunzipSync(Buffer.from(await res.arrayBuffer())).toString(), '"1","10"\n"2","20"\n');
    assert.equal(path.basename(file.name), 'orders.csv.gz');
  });
});
