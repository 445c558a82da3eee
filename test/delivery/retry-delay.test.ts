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
  });

  it('lets Retry-After replace the scheduled delay', () => {
    assert.equal(calculateRetryDelay([5], 1, 42, () => 0), 42_000);
  });
});

describe('parseRetryAfter', () => {
  it('reads delta seconds and HTTP dates', () => {
    assert.equal(parseRetryAfter('7', 0), 7);
    assert.equal(parseRetryAfter('1.5', 0), 1.5);
    const now = Date.parse('2026-11-23T09:00:00Z');
    assert.equal(parseRetryAfter('Mon, 23 Nov 2026 09:00:30 GMT', now), 30);
  });

  it('ignores what is absent or unreadable', () => {
    assert.equal(parseRetryAfter(undefined, 0), null);
    assert.equal(parseRetryAfter('soon', 0), null);
  });
});
