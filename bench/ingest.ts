/**
 * `npm run bench`: accepted signed inbound events per second, imgate (SQLite, WAL +
 * synchronous=FULL, group commit) beside a bare node:http server that only reads the body
 * (the ceiling of this machine). Each server is its own child process; autocannon runs here.
 * See docs/benchmarks.md.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import Database from 'better-sqlite3';
import { stringify } from 'yaml';
import { parseConfig } from '../src/config/load.ts';
import type { WechatPadChannelConfig } from '../src/platforms/wechat-pad/config.ts';
import { buildWechatPadSample } from '../src/platforms/wechat-pad/simulate.ts';

const SECONDS = envNumber('BENCH_SECONDS', 10);
const WARMUP_SECONDS = envNumber('BENCH_WARMUP_SECONDS', 2);
const CONNECTIONS = envNumber('BENCH_CONNECTIONS', 50);
/** Signed callbacks made before any load: enough for imgate's warm-up + run at 50k requests/s. */
const POOL_SIZE = envNumber('BENCH_POOL', (WARMUP_SECONDS + SECONDS + 1) * 50_000);
const MAX_NON_2XX_SHARE = 0.01;
/** Extra node flags for the imgate child, for profiling: e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`. */
const IMGATE_NODE_ARGS = (process.env.BENCH_IMGATE_NODE_ARGS ?? '').split(' ').filter(Boolean);
const HOST = '127.0.0.1';
const ROOT = fileURLToPath(new URL('..', import.meta.url));

interface SignedRequest {
  headers: Record<string, string>;
  body: Buffer;
}

interface RunResult {
  /** 2xx answers received within the timed window, per second. */
  rps: number;
  /** Every 2xx answer, including those to requests in flight when the window closed. */
  ok: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  /** Requests sent and never answered (0 unless connections failed). */
  unanswered: number;
  p50: number;
  p99: number;
  /** CPU the server child used during the window, in cores (null off Linux). */
  serverCores: number | null;
  /** CPU this process (the load generator) used during the window, in cores. */
  loadCores: number;
  /** CPU the rest of the machine used during the window, in cores (null off Linux). */
  otherCores: number | null;
}

if (WARMUP_SECONDS + SECONDS > 240) throw new Error('BENCH_WARMUP_SECONDS + BENCH_SECONDS must stay under 240: signed timestamps expire after 300 s');

