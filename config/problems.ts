/** Collecting configuration problems and warnings with file, line and key path. */
import type { ConfigProblem } from './types.ts';

/** A key path inside a YAML document: map keys and sequence indexes. */
export type YamlPath = ReadonlyArray<string | number>;

const PLAIN_KEY = /^[A-Za-z_][A-Za-z0-9_-]*$/;

/** Renders a key path the way users write it: `data_source.keboola.storage_token`, `tables[2].name`. */
export function formatPath(path: YamlPath): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else if (!PLAIN_KEY.test(segment)) out += `[${JSON.stringify(segment)}]`;
    else out += out === '' ? segment : `.${segment}`;
  }
  return out;
}

/** One problem as a line of text: `file:line: path: message`. */
export function formatProblem(problem: ConfigProblem): string {
  const where = problem.line === undefined ? problem.file : `${problem.file}:${problem.line}`;
  return problem.path ? `${where}: ${problem.path}: ${problem.message}` : `${where}: ${problem.message}`;
}

/** Problems (fatal) and warnings found while loading, in the order they were found. */
export interface ProblemSink {
  problems: ConfigProblem[];
  warnings: ConfigProblem[];
}

/** Reporting problems for one YAML document, mapping key paths to lines of its file. */
export interface DocumentContext {
  file: string;
  lineOf(path: YamlPath): number | undefined;
  problem(path: YamlPath, message: string): void;
  warn(path: YamlPath, message: string): void;
}

/** Creates the context for one YAML document (a file, or a fenced block of a markdown file). */
export function documentContext(sink: ProblemSink, file: string, lineOf: (path: YamlPath) => number | undefined): DocumentContext {
  const make = (path: YamlPath, message: string): ConfigProblem => {
    const problem: ConfigProblem = { file, message };
    const line = lineOf(path);
    if (line !== undefined) problem.line = line;
    if (path.length > 0) problem.path = formatPath(path);
    return problem;
  };
  return {
    file,
    lineOf,
    problem: (path, message) => { sink.problems.push(make(path, message)); },
    warn: (path, message) => { sink.warnings.push(make(path, message)); },
  };
}

/** Orders problems by file (in order of first appearance) and line, keeping the order of equal ones. */
export function sortProblems(problems: readonly ConfigProblem[]): ConfigProblem[] {
  const fileOrder = new Map<string, number>();
  for (const p of problems) if (!fileOrder.has(p.file)) fileOrder.set(p.file, fileOrder.size);
  return problems
    .map((p, i) => ({ p, i }))
    .sort((a, b) =>
      (fileOrder.get(a.p.file)! - fileOrder.get(b.p.file)!)
      || ((a.p.line ?? 0) - (b.p.line ?? 0))
      || (a.i - b.i))
    .map(({ p }) => p);
}

/** Levenshtein distance, for "did you mean" hints on misspelt keys and values. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + cost);
    }
    previous = current;
  }
  return previous[b.length]!;
}

/** ` (did you mean "x"?)` when one of `candidates` is close to `value`, else an empty string. */
export function didYouMean(value: string, candidates: readonly string[]): string {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const d = editDistance(value.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) { best = candidate; bestDistance = d; }
  }
  // Two edits catch transpositions and typos without suggesting unrelated words for short keys.
  return best !== undefined && bestDistance <= Math.min(2, Math.floor(value.length / 2)) ? ` (did you mean "${best}"?)` : '';
}
