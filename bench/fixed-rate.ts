import { Pool } from 'undici';
import { freePort, HOST, startImgate, startListeningChild, stopChild } from './children.ts';
import { ALL_ROLES, imgateConfig, SECRET, subscriberCount, type Engine } from './engines.ts';
import { CONNECTIONS, envNumber, signPool, type SignedRequest } from './load.ts';
import { checkStoringRun, fmt, printTable, quantile } from './report.ts';

/**
 * Phase 2, fixed rate: callbacks sent at RATE a second to imgate with all roles (http + delivery)
 * on a fresh store, one fast subscriber recording when each event arrives: RATE_WARMUP_SECONDS of
 * warm-up (a cold node queues the first seconds' callbacks for up to a second), then RATE_SECONDS
 * measured. For each callback acknowledged in the measured window, the time from the bench seeing
 * its 2xx to the subscriber receiving the event, matched on the NewMsgId (the event's
 * `message.platformId`).
 *
 * Times on both sides are `performance.timeOrigin + performance.now()` (see bench/subscriber.ts).
 * A delivery may reach the subscriber before the ack reaches the bench: the node hands a stored
 * event to its worker at once, so a latency can be slightly negative.
 */

export const RATE = envNumber('BENCH_RATE', 1000);
export const RATE_SECONDS = envNumber('BENCH_RATE_SECONDS', 30);
export const RATE_WARMUP_SECONDS = envNumber('BENCH_RATE_WARMUP_SECONDS', 5);
/** How long after the window the bench waits for the last deliveries before it counts what is missing. */
const GRACE_SECONDS = envNumber('BENCH_RATE_GRACE_SECONDS', 10);
const WARMUP_REQUESTS = Math.round(RATE * RATE_WARMUP_SECONDS);
const RUN_REQUESTS = Math.round(RATE * RATE_SECONDS);
const PATH = '/hooks/bench';

const wallNow = (): number => performance.timeOrigin + performance.now();
const sleep = (msToWait: number) => new Promise((resolve) => setTimeout(resolve, msToWait));

interface Paced {
  sent: number;
  ok: number;
  non2xx: number;
  errors: number;
  /** Wall time the window ended (the last callback was sent). */
  windowEnd: number;
  /** Acknowledged callbacks: NewMsgId → wall time of the 2xx. */
  acks: Map<string, number>;
  /** Send → 2xx, ms. */
  ackLatencies: number[];
}

/**
 * An open-loop load: the i-th callback is sent at i / RATE seconds whatever the answers do (a
 * closed loop would slow down with the server and hide its queueing). Up to CONNECTIONS requests
 * are on the wire at once; undici queues the rest. The loop ends after `requests.length` sends,
 * which the schedule reaches after `requests.length / RATE` seconds; each request gives up after 30 s.
 */
async function paced(url: string, requests: SignedRequest[]): Promise<Paced> {
  const client = new Pool(url, { connections: CONNECTIONS, headersTimeout: 30_000, bodyTimeout: 30_000 });
  const result: Paced = { sent: 0, ok: 0, non2xx: 0, errors: 0, windowEnd: 0, acks: new Map(), ackLatencies: [] };
  const send = async (signed: SignedRequest): Promise<void> => {
    const sentAt = wallNow();
    try {
      const { statusCode, body } = await client.request({ path: PATH, method: 'POST', headers: signed.headers, body: signed.body });
      const ackedAt = wallNow();
      await body.dump();
      if (statusCode < 200 || statusCode >= 300) {
        result.non2xx += 1;
        return;
      }
      result.ok += 1;
      result.acks.set(signed.platformId, ackedAt);
      result.ackLatencies.push(ackedAt - sentAt);
    } catch {
      result.errors += 1;
    }
  };
  const inFlight: Promise<void>[] = [];
  const started = performance.now();
  while (result.sent < requests.length) {
    const due = Math.min(requests.length, Math.floor(((performance.now() - started) / 1000) * RATE) + 1);
    for (; result.sent < due; result.sent++) inFlight.push(send(requests[result.sent]!));
    await sleep(1);
  }
  result.windowEnd = wallNow();
  await Promise.all(inFlight);
  await client.close();
  return result;
}