const children = new Set<ChildProcess>();
const stopping = new Set<ChildProcess>();
const tempDir = mkdtempSync(join(tmpdir(), 'imgate-bench-'));
process.on('exit', () => {
  for (const child of children) child.kill('SIGKILL');
  rmSync(tempDir, { recursive: true, force: true });
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => process.exit(130));

function envNumber(name: string, fallback: number): number {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number`);
  return value;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer().once('error', reject);
    server.listen(0, HOST, () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

function spawnChild(args: string[]): ChildProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  children.add(child);
  child.once('exit', (code, signal) => {
    children.delete(child);
    if (stopping.has(child)) return;
    process.stderr.write(`bench failed: "node ${args.join(' ')}" exited unexpectedly (${signal ?? code})\n`);
    process.exit(1);
  });
  return child;
}

async function stopChild(child: ChildProcess): Promise<number | null> {
  stopping.add(child);
  if (child.exitCode !== null) return child.exitCode;
  const exited = once(child, 'exit') as Promise<[number | null]>;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  const [code] = await exited;
  clearTimeout(timer);
  return code;
}

async function startBare(): Promise<{ child: ChildProcess; url: string }> {
  const child = spawnChild(['bench/bare-server.ts']);
  const [chunk] = (await Promise.race([
    once(child.stdout!, 'data'),
    once(child, 'exit').then(() => Promise.reject(new Error('the bare server exited before listening'))),
  ])) as [Buffer];
  const { port } = JSON.parse(chunk.toString()) as { port: number };
  return { child, url: `http://${HOST}:${port}` };
}

/** `imgate start` on a temp config; with `log.level: warn` nothing is printed, so /healthz says when it is up. */
async function startImgate(configPath: string, url: string): Promise<ChildProcess> {
  const child = spawnChild([...IMGATE_NODE_ARGS, 'src/cli/main.ts', 'start', '--config', configPath]);
  child.stdout!.pipe(process.stdout);
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    try {
      if ((await fetch(`${url}/healthz`)).ok) return child;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error('imgate did not answer /healthz within 30 s');
}

/** Distinct, correctly signed wechat-pad callbacks (unique NewMsgId, fresh timestamp): signing stays out of the timed loop. */
function buildPool(channel: WechatPadChannelConfig): SignedRequest[] {
  const pool: SignedRequest[] = [];
  for (let i = 0; i < POOL_SIZE; i++) {
    const sample = buildWechatPadSample(channel, { format: 'pad', text: `bench message ${i}` });
    pool.push({ headers: sample.headers, body: Buffer.from(sample.body) });
  }
  return pool;
}

interface CpuSnapshot {
  /** Busy CPU ms of the whole machine. */
  machine: number;
  /** CPU ms of this process (the load generator). */
  load: number;
  /** CPU ms of the server child (Linux /proc, USER_HZ 100), null elsewhere. */
  server: number | null;
}

function cpuSnapshot(pid: number): CpuSnapshot {
  const machine = cpus().reduce((sum, { times: t }) => sum + t.user + t.nice + t.sys + t.irq, 0);
  const self = process.cpuUsage();
  let server: number | null = null;
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    server = (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    // not Linux: no per-process figure for the child
  }
  return { machine, load: (self.user + self.system) / 1000, server };
}

/** The cores the server, the load generator and everything else used between two snapshots. */
function cpuShares(before: CpuSnapshot, after: CpuSnapshot, windowMs: number): Pick<RunResult, 'serverCores' | 'loadCores' | 'otherCores'> {
  const loadMs = after.load - before.load;
  const serverMs = after.server === null || before.server === null ? null : after.server - before.server;
  return {
    serverCores: serverMs === null ? null : serverMs / windowMs,
    loadCores: loadMs / windowMs,
    otherCores: serverMs === null ? null : Math.max(0, after.machine - before.machine - loadMs - serverMs) / windowMs,
  };
}

/**
 * One timed load. Each target walks the pool from its start, so both get the same requests and
 * imgate never sees a duplicate (the bare server starts over if it outruns the pool). When the window closes every connection stops after its answer
 * in flight (autocannon ends a client that has made `responseMax` requests), so every request
 * sent is answered and the 2xx count can be checked against the store.
 */
function load(url: string, path: string, seconds: number, pool: SignedRequest[], cursor: { next: number; cycle: boolean }, pid: number): Promise<RunResult> {
  const clients: autocannon.Client[] = [];
  let inWindow = true;
  let okInWindow = 0;
  const started = performance.now();
  const cpuBefore = cpuSnapshot(pid);
  let cpuAfter = cpuBefore;
  let windowMs = seconds * 1000;
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url: `${url}${path}`,
        connections: CONNECTIONS,
        pipelining: 1,
        duration: seconds + 30, // a backstop only: the window below ends the run
        requests: [
          {
            method: 'POST',
            setupRequest: (request) => {
              if (cursor.next === pool.length && cursor.cycle) cursor.next = 0;
              const signed = pool[cursor.next++];
              if (!signed) throw new Error(`the pool of ${pool.length} signed requests ran out: raise BENCH_POOL`);
              return { ...request, headers: { ...signed.headers }, body: signed.body };
            },
          },
        ],
        setupClient: (client) => clients.push(client),
      },
      (error: unknown, result: autocannon.Result) => {
        if (error) return reject(error instanceof Error ? error : new Error(String(error)));
        const answered = result['1xx'] + result['2xx'] + result['3xx'] + result['4xx'] + result['5xx'];
        resolve({
          rps: okInWindow / (windowMs / 1000),
          ok: result['2xx'],
          non2xx: result.non2xx,
          errors: result.errors,
          timeouts: result.timeouts,
          unanswered: Math.max(0, result.requests.sent - answered),
          p50: result.latency.p50,
          p99: result.latency.p99,
          ...cpuShares(cpuBefore, cpuAfter, windowMs),
        });
      },
    );
    instance.on('response', (_client, statusCode) => {
      if (inWindow && statusCode >= 200 && statusCode < 300) okInWindow++;
    });
    setTimeout(() => {
      inWindow = false;
      windowMs = performance.now() - started;
      cpuAfter = cpuSnapshot(pid);
      for (const client of clients) {
        const internals = client as unknown as { reqsMade: number; responseMax?: number };
        internals.responseMax = Math.max(1, internals.reqsMade);
      }
    }, seconds * 1000);
  });
}

async function measure(name: string, url: string, path: string, pool: SignedRequest[], pid: number): Promise<{ warmup: RunResult; run: RunResult }> {
  // The bare server keeps nothing, so it may go round the pool again; imgate would answer duplicates without storing them.
  const cursor = { next: 0, cycle: name.startsWith('bare') };
  process.stdout.write(`${name}: ${WARMUP_SECONDS} s warm-up, ${SECONDS} s measured…\n`);
  const warmup = await load(url, path, WARMUP_SECONDS, pool, cursor, pid);
  const run = await load(url, path, SECONDS, pool, cursor, pid);
  return { warmup, run };
}

function countEvents(dbPath: string): number {
  const db = new Database(dbPath, { readonly: true, fileMustExist: true });
  try {
    return (db.prepare('SELECT COUNT(*) AS n FROM events').get() as { n: number }).n;
  } finally {
    db.close();
  }
}

