import type { Coordination, LeaseRecord, NodeRecord, WakeupTopic } from '../ports/coordination.ts';
import { DB_NOW, WITH_NOW, type Database } from './database.ts';
import type { NotificationListener } from './wakeups.ts';

interface NodeRow {
  id: string;
  roles: string;
  started_at: number;
  last_heartbeat_at: number;
}

// A lease row is taken over only once it has run out: of two nodes racing for it, the second's
// conflicting insert waits for the first's and then finds the lease held. EXCLUDED.acquired_at is
// the database's time now.
const ACQUIRE_LEASE = `${WITH_NOW}
INSERT INTO leases (name, holder, token, acquired_at, expires_at)
SELECT $1, $2, gen_random_uuid()::text, now.ms, now.ms + $3 FROM now
ON CONFLICT (name) DO UPDATE SET holder = EXCLUDED.holder, token = EXCLUDED.token,
  acquired_at = EXCLUDED.acquired_at, expires_at = EXCLUDED.expires_at
WHERE leases.expires_at <= EXCLUDED.acquired_at
RETURNING token`;

/** The PostgreSQL channel of a topic: prefixed, to keep apart from other applications' in a shared database. */
function channelOf(topic: WakeupTopic): string {
  return `imgate_${topic}`;
}

export function postgresCoordination(db: Database, listener: NotificationListener): Coordination {
  return {
    async acquireLease(name, holder, ttlMs) {
      const row = await db.one<{ token: string }>(ACQUIRE_LEASE, [name, holder, ttlMs]);
      return row?.token ?? null;
    },

    async renewLease(name, token, ttlMs) {
      const updated = await db.run(
        `${WITH_NOW}
         UPDATE leases SET expires_at = now.ms + $3 FROM now
         WHERE name = $1 AND token = $2 AND expires_at > now.ms`,
        [name, token, ttlMs],
      );
      return updated > 0;
    },

    async releaseLease(name, token) {
      await db.run('DELETE FROM leases WHERE name = $1 AND token = $2', [name, token]);
    },

    async listLeases(): Promise<LeaseRecord[]> {
      return db.rows<LeaseRecord>(
        `${WITH_NOW}
         SELECT name, holder, acquired_at AS "acquiredAt", expires_at AS "expiresAt" FROM leases, now
         WHERE expires_at > now.ms ORDER BY name`,
      );
    },

    // started_at is the first heartbeat's: a node keeps its id for as long as it runs. One statement,
    // so one `now` for the beat and for judging the others silent; the node's own row is left out of
    // the delete (a statement cannot change one row twice).
    async heartbeat(node, forgetAfterMs) {
      await db.run(
        `${WITH_NOW},
         forgotten AS (DELETE FROM nodes USING now WHERE last_heartbeat_at < now.ms - $4 AND id <> $1)
         INSERT INTO nodes (id, roles, started_at, last_heartbeat_at) SELECT $1, $2, $3::bigint, now.ms FROM now
         ON CONFLICT (id) DO UPDATE SET roles = EXCLUDED.roles, last_heartbeat_at = EXCLUDED.last_heartbeat_at`,
        [node.id, JSON.stringify(node.roles), node.startedAt, forgetAfterMs],
      );
    },

    async listNodes() {
      const rows = await db.rows<NodeRow>('SELECT id, roles, started_at, last_heartbeat_at FROM nodes ORDER BY id');
      const nodes: NodeRecord[] = rows.map((row) => ({
        id: row.id,
        roles: JSON.parse(row.roles) as string[],
        startedAt: row.started_at,
        lastHeartbeatAt: row.last_heartbeat_at,
      }));
      // Read after the nodes, so that no heartbeat listed is later than `now`.
      const clock = (await db.one<{ now: number }>(`SELECT ${DB_NOW} AS now`)) as { now: number };
      return { now: clock.now, nodes };
    },

    async removeNode(id) {
      await db.run('DELETE FROM nodes WHERE id = $1', [id]);
    },

    async notify(topic, payload) {
      await db.run('SELECT pg_notify($1, $2)', [channelOf(topic), payload]);
    },

    async listen(topic, onPayload) {
      return listener.listen(channelOf(topic), onPayload);
    },
  };
}
