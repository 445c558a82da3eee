import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import WebSocket, { WebSocketServer } from 'ws';
import { closeWebSocket, describeSocketEnd, holdSocket } from '../../../src/platforms/_kit/websocket.ts';

/** RFC 6455's fixed GUID, from which the handshake's Sec-WebSocket-Accept is computed. */
const WS_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

/**
 * A peer that completes the WebSocket handshake and then never answers anything, a close frame
 * included: a half-open connection as a vanished platform server leaves it.
 */
function silentPeer(): Server {
  const sockets: Socket[] = [];
  const server = createServer((socket) => {
    sockets.push(socket);
    socket.once('data', (request) => {
      const key = /sec-websocket-key: *(\S+)/i.exec(request.toString('latin1'))?.[1] ?? '';
      const accept = createHash('sha1').update(key + WS_GUID).digest('base64');
      socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
    });
  });
  server.on('close', () => sockets.forEach((socket) => socket.destroy()));
  return server;
}

describe('closeWebSocket', () => {
  const server = silentPeer();
  before(() => new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve)));
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('drops a connection whose peer does not answer the close, instead of waiting for ws\'s 30 s', async () => {
    const socket = new WebSocket(`ws://127.0.0.1:${(server.address() as AddressInfo).port}/`);
    await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
    const started = Date.now();
    await closeWebSocket(socket, 1000, 'stopping');
    assert.equal(socket.readyState, WebSocket.CLOSED);
    assert.ok(Date.now() - started < 10_000, 'closed by the grace timer, not ws\'s close timeout');
  });

  it('resolves at once for a socket already closed', async () => {
    const socket = new WebSocket(`ws://127.0.0.1:${(server.address() as AddressInfo).port}/`);
    await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
    socket.terminate();
    await new Promise((resolve) => socket.once('close', resolve));
    await closeWebSocket(socket, 1000);
    assert.equal(socket.readyState, WebSocket.CLOSED);
  });
});

describe('holdSocket', () => {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('closes on abort only once the frames being stored have settled, then tells how it ended', async () => {
    const socket = new WebSocket(`ws://127.0.0.1:${(server.address() as AddressInfo).port}/`);
    const abort = new AbortController();
    const held = holdSocket(socket, abort.signal, 60_000);
    await new Promise((resolve) => socket.once('open', resolve));
    let store: () => void = () => undefined;
    void held.storing.track(new Promise<void>((resolve) => (store = resolve)));
    abort.abort();
    assert.equal(held.closing(), true);
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(socket.readyState, WebSocket.OPEN, 'still open while a frame is being stored');
    store();
    const end = await held.ended;
    assert.equal(end.code, 1000);
    assert.equal(end.error, undefined);
    assert.equal(describeSocketEnd('Test stream', end), 'Test stream closed (1000 imgate is stopping)');
  });
});
