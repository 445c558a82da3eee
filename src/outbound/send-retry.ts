import { setTimeout as sleep } from 'node:timers/promises';
import { ImgateError } from '../core/errors.ts';
import type { SendResult } from '../platforms/_kit/adapter.ts';
import { sendOutcomeOf } from '../platforms/_kit/platform-http.ts';

/** Waits before the 2nd and 3rd platform call when the platform was unreachable. */
const RETRY_BACKOFF_MS: readonly number[] = [250, 1000];

export interface RetryPolicy {
  /** The platform drops a repeat of this send (`ChannelAdapter.dedupedByPlatform`). */
  dedupedByPlatform: boolean;
  /** True once the gateway is stopping: no further attempt is started. */
  stopping: () => boolean;
  backoffMs?: readonly number[];
}

/**
 * True when a failed send may have left its message with the platform: the error says the outcome
 * is unknown, or the platform was unreachable and nobody said the request did not get there.
 */
export function mayHaveSent(error: unknown): boolean {
  const outcome = sendOutcomeOf(error);
  if (outcome !== null) return outcome === 'unknown';
  return error instanceof ImgateError && error.code === 'IMG_ERR_PLATFORM_UNREACHABLE';
}

/**
 * Calls the platform until it answers, trying again (after 250 ms, then 1 s) only when it was
 * unreachable and a repeat cannot make a second message: the request never got there, or the
 * platform drops repeats of this send. An attempt whose outcome is unknown makes the whole send's
 * outcome unknown, so its error is the one thrown even when a later attempt fails otherwise (a later
 * 429 or 503 must not read as "nothing was sent").
 */
export async function callWithRetry(call: () => Promise<SendResult>, policy: RetryPolicy): Promise<SendResult> {
  const backoffMs = policy.backoffMs ?? RETRY_BACKOFF_MS;
  let firstUnknown: unknown;
  for (let attempt = 0; ; attempt += 1) {
    try {
      return await call();
    } catch (error) {
      const unknown = mayHaveSent(error);
      if (unknown) firstUnknown ??= error;
      const retryable = error instanceof ImgateError && error.code === 'IMG_ERR_PLATFORM_UNREACHABLE' && (!unknown || policy.dedupedByPlatform);
      const backoff = backoffMs[attempt];
      if (!retryable || backoff === undefined || policy.stopping()) throw firstUnknown ?? error;
      await sleep(backoff);
    }
  }
}
