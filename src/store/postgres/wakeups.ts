import pg from 'pg';

/** The wait before reconnecting after the connection broke, doubled after each failure up to the maximum. */
const RECONNECT_FIRST_MS = 100;
const RECONNECT_MAX_MS = 5000;

type Listener = (payload: string) => void;

/**
 * LISTEN needs a connection of its own that stays open: a pooled one goes back to the pool between
 * queries. One per store serves every topic. When it breaks (PostgreSQL restarted, network cut) it
 * reconnects by itself, with backoff, and listens again to every channel that still has listeners;
 * what was notified meanwhile is missed, which the periodic polls behind every wake-up make up for.
 */
export class NotificationListener {
  private readonly listeners = new Map<string, Set<Listener>>();
  private client: pg.Client | undefined;
  private connecting: Promise<void> | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private retryDelayMs = RECONNECT_FIRST_MS;
  private closed = false;

  constructor(private readonly config: pg.ClientConfig) {}

  /** Calls `listener` with each notification on `channel` until the returned function is called. */
  async listen(channel: string, listener: Listener): Promise<() => Promise<void>> {
    if (this.closed) throw new Error('the store is closed');
    let forChannel = this.listeners.get(channel);
    const isNew = forChannel === undefined;
    forChannel ??= new Set();
    forChannel.add(listener);
    this.listeners.set(channel, forChannel);
    await this.ensureConnected();
    // Also when the connection that just came up listened already: LISTEN twice is harmless, and
    // the channel may have been added after it did. A failure here is a broken connection, whose
    // reconnection listens again.
    if (isNew) await this.client?.query(`LISTEN ${pg.escapeIdentifier(channel)}`).catch(() => undefined);
    return async () => {
      const current = this.listeners.get(channel);
      if (current?.delete(listener) !== true || current.size > 0) return;
      this.listeners.delete(channel);
      await this.client?.query(`UNLISTEN ${pg.escapeIdentifier(channel)}`).catch(() => undefined);
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retryTimer);
    await this.connecting;
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }

  private ensureConnected(): Promise<void> {
    if (this.client !== undefined || this.closed) return Promise.resolve();
    this.connecting ??= this.connect().finally(() => {
      this.connecting = undefined;
    });
    return this.connecting;
  }

  /** Never rejects: a failed attempt schedules the next one. */
  private async connect(): Promise<void> {
    const client = new pg.Client(this.config);
    client.on('notification', (message) => this.dispatch(message.channel, message.payload ?? ''));
    client.on('error', () => this.lost(client));
    client.on('end', () => this.lost(client));
    try {
      await client.connect();
      for (const channel of this.listeners.keys()) await client.query(`LISTEN ${pg.escapeIdentifier(channel)}`);
    } catch {
      await client.end().catch(() => undefined);
      this.scheduleReconnect();
      return;
    }
    if (this.closed) {
      await client.end().catch(() => undefined);
      return;
    }
    this.client = client;
    this.retryDelayMs = RECONNECT_FIRST_MS;
  }

  private lost(client: pg.Client): void {
    if (this.client !== client) return;
    this.client = undefined;
    client.end().catch(() => undefined);
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (this.closed || this.retryTimer !== undefined || this.listeners.size === 0) return;
    const delay = this.retryDelayMs;
    this.retryDelayMs = Math.min(delay * 2, RECONNECT_MAX_MS);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      void this.ensureConnected();
    }, delay);
  }

  private dispatch(channel: string, payload: string): void {
    for (const listener of [...(this.listeners.get(channel) ?? [])]) listener(payload);
  }
}
