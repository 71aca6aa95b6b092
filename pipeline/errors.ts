/** Error codes of the pipeline: the bus, the broker, the Parquet writer; access and profiling have their own tables. */
import { ErrorCode } from '../events/index.ts';

/** Stable codes of pipeline failures, checked by `hasCode`. */
export const PipelineErrorCode = {
  badArgument: ErrorCode.badArgument,
  cancelled: ErrorCode.cancelled,
  closed: ErrorCode.closed,
  /** A table's source has no settings in instance.yaml. */
  sourceDisabled: 'SOURCE_DISABLED',
  /** A connector's stream ended without completing the run. */
  connectorIncomplete: 'CONNECTOR_INCOMPLETE',
  /** A run was interrupted by a crash or a stop and recorded as failed on the next start. */
  interrupted: 'INTERRUPTED',
  /** Applying a staged run to the published Parquet files failed. */
  publishFailed: 'PUBLISH_FAILED',
  /** A partitioned table's partition column is missing or of a type that cannot partition. */
  partitionColumnInvalid: 'PARTITION_COLUMN_INVALID',
} as const;
