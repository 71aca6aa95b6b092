/** Timestamp texts with and without UTC offsets, for the tests that check a connector publishes the instants they name. */

/** Offsets `Z`, `+01:00`, `-05:30`, none (UTC), and both sides of two DST changes (US 2025-11-02, EU 2025-03-30). */
export const OFFSET_INSTANTS = [
  '2025-11-02T08:15:00Z',
  '2025-11-02T08:15:00+01:00',
  '2025-11-02T08:15:00-05:30',
  '2025-11-02 08:15:00',
  '2025-11-02T01:30:00-04:00',
  '2025-11-02T01:30:00-05:00',
  '2025-03-30T01:30:00+01:00',
  '2025-03-30T03:30:00+02:00',
];

/** Seconds since the epoch of an ISO text; text without an offset is UTC. */
export function epochOf(text: string): number {
  const iso = text.replace(' ', 'T');
  return Date.parse(/(Z|[+-]\d\d:\d\d)$/.test(iso) ? iso : `${iso}Z`) / 1000;
}
