/**
 * Security headers (helmet's, with a strict CSP) computed once at start and set on every answer.
 * `@fastify/helmet` rebuilds helmet's middleware, parsing the CSP directives again, on every
 * request: a fifth of the CPU of a cheap JSON answer. The headers depend only on the options, so
 * one run of helmet against a recording response gives them all.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import helmet from 'helmet';
import type { HelmetOptions } from 'helmet';
import fp from 'fastify-plugin';

/** The portal's helmet options: a strict CSP (no inline script, nothing from another origin). */
export const HELMET_OPTIONS: Readonly<HelmetOptions> = {
  contentSecurityPolicy: {
    useDefaults: false,
    directives: {
      defaultSrc: ["'self'"],
      scriptSrc: ["'self'"],
      styleSrc: ["'self'"],
      imgSrc: ["'self'", 'data:'],
      fontSrc: ["'self'"],
      connectSrc: ["'self'"],
      formAction: ["'self'"],
      frameAncestors: ["'none'"],
      baseUri: ["'none'"],
      objectSrc: ["'none'"],
    },
  },
  // Over plain http (dev mode, tests) HSTS and upgrade-insecure-requests would break the page.
  strictTransportSecurity: false,
};

/** The headers helmet sets for these options (names lower-case), found by running it once against a recording response. */
export function securityHeaders(options: Readonly<HelmetOptions> = HELMET_OPTIONS): Record<string, string> {
  const headers: Record<string, string> = {};
  const res = {
    setHeader(name: string, value: string | number | readonly string[]) {
      headers[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : String(value);
      return res;
    },
    removeHeader(name: string) {
      delete headers[name.toLowerCase()];
    },
  };
  let failed: unknown;
  helmet(options)({} as IncomingMessage, res as unknown as ServerResponse, (err?: unknown) => {
    failed = err;
  });
  if (failed) throw failed;
  return headers;
}

/** The plugin: every route of the app (pages, APIs, assets, health) answers with the headers. */
export const securityHeadersPlugin = fp<{ options?: Readonly<HelmetOptions> }>(async (app, opts) => {
  const headers = securityHeaders(opts.options);
  app.addHook('onRequest', (_req, reply, done) => {
    reply.headers(headers);
    done();
  });
}, { name: 'ada-security-headers', fastify: '5.x' });
