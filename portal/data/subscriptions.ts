/** Dataset subscriptions (UPSTREAM's sync settings): a change `{datasets: {key: true|false}}` merged with the current ones, `requires` checked. */
import type { DatasetConfig } from '../../config/index.ts';
import { adaError } from '../../events/index.ts';
import type { DatasetSubscribed, DatasetUnsubscribed } from '../../events/index.ts';
import { PortalErrorCode } from '../errors.ts';

/** The events a change makes and the subscriptions after it; BAD_REQUEST for unknown keys, non-booleans or a missing requirement. */
export function decideSubscriptions(analyst: string, current: readonly string[], change: unknown, datasets: Readonly<Record<string, DatasetConfig>>): { events: Array<DatasetSubscribed | DatasetUnsubscribed>; datasets: string[] } {
  if (typeof change !== 'object' || change === null || Array.isArray(change)) throw adaError(PortalErrorCode.badRequest, 'expected {"datasets": {"<dataset>": true|false}}');
  const known = Object.keys(datasets);
  const next = new Set(current.filter((k) => known.includes(k)));
  for (const [key, value] of Object.entries(change)) {
    if (!Object.hasOwn(datasets, key)) throw adaError(PortalErrorCode.badRequest, `unknown dataset ${JSON.stringify(key)}; this server has ${known.length ? known.join(', ') : 'no datasets'}`);
    if (typeof value !== 'boolean') throw adaError(PortalErrorCode.badRequest, `datasets.${key} must be true or false`);
    if (value) next.add(key);
    else next.delete(key);
  }
  for (const key of next) {
    for (const needed of datasets[key]!.requires) {
      if (!next.has(needed)) throw adaError(PortalErrorCode.badRequest, `${datasets[key]!.label} (${key}) requires ${datasets[needed]?.label ?? needed} (${needed}): subscribe to it too`);
    }
  }
  const before = new Set(current);
  const events: Array<DatasetSubscribed | DatasetUnsubscribed> = [];
  for (const key of [...next].sort()) if (!before.has(key)) events.push({ type: 'DatasetSubscribed', v: 1, data: { name: analyst, dataset: key } });
  for (const key of [...before].sort()) if (!next.has(key)) events.push({ type: 'DatasetUnsubscribed', v: 1, data: { name: analyst, dataset: key } });
  return { events, datasets: [...next].sort() };
}
