/**
 * Public face of the Keboola connector: tables exported through the Storage API. Loading it initialises only the
 * module's declarations (settings, setup questions); the connector and its Storage API client (./keboola-connector.ts,
 * ./client.ts) load on first use.
 */
export { keboolaConnector } from './keboola-module.ts';
export type { KeboolaConnector, KeboolaConnectorOptions } from './keboola-connector.ts';
export type { CompletedExport, DownloadedExport, ExportFormat, KeboolaClient, KeboolaClientOptions, TableWithMetadata } from './client.ts';
export { KeboolaErrorCode, redact } from './errors.ts';
export { DEFAULT_JOB_POLL, DEFAULT_RETRY } from './retry-policy.ts';
export type { JobPollPolicy, RetryPolicy } from './retry-policy.ts';
export { metadataColumns, planColumns, tableDescription, PROVIDER_PRIORITY, TYPE_KEYS } from './table-schema.ts';
export type { PlannedColumn } from './table-schema.ts';
export { parseCursor, planExports } from './export-plan.ts';
export type { ExportPlan, ExportWindow, KeboolaCursor } from './export-plan.ts';
export type { Bucket, FileDetail, Job, MetadataEntry, TableDetail, TokenInfo } from './storage-api-types.ts';
export type { ObjectStoreEndpoints } from './object-store.ts';
