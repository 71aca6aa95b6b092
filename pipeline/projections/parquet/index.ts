/** Public face of the Parquet projection's I/O core: publishing a run's staged chunks as a table's Parquet files. */
export { ParquetPublisher, computeContentHash, DEFAULT_MEMORY_LIMIT, DUCKDB_TEMP_DIR, PUBLISH_FAILED, PUBLISH_INCOMPLETE, parseByteSize } from './publish.ts';
export type { PublishInput, PublishedTable, PublishResult, ParquetPublisherOptions, PartitionManifest } from './publish.ts';
export { mergeSchema, SCHEMA_INCOMPATIBLE } from './schema-merge.ts';
export type { SchemaChange, MergedSchema } from './schema-merge.ts';
export { NULL_PARTITION, partitionFilterSql, partitionKeySql, isPartitionKey } from './partition-key.ts';
export { tableLayout, partitionFile, PARQUET_ROOT } from './table-layout.ts';
export type { TableLayout } from './table-layout.ts';
export { recoverPublishes, JOURNAL_CORRUPT } from './publish-journal.ts';
export type { PublishJournal } from './publish-journal.ts';
