/**
 * What the notification gateway tells people: a pure mapping from recorded events to notifications,
 * and the audience rule deciding who may receive each one.
 */
import type { AdaEvent, RecordedEvent } from '../../../events/index.ts';
import { assertNever } from '../../../events/index.ts';
import { datasetIsPrivate } from '../../../config/index.ts';
import type { DatasetPrivacyConfig } from '../../../config/index.ts';

/** Severity of a notification, as clients colour it. */
export type NotificationLevel = 'info' | 'success' | 'warning' | 'error';

/** A notification as it goes over the wire (`{"type":"notification",…}`). */
export interface Notification {
  type: 'notification';
  /** The id of the event it comes from: stable across replays, so clients dedupe by it. */
  id: string;
  title: string;
  message: string;
  /** ISO-8601 time the event was recorded. */
  timestamp: string;
  level: NotificationLevel;
  /** Log position of the event: a client resumes with `since` = the last position it saw. */
  position: number;
  /** The table it is about; only people who may see the table receive it. */
  table?: string;
  /** The dataset whose files it is about (`FilesPublished`); only people who may have them receive it. */
  dataset?: string;
  /** The one user it is addressed to (custom notifications); absent means everyone allowed. */
  to?: string;
}

/** Who is asking, as the access projection resolves a credential. */
export interface Principal {
  name: string;
  role: 'analyst' | 'privileged' | 'admin';
}

/** Whether a table is private (visible to privileged analysts and admins only). */
export type IsPrivate = (table: string) => boolean;

/** The part of the configuration the mapping reads (an `AdaConfig` fits). */
export interface NotificationConfig {
  tables: ReadonlyArray<{ name: string; id?: string; private: boolean }>;
  /** Tables connectors publish themselves (`AdaConfig.declaredTables`), under the same rule. */
  declaredTables?: ReadonlyArray<{ name: string; id?: string; private: boolean }>;
  /** The datasets (`AdaConfig.instance.datasets`): whose files a `FilesPublished` notification is about; none known means all private. */
  instance?: { datasets: DatasetPrivacyConfig };
}

/** Event types that produce a notification. */
export const NOTIFYING_EVENTS = [
  'TablePublished', 'FilesPublished', 'SyncFailed', 'TableProfiled', 'TableProfileFailed', 'HealthChanged', 'NotificationDispatched',
] as const satisfies ReadonlyArray<AdaEvent['type']>;

/** Longest message text sent; recorded error messages are unbounded and a notification is a summary. */
export const MAX_MESSAGE_CHARS = 2_000;

// Made on first use: setting up ICU's number formatting costs tens of ms, and most processes importing this never notify.
let numberFormat: Intl.NumberFormat | undefined;

