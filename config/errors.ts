/** Error codes of configuration loading: events' generic codes, named for config/. */
import { ErrorCode } from '../events/index.ts';

/** Stable codes of configuration failures, checked by `hasCode`. */
export const ConfigErrorCode = {
  /** A file or key is wrong; `details.problems` lists each with file, line and field. */
  invalid: ErrorCode.configInvalid,
  /** `instance.yaml` is not in the configuration directory. */
  missing: ErrorCode.configMissing,
} as const;
