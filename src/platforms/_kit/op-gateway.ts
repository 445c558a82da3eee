import type { Logger } from 'pino';
import WebSocket from 'ws';
import { ImgateError } from '../../core/errors.ts';
import type { ConnectionSession } from './adapter.ts';
import { InFlight } from './in-flight.ts';
import { jsonObject, scalarText, type Json } from './payload-values.ts';
import { SequenceCommits } from './sequence-commits.ts';
import { closeWebSocket, wsMessageBytes } from './websocket.ts';

/*
 * A client of Discord's Gateway protocol, which QQ's WebSocket gateway copies op code for op code.
 * Written on `ws` rather than taken from @discordjs/ws (Discord's alone; its identify, URL and close
 * codes are fixed): @discordjs/ws moves its resume sequence forward as a dispatch arrives, before
 * imgate has stored the event, so a drop while storing would resume past an event that was never
 * stored; it reconnects by itself every 500 ms with no backoff, beside the runtime's own
 * (src/runtime/long-connection.ts); and it waits up to 5 s between identifies.
 * https://discord.com/developers/docs/events/gateway; QQ: event-emit.md, "WebSocket方式".
 *
 * One `holdOpGateway` call is one WebSocket; what a RESUME needs (session id, resume URL, the last
 * stored sequence number) lives in a `GatewayState` the adapter keeps between calls.
 */

const OP = { DISPATCH: 0, HEARTBEAT: 1, IDENTIFY: 2, RESUME: 6, RECONNECT: 7, INVALID_SESSION: 9, HELLO: 10, HEARTBEAT_ACK: 11 } as const;
const HANDSHAKE_TIMEOUT_MS = 15_000;
/** The gateway sends HELLO at once; one that has not within this is treated as down. */
const HELLO_TIMEOUT_MS = 20_000;
/** Frames are a few KiB; one beyond this is not the platform's and closes the connection. */
const MAX_FRAME_BYTES = 4 * 1024 * 1024;
/**
 * Closing with 1000 or 1001 ends the session on the platform's side; any other code keeps it
 * resumable (Discord, "Resuming"). 4999 is ours, outside the codes Discord (4000–4014) and QQ
 * (4001–4915) send.
 */
const RESUMABLE_CLOSE = 4999;
const FINAL_CLOSE = 1000;

/** What a RESUME needs, kept by the adapter from one connection to the next. */
export interface GatewayState {
  sessionId: string | null;
  /** READY's `resume_gateway_url` (Discord), where the session wants resuming; null: the usual URL. */
  resumeUrl: string | null;
  /** The last sequence number up to which every dispatch is stored (see SequenceCommits). */
  seq: number | null;
}

export function freshGatewayState(): GatewayState {
  return { sessionId: null, resumeUrl: null, seq: null };
}

/** Where a platform's gateway differs from another's. */
export interface GatewayProtocol {
  /** How errors and logs name it: "the Discord Gateway", "QQ's gateway". */
  name: string;
  /** op 2's `d`. */
  identify: Record<string, unknown>;
  /** op 6's `d`. */
  resume(sessionId: string, seq: number | null): Record<string, unknown>;
  /** Close codes after which reconnecting as before cannot work, with what the operator must change. */
  fatalCloses: Readonly<Record<number, string>>;
  /** Close codes after which the session is over, but a fresh IDENTIFY can start another. */
  sessionEndingCloses: ReadonlySet<number>;
}

export interface GatewayDispatch {
  t: string;
  s: number;
  d: unknown;
}

export interface OpGatewayOptions {
  url: string;
  protocol: GatewayProtocol;
  state: GatewayState;
  session: ConnectionSession;
  /** READY's `d`, for what the platform tells only there (the bot's own user id). */
  onReady?(data: Json): void;
  /** Takes one dispatch in; resolves once whatever it holds is stored. A rejection ends the connection. */
  dispatch(frame: GatewayDispatch, bytes: Buffer): Promise<void>;
  logger: Logger;
}

/**
 * Opens one gateway connection and holds it: HELLO, then IDENTIFY (or RESUME when the state has a
 * session), heartbeats at the gateway's interval, dispatches handed to `dispatch` in order. Resolves
 * when the gateway asks for a reconnect or ends the session (INVALID_SESSION), and at shutdown;
 * rejects with the reason when the connection fails or drops (no heartbeat ACK, a close, a failed store).
 */
