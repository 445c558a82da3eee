import type { StoredEvent, SubscriptionRecord } from '../store/store.ts';

/**
 * The stored platform payload as it may be shown outside imgate (secrets an adapter keeps for
 * itself blanked): the platforms' `shownRaw`, handed in so that delivery does not load every adapter.
 */
export type ShowRaw = (platform: string, raw: unknown) => unknown;

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
export function renderDelivery(sub: Pick<SubscriptionRecord, 'url' | 'format' | 'includeRaw'>, stored: StoredEvent, showRaw: ShowRaw): DeliveryRequest {
  if (sub.format === 'raw') {
    const shape = stored.rawRequest;
    const url = shape && shape.query !== '' ? `${sub.url}${sub.url.includes('?') ? '&' : '?'}${shape.query}` : sub.url;
    return { url, contentType: shape?.contentType ?? 'application/json', body: stored.rawBody };
  }
  return { url: sub.url, contentType: 'application/json', body: Buffer.from(unifiedEventJson(sub, stored, showRaw)) };
}

/** The unified event as JSON, with the platform payload as `raw` when the subscription asks for it. */
export function unifiedEventJson(sub: Pick<SubscriptionRecord, 'includeRaw'>, stored: StoredEvent, showRaw: ShowRaw): string {
  return JSON.stringify(sub.includeRaw ? { ...stored.event, raw: showRaw(stored.event.platform, stored.raw) } : stored.event);
}
