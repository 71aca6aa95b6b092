/**
 * `POST /webhooks/jira`: verifies the signature of the raw body, records the delivery in the log keyed by
 * Atlassian's webhook identifier, and answers once it is durable. No Jira call happens here.
 */
import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import type { AppendResult, NewEvent } from '../../events/index.ts';
import { JiraErrorCode } from './errors.ts';
import { verifySignature } from './webhook-signature.ts';

/** Jira webhook bodies are a few kilobytes; an issue with a long description stays far below this. */
export const WEBHOOK_BODY_LIMIT = 1024 * 1024;

/** What the route needs. */
export interface WebhookRouteDeps {
  /** Undefined: every delivery is refused with 503 (never fail open). */
  webhookSecret?: string | undefined;
  append(event: NewEvent): Promise<AppendResult>;
}

const replySchema = { type: 'object', properties: { ok: { type: 'boolean' }, duplicate: { type: 'boolean' }, error: { type: 'string' }, code: { type: 'string' } } } as const;

function header(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** The route as an encapsulated fastify plugin (its raw-body parser does not leak to other routes). */
export function jiraWebhookRoutes(deps: WebhookRouteDeps): FastifyPluginAsync {
  return async (app: FastifyInstance) => {
    app.removeAllContentTypeParsers();
    app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: WEBHOOK_BODY_LIMIT }, (_req, body, done) => done(null, body));
    app.post('/webhooks/jira', {
      bodyLimit: WEBHOOK_BODY_LIMIT,
      schema: { response: { 200: replySchema, 400: replySchema, 401: replySchema, 503: replySchema } },
    }, async (req, reply) => {
      if (!deps.webhookSecret) return reply.code(503).send({ ok: false, code: JiraErrorCode.webhookSecretMissing, error: 'jira.webhook_secret is not configured: deliveries are refused' });
      const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      if (!verifySignature(deps.webhookSecret, raw, header(req.headers['x-hub-signature']))) {
        return reply.code(401).send({ ok: false, code: JiraErrorCode.signatureInvalid, error: 'X-Hub-Signature does not match the body' });
      }
      let body: Record<string, unknown>;
      try {
        const parsed: unknown = JSON.parse(raw.toString('utf8'));
        if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not a JSON object');
        body = parsed as Record<string, unknown>;
      } catch (err) {
        return reply.code(400).send({ ok: false, code: JiraErrorCode.webhookBadJson, error: `the body is not a JSON object: ${(err as Error).message}` });
      }
      const webhookId = header(req.headers['x-atlassian-webhook-identifier']) ?? `sha256:${createHash('sha256').update(raw).digest('hex')}`;
      const issue = (body.issue ?? {}) as { key?: unknown; id?: unknown };
      const result = await deps.append({
        type: 'JiraWebhookReceived', v: 1, source: 'webhook:jira', key: `jira-webhook:${webhookId}`,
        data: {
          webhookId, webhookEvent: String(body.webhookEvent ?? 'unknown'), body,
          ...(typeof issue.key === 'string' ? { issueKey: issue.key } : {}),
          ...(issue.id !== undefined ? { issueId: String(issue.id) } : {}),
          ...(typeof body.timestamp === 'number' ? { timestamp: body.timestamp } : {}),
        },
      });
      return reply.code(200).send({ ok: true, duplicate: result.duplicate });
    });
  };
}
