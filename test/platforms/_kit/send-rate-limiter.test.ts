import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ImgateError } from '../../../src/core/errors.ts';
import { SendRateLimiter, type LimiterClock, type ReleaseSlot } from '../../../src/platforms/_kit/send-rate-limiter.ts';

interface Timer {
  at: number;
  fn: () => void;
  cancelled: boolean;
}

/** Time that moves only when told; timers fire as it passes them (`early` ms before, if asked). */
class ManualClock implements LimiterClock {
  time = 0;
  private timers: Timer[] = [];

  constructor(private readonly early = 0) {}

  now(): number {
    return this.time;
  }

  setTimer(fn: () => void, ms: number): { cancel(): void } {
    const timer = { at: this.time + Math.max(1, ms - this.early), fn, cancelled: false };
    this.timers.push(timer);
    return { cancel: () => (timer.cancelled = true) };
  }

  /** Moves time forward, firing due timers in order, and lets granted sends run. */
  async advance(ms: number): Promise<void> {
    const target = this.time + ms;
    for (;;) {
      const due = this.timers.filter((t) => !t.cancelled && t.at <= target).sort((a, b) => a.at - b.at)[0];
      if (!due) break;
      this.timers = this.timers.filter((t) => t !== due);
      this.time = Math.max(this.time, due.at);
      due.fn();
      await settle();
    }
    this.time = target;
    await settle();
  }
}

const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

/** An acquire whose outcome can be looked at without awaiting it. */
function track(promise: Promise<ReleaseSlot>) {
  const state: { release?: ReleaseSlot; error?: unknown } = {};
  promise.then(
    (release) => (state.release = release),
    (error: unknown) => (state.error = error),
  );
  return state;
}

