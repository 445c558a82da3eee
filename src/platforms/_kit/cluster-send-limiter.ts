import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { ImgateError } from '../../core/errors.ts';
import type { SendSlots } from '../../store/store.ts';
import { SendRateLimiter, systemClock, type LimiterClock, type SendLimiter, type SendRateLimit } from './send-rate-limiter.ts';

/**
 * Longest a send may hold its cluster slot: if its node dies mid-send, the slot comes free after
 * this. Far beyond a live send (three platform calls of 10 s each and their backoff).
 */
const SLOT_HOLD_MS = 120_000;
/** Shortest pause before asking for a cluster slot again (a slot said to come free "now"). */
const MIN_POLL_MS = 20;

/**
 * A send rate limit that holds for the whole cluster. Sends of this node queue first in its own
 * sliding window (first come, first served, `SendRateLimiter`); then each takes a slot of the key in
 * the store, waiting while the other nodes' sends hold them, so that the platform never sees more
 * than the limit in any window from all nodes together. The whole wait, both stages, is bounded by
 * `maxWaitSeconds`. Keys are hashed before they reach the store: a robot's key is its webhook's
 * credential.
 */
export class ClusterSendLimiter implements SendLimiter {
  private readonly local: SendRateLimiter;

  constructor(
    private readonly limit: SendRateLimit,
    private readonly slots: SendSlots,
    private readonly scope: string,
    private readonly clock: LimiterClock = systemClock,
  ) {
    this.local = new SendRateLimiter(limit, clock);
  }

  async run<T>(key: string, send: () => Promise<T>): Promise<T> {
    const startedAt = this.clock.now();
    const releaseLocal = await this.local.acquire(key);
    try {
      const slotKey = `${this.scope}:${createHash('sha256').update(key).digest('hex')}`;
      const token = await this.takeSlot(slotKey, startedAt);
      try {
        return await send();
      } finally {
        // A send that reached the platform must not turn into an error (and a retried message)
        // because the store could not be told: a slot not given back frees itself after SLOT_HOLD_MS.
        await this.slots.releaseSendSlot(slotKey, token, this.limit.perSeconds * 1000).catch(() => undefined);
      }
    } finally {
      releaseLocal();
    }
  }

  private async takeSlot(slotKey: string, startedAt: number): Promise<string> {
    const deadline = startedAt + this.limit.maxWaitSeconds * 1000;
    for (;;) {
      const answer = await this.slots.takeSendSlot(slotKey, this.limit.messages, SLOT_HOLD_MS, this.limit.perSeconds * 1000);
      if ('token' in answer) return answer.token;
      const now = this.clock.now();
      if (now + answer.waitMs > deadline) {
        throw new ImgateError('IMG_ERR_SEND_RATE_LIMITED', {
          details: { messages: this.limit.messages, perSeconds: this.limit.perSeconds, cluster: true },
          retryAfter: Math.max(1, Math.ceil(answer.waitMs / 1000)),
        });
      }
      await sleep(Math.max(MIN_POLL_MS, answer.waitMs));
    }
  }
}
