import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ImgateError } from '../../src/core/errors.ts';
import type { ConnectionSession } from '../../src/platforms/_kit/adapter.ts';
import type { ChannelStatus } from '../../src/runtime/channels.ts';
import { holdConnection } from '../../src/runtime/long-connection.ts';
import { capturingLogger } from '../helpers/adapter-deps.ts';

function freshStatus(): ChannelStatus {
  return { connected: false, lastEventAt: null, lastPullAt: null, lastError: null };
}

describe('holdConnection', () => {
  it('reconnects after failures with a growing pause, shows the last error and stops on abort', async () => {
    const status = freshStatus();
    const controller = new AbortController();
    const attemptsAt: number[] = [];
    const statusWhileUp: (boolean | null)[] = [];
    const { logger } = capturingLogger();
    const connect = async (session: ConnectionSession): Promise<void> => {
      attemptsAt.push(Date.now());
      if (attemptsAt.length <= 3) throw new ImgateError('IMG_ERR_PLATFORM_UNREACHABLE', { message: `attempt ${attemptsAt.length} refused` });
      session.connected();
      statusWhileUp.push(status.connected);
      await new Promise((resolve) => session.signal.addEventListener('abort', resolve, { once: true }));
    };
    const held = holdConnection({ id: 'c1', adapter: { connect }, status, reconnect: { initialDelayMs: 40, maxDelayMs: 1000 } }, controller.signal, logger);
    while (attemptsAt.length < 4) await new Promise((resolve) => setTimeout(resolve, 10));
    assert.deepEqual(statusWhileUp, [true]);
    assert.equal(status.lastError?.code, 'IMG_ERR_PLATFORM_UNREACHABLE');
    assert.equal(status.lastError?.message, 'attempt 3 refused');
    const pauses = attemptsAt.slice(1).map((at, i) => at - (attemptsAt[i] ?? at));
    // 40, 80, 160 ms give or take 20 %: each pause at least the shortest the jitter allows.
    assert.ok((pauses[0] ?? 0) >= 30 && (pauses[1] ?? 0) >= 62 && (pauses[2] ?? 0) >= 126, `pauses ${pauses.join(', ')}`);
    controller.abort();
    await held;
    assert.equal(status.connected, false);
    assert.equal(attemptsAt.length, 4);
  });

  it('starts the backoff afresh only after a connection that stayed up', async () => {
    const status = freshStatus();
    const controller = new AbortController();
    const attemptsAt: number[] = [];
    const { logger } = capturingLogger();
    // 1, 2 refused; 3 accepted and closed at once (a failure too); 4 accepted and up past maxDelayMs; 5 seen.
    const connect = async (session: ConnectionSession): Promise<void> => {
      attemptsAt.push(Date.now());
      const attempt = attemptsAt.length;
      if (attempt === 5) controller.abort();
      if (attempt === 3) {
        session.connected();
        return;
      }
      if (attempt === 4) {
        session.connected();
        await new Promise((resolve) => setTimeout(resolve, 1100));
        return;
      }
      throw new Error('refused');
    };
    await holdConnection({ id: 'c1', adapter: { connect }, status, reconnect: { initialDelayMs: 100, maxDelayMs: 1000 } }, controller.signal, logger);
    const pauses = attemptsAt.slice(1).map((at, i) => at - (attemptsAt[i] ?? at));
    // After 3 (accepted, closed at once) the pause keeps growing: 400 ms ±20 %, not the shortest.
    assert.ok((pauses[2] ?? 0) >= 320, `pause after a connection closed at once: ${pauses[2]} ms`);
    // After 4 (up for 1.1 s) it is the shortest again: 100 ms ±20 %, far below the 800 ms that would follow.
    assert.ok((pauses[3] ?? 0) - 1100 < 400, `pause after a connection that stayed up: ${(pauses[3] ?? 0) - 1100} ms`);
    assert.deepEqual(status.lastError?.code, 'IMG_ERR_INTERNAL', "errors that are not imgate's show as internal");
  });

  /** The pause between a failed connection (failing with `error`) and the next attempt. */
  async function pauseAfter(error: Error, reconnect: { initialDelayMs: number; maxDelayMs: number }, status = freshStatus()): Promise<number> {
    const controller = new AbortController();
    const attemptsAt: number[] = [];
    const connect = async (): Promise<void> => {
      attemptsAt.push(Date.now());
      if (attemptsAt.length === 2) controller.abort();
      throw error;
    };
    await holdConnection({ id: 'c1', adapter: { connect }, status, reconnect }, controller.signal, capturingLogger().logger);
    return (attemptsAt[1] ?? 0) - (attemptsAt[0] ?? 0);
  }

  it('waits the longest delay after a refusal, which retrying sooner cannot mend', async () => {
    const status = freshStatus();
    const refusal = new ImgateError('IMG_ERR_PLATFORM_REJECTED', { message: 'the bot token was refused', details: { httpStatus: 401 } });
    const pause = await pauseAfter(refusal, { initialDelayMs: 10, maxDelayMs: 400 }, status);
    assert.ok(pause >= 320, `pause after a refusal: ${pause} ms`);
    assert.equal(status.lastError?.message, 'the bot token was refused');
  });

  it('does not take a passing platform error (HTTP 5xx) for a refusal', async () => {
    const serverError = new ImgateError('IMG_ERR_PLATFORM_REJECTED', { message: 'HTTP 500', details: { httpStatus: 500 } });
    const pause = await pauseAfter(serverError, { initialDelayMs: 20, maxDelayMs: 2000 });
    assert.ok(pause < 1000, `pause after an HTTP 500: ${pause} ms (the longest would be 1600–2400)`);
  });

  it('lets a self-reconnecting client report a drop without returning', async () => {
    const status = freshStatus();
    const controller = new AbortController();
    const { logger } = capturingLogger();
    const seen: (boolean | null)[] = [];
    const connect = async (session: ConnectionSession): Promise<void> => {
      session.connected();
      seen.push(status.connected);
      session.disconnected(new ImgateError('IMG_ERR_PLATFORM_UNREACHABLE'));
      seen.push(status.connected);
      session.connected();
      seen.push(status.connected);
      controller.abort();
    };
    await holdConnection({ id: 'c1', adapter: { connect }, status, reconnect: { initialDelayMs: 10, maxDelayMs: 10 } }, controller.signal, logger);
    assert.deepEqual(seen, [true, false, true]);
    assert.equal(status.lastError?.code, 'IMG_ERR_PLATFORM_UNREACHABLE');
  });
});
