import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, afterEach, beforeEach, describe, it } from 'node:test';
import type { UnifiedEvent } from '../../src/core/event.ts';
import { newId } from '../../src/core/ids.ts';
import { CursorMovedError } from '../../src/store/store.ts';
import type {
  AttemptRecord,
  AttemptResolution,
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
 * end and removes every database the factory made. `openPeer` opens a second store on the database
 * the last `open` created, while the first stays open: two nodes (or processes) sharing it.
 */
export interface StoreFactory {
  open(): Promise<Store>;
  reopen(): Promise<Store>;
  openPeer(): Promise<Store>;
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
              replayedAtAttempt: 0,
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

      it('reads several events at once, leaving out those it does not have', async () => {
        const items = [ingestItem(), ingestItem(), ingestItem()];
        await store.ingestBatch(items);
        const [first, , third] = items.map((item) => item.stored);
        assert.ok(first && third);
        const found = await store.getEvents([first.event.id, newId('evt'), third.event.id]);
        assert.deepEqual([...found.keys()].sort(), [first.event.id, third.event.id].sort());
        assert.deepEqual(found.get(first.event.id), first);
        assert.deepEqual(found.get(third.event.id), third);
        assert.equal((await store.getEvents([])).size, 0);
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

      it('filters events by sender, conversation and a piece of their text', async () => {
        const [fromBob, inOtherRoom, withNul] = [ingestItem(), ingestItem(), ingestItem()];
        fromBob.stored.event.sender = { id: 'wxid_bob', name: 'Bob', isSelf: false };
        fromBob.stored.event.message.text = 'Deploy at 100% NOW';
        inOtherRoom.stored.event.conversation = { id: 'wxid_carol', type: 'direct', name: null };
        // JSON.stringify writes a NUL as the escape \u0000, which PostgreSQL's jsonb refuses to read.
        withNul.stored.event.message.text = 'nul\u0000 here';
        await store.ingestBatch([fromBob, inOtherRoom, withNul]);
        const ids = async (query: Omit<Parameters<Store['listEvents']>[0], 'limit'>) =>
          (await store.listEvents({ limit: 10, ...query })).map((event) => event.id).sort();
        const idsOf = (...items: IngestItem[]) => items.map((item) => item.stored.event.id).sort();

        assert.deepEqual(await ids({ sender: 'wxid_bob' }), idsOf(fromBob));
        assert.deepEqual(await ids({ sender: 'wxid_alice' }), idsOf(inOtherRoom, withNul));
        assert.deepEqual(await ids({ conversation: 'wxid_carol' }), idsOf(inOtherRoom));
        assert.deepEqual(await ids({ conversation: '123456@chatroom', sender: 'wxid_alice' }), idsOf(withNul));
        assert.deepEqual(await ids({ text: 'deploy' }), idsOf(fromBob));
        assert.deepEqual(await ids({ text: '100% now' }), idsOf(fromBob));
        assert.deepEqual(await ids({ text: '%' }), idsOf(fromBob));
        assert.deepEqual(await ids({ text: '_' }), []);
        assert.deepEqual(await ids({ text: 'hello' }), idsOf(inOtherRoom));
        assert.deepEqual(await ids({ text: 'nul' }), idsOf(withNul));
        assert.deepEqual(await ids({ text: 'hello', channel: 'wx-two' }), []);
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
          ordering: 'conversation',
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

      it('syncs the config: writes config subscriptions over, drops unlisted ones, never api ones, and replaces the API keys', async () => {
        const kept = sampleSubscription({ id: 'kept', source: 'config', createdAt: 1000, updatedAt: 1000 });
        const dropped = sampleSubscription({ id: 'dropped', source: 'config' });
        const fromApi = sampleSubscription({ source: 'api' });
        for (const sub of [kept, dropped, fromApi]) await store.upsertSubscription(sub);
        const alpha = { id: 'alpha', tokenHash: sha('alpha'), channels: ['wx-one'] };
        const beta = { id: 'beta', tokenHash: sha('beta'), channels: ['wx-one', 'wx-two'] };
        const gamma = { id: 'gamma', tokenHash: sha('gamma'), channels: [] };

        const changed = { ...kept, url: 'https://bot.example.com/v2', createdAt: 5000, updatedAt: 5000 };
        await store.syncConfig([changed], [alpha, beta]);
        assert.deepEqual((await store.listSubscriptions()).sort(byId), [{ ...changed, createdAt: 1000 }, fromApi].sort(byId));
        assert.deepEqual(await store.findApiKeyByHash(alpha.tokenHash), alpha);
        assert.deepEqual(await store.findApiKeyByHash(beta.tokenHash), beta);

        await store.syncConfig([], [gamma]);
        assert.deepEqual(await store.listSubscriptions(), [fromApi]);
        assert.equal(await store.findApiKeyByHash(alpha.tokenHash), null);
        assert.deepEqual(await store.findApiKeyByHash(gamma.tokenHash), gamma);
        assert.deepEqual(await store.listApiKeyHashes(), [gamma.tokenHash]);
        await store.syncConfig([], []);
        assert.equal(await store.findApiKeyByHash(gamma.tokenHash), null);
        assert.deepEqual(await store.listApiKeyHashes(), []);
      });

      it('refuses a config subscription with the id of an api one, and changes nothing', async () => {
        const fromApi = sampleSubscription({ id: 'taken', source: 'api' });
        const other = sampleSubscription({ id: 'other', source: 'config' });
        await store.upsertSubscription(fromApi);
        await store.syncConfig([other], [{ id: 'alpha', tokenHash: sha('alpha'), channels: ['*'] }]);

        await assert.rejects(
          store.syncConfig([sampleSubscription({ id: 'taken', source: 'config' })], []),
          /subscription "taken" in the config file has the id of one created through the API/,
        );
        assert.deepEqual((await store.listSubscriptions()).sort(byId), [fromApi, other].sort(byId));
        assert.ok(await store.findApiKeyByHash(sha('alpha')), 'the API keys were not replaced');
      });

      it('moves the version at every write, also two in one millisecond or from a clock behind', async () => {
        const sub = sampleSubscription({ updatedAt: 5000 });
        const first = await store.upsertSubscription(sub);
        const second = await store.upsertSubscription(sub);
        const third = await store.upsertSubscription({ ...sub, updatedAt: 1000 });
        assert.equal(first, 5000);
        assert.ok(second > first && third > second, `${first} < ${second} < ${third}`);
        assert.equal((await store.getSubscription(sub.id))?.updatedAt, third);
        await store.setSubscriptionEnabled(sub.id, false);
        assert.ok(((await store.getSubscription(sub.id))?.updatedAt ?? 0) > third, 'disabling moves it too');
      });

      it('replaces a subscription only while it has the version read, keeping its creation time', async () => {
        const sub = sampleSubscription({ createdAt: 1000, updatedAt: 2000 });
        const version = await store.upsertSubscription(sub);
        const changed = { ...sub, url: 'https://bot.example.com/v2', createdAt: 9000, updatedAt: 3000 };
        const next = await store.replaceSubscriptionIf(changed, version);
        assert.equal(next, 3000);
        assert.deepEqual(await store.getSubscription(sub.id), { ...changed, createdAt: 1000 });

        assert.equal(await store.replaceSubscriptionIf({ ...sub, url: 'https://bot.example.com/stale' }, version), null);
        assert.equal((await store.getSubscription(sub.id))?.url, 'https://bot.example.com/v2');
        assert.equal(await store.deleteSubscription(sub.id, version), false, 'a stale version deletes nothing');
        assert.equal(await store.deleteSubscription(sub.id, next ?? undefined), true);
        assert.equal(await store.replaceSubscriptionIf(changed, 3000), null, 'a deleted subscription is not written back');
        assert.equal(await store.getSubscription(sub.id), null);
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
      it('claims a pending delivery only once, under a lease timed by the store', async () => {
        const { deliveryId } = await storeEventWithDelivery(store);
        const before = Date.now();
        const claimed = await store.claimDeliveries([deliveryId], 30_000);
        const after = Date.now();

        assert.equal(claimed.length, 1);
        const [held] = claimed;
        assert.ok(held);
        const { leaseToken, ...record } = held;
        assert.deepEqual(record, await store.getDelivery(deliveryId));
        assert.ok(leaseToken.length >= 16, 'the lease token is not guessable');
        assert.equal(held.status, 'in_flight');
        assertBetween(held.leaseUntil ?? 0, before + 30_000, after + 30_000);
        assert.equal(held.attempts, 0);
        assert.deepEqual(await store.claimDeliveries([deliveryId], 30_000), []);
      });

      it('claims only the pending ones among the ids it is given', async () => {
        const pending = await storeEventWithDelivery(store);
        const done = await storeEventWithDelivery(store);
        const [held] = await store.claimDeliveries([done.deliveryId], 30_000);
        assert.ok(held);
        await store.recordAttempt(held.leaseToken, attempt(done.deliveryId, 1, Date.now()), { status: 'succeeded' });

        const claimed = await store.claimDeliveries([pending.deliveryId, done.deliveryId, newId('dlv')], 30_000);
        assert.deepEqual(
          claimed.map((d) => d.id),
          [pending.deliveryId],
        );
        assert.deepEqual(await store.claimDeliveries([], 30_000), []);
      });

      it('lists due deliveries oldest first, up to the limit, without claiming them', async () => {
        const later = await storeEventWithDelivery(store);
        const soonest = await storeEventWithDelivery(store);
        const soon = await storeEventWithDelivery(store);
        await makePendingFor(store, later.deliveryId, 300);
        await makePendingFor(store, soonest.deliveryId, 100);
        await makePendingFor(store, soon.deliveryId, 200);
        const ids = [later, soonest, soon].map((d) => d.deliveryId);
        const dueAmongOurs = async (limit: number) =>
          (await store.listDueDeliveries(limit, [])).map((d) => d.id).filter((id) => ids.includes(id));
        await sleep(350);

        assert.deepEqual(await dueAmongOurs(1000), [soonest.deliveryId, soon.deliveryId, later.deliveryId]);
        const listed = await store.listDueDeliveries(2, []);
        assert.equal(listed.length, 2);
        for (const due of listed) assert.deepEqual(Object.keys(due).sort(), ['id', 'subscriptionId']);
        assert.deepEqual(await dueAmongOurs(1000), [soonest.deliveryId, soon.deliveryId, later.deliveryId], 'listing claims nothing');

        await store.claimDeliveries([soonest.deliveryId], 30_000);
        assert.deepEqual(await dueAmongOurs(1000), [soon.deliveryId, later.deliveryId]);
      });

      it('does not claim or list a pending delivery before it is due', async () => {
        const { deliveryId } = await storeEventWithDelivery(store);
        await makePendingFor(store, deliveryId, 60_000);
        assert.deepEqual(await store.claimDeliveries([deliveryId], 30_000), []);
        assert.ok(!(await store.listDueDeliveries(1000, [])).some((d) => d.id === deliveryId));
        const delivery = await getDelivery(store, deliveryId);
        assert.equal(delivery.nextAttemptAt, delivery.updatedAt + 60_000);
      });

      it('never replays a delivery in flight', async () => {
        const { deliveryId } = await storeEventWithDelivery(store);
        await store.claimDeliveries([deliveryId], 30_000);
        assert.equal(await store.replayDelivery(deliveryId), 'in_flight');
        assert.equal((await getDelivery(store, deliveryId)).status, 'in_flight');
      });

      it('leaves the subscriptions it is told to skip out of the due list', async () => {
        const skipped = await storeEventWithDelivery(store);
        const due = await store.listDueDeliveries(1000, ['sub_a']);
        assert.ok(!due.some((d) => d.id === skipped.deliveryId));
        assert.ok((await store.listDueDeliveries(1000, [])).some((d) => d.id === skipped.deliveryId));
      });

      it('reclaims an in-flight delivery whose lease ran out, with a new token', async () => {
        const { deliveryId } = await storeEventWithDelivery(store);
        const [held] = await store.claimDeliveries([deliveryId], 30_000);
        assert.ok(held);
        assert.deepEqual(await store.claimDeliveries([deliveryId], 30_000), [], 'a live lease is not taken');
        assert.ok(!(await store.listDueDeliveries(1000, [])).some((d) => d.id === deliveryId));

        const { deliveryId: shortId } = await storeEventWithDelivery(store);
        const [short] = await store.claimDeliveries([shortId], 1);
        assert.ok(short);
        await sleep(20);
        assert.ok((await store.listDueDeliveries(1000, [])).some((d) => d.id === shortId));
        const reclaimed = await store.claimDeliveries([shortId], 5000);
        assert.deepEqual(
          reclaimed.map((d) => [d.id, d.status, d.attempts]),
          [[shortId, 'in_flight', 0]],
        );
        assert.notEqual(reclaimed[0]?.leaseToken, short.leaseToken);
      });

      it('refuses an attempt recorded under a lease that was taken over, and keeps it in the log', async () => {
        const { deliveryId } = await storeEventWithDelivery(store);
        const [stale] = await store.claimDeliveries([deliveryId], 1);
        assert.ok(stale);
        await sleep(20);
        const [current] = await store.claimDeliveries([deliveryId], 30_000);
        assert.ok(current);

        const late = { ...attempt(deliveryId, 1, Date.now()), statusCode: 200 };
        assert.equal(await store.recordAttempt(stale.leaseToken, late, { status: 'succeeded' }), 'lease_lost');
        const held = await getDelivery(store, deliveryId);
        assert.deepEqual([held.status, held.attempts, held.leaseUntil], ['in_flight', 0, current.leaseUntil], 'the new holder keeps it');
        assert.deepEqual(await store.listAttempts(deliveryId), [
          { ...late, error: 'lease lost: recorded after another worker took the delivery over' },
        ]);

        const failed = { ...attempt(deliveryId, 1, Date.now()), statusCode: 500, error: 'HTTP 500' };
        assert.equal(await store.recordAttempt(current.leaseToken, failed, { status: 'dead', error: 'HTTP 500' }), 'recorded');
        assert.deepEqual(stateOf(await getDelivery(store, deliveryId)), ['dead', 1, null, 'HTTP 500']);
        assert.equal(await store.recordAttempt(current.leaseToken, failed, { status: 'succeeded' }), 'lease_lost', 'a token is good once');
        assert.equal((await getDelivery(store, deliveryId)).status, 'dead');
      });

      it('holds a delivery with an order key until the earlier ones of its key and subscription are done', async () => {
        const item = (conversation: string, orderKey: string | null, subscriptionId = 'sub_o') => {
          const made = ingestItem({ subscriptionIds: [subscriptionId] });
          made.stored.event.conversation.id = conversation;
          (made.deliveries[0] as { orderKey?: string | null }).orderKey = orderKey;
          return made;
        };
        const first = item('conv-x', 'conv-x');
        const second = item('conv-x', 'conv-x');
        const other = item('conv-y', 'conv-y');
        const unordered = item('conv-x', null);
        const elsewhere = item('conv-x', 'conv-x', 'sub_p');
        await store.ingestBatch([first, second, other, unordered, elsewhere]);
        const third = item('conv-x', 'conv-x');
        await store.ingestBatch([third]);
        const [a, b, c, u, e, d] = [first, second, other, unordered, elsewhere, third].map(firstDeliveryId) as [string, string, string, string, string, string];
        const due = async () => new Set((await store.listDueDeliveries(1000, [])).map((delivery) => delivery.id));

        assert.deepEqual([...(await due())].filter((id) => [a, b, c, u, e, d].includes(id)).sort(), [a, c, u, e].sort());
        const claimed = await store.claimDeliveries([d, b, a, c, u, e], 30_000);
        assert.deepEqual(claimed.map((delivery) => delivery.id).sort(), [a, c, u, e].sort(), 'the later ones of conv-x on sub_o wait');
        const held = new Map(claimed.map((delivery) => [delivery.id, delivery.leaseToken]));

        await store.recordAttempt(held.get(a) as string, attempt(a, 1, Date.now()), { status: 'pending', delayMs: 1, error: 'HTTP 500' });
        await sleep(10);
        assert.deepEqual((await store.claimDeliveries([b, d], 30_000)).map((delivery) => delivery.id), [], 'a retry still holds its conversation');
        const [again] = await store.claimDeliveries([a], 30_000);
        assert.ok(again);
        await store.recordAttempt(again.leaseToken, attempt(a, 2, Date.now()), { status: 'dead', error: 'HTTP 500' });
        assert.deepEqual((await store.claimDeliveries([d, b], 30_000)).map((delivery) => delivery.id), [b], 'dead-lettered, it lets the next one go, and only the next');
      });

      it('records several attempts in one call, each judged on its own lease', async () => {
        const held = await storeEventWithDelivery(store);
        const lost = await storeEventWithDelivery(store);
        const [current] = await store.claimDeliveries([held.deliveryId], 30_000);
        const [stale] = await store.claimDeliveries([lost.deliveryId], 1);
        assert.ok(current && stale);
        await sleep(20);
        const [taker] = await store.claimDeliveries([lost.deliveryId], 30_000);
        assert.ok(taker);

        const outcomes = await store.recordAttempts([
          { leaseToken: current.leaseToken, attempt: attempt(held.deliveryId, 1, Date.now()), resolution: { status: 'succeeded' } },
          { leaseToken: stale.leaseToken, attempt: attempt(lost.deliveryId, 1, Date.now()), resolution: { status: 'succeeded' } },
        ]);
        assert.deepEqual(outcomes, ['recorded', 'lease_lost']);
        assert.equal((await getDelivery(store, held.deliveryId)).status, 'succeeded');
        assert.equal((await getDelivery(store, lost.deliveryId)).status, 'in_flight', 'the new holder keeps it');
        assert.deepEqual(await store.recordAttempts([]), []);
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
        const [one] = await store.claimDeliveries([deliveryId], 30_000);
        assert.ok(one);
        const before = Date.now();
        assert.equal(await store.recordAttempt(one.leaseToken, first, { status: 'pending', delayMs: 5000, error: 'HTTP 503' }), 'recorded');
        const after = Date.now();
        const retried = await getDelivery(store, deliveryId);
        assert.deepEqual(
          { ...retried, nextAttemptAt: 0, updatedAt: 0 },
          { ...fresh, status: 'pending', attempts: 1, nextAttemptAt: 0, leaseUntil: null, lastError: 'HTTP 503', updatedAt: 0 },
        );
        assertBetween(retried.updatedAt, before, after);
        assert.equal(retried.nextAttemptAt, retried.updatedAt + 5000, 'due again after the delay, by the store clock');

        await store.replayDelivery(deliveryId);
        const [two] = await store.claimDeliveries([deliveryId], 30_000);
        assert.ok(two);
        await store.recordAttempt(two.leaseToken, second, { status: 'dead', error: 'connect ECONNREFUSED' });
        const deadAgain = await getDelivery(store, deliveryId);
        assert.deepEqual(stateOf(deadAgain), ['dead', 2, null, 'connect ECONNREFUSED'], 'attempts go on counting across a replay');
        assert.equal(deadAgain.replayedAtAttempt, 1, 'the retry schedule started again at the replay');

        await store.replayDelivery(deliveryId);
        const [three] = await store.claimDeliveries([deliveryId], 30_000);
        assert.ok(three);
        await store.recordAttempt(three.leaseToken, third, { status: 'succeeded' });
        assert.deepEqual(stateOf(await getDelivery(store, deliveryId)), ['succeeded', 3, null, null]);
        assert.equal((await getDelivery(store, deliveryId)).replayedAtAttempt, 2);

        assert.deepEqual(await store.listAttempts(deliveryId), [first, second, third]);
      });

      it('has no attempts for a delivery never tried, and no delivery for an unknown id', async () => {
        const { deliveryId } = await storeEventWithDelivery(store);

        assert.deepEqual(await store.listAttempts(deliveryId), []);
        assert.equal(await store.getDelivery(newId('dlv')), null);
      });

      it('replays a dead delivery', async () => {
        const { deliveryId } = await storeEventWithDelivery(store);
        const [held] = await store.claimDeliveries([deliveryId], 30_000);
        assert.ok(held);
        await store.recordAttempt(held.leaseToken, attempt(deliveryId, 1, Date.now()), { status: 'dead', error: 'HTTP 410' });

        const before = Date.now();
        assert.equal(await store.replayDelivery(deliveryId), 'replayed');
        const after = Date.now();
        const replayed = await getDelivery(store, deliveryId);
        assert.deepEqual([replayed.status, replayed.leaseUntil, replayed.attempts, replayed.replayedAtAttempt], ['pending', null, 1, 1]);
        assertBetween(replayed.nextAttemptAt, before, after);
        assert.deepEqual(
          (await store.claimDeliveries([deliveryId], 30_000)).map((d) => d.id),
          [deliveryId],
        );
        assert.equal(await store.replayDelivery(newId('dlv')), 'not_found');
        assert.equal((await store.listAttempts(deliveryId)).length, 1, 'the attempt log is kept');
      });

      it('replays in bulk the dead letters of a subscription, since a time, leaving the rest alone', async () => {
        const [a, b] = [newId('sub'), newId('sub')];
        const items = [ingestItem({ subscriptionIds: [a, b] }), ingestItem({ subscriptionIds: [a] }), ingestItem({ subscriptionIds: [a] })];
        await store.ingestBatch(items);
        const [[aOld, bOld], [aNew], [aPending]] = items.map((item) => item.deliveries.map((delivery) => delivery.id)) as [string[], string[], string[]];
        await finish(store, aOld!, { status: 'dead', error: 'HTTP 500' });
        await finish(store, bOld!, { status: 'dead', error: 'HTTP 500' });
        await sleep(5);
        const since = Date.now();
        await finish(store, aNew!, { status: 'dead', error: 'HTTP 500' });
        await makePendingFor(store, aPending!, 60_000);

        assert.deepEqual(await store.replayDeliveries({ status: 'dead', subscriptionId: a, since }), [{ id: aNew, subscriptionId: a }]);
        assert.deepEqual(stateOf(await getDelivery(store, aOld!)), ['dead', 1, null, 'HTTP 500'], 'older than since');
        assert.deepEqual(stateOf(await getDelivery(store, bOld!)), ['dead', 1, null, 'HTTP 500'], 'another subscription');
        const replayed = await getDelivery(store, aNew!);
        assert.deepEqual([replayed.status, replayed.attempts, replayed.replayedAtAttempt], ['pending', 1, 1]);
        assert.deepEqual((await store.claimDeliveries([aNew!], 30_000)).map((d) => d.id), [aNew], 'due at once');

        assert.deepEqual(
          (await store.replayDeliveries({ status: 'dead', subscriptionId: a })).map((d) => d.id),
          [aOld],
        );
        assert.deepEqual(
          (await store.replayDeliveries({ status: 'pending', subscriptionId: a })).map((d) => d.id).sort(),
          [aOld, aPending].sort(),
          'pending ones are made due now; the one in flight is left alone',
        );
        assert.deepEqual(await store.replayDeliveries({ status: 'dead', subscriptionId: newId('sub') }), []);
      });

      it('counts open deliveries by subscription and status, leaving out succeeded ones', async () => {
        const [a, b] = [newId('sub'), newId('sub')];
        const items = [ingestItem({ subscriptionIds: [a, b] }), ingestItem({ subscriptionIds: [a] }), ingestItem({ subscriptionIds: [a, b] })];
        await store.ingestBatch(items);
        const [first, second] = items.map((item) => item.deliveries.map((delivery) => delivery.id));
        await finish(store, first![0]!, { status: 'dead', error: 'HTTP 410' });
        await finish(store, first![1]!, { status: 'succeeded' });
        assert.ok((await store.claimDeliveries([second![0]!], 30_000))[0], 'one in flight');
        const counts = (await store.countOpenDeliveries()).filter((row) => row.subscriptionId === a || row.subscriptionId === b);
        const byKey = Object.fromEntries(counts.map((row) => [`${row.subscriptionId === a ? 'a' : 'b'}:${row.status}`, row.count]));
        assert.deepEqual(byKey, { 'a:dead': 1, 'a:in_flight': 1, 'a:pending': 1, 'b:pending': 1 });
      });

      it('lists deliveries newest first, pages with before and filters', async () => {
        const one = ingestItem({ channel: 'wx-one', subscriptionIds: ['sub_a', 'sub_b'] });
        const two = ingestItem({ channel: 'wx-two', subscriptionIds: ['sub_a'] });
        await store.ingestBatch([one, two]);
        const deadId = firstDeliveryId(two);
        const [held] = await store.claimDeliveries([deadId], 30_000);
        assert.ok(held);
        await store.recordAttempt(held.leaseToken, attempt(deadId, 1, Date.now()), { status: 'dead', error: 'HTTP 400' });
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

    describe('idempotency keys', () => {
      it('answers idempotency claims: new, in progress, done, conflict', async () => {
        const response = { messageId: newId('out'), platformMessageId: '42', nested: [1, null] };

        assert.deepEqual(await store.claimIdempotencyKey('key_1', 'send-1', 'hash-a', 60_000), { state: 'new' });
        assert.deepEqual(await store.claimIdempotencyKey('key_1', 'send-1', 'hash-a', 60_000), { state: 'in_progress' });
        assert.deepEqual(await store.claimIdempotencyKey('key_1', 'send-1', 'hash-b', 60_000), { state: 'conflict' });
        await store.completeIdempotencyKey('key_1', 'send-1', response);
        assert.deepEqual(await store.claimIdempotencyKey('key_1', 'send-1', 'hash-a', 60_000), { state: 'done', response });
        assert.deepEqual(await store.claimIdempotencyKey('key_1', 'send-1', 'hash-b', 60_000), { state: 'conflict' });
      });

      it('takes over a claim left in progress for longer than abandonAfterMs, but never a finished one', async () => {
        await store.claimIdempotencyKey('key_1', 'stuck', 'hash-a', 60_000);
        await sleep(20);
        assert.deepEqual(await store.claimIdempotencyKey('key_1', 'stuck', 'hash-a', 60_000), { state: 'in_progress' });
        assert.deepEqual(await store.claimIdempotencyKey('key_1', 'stuck', 'hash-b', 5), { state: 'conflict' });
        assert.deepEqual(await store.claimIdempotencyKey('key_1', 'stuck', 'hash-a', 5), { state: 'new' });
        assert.deepEqual(await store.claimIdempotencyKey('key_1', 'stuck', 'hash-a', 60_000), { state: 'in_progress' }, 'the takeover is a fresh claim');
        await store.completeIdempotencyKey('key_1', 'stuck', { ok: true });
        await sleep(20);
        assert.deepEqual(await store.claimIdempotencyKey('key_1', 'stuck', 'hash-a', 5), { state: 'done', response: { ok: true } });
      });

      it('answers interrupted, never new, for a claim abandoned after its send began calling the platform', async () => {
        await store.claimIdempotencyKey('key_1', 'called', 'hash-a', 60_000);
        await store.markIdempotencyCalling('key_1', 'called');
        await sleep(20);
        assert.deepEqual(await store.claimIdempotencyKey('key_1', 'called', 'hash-a', 60_000), { state: 'in_progress' }, 'not yet abandoned');
        assert.deepEqual(await store.claimIdempotencyKey('key_1', 'called', 'hash-b', 5), { state: 'conflict' });
        assert.deepEqual(await store.claimIdempotencyKey('key_1', 'called', 'hash-a', 5), { state: 'interrupted' });
        assert.deepEqual(await store.claimIdempotencyKey('key_1', 'called', 'hash-a', 5), { state: 'interrupted' }, 'and stays so');

        const unknown = { outcomeUnknown: { code: 'IMG_ERR_PLATFORM_UNREACHABLE' } };
        await store.completeIdempotencyKey('key_1', 'called', unknown);
        await store.markIdempotencyCalling('key_1', 'called');
        assert.deepEqual(await store.claimIdempotencyKey('key_1', 'called', 'hash-a', 5), { state: 'done', response: unknown });
      });

      it('releases an idempotency key so that it can be claimed again', async () => {
        await store.claimIdempotencyKey('key_1', 'send-1', 'hash-a', 60_000);

        await store.releaseIdempotencyKey('key_1', 'send-1');
        assert.deepEqual(await store.claimIdempotencyKey('key_1', 'send-1', 'hash-b', 60_000), { state: 'new' });
      });

      it('keeps idempotency keys apart per scope', async () => {
        await store.claimIdempotencyKey('key_1', 'send-1', 'hash-a', 60_000);

        assert.deepEqual(await store.claimIdempotencyKey('key_2', 'send-1', 'hash-b', 60_000), { state: 'new' });
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

      it('writes a cursor only while it is still the one expected, and stores nothing of the batch otherwise', async () => {
        const first = ingestItem({ channel: 'kf-cas' });
        await store.ingestBatch([first], [{ channel: 'kf-cas', key: 'wk-1', value: 'c1', expected: null }]);
        assert.equal(await store.getCursor('kf-cas', 'wk-1'), 'c1');

        const late = ingestItem({ channel: 'kf-cas' });
        await assert.rejects(
          store.ingestBatch([late], [{ channel: 'kf-cas', key: 'wk-1', value: 'c0', expected: null }]),
          (error: unknown) => error instanceof CursorMovedError && error.key === 'wk-1',
        );
        assert.equal(await store.getCursor('kf-cas', 'wk-1'), 'c1', 'the cursor did not go back');
        assert.equal(await store.getEvent(late.stored.event.id), null, 'nothing of the batch was stored');

        await store.ingestBatch([late], [{ channel: 'kf-cas', key: 'wk-1', value: 'c2', expected: 'c1' }]);
        assert.equal(await store.getCursor('kf-cas', 'wk-1'), 'c2');
        assert.deepEqual(await store.getEvent(late.stored.event.id), late.stored);
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
        await store.claimIdempotencyKey('key_1', 'old', 'h', 60_000);
        await sleep(10);
        const cutoff = Date.now();
        await sleep(10);
        await store.claimIdempotencyKey('key_1', 'fresh', 'h', 60_000);
        const old = ingestItem({ receivedAt: cutoff - 1000, subscriptionIds: ['sub_a', 'sub_b'] });
        const edge = ingestItem({ receivedAt: cutoff });
        const fresh = ingestItem({ receivedAt: cutoff + 1000 });
        await store.ingestBatch([old, edge, fresh]);
        for (const item of [old, fresh]) await finish(store, firstDeliveryId(item), { status: 'succeeded' });
        await finish(store, (old.deliveries[1] as { id: string }).id, { status: 'dead', error: 'HTTP 500' });
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
        assert.deepEqual(await store.claimIdempotencyKey('key_1', 'old', 'h', 60_000), { state: 'new' });

        assert.deepEqual(await store.getEvent(edge.stored.event.id), edge.stored);
        assert.deepEqual(await store.getEvent(fresh.stored.event.id), fresh.stored);
        assert.equal((await store.listAttempts(firstDeliveryId(fresh))).length, 1);
        assert.deepEqual(await store.getOutboundMessage(freshSend.id), freshSend);
        assert.deepEqual(await store.claimIdempotencyKey('key_1', 'fresh', 'h', 60_000), { state: 'in_progress' });
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
        await finish(store, doneId, { status: 'succeeded' });
        await finish(store, retryId, { status: 'pending', delayMs: 1, error: 'HTTP 503' });
        const [inFlight] = await store.claimDeliveries([firstDeliveryId(sending)], 60_000);
        assert.ok(inFlight);

        assert.equal((await store.purgeOlderThan(cutoff)).events, 0);
        assert.deepEqual(await store.getEvent(retrying.stored.event.id), retrying.stored);
        assert.deepEqual(await store.getEvent(sending.stored.event.id), sending.stored);
        assert.equal((await store.getDelivery(doneId))?.status, 'succeeded', 'the finished delivery of a kept event stays too');
        assert.equal((await store.listAttempts(retryId)).length, 1);

        await sleep(10);
        await finish(store, retryId, { status: 'dead', error: 'HTTP 503' });
        await store.recordAttempt(inFlight.leaseToken, attempt(inFlight.id, 1, Date.now()), { status: 'succeeded' });
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

    describe('pull streams', () => {
      /** Events that join the stream of `subscriptionId` (and a webhook subscription's deliveries). */
      function pulled(subscriptionId: string, count: number): IngestItem[] {
        return Array.from({ length: count }, () => ({ ...ingestItem(), pulls: [subscriptionId] }));
      }
      const eventIds = (entries: { stored: { event: { id: string } } }[]) => entries.map((entry) => entry.stored.event.id);
      beforeEach(async () => {
        for (const id of ['pull_a', 'pull_b']) await store.upsertSubscription(pullSubscription(id));
      });

      it('numbers the events of each stream in the order stored, from 1, and reads after a cursor', async () => {
        const first = pulled('pull_a', 3);
        const other = pulled('pull_b', 2);
        await store.ingestBatch([...first.slice(0, 2), ...other]);
        await store.ingestBatch(first.slice(2));

        const all = await store.readPull('pull_a', '0', 10);
        assert.deepEqual(
          all.map((entry) => entry.cursor),
          ['1', '2', '3'],
        );
        assert.deepEqual(all[0]?.stored, first[0]?.stored);
        assert.deepEqual(eventIds(all), eventIds(first));
        assert.deepEqual(eventIds(await store.readPull('pull_a', '1', 1)), [first[1]?.stored.event.id]);
        assert.deepEqual(eventIds(await store.readPull('pull_b', '0', 10)), eventIds(other));
        assert.deepEqual(await store.readPull('pull_a', '3', 10), []);
        assert.deepEqual(await store.pullState('pull_a'), { acked: null, head: '3' });
        assert.deepEqual(await store.pullState('pull_never'), { acked: null, head: null });
      });

      it('starts a reader without a cursor after the acknowledged one, which only moves forward and never past the head', async () => {
        const items = pulled('pull_a', 4);
        await store.ingestBatch(items);
        assert.equal((await store.readPull('pull_a', null, 10)).length, 4, 'nothing acknowledged: from the beginning');

        await store.ackPull('pull_a', '2');
        await store.ackPull('pull_a', '1');
        assert.deepEqual(await store.pullState('pull_a'), { acked: '2', head: '4' });
        assert.deepEqual(eventIds(await store.readPull('pull_a', null, 10)), eventIds(items.slice(2)));

        await store.ackPull('pull_a', '99');
        assert.deepEqual(await store.pullState('pull_a'), { acked: '4', head: '4' });
        const later = pulled('pull_a', 1);
        await store.ingestBatch(later);
        assert.deepEqual(eventIds(await store.readPull('pull_a', null, 10)), eventIds(later), 'a cursor from the future skipped nothing');
      });

      it('appends a duplicate to no stream', async () => {
        const [item] = pulled('pull_a', 1);
        assert.ok(item);
        await store.ingestBatch([item]);
        await store.ingestBatch([{ ...ingestItem({ dedupKey: item.dedupKey }), pulls: ['pull_a'] }]);
        assert.deepEqual(eventIds(await store.readPull('pull_a', '0', 10)), [item.stored.event.id]);
      });

      it('appends nothing for a subscription that is gone or not a pull one', async () => {
        await store.upsertSubscription(sampleSubscription({ id: 'webhook_a' }));
        await store.ingestBatch([{ ...ingestItem(), pulls: ['pull_never_made', 'webhook_a'] }]);
        for (const id of ['pull_never_made', 'webhook_a']) {
          assert.deepEqual(await store.readPull(id, '0', 10), []);
          assert.deepEqual(await store.pullState(id), { acked: null, head: null });
        }
      });

      it('forgets the stream of a deleted subscription, and the entries of purged events', async () => {
        const sub = pullSubscription(newId('sub'));
        await store.upsertSubscription(sub);
        assert.deepEqual(await store.getSubscription(sub.id), sub);
        const old = { ...ingestItem({ receivedAt: Date.now() - 10_000 }), deliveries: [], pulls: [sub.id] };
        const recent = { ...ingestItem(), deliveries: [], pulls: [sub.id] };
        await store.ingestBatch([old, recent]);
        await store.purgeOlderThan(Date.now() - 5_000);
        assert.deepEqual(eventIds(await store.readPull(sub.id, '0', 10)), [recent.stored.event.id]);

        assert.equal(await store.deleteSubscription(sub.id), true);
        assert.deepEqual(await store.readPull(sub.id, '0', 10), []);
        assert.deepEqual(await store.pullState(sub.id), { acked: null, head: null });
      });
    });

    describe('coordination', () => {
      it('grants a lease to one holder until it runs out, renews it only with its token, and lets it go', async () => {
        const first = await store.acquireLease('connection:discord-main', 'node-a', 30_000);
        assert.ok(first);
        assert.equal(await store.acquireLease('connection:discord-main', 'node-b', 30_000), null);
        assert.equal(await store.acquireLease('connection:discord-main', 'node-a', 30_000), null, 'not even to its own holder twice');
        assert.equal(await store.renewLease('connection:discord-main', 'not-the-token', 30_000), false);
        assert.equal(await store.renewLease('connection:discord-main', first, 30_000), true);
        const [listed] = await store.listLeases();
        assert.deepEqual([listed?.name, listed?.holder], ['connection:discord-main', 'node-a']);

        await store.releaseLease('connection:discord-main', 'not-the-token');
        assert.equal((await store.listLeases()).length, 1);
        await store.releaseLease('connection:discord-main', first);
        assert.deepEqual(await store.listLeases(), []);
        const second = await store.acquireLease('connection:discord-main', 'node-b', 30_000);
        assert.ok(second);
        assert.notEqual(second, first);
        assert.equal(await store.renewLease('connection:discord-main', first, 30_000), false, 'an old token renews nothing');
      });

      it('lets a lease that ran out pass to another holder, and never renews it for the old one', async () => {
        const stale = await store.acquireLease('poller:kf', 'node-a', 1);
        assert.ok(stale);
        await sleep(20);
        assert.deepEqual(await store.listLeases(), [], 'a lease that ran out is not listed');
        assert.equal(await store.renewLease('poller:kf', stale, 30_000), false);
        const taken = await store.acquireLease('poller:kf', 'node-b', 30_000);
        assert.ok(taken);
        assert.deepEqual((await store.listLeases()).map((lease) => lease.holder), ['node-b']);
        assert.equal(await store.renewLease('poller:kf', stale, 30_000), false);
      });

      it('keeps the nodes that beat, and forgets the silent and the removed', async () => {
        const startedAt = Date.now() - 1000;
        await store.heartbeat({ id: 'node-a', roles: ['http', 'delivery'], startedAt }, 60_000);
        await store.heartbeat({ id: 'node-b', roles: ['connections'], startedAt }, 60_000);
        const { now, nodes } = await store.listNodes();
        assertBetween(now, startedAt, Date.now());
        assert.deepEqual(
          nodes.map((node) => [node.id, node.roles, node.startedAt]),
          [
            ['node-a', ['http', 'delivery'], startedAt],
            ['node-b', ['connections'], startedAt],
          ],
        );
        for (const node of nodes) assertBetween(node.lastHeartbeatAt, startedAt, now);

        await store.removeNode('node-b');
        await sleep(20);
        await store.heartbeat({ id: 'node-c', roles: ['http'], startedAt }, 5);
        assert.deepEqual((await store.listNodes()).nodes.map((node) => node.id), ['node-c'], 'node-a fell silent for longer than 5 ms');
      });

      it('wakes a listener with a notification, and no more once it stopped listening', async () => {
        const heard: string[] = [];
        const stop = await store.listen('deliveries', (payload) => heard.push(payload));
        await store.notify('deliveries', 'sub_a');
        await store.notify('pulls', 'not for this topic');
        await waitUntil(() => heard.length === 1);
        await stop();
        await store.notify('deliveries', 'sub_b');
        await sleep(50);
        assert.deepEqual(heard, ['sub_a']);
      });
    });

    describe('two stores on one database', () => {
      let peer: Store;
      beforeEach(async () => {
        peer = await factory.openPeer();
      });
      afterEach(async () => {
        await peer.close();
      });

      it('never hands one delivery to two claimers racing for it', async () => {
        const items = Array.from({ length: 100 }, () => ingestItem());
        await store.ingestBatch(items);
        const ids = items.map(firstDeliveryId);
        const claims = await Promise.all(
          [store, peer, store, peer].map((claimer, i) => claimer.claimDeliveries(i % 2 === 0 ? ids : [...ids].reverse(), 30_000)),
        );
        const claimed = claims.flat().map((d) => d.id);
        assert.equal(claimed.length, ids.length, 'every delivery is claimed once');
        assert.deepEqual([...claimed].sort(), [...ids].sort());
      });

      it('refuses the result of a stale holder once the other store took the delivery over', async () => {
        const { deliveryId } = await storeEventWithDelivery(store);
        const [stale] = await store.claimDeliveries([deliveryId], 1);
        assert.ok(stale);
        await sleep(20);
        const [current] = await peer.claimDeliveries([deliveryId], 30_000);
        assert.ok(current);
        assert.equal(await store.recordAttempt(stale.leaseToken, attempt(deliveryId, 1, Date.now()), { status: 'succeeded' }), 'lease_lost');
        assert.equal(await peer.recordAttempt(current.leaseToken, attempt(deliveryId, 1, Date.now()), { status: 'succeeded' }), 'recorded');
        assert.deepEqual(stateOf(await getDelivery(store, deliveryId)), ['succeeded', 1, null, null]);
      });

      it('lets one of two writers racing with the version they both read change a subscription', async () => {
        for (let round = 0; round < 10; round += 1) {
          const sub = sampleSubscription({ id: `race-${round}` });
          const version = await store.upsertSubscription(sub);
          const writes = [store, peer, store, peer].map((writer, i) => ({ ...sub, url: `https://bot.example.com/writer-${i}`, updatedAt: version }));
          const results = await Promise.all(writes.map((write, i) => (i % 2 === 0 ? store : peer).replaceSubscriptionIf(write, version)));
          const winners = results.flatMap((result, i) => (result === null ? [] : [i]));
          assert.equal(winners.length, 1, `round ${round}: ${JSON.stringify(results)}`);
          const winner = winners[0] as number;
          const stored = await peer.getSubscription(sub.id);
          assert.equal(stored?.url, `https://bot.example.com/writer-${winner}`);
          assert.equal(stored?.updatedAt, results[winner]);
        }
      });

      it('lets a delete and a write racing with one version not both happen', async () => {
        for (let round = 0; round < 10; round += 1) {
          const sub = sampleSubscription({ id: `race-delete-${round}` });
          const version = await store.upsertSubscription(sub);
          const [written, deleted] = await Promise.all([
            store.replaceSubscriptionIf({ ...sub, enabled: false }, version),
            peer.deleteSubscription(sub.id, version),
          ]);
          assert.notEqual(written !== null, deleted, `round ${round}: written ${written}, deleted ${deleted}`);
          assert.equal((await store.getSubscription(sub.id)) === null, deleted);
        }
      });

      it('gives one of two racing idempotency claims the key', async () => {
        for (let round = 0; round < 10; round += 1) {
          const key = `race-${round}`;
          const claims = await Promise.all([store, peer, store, peer].map((s) => s.claimIdempotencyKey('key_1', key, 'hash-a', 60_000)));
          assert.equal(claims.filter((claim) => claim.state === 'new').length, 1, `round ${round}: ${JSON.stringify(claims)}`);
        }
      });

      it('gives one of two racing lease seekers the lease', async () => {
        for (let round = 0; round < 10; round += 1) {
          const name = `connection:race-${round}`;
          const tokens = await Promise.all([store, peer, store, peer].map((s, i) => s.acquireLease(name, `node-${i}`, 30_000)));
          assert.equal(tokens.filter((token) => token !== null).length, 1, `round ${round}`);
        }
      });

      it('stores a platform message once when both stores ingest it at the same moment', async () => {
        const first = ingestItem({ dedupKey: 'wx:both' });
        const second = ingestItem({ dedupKey: 'wx:both' });
        const [[a], [b]] = await Promise.all([store.ingestBatch([first]), peer.ingestBatch([second])]);
        assert.ok(a && b);
        assert.equal([a, b].filter((outcome) => outcome.status === 'stored').length, 1);
        assert.equal(a.eventId, b.eventId, 'the duplicate names the stored event');
      });

      it('numbers a stream without a gap or a repeat while both stores append to it, and a reader never sees a number before the ones below it', async () => {
        const rounds = 30;
        for (const id of ['pull_race', 'pull_other']) await store.upsertSubscription(pullSubscription(id));
        let writing = true;
        const seen: number[] = [];
        // Reads as the stores write: had an entry committed after a higher-numbered one, the reader
        // would at some point find a gap below what it has already read.
        const reader = (async () => {
          let cursor = '0';
          for (;;) {
            // Noted before the read: a read that began while the writers were still at it may miss their last commits.
            const writersDone = !writing;
            const page = await peer.readPull('pull_race', cursor, 50);
            for (const entry of page) {
              assert.equal(Number(entry.cursor), seen.length + 1, `entry ${entry.cursor} read right after ${cursor}`);
              seen.push(Number(entry.cursor));
              cursor = entry.cursor;
            }
            if (page.length === 0 && writersDone) break;
          }
        })();
        const write = (writer: Store) =>
          (async () => {
            for (let round = 0; round < rounds; round += 1) {
              await writer.ingestBatch(Array.from({ length: 3 }, () => ({ ...ingestItem(), deliveries: [], pulls: ['pull_race', 'pull_other'] })));
            }
          })();
        await Promise.all([write(store), write(peer)]);
        writing = false;
        await reader;
        assert.equal(seen.length, rounds * 2 * 3);
        assert.deepEqual(await store.pullState('pull_race'), { acked: null, head: String(rounds * 2 * 3) });
        const other = await store.readPull('pull_other', '0', 500);
        assert.deepEqual(
          other.map((entry) => entry.cursor),
          Array.from({ length: rounds * 2 * 3 }, (_, i) => String(i + 1)),
        );
      });

      it('wakes a listener on the other store', async () => {
        const heard: string[] = [];
        const stop = await peer.listen('deliveries', (payload) => heard.push(payload));
        try {
          await store.notify('deliveries', 'from-the-other-node');
          await waitUntil(() => heard.length > 0);
          assert.deepEqual(heard, ['from-the-other-node']);
        } finally {
          await stop();
        }
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
        await store.syncConfig([], [key]);
        await store.claimIdempotencyKey('key_1', 'send-1', 'hash-a', 60_000);
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
        assert.deepEqual(await store.claimIdempotencyKey('key_1', 'send-1', 'hash-a', 60_000), { state: 'in_progress' });
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
    ordering: 'none',
    pull: false,
    source: 'api',
    createdAt: 1_700_000_000_000,
    updatedAt: 1_700_000_000_000,
    ...overrides,
  };
}

function pullSubscription(id: string): SubscriptionRecord {
  return sampleSubscription({ id, pull: true, url: '', secrets: [] });
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

/** Tries a delivery once and leaves it pending, due again in `delayMs`. */
async function makePendingFor(store: Store, deliveryId: string, delayMs: number): Promise<void> {
  await finish(store, deliveryId, { status: 'pending', delayMs, error: 'HTTP 500' });
}

/** Claims a delivery and records one attempt with `resolution`. */
async function finish(store: Store, deliveryId: string, resolution: AttemptResolution): Promise<void> {
  const [held] = await store.claimDeliveries([deliveryId], 30_000);
  assert.ok(held, `delivery ${deliveryId} should be claimable`);
  const failed = resolution.status === 'succeeded' ? {} : { statusCode: 500, error: resolution.error };
  const next = (await store.listAttempts(deliveryId)).length + 1;
  assert.equal(await store.recordAttempt(held.leaseToken, { ...attempt(deliveryId, next, Date.now()), ...failed }, resolution), 'recorded');
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Waits (two seconds at most) for `condition` to hold. */
async function waitUntil(condition: () => boolean): Promise<void> {
  for (let waited = 0; !condition(); waited += 10) {
    if (waited >= 2000) assert.fail('the condition did not hold within two seconds');
    await sleep(10);
  }
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
