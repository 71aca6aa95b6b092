/** Errors with a stable string `code`, checked by code rather than by class. */
export class AdaError extends Error {
  readonly code: string;
  readonly details: Record<string, unknown>;

  constructor(code: string, message: string, details: Record<string, unknown> = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AdaError';
    this.code = code;
    this.details = details;
  }
}

/** Creates an error carrying a stable `code` and a message a user can act on. */
export function adaError(code: string, message: string, details: Record<string, unknown> = {}, cause?: unknown): AdaError {
  return new AdaError(code, message, details, cause === undefined ? undefined : { cause });
}

/** True when `err` is an error with the given stable code. */
export function hasCode(err: unknown, code: string): err is AdaError {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === code;
}

/** Stable error codes used across the code base; each room's `index.ts` exports its own table beside these. */
export const ErrorCode = {
  badArgument: 'BAD_ARGUMENT',
  /** A run or a wait stopped by its abort signal, Ctrl-C or a shutdown: the one code for it everywhere. */
  cancelled: 'CANCELLED',
  closed: 'CLOSED',
  locked: 'LOCKED',
  logCorrupt: 'LOG_CORRUPT',
  blobCorrupt: 'BLOB_CORRUPT',
  blobMissing: 'BLOB_MISSING',
  configInvalid: 'CONFIG_INVALID',
  configMissing: 'CONFIG_MISSING',
  notFound: 'NOT_FOUND',
  unknownEventType: 'UNKNOWN_EVENT_TYPE',
} as const;

/** The string values of an error code table: `CodeOf<typeof ErrorCode>` is `'BAD_ARGUMENT' | 'CANCELLED' | …`. */
export type CodeOf<T extends Record<string, string>> = T[keyof T];
