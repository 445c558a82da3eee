import type { ListQuery } from './event-log.ts';

/**
 * The outbox: one delivery per (event, subscription), attempted by one worker at a time. A claim is
 * a lease timed by the database's clock and named by a token; only the holder of that token can
 * record the attempt's outcome (fencing), so a worker whose lease ran out and was taken over cannot
 * write over the new holder's result. Times are epoch milliseconds by the database's clock.
 */

export type DeliveryStatus = 'pending' | 'in_flight' | 'succeeded' | 'dead';

export interface DeliveryRecord {
  id: string;
  eventId: string;
  subscriptionId: string;
  status: DeliveryStatus;
  /** Attempts made so far, replays included (the attempt log numbers them 1, 2, 3, …). */
  attempts: number;
  /** `attempts` when the delivery was last replayed (0: never): its retry schedule started again there. */
  replayedAtAttempt: number;
  nextAttemptAt: number;
  /** While in flight: until when the claim holds; after that another worker may take it. */
  leaseUntil: number | null;
  lastError: string | null;
  createdAt: number;
  updatedAt: number;
}

/** A delivery as its claimer holds it: the token proves the lease when the attempt is recorded. */
export interface ClaimedDelivery extends DeliveryRecord {
  leaseToken: string;
}

export interface AttemptRecord {
  deliveryId: string;
  attempt: number;
  startedAt: number;
  latencyMs: number;
  statusCode: number | null;
  /** The response body, truncated to 1 KiB. */
  responseBody: string | null;
  error: string | null;
}

/** What the worker decided after an attempt; a retry's time is counted by the database's clock. */
export type AttemptResolution =
  | { status: 'succeeded' }
  | { status: 'pending'; delayMs: number; error: string }
  | { status: 'dead'; error: string };

/**
 * `recorded`: the attempt and the delivery's new state are stored. `lease_lost`: another worker
 * took the delivery over after this one's lease ran out; the attempt is kept in the log (marked so)
 * but the delivery's state is the new holder's.
 */
export type RecordOutcome = 'recorded' | 'lease_lost';

export interface AttemptToRecord {
  leaseToken: string;
  attempt: AttemptRecord;
  resolution: AttemptResolution;
}

export interface DeliveryQueue {
  /**
   * Moves these deliveries to in_flight under a fresh lease of `leaseMs`, if they are pending and
   * due, or in flight with a lease that ran out (its holder died); answers the ones it got, oldest
   * first. Two claimers racing for one delivery never both get it.
   */
  claimDeliveries(ids: string[], leaseMs: number): Promise<ClaimedDelivery[]>;
  /**
   * Deliveries `claimDeliveries` would take now, oldest first, leaving out those of
   * `skipSubscriptions` (whose lanes are full, so that one backlog cannot fill every poll); claims nothing.
   */
  listDueDeliveries(limit: number, skipSubscriptions: string[]): Promise<{ id: string; subscriptionId: string }[]>;
  /** Records an attempt and the delivery's new state together, if `leaseToken` still holds it. */
  recordAttempt(leaseToken: string, attempt: AttemptRecord, resolution: AttemptResolution): Promise<RecordOutcome>;
  /** `recordAttempt` for several attempts in one transaction (one commit), each judged on its own lease. */
  recordAttempts(records: AttemptToRecord[]): Promise<RecordOutcome[]>;
  getDelivery(id: string): Promise<DeliveryRecord | null>;
  listDeliveries(query: ListQuery & { eventId?: string; subscriptionId?: string; status?: DeliveryStatus }): Promise<DeliveryRecord[]>;
  /** In the order they were made. */
  listAttempts(deliveryId: string): Promise<AttemptRecord[]>;
  /**
   * Puts a delivery back to pending, due now, with a fresh retry schedule (its attempt log is kept
   * and its attempts go on counting).
   * A delivery in flight is left alone: replaying it would send it twice at once.
   */
  replayDelivery(id: string): Promise<'replayed' | 'in_flight' | 'not_found'>;
  /**
   * `replayDelivery` for every delivery in `status` (dead letters, or pending ones to try now), of
   * one subscription and updated since a time if given; answers those replayed, with their
   * subscriptions (for the worker).
   */
  replayDeliveries(filter: ReplayFilter): Promise<{ id: string; subscriptionId: string }[]>;
  /** Deliveries not succeeded, counted by subscription and status (for the metrics). */
  countOpenDeliveries(): Promise<OpenDeliveryCount[]>;
}

export interface ReplayFilter {
  status: 'dead' | 'pending';
  subscriptionId?: string;
  /** Epoch ms: only deliveries whose state changed at or after this time (a dead letter: when it died). */
  since?: number;
}

export interface OpenDeliveryCount {
  subscriptionId: string;
  status: Exclude<DeliveryStatus, 'succeeded'>;
  count: number;
}
