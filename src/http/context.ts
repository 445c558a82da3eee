import type { Config } from '../config/schema.ts';
import type { Logger } from '../core/logger.ts';
import type { GatewayMetrics } from '../metrics/gateway-metrics.ts';
import type { DeliveryWorker } from '../delivery/worker.ts';
import type { SendService } from '../outbound/send-service.ts';
import type { IngestPipeline } from '../pipeline/ingest.ts';
import type { PullWakeups } from '../pull/pull-wakeups.ts';
import type { ChannelRuntime } from '../runtime/channels.ts';
import type { ClusterNode } from '../runtime/cluster.ts';
import type { Store } from '../store/store.ts';
import type { SubscriptionRegistry } from '../subscriptions/registry.ts';
import type { TokenService } from '../tokens/token-service.ts';

/** What the routes work with. Built once by `startGateway`. */
export interface AppContext {
  config: Config;
  logger: Logger;
  store: Store;
  /** This node of the cluster (one node on SQLite). */
  node: ClusterNode;
  channels: Map<string, ChannelRuntime>;
  pipeline: IngestPipeline;
  subscriptions: SubscriptionRegistry;
  /** Absent when this process runs no delivery worker (`delivery.enabled: false`). */
  worker: DeliveryWorker | undefined;
  sendService: SendService;
  /** Wakes this node's pull-stream readers when their streams grow (on any node). */
  pullWakeups: PullWakeups;
  tokens: TokenService;
  metrics: GatewayMetrics;
  lifecycle: { shuttingDown: boolean };
}
