/** The only file paths the distribution API accepts: relative, forward slashes, no dot segments, nothing odd. */

/** Longest path accepted: manifest paths are a folder, a table and a partition. */
const MAX_PATH_CHARS = 512;

/** A manifest-shaped relative path, or undefined for anything else (absolute, `..`, `.`, empty segments, backslashes, control characters). */
export function normalizeRequestPath(raw: string): string | undefined {
  if (raw.length === 0 || raw.length > MAX_PATH_CHARS) return undefined;
  // eslint-disable-next-line no-control-regex
  if (/[\\\u0000-\u001f\u007f%]/.test(raw) || raw.startsWith('/')) return undefined;
  const parts = raw.split('/');
  if (parts.some((p) => p === '' || p === '.' || p === '..')) return undefined;
  return parts.join('/');
}
