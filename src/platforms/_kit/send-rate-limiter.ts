import { ImgateError } from '../../core/errors.ts';

/** How many sends a platform takes per key (a robot, a chat, a bucket) and how long a send may queue. */
export interface SendRateLimit {
  /** Sends allowed in any window of `perSeconds`. */
  messages: number;
  perSeconds: number;
  /** A send whose turn would come later than this is refused with IMG_ERR_SEND_RATE_LIMITED; 0: never queue. */
  maxWaitSeconds: number;
}

/** What an adapter paces its sends with. */
export interface SendLimiter {
  /** Runs `send` once its key's limit allows it; throws IMG_ERR_SEND_RATE_LIMITED (429) past `maxWaitSeconds`. */
  run<T>(key: string, send: () => Promise<T>): Promise<T>;
}

/** The limiter's view of time; tests pass a manual clock. */
export interface LimiterClock {
  /** Milliseconds, never going back. */
  now(): number;
  /** Calls `fn` once, no earlier than `ms` from now (by `now()`, or the limiter checks again). */
  setTimer(fn: () => void, ms: number): { cancel(): void };
}

/** Keys kept before idle ones are swept out; a few hundred keys cost nothing to keep or to sweep. */
const SWEEP_AT = 256;

export const systemClock: LimiterClock = {
  now: () => Date.now(),
  setTimer(fn, ms) {
    const timer = setTimeout(fn, ms);
    return { cancel: () => clearTimeout(timer) };
  },
};

/** Ends a send's hold on its slot; the slot is free again one window after this call. Idempotent. */
export type ReleaseSlot = () => void;

interface Waiter {
  grant: (release: ReleaseSlot) => void;
}

interface Bucket {
  key: string;
  /** Slots held by sends under way. */
  inFlight: number;
  /** When the slots of finished sends come free (finish + window), ascending. */
  cooling: number[];
  /** Sends waiting for a slot, first come first served. */
  waiters: Waiter[];
  timer: { cancel(): void } | null;
}

/**
 * A sliding-window limit per key, for platforms that cap the messages per robot, chat or bucket
 * (WeCom robots: 20 a minute; Feishu: 5 a second per chat; Discord's buckets).
 *
 * It is a set of `messages` slots per key. A send takes a slot before it calls the platform and
 * gives it back when the call returns; the slot stays taken for one more window after that. So
 * every send's slot was last used by a send that *finished* at least a window earlier, and the
 * platform, which counts sends as they reach it (somewhere between our start and our finish),
 * never sees more than `messages` in any window. Counting from the start instead was tried first:
 * with 20 sends at once, the first ones open new connections and reach the platform some
 * milliseconds after later ones, and the 21st, sent exactly a window after the first *started*,
 * landed inside the platform's window.
 *
 * Sends beyond the limit queue in arrival order and are never dropped, unless the queue ahead
 * would make one wait longer than `maxWaitSeconds`: then it is refused at once with
 * IMG_ERR_SEND_RATE_LIMITED (429) and `retryAfter`. That wait is estimated as if every send under
 * way finished now, so a queued send may in the end wait a little longer than the estimate (by
 * how long the calls ahead of it take); it is still sent. This is one node's limit: ClusterSendLimiter
 * puts it in front of slots counted in the store, for the cluster.
 */
