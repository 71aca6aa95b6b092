/**
 * Every event of the system: versioned discriminated unions `{ type, v, data }`.
 * Old versions are upcast on read (see upcast.ts); the log is never rewritten.
 */

/** A column of a staged or published table, in the UPSTREAM.md type vocabulary. */
export interface ColumnSchema {
  name: string;
  /** DuckDB logical type name, e.g. VARCHAR, BIGINT, DOUBLE, BOOLEAN, DATE, TIMESTAMP. */
  type: string;
  description?: string;
}

/** A reference to a content-addressed blob (claim check). */
export interface BlobRef {
  sha256: string;
  bytes: number;
  /** What the blob holds: Parquet or CSV rows, JSON, or an opaque file (a Jira attachment). */
  format: 'parquet' | 'csv' | 'json' | 'file';
}

/** A published Parquet file of a table, relative to the data directory. */
export interface PublishedFile {
  path: string;
  rows: number;
  bytes: number;
  sha256: string;
  /**
   * Hash of the file's rows (order-independent) when its bytes are not reproducible: merges are written in
   * parallel and their row order varies; the table's content hash uses this instead of `sha256`.
   */
  contentSha?: string;
  /** Partition key (`2024_01`) for partitioned tables. */
  partition?: string;
}

/** What started a sync run. */
export type SyncTrigger = 'manual' | 'timer' | 'startup' | 'webhook' | 'api';

/** An error as recorded in an event: stable code plus a message, never a secret. */
export interface RecordedError {
  code: string;
  message: string;
  file?: string;
  line?: number;
  column?: string;
}

/** A file of a published file set: its path (relative to the analyst's `server/` folder), size and sha256; its bytes are the blob of that sha256. */
export interface SetFile {
  path: string;
  bytes: number;
  sha256: string;
}

// ---- Sync lifecycle -------------------------------------------------------

export type SyncStarted = {
  type: 'SyncStarted'; v: 1;
  data: { runId: string; table: string; source: string; strategy: string; trigger: SyncTrigger };
};

export type SyncSucceeded = {
  type: 'SyncSucceeded'; v: 1;
  data: { runId: string; table: string; rows: number; cursor: unknown; durationMs: number };
};

export type SyncFailed = {
  type: 'SyncFailed'; v: 1;
  data: { runId: string; table: string; error: RecordedError; durationMs: number };
};

/** One chunk of a run's rows, staged as a blob. */
export type TableChunkStaged = {
  type: 'TableChunkStaged'; v: 1;
  data: { runId: string; table: string; chunk: number; blob: BlobRef; rows: number; schema: ColumnSchema[]; sourceFile?: string };
};

/** All chunks of a run are staged; the writer may publish them. `mode` says replace or upsert. */
export type TableStagingCompleted = {
  type: 'TableStagingCompleted'; v: 1;
  data: { runId: string; table: string; chunks: number; rows: number; mode: 'replace' | 'upsert'; cursor: unknown; metadata?: Record<string, unknown> };
};

export type TablePublished = {
  type: 'TablePublished'; v: 1;
  data: {
    runId: string; table: string; folder: string; strategy: string;
    files: PublishedFile[]; rows: number; bytes: number; schema: ColumnSchema[];
    contentHash: string; touchedPartitions?: string[];
    /** Dataset the table belongs to, for tables no `data_description.md` declares (Jira's). */
    dataset?: string;
  };
};

/**
 * A connector published a set of files that are not tables (Jira's attachments) for a dataset: `files` replace
 * every file it published before under `folder` (an empty list removes them). Each path lies under `folder`; the
 * bytes of each file are the blob of its sha256. Who may have them follows the dataset (`datasets:`, its
 * `private` and `requires`).
 */
export type FilesPublished = {
  type: 'FilesPublished'; v: 1;
  data: { dataset: string; folder: string; files: SetFile[] };
};

export type SchemaChanged = {
  type: 'SchemaChanged'; v: 1;
  data: { runId: string; table: string; added: ColumnSchema[]; dropped: ColumnSchema[]; retyped: Array<{ name: string; from: string; to: string }> };
};

/**
 * A rebuild of a table's Parquet files from the log could not read the table's history (a staged blob is missing
 * or corrupt): the table's published files were kept as they were; `position` is the event naming the blob.
 */
export type TableHistoryBroken = {
  type: 'TableHistoryBroken'; v: 1;
  data: { table: string; runId: string; position: number; blob?: string; error: RecordedError };
};

