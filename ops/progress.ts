/**
 * Progress of long commands (sync, replay, profile): a bar redrawn in place on a terminal, a line
 * per table otherwise, nothing with `--json` (stdout is then for the JSON document alone).
 */
import type { CommandContext } from './command.ts';
import { formatCount } from './format.ts';

/** Redraws of the bar at most this often: a terminal needs no more, and a fast loop must not flood it. */
const REDRAW_MS = 100;

/** Width of the bar in characters. */
const BAR_WIDTH = 20;

/** Where work stands: `done` of `total` units (tables, events), and what to say. */
export interface ProgressStep {
  done: number;
  total: number;
  text: string;
}

/** A progress display. */
export interface Progress {
  /** Work in progress: redraws the bar on a terminal (throttled unless `force`); nothing otherwise. */
  update(step: ProgressStep, force?: boolean): void;
  /** A line that stays (a table done or failed): printed on a terminal and in logs alike. */
  line(text: string): void;
  /** Clears a bar left on the terminal. */
  end(): void;
}

/** `[██████░░░░░░] 3/10`. */
export function progressBar(done: number, total: number): string {
  const ratio = total > 0 ? Math.min(1, Math.max(0, done / total)) : 0;
  const filled = Math.round(ratio * BAR_WIDTH);
  return `[${'█'.repeat(filled)}${'░'.repeat(BAR_WIDTH - filled)}] ${formatCount(done)}/${formatCount(total)}`;
}

/** The progress display of a command: on its stderr, as its context and `--json` allow. */
export function progressOf(ctx: Pick<CommandContext, 'isTTY' | 'err'>, options: { json?: boolean; write?: (s: string) => void } = {}): Progress {
  if (options.json) return { update: () => undefined, line: () => undefined, end: () => undefined };
  if (!ctx.isTTY) return { update: () => undefined, line: (text) => ctx.err(text), end: () => undefined };
  const write = options.write ?? ((s: string) => void process.stderr.write(s));
  let lastDraw = 0;
  let drawn = false;
  return {
    update(step, force = false) {
      const now = Date.now();
      if (!force && now - lastDraw < REDRAW_MS) return;
      lastDraw = now;
      drawn = true;
      write(`\r\x1b[2K${progressBar(step.done, step.total)} ${step.text}`);
    },
    line(text) {
      write(`\r\x1b[2K${text}\n`);
      drawn = false;
    },
    end() {
      if (drawn) write('\r\x1b[2K');
      drawn = false;
    },
  };
}
