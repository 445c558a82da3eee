import type { FastifyInstance } from 'fastify';
import type { Config } from './config/schema.ts';
import { configWarnings } from './config/warnings.ts';
import { guardedAgent, publicOnlyPolicy } from './core/address-guard.ts';
import { createLogger, type Logger } from './core/logger.ts';
import { GatewayMetrics } from './metrics/gateway-metrics.ts';
import { DEFAULT_STOP_GRACE_MS, DeliveryWorker } from './delivery/worker.ts';
import { buildApp } from './http/app.ts';
import { SendService } from './outbound/send-service.ts';
import { CommitBatcher } from './pipeline/commit-batcher.ts';
import { IngestPipeline } from './pipeline/ingest.ts';
import { shownRaw } from './platforms/shown-raw.ts';
import { PullWakeups } from './pull/pull-wakeups.ts';
import { channelWork, createChannels, startNodeWork } from './runtime/channels.ts';
import { clusterNode, startClusterWork } from './runtime/cluster.ts';
import { syncConfigToStore } from './runtime/config-sync.ts';
import { retentionWork } from './runtime/retention.ts';
import { openStore } from './store/open.ts';
import type { Store } from './store/store.ts';
import { SubscriptionRegistry } from './subscriptions/registry.ts';
import { TokenService } from './tokens/token-service.ts';

export interface Gateway {
  app: FastifyInstance;
  /** `http://host:port` the gateway listens on. */
  url: string;
  /** Stops accepting, finishes in-flight requests, commits and deliveries, closes the store. */
  close(): Promise<void>;
}

/** How often subscriptions changed by other nodes are picked up. */
const SUBSCRIPTION_REFRESH_MS = 5000;
/** Events committed together at most (group commit). */
const MAX_COMMIT_BATCH = 512;

/**
 * Starts every role the config gives this node: the HTTP server (callbacks and APIs), the delivery
 * worker, and the long connections, pollers and purges it wins the leases of.
 */
export async function startGateway(config: Config, options: { logger?: Logger } = {}): Promise<Gateway> {
  const logger = options.logger ?? createLogger(config.log.level);
  const store = await openStore(config.storage.url);
  try {
    return await startOnStore(config, logger, store);
  } catch (error) {
    await store.close();
    throw error;
  }
}

async function startOnStore(config: Config, logger: Logger, store: Store): Promise<Gateway> {
  const node = clusterNode(config);
  const hasRole = (role: Config['roles'][number]) => config.roles.includes(role);
  await syncConfigToStore(config, store);

  const subscriptions = new SubscriptionRegistry(store, logger);
  await subscriptions.load();
  subscriptions.startRefreshing(SUBSCRIPTION_REFRESH_MS);

  // Attempts in flight at shutdown get a fifth of the shutdown's time, 2 s by default, before they
  // are aborted and recorded: the rest is left for the HTTP server, the commits and the store.
  const metrics = new GatewayMetrics({
    openDeliveries: () => store.countOpenDeliveries(),
    connections: () => [...channels.values()].filter((channel) => channel.status.connected !== null).map((channel) => ({ channel: channel.id, up: channel.status.connected === true })),
  });
  const stopGraceMs = Math.min(DEFAULT_STOP_GRACE_MS, Math.floor(config.server.shutdownTimeoutMs / 5));
  const worker =
    hasRole('delivery') && config.delivery.enabled
      ? new DeliveryWorker(store, subscriptions, logger.child({ role: 'delivery' }), { ...config.delivery, stopGraceMs, showRaw: shownRaw }, metrics)
      : undefined;
  const batcher = new CommitBatcher(store, logger, { maxBatch: MAX_COMMIT_BATCH, maxPending: config.server.maxPendingIngest });
  // Deliveries stored here go to this node's worker at once; without one, to whichever node has
  // one, woken through the store (a periodic poll behind it in case the wake-up is missed).
  const wakeDeliveryNodes = () => void store.notify('deliveries', node.id).catch((error: unknown) => logger.warn({ err: error }, 'could not wake the delivery nodes'));
  const pullWakeups = new PullWakeups(store, logger.child({ role: 'pull' }));
  const pipeline = new IngestPipeline(
    store,
    batcher,
    subscriptions,
    (deliveries) => (worker ? worker.notify(deliveries) : wakeDeliveryNodes()),
    (subscriptionIds) => pullWakeups.announce(subscriptionIds),
    metrics,
  );
  const tokens = new TokenService(store, logger.child({ role: 'tokens' }));

  const downloads = guardedAgent(publicOnlyPolicy(config.delivery.denyNetworks));
  const channels = createChannels(config.channels, { logger, store, pipeline, tokens, subscriptions, downloads });
  for (const { channel, message } of configWarnings(config)) logger.warn(channel === undefined ? {} : { channel }, message);
  const sendService = new SendService(store, (id) => channels.get(id), logger.child({ role: 'send' }), metrics);
  const lifecycle = { shuttingDown: false };

  const app = buildApp({ config, logger, store, node, channels, pipeline, subscriptions, worker, sendService, pullWakeups, tokens, metrics, lifecycle });
  await pullWakeups.start();
  try {
    await app.listen({ host: config.server.host, port: config.server.port });
  } catch (error) {
    subscriptions.stop();
    await pullWakeups.stop();
    throw error;
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.server.port;
  const url = `http://${config.server.host.includes(':') ? `[${config.server.host}]` : config.server.host}:${port}`;

  worker?.start();
  const stopListening = worker ? await store.listen('deliveries', () => worker.wake()) : undefined;
  const leasedWork = hasRole('connections') ? [...channelWork(channels.values(), logger), retentionWork(store, logger, config.storage)] : [];
  const stopNodeWork = startNodeWork(channels.values(), logger);
  const stopClusterWork = startClusterWork(store, node, leasedWork, logger.child({ node: node.id }));
  logger.info({ url, node: node.id, roles: config.roles, channels: [...channels.keys()], store: store.engine }, 'imgate listening');

  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      lifecycle.shuttingDown = true;
      // app.close() does not wait for a send whose client hung up, and every send must record its
      // result before the store closes: sends get half of the shutdown's time.
      const sendsDrained = sendService.drain(config.server.shutdownTimeoutMs / 2);
      await app.close();
      await sendsDrained;
      await downloads.destroy();
      await stopClusterWork();
      await stopNodeWork();
      await batcher.drain();
      await stopListening?.();
      await pullWakeups.stop();
      await worker?.stop();
      subscriptions.stop();
      await store.close();
      logger.info('imgate stopped');
    })();
    return closing;
  };
  return { app, url, close };
}
