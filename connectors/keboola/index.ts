/** Public face of the Keboola connector: tables exported through the Keboola Storage API, and the client the init wizard uses. */
export { keboolaConnector, KeboolaConnector } from './keboola-connector.ts';
export type { KeboolaConnectorOptions } from './keboola-connector.ts';
export { KeboolaClient, DOWNLOAD_CONCURRENCY, MAX_URL_REFRESHES, REQUEST_TIMEOUT_MS, STALL_TIMEOUT_MS } from './client.ts';
export type { CompletedExport, DownloadedExport, ExportFormat, KeboolaClientOptions, TableWithMetadata } from './client.ts';
export { KeboolaErrorCode, redact } from './errors.ts';
export { DEFAULT_JOB_POLL, DEFAULT_RETRY } from './retry-policy.ts';
export type { JobPollPolicy, RetryPolicy } from './retry-policy.ts';
export { metadataColumns, planColumns, tableDescription, PROVIDER_PRIORITY, TYPE_KEYS } from './table-schema.ts';
export type { PlannedColumn } from './table-schema.ts';
export { parseCursor, planExports } from './export-plan.ts';
export type { ExportPlan, ExportWindow, KeboolaCursor } from './export-plan.ts';
export type { Bucket, FileDetail, Job, MetadataEntry, TableDetail, TokenInfo } from './storage-api-types.ts';
export type { ObjectStoreEndpoints } from './object-store.ts';