export class SendRateLimiter implements SendLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private readonly windowMs: number;
  private readonly maxWaitMs: number;

  constructor(
    private readonly limit: SendRateLimit,
    private readonly clock: LimiterClock = systemClock,
  ) {
    if (!Number.isInteger(limit.messages) || limit.messages < 1) throw new Error('a send rate limit allows at least 1 message');
    if (!(limit.perSeconds > 0)) throw new Error('a send rate limit window is longer than 0 seconds');
    this.windowMs = limit.perSeconds * 1000;
    this.maxWaitMs = Math.max(0, limit.maxWaitSeconds) * 1000;
  }

  /**
   * Waits for a slot under `key` and resolves with the function that gives it back; call that
   * once the platform call has returned (or failed). Throws IMG_ERR_SEND_RATE_LIMITED when the
   * wait would be longer than `maxWaitSeconds`.
   */
  acquire(key: string): Promise<ReleaseSlot> {
    const now = this.clock.now();
    const bucket = this.bucketFor(key, now);
    this.handOut(bucket, now);
    if (bucket.waiters.length === 0 && this.freeSlots(bucket) > 0) {
      bucket.inFlight += 1;
      return Promise.resolve(this.releaseFor(bucket));
    }
    const waitMs = this.estimatedWait(bucket, now);
    if (waitMs > this.maxWaitMs) {
      this.dropIfIdle(bucket);
      return Promise.reject(
        new ImgateError('IMG_ERR_SEND_RATE_LIMITED', {
          details: { messages: this.limit.messages, perSeconds: this.limit.perSeconds, queued: bucket.waiters.length },
          retryAfter: Math.max(1, Math.ceil(waitMs / 1000)),
        }),
      );
    }
    return new Promise<ReleaseSlot>((resolve) => {
      bucket.waiters.push({ grant: resolve });
      this.schedule(bucket);
    });
  }

  /** Runs `send` in a slot under `key`, giving the slot back however `send` ends. */
  async run<T>(key: string, send: () => Promise<T>): Promise<T> {
    const release = await this.acquire(key);
    try {
      return await send();
    } finally {
      release();
    }
  }

  /** Sends waiting under `key` (for tests and status). */
  queued(key: string): number {
    return this.buckets.get(key)?.waiters.length ?? 0;
  }

  private bucketFor(key: string, now: number): Bucket {
    let bucket = this.buckets.get(key);
    if (!bucket) {
      if (this.buckets.size >= SWEEP_AT) this.sweep(now);
      bucket = { key, inFlight: 0, cooling: [], waiters: [], timer: null };
      this.buckets.set(key, bucket);
    }
    return bucket;
  }

  /** Forgets keys with nothing under way or cooling (many keys come and go: Discord's buckets, chats). */
  private sweep(now: number): void {
    for (const bucket of [...this.buckets.values()]) {
      this.expire(bucket, now);
      this.dropIfIdle(bucket);
    }
  }

  private freeSlots(bucket: Bucket): number {
    return this.limit.messages - bucket.inFlight - bucket.cooling.length;
  }

  /** Slots whose window has passed are free again. */
  private expire(bucket: Bucket, now: number): void {
    let passed = 0;
    while (passed < bucket.cooling.length && (bucket.cooling[passed] as number) <= now) passed += 1;
    if (passed > 0) bucket.cooling.splice(0, passed);
  }

  /**
   * When the next waiter's slot comes free: the k-th send to queue takes the k-th slot to come
   * free, and from the (messages+1)-th on, a slot a queued send itself will hold for a window.
   * Sends under way count as finishing now (the soonest they can).
   */
  private estimatedWait(bucket: Bucket, now: number): number {
    const n = this.limit.messages;
    const freeAt: number[] = [];
    for (let i = 0; i < this.freeSlots(bucket); i += 1) freeAt.push(now);
    freeAt.push(...bucket.cooling);
    for (let i = 0; i < bucket.inFlight; i += 1) freeAt.push(now + this.windowMs);
    const position = bucket.waiters.length;
    const turn = (freeAt[position % n] as number) + Math.floor(position / n) * this.windowMs;
    return Math.max(0, turn - now);
  }

  private releaseFor(bucket: Bucket): ReleaseSlot {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      bucket.inFlight -= 1;
      bucket.cooling.push(this.clock.now() + this.windowMs);
      this.schedule(bucket);
    };
  }

  /** Frees the slots whose window has passed and hands them to waiters, first come first served. */
  private handOut(bucket: Bucket, now: number): void {
    this.expire(bucket, now);
    while (bucket.waiters.length > 0 && this.freeSlots(bucket) > 0) {
      const waiter = bucket.waiters.shift() as Waiter;
      bucket.inFlight += 1;
      waiter.grant(this.releaseFor(bucket));
    }
  }

  /** Hands out free slots, and sets a timer for when the next one comes free if sends still wait. */
  private schedule(bucket: Bucket): void {
    const now = this.clock.now();
    this.handOut(bucket, now);
    bucket.timer?.cancel();
    bucket.timer = null;
    const next = bucket.cooling[0];
    if (bucket.waiters.length > 0 && next !== undefined) {
      // A timer may fire a little early by the clock; schedule() then simply sets another.
      bucket.timer = this.clock.setTimer(() => {
        bucket.timer = null;
        this.schedule(bucket);
      }, Math.max(1, next - now));
    }
    this.dropIfIdle(bucket);
  }

  private dropIfIdle(bucket: Bucket): void {
    if (bucket.inFlight === 0 && bucket.waiters.length === 0 && bucket.cooling.length === 0 && this.buckets.get(bucket.key) === bucket) {
      this.buckets.delete(bucket.key);
    }
  }
}
