import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { pino } from 'pino';
import { sendTestDelivery } from '../../src/delivery/test-delivery.ts';
import { DeliveryWorker } from '../../src/delivery/worker.ts';
import { GatewayMetrics } from '../../src/metrics/gateway-metrics.ts';
import { openStore } from '../../src/store/open.ts';
import type { Store, SubscriptionRecord } from '../../src/store/store.ts';
import { SubscriptionRegistry } from '../../src/subscriptions/registry.ts';
import { FakeHttpServer } from '../helpers/fake-http.ts';

/** A test delivery is attempted once on every path: its subscription's schedule (a retry in 1 s) is not used. */
describe('test deliveries are never retried', () => {
  const subscriber = new FakeHttpServer();
  const logger = pino({ level: 'silent' });
  let store: Store;
  let subscriptions: SubscriptionRegistry;
  let worker: DeliveryWorker;

  async function subscribe(overrides: Partial<SubscriptionRecord> = {}): Promise<SubscriptionRecord> {
    const now = Date.now();
    const sub: SubscriptionRecord = {
      id: 'sub', url: `${subscriber.url}/in`, secrets: ['s3cret-0123456789'], signing: 'standard', format: 'unified', channels: null, messageTypes: null,
      includeSelf: true, groups: 'all', enabled: true, timeoutMs: 60_000, retrySchedule: [1, 1, 1], includeRaw: false, ordering: 'none', pull: false,
      source: 'api', createdAt: now, updatedAt: now, ...overrides,
    };
    await store.upsertSubscription(sub);
    await subscriptions.load();
    return sub;
  }

  before(() => subscriber.start());
  after(() => subscriber.stop());
  beforeEach(async () => {
    store = await openStore('sqlite::memory:');
    subscriptions = new SubscriptionRegistry(store, logger);
    const options = { concurrencyPerSubscription: 4, pollIntervalMs: 60_000, stopGraceMs: 50, showRaw: (_platform: string, raw: unknown) => raw, denyNetworks: [] };
    worker = new DeliveryWorker(store, subscriptions, logger, options, new GatewayMetrics({ openDeliveries: async () => [], connections: () => [] }));
  });
  afterEach(async () => {
    await worker.stop();
    subscriptions.stop();
    await store.close();
  });

  async function deadLetter(deliveryId: string | null): Promise<string | null> {
    const delivery = await store.getDelivery(deliveryId ?? '');
    assert.equal(delivery?.status, 'dead', `the delivery is ${delivery?.status}`);
    return delivery.lastError;
  }

  it('dead-letters a test the subscriber refused', async () => {
    subscriber.respondWith({ status: 503, headers: { 'retry-after': '0' } });
    const result = await sendTestDelivery(store, worker, await subscribe(), () => undefined);
    assert.equal(result.attempt?.statusCode, 503);
    assert.equal(await deadLetter(result.deliveryId), 'subscriber answered HTTP 503; a test delivery is not retried');
  });

  it('dead-letters a test imgate could not attempt (an error of its own)', async () => {
    // A subscription without a secret cannot be signed for: the attempt fails inside imgate.
    const seen = subscriber.requests.length;
    const result = await sendTestDelivery(store, worker, await subscribe({ secrets: [] }), () => undefined);
    assert.match(result.attempt?.error ?? '', /^imgate could not attempt the delivery: a subscription needs a secret/);
    assert.equal(
      await deadLetter(result.deliveryId),
      'imgate could not attempt the delivery: a subscription needs a secret to sign with; a test delivery is not retried',
    );
    assert.equal(subscriber.requests.length, seen, 'nothing was sent');
  });

  it('dead-letters a test cut short by a shutdown instead of sending it again after the restart', async () => {
    subscriber.respondWith({ status: 200, wait: new Promise<void>(() => undefined) });
    const seen = subscriber.requests.length;
    const testing = sendTestDelivery(store, worker, await subscribe(), () => undefined);
    await subscriber.waitForRequests(seen + 1);
    await worker.stop();
    const result = await testing;
    assert.equal(result.attempt?.error, 'aborted: the gateway shut down');
    assert.equal(await deadLetter(result.deliveryId), 'aborted: the gateway shut down; a test delivery is not retried');
  });
});
