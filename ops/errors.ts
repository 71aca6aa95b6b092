/** Error codes of the command line: `ada serve`, the control client, `ada init`, `ada events`. */
import { ErrorCode } from '../events/index.ts';

/** Stable codes of command failures, checked by `hasCode`. */
export const OpsErrorCode = {
  cancelled: ErrorCode.cancelled,
  /** Another process holds the event log: commands go through its control socket. */
  locked: ErrorCode.locked,
  /** `ada serve --port` is taken by another process. */
  portInUse: 'PORT_IN_USE',
  /** This user may not listen on a port below 1024. */
  portForbidden: 'PORT_FORBIDDEN',
  /** `ada serve --host` is not an address of this machine. */
  badHost: 'BAD_HOST',
  /** The running server answered the control socket without a code of its own. */
  controlError: 'CONTROL_ERROR',
  /** `ada events verify` could not read a blob and got no code for why. */
  blobUnreadable: 'BLOB_UNREADABLE',
  /** `ada init`'s input ended before every question was answered. */
  initInputEnded: 'INIT_INPUT_ENDED',
} as const;
