import type { UnifiedEvent } from '../core/event.ts';
import type { SubscriptionRecord } from './ports/config-state.ts';
import type { AttemptRecord, ClaimedDelivery, DeliveryRecord, DeliveryStatus } from './ports/delivery-queue.ts';
import type { StoredEvent } from './ports/event-log.ts';
import type { OutboundMessageRecord } from './ports/sends.ts';

/**
 * The tables' rows as both engines read them (same names, times as epoch ms, lists as JSON text),
 * and the records they become. SQLite has no boolean type, hence `boolean | number` where the
 * engines differ.
 */

export interface EventRow {
  event_json: string;
  raw_json: string;
  raw_body: Buffer;
  raw_content_type: string | null;
  raw_query: string | null;
}

export interface DeliveryRow {
  id: string;
  event_id: string;
  subscription_id: string;
  status: DeliveryStatus;
  attempts: number;
  replayed_at_attempt: number;
  next_attempt_at: number;
  lease_until: number | null;
  lease_token: string | null;
  last_error: string | null;
  created_at: number;
  updated_at: number;
}

export interface AttemptRow {
  delivery_id: string;
  attempt: number;
  started_at: number;
  latency_ms: number;
  status_code: number | null;
  response_body: string | null;
  error: string | null;
}

export interface SubscriptionRow {
  id: string;
  url: string;
  secrets: string;
  signing: SubscriptionRecord['signing'];
  format: SubscriptionRecord['format'];
  channels: string | null;
  message_types: string | null;
  include_self: boolean | number;
  groups: SubscriptionRecord['groups'];
  enabled: boolean | number;
  timeout_ms: number;
  retry_schedule: string;
  include_raw: boolean | number;
  ordering: SubscriptionRecord['ordering'];
  pull: boolean | number;
  source: SubscriptionRecord['source'];
  created_at: number;
  updated_at: number;
}

export interface OutboundMessageRow {
  id: string;
  channel: string;
  recipient: string;
  platform_message_id: string | null;
  reply_to_event_id: string | null;
  created_at: number;
}

/** An event's `receivedAt` as epoch ms, the column retention purges by. */
export function epochMs(iso: string): number {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) throw new Error(`event receivedAt is not a valid time: ${iso}`);
  return ms;
}

export function toStoredEvent(row: EventRow): StoredEvent {
  return {
    event: JSON.parse(row.event_json) as UnifiedEvent,
    raw: JSON.parse(row.raw_json) as unknown,
    rawBody: row.raw_body,
    rawRequest: row.raw_content_type === null ? null : { contentType: row.raw_content_type, query: row.raw_query ?? '' },
  };
}

export function toDelivery(row: DeliveryRow): DeliveryRecord {
  return {
    id: row.id,
    eventId: row.event_id,
    subscriptionId: row.subscription_id,
    status: row.status,
    attempts: row.attempts,
    replayedAtAttempt: row.replayed_at_attempt,
    nextAttemptAt: row.next_attempt_at,
    leaseUntil: row.lease_until,
    lastError: row.last_error,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export function toClaimed(row: DeliveryRow): ClaimedDelivery {
  return { ...toDelivery(row), leaseToken: row.lease_token as string };
}

/** Claims are answered in the order they were due. */
export function oldestFirst(a: DeliveryRecord, b: DeliveryRecord): number {
  return a.nextAttemptAt - b.nextAttemptAt || (a.id < b.id ? -1 : 1);
}

export function toAttempt(row: AttemptRow): AttemptRecord {
  return {
    deliveryId: row.delivery_id,
    attempt: row.attempt,
    startedAt: row.started_at,
    latencyMs: row.latency_ms,
    statusCode: row.status_code,
    responseBody: row.response_body,
    error: row.error,
  };
}

/** What an attempt recorded after its lease was taken over says, so the log shows why it changed nothing. */
export function leaseLostError(error: string | null): string {
  return `lease lost: ${error ?? 'recorded after another worker took the delivery over'}`;
}

export function toJsonOrNull(value: string[] | null): string | null {
  return value === null ? null : JSON.stringify(value);
}

function fromJsonOrNull(text: string | null): string[] | null {
  return text === null ? null : (JSON.parse(text) as string[]);
}

export function toSubscription(row: SubscriptionRow): SubscriptionRecord {
  return {
    id: row.id,
    url: row.url,
    secrets: JSON.parse(row.secrets) as string[],
    signing: row.signing,
    format: row.format,
    channels: fromJsonOrNull(row.channels),
    messageTypes: fromJsonOrNull(row.message_types),
    includeSelf: Boolean(row.include_self),
    groups: row.groups,
    enabled: Boolean(row.enabled),
    timeoutMs: row.timeout_ms,
    retrySchedule: JSON.parse(row.retry_schedule) as number[],
    includeRaw: Boolean(row.include_raw),
    ordering: row.ordering,
    pull: Boolean(row.pull),
    source: row.source,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export function toOutboundMessage(row: OutboundMessageRow): OutboundMessageRecord {
  return {
    id: row.id,
    channel: row.channel,
    to: row.recipient,
    platformMessageId: row.platform_message_id,
    replyToEventId: row.reply_to_event_id,
    createdAt: row.created_at,
  };
}
