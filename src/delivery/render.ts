import { shownRaw } from '../platforms/shown-raw.ts';
import type { StoredEvent, SubscriptionRecord } from '../store/store.ts';

export interface DeliveryRequest {
  url: string;
  contentType: string;
  body: Buffer;
}

/**
 * What a subscriber receives: the unified event as JSON, or (`format: raw`) the platform's exact
 * bytes with the content type and query string the platform sent them with, so that a bot built
 * on the platform's own SDK can verify them as if the platform had called it.
 */
export function renderDelivery(sub: Pick<SubscriptionRecord, 'url' | 'format' | 'includeRaw'>, stored: StoredEvent): DeliveryRequest {
  if (sub.format === 'raw') {
    const shape = stored.rawRequest;
    const url = shape && shape.query !== '' ? `${sub.url}${sub.url.includes('?') ? '&' : '?'}${shape.query}` : sub.url;
    return { url, contentType: shape?.contentType ?? 'application/json', body: stored.rawBody };
  }
  return { url: sub.url, contentType: 'application/json', body: Buffer.from(unifiedEventJson(sub, stored)) };
}

/** The unified event as JSON, with the platform payload as `raw` when the subscription asks for it. */
export function unifiedEventJson(sub: Pick<SubscriptionRecord, 'includeRaw'>, stored: StoredEvent): string {
  return JSON.stringify(sub.includeRaw ? { ...stored.event, raw: shownRaw(stored.event.platform, stored.raw) } : stored.event);
}
