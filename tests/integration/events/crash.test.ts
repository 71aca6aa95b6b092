import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { lastValueFrom, toArray } from 'rxjs';
import { EventLog } from '../../../events/index.ts';
import { tempDir } from '../../helpers/tmp.ts';

const child = fileURLToPath(new URL('../../fixtures/events/append-child.ts', import.meta.url));
const ROUNDS = 20;

/** Runs the child until it has acknowledged some appends, SIGKILLs it at a random moment, returns the acks. */
function runAndKill(dir: string, run: number): Promise<Map<string, number>> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, ['--import', 'tsx', child, dir, String(run)], { stdio: ['ignore', 'pipe', 'pipe'] });
    const acks = new Map<string, number>();
    let stderr = '';
    let pending = '';
    let timer: NodeJS.Timeout | undefined;
    proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    proc.stdout.on('data', (d: Buffer) => {
      pending += d.toString();
      const lines = pending.split('\n');
      pending = lines.pop()!;
      for (const line of lines) {
        if (line === 'ready' && !timer) timer = setTimeout(() => proc.kill('SIGKILL'), 20 + Math.floor(Math.random() * 300));
        const m = /^ack (\d+) (\S+)$/.exec(line);
        if (m) acks.set(m[2]!, Number(m[1]));
      }
    });
    proc.on('exit', (_code, signal) => {
      if (signal !== 'SIGKILL') reject(new Error(`child exited on its own: ${stderr}`));
      else resolve(acks);
    });
  });
}

it(`every acknowledged append survives SIGKILL exactly once (${ROUNDS} kills)`, { timeout: 180_000 }, async (t) => {
  const dir = await tempDir(t);
  const acknowledged = new Map<string, number>();
  for (let run = 0; run < ROUNDS; run++) {
    const acks = await runAndKill(dir, run);
    for (const [tag, pos] of acks) acknowledged.set(tag, pos);
    const log = await EventLog.open(dir, { segmentBytes: 64 * 1024, logger: { warn: () => undefined } });
    const events = await lastValueFrom(log.read$(1).pipe(toArray()));
    await log.close();
    assert.deepEqual(events.map((e) => e.position), events.map((_, i) => i + 1), 'positions are contiguous');
    const seen = new Map<string, number>();
    for (const e of events) {
      assert.equal(e.type, 'TimerFired');
      if (e.type !== 'TimerFired') continue;
      assert.ok(!seen.has(e.data.timer), `${e.data.timer} recorded twice`);
      seen.set(e.data.timer, e.position);
    }
    for (const [tag, pos] of acknowledged) assert.equal(seen.get(tag), pos, `acknowledged ${tag} at ${pos} is missing after run ${run}`);
  }
  assert.ok(acknowledged.size > ROUNDS, `children acknowledged only ${acknowledged.size} appends`);
});
