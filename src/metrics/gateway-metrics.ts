import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { IngestOutcome, OpenDeliveryCount } from '../store/store.ts';

/** What a delivery attempt came to: an answer in 2xx, another answer, or none (network, timeout, refused). */
export type AttemptOutcome = 'succeeded' | 'failed' | 'error';

/** What the gauges read when Prometheus scrapes: the store's open deliveries, the channels' connections. */
export interface MetricsSources {
  openDeliveries(): Promise<OpenDeliveryCount[]>;
  /** Channels with a long connection, and whether this node has it up. */
  connections(): { channel: string; up: boolean }[];
}

/**
 * The gateway's Prometheus metrics (docs/operations.md), in a registry of its own rather than
 * prom-client's global one, so that several gateways in one process (the tests) never share
 * counters. Labels are only ever channel and subscription ids, HTTP status codes and fixed words:
 * never message, user or conversation ids, whose number has no bound.
 */
export class GatewayMetrics {
  readonly registry = new Registry();
  private readonly inboundRequests: Counter<'channel' | 'status'>;
  private readonly eventsStored: Counter<'channel'>;
  private readonly eventsDuplicate: Counter<'channel'>;
  private readonly deliveryAttempts: Counter<'subscription' | 'outcome'>;
  private readonly attemptDuration: Histogram<'subscription'>;
  private readonly sends: Counter<'channel' | 'status'>;

  constructor(sources: MetricsSources) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    this.inboundRequests = new Counter({
      name: 'imgate_inbound_requests_total',
      help: 'Platform callbacks answered, by channel and HTTP status (channel "_unknown" for ids no channel has).',
      labelNames: ['channel', 'status'],
      registers,
    });
    this.eventsStored = new Counter({ name: 'imgate_events_stored_total', help: 'Inbound events stored.', labelNames: ['channel'], registers });
    this.eventsDuplicate = new Counter({
      name: 'imgate_events_duplicate_total',
      help: 'Inbound events already stored (a platform retry or a replayed callback), acknowledged and not stored again.',
      labelNames: ['channel'],
      registers,
    });
    this.deliveryAttempts = new Counter({
      name: 'imgate_delivery_attempts_total',
      help: 'Delivery attempts by subscription and outcome: succeeded (2xx), failed (another answer), error (no answer).',
      labelNames: ['subscription', 'outcome'],
      registers,
    });
    this.attemptDuration = new Histogram({
      name: 'imgate_delivery_attempt_duration_seconds',
      help: 'How long delivery attempts took, answered or not.',
      labelNames: ['subscription'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
    this.sends = new Counter({
      name: 'imgate_sends_total',
      help: 'Sends that reached a channel, by channel and the HTTP status answered.',
      labelNames: ['channel', 'status'],
      registers,
    });
    // One query fills both delivery gauges, made by whichever of them is collected first.
    let reading: Promise<void> | null = null;
    const readOpenDeliveries = () =>
      (reading ??= (async () => {
        // A store that cannot answer must not take the rest of /metrics down with it: the gauges keep their last values.
        const counts = await sources.openDeliveries().catch(() => null);
        if (counts === null) return;
        pending.reset();
        dead.reset();
        for (const { subscriptionId, status, count } of counts) (status === 'dead' ? dead : pending).inc({ subscription: subscriptionId }, count);
      })().finally(() => (reading = null)));
    const pending = new Gauge({
      name: 'imgate_deliveries_pending',
      help: 'Deliveries not yet made (pending or in flight), by subscription; read from the store, so the same on every node.',
      labelNames: ['subscription'],
      registers,
      collect: readOpenDeliveries,
    });
    const dead = new Gauge({
      name: 'imgate_deliveries_dead',
      help: 'Dead letters by subscription (until replayed or purged); read from the store.',
      labelNames: ['subscription'],
      registers,
      collect: readOpenDeliveries,
    });
    const connected = new Gauge({
      name: 'imgate_long_connection_up',
      help: "1 while this node holds the channel's long connection and it is up, 0 otherwise.",
      labelNames: ['channel'],
      registers,
      collect() {
        for (const { channel, up } of sources.connections()) connected.set({ channel }, up ? 1 : 0);
      },
    });
  }

  inboundRequest(channel: string, status: number): void {
    this.inboundRequests.inc({ channel, status: String(status) });
  }

  ingested(channel: string, outcomes: IngestOutcome[]): void {
    let stored = 0;
    let duplicate = 0;
    for (const outcome of outcomes) {
      if (outcome.status === 'stored') stored += 1;
      else duplicate += 1;
    }
    if (stored > 0) this.eventsStored.inc({ channel }, stored);
    if (duplicate > 0) this.eventsDuplicate.inc({ channel }, duplicate);
  }

  deliveryAttempt(subscription: string, outcome: AttemptOutcome, latencyMs: number): void {
    this.deliveryAttempts.inc({ subscription, outcome });
    this.attemptDuration.observe({ subscription }, latencyMs / 1000);
  }

  send(channel: string, status: number): void {
    this.sends.inc({ channel, status: String(status) });
  }
}
