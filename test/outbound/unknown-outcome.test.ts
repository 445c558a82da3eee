import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ImgateError } from '../../src/core/errors.ts';
import { recordedError, shutdownRecord, unknownOutcomeError, unknownOutcomeRecord } from '../../src/outbound/unknown-outcome.ts';

describe('the answer of a send of unknown outcome', () => {
  const lost = new ImgateError('IMG_ERR_PLATFORM_UNREACHABLE', {
    message: 'POST http://pad.example/message/SendTextMessage failed: UND_ERR_SOCKET',
    details: { reason: 'UND_ERR_SOCKET', outcome: 'unknown' },
  });

  it('says that the message may have been sent, and that its key keeps the answer', () => {
    const answer = unknownOutcomeError(lost, true);
    assert.equal(answer.status, 502);
    assert.match(answer.message, /UND_ERR_SOCKET: the message may have been sent; its idempotency key answers this from now on/);
    assert.deepEqual(answer.details, { reason: 'UND_ERR_SOCKET', outcome: 'unknown' });
    assert.doesNotMatch(unknownOutcomeError(lost, false).message, /idempotency key/);
  });

  it('never invites a plain retry: a 429 becomes a refusal without retry_after', () => {
    const limited = new ImgateError('IMG_ERR_PLATFORM_RATE_LIMITED', { details: { httpStatus: 429, outcome: 'unknown', partsSent: 1 }, retryAfter: 5 });
    const answer = unknownOutcomeError(limited, true);
    assert.equal(answer.code, 'IMG_ERR_PLATFORM_REJECTED');
    assert.equal(answer.retryAfter, undefined);
    assert.equal(answer.details?.partsSent, 1);
  });

  it('comes back from its stored record as the same error, through JSON', () => {
    const answer = unknownOutcomeError(lost, true);
    const replayed = recordedError(JSON.parse(JSON.stringify(unknownOutcomeRecord(answer))));
    assert.ok(replayed);
    assert.deepEqual(replayed.toBody(), answer.toBody());
    assert.equal(replayed.status, 502);
  });

  it('tells a stored send response from a record', () => {
    assert.equal(recordedError({ messageId: 'msg_1', platformMessageId: null, channel: 'wx', to: 'wxid_a' }), null);
    assert.equal(recordedError(null), null);
  });

  it('records a send the gateway stopped waiting for as unreachable with an unknown outcome', () => {
    const replayed = recordedError(shutdownRecord());
    assert.ok(replayed);
    assert.equal(replayed.code, 'IMG_ERR_PLATFORM_UNREACHABLE');
    assert.deepEqual(replayed.details, { reason: 'shutdown', outcome: 'unknown' });
    assert.match(replayed.message, /gateway stopped before the platform answered/);
  });
});
