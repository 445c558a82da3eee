import { randomUUID } from 'node:crypto';
import type { UnifiedEvent } from '../core/event.ts';
import { newId } from '../core/ids.ts';
import type { AttemptRecord, Store, SubscriptionRecord } from '../store/store.ts';
import type { DeliveryWorker } from './worker.ts';

/** The channel test events carry: no platform's. */
export const TEST_CHANNEL = '_test';

export interface TestDeliveryResult {
  eventId: string;
  /** null for a pull subscription, whose stream the event joins instead. */
  deliveryId: string | null;
  /** The first attempt, made before answering; null when this process runs no delivery worker, and for a pull subscription. */
  attempt: AttemptRecord | null;
}

/**
 * A `system` event sent to one subscription only, stored and recorded like any other delivery (so
 * its attempt shows in `/v1/deliveries`), but attempted once: the caller sees the answer, and a
 * subscriber being set up is not sent the test again for a day. A pull subscription's readers get
 * it in their stream.
 */
export async function sendTestDelivery(
  store: Store,
  worker: DeliveryWorker | undefined,
  sub: SubscriptionRecord,
  announcePull: (subscriptionIds: string[]) => void,
): Promise<TestDeliveryResult> {
  const now = new Date();
  const event: UnifiedEvent = {
    id: newId('evt'),
    type: 'system',
    channel: TEST_CHANNEL,
    platform: 'imgate',
    receivedAt: now.toISOString(),
    message: {
      id: newId('msg'),
      platformId: randomUUID(),
      type: 'system',
      text: `imgate test delivery to subscription ${sub.id}`,
      createdAt: now.toISOString(),
      mentions: [],
      mentionsBot: false,
      replyTo: null,
      content: {},
    },
    sender: { id: 'imgate', name: 'imgate', isSelf: false },
    conversation: { id: 'imgate-test', type: 'direct', name: null },
    flags: { history: false },
  };
  const rawBody = Buffer.from(JSON.stringify(event));
  const item = { channel: TEST_CHANNEL, dedupKey: event.message.platformId, stored: { event, raw: event, rawBody, rawRequest: null } };
  if (sub.pull) {
    await store.ingestBatch([{ ...item, deliveries: [], pulls: [sub.id] }]);
    announcePull([sub.id]);
    return { eventId: event.id, deliveryId: null, attempt: null };
  }
  const deliveryId = newId('dlv');
  const create = async () => {
    await store.ingestBatch([{ ...item, deliveries: [{ id: deliveryId, subscriptionId: sub.id }] }]);
  };
  if (!worker) {
    await create();
    return { eventId: event.id, deliveryId, attempt: null };
  }
  return { eventId: event.id, deliveryId, attempt: await worker.createAndAttempt(deliveryId, sub.id, item.stored, create) };
}
