import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';

export interface GatewayFrame {
  op: number;
  d: any;
  s?: number | null;
  t?: string | null;
}

/**
 * A Discord-style op-code Gateway on loopback (QQ's WebSocket gateway speaks the same): HELLO on
 * connect, READY after IDENTIFY, heartbeats acknowledged (unless `ackHeartbeats` is off), and a
 * RESUME answered by replaying every dispatch after the client's sequence, then RESUMED — or by
 * INVALID_SESSION when `acceptResume` is off. Dispatches are numbered and kept for replay.
 */
export class FakeOpGateway {
  private readonly server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  readonly sockets: WebSocket[] = [];
  /** Every frame a client sent, in order. */
  readonly received: GatewayFrame[] = [];
  /** The dispatches of the current session (a new IDENTIFY starts a new one). */
  private log: GatewayFrame[] = [];
  private sessions = 0;
  ackHeartbeats = true;
  acceptResume = true;

  constructor(private readonly heartbeatIntervalMs: number) {
    this.server.on('connection', (socket) => {
      this.sockets.push(socket);
      socket.send(JSON.stringify({ op: 10, d: { heartbeat_interval: this.heartbeatIntervalMs } }));
      socket.on('message', (data) => {
        const frame = JSON.parse(data.toString()) as GatewayFrame;
        this.received.push(frame);
        this.answer(socket, frame);
      });
    });
  }

  async start(): Promise<this> {
    if (this.server.address() === null) await new Promise((resolve) => this.server.once('listening', resolve));
    return this;
  }

  get url(): string {
    return `ws://127.0.0.1:${(this.server.address() as AddressInfo).port}/gateway`;
  }

  get current(): WebSocket | undefined {
    return this.sockets.filter((socket) => socket.readyState === socket.OPEN).at(-1);
  }

  sent(op: number): GatewayFrame[] {
    return this.received.filter((frame) => frame.op === op);
  }

  /** Numbers a dispatch, keeps it for replay, and sends it if a client is connected. */
  dispatch(type: string, d: unknown): number {
    const frame: GatewayFrame = { op: 0, s: this.log.length + 2, t: type, d };
    this.log.push(frame);
    this.current?.send(JSON.stringify(frame));
    return frame.s!;
  }

  /** Sends any frame to the current client. */
  push(frame: GatewayFrame): void {
    this.current?.send(JSON.stringify(frame));
  }

  /** Drops the current connection without a closing handshake. */
  drop(): void {
    this.current?.terminate();
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.terminate();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private answer(socket: WebSocket, frame: GatewayFrame): void {
    if (frame.op === 1 && this.ackHeartbeats) socket.send(JSON.stringify({ op: 11 }));
    if (frame.op === 2) {
      this.sessions += 1;
      this.log = [];
      // READY is sequence 1; dispatches are numbered from 2.
      socket.send(JSON.stringify({ op: 0, s: 1, t: 'READY', d: { session_id: `session-${this.sessions}`, user: { id: 'bot-user' } } }));
    }
    if (frame.op === 6) {
      if (!this.acceptResume) {
        socket.send(JSON.stringify({ op: 9, d: false }));
        return;
      }
      for (const missed of this.log.filter((f) => (f.s ?? 0) > Number(frame.d.seq))) socket.send(JSON.stringify(missed));
      socket.send(JSON.stringify({ op: 0, s: null, t: 'RESUMED', d: {} }));
    }
  }
}
