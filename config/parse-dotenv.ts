/** A small `.env` parser: `KEY=VALUE` lines, comments, `export `, single and double quotes. */

/** Variables read from a `.env` file plus the lines that could not be read. */
export interface DotenvResult {
  values: Record<string, string>;
  problems: Array<{ line: number; message: string }>;
}

const ASSIGNMENT = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s?(.*)$/s;
const DOUBLE_QUOTE_ESCAPES: Record<string, string> = { n: '\n', r: '\r', t: '\t', '"': '"', '\\': '\\', $: '$' };

/**
 * Parses `.env` text. Unquoted values are trimmed and lose a ` # comment`;
 * single-quoted values are literal; double-quoted values understand `\n`,
 * `\t`, `\"`, `\\` and may span lines. No variable expansion inside values.
 */
export function parseDotenv(text: string): DotenvResult {
  const values: Record<string, string> = {};
  const problems: DotenvResult['problems'] = [];
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);

  for (let i = 0; i < lines.length; i++) {
    const lineNumber = i + 1;
    const line = lines[i]!.trimStart();
    if (line === '' || line.startsWith('#')) continue;
    const match = ASSIGNMENT.exec(line);
    if (!match) {
      problems.push({ line: lineNumber, message: 'expected KEY=VALUE' });
      continue;
    }
    const key = match[1]!;
    const rest = match[2]!.trimStart();

    if (rest.startsWith('"')) {
      let body = rest.slice(1);
      let end = closingDoubleQuote(body);
      while (end < 0 && i + 1 < lines.length) {
        i++;
        body += `\n${lines[i]!}`;
        end = closingDoubleQuote(body);
      }
      if (end < 0) {
        problems.push({ line: lineNumber, message: `${key}: unterminated double-quoted value` });
        continue;
      }
      if (!isTrailingComment(body.slice(end + 1))) {
        problems.push({ line: lineNumber, message: `${key}: unexpected text after the closing quote` });
        continue;
      }
      values[key] = body.slice(0, end).replace(/\\(.)/gs, (whole, c: string) => DOUBLE_QUOTE_ESCAPES[c] ?? whole);
    } else if (rest.startsWith("'")) {
      const end = rest.indexOf("'", 1);
      if (end < 0) {
        problems.push({ line: lineNumber, message: `${key}: unterminated single-quoted value` });
        continue;
      }
      if (!isTrailingComment(rest.slice(end + 1))) {
        problems.push({ line: lineNumber, message: `${key}: unexpected text after the closing quote` });
        continue;
      }
      values[key] = rest.slice(1, end);
    } else {
      values[key] = rest.startsWith('#') ? '' : rest.replace(/\s+#.*$/, '').trim();
    }
  }
  return { values, problems };
}

function closingDoubleQuote(body: string): number {
  for (let i = 0; i < body.length; i++) {
    if (body[i] === '\\') i++;
    else if (body[i] === '"') return i;
  }
  return -1;
}

function isTrailingComment(after: string): boolean {
  const rest = after.trim();
  return rest === '' || rest.startsWith('#');
}
