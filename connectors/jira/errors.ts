/** Error codes of the Jira connector. */
import { adaError } from '../../events/index.ts';
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
  badArgument: 'BAD_ARGUMENT',
} as const;

/** An HTTP failure of a Jira call; the status is in `details.status`, never the credentials. */
export function jiraHttpError(status: number, what: string, body: string): AdaError {
  return adaError(JiraErrorCode.http, `Jira answered ${status} to ${what}${body ? `: ${body.slice(0, 200)}` : ''}`, { status });
}
