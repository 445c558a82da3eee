import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, afterEach, beforeEach, describe, it } from 'node:test';
import type { UnifiedEvent } from '../../src/core/event.ts';
import { newId } from '../../src/core/ids.ts';
import type {
  AttemptRecord,
  DeliveryRecord,
  IngestItem,
  IngestOutcome,
  OutboundMessageRecord,
  Store,
  SubscriptionRecord,
} from '../../src/store/store.ts';

/**
 * How the suite gets stores of one engine. `open` gives a new, empty, migrated database each time;
 * `reopen` connects again to the database the last `open` created (the suite closes the old
 * connection first), to prove that what was stored survives a restart; `cleanup` runs once at the
 * end and removes every database the factory made.
 */
export interface StoreFactory {
  open(): Promise<Store>;
  reopen(): Promise<Store>;
  cleanup(): Promise<void>;
}

/** The behaviour every Store engine must show. Engine-specific tests live next to the engine. */
export function describeStoreConformance(engine: string, factory: StoreFactory): void {
  describe(`Store conformance: ${engine}`, () => {
    let store: Store;

    beforeEach(async () => {
      store = await factory.open();
    });
    afterEach(async () => {
      await store.close();
    });
    after(async () => {
      await factory.cleanup();
    });

    async function reopen(): Promise<void> {
      await store.close();
      store = await factory.reopen();
    }

    describe('ingest', () => {
      it('stores an event and its deliveries in one batch', async () => {
        const first = ingestItem({ subscriptionIds: ['sub_a', 'sub_b'] });
        const second = ingestItem({ subscriptionIds: ['sub_a'] });
        const before = Date.now();
        const outcomes = await store.ingestBatch([first, second]);
        const after = Date.now();

        assert.deepEqual(outcomes, [storedOutcome(first), storedOutcome(second)]);
        assert.deepEqual(await store.getEvent(first.stored.event.id), first.stored);
        assert.deepEqual(await store.getEvent(second.stored.event.id), second.stored);
        for (const item of [first, second]) {
          for (const { id, subscriptionId } of item.deliveries) {
            const delivery = await getDelivery(store, id);
            assert.deepEqual(withoutTimes(delivery), {
              id,
              eventId: item.stored.event.id,
              subscriptionId,
              status: 'pending',
              attempts: 0,
              leaseUntil: null,
              lastError: null,
            });
            assertBetween(delivery.nextAttemptAt, before, after);
            assertBetween(delivery.createdAt, before, after);
          }
        }
      });

      it('keeps the raw body byte for byte and the raw payload as given', async () => {
        const item = ingestItem();
        item.stored.rawBody = Buffer.from([0x00, 0xff, 0xfe, 0x80, 0x0a, 0xe4, 0xbd]);
        item.stored.raw = { NewMsgId: '9223372036854775807', text: '你好 👋', nested: [{ a: null }, true, 1.5] };
        await store.ingestBatch([item]);

        const stored = await store.getEvent(item.stored.event.id);
        assert.deepEqual(stored, item.stored);
      });

      it('drops a duplicate dedup key, also after reopening', async () => {
        const original = ingestItem({ dedupKey: 'wx:123' });
        await store.ingestBatch([original]);

        const again = ingestItem({ dedupKey: 'wx:123' });
        assert.deepEqual(await store.ingestBatch([again]), [duplicateOf(original)]);
        await reopen();
        const later = ingestItem({ dedupKey: 'wx:123' });
        assert.deepEqual(await store.ingestBatch([later]), [duplicateOf(original)]);

        for (const copy of [again, later]) {
          assert.equal(await store.getEvent(copy.stored.event.id), null);
          assert.equal(await store.getDelivery(firstDeliveryId(copy)), null);
        }
        assert.deepEqual(await store.getEvent(original.stored.event.id), original.stored);
      });

      it('treats the second of two equal keys in one batch as a duplicate', async () => {
        const first = ingestItem({ dedupKey: 'wx:same' });
        const second = ingestItem({ dedupKey: 'wx:same' });

        assert.deepEqual(await store.ingestBatch([first, second]), [storedOutcome(first), duplicateOf(first)]);
        assert.equal(await store.getEvent(second.stored.event.id), null);
        assert.equal(await store.getDelivery(firstDeliveryId(second)), null);
      });

      it('keeps dedup keys apart per channel', async () => {
        const here = ingestItem({ channel: 'wx-one', dedupKey: 'k1' });
        const there = ingestItem({ channel: 'wx-two', dedupKey: 'k1' });

        assert.deepEqual(await store.ingestBatch([here, there]), [storedOutcome(here), storedOutcome(there)]);
      });

      it('stores nothing of a batch that fails', async () => {
        const good = ingestItem();
        const clash = ingestItem();
        clash.stored.event.id = good.stored.event.id;

        await assert.rejects(store.ingestBatch([good, clash]));
        assert.equal(await store.getEvent(good.stored.event.id), null);
        assert.equal(await store.getDelivery(firstDeliveryId(good)), null);
        assert.deepEqual(await store.listEvents({ limit: 10 }), []);
      });

      it('returns null for an event it does not have', async () => {
        assert.equal(await store.getEvent(newId('evt')), null);
      });

      it('finds an event by imgate or platform message id', async () => {
        const item = ingestItem({ channel: 'wx-one' });
        const other = ingestItem({ channel: 'wx-two' });
        await store.ingestBatch([item, other]);
        const { message } = item.stored.event;

        assert.deepEqual(await store.findEventByMessageId('wx-one', message.id), item.stored);
        assert.deepEqual(await store.findEventByMessageId('wx-one', message.platformId), item.stored);
        assert.equal(await store.findEventByMessageId('wx-two', message.id), null);
        assert.equal(await store.findEventByMessageId('wx-two', message.platformId), null);
        assert.equal(await store.findEventByMessageId('wx-one', newId('msg')), null);
      });

      it('finds the first event received when several share a platform message id', async () => {
        const message = ingestItem();
        const recall = ingestItem({ receivedAt: Date.now() + 1000 });
        recall.stored.event.message.platformId = message.stored.event.message.platformId;
        await store.ingestBatch([recall, message]);

        const found = await store.findEventByMessageId('wx-one', message.stored.event.message.platformId);
        assert.deepEqual(found, message.stored);
      });

      it('lists events newest first, pages with before and filters by channel', async () => {
        const items = [
          ingestItem({ channel: 'wx-one' }),
          ingestItem({ channel: 'wx-two' }),
          ingestItem({ channel: 'wx-one' }),
        ];
        await store.ingestBatch(items);
        const newestFirst = items.map((item) => item.stored.event).sort(byIdDescending);
        const [newest, middle] = newestFirst;
        assert.ok(newest && middle);

        assert.deepEqual(await store.listEvents({ limit: 10 }), newestFirst);
        assert.deepEqual(await store.listEvents({ limit: 2 }), newestFirst.slice(0, 2));
        assert.deepEqual(await store.listEvents({ limit: 10, before: newest.id }), newestFirst.slice(1));
        assert.deepEqual(await store.listEvents({ limit: 10, before: middle.id }), newestFirst.slice(2));
        assert.deepEqual(
          await store.listEvents({ limit: 10, channel: 'wx-one' }),
          newestFirst.filter((event) => event.channel === 'wx-one'),
        );
        assert.deepEqual(await store.listEvents({ limit: 10, channel: 'wx-none' }), []);
      });
    });

    describe('subscriptions', () => {
      it('stores a subscription with every field and reads it back', async () => {
        const full = sampleSubscription({
          secrets: ['whsec_old', 'whsec_new'],
          signing: 'padpro',
          format: 'raw',
          channels: ['wx-one', 'wx-two'],
          messageTypes: ['text', 'image'],
          includeSelf: true,
          groups: 'mention',
          enabled: false,
          timeoutMs: 2500,
          retrySchedule: [1, 10, 600],
          includeRaw: true,
          source: 'config',
          createdAt: 1_700_000_000_001,
          updatedAt: 1_700_000_000_002,
        });
        const plain = sampleSubscription();
        await store.upsertSubscription(full);
        await store.upsertSubscription(plain);

        assert.deepEqual(await store.getSubscription(full.id), full);
        assert.deepEqual(await store.getSubscription(plain.id), plain);
        assert.deepEqual((await store.listSubscriptions()).sort(byId), [full, plain].sort(byId));
      });

      it('updates a subscription on upsert and keeps its creation time', async () => {
        const original = sampleSubscription({ createdAt: 1000, updatedAt: 1000 });
        await store.upsertSubscription(original);
        const changed = sampleSubscription({
          id: original.id,
          url: 'https://bot.example.com/v2',
          channels: ['wx-one'],
          createdAt: 5000,
          updatedAt: 5000,
        });
        await store.upsertSubscription(changed);

        assert.deepEqual(await store.getSubscription(original.id), { ...changed, createdAt: 1000 });
        assert.equal((await store.listSubscriptions()).length, 1);
      });

      it('deletes a subscription and says whether there was one', async () => {
        const sub = sampleSubscription();
        await store.upsertSubscription(sub);

        assert.equal(await store.deleteSubscription(sub.id), true);
        assert.equal(await store.getSubscription(sub.id), null);
        assert.equal(await store.deleteSubscription(sub.id), false);
      });

      it('prunes config subscriptions that are not kept, never api ones', async () => {
        const kept = sampleSubscription({ id: 'kept', source: 'config' });
        const dropped = sampleSubscription({ id: 'dropped', source: 'config' });
        const fromApi = sampleSubscription({ source: 'api' });
        for (const sub of [kept, dropped, fromApi]) await store.upsertSubscription(sub);

        await store.pruneConfigSubscriptions(['kept']);
        assert.deepEqual((await store.listSubscriptions()).sort(byId), [kept, fromApi].sort(byId));
        await store.pruneConfigSubscriptions([]);
        assert.deepEqual(await store.listSubscriptions(), [fromApi]);
      });

      it('enables and disables a subscription', async () => {
        const sub = sampleSubscription({ enabled: true });
        await store.upsertSubscription(sub);

        await store.setSubscriptionEnabled(sub.id, false);
        assert.equal((await store.getSubscription(sub.id))?.enabled, false);
        await store.setSubscriptionEnabled(sub.id, true);
        assert.equal((await store.getSubscription(sub.id))?.enabled, true);
      });
    });

    describe('deliveries', () => {
      it('claims a pending delivery only once', async () => {
        const { deliveryId } = await storeEventWithDelivery(store);
        const now = Date.now();

        const claimed = await store.claimDeliveries([deliveryId], now, now + 30_000);
        assert.equal(claimed.length, 1);
        assert.deepEqual(claimed[0], await store.getDelivery(deliveryId));
        assert.equal(claimed[0]?.status, 'in_flight');
        assert.equal(claimed[0]?.leaseUntil, now + 30_000);
        assert.equal(claimed[0]?.attempts, 0);
        assert.deepEqual(await store.claimDeliveries([deliveryId], now, now + 30_000), []);
      });

      it('claims only the pending ones among the ids it is given', async () => {
        const pending = await storeEventWithDelivery(store);
        const done = await storeEventWithDelivery(store);
        const now = Date.now();
        await store.claimDeliveries([done.deliveryId], now, now + 30_000);
        await store.recordAttempt(attempt(done.deliveryId, 1, now), { status: 'succeeded' }, now);

        const claimed = await store.claimDeliveries([pending.deliveryId, done.deliveryId, newId('dlv')], now, now + 1);
        assert.deepEqual(
          claimed.map((d) => d.id),
          [pending.deliveryId],
        );
        assert.deepEqual(await store.claimDeliveries([], now, now + 1), []);
      });

      it('lists due deliveries oldest first, up to the limit, without claiming them', async () => {
        const base = Date.now() + 60_000;
        const later = await storeEventWithDelivery(store);
        const soonest = await storeEventWithDelivery(store);
        const soon = await storeEventWithDelivery(store);
        await makePendingUntil(store, later.deliveryId, base + 3000);
        await makePendingUntil(store, soonest.deliveryId, base + 1000);
        await makePendingUntil(store, soon.deliveryId, base + 2000);
        const ids = [later, soonest, soon].map((d) => d.deliveryId);
        const dueAmongOurs = async (now: number, limit: number) =>
          (await store.listDueDeliveries(now, limit, [])).map((d) => d.id).filter((id) => ids.includes(id));

        assert.deepEqual(await dueAmongOurs(base, 1000), []);
        assert.deepEqual(await dueAmongOurs(base + 5000, 1000), [soonest.deliveryId, soon.deliveryId, later.deliveryId]);
        const listed = await store.listDueDeliveries(base + 5000, 2, []);
        assert.equal(listed.length, 2);
        for (const due of listed) assert.deepEqual(Object.keys(due).sort(), ['id', 'subscriptionId']);
        assert.deepEqual(await dueAmongOurs(base + 5000, 1000), [soonest.deliveryId, soon.deliveryId, later.deliveryId], 'listing claims nothing');

        await store.claimDeliveries([soonest.deliveryId], base + 5000, base + 10_000);
        assert.deepEqual(await dueAmongOurs(base + 5000, 1000), [soon.deliveryId, later.deliveryId]);
      });

      it('does not claim a pending delivery before it is due', async () => {
        const { deliveryId } = await storeEventWithDelivery(store);
        const due = Date.now() + 60_000;
        await makePendingUntil(store, deliveryId, due);
        assert.deepEqual(await store.claimDeliveries([deliveryId], due - 1, due + 30_000), []);
        assert.equal((await store.claimDeliveries([deliveryId], due, due + 30_000)).length, 1);
      });

      it('never replays a delivery in flight', async () => {
        const { deliveryId } = await storeEventWithDelivery(store);
        const now = Date.now();
        await store.claimDeliveries([deliveryId], now, now + 30_000);
        assert.equal(await store.replayDelivery(deliveryId, now + 1), 'in_flight');
        assert.equal((await getDelivery(store, deliveryId)).status, 'in_flight');
      });

      it('leaves the subscriptions it is told to skip out of the due list', async () => {
        const skipped = await storeEventWithDelivery(store);
        const now = Date.now() + 1;
        const due = await store.listDueDeliveries(now, 1000, ['sub_a']);
        assert.ok(!due.some((d) => d.id === skipped.deliveryId));
        assert.ok((await store.listDueDeliveries(now, 1000, [])).some((d) => d.id === skipped.deliveryId));
      });

      it('reclaims an in-flight delivery whose lease ran out', async () => {
        const { deliveryId } = await storeEventWithDelivery(store);
        const now = Date.now();
        await store.claimDeliveries([deliveryId], now, now + 1000);

        assert.deepEqual(await store.claimDeliveries([deliveryId], now + 500, now + 2000), []);
        assert.ok(!(await store.listDueDeliveries(now + 500, 1000, [])).some((d) => d.id === deliveryId));
        assert.ok((await store.listDueDeliveries(now + 1001, 1000, [])).some((d) => d.id === deliveryId));
        const reclaimed = await store.claimDeliveries([deliveryId], now + 1001, now + 5000);
        assert.deepEqual(
          reclaimed.map((d) => [d.id, d.status, d.leaseUntil, d.attempts]),
          [[deliveryId, 'in_flight', now + 5000, 0]],
        );
      });

      it('records an attempt and moves the delivery to its new state', async () => {
        const { deliveryId } = await storeEventWithDelivery(store);
        const now = Date.now();
        const first: AttemptRecord = {
          deliveryId,
          attempt: 1,
          startedAt: now,
          latencyMs: 120,
          statusCode: 503,
          responseBody: 'busy',
          error: 'HTTP 503',
        };
        const second: AttemptRecord = {
          deliveryId,
          attempt: 2,
          startedAt: now + 5000,
          latencyMs: 3,
          statusCode: null,
          responseBody: null,
          error: 'connect ECONNREFUSED',
        };
        const third: AttemptRecord = { ...attempt(deliveryId, 3, now + 9000), statusCode: 200, responseBody: '{"ok":true}' };

        const fresh = await getDelivery(store, deliveryId);
        await store.claimDeliveries([deliveryId], now, now + 30_000);
        await store.recordAttempt(first, { status: 'pending', nextAttemptAt: now + 5000, error: 'HTTP 503' }, now + 120);
        assert.deepEqual(await store.getDelivery(deliveryId), {
          ...fresh,
          status: 'pending',
          attempts: 1,
          nextAttemptAt: now + 5000,
          leaseUntil: null,
          lastError: 'HTTP 503',
          updatedAt: now + 120,
        });

        await store.claimDeliveries([deliveryId], now + 5000, now + 35_000);
        await store.recordAttempt(second, { status: 'dead', error: 'connect ECONNREFUSED' }, now + 5003);
        assert.deepEqual(stateOf(await getDelivery(store, deliveryId)), ['dead', 2, null, 'connect ECONNREFUSED']);

        await store.replayDelivery(deliveryId, now + 9000);
        await store.claimDeliveries([deliveryId], now + 9000, now + 39_000);
        await store.recordAttempt(third, { status: 'succeeded' }, now + 9010);
        assert.deepEqual(stateOf(await getDelivery(store, deliveryId)), ['succeeded', 1, null, null], 'a replay starts counting again');

        assert.deepEqual(await store.listAttempts(deliveryId), [first, second, third]);
      });

      it('has no attempts for a delivery never tried, and no delivery for an unknown id', async () => {
        const { deliveryId } = await storeEventWithDelivery(store);

        assert.deepEqual(await store.listAttempts(deliveryId), []);
        assert.equal(await store.getDelivery(newId('dlv')), null);
      });

      it('replays a dead delivery', async () => {
        const { deliveryId } = await storeEventWithDelivery(store);
        const now = Date.now();
        await store.claimDeliveries([deliveryId], now, now + 30_000);
        await store.recordAttempt(attempt(deliveryId, 1, now), { status: 'dead', error: 'HTTP 410' }, now + 10);

        const replayAt = now + 60_000;
        assert.equal(await store.replayDelivery(deliveryId, replayAt), 'replayed');
        const replayed = await getDelivery(store, deliveryId);
        assert.deepEqual(
          [replayed.status, replayed.nextAttemptAt, replayed.leaseUntil, replayed.attempts],
          ['pending', replayAt, null, 0],
        );
        assert.deepEqual(
          (await store.claimDeliveries([deliveryId], replayAt, replayAt + 30_000)).map((d) => d.id),
          [deliveryId],
        );
        assert.equal(await store.replayDelivery(newId('dlv'), replayAt), 'not_found');
        assert.equal((await store.listAttempts(deliveryId)).length, 1, 'the attempt log is kept');
      });

      it('lists deliveries newest first, pages with before and filters', async () => {
        const one = ingestItem({ channel: 'wx-one', subscriptionIds: ['sub_a', 'sub_b'] });
        const two = ingestItem({ channel: 'wx-two', subscriptionIds: ['sub_a'] });
        await store.ingestBatch([one, two]);
        const deadId = firstDeliveryId(two);
        const now = Date.now();
        await store.claimDeliveries([deadId], now, now + 30_000);
        await store.recordAttempt(attempt(deadId, 1, now), { status: 'dead', error: 'HTTP 400' }, now);
        const all = [...one.deliveries, ...two.deliveries].map((d) => d.id).sort().reverse();
        const listed = async (query: Parameters<Store['listDeliveries']>[0]): Promise<string[]> =>
          (await store.listDeliveries(query)).map((d) => d.id);

        assert.deepEqual(await listed({ limit: 10 }), all);
        assert.deepEqual(await listed({ limit: 2 }), all.slice(0, 2));
        assert.deepEqual(await listed({ limit: 10, before: all[0] }), all.slice(1));
        assert.deepEqual(
          await listed({ limit: 10, eventId: one.stored.event.id }),
          one.deliveries.map((d) => d.id).sort().reverse(),
        );
        assert.deepEqual(await listed({ limit: 10, channel: 'wx-two' }), [deadId]);
        assert.deepEqual(await listed({ limit: 10, status: 'dead' }), [deadId]);
        assert.deepEqual(await listed({ limit: 10, status: 'pending', channel: 'wx-two' }), []);
        const full = await store.listDeliveries({ limit: 1, status: 'dead' });
        assert.deepEqual(full, [await store.getDelivery(deadId)]);
      });
    });

    describe('API keys', () => {
      it('replaces the API keys as a whole', async () => {
        const alpha = { id: 'alpha', tokenHash: sha('alpha'), channels: ['wx-one'] };
        const beta = { id: 'beta', tokenHash: sha('beta'), channels: ['wx-one', 'wx-two'] };
        const gamma = { id: 'gamma', tokenHash: sha('gamma'), channels: [] };
        await store.replaceApiKeys([alpha, beta]);

        assert.deepEqual(await store.findApiKeyByHash(alpha.tokenHash), alpha);
        assert.deepEqual(await store.findApiKeyByHash(beta.tokenHash), beta);
        await store.replaceApiKeys([gamma]);
        assert.equal(await store.findApiKeyByHash(alpha.tokenHash), null);
        assert.equal(await store.findApiKeyByHash(beta.tokenHash), null);
        assert.deepEqual(await store.findApiKeyByHash(gamma.tokenHash), gamma);
        await store.replaceApiKeys([]);
        assert.equal(await store.findApiKeyByHash(gamma.tokenHash), null);
      });
    });

    describe('idempotency keys', () => {
      it('answers idempotency claims: new, in progress, done, conflict', async () => {
        const now = Date.now();
        const response = { messageId: newId('out'), platformMessageId: '42', nested: [1, null] };

        assert.deepEqual(await store.claimIdempotencyKey('key_1', 'send-1', 'hash-a', now, now - 60_000), { state: 'new' });
        assert.deepEqual(await store.claimIdempotencyKey('key_1', 'send-1', 'hash-a', now, now - 60_000), { state: 'in_progress' });
        assert.deepEqual(await store.claimIdempotencyKey('key_1', 'send-1', 'hash-b', now, now - 60_000), { state: 'conflict' });
        await store.completeIdempotencyKey('key_1', 'send-1', response);
        assert.deepEqual(await store.claimIdempotencyKey('key_1', 'send-1', 'hash-a', now, now - 60_000), { state: 'done', response });
        assert.deepEqual(await store.claimIdempotencyKey('key_1', 'send-1', 'hash-b', now, now - 60_000), { state: 'conflict' });
      });

      it('takes over a claim left in progress since before abandonedBefore, but never a finished one', async () => {
        const then = Date.now();
        const later = then + 300_000;
        await store.claimIdempotencyKey('key_1', 'stuck', 'hash-a', then, then - 60_000);
        assert.deepEqual(await store.claimIdempotencyKey('key_1', 'stuck', 'hash-a', later, then), { state: 'in_progress' });
        assert.deepEqual(await store.claimIdempotencyKey('key_1', 'stuck', 'hash-b', later, then + 1), { state: 'conflict' });
        assert.deepEqual(await store.claimIdempotencyKey('key_1', 'stuck', 'hash-a', later, then + 1), { state: 'new' });
        assert.deepEqual(await store.claimIdempotencyKey('key_1', 'stuck', 'hash-a', later, then + 1), { state: 'in_progress' });
        await store.completeIdempotencyKey('key_1', 'stuck', { ok: true });
        assert.deepEqual(await store.claimIdempotencyKey('key_1', 'stuck', 'hash-a', later + 1, later + 1), { state: 'done', response: { ok: true } });
      });

      it('answers interrupted, never new, for a claim abandoned after its send began calling the platform', async () => {
        const then = Date.now();
        const later = then + 300_000;
        await store.claimIdempotencyKey('key_1', 'called', 'hash-a', then, then - 60_000);
        await store.markIdempotencyCalling('key_1', 'called', then + 10);
        assert.deepEqual(await store.claimIdempotencyKey('key_1', 'called', 'hash-a', later, then), { state: 'in_progress' }, 'not yet abandoned');
        assert.deepEqual(await store.claimIdempotencyKey('key_1', 'called', 'hash-b', later, then + 1), { state: 'conflict' });
        assert.deepEqual(await store.claimIdempotencyKey('key_1', 'called', 'hash-a', later, then + 1), { state: 'interrupted' });
        assert.deepEqual(await store.claimIdempotencyKey('key_1', 'called', 'hash-a', later, then + 1), { state: 'interrupted' }, 'and stays so');

        const unknown = { outcomeUnknown: { code: 'IMG_ERR_PLATFORM_UNREACHABLE' } };
        await store.completeIdempotencyKey('key_1', 'called', unknown);
        await store.markIdempotencyCalling('key_1', 'called', later);
        assert.deepEqual(await store.claimIdempotencyKey('key_1', 'called', 'hash-a', later + 1, later + 1), { state: 'done', response: unknown });
      });

      it('releases an idempotency key so that it can be claimed again', async () => {
        const now = Date.now();
        await store.claimIdempotencyKey('key_1', 'send-1', 'hash-a', now, now - 60_000);

        await store.releaseIdempotencyKey('key_1', 'send-1');
        assert.deepEqual(await store.claimIdempotencyKey('key_1', 'send-1', 'hash-b', now, now - 60_000), { state: 'new' });
      });

      it('keeps idempotency keys apart per scope', async () => {
        const now = Date.now();
        await store.claimIdempotencyKey('key_1', 'send-1', 'hash-a', now, now - 60_000);

        assert.deepEqual(await store.claimIdempotencyKey('key_2', 'send-1', 'hash-b', now, now - 60_000), { state: 'new' });
      });
    });

    describe('outbound messages', () => {
      it('stores an outbound message and reads it back', async () => {
        const full = sampleOutbound({ platformMessageId: '7311', replyToEventId: newId('evt') });
        const bare = sampleOutbound({ platformMessageId: null, replyToEventId: null });
        await store.insertOutboundMessage(full);
        await store.insertOutboundMessage(bare);

        assert.deepEqual(await store.getOutboundMessage(full.id), full);
        assert.deepEqual(await store.getOutboundMessage(bare.id), bare);
        assert.equal(await store.getOutboundMessage(newId('out')), null);
      });
    });

    describe('tokens and cursors', () => {
      it('caches, replaces and deletes a token', async () => {
        assert.equal(await store.getToken('wx-one:access'), null);
        await store.putToken('wx-one:access', 'token-1', 1000);
        assert.deepEqual(await store.getToken('wx-one:access'), { value: 'token-1', expiresAt: 1000 });
        await store.putToken('wx-one:access', 'token-2', 2000);
        assert.deepEqual(await store.getToken('wx-one:access'), { value: 'token-2', expiresAt: 2000 });

        await store.deleteToken('wx-one:access', 'token-1');
        assert.deepEqual(await store.getToken('wx-one:access'), { value: 'token-2', expiresAt: 2000 }, 'another value is kept');
        await store.deleteToken('wx-one:access', 'token-2');
        assert.equal(await store.getToken('wx-one:access'), null);
        await store.putToken('wx-one:access', 'token-3', 3000);
        await store.deleteToken('wx-one:access');
        assert.equal(await store.getToken('wx-one:access'), null);
      });

      it('lists the cursor keys of a channel', async () => {
        await store.putCursor('kf-list', 'wk-b', '1');
        await store.putCursor('kf-list', 'wk-a', '2');
        await store.putCursor('kf-list-other', 'wk-c', '3');
        assert.deepEqual(await store.listCursorKeys('kf-list'), ['wk-a', 'wk-b']);
        assert.deepEqual(await store.listCursorKeys('kf-nothing'), []);
      });

      it('writes a cursor with its events, and neither when the batch fails', async () => {
        const item = ingestItem({ channel: 'kf-tx' });
        await store.ingestBatch([item], [{ channel: 'kf-tx', key: 'wk-1', value: 'c1' }]);
        assert.equal(await store.getCursor('kf-tx', 'wk-1'), 'c1');
        const clash = ingestItem({ channel: 'kf-tx' });
        const failing = { ...clash, deliveries: [{ id: 'dlv_same', subscriptionId: 'sub_a' }, { id: 'dlv_same', subscriptionId: 'sub_b' }] };
        await assert.rejects(store.ingestBatch([failing], [{ channel: 'kf-tx', key: 'wk-1', value: 'c2' }]));
        assert.equal(await store.getCursor('kf-tx', 'wk-1'), 'c1', 'the cursor did not move');
        assert.equal(await store.getEvent(clash.stored.event.id), null, 'the event was not stored');
      });

      it('keeps the raw request shape of an event', async () => {
        const item = ingestItem({ channel: 'raw-shape' });
        const rawRequest = { contentType: 'text/xml', query: 'msg_signature=a&timestamp=1&nonce=n' };
        await store.ingestBatch([{ ...item, stored: { ...item.stored, rawRequest } }]);
        assert.deepEqual((await store.getEvent(item.stored.event.id))?.rawRequest, rawRequest);
        const plain = ingestItem({ channel: 'raw-shape' });
        await store.ingestBatch([plain]);
        assert.equal((await store.getEvent(plain.stored.event.id))?.rawRequest, null);
      });

      it('keeps a cursor per channel and key', async () => {
        assert.equal(await store.getCursor('wx-one', 'sync'), null);
        await store.putCursor('wx-one', 'sync', 'a');
        await store.putCursor('wx-one', 'other', 'b');
        await store.putCursor('wx-two', 'sync', 'c');
        await store.putCursor('wx-one', 'sync', 'd');

        assert.equal(await store.getCursor('wx-one', 'sync'), 'd');
        assert.equal(await store.getCursor('wx-one', 'other'), 'b');
        assert.equal(await store.getCursor('wx-two', 'sync'), 'c');
      });
    });

    describe('counters', () => {
      it('counts from 1 per channel and key', async () => {
        const now = Date.now();
        assert.equal(await store.nextCounter('qq-one', 'reply:m1', now), 1);
        assert.equal(await store.nextCounter('qq-one', 'reply:m1', now), 2);
        assert.equal(await store.nextCounter('qq-one', 'reply:m2', now), 1);
        assert.equal(await store.nextCounter('qq-two', 'reply:m1', now), 1);
        assert.equal(await store.nextCounter('qq-one', 'reply:m1', now), 3);
      });

      it('gives concurrent callers one number each', async () => {
        const now = Date.now();
        const values = await Promise.all(Array.from({ length: 20 }, () => store.nextCounter('qq-race', 'reply:m', now)));
        assert.deepEqual([...values].sort((a, b) => a - b), Array.from({ length: 20 }, (_, i) => i + 1));
      });
    });

    describe('retention', () => {
      it('purges what is older than the cutoff', async () => {
        const cutoff = Date.now() - 86_400_000;
        const old = ingestItem({ receivedAt: cutoff - 1000, subscriptionIds: ['sub_a', 'sub_b'] });
        const edge = ingestItem({ receivedAt: cutoff });
        const fresh = ingestItem();
        await store.ingestBatch([old, edge, fresh]);
        for (const item of [old, fresh]) {
          const deliveryId = firstDeliveryId(item);
          await store.claimDeliveries([deliveryId], cutoff, cutoff + 1);
          await store.recordAttempt(attempt(deliveryId, 1, cutoff), { status: 'succeeded' }, cutoff);
        }
        const deadId = (old.deliveries[1] as { id: string }).id;
        await store.claimDeliveries([deadId], cutoff, cutoff + 1);
        await store.recordAttempt(attempt(deadId, 1, cutoff), { status: 'dead', error: 'HTTP 500' }, cutoff);
        await store.claimIdempotencyKey('key_1', 'old', 'h', cutoff - 1, 0);
        await store.claimIdempotencyKey('key_1', 'fresh', 'h', cutoff, 0);
        const oldSend = sampleOutbound({ createdAt: cutoff - 1 });
        const freshSend = sampleOutbound({ createdAt: cutoff });
        await store.insertOutboundMessage(oldSend);
        await store.insertOutboundMessage(freshSend);
        await store.nextCounter('qq-one', 'reply:old', cutoff - 1);
        await store.nextCounter('qq-one', 'reply:fresh', cutoff - 1);
        await store.nextCounter('qq-one', 'reply:fresh', cutoff);

        assert.deepEqual(await store.purgeOlderThan(cutoff), {
          events: 1,
          deliveries: 2,
          attempts: 2,
          idempotency: 1,
          outbound: 1,
          counters: 1,
        });
        assert.equal(await store.getEvent(old.stored.event.id), null);
        assert.equal(await store.getDelivery(firstDeliveryId(old)), null);
        assert.deepEqual(await store.listAttempts(firstDeliveryId(old)), []);
        assert.equal(await store.getOutboundMessage(oldSend.id), null);
        assert.deepEqual(await store.claimIdempotencyKey('key_1', 'old', 'h', cutoff, 0), { state: 'new' });

        assert.deepEqual(await store.getEvent(edge.stored.event.id), edge.stored);
        assert.deepEqual(await store.getEvent(fresh.stored.event.id), fresh.stored);
        assert.equal((await store.listAttempts(firstDeliveryId(fresh))).length, 1);
        assert.deepEqual(await store.getOutboundMessage(freshSend.id), freshSend);
        assert.deepEqual(await store.claimIdempotencyKey('key_1', 'fresh', 'h', cutoff, 0), { state: 'in_progress' });
        assert.equal(await store.nextCounter('qq-one', 'reply:fresh', cutoff), 3, 'a counter counted since the cutoff is kept');
        assert.equal(await store.nextCounter('qq-one', 'reply:old', cutoff), 1, 'a purged counter starts again');
        assert.deepEqual(await store.purgeOlderThan(cutoff), {
          events: 0,
          deliveries: 0,
          attempts: 0,
          idempotency: 0,
          outbound: 0,
          counters: 0,
        });
      });

      it('keeps an old event while one of its deliveries is pending or in flight, and purges it once done', async () => {
        const cutoff = Date.now() - 86_400_000;
        const retrying = ingestItem({ receivedAt: cutoff - 1000, subscriptionIds: ['sub_a', 'sub_b'] });
        const sending = ingestItem({ receivedAt: cutoff - 1000 });
        await store.ingestBatch([retrying, sending]);
        const [doneId, retryId] = retrying.deliveries.map((d) => d.id) as [string, string];
        await store.claimDeliveries([doneId, retryId], cutoff, cutoff + 1);
        await store.recordAttempt(attempt(doneId, 1, cutoff), { status: 'succeeded' }, cutoff);
        await store.recordAttempt(attempt(retryId, 1, cutoff), { status: 'pending', nextAttemptAt: Date.now() + 3600_000, error: 'HTTP 503' }, cutoff);
        await store.claimDeliveries([firstDeliveryId(sending)], Date.now(), Date.now() + 60_000);

        assert.equal((await store.purgeOlderThan(cutoff)).events, 0);
        assert.deepEqual(await store.getEvent(retrying.stored.event.id), retrying.stored);
        assert.deepEqual(await store.getEvent(sending.stored.event.id), sending.stored);
        assert.equal((await store.getDelivery(doneId))?.status, 'succeeded', 'the finished delivery of a kept event stays too');
        assert.equal((await store.listAttempts(retryId)).length, 1);

        await store.recordAttempt(attempt(retryId, 2, Date.now()), { status: 'dead', error: 'HTTP 503' }, Date.now());
        await store.recordAttempt(attempt(firstDeliveryId(sending), 1, Date.now()), { status: 'succeeded' }, Date.now());
        assert.deepEqual(await store.purgeOlderThan(cutoff), { events: 2, deliveries: 3, attempts: 4, idempotency: 0, outbound: 0, counters: 0 });
        assert.equal(await store.getEvent(retrying.stored.event.id), null);
        assert.equal(await store.getEvent(sending.stored.event.id), null);
      });

      it('purges a backlog of thousands of events and nothing newer', async () => {
        const cutoff = Date.now() - 86_400_000;
        const backlog = Array.from({ length: 2500 }, (_, i) => ingestItem({ receivedAt: cutoff - 10_000 + i, subscriptionIds: [] }));
        const fresh = ingestItem({ subscriptionIds: [] });
        await store.ingestBatch([...backlog, fresh]);
        assert.equal((await store.purgeOlderThan(cutoff)).events, 2500);
        assert.equal(await store.getEvent((backlog[2499] as IngestItem).stored.event.id), null);
        assert.deepEqual(await store.getEvent(fresh.stored.event.id), fresh.stored);
      });
    });

    describe('lifecycle', () => {
      it('keeps what it stored across a reopen', async () => {
        const { item, deliveryId } = await storeEventWithDelivery(store);
        const sub = sampleSubscription();
        const key = { id: 'alpha', tokenHash: sha('alpha'), channels: ['wx-one'] };
        const send = sampleOutbound();
        const now = Date.now();
        await store.upsertSubscription(sub);
        await store.replaceApiKeys([key]);
        await store.claimIdempotencyKey('key_1', 'send-1', 'hash-a', now, now - 60_000);
        await store.insertOutboundMessage(send);
        await store.putToken('wx-one:access', 'token-1', 1000);
        await store.putCursor('wx-one', 'sync', 'abc');
        await store.nextCounter('qq-one', 'reply:m1', now);
        const delivery = await store.getDelivery(deliveryId);

        await reopen();
        assert.deepEqual(await store.getEvent(item.stored.event.id), item.stored);
        assert.deepEqual(await store.getDelivery(deliveryId), delivery);
        assert.deepEqual(await store.getSubscription(sub.id), sub);
        assert.deepEqual(await store.findApiKeyByHash(key.tokenHash), key);
        assert.deepEqual(await store.claimIdempotencyKey('key_1', 'send-1', 'hash-a', now, now - 60_000), { state: 'in_progress' });
        assert.deepEqual(await store.getOutboundMessage(send.id), send);
        assert.deepEqual(await store.getToken('wx-one:access'), { value: 'token-1', expiresAt: 1000 });
        assert.equal(await store.getCursor('wx-one', 'sync'), 'abc');
        assert.equal(await store.nextCounter('qq-one', 'reply:m1', now), 2, 'the counter went on from where it was');
      });

      it('migrates again without harm', async () => {
        const { item } = await storeEventWithDelivery(store);

        await store.migrate();
        await store.migrate();
        assert.deepEqual(await store.getEvent(item.stored.event.id), item.stored);
      });
    });
  });
}

