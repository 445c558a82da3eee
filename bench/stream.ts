import { request } from 'node:http';
import { freePort, HOST, startImgate, stopChild } from './children.ts';
import { imgateConfig, PULL, SECRET, type Engine } from './engines.ts';
import { cpuShares, cpuSnapshot, envNumber, load, signPool, type SignedRequest } from './load.ts';
import { checkStoringRun, fmt, printTable } from './report.ts';

/**
 * Phase 4, pull streams: per engine, a backlog stored for a pull subscription by STREAM_INGEST_SECONDS
 * of the ingest load, then read from the beginning by one Server-Sent Events client for at most
 * STREAM_SECONDS: events per second to the client (beside the webhook drain of phase 1) and the
 * server's CPU per 10,000 events streamed.
 */

const STREAM_INGEST_SECONDS = envNumber('BENCH_STREAM_INGEST_SECONDS', 5);
const STREAM_SECONDS = envNumber('BENCH_STREAM_SECONDS', 10);

interface StreamResult {
  engine: string;
  backlog: number;
  read: number;
  seconds: number;
  serverCores: number | null;
}

/** Reads the SSE stream from its beginning, counting events, until `count` or the time is up. */
function readStream(url: string, count: number, seconds: number): Promise<{ read: number; seconds: number }> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    let read = 0;
    let tail = '';
    const req = request(`${url}/v1/subscriptions/${PULL.subscriptionId}/stream?after=0`, { headers: { authorization: `Bearer ${PULL.adminToken}` } }, (res) => {
      const finish = () => {
        clearTimeout(timer);
        res.destroy();
        resolve({ read, seconds: (performance.now() - started) / 1000 });
      };
      const timer = setTimeout(finish, seconds * 1000);
      res.on('data', (chunk: Buffer) => {
        const lines = (tail + chunk.toString('latin1')).split('\n');
        tail = lines.pop() ?? '';
        for (const line of lines) if (line.startsWith('id: ')) read += 1;
        if (read >= count) finish();
      });
    });
    req.on('error', reject);
    req.end();
  });
}

async function streamEngine(engine: Engine, pool: SignedRequest[]): Promise<StreamResult> {
  const name = `imgate, ${engine.name}, pull subscription`;
  const store = await engine.store('stream');
  const port = await freePort();
  const url = `http://${HOST}:${port}`;
  const node = await startImgate(imgateConfig(`${engine.name}-stream`, store, port, ['http', 'connections'], PULL), url);
  process.stdout.write(`${name}: ${STREAM_INGEST_SECONDS} s of ingest, then one SSE client reads for up to ${STREAM_SECONDS} s…\n`);
  signPool(pool, SECRET);
  const ingest = await load(url, '/hooks/bench', STREAM_INGEST_SECONDS, pool, { next: 0, cycle: false }, node.pid!);
  const before = cpuSnapshot(node.pid!);
  const { read, seconds } = await readStream(url, ingest.ok, STREAM_SECONDS);
  const { serverCores } = cpuShares(before, cpuSnapshot(node.pid!), seconds * 1000);
  const exitCode = await stopChild(node);
  process.stdout.write(`${checkStoringRun(name, [ingest], await store.countEvents(), exitCode)}\n`);
  return { engine: engine.name, backlog: ingest.ok, read, seconds, serverCores };
}

/** Runs phase 4 on each engine; answers the function that prints its table. */
export async function benchStream(engines: Engine[], pool: SignedRequest[]): Promise<() => void> {
  const results: StreamResult[] = [];
  for (const engine of engines) results.push(await streamEngine(engine, pool));
  return () =>
    printTable(
      `pull stream: one SSE client reading a pull subscription's backlog from its beginning, at most ${STREAM_SECONDS} s (compare the drain above)`,
      ['engine', 'backlog', 'read', 'seconds', 'events/s', 'server cores', 'server CPU-s/10k'],
      results.map((r) => [
        r.engine,
        fmt(r.backlog),
        fmt(r.read),
        fmt(r.seconds, 1),
        fmt(r.read / r.seconds),
        r.serverCores === null ? 'n/a' : r.serverCores.toFixed(2),
        r.serverCores === null || r.read === 0 ? 'n/a' : ((r.serverCores * r.seconds * 10_000) / r.read).toFixed(2),
      ]),
    );
}
