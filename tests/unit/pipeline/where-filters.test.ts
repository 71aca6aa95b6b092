import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { quoteIdentifier, quoteLiteral, resolvePlaceholder, whereFiltersToSql } from '../../../pipeline/sql/where-filters.ts';

const now = new Date('2026-03-31T23:30:00Z');

describe('resolvePlaceholder', () => {
  it('resolves every placeholder to a UTC ISO date relative to now', () => {
    assert.equal(resolvePlaceholder('{{today}}', now), '2026-03-31');
    assert.equal(resolvePlaceholder('{{last_week}}', now), '2026-03-24');
    assert.equal(resolvePlaceholder('{{last_month}}', now), '2026-02-28');
    assert.equal(resolvePlaceholder('{{last_3_months}}', now), '2025-12-31');
    assert.equal(resolvePlaceholder('{{last_6_months}}', now), '2025-09-30');
    assert.equal(resolvePlaceholder('{{last_year}}', now), '2025-03-31');
    assert.equal(resolvePlaceholder('{{last_2_years}}', now), '2024-03-31');
  });

  it('uses the UTC date, not the local one', () => {
    assert.equal(resolvePlaceholder('{{today}}', new Date('2026-01-01T00:30:00+02:00')), '2025-12-31');
  });

  it('clamps to the end of a shorter month and handles leap days', () => {
    assert.equal(resolvePlaceholder('{{last_year}}', new Date('2024-02-29T12:00:00Z')), '2023-02-28');
    assert.equal(resolvePlaceholder('{{last_month}}', new Date('2024-03-30T12:00:00Z')), '2024-02-29');
    assert.equal(resolvePlaceholder('{{last_week}}', new Date('2026-01-03T12:00:00Z')), '2025-12-27');
  });

  it('replaces placeholders inside a longer value and leaves plain values alone', () => {
    assert.equal(resolvePlaceholder('{{ today }} 00:00:00', now), '2026-03-31 00:00:00');
    assert.equal(resolvePlaceholder('shipped', now), 'shipped');
  });

  it('rejects an unknown placeholder with CONFIG_INVALID', () => {
    assert.throws(() => resolvePlaceholder('{{yesterday}}', now), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'CONFIG_INVALID');
      assert.match(err.message, /\{\{yesterday\}\}/);
      return true;
    });
  });
});

describe('whereFiltersToSql', () => {
  it('is TRUE for no filters', () => {
    assert.equal(whereFiltersToSql([], now), 'TRUE');
  });

  it('uses = and IN for eq, <> and NOT IN for ne', () => {
    assert.equal(whereFiltersToSql([{ column: 'status', operator: 'eq', values: ['open'] }], now), `("status" = 'open')`);
    assert.equal(whereFiltersToSql([{ column: 'status', operator: 'eq', values: ['open', 'closed'] }], now), `("status" IN ('open', 'closed'))`);
    assert.equal(whereFiltersToSql([{ column: 'status', operator: 'ne', values: ['open'] }], now), `("status" <> 'open')`);
    assert.equal(whereFiltersToSql([{ column: 'status', operator: 'ne', values: ['a', 'b'] }], now), `("status" NOT IN ('a', 'b'))`);
  });

  it('compares with the first value for gt/ge/lt/le and ANDs filters', () => {
    const sql = whereFiltersToSql([
      { column: 'amount', operator: 'gt', values: ['10', '99'] },
      { column: 'amount', operator: 'le', values: ['100'] },
      { column: 'day', operator: 'ge', values: ['{{last_week}}'] },
      { column: 'day', operator: 'lt', values: ['{{today}}'] },
    ], now);
    assert.equal(sql, `("amount" > '10') AND ("amount" <= '100') AND ("day" >= '2026-03-24') AND ("day" < '2026-03-31')`);
  });

  it('escapes quotes in identifiers and values', () => {
    assert.equal(whereFiltersToSql([{ column: 'we"ird', operator: 'eq', values: ["O'Brien"] }], now), `("we""ird" = 'O''Brien')`);
    assert.equal(quoteIdentifier('a"b'), '"a""b"');
    assert.equal(quoteLiteral("'; DROP TABLE x; --"), "'''; DROP TABLE x; --'");
  });

  it('handles empty value lists: eq matches nothing, ne everything, a comparison is an error', () => {
    assert.equal(whereFiltersToSql([{ column: 'a', operator: 'eq', values: [] }], now), '(FALSE)');
    assert.equal(whereFiltersToSql([{ column: 'a', operator: 'ne', values: [] }], now), '(TRUE)');
    assert.throws(() => whereFiltersToSql([{ column: 'a', operator: 'gt', values: [] }], now), { code: 'CONFIG_INVALID' });
  });
});
