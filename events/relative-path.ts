/**
 * The shape of every file path the broker hands out (manifest paths, `FilesPublished` paths): what the distribution
 * API serves and `ada pull` writes under `server/`.
 */

/** Longest path accepted: a folder, a table and a partition, or a dataset folder and a file name. */
export const MAX_RELATIVE_PATH_CHARS = 512;

/**
 * True for a relative path with forward slashes and no dot or empty segments, backslashes, control characters or
 * `%` (the API's paths arrive decoded once; a `%` left would be a second encoding).
 */
export function isPlainRelativePath(p: string): boolean {
  if (p.length === 0 || p.length > MAX_RELATIVE_PATH_CHARS) return false;
  // eslint-disable-next-line no-control-regex -- control characters are exactly what must not reach a path
  if (/[\\\u0000-\u001f\u007f%]/.test(p) || p.startsWith('/')) return false;
  return !p.split('/').some((s) => s === '' || s === '.' || s === '..');
}
