import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';

/** A frame the fake received from the client, parsed. */
export interface GatewayFrame {
  op: number;
  d: any;
}

/** One WebSocket the client opened: where to, what it sent, and how it ended. */
export interface GatewayConnection {
  path: string;
  query: URLSearchParams;
  socket: WebSocket;
  frames: GatewayFrame[];
  /** Heartbeats the fake acknowledged on this connection. */
  acks: number;
  /** The close code once the connection ended (the client's, or 1006 when dropped). */
  closeCode: number | null;
}

interface Dispatch {
  t: string;
  s: number;
  d: unknown;
}

/**
 * A Discord Gateway on 127.0.0.1 (https://discord.com/developers/docs/events/gateway), which also
 * stands for QQ's gateway (the same op codes; QQ ignores `resume_gateway_url`): HELLO with a
 * short heartbeat interval, READY after IDENTIFY (with `resume_gateway_url` = `<url>/resume`),
 * heartbeats acknowledged unless `ackHeartbeats` is off, RESUME answered by replaying every dispatch
 * after the sequence number named (as Discord does) and then RESUMED. Dispatches the test sends while
 * no client is connected are kept for the replay, like the ones Discord holds for a dropped session.
 */
export class FakeOpGateway {
  readonly connections: GatewayConnection[] = [];
  /** Every dispatch of the current session, in order. */
  readonly log: Dispatch[] = [];
  ackHeartbeats = true;
  /** Extra already-sent dispatches to replay on RESUME, before those after the named seq (Discord may). */
  replayOverlap = 0;
  sessionId = 'fake-session-1';
  /** The `resume_gateway_url` READY names; unset: `<url>/resume`, this fake. */
  resumeGatewayUrl: string | null = null;
  private sessions = 1;
  private server: Server | undefined;
  private wss: WebSocketServer | undefined;
  private waiters: { check: () => boolean; resolve: () => void }[] = [];
  url = '';

  constructor(
    private readonly heartbeatIntervalMs: number,
    private readonly botUserId: string,
  ) {}

  async start(): Promise<this> {
    this.server = createServer();
    this.wss = new WebSocketServer({ server: this.server });
    this.wss.on('connection', (socket, request) => this.accept(socket, request.url ?? '/'));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `ws://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  /** The connection the client holds now (the last one opened). */
  get current(): GatewayConnection | undefined {
    return this.connections.at(-1);
  }

  /** Sends a dispatch to the client if connected, keeping it for a replay either way; returns its seq. */
  dispatch(t: string, d: unknown): number {
    const frame = { t, s: this.log.length + 1, d };
    this.log.push(frame);
    const connection = this.current;
    if (connection && connection.closeCode === null) connection.socket.send(JSON.stringify({ op: 0, ...frame }));
    return frame.s;
  }

  /** Every frame with `op` the client sent, over all connections, in order. */
  sent(op: number): GatewayFrame[] {
    return this.connections.flatMap((connection) => connection.frames).filter((frame) => frame.op === op);
  }

  /** Sends any payload on the current connection (a RECONNECT, say). */
  push(payload: unknown): void {
    this.current?.socket.send(JSON.stringify(payload));
  }

  /** Closes the current connection with a gateway close code. */
  closeWith(code: number): void {
    this.current?.socket.close(code);
  }

  /** Drops the current connection as a network failure would: no close frame. */
  drop(): void {
    this.current?.socket.terminate();
  }

  /** INVALID_SESSION (op 9) with `d: false`: the session is over; the next IDENTIFY starts another. */
  invalidateSession(): void {
    this.current?.socket.send(JSON.stringify({ op: 9, d: false }));
  }

  /** Resolves once `check` holds (checked on every frame and connection change); rejects after `timeoutMs`. */
  waitFor(check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
    if (check()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), timeoutMs);
      this.waiters.push({ check, resolve: () => (clearTimeout(timer), resolve()) });
    });
  }

  /** Resolves once `count` connections were opened and the last has sent a frame with `op`. */
  waitForFrame(count: number, op: number): Promise<GatewayFrame> {
    const find = () => (this.connections.length >= count ? this.connections[count - 1]!.frames.find((frame) => frame.op === op) : undefined);
    return this.waitFor(() => find() !== undefined, `op ${op} on connection ${count}`).then(() => find()!);
  }

  async stop(): Promise<void> {
    for (const connection of this.connections) connection.socket.terminate();
    await new Promise<void>((resolve) => this.wss?.close(() => resolve()) ?? resolve());
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }

  private accept(socket: WebSocket, url: string): void {
    const parsed = new URL(url, 'ws://fake');
    const connection: GatewayConnection = { path: parsed.pathname, query: parsed.searchParams, socket, frames: [], acks: 0, closeCode: null };
    this.connections.push(connection);
    socket.on('message', (data) => {
      const frame = JSON.parse(String(data)) as GatewayFrame;
      connection.frames.push(frame);
      this.answer(connection, frame);
      this.notify();
    });
    socket.on('close', (code) => {
      connection.closeCode = code;
      this.notify();
    });
    socket.send(JSON.stringify({ op: 10, d: { heartbeat_interval: this.heartbeatIntervalMs } }));
    this.notify();
  }

  private answer(connection: GatewayConnection, frame: GatewayFrame): void {
    const send = (payload: unknown) => connection.socket.send(JSON.stringify(payload));
    if (frame.op === 1 && this.ackHeartbeats) {
      connection.acks += 1;
      send({ op: 11 });
    } else if (frame.op === 2) {
      this.log.length = 0;
      this.sessionId = `fake-session-${this.sessions++}`;
      this.dispatch('READY', {
        v: 10,
        session_id: this.sessionId,
        resume_gateway_url: this.resumeGatewayUrl ?? `${this.url}/resume`,
        user: { id: this.botUserId, username: 'imgate-bot', bot: true },
        guilds: [],
        application: { id: this.botUserId, flags: 0 },
      });
    } else if (frame.op === 6) {
      if (frame.d.session_id !== this.sessionId) {
        send({ op: 9, d: false });
        return;
      }
      const from = Math.max(0, Number(frame.d.seq) - this.replayOverlap);
      for (const missed of this.log.slice(from)) send({ op: 0, ...missed });
      const resumed = { t: 'RESUMED', s: this.log.length + 1, d: {} };
      this.log.push(resumed);
      send({ op: 0, ...resumed });
    }
  }

  private notify(): void {
    this.waiters = this.waiters.filter((waiter) => {
      if (!waiter.check()) return true;
      waiter.resolve();
      return false;
    });
  }
}
