import type { Dispatcher } from 'undici';
import { denyNetworksPolicy, guardedAgent } from '../core/address-guard.ts';
import type { Logger } from '../core/logger.ts';
import type { AttemptOutcome, GatewayMetrics } from '../metrics/gateway-metrics.ts';
import type { AttemptRecord, AttemptResolution, ClaimedDelivery, RecordOutcome, Store, StoredEvent, SubscriptionRecord } from '../store/store.ts';
import type { SubscriptionRegistry } from '../subscriptions/registry.ts';
import { AttemptRecorder } from './attempt-recorder.ts';
import { postWebhook, type PostResult } from './post-webhook.ts';
import { renderDelivery, type ShowRaw } from './render.ts';
import { calculateRetryDelay, parseRetryAfter, TEST_RETRY_SCHEDULE } from './retry-delay.ts';
import { signDelivery } from './sign.ts';
import { TEST_CHANNEL } from './test-delivery.ts';

export interface WorkerOptions {
  /** Requests in flight to one subscriber at most; each lane adapts below it (see Lane.limit). */
  concurrencyPerSubscription: number;
  pollIntervalMs: number;
  /**
   * How long `stop` lets attempts in flight run before aborting them; each aborted attempt is
   * recorded and due again at once, so the next start sends it promptly.
   * @defaultValue DEFAULT_STOP_GRACE_MS
   */
  stopGraceMs?: number;
  /** For `includeRaw` subscriptions. */
  showRaw: ShowRaw;
  /** `delivery.denyNetworks`: CIDRs no attempt connects to. */
  denyNetworks: string[];
}

/**
 * Well inside the default `server.shutdownTimeoutMs` (10 s): waiting out a subscriber's own timeout
 * (up to 60 s) outlasted it, the process exited with the attempt unrecorded and still claimed, and
 * the delivery was sent again only once its lease ran out.
 */
export const DEFAULT_STOP_GRACE_MS = 2000;
/** What an attempt cut short by `stop` records; the delivery stays pending, due at once. */
const ABORTED_BY_SHUTDOWN = 'aborted: the gateway shut down';

/** Retries due within this long get a timer of their own; later ones are found by the poll. */
const LOCAL_TIMER_LIMIT_MS = 60_000;
/**
 * A claim outlives its subscription's request timeout by this much before another worker may take it
 * over: time enough to record the attempt, short enough that a crashed process's deliveries are
 * picked up again within seconds of a restart.
 */
const LEASE_MARGIN_MS = 5_000;
const POLL_BATCH = 500;
/**
 * Events handed over with their deliveries are kept while a lane's queue is shorter than this;
 * beyond it the worker reads them back when their turn comes, so a burst a slow subscriber cannot
 * take does not pile up in memory.
 */
const HANDOFF_QUEUE_LIMIT = 1000;

interface Lane {
  subscriptionId: string;
  queue: string[];
  active: number;
  /**
   * How many attempts may be in flight to this subscriber now: starts at the configured maximum,
   * halves with every failed attempt and grows by one with every success (additive increase,
   * multiplicative decrease, as TCP does), so a struggling subscriber is not flooded and a healthy
   * one is not throttled.
   */
  limit: number;
  /** A pump is scheduled for this turn of the event loop. */
  pumping: boolean;
}

/**
 * Sends deliveries to subscribers. Each subscription has its own lane with a concurrency limit, so
 * one slow or dead subscriber never holds up the others. New deliveries arrive by `notify` right
 * after their commit; retries and anything a stopped process left behind are found by a poll,
 * page after page while a backlog lasts. Deliveries are claimed in the store (a lease with a token,
 * a lane's free slots in one transaction) just before their attempts, so two workers, or two nodes,
 * never send one twice at once; attempt results are group-committed (AttemptRecorder) and count only
 * while their lease holds.
 */
