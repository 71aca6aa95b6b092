/** Checks that a name can be used as one directory or file name under the data directory. */

/**
 * Returns why `name` is not a safe single path segment (empty, `.`/`..`,
 * leading dot, a `/` or `\` separator, NUL or another control character),
 * or undefined when it is safe.
 */
export function unsafePathSegmentReason(name: string): string | undefined {
  if (name === '') return 'is empty';
  if (name === '.' || name === '..') return `"${name}" is a relative directory reference`;
  if (/[/\\]/.test(name)) return `"${name}" contains a path separator`;
  if (name.startsWith('.')) return `"${name}" starts with a dot`;
  if (name.includes('\0')) return 'contains a NUL character';
  // eslint-disable-next-line no-control-regex -- control characters are exactly what is refused here
  if (/[\x00-\x1f\x7f]/.test(name)) return 'contains a control character';
  return undefined;
}

/** True when `name` is safe as a single path segment (see unsafePathSegmentReason). */
export function isSafePathSegment(name: string): boolean {
  return unsafePathSegmentReason(name) === undefined;
}
