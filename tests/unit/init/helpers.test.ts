import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseDotenv } from '../../../config/index.ts';
import { extractFencedYamlBlocks } from '../../../config/fenced-yaml-blocks.ts';
import { parseBuckets, parseDomain, parseSource } from '../../../ops/init/answers.ts';
import {
  appendToDescription, assignFolders, assignNames, describedInMarkdown, folderForBucket, LARGE_TABLE_BYTES, renderDescription, sqlName, suggestStrategy,
} from '../../../ops/init/data-description.ts';
import { dotenvValue, isIgnored, literal, mergeDotenv } from '../../../ops/init/instance-files.ts';
import type { ProjectTable } from '../../../ops/init/project.ts';

const table = (id: string, extra: Partial<ProjectTable> = {}): ProjectTable => ({
  id, bucket: id.slice(0, id.lastIndexOf('.')), tableName: id.slice(id.lastIndexOf('.') + 1), primaryKey: [], columns: [], ...extra,
});

describe('ada init helpers', () => {
  it('folders drop the stage prefix and stay safe and distinct', () => {
    assert.equal(folderForBucket('in.c-shop'), 'shop');
    assert.equal(folderForBucket('out.c-Sales Reports'), 'Sales_Reports');
    assert.equal(folderForBucket('in.c-..'), 'bucket');
    assert.deepEqual(assignFolders(['out.c-shop', 'in.c-shop', 'in.c-crm']), { 'in.c-crm': 'crm', 'in.c-shop': 'shop', 'out.c-shop': 'out-shop' });
    assert.deepEqual(assignFolders(['in.c-shop', 'in.c-crm'], { 'in.c-crm': 'sales', 'in.c-x': 'shop' }), { 'in.c-shop': 'in-shop' });
  });

  it('names are SQL-friendly and unique, prefixed with the folder only where two buckets share a name', () => {
    assert.equal(sqlName('order-lines'), 'order_lines');
    assert.equal(sqlName('2024 report'), 't_2024_report');
    const named = assignNames([table('in.c-shop.customers'), table('in.c-crm.customers'), table('in.c-shop.orders')], folderForBucket, ['Orders']);
    assert.deepEqual(named.map((n) => n.name), ['shop_customers', 'crm_customers', 'shop_orders']);
    assert.deepEqual(assignNames([table('in.c-a.x'), table('in.c-b.x')], () => 'same').map((n) => n.name), ['same_x', 'same_x_2']);
  });

  it('suggests incremental from 1,000,000 rows or 100 MB, and only with a primary key', () => {
    assert.equal(suggestStrategy({ primaryKey: ['id'], rowsCount: 999_999, dataSizeBytes: LARGE_TABLE_BYTES - 1 }).strategy, 'full_refresh');
    assert.equal(suggestStrategy({ primaryKey: ['id'], rowsCount: 1_000_000 }).strategy, 'incremental');
    assert.equal(suggestStrategy({ primaryKey: ['id'], dataSizeBytes: LARGE_TABLE_BYTES }).strategy, 'incremental');
    assert.equal(suggestStrategy({ primaryKey: [], rowsCount: 50_000_000 }).strategy, 'full_refresh');
  });

  it('a description with a fence or line breaks cannot break out of its yaml block', () => {
    const text = renderDescription({
      instanceName: 'X', sourceLabel: 'test', date: '2026-01-01', folderMapping: { 'in.c-a': 'a' }, buckets: [],
      tables: [{ name: 'evil', table: table('in.c-a.evil', { description: 'line one\n```\n## not a heading', columns: [{ name: 'c', description: '```' }] }) }],
    });
    const { blocks, problems } = extractFencedYamlBlocks(text);
    assert.deepEqual(problems, []);
    assert.equal(blocks.length, 2);
    assert.deepEqual([...describedInMarkdown(text).ids], ['in.c-a.evil']);
  });

  it('appending keeps the existing text as a prefix', () => {
    assert.equal(appendToDescription('a\n', '\nb\n'), 'a\n\nb\n');
    assert.equal(appendToDescription('a', '\nb\n'), 'a\n\nb\n');
  });

  it('.env values round-trip through the loader, and merging keeps other lines', () => {
    for (const value of ['plain-0123_abc', 'with space', "it's", 'multi\nline "q" $x \\', '']) {
      assert.equal(parseDotenv(`K=${dotenvValue(value)}\n`).values.K, value, JSON.stringify(value));
    }
    const merged = mergeDotenv('# c\nexport A=1\nB=2\nA=3\n', { A: 'new', C: 'x' });
    assert.equal(merged, '# c\nA=new\nB=2\n\nC=x\n');
  });

  it('instance.yaml literals escape placeholders', () => {
    assert.equal(literal('Acme ${X}'), '"Acme $${X}"');
  });

  it('knows when .gitignore rules already ignore .env', () => {
    assert.equal(isIgnored('.env\n', 'config/.env'), true);
    assert.equal(isIgnored('/.env\n', 'config/.env'), false);
    assert.equal(isIgnored('config/.env\n', 'config/.env'), true);
    assert.equal(isIgnored('*.env\n', 'config/.env'), true);
    assert.equal(isIgnored('.env*\n!.env\n', 'config/.env'), false);
    assert.equal(isIgnored('config/\n', 'config/.env'), true);
    assert.equal(isIgnored('**/.env\n', 'a/b/.env'), true);
    assert.equal(isIgnored('# .env\nnode_modules/\n', '.env'), false);
  });

  it('checks answers without repeating them', () => {
    assert.deepEqual(parseDomain('@ACME.com '), { value: 'acme.com' });
    const secret = '4242-987654-SecretValue';
    for (const parsed of [parseDomain(secret), parseSource(secret, ['keboola', 'csv'])]) {
      assert.ok('problem' in parsed && !parsed.problem.includes(secret), JSON.stringify(parsed));
    }
    assert.deepEqual(parseSource(' CSV', ['keboola', 'csv']), { value: 'csv' });
    assert.match((parseSource('bigquery', ['keboola', 'csv']) as { problem: string }).problem, /sets up keboola or csv; for bigquery write instance.yaml by hand/);
    const buckets = [{ id: 'in.c-crm', tables: 1 }, { id: 'in.c-shop', tables: 2 }, { id: 'out.c-shop', tables: 1 }];
    assert.deepEqual(parseBuckets('', buckets, 'all'), { value: ['in.c-crm', 'in.c-shop', 'out.c-shop'] });
    assert.deepEqual(parseBuckets('2, crm, out.c-shop', buckets, 'all'), { value: ['in.c-shop', 'in.c-crm', 'out.c-shop'] });
    assert.ok('problem' in parseBuckets('shop', buckets, 'all'), 'ambiguous short name');
    assert.deepEqual(parseBuckets('', buckets, 'none'), { value: [] });
  });
});
