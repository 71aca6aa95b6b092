/**
 * Health: a pure fold of sync, timer and publish events, and a pure evaluation of that state
 * against the clock, the schedules and the machine (disk, load, projection lag).
 */
import type { AdaConfig } from '../../../config/index.ts';
import { assertNever } from '../../../events/index.ts';
import type { RecordedError } from '../../../events/index.ts';
import { defineProjector } from '../../projection.ts';
import type { HandledEvent } from '../../projection.ts';
import { nextFiring, previousFiring } from '../../scheduler/timers.ts';
import type { TimerSpec } from '../../scheduler/timers.ts';

/** Health status, worst last. */
export type HealthStatus = 'healthy' | 'degraded' | 'unhealthy';

/** What health knows of a table. */
export interface TableHealthState {
  lastPublishedAt?: string;
  lastSuccessAt?: string;
  lastRun?: { runId: string; status: 'running' | 'succeeded' | 'failed'; at: string; error?: RecordedError };
  consecutiveFailures: number;
  /** Set when a rebuild could not read the table's history: where, and why; cleared by a full refresh. */
  historyBroken?: { position: number; runId: string; blob?: string; error: RecordedError };
}

/** What health knows of a timer. */
export interface TimerHealthState {
  lastFiredAt?: string;
  lastScheduledAt?: string;
  lastSkippedAt?: string;
  skipped: number;
}

/** State of the health projection. */
export interface HealthState {
  tables: Record<string, TableHealthState>;
  timers: Record<string, TimerHealthState>;
}

/** The event types health folds. */
export const HEALTH_EVENTS = ['SyncStarted', 'SyncSucceeded', 'SyncFailed', 'TablePublished', 'TableHistoryBroken', 'TableHistoryRestarted', 'TimerFired', 'TimerSkipped'] as const;

/** An event health folds. */
export type HealthEvent = HandledEvent<(typeof HEALTH_EVENTS)[number]>;

/** Folds the events health cares about. */
export function evolveHealth(state: HealthState, e: HealthEvent): HealthState {
  const table = (name: string): TableHealthState => state.tables[name] ?? { consecutiveFailures: 0 };
  const timer = (name: string): TimerHealthState => state.timers[name] ?? { skipped: 0 };
  switch (e.type) {
    case 'SyncStarted':
      return { ...state, tables: { ...state.tables, [e.data.table]: { ...table(e.data.table), lastRun: { runId: e.data.runId, status: 'running', at: e.at } } } };
    case 'SyncSucceeded':
      return { ...state, tables: { ...state.tables, [e.data.table]: { ...table(e.data.table), lastSuccessAt: e.at, consecutiveFailures: 0, lastRun: { runId: e.data.runId, status: 'succeeded', at: e.at } } } };
    case 'SyncFailed': {
      const t = table(e.data.table);
      return { ...state, tables: { ...state.tables, [e.data.table]: { ...t, consecutiveFailures: t.consecutiveFailures + 1, lastRun: { runId: e.data.runId, status: 'failed', at: e.at, error: e.data.error } } } };
    }
    case 'TablePublished':
      return { ...state, tables: { ...state.tables, [e.data.table]: { ...table(e.data.table), lastPublishedAt: e.at } } };
    case 'TableHistoryBroken': {
      const { table: name, position, runId, blob, error } = e.data;
      return { ...state, tables: { ...state.tables, [name]: { ...table(name), historyBroken: { position, runId, error, ...(blob ? { blob } : {}) } } } };
    }
    case 'TableHistoryRestarted': {
      const { historyBroken: _cleared, ...rest } = table(e.data.table);
      return { ...state, tables: { ...state.tables, [e.data.table]: rest } };
    }
    case 'TimerFired':
      return { ...state, timers: { ...state.timers, [e.data.timer]: { ...timer(e.data.timer), lastFiredAt: e.at, lastScheduledAt: e.data.scheduledAt } } };
    case 'TimerSkipped': {
      const t = timer(e.data.timer);
      return { ...state, timers: { ...state.timers, [e.data.timer]: { ...t, lastSkippedAt: e.at, skipped: t.skipped + 1 } } };
    }
    default:
      return assertNever(e);
  }
}