/** A full refresh (a replace run) was published for a table whose history was broken: its history starts anew at `runId`. */
export type TableHistoryRestarted = {
  type: 'TableHistoryRestarted'; v: 1;
  data: { table: string; runId: string; brokenAt: number };
};

// ---- Timers ----------------------------------------------------------------

export type TimerFired = {
  type: 'TimerFired'; v: 1;
  data: { timer: string; tables: string[]; scheduledAt: string; catchUp: boolean };
};

export type TimerSkipped = {
  type: 'TimerSkipped'; v: 1;
  data: { timer: string; tables: string[]; scheduledAt: string; reason: string };
};

// ---- Jira -----------------------------------------------------------------

/**
 * A verified Jira webhook delivery, recorded before it is answered. Appended with the idempotency key
 * `jira-webhook:<X-Atlassian-Webhook-Identifier>`, so Atlassian's retries are recorded once.
 */
export type JiraWebhookReceived = {
  type: 'JiraWebhookReceived'; v: 1;
  data: { webhookId: string; webhookEvent: string; issueKey?: string; issueId?: string; timestamp?: number; body: Record<string, unknown> };
};

/** An attachment of a Jira issue, with its file in the blob store when it was downloaded. */
export interface JiraAttachmentRef {
  id: string;
  filename: string;
  size: number;
  blob?: BlobRef;
  /** Why the file was not downloaded (too big, fetch failed). */
  skipped?: string;
}

/**
 * The full state of one Jira issue as fetched (or, when Jira could not be reached, as the webhook carried it).
 * `issue` is Jira's issue JSON with every comment and changelog entry paged in, `remoteLinks` and the field
 * names; when it is larger than fits comfortably in the log it is a JSON blob instead (`blob`).
 */
export type JiraIssueChanged = {
  type: 'JiraIssueChanged'; v: 1;
  data: {
    issueKey: string; issueId: string; created: string; updated: string;
    fetched: 'api' | 'webhook';
    issue?: Record<string, unknown>; blob?: BlobRef;
    /** True when fetching remote links failed: the last known links stay. */
    remoteLinksStale?: boolean;
    attachments: JiraAttachmentRef[];
    /** The webhook delivery or command that caused it. */
    cause: string;
  };
};

/** A Jira issue was deleted: it vanishes from every Jira table. */
export type JiraIssueDeleted = {
  type: 'JiraIssueDeleted'; v: 1;
  data: { issueKey: string; issueId?: string; cause: string };
};

/** A consistency pass compared Jira's keys and `updated` times with ours and backfilled what differed. */
export type JiraConsistencyChecked = {
  type: 'JiraConsistencyChecked'; v: 1;
  data: {
    deep: boolean; jql: string; checked: number;
    missing: string[]; stale: string[]; backfilled: string[];
    level: 'ok' | 'warning' | 'critical'; error?: RecordedError;
  };
};

// ---- Profiles, health, notifications ------------------------------------------

/** A table's profile was computed and written to `metadata/profiles.json`. */
export type TableProfiled = {
  type: 'TableProfiled'; v: 1;
  data: { table: string; contentHash: string; rows: number; columns: number; sampled: boolean; alerts: number; durationMs: number };
};

/** Profiling a table failed; its previous profile stays, marked stale. */
export type TableProfileFailed = {
  type: 'TableProfileFailed'; v: 1;
  data: { table: string; contentHash: string; error: RecordedError };
};

/**
 * The broker's overall health changed. v2: `problems` carry the table each is about as data (v1 had only
 * the `reasons` text; its reasons are upcast to problems with code `UNSTRUCTURED`).
 */
export type HealthChanged = {
  type: 'HealthChanged'; v: 2;
  data: {
    status: 'healthy' | 'degraded' | 'unhealthy'; previous: 'healthy' | 'degraded' | 'unhealthy' | 'unknown'; reasons: string[];
    problems: Array<{ code: string; table?: string; message: string }>;
  };
};

/** An admin sent a custom notification to one user or everyone. */
export type NotificationDispatched = {
  type: 'NotificationDispatched'; v: 1;
  data: { id: string; title: string; message: string; level: 'info' | 'success' | 'warning' | 'error'; to?: string; table?: string; by: string };
};

// ---- Analysts and tokens ----------------------------------------------------

