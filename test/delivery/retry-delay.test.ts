import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { calculateRetryDelay, parseRetryAfter } from '../../src/delivery/retry-delay.ts';
import { DEFAULT_RETRY_SCHEDULE } from '../../src/config/schema.ts';

describe('calculateRetryDelay', () => {
  it('follows the schedule with at most ±20 % jitter', () => {
    assert.equal(calculateRetryDelay([5, 300], 1, null, () => 0), 4000);
    assert.equal(calculateRetryDelay([5, 300], 1, null, () => 1), 6000);
    assert.equal(calculateRetryDelay([5, 300], 2, null, () => 0.5), 300_000);
  });

  it('dead-letters after the last scheduled retry', () => {
    assert.equal(calculateRetryDelay(DEFAULT_RETRY_SCHEDULE, DEFAULT_RETRY_SCHEDULE.length + 1, null), null);
    assert.equal(calculateRetryDelay([], 1, null), null);
    assert.equal(calculateRetryDelay([5], 2, 42), null, 'a Retry-After does not add attempts');
  });

  it('waits for a Retry-After longer than the scheduled delay', () => {
    assert.equal(calculateRetryDelay([5], 1, 42, () => 0), 42_000);
  });

  it('keeps the scheduled delay when Retry-After asks for less, 0 included', () => {
    assert.equal(calculateRetryDelay([300], 1, 2, () => 0.5), 300_000);
    assert.equal(calculateRetryDelay([5], 1, 0, () => 0), 4000);
    assert.equal(calculateRetryDelay([5], 1, 0, () => 1), 6000);
  });

  it('obeys a Retry-After for 24 hours at most', () => {
    assert.equal(calculateRetryDelay([5], 1, 10 * 86_400, () => 0.5), 86_400_000);
    assert.equal(calculateRetryDelay([5], 1, 1e23, () => 0.5), 86_400_000);
    assert.equal(calculateRetryDelay([2 * 86_400], 1, 10 * 86_400, () => 0.5), 2 * 86_400_000, 'the cap is on Retry-After, not on the schedule');
  });
});

describe('parseRetryAfter', () => {
  const now = Date.parse('2026-11-23T09:00:00Z');

  it('reads delta-seconds', () => {
    assert.equal(parseRetryAfter('7', 0), 7);
    assert.equal(parseRetryAfter('0', 0), 0);
    assert.equal(parseRetryAfter('007', 0), 7);
    assert.equal(parseRetryAfter(' 120 ', 0), 120);
    assert.equal(parseRetryAfter(['3', '9'], 0), 3, 'the first of repeated headers');
  });

  it('reads an HTTP-date as the seconds until it, and one in the past as 0', () => {
    assert.equal(parseRetryAfter('Mon, 23 Nov 2026 09:00:30 GMT', now), 30);
    assert.equal(parseRetryAfter('Monday, 23-Nov-26 09:00:30 GMT', now), 30);
    assert.equal(parseRetryAfter('Mon Nov 23 09:00:30 2026', now), 30);
    assert.equal(parseRetryAfter('Wed, 21 Oct 2015 07:28:00 GMT', now), 0);
  });

  it('ignores what is absent, empty or not delta-seconds or an HTTP-date', () => {
    assert.equal(parseRetryAfter(undefined, now), null);
    assert.equal(parseRetryAfter('', now), null);
    assert.equal(parseRetryAfter('  ', now), null);
    // Each of these Date.parse reads as some date, most in the past.
    for (const value of ['-1', '+5', 'Tue 3', 'foo 12', '12 foo', '3 Mar', '1.5', '1e3', 'soon', '2026-11-23T09:00:30Z']) {
      assert.equal(parseRetryAfter(value, now), null, value);
    }
  });
});
