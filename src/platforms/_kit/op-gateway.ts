import WebSocket from 'ws';
import { ImgateError } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';
import type { ConnectionSession } from './adapter.ts';
import { isJsonObject, scalarText } from './payload-values.ts';

/** The op codes of Discord's Gateway, which QQ's WebSocket gateway copies. */
const OP = { DISPATCH: 0, HEARTBEAT: 1, IDENTIFY: 2, RESUME: 6, RECONNECT: 7, INVALID_SESSION: 9, HELLO: 10, HEARTBEAT_ACK: 11 } as const;
const MAX_FRAME_BYTES = 4 * 1024 * 1024;

/** What survives a dropped connection, so that the next one can RESUME where this one stopped. */
export interface GatewayResumeState {
  sessionId: string | null;
  /** The sequence number of the last dispatch that was fully handled (stored). */
  seq: number | null;
}

export interface OpGatewayOptions {
  /** The WebSocket URL, asked for anew before each connection (a token inside may have changed). */
  url: string;
  /** op 2's `d`. */
  identify: Record<string, unknown>;
  /** op 6's `d` for this session and sequence. */
  resume(state: { sessionId: string; seq: number }): Record<string, unknown>;
  /**
   * Handles one dispatch (op 0) other than READY/RESUMED. Dispatches are handled one at a time, in
   * order, and a dispatch's sequence number counts as seen only once this resolves: a connection
   * that drops meanwhile resumes before it, and the platform sends it again.
   */
  onDispatch(type: string, data: unknown, raw: Buffer): Promise<void>;
  /** Close codes after which the session cannot be resumed (the next connection identifies). */
  freshSessionCodes: ReadonlySet<number>;
  logger: Logger;
}

/**
 * One connection to a Discord-style op-code Gateway (QQ's), held until it drops or `session.signal`
 * aborts: HELLO, then IDENTIFY or RESUME, heartbeats every `heartbeat_interval` with a missed ACK
 * taken as a dead connection, RECONNECT and INVALID_SESSION obeyed. `state` is the caller's and
 * outlives the connection; the runtime (`holdConnection`) calls again after a backoff.
 *
 * Written on `ws` because no maintained client speaks QQ's variant (`@discordjs/ws` is Discord's
 * alone: its identify payload, URL and close codes are fixed).
 */
export async function holdOpGateway(options: OpGatewayOptions, state: GatewayResumeState, session: ConnectionSession): Promise<void> {
  const socket = new WebSocket(options.url, { handshakeTimeout: 10_000, maxPayload: MAX_FRAME_BYTES });
  let heartbeat: NodeJS.Timeout | undefined;
  let acked = true;
  /** The sequence number last received (heartbeats carry it), ahead of `state.seq` while a dispatch is being handled. */
  let received = state.seq;
  let queue: Promise<void> = Promise.resolve();
  /** Set once a dispatch could not be stored: nothing after it may move `state.seq`. */
  let broken = false;
  let failure: Error | undefined;

  const send = (op: number, d: unknown) => {
    if (socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify({ op, d }));
  };
  const closeWith = (code: number, reason: string) => {
    if (socket.readyState === WebSocket.OPEN || socket.readyState === WebSocket.CONNECTING) socket.close(code, reason);
  };
  const stop = () => closeWith(1000, 'imgate is stopping');
  session.signal.addEventListener('abort', stop, { once: true });

  const startHeartbeat = (intervalMs: number) => {
    heartbeat = setInterval(() => {
      if (!acked) {
        failure = new Error('the gateway did not acknowledge the last heartbeat');
        // Not 1000/1001: a clean close would end the session, and this one should be resumed.
        socket.terminate();
        return;
      }
      acked = false;
      send(OP.HEARTBEAT, received);
    }, intervalMs);
  };

  const handleDispatch = (type: string, seq: number | null, data: unknown, raw: Buffer) => {
    if (seq !== null) received = seq;
    if (type === 'READY') {
      state.sessionId = isJsonObject(data) ? scalarText(data.session_id) : null;
      state.seq = seq;
      session.connected();
      return;
    }
    if (type === 'RESUMED') {
      session.connected();
      return;
    }
    queue = queue.then(async () => {
      if (broken) return;
      try {
        await options.onDispatch(type, data, raw);
      } catch (error) {
        // Not stored: the sequence stays before it, so a resume gets it again (and what follows);
        // this connection is given up so that the resume happens now rather than after the next drop.
        options.logger.error({ err: error, type }, 'gateway event not stored; reconnecting to have it sent again');
        broken = true;
        failure = error instanceof Error ? error : new Error(String(error));
        socket.terminate();
        return;
      }
      if (seq !== null) state.seq = seq;
    });
  };

  socket.on('message', (data, isBinary) => {
    if (isBinary) return;
    const raw = toBuffer(data);
    let frame: unknown;
    try {
      frame = JSON.parse(raw.toString('utf8'));
    } catch {
      options.logger.warn('gateway sent a frame that is not JSON; ignored');
      return;
    }
    if (!isJsonObject(frame)) return;
    switch (frame.op) {
      case OP.HELLO: {
        const interval = isJsonObject(frame.d) ? Number(frame.d.heartbeat_interval) : NaN;
        if (!Number.isFinite(interval) || interval <= 0) {
          failure = new Error('the gateway HELLO has no heartbeat_interval');
          socket.terminate();
          return;
        }
        startHeartbeat(interval);
        if (state.sessionId !== null && state.seq !== null) send(OP.RESUME, options.resume({ sessionId: state.sessionId, seq: state.seq }));
        else send(OP.IDENTIFY, options.identify);
        return;
      }
      case OP.HEARTBEAT_ACK:
        acked = true;
        return;
      case OP.HEARTBEAT:
        send(OP.HEARTBEAT, received);
        return;
      case OP.RECONNECT:
        failure = new Error('the gateway asked to reconnect');
        socket.terminate();
        return;
      case OP.INVALID_SESSION:
        if (frame.d !== true) {
          state.sessionId = null;
          state.seq = null;
        }
        failure = new Error('the gateway said the session is invalid');
        socket.terminate();
        return;
      case OP.DISPATCH:
        handleDispatch(String(frame.t), typeof frame.s === 'number' ? frame.s : null, frame.d, raw);
        return;
      default:
        return;
    }
  });
  socket.on('error', (error) => {
    failure ??= error;
  });

  const closed = await new Promise<{ code: number; reason: string }>((resolve) => {
    socket.on('close', (code, reason) => resolve({ code, reason: reason.toString('utf8') }));
  });
  clearInterval(heartbeat);
  session.signal.removeEventListener('abort', stop);
  if (options.freshSessionCodes.has(closed.code)) {
    state.sessionId = null;
    state.seq = null;
  }
  await queue;
  if (session.signal.aborted) return;
  const why = failure?.message ?? `closed ${closed.code}${closed.reason ? ` ${closed.reason}` : ''}`;
  throw new ImgateError('IMG_ERR_PLATFORM_UNREACHABLE', { message: `gateway connection lost: ${why}` });
}

function toBuffer(data: WebSocket.RawData): Buffer {
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data instanceof ArrayBuffer ? new Uint8Array(data) : data);
}
