import { join } from 'node:path';
import { freePort, HOST, startImgate, startListeningChild, stopChild, tempDir } from './children.ts';
import { countSqliteEvents, imgateConfig, SECRET, subscriberCount, type Engine } from './engines.ts';
import { envNumber, measure, signPool, type RunResult, type SignedRequest } from './load.ts';
import { checkStoringRun, cores, cpuPer10k, fmt, ms, printTable } from './report.ts';

/**
 * Phase 1, ingest: the same load of signed callbacks against the bare node:http server, the plain
 * fastify + SQLite receiver, and imgate on each engine with the http and connections roles only (no
 * delivery worker: the deliveries wait). Then, per engine, the drain: a node with only the delivery
 * role sends the backlog that ingest left to one fast subscriber for DRAIN_SECONDS.
 */

export const DRAIN_SECONDS = envNumber('BENCH_DRAIN_SECONDS', 15);
const PATH = '/hooks/bench';

interface Target {
  name: string;
  run: RunResult;
  /** Null for the bare server, which stores nothing. */
  durability: string | null;
}

interface Drain {
  engine: string;
  backlog: number;
  delivered: number;
  seconds: number;
}

async function bare(pool: SignedRequest[]): Promise<Target> {
  const server = await startListeningChild('bench/bare-server.ts');
  const { run } = await measure('bare node:http', server.url, PATH, pool, server.child.pid!, true);
  await stopChild(server.child);
  return { name: 'bare node:http', run, durability: null };
}

async function plain(pool: SignedRequest[]): Promise<Target> {
  const name = 'plain fastify + SQLite';
  const database = join(tempDir, 'plain.db');
  signPool(pool, SECRET);
  const server = await startListeningChild('bench/plain-receiver.ts', [database, SECRET]);
  const { warmup, run } = await measure(name, server.url, PATH, pool, server.child.pid!);
  const exitCode = await stopChild(server.child);
  return { name, run, durability: checkStoringRun(name, [warmup, run], countSqliteEvents(database), exitCode) };
}

async function imgate(engine: Engine, pool: SignedRequest[], subscriberUrl: string): Promise<{ target: Target; drain: Drain }> {
  const name = `imgate, ${engine.name}`;
  const store = await engine.store('ingest');
  const port = await freePort();
  const url = `http://${HOST}:${port}`;
  signPool(pool, SECRET);
  const ingestNode = await startImgate(imgateConfig(`${engine.name}-ingest`, store, port, ['http', 'connections'], subscriberUrl), url);
  const { warmup, run } = await measure(name, url, PATH, pool, ingestNode.pid!);
  const exitCode = await stopChild(ingestNode);
  const stored = await store.countEvents();
  const durability = checkStoringRun(name, [warmup, run], stored, exitCode);

  const before = await subscriberCount(subscriberUrl);
  process.stdout.write(`${name}, delivery node: draining for ${DRAIN_SECONDS} s…\n`);
  const deliveryNode = await startImgate(imgateConfig(`${engine.name}-delivery`, store, port, ['delivery'], subscriberUrl), url);
  const started = performance.now();
  await new Promise((resolve) => setTimeout(resolve, DRAIN_SECONDS * 1000));
  const delivered = (await subscriberCount(subscriberUrl)) - before;
  const seconds = (performance.now() - started) / 1000;
  await stopChild(deliveryNode);
  return { target: { name, run, durability }, drain: { engine: engine.name, backlog: stored, delivered, seconds } };
}

/** Runs phase 1; answers the function that prints its tables. */
export async function benchIngest(engines: Engine[], pool: SignedRequest[]): Promise<() => void> {
  const subscriber = await startListeningChild('bench/subscriber.ts');
  const targets = [await bare(pool), await plain(pool)];
  const drains: Drain[] = [];
  for (const engine of engines) {
    const { target, drain } = await imgate(engine, pool, subscriber.url);
    targets.push(target);
    drains.push(drain);
  }
  await stopChild(subscriber.child);

  return () => {
    const bareRps = targets[0]!.run.rps;
    printTable(
      'ingest: signed callbacks accepted (2xx = durably stored, except the bare server), no delivery running',
      ['target', '2xx/s', 'p50 ms', 'p99 ms', 'non-2xx', 'errors', 'server cores', 'load gen', 'other load', 'server CPU-s/10k', 'vs bare'],
      targets.map(({ name, run: r }) => [
        name,
        fmt(r.rps),
        ms(r.p50),
        ms(r.p99),
        fmt(r.non2xx),
        fmt(r.errors),
        cores(r.serverCores),
        cores(r.loadCores),
        cores(r.otherCores),
        cpuPer10k(r),
        (r.rps / bareRps).toFixed(2),
      ]),
    );
    // On PostgreSQL the database server's own processes are the "other load".
    if (targets.some(({ name, run }) => !name.includes('PostgreSQL') && (run.otherCores ?? 0) > 0.1)) {
      process.stdout.write('note: other processes used CPU during a window ("other load"): the figures understate this machine.\n');
    }
    for (const { durability } of targets) if (durability !== null) process.stdout.write(`${durability}\n`);

    printTable(
      `drain: a delivery-only node sending the backlog the ingest left to one fast subscriber, ${DRAIN_SECONDS} s`,
      ['engine', 'backlog', 'delivered', 'seconds', 'delivered/s', 'left'],
      drains.map((d) => [d.engine, fmt(d.backlog), fmt(d.delivered), fmt(d.seconds, 1), fmt(d.delivered / d.seconds), fmt(Math.max(0, d.backlog - d.delivered))]),
    );
  };
}
