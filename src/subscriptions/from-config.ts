import type { SubscriptionConfig } from '../config/schema.ts';
import type { SubscriptionRecord } from '../store/store.ts';

/** A subscription as written in config or posted to the API, as the store keeps it. */
export function toSubscriptionRecord(
  input: SubscriptionConfig,
  source: SubscriptionRecord['source'],
  now: number,
  createdAt = now,
): SubscriptionRecord {
  return {
    id: input.id,
    // A pull subscription has neither (the schema makes sure the others have both).
    url: input.url ?? '',
    secrets: input.secret === undefined ? [] : [input.secret].flat(),
    signing: input.signing,
    format: input.format,
    channels: input.channels ?? null,
    messageTypes: input.messageTypes ?? null,
    includeSelf: input.includeSelf,
    groups: input.groups,
    enabled: input.enabled,
    timeoutMs: input.timeoutMs,
    retrySchedule: input.retry.schedule,
    includeRaw: input.includeRaw,
    ordering: input.ordering,
    pull: input.pull,
    source,
    createdAt,
    updatedAt: now,
  };
}

/** A stored subscription as the API takes it in (the reverse of toSubscriptionRecord): a PATCH is merged into it. */
export function toSubscriptionInput(record: SubscriptionRecord): Record<string, unknown> {
  return {
    id: record.id,
    ...(record.pull ? {} : { url: record.url, secret: record.secrets.length === 1 ? record.secrets[0] : record.secrets }),
    pull: record.pull,
    signing: record.signing,
    format: record.format,
    ...(record.channels === null ? {} : { channels: record.channels }),
    ...(record.messageTypes === null ? {} : { messageTypes: record.messageTypes }),
    includeSelf: record.includeSelf,
    groups: record.groups,
    enabled: record.enabled,
    timeoutMs: record.timeoutMs,
    retry: { schedule: record.retrySchedule },
    includeRaw: record.includeRaw,
    ordering: record.ordering,
  };
}

/** What the API shows of a subscription: everything but its secrets (a pull subscription's url is null). */
export function describeSubscription(sub: SubscriptionRecord): Record<string, unknown> {
  const { secrets, retrySchedule, ...rest } = sub;
  return {
    ...rest,
    url: sub.pull ? null : shownUrl(sub.url),
    retry: { schedule: retrySchedule },
    secretCount: secrets.length,
    // ISO 8601, as every time in an API answer.
    createdAt: new Date(sub.createdAt).toISOString(),
    updatedAt: new Date(sub.updatedAt).toISOString(),
  };
}

/**
 * The URL to store when a client sends back what it read: the masked form of the stored URL keeps the
 * stored credentials (a GET-then-PUT must not replace a password with `***`).
 */
export function unmaskedUrl(sent: string, stored: string): string {
  return sent === shownUrl(stored) ? stored : sent;
}

/** A URL as imgate shows it (API answers, logs): credentials in it (`https://user:password@host/`) masked. */
export function shownUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return url;
  }
  if (parsed.username === '' && parsed.password === '') return url;
  parsed.username = '***';
  if (parsed.password !== '') parsed.password = '***';
  return parsed.toString();
}
