import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { pino } from 'pino';
import { newId } from '../../src/core/ids.ts';
import { DeliveryWorker } from '../../src/delivery/worker.ts';
import { GatewayMetrics } from '../../src/metrics/gateway-metrics.ts';
import { openStore } from '../../src/store/open.ts';
import type { Store } from '../../src/store/store.ts';
import { SubscriptionRegistry } from '../../src/subscriptions/registry.ts';
import { FakeHttpServer } from '../helpers/fake-http.ts';

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

describe('DeliveryWorker.stop', () => {
  const subscriber = new FakeHttpServer(() => ({ status: 200, wait: sleep(200) }));
  after(() => subscriber.stop());

  it('waits for the attempts a claim under way starts after the stop began, and records them', async () => {
    await subscriber.start();
    const store = await openStore('sqlite::memory:');
    // The real store, answering claims 50 ms late (a busy database): the stop lands during the claim.
    const slow: Store = Object.create(store, {
      claimDeliveries: { value: async (...args: Parameters<Store['claimDeliveries']>) => (await sleep(50), store.claimDeliveries(...args)) },
    }) as Store;
    const now = Date.now();
    await store.upsertSubscription({
      id: 'sub', url: `${subscriber.url}/in`, secrets: ['s3cret'], signing: 'standard', format: 'unified', channels: null, messageTypes: null,
      includeSelf: true, groups: 'all', enabled: true, timeoutMs: 5000, retrySchedule: [5], includeRaw: false, ordering: 'none', pull: false,
      source: 'api', createdAt: now, updatedAt: now,
    });
    const logger = pino({ level: 'silent' });
    const subscriptions = new SubscriptionRegistry(store, logger);
    await subscriptions.load();
    const event = {
      id: newId('evt'), type: 'message', channel: 'wx', platform: 'wechat-pad', receivedAt: new Date(now).toISOString(),
      message: { id: newId('msg'), platformId: '1', type: 'text', text: 'hi', createdAt: new Date(now).toISOString(), mentions: [], mentionsBot: false, replyTo: null, content: {} },
      sender: { id: 'wxid_a', name: null, isSelf: false }, conversation: { id: 'wxid_a', type: 'direct', name: null }, flags: { history: false },
    } as const;
    const deliveryId = newId('dlv');
    await store.ingestBatch([{ channel: 'wx', dedupKey: '1', stored: { event: structuredClone(event) as never, raw: {}, rawBody: Buffer.from('{}'), rawRequest: null }, deliveries: [{ id: deliveryId, subscriptionId: 'sub' }] }]);

    const worker = new DeliveryWorker(slow, subscriptions, logger, { concurrencyPerSubscription: 4, pollIntervalMs: 60_000, stopGraceMs: 2000, showRaw: (_platform, raw) => raw, denyNetworks: [] }, new GatewayMetrics({ openDeliveries: async () => [], connections: () => [] }));
    worker.notify([{ id: deliveryId, subscriptionId: 'sub' }]);
    await sleep(10);
    await worker.stop();

    const delivery = await store.getDelivery(deliveryId);
    assert.equal(delivery?.status, 'succeeded', 'the attempt finished and was recorded before stop returned');
    assert.equal(subscriber.requests.length, 1);
    subscriptions.stop();
    await store.close();
  });
});
