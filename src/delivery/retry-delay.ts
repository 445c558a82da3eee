import { withJitter } from '../core/jitter.ts';
import { parseHttpDate } from './http-date.ts';

/** Longest `Retry-After` obeyed, so a subscriber cannot park a delivery for ever. */
export const MAX_RETRY_AFTER_S = 24 * 3600;

/**
 * A test delivery's retry schedule: none, on every path (a failed answer, an error of imgate's own,
 * an attempt cut short by a shutdown). Its caller already has the answer, and a subscriber being set
 * up must not be sent the test again for a day.
 */
export const TEST_RETRY_SCHEDULE: readonly number[] = [];

/**
 * When to try again. `attemptsMade` counts the attempt that just failed; the schedule's entry for
 * it (seconds) gets ±20 % jitter so that subscribers recovering from an outage are not hit by every
 * retry in the same second. A `Retry-After` from the subscriber is a minimum (RFC 9110 §10.2.3: how
 * long the client ought to wait), capped at 24 h: it can put a retry off, never bring it forward, so
 * `Retry-After: 0` does not collapse the schedule. Returns null when the schedule is used up: the
 * delivery is dead-lettered.
 */
export function calculateRetryDelay(
  schedule: readonly number[],
  attemptsMade: number,
  retryAfterSeconds: number | null,
  random: () => number = Math.random,
): number | null {
  const scheduled = schedule[attemptsMade - 1];
  if (scheduled === undefined) return null;
  const jittered = withJitter(scheduled * 1000, random);
  if (retryAfterSeconds === null) return jittered;
  return Math.max(jittered, Math.round(Math.min(retryAfterSeconds, MAX_RETRY_AFTER_S) * 1000));
}

/**
 * `Retry-After` as seconds from `now`: delta-seconds (digits only) or an HTTP-date, 0 for a date in
 * the past. Null when absent or anything else: `Date.parse` was tried and reads "-1", "+5" or
 * "foo 12" as dates in the past, which then cut every wait to nothing.
 */
export function parseRetryAfter(header: string | string[] | undefined, now: number): number | null {
  const value = (Array.isArray(header) ? header[0] : header)?.trim();
  if (!value) return null;
  if (/^\d+$/.test(value)) return Number(value);
  const date = parseHttpDate(value, now);
  return date === null ? null : Math.max(0, (date - now) / 1000);
}