// Fixtures

interface ItemOptions {
  channel?: string;
  dedupKey?: string;
  receivedAt?: number;
  subscriptionIds?: string[];
}

function sampleEvent(channel: string, receivedAt: number): UnifiedEvent {
  const platformId = BigInt(`0x${randomBytes(8).toString('hex')}`).toString();
  return {
    id: newId('evt'),
    type: 'message',
    channel,
    platform: 'wechat-pad',
    receivedAt: new Date(receivedAt).toISOString(),
    message: {
      id: newId('msg'),
      platformId,
      type: 'text',
      text: 'hello @Bob',
      createdAt: new Date(receivedAt - 500).toISOString(),
      mentions: [{ id: 'wxid_bob', name: 'Bob' }],
      mentionsBot: true,
      replyTo: null,
      content: { text: 'hello @Bob' },
    },
    sender: { id: 'wxid_alice', name: 'Alice', isSelf: false },
    conversation: { id: '123456@chatroom', type: 'group', name: 'Team' },
    flags: { history: false },
  };
}

function ingestItem(options: ItemOptions = {}): IngestItem {
  const event = sampleEvent(options.channel ?? 'wx-one', options.receivedAt ?? Date.now());
  const raw = { NewMsgId: event.message.platformId, Content: event.message.text };
  return {
    channel: event.channel,
    dedupKey: options.dedupKey ?? `wx:${event.message.platformId}`,
    stored: { event, raw, rawBody: Buffer.from(JSON.stringify(raw)), rawRequest: null },
    deliveries: (options.subscriptionIds ?? ['sub_a']).map((subscriptionId) => ({
      id: newId('dlv'),
      subscriptionId,
    })),
  };
}

