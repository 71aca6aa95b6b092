/** Error codes of the Keboola connector and the redaction every message goes through before it leaves the client. */
import { maskSecrets } from '../../config/index.ts';
import { ErrorCode } from '../../events/index.ts';

/** Stable codes of Keboola failures, checked by code (`hasCode`). */
export const KeboolaErrorCode = {
  /** 401: the Storage API token was rejected. */
  unauthorized: 'KEBOOLA_UNAUTHORIZED',
  /** 403: the token may not read this bucket, table or file. */
  forbidden: 'KEBOOLA_FORBIDDEN',
  /** 404: no such table, job or file (or the token cannot see it). */
  notFound: 'KEBOOLA_NOT_FOUND',
  /** Any other 4xx: Keboola refused the request; its message says why. */
  requestFailed: 'KEBOOLA_REQUEST_FAILED',
  /** 429, 5xx or network errors that outlasted the retries. */
  unavailable: 'KEBOOLA_UNAVAILABLE',
  /** An export job ended in `error`; the message is Keboola's. */
  jobFailed: 'KEBOOLA_JOB_FAILED',
  /** An export job did not finish within the wait limit. */
  jobTimeout: 'KEBOOLA_JOB_TIMEOUT',
  /** A file or slice could not be downloaded completely. */
  downloadFailed: 'KEBOOLA_DOWNLOAD_FAILED',
  /** Keboola answered with something that is not the documented shape. */
  badResponse: 'KEBOOLA_BAD_RESPONSE',
  /** A value does not fit the column type taken from metadata or the table config. */
  typeMismatch: 'KEBOOLA_TYPE_MISMATCH',
  /** The run was stopped by its abort signal or by `close()`. */
  cancelled: ErrorCode.cancelled,
} as const;

/** URLs in free text: the query (pre-signed signatures, SAS tokens) and fragment are dropped. */
const URL_RE = /\b(?:https?|s3|gs|azure):\/\/[^\s"'<>]+/gi;

/** Removes secrets from text: the token (and any other listed secret) becomes `***`, URL queries become `?…`. */
export function redact(text: string, secrets: readonly string[]): string {
  const masked = maskSecrets(text, secrets);
  return masked.replace(URL_RE, (url) => {
    const cut = url.search(/[?#]/);
    return cut === -1 ? url : `${url.slice(0, cut)}?…`;
  });
}

/** A URL as it may appear in a message: origin and path only. */
export function safeUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return redact(url, []);
  }
}
