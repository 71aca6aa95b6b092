/** The Jira connector's settings: read from the `jira` section of instance.yaml (or `JIRA_*` variables) and validated. */
import type { AdaConfig, ConfigProblem } from '../../config/index.ts';

/** Files bigger than this are listed but not downloaded (the original's limit). */
export const DEFAULT_ATTACHMENT_MAX_BYTES = 50 * 1024 * 1024;

/** Validated Jira settings; secrets stay in memory only. */
export interface JiraSettings {
  /** Base URL of the site, e.g. `https://acme.atlassian.net` (a bare domain gets `https://`; `http://` only for a loopback host). */
  baseUrl: string;
  email?: string;
  apiToken?: string;
  webhookSecret?: string;
  /** Second account for Jira Service Management SLA fields. */
  slaEmail?: string;
  slaApiToken?: string;
  /** Field ids (or names) of SLA fields to fetch; empty disables the SLA poll. */
  slaFields: string[];
  attachmentMaxBytes: number;
  /** Most issues one consistency pass backfills. */
  consistencyMaxBackfill: number;
  /** JQL of the 30-minute consistency pass (recent issues). */
  consistencyJql: string;
  /** JQL of the weekly deep pass (all issues). */
  deepJql: string;
}

/** Environment variables the connector reads when instance.yaml has no `jira` section. */
const ENV = {
  domain: 'JIRA_DOMAIN', email: 'JIRA_EMAIL', apiToken: 'JIRA_API_TOKEN', webhookSecret: 'JIRA_WEBHOOK_SECRET',
  slaEmail: 'JIRA_SLA_EMAIL', slaApiToken: 'JIRA_SLA_API_TOKEN', slaFields: 'JIRA_SLA_FIELDS',
  attachmentMaxMb: 'JIRA_ATTACHMENT_MAX_MB', consistencyMaxBackfill: 'JIRA_CONSISTENCY_MAX_BACKFILL',
} as const;

type Env = Readonly<Record<string, string | undefined>>;

/** Host names of this machine (`URL.hostname` keeps IPv6 in brackets). */
const LOOPBACK = /^(localhost|127(\.\d{1,3}){3}|\[::1\])$/i;

const blank = (v: string | undefined): v is undefined => v === undefined || v.trim() === '';

/** True exactly when a Jira domain is configured (`jira.domain` or `JIRA_DOMAIN`). */
export function jiraEnabled(config: AdaConfig, env: Env): boolean {
  return !blank(config.instance.jira?.domain) || !blank(env[ENV.domain]);
}

function positiveNumber(raw: string | undefined, name: string, fallback: number, problems: ConfigProblem[], file: string): number {
  if (blank(raw)) return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) {
    problems.push({ file, path: name, message: `expected a positive number, found ${JSON.stringify(raw)}` });
    return fallback;
  }
  return n;
}

/** The settings, or the problems that stop Jira from running (file and key of each), plus warnings. */
export function readJiraConfig(config: AdaConfig, env: Env): { settings?: JiraSettings; problems: ConfigProblem[]; warnings: ConfigProblem[] } {
  const problems: ConfigProblem[] = [];
  const warnings: ConfigProblem[] = [];
  const section = config.instance.jira;
  const file = section ? config.instanceFile : '.env';
  const pick = (fromYaml: string | undefined, key: keyof typeof ENV): string | undefined => (blank(fromYaml) ? (blank(env[ENV[key]]) ? undefined : env[ENV[key]]!.trim()) : fromYaml.trim());
  const domain = pick(section?.domain, 'domain');
  if (!domain) return { problems, warnings };
  let baseUrl = /^https?:\/\//i.test(domain) ? domain : `https://${domain}`;
  baseUrl = baseUrl.replace(/\/+$/, '');
  try {
    const url = new URL(baseUrl);
    if (url.pathname !== '/' && url.pathname !== '') throw new Error('path');
    // The API token travels in every request: plain http only to this machine (a local or test Jira).
    if (url.protocol === 'http:' && !LOOPBACK.test(url.hostname)) {
      problems.push({ file, path: 'jira.domain', message: `http:// is allowed for a loopback host only (localhost, 127.0.0.1, [::1]); use https://, or no scheme, for ${JSON.stringify(domain)}` });
    }
  } catch {
    problems.push({ file, path: 'jira.domain', message: `expected a host name such as acme.atlassian.net, found ${JSON.stringify(domain)}` });
  }
  const settings: JiraSettings = {
    baseUrl,
    email: pick(section?.email, 'email'),
    apiToken: pick(section?.apiToken, 'apiToken'),
    webhookSecret: pick(section?.webhookSecret, 'webhookSecret'),
    slaEmail: pick(section?.slaEmail, 'slaEmail'),
    slaApiToken: pick(section?.slaApiToken, 'slaApiToken'),
    slaFields: (env[ENV.slaFields] ?? '').split(',').map((s) => s.trim()).filter(Boolean),
    attachmentMaxBytes: Math.round(positiveNumber(env[ENV.attachmentMaxMb], ENV.attachmentMaxMb, DEFAULT_ATTACHMENT_MAX_BYTES / 1024 / 1024, problems, '.env') * 1024 * 1024),
    consistencyMaxBackfill: Math.round(positiveNumber(env[ENV.consistencyMaxBackfill], ENV.consistencyMaxBackfill, 50, problems, '.env')),
    consistencyJql: 'updated >= -2d ORDER BY updated DESC',
    deepJql: 'ORDER BY created ASC',
  };
  if (!settings.webhookSecret) warnings.push({ file, path: 'jira.webhook_secret', message: 'not set: POST /webhooks/jira refuses every delivery (503) until it is' });
  if (!settings.email || !settings.apiToken) warnings.push({ file, path: 'jira.api_token', message: 'email/api_token not set: issues are taken from webhook bodies only, backfill and timers cannot run' });
  return problems.length ? { problems, warnings } : { settings, problems, warnings };
}