export type AnalystRole = 'analyst' | 'privileged' | 'admin';

export type AnalystAdded = {
  type: 'AnalystAdded'; v: 1;
  data: { name: string; role: AnalystRole; email?: string; sshKey?: string };
};

export type AnalystRemoved = { type: 'AnalystRemoved'; v: 1; data: { name: string } };

/** An analyst's SSH public key was set, replaced or (without `sshKey`) removed; `sshKey` is one `authorized_keys` line, validated. */
export type AnalystSshKeyChanged = { type: 'AnalystSshKeyChanged'; v: 1; data: { name: string; sshKey?: string; by: string } };

export type TokenIssued = {
  type: 'TokenIssued'; v: 1;
  /** Only the token's hash is recorded, never the token. */
  data: { name: string; tokenId: string; hash: string };
};

export type TokenRevoked = { type: 'TokenRevoked'; v: 1; data: { name: string; tokenId?: string } };

/** An analyst subscribed to a dataset (`datasets:` of instance.yaml): its tables join their manifest. */
export type DatasetSubscribed = { type: 'DatasetSubscribed'; v: 1; data: { name: string; dataset: string } };

/** An analyst unsubscribed from a dataset: its tables leave their manifest at the next pull. */
export type DatasetUnsubscribed = { type: 'DatasetUnsubscribed'; v: 1; data: { name: string; dataset: string } };

// ---- Distribution -------------------------------------------------------------

/** Someone asked the distribution API for a file they may not have (private, unsubscribed or unknown). */
export type FileAccessDenied = { type: 'FileAccessDenied'; v: 1; data: { name: string; path: string; reason: 'private' | 'not-subscribed' | 'not-in-manifest' } };

/** The union of every current event version. */
export type AdaEvent =
  | SyncStarted | SyncSucceeded | SyncFailed
  | TableChunkStaged | TableStagingCompleted | TablePublished | FilesPublished | SchemaChanged
  | TableHistoryBroken | TableHistoryRestarted
  | TimerFired | TimerSkipped
  | JiraWebhookReceived | JiraIssueChanged | JiraIssueDeleted | JiraConsistencyChecked
  | TableProfiled | TableProfileFailed | HealthChanged | NotificationDispatched
  | AnalystAdded | AnalystRemoved | AnalystSshKeyChanged | TokenIssued | TokenRevoked
  | DatasetSubscribed | DatasetUnsubscribed | FileAccessDenied;

export type EventType = AdaEvent['type'];

/** Every known event type name, for validation and `ada events tail --type`. */
export const EVENT_TYPES: readonly EventType[] = [
  'SyncStarted', 'SyncSucceeded', 'SyncFailed',
  'TableChunkStaged', 'TableStagingCompleted', 'TablePublished', 'FilesPublished', 'SchemaChanged',
  'TableHistoryBroken', 'TableHistoryRestarted',
  'TimerFired', 'TimerSkipped',
  'JiraWebhookReceived', 'JiraIssueChanged', 'JiraIssueDeleted', 'JiraConsistencyChecked',
  'TableProfiled', 'TableProfileFailed', 'HealthChanged', 'NotificationDispatched',
  'AnalystAdded', 'AnalystRemoved', 'AnalystSshKeyChanged', 'TokenIssued', 'TokenRevoked',
  'DatasetSubscribed', 'DatasetUnsubscribed', 'FileAccessDenied',
];

/** Narrows the union to one event type. */
export type EventOf<T extends EventType> = Extract<AdaEvent, { type: T }>;

/** Metadata the log records with every event. */
export interface EventMetadata {
  /** Unique id, UUID-shaped: a random per-writer prefix plus the position. */
  id: string;
  /** Monotonic position in the log, starting at 1. */
  position: number;
  /** ISO-8601 time the event was appended. */
  at: string;
  /** What appended it: `cli:sync`, `timer`, `webhook:jira`, … */
  source: string;
  /** Idempotency key, when the appender gave one. */
  key?: string;
}

/** An event as read back from the log. */
export type RecordedEvent<E extends AdaEvent = AdaEvent> = E & EventMetadata;

/** What a caller hands to `append`: the event plus optional key and source. */
export type NewEvent = AdaEvent & { key?: string; source?: string };

/** Compile-time exhaustiveness check for switches over unions. */
export function assertNever(x: never): never {
  throw new Error(`unexpected value: ${JSON.stringify(x)}`);
}
