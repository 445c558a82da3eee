import { ERRORS, ImgateError, type ErrorCode } from '../core/errors.ts';

/**
 * What an idempotency key whose send may or may not have reached the platform answers from then
 * on, stored in place of a SendResponse. Releasing the key instead would let a retry send the
 * message a second time; leaving it "in progress" would let one do so once the claim counts as
 * abandoned (two minutes).
 */
export interface UnknownOutcomeRecord {
  outcomeUnknown: { code: ErrorCode; message: string; details?: Record<string, unknown> };
}

/**
 * The answer to a send that may have gone out: `error` with `details.outcome: "unknown"` and a
 * message that says so. `keyed`: the send had an idempotency key, which will keep this answer. It
 * never invites a plain retry: a 429 (a later part of a message refused for its rate) becomes a
 * refusal, without `retry_after`.
 */
export function unknownOutcomeError(error: ImgateError, keyed: boolean): ImgateError {
  const consequence = keyed ? '; its idempotency key answers this from now on and sends nothing' : '';
  return new ImgateError(error.status === 429 ? 'IMG_ERR_PLATFORM_REJECTED' : error.code, {
    message: `${error.message}: the message may have been sent${consequence}`,
    details: { ...error.details, outcome: 'unknown' },
    cause: error,
  });
}

export function unknownOutcomeRecord(error: ImgateError): UnknownOutcomeRecord {
  return { outcomeUnknown: { code: error.code, message: error.message, details: error.details } };
}

/** The record of a send the gateway stopped waiting for at shutdown, its platform call still open. */
export function shutdownRecord(): UnknownOutcomeRecord {
  return unknownOutcomeRecord(stoppedError('the gateway stopped before the platform answered this send', 'shutdown'));
}

/**
 * The answer to a key whose send a gateway abandoned after it began calling the platform (it was
 * killed, or lost its store): claimIdempotencyKey's `interrupted`.
 */
export function interruptedError(): ImgateError {
  return stoppedError('a gateway stopped while this send was with the platform', 'interrupted');
}

function stoppedError(message: string, reason: string): ImgateError {
  return unknownOutcomeError(new ImgateError('IMG_ERR_PLATFORM_UNREACHABLE', { message, details: { reason } }), true);
}

/** The error a stored record stands for; null when `stored` is a SendResponse. */
export function recordedError(stored: unknown): ImgateError | null {
  if (stored === null || typeof stored !== 'object' || !('outcomeUnknown' in stored)) return null;
  const record = stored.outcomeUnknown;
  if (record === null || typeof record !== 'object') return null;
  const { code, message, details } = record as Record<string, unknown>;
  return new ImgateError(typeof code === 'string' && code in ERRORS ? (code as ErrorCode) : 'IMG_ERR_PLATFORM_UNREACHABLE', {
    message: typeof message === 'string' ? message : undefined,
    details: details !== null && typeof details === 'object' ? { ...(details as Record<string, unknown>), outcome: 'unknown' } : { outcome: 'unknown' },
  });
}
