/** Which timers an instance has: one per table `schedule`, one per source for the rest. */
import { createRequire } from 'node:module';
import type * as CronParser from 'cron-parser';
import type { AdaConfig } from '../../config/index.ts';

// cron-parser (with luxon, about 20 CommonJS files) is required on first use: a one-off command whose configuration
// holds no schedule to check or fire never loads it.
let cronParser: typeof CronParser.CronExpressionParser | undefined;
function parser(): typeof CronParser.CronExpressionParser {
  return (cronParser ??= (createRequire(import.meta.url)('cron-parser') as typeof CronParser).CronExpressionParser);
}

/** Three runs a day, as the original's cron did. */
export const DEFAULT_SCHEDULE = '0 6,12,18 * * *';

/** A timer: its name (`source:csv`, `table:orders`), cron expression and the tables it syncs. */
export interface TimerSpec {
  name: string;
  cron: string;
  tables: string[];
}

/** Timers of a configuration: a table's own `schedule` wins over its source's, which wins over the default. */
export function timerSpecs(config: AdaConfig): TimerSpec[] {
  const bySource = new Map<string, string[]>();
  const specs: TimerSpec[] = [];
  for (const t of config.tables) {
    if (t.schedule) {
      specs.push({ name: `table:${t.name}`, cron: t.schedule, tables: [t.name] });
      continue;
    }
    bySource.set(t.source, [...(bySource.get(t.source) ?? []), t.name]);
  }
  for (const [source, tables] of bySource) {
    const cron = ownSectionOf(config, source) ? ownSectionOf(config, source)!.schedule : config.instance.dataSource.schedule;
    specs.push({ name: `source:${source}`, cron: cron ?? DEFAULT_SCHEDULE, tables });
  }
  return specs.sort((a, b) => a.name.localeCompare(b.name));
}

/**
 * The top-level section of a connector that has one (Jira's `jira:`): its `schedule` is its source timer's, and
 * `data_source.schedule` is not. Read by shape, so the pipeline names no connector.
 */
function ownSectionOf(config: AdaConfig, source: string): { schedule?: string } | undefined {
  const section = (config.instance as unknown as Record<string, unknown>)[source];
  if (section === null || typeof section !== 'object' || Array.isArray(section)) return undefined;
  const schedule = (section as { schedule?: unknown }).schedule;
  return typeof schedule === 'string' ? { schedule } : {};
}

/** The first firing of `cron` strictly after `after` (UTC). */
export function nextFiring(cron: string, after: Date): Date {
  return parser().parse(cron, { currentDate: after, tz: 'UTC' }).next().toDate();
}

/** The last firing of `cron` at or before `at` (UTC). */
export function previousFiring(cron: string, at: Date): Date {
  return parser().parse(cron, { currentDate: new Date(at.getTime() + 1), tz: 'UTC' }).prev().toDate();
}
