import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { pino } from 'pino';
import { holdLease, leaseTiming, type LeasedWork, type LeaseTiming } from '../../src/runtime/lease.ts';
import { openStore } from '../../src/store/open.ts';
import type { Store } from '../../src/store/store.ts';

const logger = pino({ level: 'silent' });
/** Short, so that the tests wait little: a lease of 600 ms renewed every 150 ms, work stopped 200 ms before it could run out. */
const FAST: LeaseTiming = { ttlMs: 600, renewEveryMs: 150, stopMarginMs: 200 };

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Work that records when it ran, and counts how many holders ran it at once. */
class WatchedWork {
  running = 0;
  most = 0;
  readonly spans: { holder: string; from: number; to: number | null }[] = [];

  for(holder: string): LeasedWork {
    return {
      name: 'connection:watched',
      run: async (signal) => {
        const span = { holder, from: Date.now(), to: null as number | null };
        this.spans.push(span);
        this.running += 1;
        this.most = Math.max(this.most, this.running);
        await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
        // A WebSocket close handshake takes a moment.
        await sleep(30);
        this.running -= 1;
        span.to = Date.now();
      },
    };
  }
}

async function waitUntil(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > until) assert.fail('the condition did not hold in time');
    await sleep(10);
  }
}

describe('holdLease', () => {
  const dir = mkdtempSync(join(tmpdir(), 'imgate-lease-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  let opened = 0;
  /** Two stores on one SQLite file: two nodes of a cluster, as far as leases go. */
  async function twoNodes(): Promise<[Store, Store]> {
    opened += 1;
    const url = `sqlite:${join(dir, `lease-${opened}.db`)}`;
    return [await openStore(url), await openStore(url)];
  }

  it('times leases from the takeover time: 80 % of it, renewed every fifth, work stopped a third early', () => {
    assert.deepEqual(leaseTiming(15), { ttlMs: 12_000, renewEveryMs: 3000, stopMarginMs: 4000 });
  });

  it('runs the work on one holder only, and hands it over at once when that holder stops', async () => {
    const [storeA, storeB] = await twoNodes();
    const work = new WatchedWork();
    const stopA = new AbortController();
    const stopB = new AbortController();
    const holderA = holdLease(storeA, 'node-a', work.for('node-a'), FAST, stopA.signal, logger);
    await waitUntil(() => work.running === 1);
    const holderB = holdLease(storeB, 'node-b', work.for('node-b'), FAST, stopB.signal, logger);
    await sleep(FAST.ttlMs * 2);
    assert.deepEqual(work.spans.map((span) => span.holder), ['node-a'], 'the lease is renewed: node-b never ran the work');

    const stoppedAt = Date.now();
    stopA.abort();
    await holderA;
    await waitUntil(() => work.spans.length === 2);
    assert.equal(work.spans[1]?.holder, 'node-b');
    assert.ok((work.spans[1]?.from ?? 0) - stoppedAt < FAST.ttlMs, 'a released lease passes on without waiting for it to run out');
    stopB.abort();
    await holderB;
    assert.equal(work.most, 1, 'never two holders at once');
    await storeA.close();
    await storeB.close();
  });

  it('stops the work before its lease can run out when renewals fail, and only then may another node start it', async () => {
    const [storeA, storeB] = await twoNodes();
    const work = new WatchedWork();
    const stopA = new AbortController();
    const stopB = new AbortController();
    const holderA = holdLease(storeA, 'node-a', work.for('node-a'), FAST, stopA.signal, logger);
    await waitUntil(() => work.running === 1);
    const holderB = holdLease(storeB, 'node-b', work.for('node-b'), FAST, stopB.signal, logger);
    await sleep(FAST.renewEveryMs * 2);
    // node-a loses its database: every renewal from now on fails.
    await storeA.close();
    await waitUntil(() => work.spans.length === 2);

    const [a, b] = work.spans;
    assert.ok(a && b && a.to !== null, 'node-a stopped and node-b started');
    assert.ok(b.from >= a.to, `node-b started (${b.from}) after node-a had stopped (${a.to})`);
    assert.equal(work.most, 1);
    stopA.abort();
    stopB.abort();
    await Promise.all([holderA, holderB]);
    await storeB.close();
  });

  it('stops at once, and releases the lease, when the node is told to stop while the lease is being granted', async () => {
    const [store] = await twoNodes();
    // The real store, answering the lease request 50 ms late (a busy database).
    const slow: Store = Object.create(store, {
      acquireLease: { value: async (...args: Parameters<Store['acquireLease']>) => (await sleep(50), store.acquireLease(...args)) },
    }) as Store;
    const work = new WatchedWork();
    const stop = new AbortController();
    const holder = holdLease(slow, 'node-a', work.for('node-a'), FAST, stop.signal, logger);
    await sleep(10);
    stop.abort();
    const outcome = await Promise.race([holder.then(() => 'returned'), sleep(2000).then(() => 'still running')]);
    assert.equal(outcome, 'returned');
    assert.equal(work.running, 0, 'the work never ran on');
    assert.deepEqual(await store.listLeases(), [], 'the lease was given back');
    await store.close();
  });

  it('stops the work when a renewal is refused because the lease was taken', async () => {
    const [storeA, storeB] = await twoNodes();
    const work = new WatchedWork();
    const stopA = new AbortController();
    const holderA = holdLease(storeA, 'node-a', work.for('node-a'), FAST, stopA.signal, logger);
    await waitUntil(() => work.running === 1);
    // An operator (or a bug) removes the lease and another node takes it: node-a must notice.
    (storeB as Store & { db: { exec(sql: string): void } }).db.exec('DELETE FROM leases');
    assert.ok(await storeB.acquireLease('connection:watched', 'node-b', 60_000));
    const takenAt = Date.now();
    await waitUntil(() => work.running === 0);
    assert.ok(Date.now() - takenAt <= FAST.renewEveryMs + 200, 'stopped at its next renewal');
    stopA.abort();
    await holderA;
    await storeA.close();
    await storeB.close();
  });
});
