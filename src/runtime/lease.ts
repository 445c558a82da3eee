import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../core/logger.ts';
import type { Coordination } from '../store/store.ts';

/** How a node holds its leases, derived from `cluster.takeoverSeconds`. */
export interface LeaseTiming {
  /** How long a lease lasts after each acquire or renewal, by the database's clock. */
  ttlMs: number;
  /** How often a held lease is renewed, and a wanted one asked for again. */
  renewEveryMs: number;
  /**
   * How long before its lease could run out the holder stops its work, when no renewal got
   * through: time for the work to close (a WebSocket close handshake) before another node may
   * take the lease.
   */
  stopMarginMs: number;
}

/**
 * A lease lasts 80 % of the takeover time and is asked for every fifth of it, so that a dead
 * holder's work is taken over within `takeoverSeconds`: its lease runs out at most `ttl` after its
 * last renewal, and a waiting node asks again within `renewEvery` after that. A holder that cannot
 * renew stops its work a third of the lease before it could run out.
 */
export function leaseTiming(takeoverSeconds: number): LeaseTiming {
  const ttlMs = Math.round(takeoverSeconds * 800);
  return { ttlMs, renewEveryMs: Math.round(ttlMs / 4), stopMarginMs: Math.round(ttlMs / 3) };
}

export interface LeasedWork {
  /** The lease's name: one holder in the whole cluster (`connection:<channel>`, `poller:<channel>`, `retention`). */
  name: string;
  /** Runs the work until `signal` aborts (the lease is lost, or the node stops); resolves once it has stopped. */
  run(signal: AbortSignal): Promise<void>;
}

/**
 * Runs `work` only while this node holds its lease, until `signal` aborts: asks for the lease,
 * runs the work once granted, renews the lease while the work runs, and aborts the work as soon as
 * the node can no longer prove it holds the lease: a renewal refused (the lease ran out and was
 * taken), or none confirmed for so long that the lease may run out within `stopMarginMs`. The
 * deadline is counted on this node's monotonic clock from when the last confirmed renewal was
 * *sent*, which is never later than when the database counted it, so the work has stopped before
 * the database could hand the lease to another node, whatever the two clocks say. At shutdown the
 * lease is released, so another node takes over at once.
 */
export async function holdLease(
  coordination: Coordination,
  holder: string,
  work: LeasedWork,
  timing: LeaseTiming,
  signal: AbortSignal,
  logger: Logger,
): Promise<void> {
  const log = { lease: work.name };
  while (!signal.aborted) {
    const sentAt = performance.now();
    const token = await coordination.acquireLease(work.name, holder, timing.ttlMs).catch((error: unknown) => {
      logger.warn({ ...log, err: error }, 'could not ask for a lease');
      return null;
    });
    if (token !== null) {
      logger.info(log, 'lease acquired: starting the work it guards');
      const end = await runWhileHeld(coordination, work, token, sentAt, timing, signal, logger);
      if (end !== 'lost') {
        await coordination.releaseLease(work.name, token).catch((error: unknown) => logger.warn({ ...log, err: error }, 'could not release a lease'));
      }
      if (end === 'stopped') return;
    }
    await sleep(timing.renewEveryMs, undefined, { signal }).catch(() => undefined);
  }
}

/**
 * Runs the work and renews its lease; answers why it ended: the lease was `lost`, `signal`
 * `stopped` it, or the work `ended` by itself (it is started again after a pause).
 */
async function runWhileHeld(
  coordination: Coordination,
  work: LeasedWork,
  token: string,
  acquiredSentAt: number,
  timing: LeaseTiming,
  signal: AbortSignal,
  logger: Logger,
): Promise<'lost' | 'stopped' | 'ended'> {
  const log = { lease: work.name };
  const held = new AbortController();
  const stop = () => held.abort();
  signal.addEventListener('abort', stop, { once: true });
  // The node may have been told to stop while the lease was being granted.
  if (signal.aborted) held.abort();
  let lost = false;
  const loseLease = (reason: string) => {
    if (held.signal.aborted) return;
    lost = true;
    logger.warn({ ...log, reason }, 'lease lost: stopping the work it guards');
    held.abort();
  };
  let deadline: NodeJS.Timeout | undefined;
  const armDeadline = (confirmedSentAt: number) => {
    clearTimeout(deadline);
    const remaining = confirmedSentAt + timing.ttlMs - timing.stopMarginMs - performance.now();
    deadline = setTimeout(() => loseLease('no renewal got through in time'), Math.max(0, remaining));
  };
  armDeadline(acquiredSentAt);
  // An answer so slow that the lease is already near its end: nothing is started on it.
  if (acquiredSentAt + timing.ttlMs - timing.stopMarginMs <= performance.now()) held.abort();

  const renewing = (async () => {
    while (!held.signal.aborted) {
      await sleep(timing.renewEveryMs, undefined, { signal: held.signal }).catch(() => undefined);
      if (held.signal.aborted) break;
      const sentAt = performance.now();
      try {
        if (await coordination.renewLease(work.name, token, timing.ttlMs)) armDeadline(sentAt);
        else loseLease('the lease ran out and was taken');
      } catch (error) {
        // The deadline decides: a store that is away for a moment does not end the work at once.
        logger.warn({ ...log, err: error }, 'could not renew a lease');
      }
    }
  })();

  try {
    if (!held.signal.aborted) await work.run(held.signal);
  } catch (error) {
    logger.error({ ...log, err: error }, 'the work under a lease stopped with an error');
  } finally {
    held.abort();
    clearTimeout(deadline);
    signal.removeEventListener('abort', stop);
    await renewing;
  }
  return lost ? 'lost' : signal.aborted ? 'stopped' : 'ended';
}