/** The health projection (state kept in its checkpoint). */
export const healthProjection = defineProjector({
  name: 'health',
  version: 1,
  handles: HEALTH_EVENTS,
  initialState: (): HealthState => ({ tables: {}, timers: {} }),
  evolve: evolveHealth,
});

/** A check a connector contributes (e.g. Jira's newest-issue age). */
export interface HealthCheck {
  name: string;
  status: HealthStatus;
  message: string;
  details?: Record<string, unknown>;
}

/** Limits of the evaluation, with their reasons. */
export const HEALTH_LIMITS = {
  /** Disk use of the data directory's filesystem: the original alerted at 90 %. */
  diskDegradedPercent: 90,
  /** Above this, publishing may fail any moment. */
  diskUnhealthyPercent: 98,
  /** 1-minute load per core above which syncs and the portal slow down noticeably. */
  loadPerCore: 2,
  /** A projection this many events behind the head is stuck, not just busy. */
  projectionLagEvents: 1_000,
  /** A timer is overdue when its last firing is this late after the due time (the loop may be busy). */
  timerGraceMs: 10 * 60_000,
  /** Every table failing this many times in a row is a systemic problem (source down, credentials revoked). */
  systemicFailures: 3,
  /** A table is overdue after missing this many scheduled runs. */
  missedRunsOverdue: 2,
} as const;

/** What the evaluation reads besides the state. */
export interface HealthInputs {
  config: AdaConfig;
  specs: TimerSpec[];
  now: Date;
  /** True when timers are running (ada serve); `ada health` from a shell evaluates timers too. */
  timersActive: boolean;
  head: number;
  projections: Record<string, number>;
  disk?: { usedPercent: number; freeBytes: number; totalBytes: number };
  load?: { load1: number; cpus: number };
  connectorChecks?: HealthCheck[];
}

/** Stable codes of health problems. */
export const HealthProblemCode = {
  tableSyncFailed: 'TABLE_SYNC_FAILED',
  tableOverdue: 'TABLE_OVERDUE',
  tableNeverSynced: 'TABLE_NEVER_SYNCED',
  tableHistoryBroken: 'TABLE_HISTORY_BROKEN',
  allTablesFailing: 'ALL_TABLES_FAILING',
  timerOverdue: 'TIMER_OVERDUE',
  projectionLag: 'PROJECTION_LAG',
  disk: 'DISK_FULL',
  load: 'LOAD_HIGH',
  connector: 'CONNECTOR_CHECK',
  /** Problems about tables the viewer may not see, counted instead of shown. */
  restricted: 'RESTRICTED_TABLES',
  /** A reason recorded before problems carried their table (HealthChanged v1): it may name any table. */
  unstructured: 'UNSTRUCTURED',
} as const;

/**
 * One problem of a health report. `table` is the configured table it is about, as data: a viewer who may
 * not see that table gets the problem removed by this field, never by searching the message for its name.
 */
export interface HealthProblem {
  code: string;
  table?: string;
  message: string;
}

/** The health report of `/health` and `ada health`. */
export interface HealthReport {
  status: HealthStatus;
  /** The messages of `problems`, in the same order (kept for readers of the text only). */
  reasons: string[];
  problems: HealthProblem[];
  checkedAt: string;
  checks: {
    tables: Record<string, { status: HealthStatus; freshness: 'fresh' | 'overdue' | 'never_synced'; lastPublishedAt: string | null; lastSuccessAt: string | null; lastError: RecordedError | null; schedule: string | null; missedRuns: number; historyBroken?: TableHealthState['historyBroken'] }>;
    timers: Record<string, { status: HealthStatus; cron: string; tables: string[]; lastFiredAt: string | null; nextDueAt: string; skipped: number; overdue: boolean }>;
    projections: Record<string, { position: number; lag: number; status: HealthStatus }>;
    disk: (HealthInputs['disk'] & { status: HealthStatus }) | null;
    load: { load1: number; cpus: number; perCore: number; status: HealthStatus } | null;
    connectors: HealthCheck[];
  };
}

