import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { lastValueFrom, toArray } from 'rxjs';
import type { ConnectorEvent, SyncRequest } from '../../../pipeline/index.ts';
import { DuckDbRuns } from '../../../pipeline/index.ts';

/** What run$ reads of a request: its signal (the rest belongs to the connector's body). */
const request = (): SyncRequest => ({ signal: new AbortController().signal } as unknown as SyncRequest);

/** Runs one body that reports, as a progress message, a value the connection's settings and instance options decide. */
async function runOnce(runs: DuckDbRuns): Promise<string | undefined> {
  const events = await lastValueFrom(runs.run$(request(), async (connection, _signal, emit) => {
    const rows = (await connection.runAndReadAll(`SELECT current_setting('TimeZone') || ' ' || current_setting('threads')`)).getRows();
    emit({ kind: 'progress', message: String(rows[0]![0]) });
  }).pipe(toArray()));
  return (events[0] as Extract<ConnectorEvent, { kind: 'progress' }> | undefined)?.message;
}

describe('DuckDbRuns', () => {
  it('runs on the instance prepare started, with its options and each connection\'s settings', async () => {
    const runs = new DuckDbRuns('test', ["SET TimeZone = 'UTC'"], { threads: '1' });
    runs.prepare();
    runs.prepare();
    assert.equal(await runOnce(runs), 'UTC 1');
    assert.equal(await runOnce(runs), 'UTC 1');
    await runs.close();
    await assert.rejects(runOnce(runs), { code: 'CLOSED' });
  });

  it('closes a prepared instance no run used, and prepares nothing once closed', async () => {
    const runs = new DuckDbRuns('test', []);
    runs.prepare();
    await runs.close();
    runs.prepare();
    await assert.rejects(runOnce(runs), { code: 'CLOSED' });
  });

  it('fails the run that needed an instance prepare could not open, and still closes', async () => {
    const runs = new DuckDbRuns('test', [], { memory_limit: 'a lot' });
    runs.prepare();
    await assert.rejects(runOnce(runs), /Failed to set config/);
    await runs.close();
  });
});
