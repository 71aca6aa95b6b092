/** Small SVG charts drawn on the server: histograms, horizontal bars and a line over time. No script, no external code. */
import { html } from './html.ts';
import type { SafeHtml } from './html.ts';

/** One bar of a chart. */
export interface Bar {
  label: string;
  value: number;
  /** Text shown at the end of the bar (default the value). */
  display?: string;
  /** Extra class: `warn`, `bad`, `muted`. */
  tone?: string;
  href?: string;
}

const fmt = (n: number): string => (Math.abs(n) >= 1000 ? n.toLocaleString('en-US', { maximumFractionDigits: 0 }) : String(Math.round(n * 100) / 100));

/** A vertical histogram of bins; labels under the first, middle and last bars. */
export function histogram(bars: Bar[], caption: string): SafeHtml {
  if (bars.length === 0) return html`<p class="muted">No values.</p>`;
  const w = 320;
  const h = 120;
  const pad = 18;
  const max = Math.max(1, ...bars.map((b) => b.value));
  const bw = w / bars.length;
  const marks = new Set([0, Math.floor((bars.length - 1) / 2), bars.length - 1]);
  return html`<figure class="chart"><svg viewBox="0 0 ${w} ${h + pad}" role="img" aria-label="${caption}" preserveAspectRatio="none" class="histogram">
${bars.map((b, i) => {
    const bh = Math.max(b.value > 0 ? 1.5 : 0, (b.value / max) * (h - 4));
    return html`<rect x="${(i * bw + 1).toFixed(1)}" y="${(h - bh).toFixed(1)}" width="${Math.max(1, bw - 2).toFixed(1)}" height="${bh.toFixed(1)}" class="bar"><title>${b.label}: ${b.display ?? fmt(b.value)}</title></rect>`;
  })}
<line x1="0" y1="${h}" x2="${w}" y2="${h}" class="axis"/>
${bars.map((b, i) => (marks.has(i) ? html`<text x="${(i * bw + bw / 2).toFixed(1)}" y="${h + 13}" text-anchor="${i === 0 ? 'start' : i === bars.length - 1 ? 'end' : 'middle'}" class="tick">${b.label}</text>` : ''))}
</svg><figcaption>${caption}</figcaption></figure>`;
}

/** Text widths (px per character) of the bars' labels (13px monospace) and values (12px system font, mostly digits); see portal.css. */
const LABEL_CHAR_PX = 7.9;
const VALUE_CHAR_PX = 7;

/**
 * Horizontal bars with their labels on the left and values on the right, drawn at their natural
 * size (text at its CSS size): the label and value columns as wide as their longest text, the bars
 * `barWidth` long. A narrower space shrinks the chart; a wider one does not blow it up.
 */
export function hbars(bars: Bar[], caption: string, opts: { max?: number; barWidth?: number } = {}): SafeHtml {
  if (bars.length === 0) return html`<p class="muted">Nothing to show yet.</p>`;
  const max = Math.max(1e-9, opts.max ?? Math.max(...bars.map((b) => b.value)));
  const row = 24;
  const labels = bars.map((b) => (b.label.length > 16 ? `${b.label.slice(0, 15)}…` : b.label));
  const values = bars.map((b) => b.display ?? fmt(b.value));
  const labelW = Math.ceil(Math.max(...labels.map((l) => l.length)) * LABEL_CHAR_PX) + 10;
  const barW = opts.barWidth ?? 150;
  const w = labelW + barW + Math.ceil(Math.max(...values.map((v) => v.length)) * VALUE_CHAR_PX) + 10;
  const h = bars.length * row + 4;
  return html`<figure class="chart"><svg width="${w}" height="${h}" viewBox="0 0 ${w} ${h}" role="img" aria-label="${caption}" class="hbars">
${bars.map((b, i) => {
    const y = i * row + 2;
    const bw = Math.max(b.value > 0 ? 2 : 0, (Math.min(b.value, max) / max) * barW);
    const text = html`<text x="${labelW - 8}" y="${y + 16}" text-anchor="end" class="label">${labels[i]!}</text>`;
    return html`<g class="${b.tone ?? ''}">${b.href ? html`<a href="${b.href}">${text}</a>` : text}<rect x="${labelW}" y="${y + 4}" width="${barW}" height="${row - 8}" class="track"/><rect x="${labelW}" y="${y + 4}" width="${bw.toFixed(1)}" height="${row - 8}" class="bar"><title>${b.label}: ${values[i]!}</title></rect><text x="${labelW + barW + 6}" y="${y + 16}" class="value">${values[i]!}</text></g>`;
  })}
</svg><figcaption>${caption}</figcaption></figure>`;
}

/** A line of values over time (publish history), dots at each point. */
export function timeline(points: Array<{ at: string; value: number; display: string }>, caption: string): SafeHtml {
  if (points.length === 0) return html`<p class="muted">No publishes recorded yet.</p>`;
  const w = 320;
  const h = 100;
  const t0 = Date.parse(points[0]!.at);
  const t1 = Date.parse(points[points.length - 1]!.at);
  const span = Math.max(1, t1 - t0);
  const max = Math.max(1, ...points.map((p) => p.value));
  const xy = points.map((p) => [points.length === 1 ? w / 2 : 6 + ((Date.parse(p.at) - t0) / span) * (w - 12), h - 4 - (p.value / max) * (h - 12)] as const);
  const d = xy.map(([x, y], i) => `${i ? 'L' : 'M'}${x.toFixed(1)},${y.toFixed(1)}`).join(' ');
  return html`<figure class="chart"><svg viewBox="0 0 ${w} ${h + 16}" role="img" aria-label="${caption}" class="timeline">
<line x1="0" y1="${h}" x2="${w}" y2="${h}" class="axis"/>
<path d="${d}" class="line"/>
${xy.map(([x, y], i) => html`<circle cx="${x.toFixed(1)}" cy="${y.toFixed(1)}" r="3" class="dot"><title>${points[i]!.at.slice(0, 16).replace('T', ' ')}: ${points[i]!.display}</title></circle>`)}
<text x="0" y="${h + 13}" class="tick">${points[0]!.at.slice(0, 10)}</text><text x="${w}" y="${h + 13}" text-anchor="end" class="tick">${points[points.length - 1]!.at.slice(0, 10)}</text>
</svg><figcaption>${caption}; latest ${points[points.length - 1]!.display}</figcaption></figure>`;
}
