/** Temp-file naming and the fsync steps that make a rename publish a whole file or nothing. */
import { randomBytes } from 'node:crypto';
import path from 'node:path';

/**
 * Temp files sit next to their final path as `.<name>.tmp-<hex>`: same directory, so the rename is atomic;
 * a leading dot, so globs such as `*.parquet` never match them.
 */
export function tempPathFor(finalPath: string): string {
  return path.join(path.dirname(finalPath), `.${path.basename(finalPath)}.tmp-${randomBytes(8).toString('hex')}`);
}

/** Matches the base name of a file made by tempPathFor. */
export const TEMP_FILE_RE = /^\..+\.tmp-[0-9a-f]+$/;

/** Matches the base name of a temp file left by write-file-atomic (`<file>.<uint32>`) for our manifests and journals. */
export const ATOMIC_WRITE_TEMP_RE = /^(_manifest\.json|\.publish-journal-.+\.json)\.\d+$/;

/** fsyncs a file's data and metadata (DuckDB's COPY and fs.copyFile do not). */
export { fsyncFile } from '../../../events/index.ts';
