/** Jira's configuration: the top-level `jira:` section, which enables Jira exactly when `jira.domain` has a value. */
import { readBoolean, readSchedule, readString, warnUnknownKeys } from '../../config/index.ts';
import type { ConnectorConfigDeclaration } from '../../config/index.ts';

/** The `jira:` section as loaded. */
export interface JiraSettings {
  /** Host name, no trailing `/`; `https://` is implied, an explicit `http://` (a local test server) is kept. */
  domain: string;
  email?: string;
  apiToken?: string;
  webhookSecret?: string;
  slaEmail?: string;
  slaApiToken?: string;
  cloudId?: string;
  /** Cron of Jira's source timer (else the default). */
  schedule?: string;
  /** Every Jira table visible to privileged analysts and admins only (default false). */
  private?: boolean;
}

declare module '../../config/types.ts' {
  interface TopLevelSections {
    jira?: JiraSettings;
  }
}

/** An unset `${JIRA_DOMAIN}` or an empty domain disables Jira (with a warning) instead of failing. */
export const jiraConfig: ConnectorConfigDeclaration = {
  type: 'jira',
  label: 'Jira',
  section: { in: 'top', key: 'jira' },
  primary: false,
  readWhen: { keySet: 'domain' },
  readSection(jira, { ctx, at }): JiraSettings {
    warnUnknownKeys(ctx, jira, at, ['domain', 'email', 'api_token', 'webhook_secret', 'sla_email', 'sla_api_token', 'cloud_id', 'schedule', 'private']);
    const domain = (readString(ctx, jira, at, 'domain', { required: true }) ?? '').trim();
    const settings: JiraSettings = {
      domain: domain.replace(/^https:\/\//i, '').replace(/\/+$/, ''),
      email: readString(ctx, jira, at, 'email'),
      apiToken: readString(ctx, jira, at, 'api_token', { secret: true }),
      webhookSecret: readString(ctx, jira, at, 'webhook_secret', { secret: true }),
      slaEmail: readString(ctx, jira, at, 'sla_email'),
      slaApiToken: readString(ctx, jira, at, 'sla_api_token', { secret: true }),
      cloudId: readString(ctx, jira, at, 'cloud_id'),
      schedule: readSchedule(ctx, jira, at),
      private: readBoolean(ctx, jira, at, 'private'),
    };
    if (!settings.webhookSecret) ctx.warn(at, 'no webhook_secret: Jira webhooks will be refused until one is set');
    if (!settings.email || !settings.apiToken) ctx.warn(at, 'no email/api_token: issues cannot be fetched from Jira, only taken from webhook bodies');
    return settings;
  },
  tableKeys: [],
};
