import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { progressBar, progressOf } from '../../../ops/progress.ts';

function capture(isTTY: boolean, json = false): { lines: string[]; raw: string[]; progress: ReturnType<typeof progressOf> } {
  const lines: string[] = [];
  const raw: string[] = [];
  const progress = progressOf({ isTTY, err: (s) => lines.push(s) }, { json, write: (s) => raw.push(s) });
  return { lines, raw, progress };
}

describe('progress', () => {
  it('draws a bar of done over total', () => {
    assert.equal(progressBar(0, 4), `[${'░'.repeat(20)}] 0/4`);
    assert.equal(progressBar(2, 4), `[${'█'.repeat(10)}${'░'.repeat(10)}] 2/4`);
    assert.equal(progressBar(9, 4), `[${'█'.repeat(20)}] 9/4`);
    assert.equal(progressBar(0, 0), `[${'░'.repeat(20)}] 0/0`);
  });

  it('on a terminal redraws the bar in place and keeps finished lines', () => {
    const { raw, lines, progress } = capture(true);
    progress.update({ done: 0, total: 2, text: 'orders fetching' }, true);
    progress.line('orders done');
    progress.update({ done: 1, total: 2, text: 'customers fetching' }, true);
    progress.end();
    assert.deepEqual(lines, []);
    assert.deepEqual(raw, [
      `\r\x1b[2K${progressBar(0, 2)} orders fetching`,
      '\r\x1b[2Korders done\n',
      `\r\x1b[2K${progressBar(1, 2)} customers fetching`,
      '\r\x1b[2K',
    ]);
  });

  it('throttles redraws that are not forced', () => {
    const { raw, progress } = capture(true);
    progress.update({ done: 0, total: 1, text: 'a' }, true);
    for (let i = 0; i < 100; i++) progress.update({ done: 0, total: 1, text: `b${i}` });
    // Forced draws always happen; unforced ones at most every 100 ms, so a tight loop adds none or one.
    assert.ok(raw.length <= 2, `${raw.length} draws`);
  });

  it('otherwise prints one line per finished item and no bar', () => {
    const { raw, lines, progress } = capture(false);
    progress.update({ done: 0, total: 2, text: 'orders fetching' }, true);
    progress.line('orders done');
    progress.end();
    assert.deepEqual(lines, ['orders done']);
    assert.deepEqual(raw, []);
  });

  it('prints nothing with --json', () => {
    for (const tty of [true, false]) {
      const { raw, lines, progress } = capture(tty, true);
      progress.update({ done: 0, total: 1, text: 'x' }, true);
      progress.line('x done');
      progress.end();
      assert.deepEqual([raw, lines], [[], []]);
    }
  });
});