const RANK: Record<HealthStatus, number> = { healthy: 0, degraded: 1, unhealthy: 2 };

/** The worse of two statuses. */
export function worst(a: HealthStatus, b: HealthStatus): HealthStatus {
  return RANK[a] >= RANK[b] ? a : b;
}

/** Scheduled firings of `cron` after `since` and at or before `now` (capped: only "how many" matters). */
export function missedRuns(cron: string, since: Date, now: Date, cap = 10): number {
  let n = 0;
  for (let t = nextFiring(cron, since); t <= now && n < cap; t = nextFiring(cron, t)) n++;
  return n;
}

/** Evaluates health: pure, given the state and the inputs. */
export function evaluateHealth(state: HealthState, inputs: HealthInputs): HealthReport {
  const { config, specs, now } = inputs;
  const problems: HealthProblem[] = [];
  let status: HealthStatus = 'healthy';
  const raise = (s: HealthStatus, code: string, message: string, table?: string): void => {
    status = worst(status, s);
    if (s !== 'healthy') problems.push(table === undefined ? { code, message } : { code, table, message });
  };
  const P = HealthProblemCode;
  const scheduleOf = new Map<string, string>();
  for (const spec of specs) for (const t of spec.tables) scheduleOf.set(t, spec.cron);

  const tables: HealthReport['checks']['tables'] = {};
  let failing = 0;
  for (const t of config.tables) {
    const s = state.tables[t.name] ?? { consecutiveFailures: 0 };
    const schedule = scheduleOf.get(t.name) ?? null;
    const since = s.lastSuccessAt ? new Date(s.lastSuccessAt) : undefined;
    const missed = schedule && since ? missedRuns(schedule, since, now) : 0;
    const freshness = !since ? 'never_synced' : missed >= HEALTH_LIMITS.missedRunsOverdue ? 'overdue' : 'fresh';
    let tableStatus: HealthStatus = 'healthy';
    if (s.lastRun?.status === 'failed') {
      tableStatus = 'degraded';
      if (s.consecutiveFailures >= HEALTH_LIMITS.systemicFailures) failing++;
      raise('degraded', P.tableSyncFailed, `table ${t.name}: last sync failed: ${s.lastRun.error?.message ?? 'unknown error'}`, t.name);
    }
    if (freshness === 'overdue') {
      tableStatus = 'degraded';
      raise('degraded', P.tableOverdue, `table ${t.name}: overdue, ${missed >= 10 ? '10 or more' : missed} scheduled runs since its last successful sync at ${s.lastSuccessAt}`, t.name);
    } else if (freshness === 'never_synced' && s.lastRun?.status !== 'running') {
      tableStatus = 'degraded';
      raise('degraded', P.tableNeverSynced, `table ${t.name}: never synced`, t.name);
    }
    if (s.historyBroken) {
      tableStatus = 'degraded';
      const b = s.historyBroken;
      raise('degraded', P.tableHistoryBroken, `table ${t.name}: its history cannot be rebuilt from the log at event ${b.position}${b.blob ? ` (blob ${b.blob})` : ''}: ${b.error.code}; its published files are kept; \`ada sync --table ${t.name} --full-refresh\` starts its history anew`, t.name);
    }
    tables[t.name] = {
      ...(s.historyBroken ? { historyBroken: s.historyBroken } : {}),
      status: tableStatus, freshness, schedule, missedRuns: missed,
      lastPublishedAt: s.lastPublishedAt ?? null, lastSuccessAt: s.lastSuccessAt ?? null,
      lastError: s.lastRun?.status === 'failed' ? s.lastRun.error ?? null : null,
    };
  }
  if (config.tables.length > 0 && failing === config.tables.length) {
    raise('unhealthy', P.allTablesFailing, `every table failed its last ${HEALTH_LIMITS.systemicFailures} or more syncs: the source or its credentials are likely down`);
  }

  const timers: HealthReport['checks']['timers'] = {};
  for (const spec of specs) {
    const s = state.timers[spec.name] ?? { skipped: 0 };
    const due = previousFiring(spec.cron, now);
    const lastScheduled = s.lastScheduledAt ? new Date(s.lastScheduledAt) : undefined;
    // Only a timer that fired before can be overdue: a fresh instance has no history to judge.
    const overdue = inputs.timersActive && lastScheduled !== undefined && lastScheduled < due && now.getTime() - due.getTime() > HEALTH_LIMITS.timerGraceMs;
    if (overdue) raise('degraded', P.timerOverdue, `timer ${spec.name}: the run due at ${due.toISOString()} has not fired`);
    timers[spec.name] = {
      status: overdue ? 'degraded' : 'healthy', cron: spec.cron, tables: spec.tables,
      lastFiredAt: s.lastFiredAt ?? null, nextDueAt: nextFiring(spec.cron, now).toISOString(), skipped: s.skipped, overdue,
    };
  }

  const projections: HealthReport['checks']['projections'] = {};
  for (const [name, position] of Object.entries(inputs.projections)) {
    const lag = Math.max(0, inputs.head - position);
    const lagging = lag > HEALTH_LIMITS.projectionLagEvents;
    if (lagging) raise('degraded', P.projectionLag, `projection ${name} is ${lag} events behind the log`);
    projections[name] = { position, lag, status: lagging ? 'degraded' : 'healthy' };
  }

  let disk: HealthReport['checks']['disk'] = null;
  if (inputs.disk) {
    const used = inputs.disk.usedPercent;
    const s: HealthStatus = used >= HEALTH_LIMITS.diskUnhealthyPercent ? 'unhealthy' : used >= HEALTH_LIMITS.diskDegradedPercent ? 'degraded' : 'healthy';
    raise(s, P.disk, `disk of the data directory is ${used.toFixed(1)} % full`);
    disk = { ...inputs.disk, status: s };
  }
  let load: HealthReport['checks']['load'] = null;
  if (inputs.load) {
    const perCore = inputs.load.load1 / Math.max(1, inputs.load.cpus);
    const s: HealthStatus = perCore > HEALTH_LIMITS.loadPerCore ? 'degraded' : 'healthy';
    raise(s, P.load, `load is ${perCore.toFixed(2)} per core`);
    load = { ...inputs.load, perCore, status: s };
  }
  for (const c of inputs.connectorChecks ?? []) raise(c.status, P.connector, `${c.name}: ${c.message}`);

  return { status, reasons: problems.map((p) => p.message), problems, checkedAt: now.toISOString(), checks: { tables, timers, projections, disk, load, connectors: inputs.connectorChecks ?? [] } };
}

