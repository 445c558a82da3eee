import type { AttemptRecord, DeliveryRecord } from '../store/store.ts';

/**
 * Records as the API shows them. The store keeps epoch milliseconds (compared and indexed as
 * numbers); every time in an API answer is ISO 8601, as events carry them.
 */
export function iso(ms: number): string {
  return new Date(ms).toISOString();
}

export function shownDelivery(delivery: DeliveryRecord): Record<string, unknown> {
  return {
    ...delivery,
    nextAttemptAt: iso(delivery.nextAttemptAt),
    leaseUntil: delivery.leaseUntil === null ? null : iso(delivery.leaseUntil),
    createdAt: iso(delivery.createdAt),
    updatedAt: iso(delivery.updatedAt),
  };
}

export function shownAttempt(attempt: AttemptRecord): Record<string, unknown> {
  return { ...attempt, startedAt: iso(attempt.startedAt) };
}
