import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it } from 'node:test';
import { CheckpointStore, EventLog } from '../../../events/index.ts';
import type { NewEvent } from '../../../events/index.ts';
import { defineProjector, defineReactor, ProjectionRunner } from '../../../pipeline/index.ts';
import { timerEvent } from '../../helpers/events.ts';
import { tempDir } from '../../helpers/tmp.ts';

const started = (n: number): NewEvent => ({ type: 'SyncStarted', v: 1, data: { runId: `run-${n}`, table: 't', source: 'csv', strategy: 'full', trigger: 'manual' } });

/** Positions of the SyncStarted events it was given, in its checkpointed state. */
const runs = defineProjector({
  name: 'runs',
  version: 1,
  handles: ['SyncStarted'],
  initialState: (): { seen: number[] } => ({ seen: [] }),
  evolve: (state, e) => ({ seen: [...state.seen, e.position] }),
});

describe('projection runner', () => {
  it('folds only the handled events and checkpoints past the unhandled ones after them', async (t) => {
    const dir = await tempDir(t);
    const log = await EventLog.open(path.join(dir, 'events'), { logger: { warn: () => undefined } });
    const checkpoints = new CheckpointStore(path.join(dir, 'checkpoints'));
    for (let i = 1; i <= 8; i++) await log.append(i % 3 === 0 ? started(i) : timerEvent(i));
    const runner = new ProjectionRunner(log, checkpoints, dir);
    assert.equal(await runner.catchUp(runs), 8);
    assert.equal(runner.positionOf('runs'), 8);
    assert.deepEqual(runner.stateOf(runs).seen, [3, 6]);
    assert.equal((await checkpoints.load('runs'))?.position, 8);
    // A new runner resumes from the checkpoint: only later events are folded.
    await log.append(started(9));
    await log.append(timerEvent(10));
    const again = new ProjectionRunner(log, checkpoints, dir);
    assert.equal(await again.catchUp(runs), 10);
    assert.deepEqual(again.stateOf(runs).seen, [3, 6, 9]);
    assert.equal((await checkpoints.load<{ seen: number[] }>('runs'))?.state?.seen.length, 3);
    await log.close();
  });

  it('saves a reactor\'s checkpoint at most once per checkpointEveryMs, and the skipped one when asked', async (t) => {
    const dir = await tempDir(t);
    const log = await EventLog.open(path.join(dir, 'events'), { logger: { warn: () => undefined } });
    const checkpoints = new CheckpointStore(path.join(dir, 'checkpoints'));
    const sunk: number[] = [];
    const reactor = defineReactor({
      name: 'lazy', version: 1, handles: ['SyncStarted'], persistState: false, checkpointEveryMs: 3_600_000,
      initialState: (): { at: number[] } => ({ at: [] }),
      evolve: (state, e) => ({ at: [...state.at, e.position] }),
      sink: async (state) => {
        sunk.push(...state.at);
        return { at: [] };
      },
    });
    const runner = new ProjectionRunner(log, checkpoints, dir);
    await log.append(started(1));
    assert.equal(await runner.catchUp(reactor), 1);
    assert.equal((await checkpoints.load('lazy'))?.position, 1, 'the first flush saves');
    await log.append(started(2));
    await log.append(started(3));
    assert.equal(await runner.catchUp(reactor), 3);
    assert.deepEqual(sunk, [1, 2, 3], 'every flush runs the sink');
    assert.equal(runner.positionOf('lazy'), 3);
    assert.equal((await checkpoints.load('lazy'))?.position, 1, 'within the interval the checkpoint is not saved');
    await runner.saveCheckpoints();
    assert.equal((await checkpoints.load('lazy'))?.position, 3, 'saveCheckpoints saves the skipped one');
    // A projector keeps its state in the checkpoint: the option does not apply to it.
    const projector = defineProjector({ ...runs, name: 'eager', checkpointEveryMs: 3_600_000 });
    await runner.catchUp(projector);
    await log.append(started(4));
    await runner.catchUp(projector);
    assert.equal((await checkpoints.load('eager'))?.position, 4);
    await log.close();
  });
});
