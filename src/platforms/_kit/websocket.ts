import WebSocket from 'ws';
import { InFlight } from './in-flight.ts';

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
function keepAlive(socket: WebSocket, intervalMs: number): void {
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

/** How a held connection ended: its close code and reason, and the socket's last error if it had one. */
export interface SocketEnd {
  code: number;
  reason: string;
  error: Error | undefined;
}

/** A long connection's socket as its platform's connection code holds it (see `holdSocket`). */
export interface HeldSocket {
  /** The frames being stored; each is acknowledged once stored, so the socket closes only after them. */
  readonly storing: InFlight;
  /** True once the socket is being closed: frames that come meanwhile are left unacknowledged, for the platform to send again. */
  closing(): boolean;
  /** Closes the socket (1000, `reason`) once the frames being stored are acknowledged. */
  closeAfterStoring(reason: string): void;
  /**
   * Resolves once the socket has closed and the frames still being stored have settled. Those
   * stored after a drop cannot be acknowledged any more: the platform sends them again on the next
   * connection and dedup keeps one.
   */
  readonly ended: Promise<SocketEnd>;
}

/**
 * What every held connection (DingTalk Stream, Slack Socket Mode) does with its socket besides
 * reading frames: keeps it alive, closes it after storing when `signal` aborts or the platform asks,
 * and reports how it ended. Call it as soon as the socket exists, so that its error listener is
 * there before any error.
 */
export function holdSocket(socket: WebSocket, signal: AbortSignal, keepAliveMs: number): HeldSocket {
  const storing = new InFlight();
  let closing = false;
  const closeAfterStoring = (reason: string) => {
    closing = true;
    void storing.settled().then(() => closeWebSocket(socket, 1000, reason));
  };
  const stop = () => closeAfterStoring('imgate is stopping');
  signal.addEventListener('abort', stop, { once: true });
  keepAlive(socket, keepAliveMs);
  let error: Error | undefined;
  socket.on('error', (cause) => {
    error = cause;
  });
  const ended = (async () => {
    const { code, reason } = await new Promise<{ code: number; reason: string }>((resolve) => {
      socket.on('close', (closeCode, closeReason) => resolve({ code: closeCode, reason: closeReason.toString('utf8') }));
    });
    signal.removeEventListener('abort', stop);
    await storing.settled();
    return { code, reason, error };
  })();
  return { storing, closing: () => closing, closeAfterStoring, ended };
}

/** `<what> closed (<code> <reason>): <error>`, for the error a dropped connection ends in. */
export function describeSocketEnd(what: string, end: SocketEnd): string {
  return `${what} closed (${end.code}${end.reason ? ` ${end.reason}` : ''})${end.error ? `: ${end.error.message}` : ''}`;
}
