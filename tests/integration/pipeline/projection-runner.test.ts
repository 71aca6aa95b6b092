import assert from 'node:assert/strict';
import { readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import type { TestContext } from 'node:test';
import { CheckpointStore, EventLog, writeFileIfChanged } from '../../../events/index.ts';
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

/** A log and a checkpoint store in a fresh temp dir. */
async function logAndCheckpoints(t: TestContext): Promise<{ dir: string; log: EventLog; checkpoints: CheckpointStore }> {
  const dir = await tempDir(t);
  const log = await EventLog.open(path.join(dir, 'events'), { logger: { warn: () => undefined } });
  return { dir, log, checkpoints: new CheckpointStore(path.join(dir, 'checkpoints')) };
}

describe('projection runner', () => {
  it('folds only the handled events and checkpoints past the unhandled ones after them', async (t) => {
    const { dir, log, checkpoints } = await logAndCheckpoints(t);
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
    const { dir, log, checkpoints } = await logAndCheckpoints(t);
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

  it('a new process\'s first catch-up with nothing new runs the sink but leaves the checkpoint file as it is', async (t) => {
    const { dir, log, checkpoints } = await logAndCheckpoints(t);
    const file = path.join(dir, 'checkpoints', 'sunk.json');
    let sinks = 0;
    let changeState = false;
    const sunk = defineProjector({ ...runs, name: 'sunk', sink: async (state) => {
      sinks++;
      return changeState ? { seen: [...state.seen, -1] } : undefined;
    } });
    await log.append(started(1));
    await new ProjectionRunner(log, checkpoints, dir).catchUp(sunk);
    const saved = await stat(file);
    const text = await readFile(file, 'utf8');
    // Another process (a new runner) with nothing new in the log: the sink runs (its outputs may follow the
    // configuration), the checkpoint is not written again.
    const again = new ProjectionRunner(log, checkpoints, dir);
    assert.equal(await again.catchUp(sunk), 1);
    assert.equal(sinks, 2);
    assert.deepEqual(again.stateOf(sunk).seen, [1]);
    assert.equal((await stat(file)).ino, saved.ino, 'not replaced');
    assert.equal(await readFile(file, 'utf8'), text);
    // A sink that changes the state on that first flush gets it saved.
    changeState = true;
    const third = new ProjectionRunner(log, checkpoints, dir);
    await third.catchUp(sunk);
    assert.deepEqual((await checkpoints.load<{ seen: number[] }>('sunk'))?.state?.seen, [1, -1]);
    // New events are saved as before.
    changeState = false;
    await log.append(started(2));
    await third.catchUp(sunk);
    assert.equal((await checkpoints.load('sunk'))?.position, 2);
    await log.close();
  });

  it('writeFileIfChanged leaves a file that holds the text already, and replaces one that does not', async (t) => {
    const dir = await tempDir(t);
    const file = path.join(dir, 'out.json');
    assert.equal(await writeFileIfChanged(file, '{"a":1}'), true, 'a missing file is written');
    const first = await stat(file);
    assert.equal(await writeFileIfChanged(file, '{"a":1}'), false);
    assert.equal((await stat(file)).ino, first.ino);
    assert.equal(await writeFileIfChanged(file, '{"a":2}'), true);
    assert.equal(await readFile(file, 'utf8'), '{"a":2}');
    assert.notEqual((await stat(file)).ino, first.ino, 'replaced atomically (a new file renamed over it)');
    await writeFile(file, '{"a":2');
    assert.equal(await writeFileIfChanged(file, '{"a":2}'), true, 'a truncated file is rewritten');
    assert.equal(await readFile(file, 'utf8'), '{"a":2}');
  });
});
