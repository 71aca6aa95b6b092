/** Where a table's published Parquet files, manifest and publish journal live, relative to the data directory. */
import { posix } from 'node:path';
import { unsafePathSegmentReason } from '../../../config/index.ts';
import { adaError, ErrorCode } from '../../../events/index.ts';

/** Paths of one table's published files, relative to the data directory, with forward slashes. */
export interface TableLayout {
  /** `parquet/<folder>` */
  folderDir: string;
  /** `parquet/<folder>/<name>.parquet`, the file of a table without `partitionBy`. */
  singleFile: string;
  /** `parquet/<folder>/<name>`, the directory of a partitioned table's files. */
  partitionDir: string;
  /** `parquet/<folder>/<name>/_manifest.json` */
  manifest: string;
  /** `parquet/.publish-journal-<name>.json` */
  journal: string;
}

/** The directory under the data directory that holds every published file. */
export const PARQUET_ROOT = 'parquet';

/** Computes the layout of a table; throws BAD_ARGUMENT for names that could escape the parquet directory. */
export function tableLayout(folder: string, name: string): TableLayout {
  // Temp, journal and manifest-temp files start with a dot, so no published name may.
  const nameProblem = unsafePathSegmentReason(name);
  if (nameProblem) throw adaError(ErrorCode.badArgument, `table name ${nameProblem}`, { name });
  const folderProblem = folder.split('/').map(unsafePathSegmentReason).find((p) => p !== undefined);
  if (folderProblem) throw adaError(ErrorCode.badArgument, `table ${name}: folder ${folderProblem}`, { folder });
  const folderDir = posix.join(PARQUET_ROOT, folder);
  const partitionDir = posix.join(folderDir, name);
  return {
    folderDir,
    singleFile: `${partitionDir}.parquet`,
    partitionDir,
    manifest: posix.join(partitionDir, MANIFEST_NAME),
    journal: posix.join(PARQUET_ROOT, `${JOURNAL_PREFIX}${name}.json`),
  };
}

/** The file of one partition of a partitioned table. */
export function partitionFile(layout: TableLayout, key: string): string {
  return posix.join(layout.partitionDir, `${key}.parquet`);
}

/** The manifest file name inside a partitioned table's directory. */
export const MANIFEST_NAME = '_manifest.json';

/** Publish journals are `parquet/.publish-journal-<name>.json`. */
export const JOURNAL_PREFIX = '.publish-journal-';

/** True when `rel` is a normalised path inside `parquet/` (what a published file path must be before we delete or overwrite it). */
export function isInsideParquetRoot(rel: string): boolean {
  return rel.startsWith(`${PARQUET_ROOT}/`) && posix.normalize(rel) === rel && !rel.split('/').includes('..');
}
