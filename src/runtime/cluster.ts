import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Config } from '../config/schema.ts';
import type { Logger } from '../core/logger.ts';
import type { Coordination } from '../store/store.ts';
import { holdLease, leaseTiming, type LeasedWork, type LeaseTiming } from './lease.ts';

/** This node: its name on leases and heartbeats, what it does, and how it times its leases. */
export interface ClusterNode {
  id: string;
  roles: readonly string[];
  startedAt: number;
  timing: LeaseTiming;
}

/** A node silent for this many lease lifetimes is forgotten by `/v1/cluster`. */
const FORGET_AFTER_LEASES = 20;

export function clusterNode(config: Config): ClusterNode {
  // Random per start: a restarted node must not take the leases of its former self, whose work
  // may still be closing somewhere.
  const id = config.cluster.nodeId ?? `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
  return { id, roles: config.roles, startedAt: Date.now(), timing: leaseTiming(config.cluster.takeoverSeconds) };
}

/** A node is alive while its last heartbeat is younger than one lease lifetime. */
export function isAlive(node: ClusterNode, lastHeartbeatAt: number, now: number): boolean {
  return now - lastHeartbeatAt <= node.timing.ttlMs;
}

/**
 * Runs the node's heartbeat and every piece of leased work (each under its own lease, so the
 * cluster's long connections and pollers spread over the nodes that have the `connections`
 * role) until the returned function is called; that stops them, waits for them and says goodbye.
 */
export function startClusterWork(
  coordination: Coordination,
  node: ClusterNode,
  works: LeasedWork[],
  logger: Logger,
): () => Promise<void> {
  const controller = new AbortController();
  const beat = () =>
    coordination
      .heartbeat({ id: node.id, roles: [...node.roles], startedAt: node.startedAt }, node.timing.ttlMs * FORGET_AFTER_LEASES)
      .catch((error: unknown) => logger.warn({ err: error }, 'heartbeat failed'));
  void beat();
  const heartbeat = setInterval(() => void beat(), node.timing.renewEveryMs);
  heartbeat.unref();
  const running = works.map((work) => holdLease(coordination, node.id, work, node.timing, controller.signal, logger));
  return async () => {
    clearInterval(heartbeat);
    controller.abort();
    await Promise.all(running);
    await coordination.removeNode(node.id).catch((error: unknown) => logger.warn({ err: error }, 'could not remove this node from the cluster'));
  };
}
