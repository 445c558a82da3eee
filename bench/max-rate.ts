import { freePort, HOST, peakRssMiB, startImgate, startListeningChild, stopChild } from './children.ts';
import { ALL_ROLES, imgateConfig, SECRET, subscriberCount, type Engine } from './engines.ts';
import { load, SECONDS, signPool, WARMUP_SECONDS, type RunResult, type SignedRequest } from './load.ts';
import { checkStoringRun, cores, cpuPer10k, fmt, ms, printTable } from './report.ts';

/**
 * Phase 3, maximum rate with delivery on: the ingest load (warm-up, then the measured window)
 * against imgate with all roles on a fresh store, one fast subscriber. Callbacks accepted and events
 * delivered per second during the window, from the subscriber's count at its start and end; and
 * the peak resident memory of the imgate process over the whole run.
 */

interface MaxResult {
  engine: string;
  run: RunResult;
  /** Subscriber count at the start and at the end of the measured window. */
  atStart: number;
  atEnd: number;
  /** Acknowledged but not yet delivered at the end of the window. */
  backlog: number;
  peakRss: number | null;
}

async function maxEngine(engine: Engine, pool: SignedRequest[]): Promise<MaxResult> {
  const name = `imgate, ${engine.name}, all roles`;
  const store = await engine.store('max');
  const subscriber = await startListeningChild('bench/subscriber.ts');
  const port = await freePort();
  const url = `http://${HOST}:${port}`;
  const node = await startImgate(imgateConfig(`${engine.name}-max`, store, port, ALL_ROLES, subscriber.url), url);
  process.stdout.write(`${name}: ${WARMUP_SECONDS} s warm-up, ${SECONDS} s measured at maximum load…\n`);
  signPool(pool, SECRET);
  const cursor = { next: 0, cycle: false };
  const warmup = await load(url, '/hooks/bench', WARMUP_SECONDS, pool, cursor, node.pid!);
  const atStart = await subscriberCount(subscriber.url);
  let atEnd: Promise<number> = Promise.resolve(Number.NaN);
  const run = await load(url, '/hooks/bench', SECONDS, pool, cursor, node.pid!, () => {
    atEnd = subscriberCount(subscriber.url);
  });
  const end = await atEnd;
  // VmHWM is the peak over the process's life: the warm-up, the window and the answers after it.
  const peakRss = peakRssMiB(node.pid!);
  const exitCode = await stopChild(node);
  await stopChild(subscriber.child);
  process.stdout.write(`${checkStoringRun(name, [warmup, run], await store.countEvents(), exitCode)}\n`);
  return { engine: engine.name, run, atStart, atEnd: end, backlog: warmup.ok + run.okInWindow - end, peakRss };
}

/** Runs phase 3 on each engine; answers the function that prints its table. */
export async function benchMaxRate(engines: Engine[], pool: SignedRequest[]): Promise<() => void> {
  const results: MaxResult[] = [];
  for (const engine of engines) results.push(await maxEngine(engine, pool));
  return () =>
    printTable(
      `maximum rate with delivery on: imgate with all roles, one fast subscriber, ${SECONDS} s window`,
      ['engine', 'accepted/s', 'p50 ms', 'p99 ms', 'delivered/s', 'subscriber start→end', 'backlog at end', 'server cores', 'other load', 'server CPU-s/10k', 'peak RSS MiB'],
      results.map((r) => [
        r.engine,
        fmt(r.run.rps),
        ms(r.run.p50),
        ms(r.run.p99),
        fmt((r.atEnd - r.atStart) / r.run.seconds),
        `${fmt(r.atStart)}→${fmt(r.atEnd)}`,
        fmt(r.backlog),
        cores(r.run.serverCores),
        cores(r.run.otherCores),
        cpuPer10k(r.run),
        r.peakRss === null ? 'n/a' : fmt(r.peakRss),
      ]),
    );
}
