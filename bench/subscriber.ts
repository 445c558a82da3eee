import { createServer } from 'node:http';

/**
 * The fast subscriber of `npm run bench`'s delivery runs: answers every webhook 200 at once and
 * counts them; `GET /count` answers how many so far. Prints `{"port":N}` when ready.
 *
 * With `--record` it also notes when each event arrived, by the event's `message.platformId` (the
 * callback's NewMsgId), and `GET /record` answers them: the fixed-rate run matches them to the time
 * the bench saw each callback acknowledged. Times are `performance.timeOrigin + performance.now()`,
 * milliseconds on the wall clock with sub-millisecond resolution, comparable between processes on
 * one machine (`Date.now()` would round every latency to a whole millisecond).
 */
const RECORD = process.argv.includes('--record');
let received = 0;
let duplicates = 0;
const arrivals = new Map<string, number>();

function record(body: Buffer, at: number): void {
  const event = JSON.parse(body.toString('utf8')) as { message?: { platformId?: unknown } };
  const id = event.message?.platformId;
  if (typeof id !== 'string') return;
  if (arrivals.has(id)) duplicates += 1;
  else arrivals.set(id, at);
}

const server = createServer((request, response) => {
  if (request.method === 'GET' && (request.url === '/count' || request.url === '/record')) {
    const answer = request.url === '/count' ? { received } : { received, duplicates, arrivals: [...arrivals] };
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(JSON.stringify(answer));
    return;
  }
  const chunks: Buffer[] = [];
  // Without --record the body is only drained: the subscriber should cost as little as it can.
  request.on('data', (chunk: Buffer) => {
    if (RECORD) chunks.push(chunk);
  });
  request.on('end', () => {
    received += 1;
    if (RECORD) record(Buffer.concat(chunks), performance.timeOrigin + performance.now());
    response.writeHead(200, { 'content-type': 'application/json', 'content-length': 2 });
    response.end('{}');
  });
});

server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  process.stdout.write(`${JSON.stringify({ port })}\n`);
});
