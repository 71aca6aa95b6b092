/** The alert rules of a profile (thresholds from UPSTREAM.md "Profiler"); pure. */
import type { ColumnProfile, ComputedProfile, ProfileAlert } from './types.ts';

/** Thresholds in percent; a rule fires when the share is strictly above its threshold. */
export const ALERT_THRESHOLDS = {
  /** Missing values (`missing`, info): more than 5 % of rows. */
  missingPercent: 5,
  /** Missing values (`high_missing`, warning, instead of `missing`): more than 30 % of rows. */
  highMissingPercent: 30,
  /** The most frequent value (`imbalance`): more than 60 % of non-null values. */
  imbalancePercent: 60,
  /** Zeros in a numeric column (`zeros`): more than 50 % of non-null values. */
  zerosPercent: 50,
  /** Distinct values of a string column (`high_cardinality`): more than 50 % of non-null values … */
  highCardinalityPercent: 50,
  /** … and more than the 50 distinct values a top-values list covers. */
  highCardinalityMinDistinct: 50,
} as const;

function share(part: number, whole: number): number {
  return whole > 0 ? (100 * part) / whole : 0;
}

function fmt(p: number): string {
  return `${Math.round(p * 10) / 10} %`;
}

/** The share of non-null values the most frequent value holds, for columns where it is known. */
function topShare(c: ColumnProfile, nonNull: number): { value: string; percent: number } | undefined {
  if (c.category === 'boolean') {
    const top = c.true_count >= c.false_count ? 'true' : 'false';
    return { value: top, percent: share(Math.max(c.true_count, c.false_count), nonNull) };
  }
  if (c.category === 'string' && c.top_values?.[0]) return { value: c.top_values[0].value, percent: c.top_values[0].percent };
  return undefined;
}

/** Alerts of one column of a table with `rows` rows. */
export function columnAlerts(c: ColumnProfile, rows: number): ProfileAlert[] {
  if (rows === 0) return [];
  const alerts: ProfileAlert[] = [];
  const nonNull = rows - c.null_count;
  const missing = share(c.null_count, rows);
  if (missing > ALERT_THRESHOLDS.highMissingPercent) {
    alerts.push({ type: 'high_missing', column: c.name, severity: 'warning', message: `${c.name} is missing in ${fmt(missing)} of rows (${c.null_count.toLocaleString('en-US')})` });
  } else if (missing > ALERT_THRESHOLDS.missingPercent) {
    alerts.push({ type: 'missing', column: c.name, severity: 'info', message: `${c.name} is missing in ${fmt(missing)} of rows (${c.null_count.toLocaleString('en-US')})` });
  }
  // One value, or one per row, says little more: the other distribution rules would only repeat it.
  if (nonNull < 2) return alerts;
  if (c.unique_count === 1) {
    alerts.push({ type: 'constant', column: c.name, severity: 'warning', message: `${c.name} has a single value${c.samples.length ? ` (${JSON.stringify(c.samples[0])})` : ''}` });
    return alerts;
  }
  // Sampled tables count a column as unique when the sample holds no repeated value (see compute-profile.ts).
  const unique = c.category !== 'boolean' && c.unique_count === nonNull;
  if (unique && !c.is_primary_key) {
    alerts.push({ type: 'unique', column: c.name, severity: 'info', message: `every value of ${c.name} is distinct${c.unique_approximate ? ' (approximately)' : ''}` });
  }
  const top = topShare(c, nonNull);
  if (top && top.percent > ALERT_THRESHOLDS.imbalancePercent) {
    alerts.push({ type: 'imbalance', column: c.name, severity: 'info', message: `${JSON.stringify(top.value)} is ${fmt(top.percent)} of ${c.name}'s values` });
  }
  if (c.category === 'numeric') {
    const zeros = share(c.zeros, nonNull);
    if (zeros > ALERT_THRESHOLDS.zerosPercent) alerts.push({ type: 'zeros', column: c.name, severity: 'info', message: `${fmt(zeros)} of ${c.name}'s values are zero` });
  }
  if (c.category === 'string' && !unique && !c.is_primary_key
    && c.unique_count > ALERT_THRESHOLDS.highCardinalityMinDistinct && share(c.unique_count, nonNull) > ALERT_THRESHOLDS.highCardinalityPercent) {
    alerts.push({ type: 'high_cardinality', column: c.name, severity: 'info', message: `${c.name} has ${c.unique_count.toLocaleString('en-US')} distinct values (${fmt(c.unique_percent)} of its values)` });
  }
  return alerts;
}

/** Alerts of a table: table-level ones (empty, primary-key problems) first, then each column's in column order. */
export function tableAlerts(p: Pick<ComputedProfile, 'row_count' | 'duplicate_primary_keys' | 'null_primary_keys' | 'columns'>, primaryKey: readonly string[]): ProfileAlert[] {
  const alerts: ProfileAlert[] = [];
  if (p.row_count === 0) alerts.push({ type: 'empty', severity: 'info', message: 'the table has no rows' });
  const key = primaryKey.join(', ');
  if (p.duplicate_primary_keys) {
    alerts.push({ type: 'duplicate_primary_key', severity: 'critical', message: `${p.duplicate_primary_keys.toLocaleString('en-US')} row(s) repeat a primary key (${key}) of another row` });
  }
  if (p.null_primary_keys) {
    alerts.push({ type: 'null_primary_key', severity: 'critical', message: `${p.null_primary_keys.toLocaleString('en-US')} row(s) have a null in the primary key (${key})` });
  }
  for (const c of p.columns) alerts.push(...columnAlerts(c, p.row_count));
  return alerts;
}
