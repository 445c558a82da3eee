import { createServer } from 'node:http';

/**
 * The fast subscriber of `npm run bench`'s delivery runs: answers every webhook 200 at once and
 * counts them; `GET /count` answers how many so far. Prints `{"port":N}` when ready.
 */
let received = 0;

const server = createServer((request, response) => {
  if (request.method === 'GET' && request.url === '/count') {
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ received }));
    return;
  }
  request.resume();
  request.on('end', () => {
    received += 1;
    response.writeHead(200, { 'content-type': 'application/json', 'content-length': 2 });
    response.end('{}');
  });
});

server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  process.stdout.write(`${JSON.stringify({ port })}\n`);
});
