import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import autocannon from 'autocannon';
import type { WechatPadChannelConfig } from '../src/platforms/wechat-pad/config.ts';
import { buildWechatPadSample } from '../src/platforms/wechat-pad/simulate.ts';

/** One timed load of signed callbacks with autocannon, and the CPU each side used. */

export const SECONDS = envNumber('BENCH_SECONDS', 10);
export const WARMUP_SECONDS = envNumber('BENCH_WARMUP_SECONDS', 2);
export const CONNECTIONS = envNumber('BENCH_CONNECTIONS', 50);
/** Signed callbacks made before any load: enough for every imgate target's warm-up + run at 50k requests/s. */
const POOL_SIZE = envNumber('BENCH_POOL', (WARMUP_SECONDS + SECONDS + 1) * 50_000);

export interface SignedRequest {
  headers: Record<string, string>;
  body: Buffer;
  /** The callback's `NewMsgId`: the unified event's `message.platformId`, to match a delivery to its callback. */
  platformId: string;
}

export interface RunResult {
  /** 2xx answers received within the timed window, per second. */
  rps: number;
  /** 2xx answers received within the timed window. */
  okInWindow: number;
  /** The timed window's length. */
  seconds: number;
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

export function envNumber(name: string, fallback: number): number {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number`);
  return value;
}

/** Distinct, correctly signed wechat-pad callbacks (unique NewMsgId, fresh timestamp): signing stays out of the timed loop. */
export function buildPool(channel: WechatPadChannelConfig, size = POOL_SIZE): SignedRequest[] {
  const pool: SignedRequest[] = [];
  for (let i = 0; i < size; i++) {
    const sample = buildWechatPadSample(channel, { format: 'pad', text: `bench message ${i}` });
    const platformId = /"NewMsgId":(\d+)/.exec(sample.body)?.[1];
    if (platformId === undefined) throw new Error('the wechat-pad sample has no NewMsgId');
    pool.push({ headers: sample.headers, body: Buffer.from(sample.body), platformId });
  }
  return pool;
}

/**
 * Signs the first `count` callbacks again with the current time, before each target: the receivers
 * accept a timestamp for 300 s and one run lasts longer than that. Each target has a store of its
 * own, so the same bodies (and NewMsgIds) may be sent to every one of them.
 */
export function signPool(pool: SignedRequest[], secret: string, count = pool.length): void {
  const timestamp = String(Math.floor(Date.now() / 1000));
  for (let i = 0; i < Math.min(count, pool.length); i++) {
    const signed = pool[i]!;
    const signature = createHmac('sha256', secret).update(`${timestamp}:`).update(signed.body).digest('hex');
    signed.headers = { 'content-type': 'application/json', 'x-webhook-timestamp': timestamp, 'x-webhook-signature': signature };
  }
}

export interface CpuSnapshot {
  /** Busy CPU ms of the whole machine. */
  machine: number;
  /** CPU ms of this process (the load generator). */
  load: number;
  /** CPU ms of the server child (Linux /proc, USER_HZ 100), null elsewhere. */
  server: number | null;
}

export function cpuSnapshot(pid: number): CpuSnapshot {
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
export function cpuShares(before: CpuSnapshot, after: CpuSnapshot, windowMs: number): Pick<RunResult, 'serverCores' | 'loadCores' | 'otherCores'> {
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
export function load(
  url: string,
  path: string,
  seconds: number,
  pool: SignedRequest[],
  cursor: { next: number; cycle: boolean },
  pid: number,
  onWindowEnd?: () => void,
): Promise<RunResult> {
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
          okInWindow,
          seconds: windowMs / 1000,
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
      onWindowEnd?.();
    }, seconds * 1000);
  });
}

/**
 * A warm-up, then the measured window. `cycle`: the target keeps nothing (the bare server), so it
 * may go round the pool again; imgate would answer duplicates without storing them.
 */
export async function measure(name: string, url: string, path: string, pool: SignedRequest[], pid: number, cycle = false): Promise<{ warmup: RunResult; run: RunResult }> {
  const cursor = { next: 0, cycle };
  process.stdout.write(`${name}: ${WARMUP_SECONDS} s warm-up, ${SECONDS} s measured…\n`);
  const warmup = await load(url, path, WARMUP_SECONDS, pool, cursor, pid);
  const run = await load(url, path, SECONDS, pool, cursor, pid);
  return { warmup, run };
}

