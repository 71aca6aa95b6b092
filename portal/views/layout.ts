/** The page shell: sidebar navigation, header, the stylesheet and the one live-update script. */
import type { AdaConfig } from '../../config/index.ts';
import type { PortalPrincipal } from '../auth-plugin.ts';
import { html } from './html.ts';
import type { SafeHtml } from './html.ts';

/** What every signed-in page knows besides its content. */
export interface PageContext {
  config: AdaConfig;
  principal: PortalPrincipal;
  /** Session ticket for the notification websocket (absent for token callers). */
  liveTicket?: string;
  /** Whether the websocket exists on this server. */
  live: boolean;
  /** CSRF token for the page's forms. */
  csrf: string;
}

const NAV: Array<{ href: string; label: string; icon: string; admin?: boolean }> = [
  { href: '/', label: 'Dashboard', icon: '◧' },
  { href: '/catalog', label: 'Catalog', icon: '▦' },
  { href: '/metrics', label: 'Metrics', icon: 'Σ' },
  { href: '/status', label: 'Health', icon: '♥' },
  { href: '/events', label: 'Event log', icon: '≡' },
  { href: '/account', label: 'My account', icon: '◉' },
  { href: '/admin', label: 'Admin', icon: '⚙', admin: true },
];

/** The start of every page's document, up to the page's own head elements. */
function documentHead(title: string, instance: string): SafeHtml {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · ${instance}</title>
<link rel="stylesheet" href="/assets/portal.css">
<link rel="icon" href="/assets/favicon.svg" type="image/svg+xml">
`;
}

/** A whole signed-in page. */
export function page(ctx: PageContext, opts: { title: string; active: string; body: SafeHtml; subtitle?: string | SafeHtml }): SafeHtml {
  const { config, principal } = ctx;
  const inst = config.instance.instance;
  const who = config.instance.users[principal.name]?.name ?? principal.name;
  return html`${documentHead(opts.title, inst.name)}${ctx.live && ctx.liveTicket ? html`<meta name="ada-live" content="${ctx.liveTicket}">` : ''}
<script src="/assets/live.js" defer></script>
</head>
<body>
<input type="checkbox" id="nav-toggle" class="nav-toggle" aria-label="menu">
<aside class="sidebar">
  <a class="brand" href="/"><span class="logo">ada</span><span class="brand-name">${inst.name}</span></a>
  <nav>
    ${NAV.filter((n) => !n.admin || principal.role === 'admin').map((n) => html`<a href="${n.href}" class="${n.href === opts.active ? 'active' : ''}"><span class="icon" aria-hidden="true">${n.icon}</span>${n.label}</a>`)}
  </nav>
  <div class="me">
    <div class="avatar" aria-hidden="true">${(config.instance.users[principal.name]?.initials ?? principal.name.slice(0, 2)).toUpperCase()}</div>
    <div><div class="me-name">${who}</div><div class="me-role">${principal.role === 'privileged' ? 'privileged analyst' : principal.role}</div></div>
  </div>
  <form method="post" action="/auth/logout" class="signout">${csrfField(ctx.csrf)}<button type="submit" class="link">Sign out</button></form>
</aside>
<div class="content">
  <header class="topbar">
    <label for="nav-toggle" class="burger" aria-hidden="true">☰</label>
    <div><h1>${opts.title}</h1>${opts.subtitle ? html`<p class="subtitle">${opts.subtitle}</p>` : ''}</div>
    <span id="live-status" class="live-status" title="live updates">${ctx.live ? '● live' : ''}</span>
  </header>
  <main id="main">${opts.body}</main>
  ${inst.copyright ? html`<footer>${inst.copyright}</footer>` : ''}
</div>
<div id="toasts" class="toasts" aria-live="polite"></div>
</body>
</html>`;
}

/** A page for people who are not signed in (sign-in, refusal). */
export function bare(config: AdaConfig, opts: { title: string; body: SafeHtml }): SafeHtml {
  const inst = config.instance.instance;
  return html`${documentHead(opts.title, inst.name)}</head>
<body class="bare">
<main class="card signin">
  <div class="brand"><span class="logo">ada</span><span class="brand-name">${inst.name}</span></div>
  ${inst.subtitle ? html`<p class="muted">${inst.subtitle}</p>` : ''}
  ${opts.body}
</main>
</body>
</html>`;
}

/** A status pill. */
export function pill(status: string, text = status): SafeHtml {
  return html`<span class="pill ${status}">${text}</span>`;
}

/** A form's hidden CSRF field. */
export function csrfField(token: string): SafeHtml {
  return html`<input type="hidden" name="_csrf" value="${token}">`;
}
