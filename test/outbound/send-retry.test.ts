import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ImgateError } from '../../src/core/errors.ts';
import type { SendResult } from '../../src/platforms/_kit/adapter.ts';
import { callWithRetry, mayHaveSent, type RetryPolicy } from '../../src/outbound/send-retry.ts';
import { rejection } from '../helpers/errors.ts';

const notSent = () => new ImgateError('IMG_ERR_PLATFORM_UNREACHABLE', { message: 'refused', details: { reason: 'ECONNREFUSED', outcome: 'not-sent' } });
const unknown = () => new ImgateError('IMG_ERR_PLATFORM_UNREACHABLE', { message: 'reset', details: { reason: 'UND_ERR_SOCKET', outcome: 'unknown' } });
const rateLimited = () => new ImgateError('IMG_ERR_SEND_RATE_LIMITED', { retryAfter: 3 });
const SENT: SendResult = { platformMessageId: 'p-1' };

/** A platform call that fails with `failures` in turn, then answers SENT; `calls` counts the attempts. */
function scripted(...failures: ImgateError[]) {
  const script = { calls: 0, call: async (): Promise<SendResult> => {
    const failure = failures[script.calls];
    script.calls += 1;
    if (failure) throw failure;
    return SENT;
  } };
  return script;
}

const policy = (overrides: Partial<RetryPolicy> = {}): RetryPolicy => ({ dedupedByPlatform: false, stopping: () => false, backoffMs: [0, 0], ...overrides });

describe('callWithRetry', () => {
  it('tries twice more a platform the request never reached', async () => {
    const platform = scripted(notSent(), notSent());
    assert.deepEqual(await callWithRetry(platform.call, policy()), SENT);
    assert.equal(platform.calls, 3);
  });

  it('gives up after three attempts with the last error', async () => {
    const platform = scripted(notSent(), notSent(), notSent());
    const error = await rejection(callWithRetry(platform.call, policy()));
    assert.equal(error.details?.outcome, 'not-sent');
    assert.equal(platform.calls, 3);
  });

  it('does not repeat a call of unknown outcome to a platform that would send it twice', async () => {
    const platform = scripted(unknown());
    const error = await rejection(callWithRetry(platform.call, policy()));
    assert.equal(error.details?.outcome, 'unknown');
    assert.equal(platform.calls, 1);
  });

  it('repeats a call of unknown outcome to a platform that drops repeats of the send', async () => {
    const platform = scripted(unknown(), unknown());
    assert.deepEqual(await callWithRetry(platform.call, policy({ dedupedByPlatform: true })), SENT);
    assert.equal(platform.calls, 3);
  });

  it('answers with the attempt of unknown outcome when a later attempt fails otherwise', async () => {
    const platform = scripted(unknown(), rateLimited());
    const error = await rejection(callWithRetry(platform.call, policy({ dedupedByPlatform: true })));
    assert.equal(error.code, 'IMG_ERR_PLATFORM_UNREACHABLE');
    assert.equal(error.details?.outcome, 'unknown');
    assert.equal(platform.calls, 2);
  });

  it('retries neither refusals nor rate limits', async () => {
    for (const failure of [new ImgateError('IMG_ERR_PLATFORM_REJECTED'), rateLimited()]) {
      const platform = scripted(failure);
      assert.equal(await rejection(callWithRetry(platform.call, policy({ dedupedByPlatform: true }))), failure);
      assert.equal(platform.calls, 1);
    }
  });

  it('starts no further attempt once the gateway is stopping', async () => {
    const platform = scripted(notSent(), notSent());
    const error = await rejection(callWithRetry(platform.call, policy({ stopping: () => true })));
    assert.equal(error.details?.outcome, 'not-sent');
    assert.equal(platform.calls, 1);
  });
});

describe('mayHaveSent', () => {
  it('believes the outcome an error states, and takes an unreachable platform without one at its worst', () => {
    assert.equal(mayHaveSent(unknown()), true);
    assert.equal(mayHaveSent(notSent()), false);
    assert.equal(mayHaveSent(new ImgateError('IMG_ERR_PLATFORM_UNREACHABLE')), true);
    assert.equal(mayHaveSent(new ImgateError('IMG_ERR_PLATFORM_REJECTED', { details: { outcome: 'unknown', partsSent: 1 } })), true);
    assert.equal(mayHaveSent(new ImgateError('IMG_ERR_PLATFORM_REJECTED')), false);
    assert.equal(mayHaveSent(new TypeError('a bug')), false);
  });
});