export class DeliveryWorker {
  private readonly lanes = new Map<string, Lane>();
  private readonly queued = new Set<string>();
  /** Events handed over by `notify`, by delivery id, until the delivery leaves its lane. */
  private readonly handed = new Map<string, StoredEvent>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly inFlight = new Set<Promise<unknown>>();
  /**
   * One controller per POST in flight, aborted by `stop` once the grace period is over. Not one
   * shared signal combined into each POST's with AbortSignal.any: on Node 20 every such call leaves
   * an entry on the long-lived signal that is never removed (nodejs/node#55351).
   */
  private readonly posts = new Set<AbortController>();
  private aborting = false;
  private readonly recorder: AttemptRecorder;
  /** Every attempt's connections: those `denyNetworks` refuses are never made. */
  private readonly dispatcher: Dispatcher;
  private pollTimer: NodeJS.Timeout | undefined;
  private polling: Promise<void> | undefined;
  private pollAgain = false;
  /** The last poll found a full page of due deliveries. */
  private backlog = false;
  private stopped = false;

  constructor(
    private readonly store: Store,
    private readonly subscriptions: SubscriptionRegistry,
    private readonly logger: Logger,
    private readonly options: WorkerOptions,
    private readonly metrics: GatewayMetrics,
  ) {
    this.recorder = new AttemptRecorder(store);
    this.dispatcher = guardedAgent(denyNetworksPolicy(options.denyNetworks));
  }

  start(): void {
    this.pollTimer = setInterval(() => void this.poll(), this.options.pollIntervalMs);
    this.pollTimer.unref();
    void this.poll();
  }

