/**
 * When to try again. `attemptsMade` counts the attempt that just failed; the schedule's entry for
 * it (seconds) gets ±20 % jitter so that subscribers recovering from an outage are not hit by every
 * retry in the same second. A `Retry-After` from the subscriber replaces the scheduled delay.
 * Returns null when the schedule is used up: the delivery is dead-lettered.
 */
export function calculateRetryDelay(
  schedule: readonly number[],
  attemptsMade: number,
  retryAfterSeconds: number | null,
  random: () => number = Math.random,
): number | null {
  const scheduled = schedule[attemptsMade - 1];
  if (scheduled === undefined) return null;
  if (retryAfterSeconds !== null) return Math.round(retryAfterSeconds * 1000);
  return withJitter(scheduled * 1000, random);
}

/** `ms` give or take 20 %, so that many clients recovering from one outage do not retry in step. */
export function withJitter(ms: number, random: () => number = Math.random): number {
  return Math.round(ms * (1 + (random() * 2 - 1) * 0.2));
}

/** `Retry-After` as seconds: either delta-seconds or an HTTP date. Null when absent or unreadable. */
export function parseRetryAfter(header: string | string[] | undefined, now: number): number | null {
  const value = Array.isArray(header) ? header[0] : header;
  if (!value) return null;
  if (/^\d+(\.\d+)?$/.test(value.trim())) return Number(value);
  const date = Date.parse(value);
  return Number.isNaN(date) ? null : Math.max(0, (date - now) / 1000);
}
