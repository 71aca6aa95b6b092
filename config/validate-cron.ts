/** Syntax check of five-field cron expressions (minute hour day-of-month month day-of-week). */

const FIELDS = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day of month', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12 },
  // 0 and 7 are both Sunday, as in Vixie cron.
  { name: 'day of week', min: 0, max: 7 },
] as const;

const ITEM = /^(\*|\d+(?:-\d+)?)(?:\/(\d+))?$/;

/**
 * Returns why `expr` is not a valid five-field cron expression, or undefined
 * when it is. Fields take numbers, `*`, ranges `a-b`, steps `/n` and lists
 * `a,b`; names (`mon`, `jan`) and macros (`@daily`) are not accepted.
 */
export function validateCron(expr: string): string | undefined {
  const fields = expr.trim().split(/\s+/);
  if (fields.length !== 5 || fields[0] === '') {
    return `cron expression "${expr}" must have 5 fields (minute hour day-of-month month day-of-week), found ${expr.trim() === '' ? 0 : fields.length}`;
  }
  for (let f = 0; f < 5; f++) {
    const spec = FIELDS[f]!;
    for (const item of fields[f]!.split(',')) {
      const match = ITEM.exec(item);
      if (!match) return `cron ${spec.name} field "${fields[f]}" is not valid (use numbers, *, a-b, */n or lists)`;
      const [lo, hi] = match[1] === '*' ? [spec.min, spec.max] : match[1]!.split('-').map(Number) as [number, number?];
      const high = hi ?? lo;
      if (lo < spec.min || high > spec.max) return `cron ${spec.name} value "${item}" is outside ${spec.min}-${spec.max}`;
      if (high < lo) return `cron ${spec.name} range "${item}" runs backwards`;
      if (match[2] !== undefined && Number(match[2]) < 1) return `cron ${spec.name} step in "${item}" must be at least 1`;
    }
  }
  return undefined;
}
