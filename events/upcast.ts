/** Upcasting of old event versions on read: the log is never rewritten, readers see current versions. */
import type { AdaEvent } from './types.ts';

/** A stored event before upcasting. */
export interface StoredEvent {
  type: string;
  v: number;
  data: unknown;
}

/** Turns version `v` of an event type's data into version `v + 1`. */
export type Upcaster = (data: unknown) => unknown;

/** Upcasters by event type, then by the version they upgrade from. */
export type UpcasterRegistry = Readonly<Record<string, Readonly<Record<number, Upcaster>>>>;

/**
 * The upcasters of this code base: when an event's shape changes, bump its `v` in types.ts and add
 * `{ [type]: { [oldV]: data => newData } }` here.
 */
export const UPCASTERS: UpcasterRegistry = {
  // HealthChanged v1 → v2: a v1 reason's table is unknown, so it becomes an UNSTRUCTURED problem (shown only to those who see every table).
  HealthChanged: {
    1: (data) => {
      const d = data as { reasons?: unknown };
      const reasons = Array.isArray(d.reasons) ? d.reasons.map(String) : [];
      return { ...(data as object), reasons, problems: reasons.map((message) => ({ code: 'UNSTRUCTURED', message })) };
    },
  },
};

/** Upgrades a stored event step by step to the newest version the registry knows. */
export function upcast(stored: StoredEvent, registry: UpcasterRegistry = UPCASTERS): AdaEvent {
  const steps = registry[stored.type];
  if (!steps) return stored as AdaEvent;
  let { v, data } = stored;
  for (let step = steps[v]; step; step = steps[v]) {
    data = step(data);
    v += 1;
  }
  return { ...stored, v, data } as AdaEvent;
}
