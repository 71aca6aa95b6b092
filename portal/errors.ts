/** Error codes of the portal and the control socket: what a request can end with, beside the other rooms' codes. */
import { ErrorCode } from '../events/index.ts';

/** Stable codes of request failures, checked by `hasCode`; `error-handler.ts` maps each to its HTTP status. */
export const PortalErrorCode = {
  badArgument: ErrorCode.badArgument,
  configInvalid: ErrorCode.configInvalid,
  notFound: ErrorCode.notFound,
  locked: ErrorCode.locked,
  cancelled: ErrorCode.cancelled,
  /** The request's body, query or parameters do not fit the route's schema. */
  badRequest: 'BAD_REQUEST',
  /** No session or bearer token, or one that is not valid. */
  unauthenticated: 'UNAUTHENTICATED',
  /** Signed in, but the role does not allow it. */
  forbidden: 'FORBIDDEN',
  /** The identity provider's answer or the sign-in policy refused the sign-in. */
  signInRefused: 'SIGN_IN_REFUSED',
  /** The request conflicts with the current state. */
  conflict: 'CONFLICT',
  /** An `If-Match` precondition did not hold. */
  preconditionFailed: 'PRECONDITION_FAILED',
  bodyTooLarge: 'BODY_TOO_LARGE',
  rangeNotSatisfiable: 'RANGE_NOT_SATISFIABLE',
  unsupportedMediaType: 'UNSUPPORTED_MEDIA_TYPE',
  rateLimited: 'RATE_LIMITED',
  /** A dependency (the broker, the identity provider) cannot answer now; retry later. */
  unavailable: 'UNAVAILABLE',
  /** Anything unexpected: a 500 whose details are only in the server log. */
  internal: 'INTERNAL',
} as const;