interface RateResult {
  engine: string;
  paced: Paced;
  /** Ack → subscriber, ms, for the acknowledged callbacks delivered by the end of the grace time. */
  deliveryLatencies: number[];
  deliveredInWindow: number;
  deliveredInGrace: number;
  duplicates: number;
}

async function rateEngine(engine: Engine, pool: SignedRequest[]): Promise<RateResult> {
  const name = `imgate, ${engine.name}, ${fmt(RATE)}/s`;
  const store = await engine.store('rate');
  const subscriber = await startListeningChild('bench/subscriber.ts', ['--record']);
  const port = await freePort();
  const url = `http://${HOST}:${port}`;
  const node = await startImgate(imgateConfig(`${engine.name}-rate`, store, port, ALL_ROLES, subscriber.url), url);
  process.stdout.write(`${name}: ${RATE_WARMUP_SECONDS} s warm-up, ${RATE_SECONDS} s measured at a fixed rate, all roles…\n`);
  signPool(pool, SECRET, WARMUP_REQUESTS + RUN_REQUESTS);
  const warmup = await paced(url, pool.slice(0, WARMUP_REQUESTS));
  const result = await paced(url, pool.slice(WARMUP_REQUESTS, WARMUP_REQUESTS + RUN_REQUESTS));

  // Bounded: at most GRACE_SECONDS of polling for the deliveries still on their way.
  const graceEnd = performance.now() + GRACE_SECONDS * 1000;
  while (performance.now() < graceEnd && (await subscriberCount(subscriber.url)) < warmup.ok + result.ok) await sleep(100);
  const record = (await (await fetch(`${subscriber.url}/record`)).json()) as { duplicates: number; arrivals: [string, number][] };
  const exitCode = await stopChild(node);
  await stopChild(subscriber.child);
  process.stdout.write(`${checkStoringRun(name, [warmup, result].map((run) => ({ ...run, unanswered: 0 })), await store.countEvents(), exitCode)}\n`);

  const arrivals = new Map(record.arrivals);
  const deliveryLatencies: number[] = [];
  let deliveredInWindow = 0;
  for (const [platformId, ackedAt] of result.acks) {
    const arrivedAt = arrivals.get(platformId);
    if (arrivedAt === undefined) continue;
    deliveryLatencies.push(arrivedAt - ackedAt);
    if (arrivedAt <= result.windowEnd) deliveredInWindow += 1;
  }
  return { engine: engine.name, paced: result, deliveryLatencies, deliveredInWindow, deliveredInGrace: deliveryLatencies.length, duplicates: record.duplicates };
}

/** Runs phase 2 on each engine; answers the function that prints its table. */
export async function benchFixedRate(engines: Engine[], pool: SignedRequest[]): Promise<() => void> {
  const needed = WARMUP_REQUESTS + RUN_REQUESTS;
  if (needed > pool.length) throw new Error(`BENCH_RATE × (BENCH_RATE_WARMUP_SECONDS + BENCH_RATE_SECONDS) = ${needed} exceeds the pool (${pool.length}): raise BENCH_POOL`);
  const results: RateResult[] = [];
  for (const engine of engines) results.push(await rateEngine(engine, pool));
  const share = (n: number, of: number) => (of === 0 ? 'n/a' : `${((n / of) * 100).toFixed(1)} %`);
  const latency = (values: number[], q: number) => (values.length === 0 ? 'n/a' : quantile(values, q).toFixed(1));
  return () =>
    printTable(
      `fixed rate: ${fmt(RATE)} callbacks/s for ${RATE_SECONDS} s to imgate with all roles, one fast subscriber (latencies in ms)`,
      ['engine', 'sent', '2xx', 'non-2xx+err', 'ack p50', 'ack p99', 'ack→sub p50', 'ack→sub p99', 'delivered in window', `by +${GRACE_SECONDS} s`, 'dup'],
      results.map((r) => [
        r.engine,
        fmt(r.paced.sent),
        fmt(r.paced.ok),
        fmt(r.paced.non2xx + r.paced.errors),
        latency(r.paced.ackLatencies, 0.5),
        latency(r.paced.ackLatencies, 0.99),
        latency(r.deliveryLatencies, 0.5),
        latency(r.deliveryLatencies, 0.99),
        share(r.deliveredInWindow, r.paced.ok),
        share(r.deliveredInGrace, r.paced.ok),
        fmt(r.duplicates),
      ]),
    );
}