const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
/** autocannon keeps latencies in whole milliseconds. */
const ms = (n: number) => (n < 1 ? '<1' : fmt(n));
const cores = (n: number | null) => (n === null ? 'n/a' : `${n.toFixed(2)} cores`);

async function main(): Promise<number> {
  const cpu = cpus();
  process.stdout.write(
    `imgate ingest benchmark: node ${process.version}, ${cpu[0]?.model ?? 'unknown CPU'}, ${cpu.length} cores\n` +
      `${CONNECTIONS} connections, ${WARMUP_SECONDS} s warm-up + ${SECONDS} s per target, ${HOST} only\n`,
  );

  const port = await freePort();
  const dbPath = join(tempDir, 'bench.db');
  const document = {
    server: { host: HOST, port },
    storage: { url: `sqlite:${dbPath}` },
    log: { level: 'warn' },
    channels: [{ id: 'bench', platform: 'wechat-pad', auth: 'signature', secret: 'bench-secret-0123456789abcdef' }],
    subscriptions: [],
  };
  const channel = parseConfig(document, 'bench').channels[0] as WechatPadChannelConfig;
  const configPath = join(tempDir, 'imgate.yaml');
  writeFileSync(configPath, stringify(document));

  const poolStarted = performance.now();
  const pool = buildPool(channel);
  const path = `/hooks/${channel.id}`;
  process.stdout.write(
    `pool: ${fmt(pool.length)} distinct signed wechat-pad callbacks (~${pool[0]!.body.length} B) in ${fmt((performance.now() - poolStarted) / 1000, 1)} s\n`,
  );

  // imgate first: the pool's signed timestamps are freshest.
  const imgateUrl = `http://${HOST}:${port}`;
  const imgate = await startImgate(configPath, imgateUrl);
  const imgateResult = await measure('imgate', imgateUrl, path, pool, imgate.pid!);
  const exitCode = await stopChild(imgate);
  const stored = countEvents(dbPath);

  const bare = await startBare();
  const bareResult = await measure('bare node:http', bare.url, path, pool, bare.child.pid!);
  await stopChild(bare.child);

  const rows: [string, RunResult][] = [
    ['bare node:http', bareResult.run],
    ['imgate (SQLite)', imgateResult.run],
  ];
  const header = ['target', '2xx req/s', 'p50 ms', 'p99 ms', '2xx', 'non-2xx', 'errors', 'server', 'load gen', 'other load'];
  const cells = [
    header,
    ...rows.map(([name, r]) => [name, fmt(r.rps), ms(r.p50), ms(r.p99), fmt(r.ok), fmt(r.non2xx), fmt(r.errors), cores(r.serverCores), cores(r.loadCores), cores(r.otherCores)]),
  ];
  const widths = header.map((_, i) => Math.max(...cells.map((row) => row[i]!.length)));
  process.stdout.write('\n');
  for (const row of cells) {
    process.stdout.write(`${row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ')}\n`);
  }
  if (rows.some(([, r]) => (r.otherCores ?? 0) > 0.1)) {
    process.stdout.write('\nnote: other processes used CPU during a window ("other load"): the figures understate this machine.\n');
  }
  const ratio = imgateResult.run.rps / bareResult.run.rps;
  process.stdout.write(`\nratio imgate/bare: ${ratio.toFixed(2)} (target >= 0.50${ratio >= 0.5 ? ', met' : ', NOT met'})\n`);

  const acknowledged = imgateResult.warmup.ok + imgateResult.run.ok;
  process.stdout.write(
    `durability: ${fmt(stored)} events in SQLite, ${fmt(acknowledged)} acknowledged with 2xx (warm-up + run)` +
      `${stored === acknowledged ? ' — match' : ' — MISMATCH'}\n`,
  );

  const failures: string[] = [];
  const all = [imgateResult.warmup, imgateResult.run];
  const answered = all.reduce((sum, r) => sum + r.ok + r.non2xx, 0);
  const bad = all.reduce((sum, r) => sum + r.non2xx + r.errors, 0);
  if (bad > MAX_NON_2XX_SHARE * answered) failures.push(`imgate answered non-2xx or failed on ${fmt(bad)} of ${fmt(answered)} requests (> 1 %)`);
  if (stored !== acknowledged) failures.push(`${fmt(stored)} events stored but ${fmt(acknowledged)} acknowledged`);
  const unanswered = all.reduce((sum, r) => sum + r.unanswered, 0);
  if (unanswered > 0) failures.push(`${fmt(unanswered)} requests to imgate were never answered`);
  if (exitCode !== 0) failures.push(`imgate exited with ${exitCode} on SIGTERM`);
  for (const failure of failures) process.stderr.write(`bench failed: ${failure}\n`);
  return failures.length > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
