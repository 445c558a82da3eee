import { EventEmitter } from 'node:events';
import type { Coordination, LeaseRecord, NodeRecord } from '../ports/coordination.ts';
import { nowMs, type SqliteConnection } from './connection.ts';
import { leaseToken } from './delivery-queue.ts';

/** One emitter per database file (an in-memory database is its own). */
const emitters = new Map<string, EventEmitter>();

function wakeupsOf(file: string): EventEmitter {
  const key = file === ':memory:' ? `:memory:${emitters.size}` : file;
  let emitter = emitters.get(key);
  if (!emitter) {
    emitter = new EventEmitter();
    emitter.setMaxListeners(0);
    emitters.set(key, emitter);
  }
  return emitter;
}

/**
 * Leases and heartbeats on SQLite. One process owns the file, so they always go to it; they are
 * kept in the database all the same, so that the runtime above is the same on every engine.
 * Wake-ups stay within the process, shared by the stores open on one file.
 */
export function sqliteCoordination(sql: SqliteConnection): Coordination {
  const wakeups = wakeupsOf(sql.db.name);
  return {
    async acquireLease(name, holder, ttlMs) {
      const now = nowMs();
      const row = sql.one<{ token: string }>(
        `INSERT INTO leases (name, holder, token, acquired_at, expires_at) VALUES (@name, @holder, @token, @now, @until)
         ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, token = excluded.token,
           acquired_at = excluded.acquired_at, expires_at = excluded.expires_at
         WHERE leases.expires_at <= @now
         RETURNING token`,
        { name, holder, token: leaseToken(), now, until: now + ttlMs },
      );
      return row?.token ?? null;
    },

    async renewLease(name, token, ttlMs) {
      const now = nowMs();
      const updated = sql.run(
        'UPDATE leases SET expires_at = @until WHERE name = @name AND token = @token AND expires_at > @now',
        { name, token, now, until: now + ttlMs },
      );
      return updated.changes > 0;
    },

    async releaseLease(name, token) {
      sql.run('DELETE FROM leases WHERE name = ? AND token = ?', name, token);
    },

    async listLeases(): Promise<LeaseRecord[]> {
      return sql.many<LeaseRecord>(
        `SELECT name, holder, acquired_at AS acquiredAt, expires_at AS expiresAt FROM leases WHERE expires_at > ? ORDER BY name`,
        nowMs(),
      );
    },

    async heartbeat(node, forgetAfterMs) {
      const now = nowMs();
      sql.transaction(() => {
        sql.run(
          `INSERT INTO nodes (id, roles, started_at, last_heartbeat_at) VALUES (?, ?, ?, ?)
           ON CONFLICT (id) DO UPDATE SET roles = excluded.roles, last_heartbeat_at = excluded.last_heartbeat_at`,
          node.id,
          JSON.stringify(node.roles),
          node.startedAt,
          now,
        );
        sql.run('DELETE FROM nodes WHERE last_heartbeat_at < ?', now - forgetAfterMs);
      });
    },

    async listNodes() {
      const rows = sql.many<{ id: string; roles: string; started_at: number; last_heartbeat_at: number }>(
        'SELECT id, roles, started_at, last_heartbeat_at FROM nodes ORDER BY id',
      );
      const nodes: NodeRecord[] = rows.map((row) => ({
        id: row.id,
        roles: JSON.parse(row.roles) as string[],
        startedAt: row.started_at,
        lastHeartbeatAt: row.last_heartbeat_at,
      }));
      return { now: nowMs(), nodes };
    },

    async removeNode(id) {
      sql.run('DELETE FROM nodes WHERE id = ?', id);
    },

    async notify(topic, payload) {
      wakeups.emit(topic, payload);
    },

    async listen(topic, listener) {
      wakeups.on(topic, listener);
      return async () => {
        wakeups.off(topic, listener);
      };
    },
  };
}
