/** Finds the fenced ```yaml blocks of a markdown file, with the file line each starts on. */

/** One fenced YAML block. */
export interface FencedYamlBlock {
  /** The block's text, without the fences. */
  text: string;
  /** 1-based file line of the opening fence. */
  fenceLine: number;
  /** 1-based file line of the block's first text line (the line after the fence). */
  firstLine: number;
}

const OPEN = /^( {0,3})(`{3,}|~{3,})[ \t]*([^\s`]*)[^`]*$/;

/**
 * Extracts ```yaml / ```yml (and ~~~yaml) blocks as CommonMark fences them;
 * other fenced blocks are skipped, so a yaml fence shown inside a ```markdown
 * example is not read. An unclosed yaml fence is reported, not guessed at.
 */
export function extractFencedYamlBlocks(markdown: string): { blocks: FencedYamlBlock[]; problems: Array<{ line: number; message: string }> } {
  const lines = markdown.split(/\r?\n/);
  const blocks: FencedYamlBlock[] = [];
  const problems: Array<{ line: number; message: string }> = [];

  for (let i = 0; i < lines.length; i++) {
    const open = OPEN.exec(lines[i]!);
    if (!open) continue;
    const indent = open[1]!.length;
    const fence = open[2]!;
    const info = open[3]!.toLowerCase();
    const close = new RegExp(`^ {0,3}${fence[0] === '`' ? '`' : '~'}{${fence.length},}[ \\t]*$`);
    const body: string[] = [];
    let j = i + 1;
    while (j < lines.length && !close.test(lines[j]!)) {
      // CommonMark strips up to the opening fence's indentation from content lines.
      body.push(lines[j]!.replace(new RegExp(`^ {0,${indent}}`), ''));
      j++;
    }
    const isYaml = info === 'yaml' || info === 'yml';
    if (j >= lines.length) {
      if (isYaml) problems.push({ line: i + 1, message: `the \`\`\`${info} block opened here is never closed` });
      break;
    }
    if (isYaml) blocks.push({ text: body.join('\n'), fenceLine: i + 1, firstLine: i + 2 });
    i = j;
  }
  return { blocks, problems };
}
