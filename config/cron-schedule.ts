/** Validation of `schedule` cron expressions by the same parser the scheduler fires them with (cron-parser). */
import { createRequire } from 'node:module';
import type * as CronParser from 'cron-parser';

// cron-parser (with luxon, about 20 CommonJS files) is required on first use: a one-off command whose configuration
// holds no schedule to check or fire never loads it.
let cronParser: typeof CronParser.CronExpressionParser | undefined;
function parser(): typeof CronParser.CronExpressionParser {
  return (cronParser ??= (createRequire(import.meta.url)('cron-parser') as typeof CronParser).CronExpressionParser);
}

/** The macros cron-parser expands (`@daily` is `0 0 * * *`); `@reboot` is not a time and is refused. */
const MACROS = ['@yearly', '@annually', '@monthly', '@weekly', '@daily', '@midnight', '@hourly'];

/**
 * Returns why `expr` is not a schedule, or undefined when it is: five fields (minute hour day-of-month month
 * day-of-week) with numbers, names (`mon`, `jan`), `*`, ranges, steps and lists, or a macro such as `@daily`;
 * evaluated in UTC. Six fields (seconds) and Jenkins' `H` are refused: the scheduler fires at most once a
 * minute, and `H` would pick a different minute on every parse.
 */
export function validateCron(expr: string): string | undefined {
  const text = expr.trim();
  if (text.startsWith('@')) {
    return MACROS.includes(text.toLowerCase()) ? undefined : `cron macro "${text}" is not one of ${MACROS.join(', ')}`;
  }
  const fields = text === '' ? [] : text.split(/\s+/);
  if (fields.length !== 5) {
    return `cron expression "${expr}" must have 5 fields (minute hour day-of-month month day-of-week), found ${fields.length}`;
  }
  if (/h/i.test(text.replace(/[a-z]{3}/gi, (name) => (name.toLowerCase() === 'thu' ? 'x' : name)))) {
    return `cron expression "${expr}": H (hashed values) is not supported; write the minute and hour`;
  }
  // Each field alone first, so the message names the field at fault.
  for (let f = 0; f < 5; f++) {
    const alone = fields.map((field, i) => (i === f ? field : '*')).join(' ');
    const problem = parseProblem(alone);
    if (problem) return `cron ${FIELD_NAMES[f]} field "${fields[f]}" is not valid: ${problem}`;
  }
  const problem = parseProblem(text);
  return problem ? `cron expression "${expr}" is not valid: ${problem}` : undefined;
}

const FIELD_NAMES = ['minute', 'hour', 'day of month', 'month', 'day of week'];

function parseProblem(text: string): string | undefined {
  try {
    parser().parse(text, { tz: 'UTC' });
    return undefined;
  } catch (err) {
    return (err as Error).message.replace(/^Constraint error, /, '');
  }
}
