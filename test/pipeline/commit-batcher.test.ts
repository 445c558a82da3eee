import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import pino from 'pino';
import { ImgateError } from '../../src/core/errors.ts';
import { newId } from '../../src/core/ids.ts';
import { CommitBatcher } from '../../src/pipeline/commit-batcher.ts';
import { openSqliteStore, type SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import type { IngestItem } from '../../src/store/store.ts';

function item(platformId: string, receivedAt = new Date().toISOString()): IngestItem {
  const event = {
    id: newId('evt'),
    type: 'message' as const,
    channel: 'pad',
    platform: 'wechat-pad',
    receivedAt,
    message: {
      id: newId('msg'),
      platformId,
      type: 'text' as const,
      text: 'hi',
      createdAt: new Date().toISOString(),
      mentions: [],
      mentionsBot: false,
      replyTo: null,
      content: { text: 'hi' },
    },
    sender: { id: 'wxid_a', name: null, isSelf: false },
    conversation: { id: 'wxid_a', type: 'direct' as const, name: null },
    flags: { history: false },
  };
  const raw = { NewMsgId: platformId };
  return {
    channel: 'pad',
    dedupKey: platformId,
    stored: { event, raw, rawBody: Buffer.from(JSON.stringify(raw)), rawRequest: null },
    deliveries: [{ id: newId('dlv'), subscriptionId: 'sub_a' }],
  };
}

describe('CommitBatcher', () => {
  let store: SqliteStore;
  let batcher: CommitBatcher;

  beforeEach(async () => {
    store = openSqliteStore(':memory:');
    await store.migrate();
    batcher = new CommitBatcher(store, pino({ level: 'silent' }), { maxBatch: 512, maxPending: 1000 });
  });
  afterEach(() => store.close());

  it('commits callbacks submitted in one turn together, each with its own outcome', async () => {
    const [a, b] = [item('1001'), item('1002')];
    const outcomes = await Promise.all([batcher.submit([a]), batcher.submit([b]), batcher.submit([item('1001')])]);
    assert.deepEqual(
      outcomes.map(([outcome]) => outcome?.status),
      ['stored', 'stored', 'duplicate'],
    );
    assert.equal(outcomes[2]?.[0]?.eventId, a.stored.event.id);
  });

  it('fails only the event the store refuses, not the others that shared its commit', async () => {
    const good = [item('2001'), item('2002')];
    // The store refuses an event whose receivedAt is not a time, inside the transaction.
    const poison = item('2003', 'not a time');
    const results = await Promise.allSettled([batcher.submit([good[0]!]), batcher.submit([poison]), batcher.submit([good[1]!])]);

    assert.equal(results[0]?.status, 'fulfilled');
    assert.equal(results[2]?.status, 'fulfilled');
    const refused = results[1];
    assert.equal(refused?.status, 'rejected');
    assert.ok(refused.status === 'rejected' && refused.reason instanceof ImgateError && refused.reason.code === 'IMG_ERR_OVERLOADED');
    for (const stored of good) {
      assert.deepEqual(await store.getEvent(stored.stored.event.id), stored.stored);
      assert.equal((await store.getDelivery((stored.deliveries[0] as { id: string }).id))?.status, 'pending');
    }
    assert.equal(await store.getEvent(poison.stored.event.id), null);
    assert.deepEqual(await store.listDeliveries({ limit: 10, eventId: poison.stored.event.id }), []);
  });

  it('refuses a whole batch at once on a full disk, and stores again once there is room', async () => {
    // SQLite answers SQLITE_FULL, as on a full disk, once the file reaches max_page_count.
    const pages = Number(store.db.pragma('page_count', { simple: true }));
    store.db.pragma(`max_page_count = ${pages}`);
    const items = ['2001', '2002', '2003'].map((id) => {
      const big = item(id);
      return { ...big, stored: { ...big.stored, rawBody: Buffer.alloc(64 * 1024, 0x61) } };
    });
    const refused = await Promise.allSettled(items.map((one) => batcher.submit([one])));
    for (const result of refused) {
      assert.equal(result.status, 'rejected');
      assert.ok(result.reason instanceof ImgateError);
      assert.equal(result.reason.code, 'IMG_ERR_STORE_FULL');
      assert.equal(result.reason.status, 503);
    }
    assert.deepEqual(await store.listEvents({ limit: 10 }), []);

    store.db.pragma(`max_page_count = ${pages * 10}`);
    const stored = await Promise.all(items.map((one) => batcher.submit([one])));
    assert.deepEqual(stored.map(([outcome]) => outcome?.status), ['stored', 'stored', 'stored']);
  });
});
