import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { EventLog } from '../../events/index.ts';
import { COMMANDS } from '../../ops/cli.ts';
import { runCli, spawnCli } from '../helpers/cli.ts';
import { timerEvent } from '../helpers/events.ts';
import { tempDir } from '../helpers/tmp.ts';

async function seededDataDir(t: Parameters<typeof tempDir>[0], n = 30): Promise<string> {
  const data = await tempDir(t);
  const log = await EventLog.open(path.join(data, 'events'), { logger: { warn: () => undefined }, segmentBytes: 2048 });
  for (let i = 1; i <= n; i++) {
    await log.append(i % 3 === 0
      ? { type: 'SyncFailed', v: 1, data: { runId: `r${i}`, table: 'orders', error: { code: 'CSV_INVALID', message: 'bad row' }, durationMs: 5 } }
      : timerEvent(i, `k${i}`));
  }
  await log.close();
  return data;
}

describe('ada CLI', () => {
  it('--help lists every command with one line, --version prints the version', async () => {
    const help = await spawnCli(['--help']);
    assert.equal(help.code, 0, help.stderr);
    for (const c of COMMANDS) assert.match(help.stdout, new RegExp(`^  ${c.name}\\s+\\S`, 'm'));
    const version = await spawnCli(['--version']);
    const pkg = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    assert.equal(version.stdout.trim(), pkg.version);
  });

  it('an unknown command or flag exits 2 with a hint', async () => {
    const unknown = await runCli(['frobnicate']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /ada --help/);
    const badFlag = await runCli(['events', 'stats', '--nope']);
    assert.equal(badFlag.code, 2);
    assert.match(badFlag.stderr, /usage: ada events stats/);
    const group = await runCli(['events']);
    assert.equal(group.code, 2);
    assert.match(group.stderr, /events tail/);
  });

  it('events tail prints the newest events, filtered by type, as text or JSON', async (t) => {
    const data = await seededDataDir(t);
    const last = await runCli(['events', 'tail', '-n', '5', '--data', data]);
    assert.equal(last.code, 0, last.stderr);
    assert.deepEqual(last.stdout.split('\n').map((l) => Number(l.trim().split(/\s+/)[0])), [26, 27, 28, 29, 30]);
    const failed = await runCli(['events', 'tail', '--type', 'SyncFailed', '--json', '--from', '1', '--data', data]);
    const events = failed.stdout.split('\n').map((l) => JSON.parse(l) as { type: string; position: number });
    assert.equal(events.length, 10);
    assert.ok(events.every((e) => e.type === 'SyncFailed'));
    const badType = await runCli(['events', 'tail', '--type', 'Nope', '--data', data]);
    assert.equal(badType.code, 2);
  });

  it('events tail -f follows new events until interrupted', async (t) => {
    const data = await seededDataDir(t, 3);
    const controller = new AbortController();
    const lines: string[] = [];
    const { main } = await import('../../ops/cli.ts');
    const running = main({ argv: ['events', 'tail', '-f', '--from', '1', '--data', data], env: {}, out: (s) => lines.push(s), err: () => undefined, isTTY: false, signal: controller.signal });
    const log = await EventLog.open(path.join(data, 'events'), { logger: { warn: () => undefined } });
    await log.append(timerEvent(99));
    for (let i = 0; i < 100 && lines.length < 4; i++) await new Promise((r) => setTimeout(r, 20));
    controller.abort();
    assert.equal(await running, 0);
    await log.close();
    assert.equal(lines.length, 4);
    assert.match(lines[3]!, /timer-99/);
  });

  it('events show prints one event; a missing position exits 1', async (t) => {
    const data = await seededDataDir(t);
    const shown = await runCli(['events', 'show', '7', '--data', data]);
    assert.equal(shown.code, 0);
    const e = JSON.parse(shown.stdout) as { position: number; key: string };
    assert.deepEqual([e.position, e.key], [7, 'k7']);
    const missing = await runCli(['events', 'show', '99', '--data', data]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /head is 30/);
  });

  it('events stats counts records and bytes by type', async (t) => {
    const data = await seededDataDir(t);
    const stats = await runCli(['events', 'stats', '--json', '--data', data]);
    const s = JSON.parse(stats.stdout) as { head: number; records: number; segments: unknown[]; types: Record<string, { records: number; bytes: number }>; firstAt: string };
    assert.equal(s.head, 30);
    assert.equal(s.types.SyncFailed!.records, 10);
    assert.equal(s.types.TimerFired!.records, 20);
    assert.ok(s.segments.length > 1);
    assert.ok(s.firstAt);
    const text = await runCli(['events', 'stats', '--data', data]);
    assert.match(text.stdout, /head:\s+30/);
  });

  it('events verify passes a good log and exits 1 naming the position of a corrupt record', async (t) => {
    const data = await seededDataDir(t);
    const ok = await runCli(['events', 'verify', '--data', data]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /ok: 30 records/);
    const seg = path.join(data, 'events', '00000000000000000001.seg');
    const bytes = await readFile(seg);
    const third = 8 + bytes.readUInt32LE(0);
    const offset = third + 8 + bytes.readUInt32LE(third);
    bytes[offset + 30] = bytes[offset + 30]! ^ 0x55;
    await writeFile(seg, bytes);
    const bad = await spawnCli(['events', 'verify', '--data', data]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /CORRUPT at position 3: segment 00000000000000000001\.seg/);
  });
});

describe('ada CLI and a broken configuration', () => {
  it('any command exits 2 naming the file and line of every problem', async (t) => {
    const dir = await tempDir(t);
    await writeFile(path.join(dir, 'instance.yaml'), 'instance:\n  name: x\nauth:\n  allowed_domain: example.com\ndata_source:\n  type: csv\n  csv:\n    dir: .\n');
    await writeFile(path.join(dir, 'data_description.md'), '```yaml\ntables:\n  - id: a.b.c\n    name: c\n    description: d\n    sync_strategy: sometimes\n```\n');
    const result = await runCli(['sync', '--config', dir, '--data', path.join(dir, 'data')]);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /CONFIG_INVALID/);
    assert.match(result.stderr, /instance\.yaml:\d+/);
    assert.match(result.stderr, /data_description\.md:6/);
    const missing = await runCli(['sync', '--config', path.join(dir, 'nope')]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /CONFIG_MISSING/);
  });
});
