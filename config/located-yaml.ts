/** YAML parsed into plain values plus a map from key paths back to lines of the file. */
import { LineCounter, isMap, isPair, isScalar, isSeq, parseDocument } from 'yaml';
import type { YamlPath } from './problems.ts';

/** A parsed YAML document: its plain value and where each key path sits in the file. */
export interface LocatedYaml {
  value: unknown;
  /** 1-based file line of the key (or item) at `path`, else of its nearest located ancestor. */
  lineOf(path: YamlPath): number | undefined;
}

/** A YAML syntax error with the file line it was found on. */
export interface YamlSyntaxError {
  line: number;
  message: string;
}

/** Result of parsing: the document, or every syntax error found. */
export type LocatedYamlResult = { ok: true; doc: LocatedYaml } | { ok: false; errors: YamlSyntaxError[] };

const pathKey = (path: YamlPath): string => JSON.stringify(path);

/**
 * Parses YAML text whose first line is line `firstLine` of its file (a fenced
 * block inside markdown starts after its fence), never throwing on bad input.
 */
export function parseLocatedYaml(text: string, firstLine = 1): LocatedYamlResult {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, merge: true, uniqueKeys: true });
  // LineCounter lines are 1-based; 0 means "before the first newline was seen".
  const lineAt = (offset: number): number => firstLine - 1 + Math.max(1, lineCounter.linePos(offset).line);

  if (doc.errors.length > 0) {
    return { ok: false, errors: doc.errors.map((e) => ({ line: lineAt(e.pos[0]), message: firstSentence(e.message) })) };
  }

  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: 1000 });
  } catch (err) {
    // toJS throws on alias bombs and unresolved aliases; report them like syntax errors.
    return { ok: false, errors: [{ line: firstLine, message: err instanceof Error ? err.message : String(err) }] };
  }

  const lines = new Map<string, number>();
  const record = (path: YamlPath, node: unknown): void => {
    const range = (node as { range?: [number, number, number] } | null)?.range;
    if (range && !lines.has(pathKey(path))) lines.set(pathKey(path), lineAt(range[0]));
  };
  const walk = (node: unknown, path: YamlPath): void => {
    if (isMap(node)) {
      for (const pair of node.items) {
        if (!isPair(pair)) continue;
        // Same key strings as toJS: a null key (`null:`) becomes ''.
        const key = isScalar(pair.key) ? (pair.key.value === null ? '' : String(pair.key.value)) : String(pair.key);
        if (key === '<<') continue;
        const childPath = [...path, key];
        record(childPath, pair.key);
        record(childPath, pair.value);
        walk(pair.value, childPath);
      }
    } else if (isSeq(node)) {
      node.items.forEach((item, index) => {
        record([...path, index], item);
        walk(item, [...path, index]);
      });
    }
    // Paths below an alias are not walked: lineOf falls back to the alias itself.
  };
  record([], doc.contents);
  walk(doc.contents, []);

  return {
    ok: true,
    doc: {
      value,
      lineOf(path) {
        for (let n = path.length; n >= 0; n--) {
          const line = lines.get(pathKey(path.slice(0, n)));
          if (line !== undefined) return line;
        }
        return undefined;
      },
    },
  };
}

/** The yaml package's messages may carry a code excerpt after the first line; keep the sentence. */
function firstSentence(message: string): string {
  return message.split('\n')[0]!.trim();
}