export function holdOpGateway(options: OpGatewayOptions): Promise<void> {
  return new GatewayConnection(options).run();
}

class GatewayConnection {
  private socket: WebSocket | null = null;
  private helloTimeout: NodeJS.Timeout | null = null;
  private firstBeat: NodeJS.Timeout | null = null;
  private heartbeatTimer: NodeJS.Timeout | null = null;
  private awaitingAck = false;
  private helloSeen = false;
  /** The last sequence number received: what a heartbeat carries. */
  private lastSeq: number | null;
  private readonly commits: SequenceCommits;
  private readonly inFlight = new InFlight();
  private ending: Promise<void> | null = null;
  /** Resolves or rejects the promise `run` returned. */
  private settle: (error: unknown) => void = () => undefined;

  constructor(private readonly options: OpGatewayOptions) {
    this.lastSeq = options.state.seq;
    this.commits = new SequenceCommits((seq) => (options.state.seq = seq));
  }

  private get name(): string {
    return this.options.protocol.name;
  }

  run(): Promise<void> {
    const { signal } = this.options.session;
    if (signal.aborted) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const onAbort = () => void this.end(null, FINAL_CLOSE);
      signal.addEventListener('abort', onAbort, { once: true });
      this.settle = (error) => {
        signal.removeEventListener('abort', onAbort);
        if (error === null) resolve();
        else reject(error);
      };
      let socket: WebSocket;
      try {
        socket = new WebSocket(this.options.url, { handshakeTimeout: HANDSHAKE_TIMEOUT_MS, maxPayload: MAX_FRAME_BYTES });
      } catch (error) {
        void this.end(unreachable(`${this.name} cannot be reached at its URL: ${error instanceof Error ? error.message : String(error)}`));
        return;
      }
      this.socket = socket;
      socket.on('message', (data) => this.onFrame(wsMessageBytes(data)));
      socket.on('close', (code, reason) => this.onClose(code, reason.toString('utf8')));
      socket.on('error', (error) => void this.end(unreachable(`the connection to ${this.name} failed: ${reasonOf(error)}`)));
      this.helloTimeout = setTimeout(() => void this.end(unreachable(`${this.name} sent no HELLO within ${HELLO_TIMEOUT_MS / 1000} s`)), HELLO_TIMEOUT_MS);
    });
  }

  private onFrame(data: Buffer): void {
    if (this.ending !== null) return;
    let parsed: unknown;
    try {
      parsed = JSON.parse(data.toString('utf8'));
    } catch {
      parsed = null;
    }
    const frame = jsonObject(parsed);
    if (frame === null) {
      void this.end(unreachable(`${this.name} sent a frame that is not a JSON object`));
      return;
    }
    switch (frame.op) {
      case OP.HELLO:
        this.onHello(Number(jsonObject(frame.d)?.heartbeat_interval));
        break;
      case OP.HEARTBEAT_ACK:
        this.awaitingAck = false;
        break;
      case OP.HEARTBEAT:
        this.send({ op: OP.HEARTBEAT, d: this.lastSeq });
        break;
      case OP.RECONNECT:
        this.options.logger.info(`${this.name} asked for a reconnect; resuming`);
        void this.end(null);
        break;
      case OP.INVALID_SESSION:
        this.onInvalidSession(frame.d === true);
        break;
      case OP.DISPATCH:
        this.onDispatch(frame, data);
        break;
      default:
        break;
    }
  }

  /** Starts the heartbeat (the first after a random part of the interval, as Discord asks), then identifies or resumes. */
  private onHello(intervalMs: number): void {
    if (this.helloSeen) return;
    if (!Number.isFinite(intervalMs) || intervalMs <= 0) {
      void this.end(unreachable(`${this.name} sent a HELLO without heartbeat_interval`));
      return;
    }
    this.helloSeen = true;
    if (this.helloTimeout) clearTimeout(this.helloTimeout);
    this.firstBeat = setTimeout(() => {
      this.beat();
      this.heartbeatTimer = setInterval(() => this.beat(), intervalMs);
    }, Math.floor(intervalMs * Math.random()));
    const { state, protocol } = this.options;
    if (state.sessionId !== null) this.send({ op: OP.RESUME, d: protocol.resume(state.sessionId, state.seq) });
    else this.send({ op: OP.IDENTIFY, d: protocol.identify });
  }

  /** A heartbeat, unless the last one was never acknowledged: then the connection is a zombie and is dropped (and resumed). */
  private beat(): void {
    if (this.awaitingAck) {
      void this.end(unreachable(`${this.name} did not acknowledge a heartbeat; reconnecting to resume`));
      return;
    }
    this.awaitingAck = true;
    this.send({ op: OP.HEARTBEAT, d: this.lastSeq });
  }

  /** The gateway ended the session (`d: false`: start a new one with IDENTIFY) or asks for a RESUME (`d: true`). */
  private onInvalidSession(resumable: boolean): void {
    if (!resumable) clearSession(this.options.state);
    this.options.logger.info({ resumable }, resumable ? `${this.name} asked to resume again` : `${this.name} ended the session; identifying again`);
    void this.end(null);
  }

  private onDispatch(frame: Json, bytes: Buffer): void {
    const seq = typeof frame.s === 'number' ? frame.s : null;
    const name = typeof frame.t === 'string' ? frame.t : '';
    if (seq !== null) this.lastSeq = seq;
    if (name === 'READY') this.onReady(jsonObject(frame.d) ?? {});
    if (name === 'RESUMED') {
      this.options.logger.info(`${this.name}: session resumed`);
      this.options.session.connected();
    }
    if (seq === null) return;
    const done = this.commits.begin(seq);
    // The failure handler must not wait for `end`, which waits for this very work to settle.
    const work = this.options.dispatch({ t: name, s: seq, d: frame.d }, bytes).then(done, (error: unknown) => void this.end(error));
    void this.inFlight.track(work);
  }

  private onReady(data: Json): void {
    const { state } = this.options;
    state.sessionId = scalarText(data.session_id);
    const resumeUrl = scalarText(data.resume_gateway_url);
    state.resumeUrl = resumeUrl !== null && /^wss?:\/\//.test(resumeUrl) ? resumeUrl : null;
    state.seq = null;
    this.options.onReady?.(data);
    this.options.logger.info(`${this.name}: ready`);
    this.options.session.connected();
  }

  private onClose(code: number, reason: string): void {
    if (this.ending !== null) return;
    const { state, protocol } = this.options;
    const fatal = protocol.fatalCloses[code];
    if (fatal !== undefined) {
      clearSession(state);
      void this.end(new ImgateError('IMG_ERR_PLATFORM_REJECTED', { message: fatal, details: { closeCode: code, refused: true } }));
      return;
    }
    if (protocol.sessionEndingCloses.has(code)) clearSession(state);
    const why = reason === '' ? '' : `: ${reason}`;
    void this.end(unreachable(`${this.name} closed the connection (code ${code}${why})`, code));
  }

  private send(payload: unknown): void {
    if (this.socket?.readyState === WebSocket.OPEN) this.socket.send(JSON.stringify(payload));
  }

  /**
   * Ends the connection once: stops the timers, closes the socket (resumable unless shutting down),
   * waits for the dispatches being stored, so that the state names every stored one, and settles.
   */
  private end(error: unknown, closeCode = RESUMABLE_CLOSE): Promise<void> {
    // A resume URL that failed before even saying HELLO is given up for the main one (RESUME works there too).
    if (error !== null && !this.helloSeen) this.options.state.resumeUrl = null;
    this.ending ??= this.close(closeCode).then(async () => {
      await this.inFlight.settled();
      this.settle(error);
    });
    return this.ending;
  }

  private close(code: number): Promise<void> {
    if (this.helloTimeout) clearTimeout(this.helloTimeout);
    if (this.firstBeat) clearTimeout(this.firstBeat);
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    return this.socket === null ? Promise.resolve() : closeWebSocket(this.socket, code);
  }
}

function clearSession(state: GatewayState): void {
  state.sessionId = null;
  state.resumeUrl = null;
  state.seq = null;
}

function unreachable(message: string, closeCode?: number): ImgateError {
  return new ImgateError('IMG_ERR_PLATFORM_UNREACHABLE', { message, details: closeCode === undefined ? undefined : { closeCode } });
}

function reasonOf(error: Error): string {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' ? code : error.message;
}