function sampleSubscription(overrides: Partial<SubscriptionRecord> = {}): SubscriptionRecord {
  return {
    id: newId('sub'),
    url: 'https://bot.example.com/hook',
    secrets: ['whsec_one'],
    signing: 'standard',
    format: 'unified',
    channels: null,
    messageTypes: null,
    includeSelf: false,
    groups: 'all',
    enabled: true,
    timeoutMs: 10_000,
    retrySchedule: [5, 30, 120],
    includeRaw: false,
    source: 'api',
    createdAt: 1_700_000_000_000,
    updatedAt: 1_700_000_000_000,
    ...overrides,
  };
}

function sampleOutbound(overrides: Partial<OutboundMessageRecord> = {}): OutboundMessageRecord {
  return {
    id: newId('out'),
    channel: 'wx-one',
    to: 'wxid_alice',
    platformMessageId: '1234567890123456789',
    replyToEventId: null,
    createdAt: Date.now(),
    ...overrides,
  };
}

function attempt(deliveryId: string, number: number, startedAt: number): AttemptRecord {
  return {
    deliveryId,
    attempt: number,
    startedAt,
    latencyMs: 10,
    statusCode: 200,
    responseBody: 'ok',
    error: null,
  };
}

function sha(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

// Helpers

async function storeEventWithDelivery(store: Store): Promise<{ item: IngestItem; deliveryId: string }> {
  const item = ingestItem();
  const [outcome] = await store.ingestBatch([item]);
  assert.equal(outcome?.status, 'stored');
  return { item, deliveryId: firstDeliveryId(item) };
}

/** Tries a delivery once and leaves it pending until `nextAttemptAt`. */
async function makePendingUntil(store: Store, deliveryId: string, nextAttemptAt: number): Promise<void> {
  const now = Date.now();
  assert.equal((await store.claimDeliveries([deliveryId], now, now + 30_000)).length, 1);
  await store.recordAttempt(
    { ...attempt(deliveryId, 1, now), statusCode: 500, error: 'HTTP 500' },
    { status: 'pending', nextAttemptAt, error: 'HTTP 500' },
    now,
  );
}

async function getDelivery(store: Store, id: string): Promise<DeliveryRecord> {
  const delivery = await store.getDelivery(id);
  assert.ok(delivery, `delivery ${id} should exist`);
  return delivery;
}

function firstDeliveryId(item: IngestItem): string {
  const [first] = item.deliveries;
  assert.ok(first, 'the item should have a delivery');
  return first.id;
}

function storedOutcome(item: IngestItem): IngestOutcome {
  return { status: 'stored', eventId: item.stored.event.id, deliveryIds: item.deliveries.map((d) => d.id) };
}

function duplicateOf(item: IngestItem): IngestOutcome {
  return { status: 'duplicate', eventId: item.stored.event.id };
}

function withoutTimes(delivery: DeliveryRecord): Omit<DeliveryRecord, 'nextAttemptAt' | 'createdAt' | 'updatedAt'> {
  const { nextAttemptAt: _next, createdAt: _created, updatedAt: _updated, ...rest } = delivery;
  return rest;
}

function stateOf(delivery: DeliveryRecord): [string, number, number | null, string | null] {
  return [delivery.status, delivery.attempts, delivery.leaseUntil, delivery.lastError];
}

function assertBetween(value: number, low: number, high: number): void {
  assert.ok(value >= low && value <= high, `${value} should lie between ${low} and ${high}`);
}

function byId(a: { id: string }, b: { id: string }): number {
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

function byIdDescending(a: { id: string }, b: { id: string }): number {
  return byId(b, a);
}
