/** `ada health`: the broker's health from a shell, without taking the log's writer lock. */
import { loadConfig } from '../../connectors/index.ts';
import { ConnectorRegistry } from '../../connectors/index.ts';
import { BrokerReader, isServerCommand } from '../../pipeline/index.ts';
import type { HealthReport } from '../../pipeline/index.ts';
import type { Command } from '../command.ts';
import { commonOptions } from '../command.ts';
import { ControlClient } from '../control/client.ts';
import { configDirOf, dataDirOf } from '../paths.ts';
import { permissionWarnings } from '../private-files.ts';
import { formatTable } from '../format.ts';

/** The health report: from the running server when `ada serve` holds the log, else from the data directory's files. */
export async function currentHealth(opts: { configDir?: string; dataDir: string; env: NodeJS.ProcessEnv }): Promise<HealthReport> {
  const reader = new BrokerReader(opts.dataDir);
  if (isServerCommand(await reader.writer())) {
    const remote = await ControlClient.connect(opts.dataDir);
    if (remote) return remote.health();
  }
  const config = await loadConfig({ configDir: opts.configDir, env: opts.env });
  const connectors = new ConnectorRegistry(config);
  try {
    return await reader.health(config, connectors);
  } finally {
    await connectors.close();
  }
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
    const report = await currentHealth({ configDir: values.config as string | undefined, dataDir: dataDirOf(values.data, ctx.env), env: ctx.env });
    ctx.out(values.json ? JSON.stringify(report, null, 2) : formatHealth(report));
    for (const w of await permissionWarnings(configDirOf(values.config, ctx.env), dataDirOf(values.data, ctx.env))) ctx.err(`warning: ${w}`);
    return report.status === 'healthy' ? 0 : report.status === 'degraded' ? 1 : 2;
  },
};

/** `ada health`. */
export const healthCommands: Command[] = [health];