/**
 * The report as a viewer who may not see the tables `isPrivate` names gets it: problems about them are
 * removed by their `table` field and counted in one `RESTRICTED_TABLES` problem; their checks are left
 * out and timers list only the other tables. Unstructured reasons (recorded before problems carried
 * their table) could name any table, so they are counted the same way.
 */
export function healthForViewer(report: HealthReport, isPrivate: (table: string) => boolean): HealthReport {
  const hides = (p: HealthProblem): boolean => p.code === HealthProblemCode.unstructured || (p.table !== undefined && isPrivate(p.table));
  const kept = report.problems.filter((p) => !hides(p));
  const dropped = report.problems.length - kept.length;
  const problems = dropped > 0
    ? [...kept, { code: HealthProblemCode.restricted, message: `${dropped} problem${dropped > 1 ? 's' : ''} with restricted tables` }]
    : kept;
  const tables = Object.fromEntries(Object.entries(report.checks.tables).filter(([n]) => !isPrivate(n)));
  const timers = Object.fromEntries(Object.entries(report.checks.timers).map(([n, t]) => [n, { ...t, tables: t.tables.filter((x) => !isPrivate(x)) }]));
  return { ...report, reasons: problems.map((p) => p.message), problems, checks: { ...report.checks, tables, timers } };
}
