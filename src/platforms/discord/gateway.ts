import { GatewayCloseCodes, GatewayOpcodes } from 'discord-api-types/v10';
import type { Logger } from 'pino';
import WebSocket from 'ws';
import { ImgateError } from '../../core/errors.ts';
import type { ConnectionSession } from '../_kit/adapter.ts';
import { jsonObject, scalarText } from '../_kit/payload-values.ts';
import type { DispatchFrame } from './normalize.ts';
import { SequenceCommits } from './sequence-commits.ts';

/*
 * The Discord Gateway, written on `ws` rather than taken from @discordjs/ws, whose API host and
 * Gateway URL could be pointed at a test server (REST `api`, and GET /gateway/bot). Three things
 * decided it: @discordjs/ws moves its resume sequence forward as a dispatch arrives, before imgate
 * has stored the event, so a drop while storing would resume past an event that was never stored;
 * it reconnects by itself every 500 ms with no backoff, beside the runtime's own
 * (src/runtime/long-connection.ts); and it waits up to 5 s between identifies (its identify
 * throttle). The protocol a single-shard bot needs is small: https://discord.com/developers/docs/events/gateway
 *
 * One `holdDiscordGateway` call is one WebSocket; what a RESUME needs (session id, resume URL, the
 * last stored sequence number) lives in a `ResumeState` the adapter keeps between calls.
 */

const GATEWAY_VERSION = '10';
const HANDSHAKE_TIMEOUT_MS = 15_000;
/** Discord sends HELLO at once; a Gateway that has not within this is treated as down. */
const HELLO_TIMEOUT_MS = 20_000;
/** How long a close handshake may take before the socket is dropped. */
const CLOSE_GRACE_MS = 1_000;
/**
 * Closing with 1000 or 1001 ends the session on Discord's side; any other code keeps it resumable
 * (Discord, "Resuming"). 4900 is ours, outside the codes Discord sends.
 */
const RESUMABLE_CLOSE = 4900;
const FINAL_CLOSE = 1000;

/** Close codes after which reconnecting as before cannot work: the config must change. */
const FATAL_CLOSES: Record<number, string> = {
  [GatewayCloseCodes.AuthenticationFailed]: "Discord refused the bot token (4004): check the channel's token",
  [GatewayCloseCodes.InvalidShard]: 'Discord refused the shard (4010)',
  [GatewayCloseCodes.ShardingRequired]: 'the bot is in too many servers for one Gateway connection (4011): imgate does not shard',
  [GatewayCloseCodes.InvalidAPIVersion]: 'Discord refused Gateway version 10 (4012)',
  [GatewayCloseCodes.InvalidIntents]: 'Discord refused the intents (4013): check the channel\'s intents',
  [GatewayCloseCodes.DisallowedIntents]:
    'Discord refused a privileged intent the bot has not been granted (4014): enable MESSAGE_CONTENT (or GUILD_MEMBERS, GUILD_PRESENCES) under Bot → Privileged Gateway Intents, or leave it out of intents',
};
/** Close codes after which the session cannot be resumed, but a fresh IDENTIFY can start another. */
const SESSION_ENDING_CLOSES = new Set<number>([GatewayCloseCodes.InvalidSeq, GatewayCloseCodes.SessionTimedOut]);

/** What a RESUME needs, kept by the adapter from one connection to the next. */
export interface ResumeState {
  sessionId: string | null;
  /** READY's `resume_gateway_url`, where Discord wants the session resumed. */
  resumeUrl: string | null;
  /** The last sequence number up to which every dispatch is stored (see SequenceCommits). */
  seq: number | null;
  /** The bot's own user id, from READY. */
  botUserId: string | null;
}

export function freshResumeState(): ResumeState {
  return { sessionId: null, resumeUrl: null, seq: null, botUserId: null };
}

export interface GatewayOptions {
  token: string;
  intents: number;
  /** Where to IDENTIFY: the configured `gatewayUrl`, else what GET /gateway/bot answers. */
  gatewayUrl(signal: AbortSignal): Promise<string>;
  state: ResumeState;
  session: ConnectionSession;
  /** Takes one dispatch in; resolves once whatever it holds is stored. A rejection ends the connection. */
  dispatch(frame: DispatchFrame, bytes: Buffer): Promise<void>;
  logger: Logger;
}

