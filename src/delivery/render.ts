import type { StoredEvent, SubscriptionRecord } from '../store/store.ts';

/** The body a subscriber receives: the unified event as JSON, or the platform's exact bytes. */
export function renderDeliveryBody(sub: Pick<SubscriptionRecord, 'format' | 'includeRaw'>, stored: StoredEvent): Buffer {
  if (sub.format === 'raw') return stored.rawBody;
  const body = sub.includeRaw ? { ...stored.event, raw: stored.raw } : stored.event;
  return Buffer.from(JSON.stringify(body));
}
