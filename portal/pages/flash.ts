/** One-time messages after a form POST (kept in the session until the next page shows them). */
import type { FastifyRequest } from 'fastify';
import { html } from '../views/html.ts';
import type { SafeHtml } from '../views/html.ts';

declare module '@fastify/secure-session' {
  interface SessionData {
    flash: { kind: 'ok' | 'error'; text: string };
  }
}

/** Remembers a message for the next page. */
export function flash(req: FastifyRequest, kind: 'ok' | 'error', text: string): void {
  req.session.set('flash', { kind, text });
}

/** The pending message as markup, removed from the session. */
export function takeFlash(req: FastifyRequest): SafeHtml {
  const f = req.session.get('flash');
  if (!f) return html``;
  req.session.set('flash', undefined);
  return html`<div class="flash ${f.kind}" role="status">${f.text}</div>`;
}
