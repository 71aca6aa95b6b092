/** Recursively freezing (and tidying) plain data, so loaded configuration cannot be changed by its users. */

/** Freezes `value` and every object and array reachable from it; returns it. */
export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

/** A copy of plain data without undefined-valued object properties (so `'key' in obj` means set). */
export function withoutUndefined<T>(value: T): T {
  if (Array.isArray(value)) return value.map((item: unknown) => withoutUndefined(item)) as T;
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, child] of Object.entries(value)) if (child !== undefined) out[key] = withoutUndefined(child);
    return out as T;
  }
  return value;
}
