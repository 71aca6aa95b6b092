/** What the portal's pages are given, and the web layer's limits: apart from web.ts, which registers the pages. */
import type { AccessState, HealthReport } from '../pipeline/index.ts';
import type { AppDeps } from './deps.ts';
import type { LogIndex } from './data/log-index.ts';

/** Deps as the pages get them: health cached, access always present, and the log index. */
export type WebDeps = AppDeps & { health(): Promise<HealthReport>; access(): Promise<AccessState>; index: LogIndex };

/** Limits of the web layer, with their reasons. */
export const WEB_LIMITS = {
  /** Sign-in attempts per address and minute: a person needs a few; a script guessing needs thousands. */
  signInPerMinute: 20,
  /** Token creations per address and minute. */
  tokensPerMinute: 10,
  /** Form bodies are a few fields. */
  formBodyBytes: 16 * 1024,
} as const;