function clip(text: string): string {
  return text.length <= MAX_MESSAGE_CHARS ? text : `${text.slice(0, MAX_MESSAGE_CHARS - 1)}…`;
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${(numberFormat ??= new Intl.NumberFormat('en-US')).format(n)} ${n === 1 ? one : many}`;
}

/**
 * The table privacy rule of the configuration: a table is private when it is configured so (the
 * loader already folds in folder `private`); a table the configuration does not know is treated as
 * private, so an unknown name never leaks to analysts.
 */
export function tablePrivacy(config: NotificationConfig): IsPrivate {
  const known = new Map([...config.tables, ...(config.declaredTables ?? [])].map((t) => [t.name, t.private]));
  return (table) => known.get(table) ?? true;
}

/**
 * The dataset privacy rule of the configuration (`datasetIsPrivate`), read at each call: connectors declare their
 * datasets at run time. A dataset the configuration does not know is private.
 */
export function datasetPrivacy(config: NotificationConfig): IsPrivate {
  return (dataset) => datasetIsPrivate(config.instance?.datasets ?? {}, dataset);
}

/**
 * A health problem may be about a table (`table orders: last sync failed: …`). Health notifications go
 * to everyone, so problems about a private table are not quoted but counted, by their `table` field
 * (never by searching the text for a name): those who may see the table learn the details from its own
 * SyncFailed notification and from /health. Unstructured reasons (HealthChanged v1) may name any
 * table, so they are counted too.
 */
function publicReasons(problems: ReadonlyArray<{ code: string; table?: string; message: string }>, isPrivate: IsPrivate): { shown: string[]; hidden: number } {
  const shown: string[] = [];
  let hidden = 0;
  for (const p of problems) {
    if (p.code === 'UNSTRUCTURED' || (p.table !== undefined && isPrivate(p.table))) hidden++;
    else shown.push(p.message);
  }
  return { shown, hidden };
}

function healthMessage(e: RecordedEvent & { type: 'HealthChanged' }, isPrivate: IsPrivate): string {
  const { status, previous, problems } = e.data;
  if (status === 'healthy') return previous === 'unknown' ? 'All checks pass.' : `All checks pass again (was ${previous}).`;
  const { shown, hidden } = publicReasons(problems, isPrivate);
  const parts = [...shown];
  if (hidden > 0) parts.push(`${plural(hidden, 'problem')} with restricted tables`);
  const detail = parts.length > 0 ? `: ${parts.join('; ')}` : '';
  return `The broker is ${status}${previous !== 'unknown' ? ` (was ${previous})` : ''}${detail}.`;
}

const HEALTH_LEVEL = { healthy: 'success', degraded: 'warning', unhealthy: 'error' } as const;

/**
 * The notification of one recorded event, or undefined for events nobody is told about.
 * Pure: the same event always gives the same notification (the gateway is idempotent by event id).
 * `isPrivate` decides which tables health reasons must not quote; default: `tablePrivacy(config)`.
 */
export function toNotification(event: RecordedEvent, config: NotificationConfig, isPrivate: IsPrivate = tablePrivacy(config)): Notification | undefined {
  const base = { type: 'notification' as const, id: event.id, timestamp: event.at, position: event.position };
  switch (event.type) {
    case 'TablePublished': {
      const { table, rows, touchedPartitions } = event.data;
      const partitions = touchedPartitions && touchedPartitions.length > 0 ? ` (${plural(touchedPartitions.length, 'partition')} changed)` : '';
      return { ...base, level: 'success', table, title: `Table ${table} updated`, message: `Table ${table} updated: ${plural(rows, 'row')}${partitions}` };
    }
    case 'FilesPublished': {
      // Names neither the folder nor the files: those who may see the dataset but do not subscribe to it get this too.
      const { dataset, files } = event.data;
      const what = files.length > 0 ? `${plural(files.length, 'file')} in one folder` : 'a folder removed';
      return { ...base, level: 'success', dataset, title: `Files of ${dataset} updated`, message: `Files of dataset ${dataset} updated: ${what}` };
    }
    case 'SyncFailed': {
      const { table, error } = event.data;
      return { ...base, level: 'error', table, title: `Sync of ${table} failed`, message: clip(`Table ${table} could not be synced: ${error.message} (${error.code}); the published data stays as it was`) };
    }
    case 'TableProfiled': {
      const { table, rows, columns, alerts, sampled } = event.data;
      return {
        ...base, level: alerts > 0 ? 'warning' : 'info', table, title: `Profile of ${table} updated`,
        message: `Table ${table} profiled${sampled ? ' (sampled)' : ''}: ${plural(rows, 'row')}, ${plural(columns, 'column')}, ${alerts > 0 ? plural(alerts, 'alert') : 'no alerts'}`,
      };
    }
    case 'TableProfileFailed': {
      const { table, error } = event.data;
      return { ...base, level: 'warning', table, title: `Profiling ${table} failed`, message: clip(`Profiling table ${table} failed: ${error.message} (${error.code}); its previous profile is kept and marked stale`) };
    }
    case 'HealthChanged':
      return { ...base, level: HEALTH_LEVEL[event.data.status], title: `Broker ${event.data.status}`, message: clip(healthMessage(event, isPrivate)) };
    case 'NotificationDispatched': {
      const { title, message, level, to, table } = event.data;
      return { ...base, level, title, message: clip(message), ...(table !== undefined ? { table } : {}), ...(to !== undefined ? { to } : {}) };
    }
    case 'TableHistoryBroken': {
      const { table, position, error } = event.data;
      return { ...base, level: 'warning', table, title: `History of ${table} is broken`, message: clip(`Table ${table} could not be rebuilt from the log at event ${position} (${error.code}); its published data stays as it was`) };
    }
    case 'SyncStarted': case 'SyncSucceeded': case 'TableChunkStaged': case 'TableStagingCompleted': case 'SchemaChanged': case 'TableHistoryRestarted':
    case 'TimerFired': case 'TimerSkipped':
    case 'JiraWebhookReceived': case 'JiraIssueChanged': case 'JiraIssueDeleted': case 'JiraConsistencyChecked':
    case 'AnalystAdded': case 'AnalystRemoved': case 'AnalystSshKeyChanged': case 'TokenIssued': case 'TokenRevoked': case 'DatasetSubscribed': case 'DatasetUnsubscribed': case 'FileAccessDenied':
      return undefined;
    default:
      return assertNever(event);
  }
}

/**
 * Whether `principal` may receive `notification`: one addressed to a user goes to that user only
 * (not to admins: it is a message, not an audit record); one about a private table, or about the files
 * of a private dataset, goes only to privileged analysts and admins. Health notifications go to everyone
 * (their text quotes no private table, see `toNotification`). Subscriptions are not checked here: as for
 * tables, a client keeps what its manifest lists (`ada watch`).
 */
export function visibleTo(notification: Pick<Notification, 'table' | 'dataset' | 'to'>, principal: Principal, isPrivate: IsPrivate, isPrivateDataset: IsPrivate = () => true): boolean {
  if (notification.to !== undefined && notification.to !== principal.name) return false;
  if (principal.role !== 'analyst') return true;
  if (notification.table !== undefined && isPrivate(notification.table)) return false;
  if (notification.dataset !== undefined && isPrivateDataset(notification.dataset)) return false;
  return true;
}
