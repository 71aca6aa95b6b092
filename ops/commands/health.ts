/** `ada health`: the broker's health from a shell, without taking the log's writer lock. */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { lastValueFrom, reduce } from 'rxjs';
import { loadConfig } from '../../connectors/index.ts';
import { CheckpointStore, EventLogReader, isProcessAlive } from '../../events/index.ts';
import { ConnectorRegistry } from '../../connectors/index.ts';
import { evaluateHealth, evolveHealth, healthProjection, timerSpecs } from '../../pipeline/index.ts';
import type { HealthReport } from '../../pipeline/index.ts';
import type { Command } from '../command.ts';
import { commonOptions } from '../command.ts';
import { diskUse, loadNow } from '../health.ts';
import { configDirOf, dataDirOf, eventsDirOf } from '../paths.ts';
import { permissionWarnings } from '../private-files.ts';
import { formatTable } from '../format.ts';

/** Projections whose lag health reports. */
const PROJECTIONS = ['parquet', 'catalog', 'sync-state', 'timers', 'health', 'access'];
// The profiler is left out: it runs after the server's syncs or on `ada profile`, not after every `ada sync`.

/** True when `ada serve` holds the log (its timers are running). */
async function serveRunning(eventsDir: string): Promise<boolean> {
  try {
    const owner = JSON.parse(await readFile(path.join(eventsDir, 'writer.owner.json'), 'utf8')) as { pid: number; command: string };
    return isProcessAlive(owner.pid) && /\bserve\b|start-demo/.test(owner.command);
  } catch {
    return false;
  }
}

/** Evaluates health from the files of a data directory. */
export async function healthFromDisk(opts: { configDir?: string; dataDir: string; env: NodeJS.ProcessEnv }): Promise<HealthReport> {
  const config = await loadConfig({ configDir: opts.configDir, env: opts.env });
  const eventsDir = eventsDirOf(opts.dataDir);
  const reader = new EventLogReader(eventsDir);
  const handles = new Set<string>(healthProjection.handles);
  const state = await lastValueFrom(reader.read$(1).pipe(reduce((s, e) => (handles.has(e.type) ? evolveHealth(s, e) : s), healthProjection.initialState())));
  const checkpoints = new CheckpointStore(path.join(opts.dataDir, 'metadata', 'checkpoints'));
  const projections: Record<string, number> = {};
  for (const name of PROJECTIONS) projections[name] = (await checkpoints.load(name))?.position ?? 0;
  const now = new Date();
  const connectors = new ConnectorRegistry(config);
  return evaluateHealth(state, {
    config, specs: timerSpecs(config), now, timersActive: await serveRunning(eventsDir),
    head: await reader.head(), projections,
    disk: await diskUse(opts.dataDir), load: loadNow(),
    connectorChecks: await connectors.healthChecks({ dataDir: opts.dataDir, now }),
  });
}

/** Human-readable health report. */
export function formatHealth(report: HealthReport): string {
  const lines = [`status: ${report.status}`];
  for (const r of report.reasons) lines.push(`  - ${r}`);
  const tables = Object.entries(report.checks.tables);
  if (tables.length) {
    lines.push('', formatTable(['table', 'status', 'freshness', 'last success', 'error'], tables.map(([n, t]) => [n, t.status, t.freshness, t.lastSuccessAt ?? '-', t.lastError ? `[${t.lastError.code}] ${t.lastError.message}`.slice(0, 100) : ''])));
  }
  const timers = Object.entries(report.checks.timers);
  if (timers.length) {
    lines.push('', formatTable(['timer', 'cron', 'last fired', 'next due', 'skipped', 'overdue'], timers.map(([n, t]) => [n, t.cron, t.lastFiredAt ?? '-', t.nextDueAt, String(t.skipped), t.overdue ? 'yes' : 'no'])));
  }
  const d = report.checks.disk;
  if (d) lines.push('', `disk: ${d.usedPercent.toFixed(1)} % used`);
  const l = report.checks.load;
  if (l) lines.push(`load: ${l.load1.toFixed(2)} (${l.perCore.toFixed(2)} per core)`);
  return lines.join('\n');
}

const health: Command = {
  name: 'health',
  summary: 'Report the broker\'s health (tables, timers, projections, disk, load); exit 0 healthy, 1 degraded, 2 unhealthy',
  usage: 'ada health [--json] [--config DIR] [--data DIR]',
  options: { ...commonOptions, json: { type: 'boolean' } },
  async run({ values }, ctx) {
    const report = await healthFromDisk({ configDir: values.config as string | undefined, dataDir: dataDirOf(values.data, ctx.env), env: ctx.env });
    ctx.out(values.json ? JSON.stringify(report, null, 2) : formatHealth(report));
    for (const w of await permissionWarnings(configDirOf(values.config, ctx.env), dataDirOf(values.data, ctx.env))) ctx.err(`warning: ${w}`);
    return report.status === 'healthy' ? 0 : report.status === 'degraded' ? 1 : 2;
  },
};

/** `ada health`. */
export const healthCommands: Command[] = [health];
