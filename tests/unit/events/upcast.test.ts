import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { lastValueFrom, toArray } from 'rxjs';
import { EventLog, EventLogReader, upcast } from '../../../events/index.ts';
import type { NewEvent, UpcasterRegistry } from '../../../events/index.ts';
import { tempDir } from '../../helpers/tmp.ts';

// A past version of SyncFailed whose error was a plain string.
const registry: UpcasterRegistry = {
  SyncFailed: {
    0: (data) => {
      const d = data as { runId: string; table: string; error: string };
      return { ...d, error: { code: 'UNKNOWN', message: d.error }, durationMs: 0 };
    },
  },
};

describe('upcasting', () => {
  it('upgrades old versions step by step and leaves current ones alone', () => {
    const old = upcast({ type: 'SyncFailed', v: 0, data: { runId: 'r1', table: 't', error: 'boom' } }, registry);
    assert.deepEqual(old, { type: 'SyncFailed', v: 1, data: { runId: 'r1', table: 't', error: { code: 'UNKNOWN', message: 'boom' }, durationMs: 0 } });
    const current = { type: 'SyncFailed', v: 1, data: { runId: 'r1', table: 't', error: { code: 'X', message: 'y' }, durationMs: 1 } };
    assert.deepEqual(upcast(current, registry), current);
    assert.deepEqual(upcast({ type: 'TimerFired', v: 1, data: { a: 1 } }, registry), { type: 'TimerFired', v: 1, data: { a: 1 } });
  });

  it('readers return upcast events while the log keeps the stored version', async (t) => {
    const dir = await tempDir(t);
    const log = await EventLog.open(dir, { logger: { warn: () => undefined }, upcasters: registry });
    await log.append({ type: 'SyncFailed', v: 0, data: { runId: 'r1', table: 't', error: 'boom' } } as unknown as NewEvent);
    const [viaWriter] = await lastValueFrom(log.read$(1).pipe(toArray()));
    assert.equal(viaWriter!.v, 1);
    assert.deepEqual(viaWriter!.type === 'SyncFailed' && viaWriter!.data.error, { code: 'UNKNOWN', message: 'boom' });
    assert.equal(viaWriter!.position, 1);
    await log.close();
    const [raw] = await lastValueFrom(new EventLogReader(dir).read$(1).pipe(toArray()));
    assert.equal(raw!.v, 0, 'without the upcaster the stored version is read as is');
    const [upcastByReader] = await lastValueFrom(new EventLogReader(dir, { upcasters: registry }).read$(1).pipe(toArray()));
    assert.equal(upcastByReader!.v, 1);
  });
});
