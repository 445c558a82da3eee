import { createServer } from 'node:http';

/**
 * The ceiling for `npm run bench`: a bare node:http server on 127.0.0.1 that reads each request
 * body and answers 200 with the same small JSON ack imgate sends. Prints `{"port":N}` when ready.
 */
const ACK = Buffer.from('{"ok":true}');

const server = createServer((request, response) => {
  const chunks: Buffer[] = [];
  request.on('data', (chunk: Buffer) => chunks.push(chunk));
  request.on('end', () => {
    Buffer.concat(chunks);
    response.writeHead(200, { 'content-type': 'application/json', 'content-length': ACK.length });
    response.end(ACK);
  });
});

server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  process.stdout.write(`${JSON.stringify({ port })}\n`);
});
