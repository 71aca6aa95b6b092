/**
 * Questions of the `ada init` wizard: on a terminal through node:readline/promises (secrets typed without echo),
 * from a pipe one answer per line (answers are never echoed, so a piped token cannot reach the output).
 */
import { createInterface } from 'node:readline/promises';
import { Writable } from 'node:stream';
import { adaError, ErrorCode } from '../../events/index.ts';
import { OpsErrorCode } from '../errors.ts';

/** Stable codes of wizard input failures. */
export const PromptErrorCode = {
  /** The input (a pipe, or Ctrl-D on a terminal) ended before every question was answered. */
  inputEnded: OpsErrorCode.initInputEnded,
  /** Ctrl-C, or the command's abort signal. */
  cancelled: ErrorCode.cancelled,
} as const;

/** Asks the wizard's questions. */
export interface Prompter {
  /** Asks `question`; an empty answer is `defaultValue` (shown in brackets). Answers are trimmed. */
  ask(question: string, defaultValue?: string): Promise<string>;
  /** Asks for a secret: nothing typed is shown. An empty answer is `defaultValue`, described by `defaultLabel` (the value itself is never shown). */
  askSecret(question: string, defaultValue?: string, defaultLabel?: string): Promise<string>;
  close(): void;
}

/** The streams a prompter talks to. */
export interface PromptStreams {
  input: NodeJS.ReadableStream & { isTTY?: boolean };
  output: NodeJS.WritableStream;
  signal: AbortSignal;
}

/** A prompter for the process's stdin and stdout: a terminal prompter on a TTY, a line reader on a pipe. */
export function stdioPrompter(streams: PromptStreams): Prompter {
  return streams.input.isTTY ? terminalPrompter(streams) : pipePrompter(streams);
}

function withDefault(question: string, label: string | undefined): string {
  return label === undefined || label === '' ? `${question}: ` : `${question} [${label}]: `;
}

function inputEnded(question: string): Error {
  return adaError(PromptErrorCode.inputEnded, `the input ended before the answer to "${question}"; nothing was written. For scripts, run \`ada init --non-interactive\` with flags`);
}

function cancelled(): Error {
  return adaError(PromptErrorCode.cancelled, 'cancelled; nothing more was written');
}

/** Reads one answer per line; lines that arrive before their question are kept, not lost. */
function pipePrompter({ input, output, signal }: PromptStreams): Prompter {
  const rl = createInterface({ input, crlfDelay: Infinity, terminal: false });
  const lines = rl[Symbol.asyncIterator]();
  const next = async (question: string, label: string | undefined): Promise<string> => {
    if (signal.aborted) throw cancelled();
    output.write(withDefault(question, label));
    let onAbort: (() => void) | undefined;
    const aborted = new Promise<never>((_resolve, reject) => {
      onAbort = () => reject(cancelled());
      signal.addEventListener('abort', onAbort, { once: true });
    });
    try {
      const line = await Promise.race([lines.next(), aborted]);
      // The answer is not echoed; ending the prompt's line keeps the transcript readable.
      output.write('\n');
      if (line.done) throw inputEnded(question);
      return line.value.trim();
    } finally {
      if (onAbort) signal.removeEventListener('abort', onAbort);
    }
  };
  return {
    async ask(question, defaultValue) {
      const answer = await next(question, defaultValue);
      return answer === '' ? (defaultValue ?? '') : answer;
    },
    async askSecret(question, defaultValue, defaultLabel) {
      const answer = await next(question, defaultValue === undefined ? undefined : defaultLabel);
      return answer === '' ? (defaultValue ?? '') : answer;
    },
    close() {
      rl.close();
    },
  };
}

/** Asks on a terminal; while a secret is typed, readline's echo goes nowhere. */
function terminalPrompter({ input, output, signal }: PromptStreams): Prompter {
  let muted = false;
  const screen = new Writable({
    write(chunk: Buffer | string, _encoding, callback) {
      if (!muted) output.write(chunk);
      callback();
    },
  });
  // historySize 0: a typed token must not be recallable with the arrow keys.
  const rl = createInterface({ input, output: screen, terminal: true, historySize: 0 });
  const stop = new AbortController();
  let why: 'ended' | 'cancelled' | undefined;
  const end = (reason: 'ended' | 'cancelled') => {
    why ??= reason;
    stop.abort();
  };
  rl.on('SIGINT', () => end('cancelled'));
  rl.on('close', () => end('ended'));
  const onAbort = () => end('cancelled');
  signal.addEventListener('abort', onAbort, { once: true });

  const question = async (text: string, shown: string): Promise<string> => {
    if (why === 'cancelled' || signal.aborted) throw cancelled();
    if (why === 'ended') throw inputEnded(text);
    try {
      return (await rl.question(shown, { signal: stop.signal })).trim();
    } catch (err) {
      if (why === 'ended') throw inputEnded(text);
      if (why === 'cancelled' || stop.signal.aborted) throw cancelled();
      throw err;
    }
  };
  return {
    async ask(text, defaultValue) {
      const answer = await question(text, withDefault(text, defaultValue));
      return answer === '' ? (defaultValue ?? '') : answer;
    },
    async askSecret(text, defaultValue, defaultLabel) {
      output.write(withDefault(`${text} (typing is not shown)`, defaultValue === undefined ? undefined : defaultLabel));
      muted = true;
      let answer: string;
      try {
        answer = await question(text, '');
      } finally {
        muted = false;
        output.write('\n');
      }
      return answer === '' ? (defaultValue ?? '') : answer;
    },
    close() {
      signal.removeEventListener('abort', onAbort);
      why ??= 'ended';
      rl.close();
    },
  };
}