  /**
   * Stops taking work and waits for attempts in flight, for `stopGraceMs` at most: then they are
   * aborted and recorded as such, pending and due at once.
   */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.pollTimer);
    for (const timer of this.timers) clearTimeout(timer);
    const grace = setTimeout(() => {
      this.logger.warn({ attempts: this.inFlight.size }, 'delivery attempts still in flight at shutdown: aborting them');
      this.aborting = true;
      for (const post of this.posts) post.abort();
    }, this.options.stopGraceMs ?? DEFAULT_STOP_GRACE_MS);
    try {
      // Until nothing is left: a claim that was under way starts its attempts after this began.
      while (this.inFlight.size > 0 || this.polling) await Promise.allSettled([...this.inFlight, this.polling]);
    } finally {
      clearTimeout(grace);
    }
    await this.dispatcher.destroy();
  }

  /** Deliveries just stored, with their event when the caller has it in hand (then it is not read back). */
  notify(deliveries: { id: string; subscriptionId: string; stored?: StoredEvent }[]): void {
    for (const delivery of deliveries) this.enqueue(delivery.id, delivery.subscriptionId, delivery.stored);
  }

  /**
   * Creates a delivery of `stored` with `create` and attempts it at once, outside the lanes (the
   * test-delivery route). The id is marked as queued first, so the poll cannot take it in between.
   */
  async createAndAttempt(deliveryId: string, subscriptionId: string, stored: StoredEvent, create: () => Promise<void>): Promise<AttemptRecord | null> {
    this.queued.add(deliveryId);
    const run = (async () => {
      await create();
      const [claimed] = await this.store.claimDeliveries([deliveryId], this.leaseMs(subscriptionId));
      return claimed ? await this.attempt(claimed, stored) : null;
    })();
    // Tracked like the lanes' attempts, so that `stop` waits for it and aborts it too.
    this.inFlight.add(run);
    try {
      return await run;
    } finally {
      this.inFlight.delete(run);
      this.queued.delete(deliveryId);
    }
  }

  private enqueue(deliveryId: string, subscriptionId: string, stored?: StoredEvent): void {
    if (this.stopped || this.queued.has(deliveryId)) return;
    this.queued.add(deliveryId);
    let lane = this.lanes.get(subscriptionId);
    if (!lane) {
      lane = { subscriptionId, queue: [], active: 0, limit: this.options.concurrencyPerSubscription, pumping: false };
      this.lanes.set(subscriptionId, lane);
    }
    if (stored && lane.queue.length < HANDOFF_QUEUE_LIMIT) this.handed.set(deliveryId, stored);
    lane.queue.push(deliveryId);
    this.pump(lane);
  }

  /**
   * Starts as many of the lane's queued deliveries as it has room for, claimed together in one
   * store call: a backlog costs one claim transaction per batch, not one per delivery. The claim
   * waits for the end of this turn of the event loop, so that the answers and enqueues of one turn
   * share it.
   */
  private pump(lane: Lane): void {
    if (lane.pumping) return;
    lane.pumping = true;
    setImmediate(() => {
      lane.pumping = false;
      this.claimRoom(lane);
    });
  }

  private claimRoom(lane: Lane): void {
    const room = lane.limit - lane.active;
    if (this.stopped || room <= 0 || lane.queue.length === 0) return;
    const ids = lane.queue.splice(0, room);
    lane.active += ids.length;
    const claiming = this.claimAndAttempt(lane, ids)
      .catch((error: unknown) => this.logger.error({ err: error, deliveryIds: ids }, 'claiming deliveries failed'))
      .finally(() => this.inFlight.delete(claiming));
    this.inFlight.add(claiming);
  }

  private async claimAndAttempt(lane: Lane, ids: string[]): Promise<void> {
    let claimed: ClaimedDelivery[] = [];
    try {
      claimed = await this.store.claimDeliveries(ids, this.leaseMs(lane.subscriptionId));
    } finally {
      // Those not claimed (done, not yet due, or taken by another node) leave the lane at once.
      const taken = new Set(claimed.map((delivery) => delivery.id));
      for (const id of ids) {
        if (taken.has(id)) continue;
        this.release(lane);
        this.finished(lane, id);
      }
    }
    // Events not handed over are read in one query for the batch; if that fails, each attempt reads
    // its own (and records the failure as its attempt).
    const missing = claimed.filter((delivery) => !this.handed.has(delivery.id)).map((delivery) => delivery.eventId);
    const read = missing.length > 0 ? await this.store.getEvents(missing).catch(() => undefined) : new Map<string, StoredEvent>();
    for (const delivery of claimed) {
      // Claimed just as the worker was told to stop: attempted and recorded like any other (an
      // attempt started after the grace period is aborted at once and due again first thing).
      const stored = this.handed.get(delivery.id) ?? (read ? (read.get(delivery.eventId) ?? null) : undefined);
      // The lane's slot is given back as soon as the subscriber has answered: the limit is on
      // requests to the subscriber, and the attempt's record waits for the next group commit.
      let released = false;
      const release = () => {
        if (released) return;
        released = true;
        this.release(lane);
      };
      const run = this.attempt(delivery, stored, release)
        .then((record) => this.adapt(lane, record))
        .catch((error: unknown) => this.logger.error({ err: error, deliveryId: delivery.id }, 'delivery attempt failed unexpectedly'))
        .finally(() => {
          this.inFlight.delete(run);
          release();
          this.finished(lane, delivery.id);
        });
      this.inFlight.add(run);
    }
  }

  /** Additive increase, multiplicative decrease of the lane's limit (see Lane.limit); an attempt cut short by `stop` says nothing. */
  private adapt(lane: Lane, record: AttemptRecord): void {
    if (record.error === ABORTED_BY_SHUTDOWN) return;
    const succeeded = record.statusCode !== null && record.statusCode >= 200 && record.statusCode < 300;
    lane.limit = succeeded ? Math.min(this.options.concurrencyPerSubscription, lane.limit + 1) : Math.max(1, Math.floor(lane.limit / 2));
  }

  /** A slot of the lane is free: it goes to the next queued delivery. */
  private release(lane: Lane): void {
    lane.active -= 1;
    this.pump(lane);
  }

  /** A delivery left the worker (recorded, or not claimed); once the lane is empty, the backlog's next page is asked for. */
  private finished(lane: Lane, deliveryId: string): void {
    this.queued.delete(deliveryId);
    this.handed.delete(deliveryId);
    if (this.backlog && lane.queue.length === 0) this.wake();
  }

  private leaseMs(subscriptionId: string): number {
    const timeoutMs = this.subscriptions.get(subscriptionId)?.timeoutMs ?? 60_000;
    return timeoutMs + LEASE_MARGIN_MS;
  }

  /**
   * Looks for due deliveries now (another node stored some and has no worker of its own). A wake-up
   * during a poll makes one more poll after it, since that poll's query may have run before the
   * other node's commit.
   */
  wake(): void {
    if (this.polling) this.pollAgain = true;
    else void this.poll();
  }

  private poll(): Promise<void> {
    this.polling ??= this.pollOnce().finally(() => {
      this.polling = undefined;
      if (this.pollAgain) {
        this.pollAgain = false;
        void this.poll();
      }
    });
    return this.polling;
  }

  private async pollOnce(): Promise<void> {
    if (this.stopped) return;
    try {
      // Lanes that already hold a full queue are skipped, so one subscriber's backlog never fills a poll.
      const full = [...this.lanes.values()]
        .filter((lane) => lane.queue.length >= lane.limit)
        .map((lane) => lane.subscriptionId);
      const due = await this.store.listDueDeliveries(POLL_BATCH, full);
      // A full page means more is due (a backlog after a restart), and so may a lane skipped as full:
      // the next page is asked for as soon as a lane has worked through its queue, not at the next
      // tick of the poll interval.
      this.backlog = due.length === POLL_BATCH || full.length > 0;
      for (const delivery of due) this.enqueue(delivery.id, delivery.subscriptionId);
    } catch (error) {
      this.logger.error({ err: error }, 'polling for due deliveries failed');
    }
  }

  /**
   * One attempt, always recorded: an error of imgate's own (a store read, a subscription without a
   * secret) counts as a failed attempt and follows the retry schedule, instead of leaving the
   * delivery claimed until its lease runs out, again and again.
   */
  private async attempt(delivery: ClaimedDelivery, known?: StoredEvent | null, answered?: () => void): Promise<AttemptRecord> {
    const startedAt = Date.now();
    let stored = known;
    try {
      if (stored === undefined) stored = await this.store.getEvent(delivery.eventId);
      return await this.attemptDelivery(delivery, startedAt, stored, answered);
    } catch (error) {
      const message = `imgate could not attempt the delivery: ${(error as Error).message}`;
      this.logger.error({ err: error, deliveryId: delivery.id }, 'delivery attempt failed');
      const record = this.emptyAttempt(delivery.id, delivery.attempts + 1, startedAt, message);
      // An event that could not be read is not known to be a test: its retry reads it again, and fails for good then.
      const schedule = retryScheduleOf(this.subscriptions.get(delivery.subscriptionId)?.retrySchedule ?? [], stored);
      const resolution = retryOrDeadLetter(schedule, delivery.attempts + 1 - delivery.replayedAtAttempt, null, message);
      await this.record(delivery, record, resolution);
      return record;
    }
  }

  /** `stored`: the event (null: it is gone). `answered` is called once the POST is over, before the attempt is recorded. */
  private async attemptDelivery(delivery: ClaimedDelivery, startedAt: number, stored: StoredEvent | null, answered?: () => void): Promise<AttemptRecord> {
    const attemptNumber = delivery.attempts + 1;
    const sub = this.subscriptions.get(delivery.subscriptionId) ?? (await this.store.getSubscription(delivery.subscriptionId));
    if (!sub || !sub.enabled || !stored) {
      const reason = !stored ? 'the event was purged' : 'the subscription is disabled or deleted';
      const record = this.emptyAttempt(delivery.id, attemptNumber, startedAt, reason);
      await this.record(delivery, record, { status: 'dead', error: reason });
      return record;
    }
    const { url, contentType, body } = renderDelivery(sub, stored, this.options.showRaw);
    const headers = {
      'content-type': contentType,
      'user-agent': 'imgate',
      'x-imgate-delivery-id': delivery.id,
      ...signDelivery(sub, { messageId: delivery.eventId, timestamp: Math.floor(startedAt / 1000), body }),
    };
    const result = await this.post(url, headers, body, sub.timeoutMs);
    answered?.();
    this.metrics.deliveryAttempt(sub.id, attemptOutcome(result), result.latencyMs);
    const record: AttemptRecord = {
      deliveryId: delivery.id,
      attempt: attemptNumber,
      startedAt,
      latencyMs: result.latencyMs,
      statusCode: result.statusCode,
      responseBody: result.responseBody,
      error: result.aborted ? ABORTED_BY_SHUTDOWN : result.error,
    };
    const schedule = retryScheduleOf(sub.retrySchedule, stored);
    // Cut short by `stop`: the subscriber may or may not have it, so it is sent again, first thing
    // after the restart, rather than waiting for the lease to run out or for the next scheduled try
    // (unless it has no retries at all: a test delivery).
    const resolution: AttemptResolution = result.aborted
      ? schedule === TEST_RETRY_SCHEDULE
        ? { status: 'dead', error: notRetried(ABORTED_BY_SHUTDOWN, schedule) }
        : { status: 'pending', delayMs: 0, error: ABORTED_BY_SHUTDOWN }
      : await this.resolve(sub, delivery.id, schedule, attemptNumber - delivery.replayedAtAttempt, result);
    const recorded = await this.record(delivery, record, resolution);
    this.logger.info(
      {
        eventId: delivery.eventId,
        deliveryId: delivery.id,
        subscription: sub.id,
        attempt: attemptNumber,
        status: result.statusCode,
        outcome: recorded === 'recorded' ? resolution.status : 'lease_lost',
        latencyMs: result.latencyMs,
        error: record.error ?? undefined,
      },
      'delivery attempt',
    );
    return record;
  }

  /**
   * Records the attempt under the claim's lease and schedules the retry it calls for. A lease that
   * ran out and was taken over by another worker (this one stalled past the subscriber's timeout
   * plus the margin) leaves the delivery to its new holder: the attempt is logged, nothing more.
   */
  private async record(delivery: ClaimedDelivery, record: AttemptRecord, resolution: AttemptResolution): Promise<RecordOutcome> {
    const outcome = await this.recorder.record({ leaseToken: delivery.leaseToken, attempt: record, resolution });
    if (outcome === 'lease_lost') {
      this.logger.warn({ deliveryId: delivery.id, attempt: record.attempt }, 'delivery lease lost: another worker took the delivery over');
    } else if (resolution.status === 'pending') {
      this.scheduleRetry(delivery, resolution.delayMs);
    } else if (this.subscriptions.get(delivery.subscriptionId)?.ordering === 'conversation') {
      // The next event of its conversation may have been waiting for this one: look for it now.
      this.wake();
    }
    return outcome;
  }

  private async post(url: string, headers: Record<string, string>, body: Buffer, timeoutMs: number): Promise<PostResult> {
    const controller = new AbortController();
    if (this.aborting) controller.abort();
    this.posts.add(controller);
    try {
      return await postWebhook(url, headers, body, timeoutMs, controller.signal, this.dispatcher);
    } finally {
      this.posts.delete(controller);
    }
  }

  /** `sinceReplay`: attempts since the last replay, this one included (where `schedule` stands). */
  private async resolve(
    sub: SubscriptionRecord,
    deliveryId: string,
    schedule: readonly number[],
    sinceReplay: number,
    result: PostResult,
  ): Promise<AttemptResolution> {
    const status = result.statusCode;
    if (status !== null && status >= 200 && status < 300) return { status: 'succeeded' };
    if (status === 410) return this.resolveGone(sub, deliveryId);
    const error = result.error ?? `subscriber answered HTTP ${status}`;
    return retryOrDeadLetter(schedule, sinceReplay, parseRetryAfter(result.retryAfter, Date.now()), error);
  }

  /**
   * 410 Gone: the subscriber says it wants nothing more, so the subscription is disabled (Standard
   * Webhooks and Svix do the same), but only if it is still the one the attempt was made with. An
   * operator who moved it to a new URL while the old one was answering 410 would otherwise find
   * the new, healthy subscription disabled. A moved subscription gets the delivery at its new URL.
   * (A change landing between the re-read and the update below still goes unnoticed.)
   */
  private async resolveGone(sub: SubscriptionRecord, deliveryId: string): Promise<AttemptResolution> {
    const current = await this.store.getSubscription(sub.id);
    const log = { subscription: sub.id, deliveryId };
    if (current && current.url === sub.url && current.updatedAt === sub.updatedAt) {
      await this.store.setSubscriptionEnabled(sub.id, false);
      await this.subscriptions.load();
      this.logger.warn(log, 'subscriber answered 410 Gone: subscription disabled, delivery dead-lettered');
      return { status: 'dead', error: 'subscriber answered 410 Gone; subscription disabled' };
    }
    if (current?.enabled && current.url !== sub.url) {
      // The retry must not find the old URL in the registry, which may lag a change made on another node.
      await this.subscriptions.load();
      this.logger.warn(log, 'subscriber answered 410 Gone at a URL the subscription has since left: subscription kept, delivery retried at the new URL');
      return { status: 'pending', delayMs: 0, error: 'subscriber answered 410 Gone at the old URL; retrying at the new one' };
    }
    this.logger.warn(log, 'subscriber answered 410 Gone but the subscription changed meanwhile: subscription left as it is, delivery dead-lettered');
    return { status: 'dead', error: 'subscriber answered 410 Gone; the subscription changed meanwhile and was left as it is' };
  }

  private scheduleRetry(delivery: ClaimedDelivery, delay: number): void {
    if (delay > LOCAL_TIMER_LIMIT_MS || this.stopped) return;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      this.enqueue(delivery.id, delivery.subscriptionId);
    }, Math.max(0, delay));
    timer.unref();
    this.timers.add(timer);
  }

  private emptyAttempt(deliveryId: string, attempt: number, startedAt: number, error: string): AttemptRecord {
    return { deliveryId, attempt, startedAt, latencyMs: 0, statusCode: null, responseBody: null, error };
  }
}

/** The schedule a delivery of `stored` follows: the subscription's, or none for a test event. */
function retryScheduleOf(subscriptionSchedule: readonly number[], stored: StoredEvent | null | undefined): readonly number[] {
  return stored?.event.channel === TEST_CHANNEL ? TEST_RETRY_SCHEDULE : subscriptionSchedule;
}

/** A dead letter's error; a test delivery's says why it went there at once. */
function notRetried(error: string, schedule: readonly number[]): string {
  return schedule === TEST_RETRY_SCHEDULE ? `${error}; a test delivery is not retried` : error;
}

/** The next step after a failed attempt: another one when the schedule has it, else the dead letters. */
function retryOrDeadLetter(
  schedule: readonly number[],
  attemptNumber: number,
  retryAfterSeconds: number | null,
  error: string,
): AttemptResolution {
  const delay = calculateRetryDelay(schedule, attemptNumber, retryAfterSeconds);
  return delay === null ? { status: 'dead', error: notRetried(error, schedule) } : { status: 'pending', delayMs: delay, error };
}

function attemptOutcome(result: PostResult): AttemptOutcome {
  if (result.statusCode === null) return 'error';
  return result.statusCode >= 200 && result.statusCode < 300 ? 'succeeded' : 'failed';
}
