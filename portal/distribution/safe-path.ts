/** The only file paths the distribution API accepts: relative, forward slashes, no dot segments, nothing odd. */
import { isPlainRelativePath } from '../../events/index.ts';

/** A manifest-shaped relative path, or undefined for anything else (absolute, `..`, `.`, empty segments, backslashes, control characters). */
export function normalizeRequestPath(raw: string): string | undefined {
  return isPlainRelativePath(raw) ? raw : undefined;
}