/**
 * Opens one Gateway connection and holds it: HELLO, then IDENTIFY (or RESUME when the state has a
 * session), heartbeats at Discord's interval, dispatches handed to `dispatch` in order. Resolves
 * when Discord asks for a reconnect or ends the session (INVALID_SESSION), and at shutdown; rejects
 * with the reason when the connection fails or drops (no heartbeat ACK, a close, a failed store).
 */
export async function holdDiscordGateway(options: GatewayOptions): Promise<void> {
  const { state } = options;
  const base = state.sessionId !== null && state.resumeUrl !== null ? state.resumeUrl : await options.gatewayUrl(options.session.signal);
  await new GatewayConnection(options, gatewayAddress(base)).run();
}

/** The Gateway URL with the version and encoding imgate speaks. */
export function gatewayAddress(base: string): string {
  const url = new URL(base);
  url.searchParams.set('v', GATEWAY_VERSION);
  url.searchParams.set('encoding', 'json');
  return url.toString();
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
  private readonly inFlight = new Set<Promise<void>>();
  private ending: Promise<void> | null = null;
  /** Resolves or rejects the promise `run` returned. */
  private settle: (error: unknown) => void = () => undefined;

  constructor(
    private readonly options: GatewayOptions,
    private readonly url: string,
  ) {
    this.lastSeq = options.state.seq;
    this.commits = new SequenceCommits((seq) => (options.state.seq = seq));
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
      const socket = new WebSocket(this.url, { handshakeTimeout: HANDSHAKE_TIMEOUT_MS });
      this.socket = socket;
      socket.on('message', (data) => this.onFrame(data as Buffer));
      socket.on('close', (code, reason) => this.onClose(code, reason.toString('utf8')));
      socket.on('error', (error) => void this.end(unreachable(`the Discord Gateway connection failed: ${reasonOf(error)}`)));
      this.helloTimeout = setTimeout(() => void this.end(unreachable(`the Discord Gateway sent no HELLO within ${HELLO_TIMEOUT_MS / 1000} s`)), HELLO_TIMEOUT_MS);
    });
  }

  private onFrame(data: Buffer): void {
    if (this.ending !== null) return;
    let frame: { op?: unknown; d?: unknown; s?: unknown; t?: unknown };
    try {
      frame = JSON.parse(data.toString('utf8')) as typeof frame;
    } catch {
      void this.end(unreachable('the Discord Gateway sent a frame that is not JSON'));
      return;
    }
    switch (frame.op) {
      case GatewayOpcodes.Hello:
        this.onHello(Number(jsonObject(frame.d)?.heartbeat_interval));
        break;
      case GatewayOpcodes.HeartbeatAck:
        this.awaitingAck = false;
        break;
      case GatewayOpcodes.Heartbeat:
        this.send({ op: GatewayOpcodes.Heartbeat, d: this.lastSeq });
        break;
      case GatewayOpcodes.Reconnect:
        this.options.logger.info('the Discord Gateway asked for a reconnect; resuming');
        void this.end(null);
        break;
      case GatewayOpcodes.InvalidSession:
        this.onInvalidSession(frame.d === true);
        break;
      case GatewayOpcodes.Dispatch:
        this.onDispatch(frame, data);
        break;
      default:
        break;
    }
  }

  /** Starts the heartbeat (the first after a random part of the interval, as Discord asks), then identifies or resumes. */
  private onHello(intervalMs: number): void {
    if (!Number.isFinite(intervalMs) || intervalMs <= 0) {
      void this.end(unreachable('the Discord Gateway sent a HELLO without heartbeat_interval'));
      return;
    }
    this.helloSeen = true;
    if (this.helloTimeout) clearTimeout(this.helloTimeout);
    this.firstBeat = setTimeout(() => {
      this.beat();
      this.heartbeatTimer = setInterval(() => this.beat(), intervalMs);
    }, Math.floor(intervalMs * Math.random()));
    const { state, token, intents } = this.options;
    if (state.sessionId !== null) {
      this.send({ op: GatewayOpcodes.Resume, d: { token, session_id: state.sessionId, seq: state.seq } });
    } else {
      this.send({ op: GatewayOpcodes.Identify, d: { token, intents, properties: { os: process.platform, browser: 'imgate', device: 'imgate' } } });
    }
  }

  /** A heartbeat, unless the last one was never acknowledged: then the connection is a zombie and is dropped (and resumed). */
  private beat(): void {
    if (this.awaitingAck) {
      void this.end(unreachable('the Discord Gateway did not acknowledge a heartbeat; reconnecting to resume'));
      return;
    }
    this.awaitingAck = true;
    this.send({ op: GatewayOpcodes.Heartbeat, d: this.lastSeq });
  }

  /** Discord ended the session (`d: false`: start a new one with IDENTIFY) or asks for a RESUME (`d: true`). */
  private onInvalidSession(resumable: boolean): void {
    if (!resumable) clearSession(this.options.state);
    this.options.logger.info({ resumable }, resumable ? 'the Discord Gateway asked to resume again' : 'the Discord Gateway ended the session; identifying again');
    void this.end(null);
  }

  private onDispatch(frame: { d?: unknown; s?: unknown; t?: unknown }, bytes: Buffer): void {
    const seq = typeof frame.s === 'number' ? frame.s : null;
    const name = typeof frame.t === 'string' ? frame.t : '';
    if (seq !== null) this.lastSeq = seq;
    if (name === 'READY') this.onReady(jsonObject(frame.d) ?? {});
    if (name === 'RESUMED') {
      this.options.logger.info('Discord Gateway session resumed');
      this.options.session.connected();
    }
    if (seq === null) return;
    const done = this.commits.begin(seq);
    // The failure handler must not wait for `end`, which waits for this very work to settle.
    const work = this.options.dispatch({ t: name, s: seq, d: frame.d }, bytes).then(done, (error: unknown) => void this.end(error));
    this.inFlight.add(work);
    void work.finally(() => this.inFlight.delete(work));
  }

  private onReady(data: Record<string, unknown>): void {
    const { state } = this.options;
    state.sessionId = scalarText(data.session_id);
    state.resumeUrl = scalarText(data.resume_gateway_url);
    state.botUserId = scalarText(jsonObject(data.user)?.id);
    state.seq = null;
    this.options.logger.info({ botUserId: state.botUserId }, 'Discord Gateway ready');
    this.options.session.connected();
  }

  private onClose(code: number, reason: string): void {
    if (this.ending !== null) return;
    const { state } = this.options;
    const fatal = FATAL_CLOSES[code];
    if (fatal !== undefined) {
      clearSession(state);
      void this.end(new ImgateError('IMG_ERR_PLATFORM_REJECTED', { message: fatal, details: { closeCode: code } }));
      return;
    }
    if (SESSION_ENDING_CLOSES.has(code)) clearSession(state);
    const why = reason === '' ? '' : `: ${reason}`;
    void this.end(unreachable(`the Discord Gateway closed the connection (code ${code}${why})`, code));
  }

  private send(payload: unknown): void {
    if (this.socket?.readyState === WebSocket.OPEN) this.socket.send(JSON.stringify(payload));
  }

  /**
   * Ends the connection once: stops the timers, closes the socket (resumable unless shutting down),
   * waits for the dispatches being stored, so that the state names every stored one, and settles.
   */
  private end(error: unknown, closeCode = RESUMABLE_CLOSE): Promise<void> {
    // A resume URL that failed before even saying HELLO is given up for the main Gateway (RESUME works there too).
    if (error !== null && !this.helloSeen) this.options.state.resumeUrl = null;
    this.ending ??= this.close(closeCode).then(async () => {
      await Promise.allSettled([...this.inFlight]);
      this.settle(error);
    });
    return this.ending;
  }

  private close(code: number): Promise<void> {
    if (this.helloTimeout) clearTimeout(this.helloTimeout);
    if (this.firstBeat) clearTimeout(this.firstBeat);
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    const socket = this.socket;
    if (socket === null || socket.readyState === WebSocket.CLOSED) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const grace = setTimeout(() => {
        socket.terminate();
        resolve();
      }, CLOSE_GRACE_MS);
      socket.once('close', () => {
        clearTimeout(grace);
        resolve();
      });
      if (socket.readyState === WebSocket.CONNECTING) socket.terminate();
      else socket.close(code);
    });
  }
}

function clearSession(state: ResumeState): void {
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
