import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PROFILER_VERSION, profileInputsHash, reusableComputation } from '../../../pipeline/projections/profiler/profile-inputs.ts';
import type { ProfileJob, TableProfile } from '../../../pipeline/projections/profiler/types.ts';

const files = [{ path: 'parquet/shop/orders.parquet', rows: 5, bytes: 100, sha256: 'a'.repeat(64) }];
const job: Omit<ProfileJob, 'files'> = { table: 'orders', schema: [{ name: 'id', type: 'BIGINT' }], primaryKey: ['id'], sampleThreshold: 10, sampleSize: 10, seed: 42 };

describe('profile inputs hash', () => {
  it('changes with the files, the profiler version and every setting of the computation', () => {
    const base = profileInputsHash(files, job);
    assert.equal(profileInputsHash(files, { ...job }), base, 'a function of its inputs');
    assert.equal(profileInputsHash(files, job, PROFILER_VERSION), base);
    const variants = [
      profileInputsHash([{ ...files[0]!, sha256: 'b'.repeat(64) }], job),
      profileInputsHash([{ ...files[0]!, path: 'parquet/shop/other.parquet' }], job),
      profileInputsHash([...files, { ...files[0]!, path: 'parquet/shop/orders/2024_01.parquet' }], job),
      profileInputsHash(files, job, PROFILER_VERSION + 1),
      profileInputsHash(files, { ...job, sampleThreshold: 11 }),
      profileInputsHash(files, { ...job, sampleSize: 9 }),
      profileInputsHash(files, { ...job, seed: 7 }),
      profileInputsHash(files, { ...job, primaryKey: [] }),
      profileInputsHash(files, { ...job, dateColumn: 'ts' }),
      profileInputsHash(files, { ...job, schema: [{ name: 'id', type: 'VARCHAR' }] }),
    ];
    assert.equal(new Set([base, ...variants]).size, variants.length + 1);
  });

  it('reuses only a fresh profile of the same inputs that has every computed field', () => {
    const hash = profileInputsHash(files, job);
    const profile = {
      table: 'orders', inputs_hash: hash, stale: false, row_count: 5, column_count: 1, sampled: false, sample_size: 5, avg_completeness: 100,
      missing_cells: 0, duplicate_primary_keys: 0, null_primary_keys: 0, date_range: null, sample_rows: [], columns: [],
    } as unknown as TableProfile;
    assert.deepEqual(reusableComputation(profile, hash), {
      row_count: 5, column_count: 1, sampled: false, sample_size: 5, avg_completeness: 100, missing_cells: 0,
      duplicate_primary_keys: 0, null_primary_keys: 0, date_range: null, sample_rows: [], columns: [],
    });
    assert.equal(reusableComputation(profile, profileInputsHash(files, { ...job, seed: 1 })), undefined, 'other inputs');
    assert.equal(reusableComputation({ ...profile, stale: true }, hash), undefined, 'stale');
    assert.equal(reusableComputation({ ...profile, inputs_hash: undefined }, hash), undefined, 'written before inputs were hashed');
    const { missing_cells: _m, ...partial } = profile;
    assert.equal(reusableComputation(partial as TableProfile, hash), undefined, 'a computed field missing');
    assert.equal(reusableComputation({ ...profile, columns: 'x' } as unknown as TableProfile, hash), undefined, 'damaged');
    assert.equal(reusableComputation(undefined, hash), undefined);
  });
});
