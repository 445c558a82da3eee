/**
 * Work that only one node may do at a time (a long connection, a poller, the retention purge) runs
 * under a named lease: a row with a holder, a token and an expiry by the database's clock. A lease
 * is taken only once it has run out, renewed only by the token that holds it and only before it
 * runs out, so two holders never overlap as long as each stops its work before its own lease could
 * have run out (see `src/runtime/lease.ts`). Nodes also write a heartbeat, for `GET /v1/cluster`.
 */

export interface LeaseRecord {
  name: string;
  holder: string;
  acquiredAt: number;
  expiresAt: number;
}

export interface NodeRecord {
  id: string;
  roles: string[];
  startedAt: number;
  lastHeartbeatAt: number;
}

export interface Coordination {
  /** Takes the lease `name` for `holder` for `ttlMs` if nobody holds it; answers its token, or null. */
  acquireLease(name: string, holder: string, ttlMs: number): Promise<string | null>;
  /** Extends a lease held with `token` by `ttlMs` from now; false when it ran out or was taken. */
  renewLease(name: string, token: string, ttlMs: number): Promise<boolean>;
  /** Gives a lease up at once, if `token` still holds it. */
  releaseLease(name: string, token: string): Promise<void>;
  /** Leases that have not run out. */
  listLeases(): Promise<LeaseRecord[]>;

  /** Says this node is alive (and forgets nodes silent for more than `forgetAfterMs`). */
  heartbeat(node: { id: string; roles: string[]; startedAt: number }, forgetAfterMs: number): Promise<void>;
  /** Every node that wrote a heartbeat and has not been forgotten, with the database's time now. */
  listNodes(): Promise<{ now: number; nodes: NodeRecord[] }>;
  removeNode(id: string): Promise<void>;

  /**
   * Wakes every node listening on `topic`, this one included, once the caller's last write has
   * committed (PostgreSQL: NOTIFY; SQLite: within the process). Best effort: a listener that was
   * away misses it, so every wake-up has a periodic poll behind it. `payload` is at most 1 KiB.
   */
  notify(topic: WakeupTopic, payload: string): Promise<void>;
  /** Calls `listener` for each notification on `topic` until the returned function is called. */
  listen(topic: WakeupTopic, listener: (payload: string) => void): Promise<() => Promise<void>>;
}

/**
 * `deliveries`: deliveries were stored that no worker on the storing node took; `pulls`: events
 * joined the streams of the pull subscriptions the payload names (comma-separated, `*`: any).
 */
export type WakeupTopic = 'deliveries' | 'pulls';
