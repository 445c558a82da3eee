import { setTimeout as sleep } from 'node:timers/promises';
import { withJitter } from '../delivery/retry-delay.ts';
import type { Logger } from '../core/logger.ts';
import type { ChannelAdapter } from '../platforms/_kit/adapter.ts';
import { recordChannelError, type ChannelStatus } from './channels.ts';

export interface ReconnectPolicy {
  initialDelayMs: number;
  maxDelayMs: number;
}

export interface HeldConnection {
  id: string;
  adapter: Required<Pick<ChannelAdapter, 'connect'>>;
  status: ChannelStatus;
  reconnect: ReconnectPolicy;
}

/**
 * Holds one channel's long connection until `signal` aborts: connects, and whenever the connection
 * ends (error or not) records why, waits a backoff (doubling from `initialDelayMs` to
 * `maxDelayMs`, ±20 %, back to the start once a connection was accepted) and connects again.
 * This is the one place a long connection lives, so that a cluster can hand it to one node.
 */
export async function holdConnection(channel: HeldConnection, signal: AbortSignal, logger: Logger): Promise<void> {
  let failures = 0;
  while (!signal.aborted) {
    try {
      await channel.adapter.connect({
        signal,
        connected: () => {
          failures = 0;
          channel.status.connected = true;
          logger.info({ channel: channel.id }, 'long connection established');
        },
        disconnected: (error) => {
          channel.status.connected = false;
          recordChannelError(channel.status, error);
          logger.warn({ channel: channel.id, err: error }, 'long connection lost; the client reconnects');
        },
      });
      if (!signal.aborted) logger.warn({ channel: channel.id }, 'long connection closed by the platform');
    } catch (error) {
      if (!signal.aborted) {
        recordChannelError(channel.status, error);
        logger.warn({ channel: channel.id, err: error }, 'long connection failed');
      }
    }
    channel.status.connected = false;
    if (signal.aborted) break;
    const delay = withJitter(Math.min(channel.reconnect.maxDelayMs, channel.reconnect.initialDelayMs * 2 ** failures));
    failures += 1;
    logger.info({ channel: channel.id, delayMs: delay }, 'reconnecting after a pause');
    await sleep(delay, undefined, { signal }).catch(() => undefined);
  }
}
