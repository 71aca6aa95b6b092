/** Error codes of the Jira connector. */
import { adaError, ErrorCode } from '../../events/index.ts';
import type { AdaError } from '../../events/index.ts';

/** Stable codes, checked by `hasCode`. */
export const JiraErrorCode = {
  /** Jira answered with an HTTP error that retries did not cure. */
  http: 'JIRA_HTTP',
  /** Jira could not be reached (network, timeout). */
  unreachable: 'JIRA_UNREACHABLE',
  /** No email/api token: the REST API cannot be called. */
  noCredentials: 'JIRA_NO_CREDENTIALS',
  /** A backfill argument is wrong. */
  badArgument: ErrorCode.badArgument,
  /** Jira is not enabled or its settings are wrong. */
  configInvalid: ErrorCode.configInvalid,
  /** `jira.webhook_secret` is not set: deliveries are refused. */
  webhookSecretMissing: 'JIRA_WEBHOOK_SECRET_MISSING',
  /** A delivery's `X-Hub-Signature` does not match its body. */
  signatureInvalid: 'JIRA_SIGNATURE_INVALID',
  /** A delivery's body is not a JSON object. */
  webhookBadJson: 'JIRA_WEBHOOK_BAD_JSON',
} as const;

/** An HTTP failure of a Jira call; the status is in `details.status`, never the credentials. */
export function jiraHttpError(status: number, what: string, body: string): AdaError {
  return adaError(JiraErrorCode.http, `Jira answered ${status} to ${what}${body ? `: ${body.slice(0, 200)}` : ''}`, { status });
}
