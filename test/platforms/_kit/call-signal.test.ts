import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { describe, it } from 'node:test';
import { withCallSignal } from '../../../src/platforms/_kit/call-signal.ts';

const timers = () => process.getActiveResourcesInfo().filter((name) => name === 'Timeout').length;

/** A call that never settles by itself: it ends when its signal aborts, with the signal's reason. */
const untilAborted = (signal: AbortSignal) =>
  new Promise<never>((_, reject) => {
    if (signal.aborted) reject(signal.reason as Error);
    else signal.addEventListener('abort', () => reject(signal.reason as Error), { once: true });
  });

describe('withCallSignal', () => {
  it('leaves no listener on the parent and no timer behind, however the calls end', async () => {
    const parent = new AbortController();
    const before = timers();
    for (let i = 0; i < 50; i += 1) {
      assert.equal(await withCallSignal(parent.signal, 10_000, async () => i), i);
      await assert.rejects(withCallSignal(parent.signal, 10_000, async () => Promise.reject(new Error('refused'))), /refused/);
    }
    assert.equal(getEventListeners(parent.signal, 'abort').length, 0);
    assert.equal(timers(), before);
  });

  it("aborts the call when the parent aborts, with the parent's reason", async () => {
    const parent = new AbortController();
    const call = withCallSignal(parent.signal, undefined, untilAborted);
    parent.abort(new Error('shutting down'));
    await assert.rejects(call, /shutting down/);
    await assert.rejects(withCallSignal(parent.signal, undefined, untilAborted), /shutting down/, 'a parent aborted before the call');
  });

  it('aborts the call after the timeout as a TimeoutError', async () => {
    const started = Date.now();
    await assert.rejects(withCallSignal(undefined, 30, untilAborted), { name: 'TimeoutError' });
    assert.ok(Date.now() - started < 1000);
  });
});
