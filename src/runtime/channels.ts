import type { GuardedAgent } from '../core/address-guard.ts';
import type { ChannelConfig } from '../config/schema.ts';
import { ImgateError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import type { ChannelAdapter, EventSink } from '../platforms/_kit/adapter.ts';
import { findPlatform } from '../platforms/registry.ts';
import type { IngestPipeline } from '../pipeline/ingest.ts';
import type { Store } from '../store/store.ts';
import type { TokenService } from '../tokens/token-service.ts';
import type { LeasedWork } from './lease.ts';
import { holdConnection } from './long-connection.ts';
import type { SubscriptionRegistry } from '../subscriptions/registry.ts';
import { registeredPuppet } from '../wxkf-manager/puppets.ts';

export interface ChannelStatus {
  /** Null for webhook-only channels; true/false while a long connection is up/down. */
  connected: boolean | null;
  lastEventAt: string | null;
  /** When a pull from the platform (a WeCom customer-service account's messages) last finished without error. */
  lastPullAt: string | null;
  lastError: { at: string; code: string; message: string } | null;
}

export interface ChannelRuntime {
  id: string;
  platform: string;
  config: ChannelConfig;
  adapter: ChannelAdapter;
  status: ChannelStatus;
}

export interface ChannelServices {
  logger: Logger;
  store: Store;
  pipeline: IngestPipeline;
  tokens: TokenService;
  subscriptions: SubscriptionRegistry;
  /** For URLs a send names (`image.url`): public addresses only (`publicOnlyPolicy`). */
  downloads: GuardedAgent;
}

/** Builds an adapter for every enabled channel. Disabled channels are left out: they answer 404. */
export function createChannels(configs: ChannelConfig[], services: ChannelServices): Map<string, ChannelRuntime> {
  const channels = new Map<string, ChannelRuntime>();
  for (const config of configs) {
    if (!config.enabled) continue;
    const platform = findPlatform(config.platform);
    if (!platform) throw new Error(`channel ${config.id}: platform ${config.platform} is not available`);
    const status: ChannelStatus = { connected: null, lastEventAt: null, lastPullAt: null, lastError: null };
    const adapter = platform.create(config, {
      logger: services.logger.child({ channel: config.id }),
      sink: channelSink(config, services.pipeline, status),
      cursors: { get: (key) => services.store.getCursor(config.id, key), keys: () => services.store.listCursorKeys(config.id) },
      values: { get: (key) => services.store.getCursor(config.id, key), put: (key, value) => services.store.putCursor(config.id, key, value) },
      counters: { next: (key) => services.store.nextCounter(config.id, key, Date.now()) },
      tokens: services.tokens,
      sendSlots: services.store,
      reportError: (error) => recordChannelError(status, error),
      reportPulled: () => {
        status.lastPullAt = new Date().toISOString();
      },
      downloads: services.downloads,
      // A KF account with a registered puppet is the puppet's to pull (docs/wxkf-manager.md).
      handedOff: (key) => registeredPuppet(services.subscriptions, config.id, key, 'callback') !== null,
    });
    if (adapter.connect) status.connected = false;
    channels.set(config.id, { id: config.id, platform: config.platform, config, adapter, status });
  }
  return channels;
}

function channelSink(config: ChannelConfig, pipeline: IngestPipeline, status: ChannelStatus): EventSink {
  const channel = { id: config.id, platform: config.platform };
  return {
    async ingest(events, rawBody, options) {
      const outcomes = await pipeline.ingest(channel, events, rawBody, new Date(), options);
      if (events.length > 0) status.lastEventAt = new Date().toISOString();
      return outcomes;
    },
  };
}

/**
 * Every channel's long connection and poller, as work for one node of the cluster at a time:
 * `connection:<channel>` and `poller:<channel>` leases. Work that fails is logged and recorded in
 * the channel's status, never fatal.
 */
export function channelWork(channels: Iterable<ChannelRuntime>, logger: Logger): LeasedWork[] {
  const works: LeasedWork[] = [];
  for (const channel of channels) {
    const { adapter } = channel;
    if (adapter.connect) {
      const connect = adapter.connect.bind(adapter);
      const held = { id: channel.id, adapter: { connect }, status: channel.status, reconnect: channel.config.reconnect };
      works.push({ name: `connection:${channel.id}`, run: (signal) => holdConnection(held, signal, logger) });
    }
    const runPoller = adapter.runPoller?.bind(adapter);
    if (runPoller) {
      works.push({ name: `poller:${channel.id}`, run: (signal) => reportFailure(channel, runPoller(signal), logger) });
    }
  }
  return works;
}

/**
 * Starts the work every node does for itself for each channel (`runBackground`); the returned
 * function stops it and waits for it.
 */
export function startNodeWork(channels: Iterable<ChannelRuntime>, logger: Logger): () => Promise<void> {
  const controller = new AbortController();
  const running: Promise<void>[] = [];
  for (const channel of channels) {
    if (channel.adapter.runBackground) running.push(reportFailure(channel, channel.adapter.runBackground(controller.signal), logger));
  }
  return async () => {
    controller.abort();
    await Promise.all(running);
  };
}

function reportFailure(channel: ChannelRuntime, work: Promise<void>, logger: Logger): Promise<void> {
  return work.catch((error: unknown) => {
    recordChannelError(channel.status, error);
    logger.error({ channel: channel.id, err: error }, 'channel background work stopped with an error');
  });
}

/** Keeps a channel's last error for `/v1/channels`; errors that are not imgate's own show as internal. */
export function recordChannelError(status: ChannelStatus, error: unknown): void {
  const mapped = error instanceof ImgateError ? error : new ImgateError('IMG_ERR_INTERNAL');
  status.lastError = { at: new Date().toISOString(), code: mapped.code, message: mapped.message };
}
