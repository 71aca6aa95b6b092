/**
 * JSON answers serialised once per state: a busy API answers the same bytes to everyone of one
 * role until the log head moves, so the route's schema serialiser runs once per state, not per
 * request, and a client that sends back the ETag gets a bodiless 304.
 */
import { createHash } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';

/** A serialised answer: its bytes and their ETag. */
export interface JsonAnswer {
  body: Buffer;
  etag: string;
}

/** Serialises a value with the route's response schema for `status` (the declared schema stays the contract). */
export function serializeAnswer(reply: FastifyReply, value: object, status = 200): JsonAnswer {
  const body = Buffer.from(reply.serializeInput(value as Record<string, unknown>, String(status)) as string, 'utf8');
  return { body, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"` };
}

/** Whether an `If-None-Match` header names this ETag (a list, weak validators, or `*`). */
export function etagMatches(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  if (header.trim() === '*') return true;
  return header.split(',').some((t) => t.trim().replace(/^W\//, '') === etag);
}

/**
 * Sends a serialised answer: 304 when the client holds it already. `private, no-cache`: the answer
 * depends on who asks, so no shared cache keeps it, and a browser revalidates it each time.
 */
export function sendAnswer(req: FastifyRequest, reply: FastifyReply, answer: JsonAnswer, status = 200): FastifyReply {
  void reply.header('etag', answer.etag).header('cache-control', 'private, no-cache');
  if (status === 200 && etagMatches(req.headers['if-none-match'], answer.etag)) return reply.code(304).send();
  return reply.code(status).type('application/json; charset=utf-8').send(answer.body);
}

/**
 * A small cache of answers per key, held by the state object they were built from (a WeakMap
 * entry: a replaced state drops its answers). `maxPerState` bounds what search queries can fill.
 */
export class AnswerCache<S extends object> {
  private readonly byState = new WeakMap<S, Map<string, JsonAnswer>>();

  constructor(private readonly maxPerState = 64) {}

  /** The answer for `key` under `state` when it was built already (no closure to allocate on the busy path). */
  peek(state: S, key: string): JsonAnswer | undefined {
    return this.byState.get(state)?.get(key);
  }

  /** The answer for `key` under `state`, built by `build` when missing. */
  get(state: S, key: string, build: () => JsonAnswer): JsonAnswer {
    let answers = this.byState.get(state);
    if (!answers) this.byState.set(state, (answers = new Map()));
    let answer = answers.get(key);
    if (!answer) {
      answer = build();
      // Oldest first out: a map iterates in insertion order.
      if (answers.size >= this.maxPerState) answers.delete(answers.keys().next().value!);
      answers.set(key, answer);
    }
    return answer;
  }
}