describe('SendRateLimiter', () => {
  it('lets the first `messages` sends through at once', async () => {
    const limiter = new SendRateLimiter({ messages: 3, perSeconds: 60, maxWaitSeconds: 60 }, new ManualClock());
    const slots = [track(limiter.acquire('robot')), track(limiter.acquire('robot')), track(limiter.acquire('robot'))];
    await settle();
    assert.ok(slots.every((slot) => slot.release !== undefined));
    assert.equal(limiter.queued('robot'), 0);
  });

  it('starts the send beyond the limit a window after the first one finished, not before', async () => {
    const clock = new ManualClock();
    const limiter = new SendRateLimiter({ messages: 2, perSeconds: 10, maxWaitSeconds: 60 }, clock);
    const first = track(limiter.acquire('robot'));
    track(limiter.acquire('robot'));
    const third = track(limiter.acquire('robot'));
    await settle();
    assert.equal(third.release, undefined);
    assert.equal(limiter.queued('robot'), 1);

    await clock.advance(3000);
    first.release!();
    await clock.advance(9_999);
    assert.equal(third.release, undefined, 'a window has not passed since the first send finished');
    await clock.advance(1);
    assert.ok(third.release, 'started a window after the first send finished');
    assert.equal(clock.now(), 13_000);
  });

  it('keeps a slot taken for as long as its send is under way', async () => {
    const clock = new ManualClock();
    const limiter = new SendRateLimiter({ messages: 1, perSeconds: 10, maxWaitSeconds: 60 }, clock);
    const first = track(limiter.acquire('robot'));
    const second = track(limiter.acquire('robot'));
    await clock.advance(120_000);
    assert.equal(second.release, undefined, 'the first send has not finished');
    first.release!();
    await clock.advance(9_999);
    assert.equal(second.release, undefined);
    await clock.advance(1);
    assert.ok(second.release);
  });

  it('serves waiting sends in the order they came, dropping none', async () => {
    const clock = new ManualClock();
    const limiter = new SendRateLimiter({ messages: 2, perSeconds: 1, maxWaitSeconds: 60 }, clock);
    const started: number[] = [];
    const all = Array.from({ length: 7 }, (_, index) =>
      limiter.run('robot', async () => {
        started.push(index);
      }),
    );
    for (let second = 0; second < 5; second += 1) await clock.advance(1000);
    await Promise.all(all);
    assert.deepEqual(started, [0, 1, 2, 3, 4, 5, 6]);
  });

  it('refuses a send whose turn would come after maxWaitSeconds, saying when a slot frees', async () => {
    const clock = new ManualClock();
    const limiter = new SendRateLimiter({ messages: 2, perSeconds: 60, maxWaitSeconds: 0 }, clock);
    const first = track(limiter.acquire('robot'));
    track(limiter.acquire('robot'));
    await settle();
    await clock.advance(15_000);
    first.release!();
    await clock.advance(5_000);
    const refused = await limiter.acquire('robot').then(
      () => assert.fail('the third send should be refused'),
      (error: unknown) => error,
    );
    assert.ok(refused instanceof ImgateError);
    assert.equal(refused.code, 'IMG_ERR_SEND_RATE_LIMITED');
    assert.equal(refused.status, 429);
    assert.equal(refused.retryAfter, 55, "the first send's slot frees 60 s after it finished, 55 s from now");
    assert.equal(limiter.queued('robot'), 0, 'a refused send is not queued');
  });

  it('estimates the wait through the whole queue ahead', async () => {
    const clock = new ManualClock();
    const limiter = new SendRateLimiter({ messages: 1, perSeconds: 10, maxWaitSeconds: 25 }, clock);
    track(limiter.acquire('robot'));
    const second = track(limiter.acquire('robot'));
    const third = track(limiter.acquire('robot'));
    const fourth = track(limiter.acquire('robot'));
    await settle();
    assert.equal(second.error, undefined, 'waits about 10 s');
    assert.equal(third.error, undefined, 'waits about 20 s');
    assert.ok(fourth.error instanceof ImgateError, 'would wait about 30 s, more than 25');
    assert.equal(fourth.error.retryAfter, 30);
    assert.equal(limiter.queued('robot'), 2);
  });

  it('limits each key on its own', async () => {
    const limiter = new SendRateLimiter({ messages: 1, perSeconds: 60, maxWaitSeconds: 0 }, new ManualClock());
    await limiter.acquire('robot-a');
    const other = await limiter.acquire('robot-b');
    assert.equal(typeof other, 'function');
    await assert.rejects(limiter.acquire('robot-a'), { code: 'IMG_ERR_SEND_RATE_LIMITED' });
  });

  it('gives the slot back when the send fails', async () => {
    const clock = new ManualClock();
    const limiter = new SendRateLimiter({ messages: 1, perSeconds: 10, maxWaitSeconds: 60 }, clock);
    await assert.rejects(limiter.run('robot', () => Promise.reject(new Error('platform down'))), /platform down/);
    const next = track(limiter.acquire('robot'));
    await clock.advance(10_000);
    assert.ok(next.release, 'the failed send held its slot for one window, then gave it back');
  });

  it('does not free a slot early when a timer fires before its time', async () => {
    const clock = new ManualClock(5);
    const limiter = new SendRateLimiter({ messages: 1, perSeconds: 10, maxWaitSeconds: 60 }, clock);
    const first = track(limiter.acquire('robot'));
    const second = track(limiter.acquire('robot'));
    await settle();
    first.release!();
    await clock.advance(9_997);
    assert.equal(second.release, undefined);
    await clock.advance(3);
    assert.ok(second.release);
    assert.equal(clock.now(), 10_000);
  });

  it('with the real clock, starts the send beyond the limit no earlier than a window after an earlier one finished', async () => {
    const limiter = new SendRateLimiter({ messages: 2, perSeconds: 0.05, maxWaitSeconds: 5 });
    const runs: { start: number; end: number }[] = [];
    await Promise.all(
      [0, 1, 2].map(() =>
        limiter.run('robot', async () => {
          const start = Date.now();
          await new Promise((resolve) => setTimeout(resolve, 5));
          runs.push({ start, end: Date.now() });
        }),
      ),
    );
    const [a, b, c] = runs.sort((x, y) => x.start - y.start) as [typeof runs[0], typeof runs[0], typeof runs[0]];
    assert.ok(c.start >= Math.min(a.end, b.end) + 50, `third started ${c.start - Math.min(a.end, b.end)} ms after the first finish`);
  });
});
