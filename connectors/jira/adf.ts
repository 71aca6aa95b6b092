/** Atlassian Document Format (ADF) rendered to plain text, for descriptions and comment bodies. */

interface AdfNode {
  type?: string;
  text?: string;
  content?: AdfNode[];
  attrs?: Record<string, unknown>;
}

/** Nodes that end a line of text. */
const BLOCKS = new Set(['paragraph', 'heading', 'blockquote', 'codeBlock', 'listItem', 'tableRow', 'panel', 'rule', 'mediaSingle', 'decisionItem', 'taskItem']);

function walk(node: AdfNode, out: string[]): void {
  switch (node.type) {
    case 'text': out.push(node.text ?? ''); return;
    case 'hardBreak': out.push('\n'); return;
    case 'mention': out.push(String(node.attrs?.text ?? '@someone')); return;
    case 'emoji': out.push(String(node.attrs?.text ?? node.attrs?.shortName ?? '')); return;
    case 'inlineCard': case 'blockCard': out.push(String(node.attrs?.url ?? '')); return;
    case 'date': out.push(node.attrs?.timestamp ? new Date(Number(node.attrs.timestamp)).toISOString().slice(0, 10) : ''); return;
    case 'status': out.push(String(node.attrs?.text ?? '')); return;
    case 'tableCell': case 'tableHeader':
      for (const c of node.content ?? []) walk(c, out);
      out.push('\t');
      return;
    default:
      if (node.type === 'listItem') out.push('- ');
      for (const c of node.content ?? []) walk(c, out);
      if (node.type && BLOCKS.has(node.type)) out.push('\n');
  }
}

/** Plain text of an ADF document; strings pass through (API v2 and webhook bodies may carry wiki text); null stays null. */
export function adfToText(doc: unknown): string | null {
  if (doc === null || doc === undefined) return null;
  if (typeof doc === 'string') return doc;
  if (typeof doc !== 'object') return String(doc);
  const out: string[] = [];
  walk(doc as AdfNode, out);
  return out.join('').replace(/[ \t]+\n/g, '\n').replace(/\n{3,}/g, '\n\n').trim();
}
