import WebSocket from 'ws';

/** How long a close handshake may take before the socket is dropped. */
const CLOSE_GRACE_MS = 1_000;

/** A WebSocket message's bytes, whichever of its shapes `ws` handed over. */
export function wsMessageBytes(data: WebSocket.RawData): Buffer {
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data instanceof ArrayBuffer ? new Uint8Array(data) : data);
}

/**
 * Closes with `code`, and drops the socket if the other side has not answered the close within a
 * second (a half-open connection would otherwise hold a shutdown for ws's 30 s). Resolves once closed.
 */
export function closeWebSocket(socket: WebSocket, code: number, reason = ''): Promise<void> {
  if (socket.readyState === WebSocket.CLOSED) return Promise.resolve();
  return new Promise<void>((resolve) => {
    // terminate() destroys the socket, which then emits 'close' too.
    const grace = setTimeout(() => socket.terminate(), CLOSE_GRACE_MS);
    socket.once('close', () => {
      clearTimeout(grace);
      resolve();
    });
    if (socket.readyState === WebSocket.CONNECTING) socket.terminate();
    else socket.close(code, reason);
  });
}

/**
 * Pings every `intervalMs` once the socket is open, and drops it when a ping went unanswered for a
 * whole interval: a connection the network lost silently would otherwise look open for ever. The
 * timer ends with the socket.
 */
export function keepAlive(socket: WebSocket, intervalMs: number): void {
  let awaitingPong = false;
  let timer: NodeJS.Timeout | undefined;
  socket.on('open', () => {
    timer = setInterval(() => {
      if (awaitingPong) {
        socket.terminate();
        return;
      }
      awaitingPong = true;
      socket.ping();
    }, intervalMs);
  });
  socket.on('pong', () => {
    awaitingPong = false;
  });
  socket.on('close', () => clearInterval(timer));
}
