import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ClusterSendLimiter } from '../../../src/platforms/_kit/cluster-send-limiter.ts';
import { openStore } from '../../../src/store/open.ts';
import type { Store } from '../../../src/store/store.ts';
import { failsWith } from '../../helpers/errors.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('ClusterSendLimiter', () => {
  const dir = mkdtempSync(join(tmpdir(), 'imgate-slots-'));
  const stores: Store[] = [];
  after(async () => {
    for (const store of stores) await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  let opened = 0;
  /** Two stores on one SQLite file: two nodes, as far as the slots go. */
  async function twoNodes(): Promise<[Store, Store]> {
    opened += 1;
    const url = `sqlite:${join(dir, `slots-${opened}.db`)}`;
    const pair: [Store, Store] = [await openStore(url), await openStore(url)];
    stores.push(...pair);
    return pair;
  }

  it('keeps two nodes together within the limit: a slot is free again one window after its send finished', async () => {
    const [storeA, storeB] = await twoNodes();
    const limit = { messages: 3, perSeconds: 0.5, maxWaitSeconds: 10 };
    const nodeA = new ClusterSendLimiter(limit, storeA, 'robot');
    const nodeB = new ClusterSendLimiter(limit, storeB, 'robot');
    const sends: { start: number; end: number }[] = [];
    const send = async () => {
      const start = Date.now();
      await sleep(30);
      sends.push({ start, end: Date.now() });
    };
    await Promise.all([
      ...Array.from({ length: 4 }, () => nodeA.run('robot-key-1', send)),
      ...Array.from({ length: 4 }, () => nodeB.run('robot-key-1', send)),
    ]);
    assert.equal(sends.length, 8);
    const byStart = [...sends].sort((a, b) => a.start - b.start);
    const byEnd = [...sends].sort((a, b) => a.end - b.end);
    // The (k+3)-th send may start only once some send's slot has cooled: one window after the k-th end.
    for (let k = 0; k + 3 < byStart.length; k += 1) {
      const later = byStart[k + 3] as { start: number };
      const freed = (byEnd[k] as { end: number }).end + 500;
      assert.ok(later.start >= freed - 5, `send ${k + 3} started ${freed - later.start} ms before a slot was free`);
    }
  });

  it('keeps keys apart', async () => {
    const [storeA] = await twoNodes();
    const limiter = new ClusterSendLimiter({ messages: 1, perSeconds: 60, maxWaitSeconds: 0 }, storeA, 'robot');
    await limiter.run('robot-key-1', async () => undefined);
    await limiter.run('robot-key-2', async () => undefined);
    await assert.rejects(limiter.run('robot-key-1', async () => undefined), failsWith('IMG_ERR_SEND_RATE_LIMITED'));
  });

  it('refuses a send whose wait for another node’s slot would pass maxWaitSeconds, with retry_after', async () => {
    const [storeA, storeB] = await twoNodes();
    const limit = { messages: 1, perSeconds: 5, maxWaitSeconds: 1 };
    await new ClusterSendLimiter(limit, storeA, 'robot').run('robot-key-1', async () => undefined);
    let called = false;
    await assert.rejects(
      new ClusterSendLimiter(limit, storeB, 'robot').run('robot-key-1', async () => {
        called = true;
      }),
      failsWith('IMG_ERR_SEND_RATE_LIMITED', (error) => {
        assert.ok(error.retryAfter !== undefined && error.retryAfter >= 4 && error.retryAfter <= 5, String(error.retryAfter));
      }),
    );
    assert.equal(called, false, 'the platform was not called');
  });

  it('keeps the robot key out of the store', async () => {
    const [storeA] = await twoNodes();
    await new ClusterSendLimiter({ messages: 2, perSeconds: 1, maxWaitSeconds: 1 }, storeA, 'robot').run('secret-webhook-key', async () => undefined);
    const keys = (storeA as Store & { db: { prepare(sql: string): { all(): { key: string }[] } } }).db.prepare('SELECT key FROM send_slots').all();
    assert.ok(keys.length > 0);
    for (const { key } of keys) assert.doesNotMatch(key, /secret-webhook-key/);
  });
});
