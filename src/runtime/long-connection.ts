import { setTimeout as sleep } from 'node:timers/promises';
import { ImgateError } from '../core/errors.ts';
import { withJitter } from '../core/jitter.ts';
import type { Logger } from '../core/logger.ts';
import type { ChannelAdapter } from '../platforms/_kit/adapter.ts';
import { OutageLog } from '../platforms/_kit/outage-log.ts';
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
 * ends (error or not) records why, waits and connects again. The wait doubles from
 * `initialDelayMs` to `maxDelayMs` (±20 %) and starts again from the shortest once a connection was
 * accepted and stayed up at least `maxDelayMs` (a connection dropped right after its handshake is a
 * failure, or a flapping platform would be asked every second). A refusal (see isRefusal) waits the
 * longest: retrying sooner cannot help until the operator acts, and some platforms count every
 * attempt (Discord's daily session starts). A `retryAfter` the platform gave is waited out.
 * Failures are logged by state (OutageLog): a platform that stays down is one warning, not one per attempt.
 * This is the one place a long connection lives, so that a cluster can hand it to one node.
 */
export async function holdConnection(channel: HeldConnection, signal: AbortSignal, logger: Logger): Promise<void> {
  const { initialDelayMs, maxDelayMs } = channel.reconnect;
  const outage = new OutageLog(logger, 'long connection', { channel: channel.id });
  let failures = 0;
  while (!signal.aborted) {
    let acceptedAt: number | null = null;
    let failure: { error: unknown } | null = null;
    try {
      await channel.adapter.connect({
        signal,
        connected: () => {
          acceptedAt ??= Date.now();
          channel.status.connected = true;
          outage.recovered();
          logger.info({ channel: channel.id }, 'long connection established');
        },
        disconnected: (error) => {
          channel.status.connected = false;
          recordChannelError(channel.status, error);
          outage.failed(error, { reconnecting: 'by the client' });
        },
      });
      if (!signal.aborted) logger.warn({ channel: channel.id }, 'long connection closed by the platform');
    } catch (error) {
      if (!signal.aborted) {
        failure = { error };
        recordChannelError(channel.status, error);
      }
    }
    channel.status.connected = false;
    if (signal.aborted) break;
    if (acceptedAt !== null && Date.now() - acceptedAt >= maxDelayMs) failures = 0;
    const error = failure?.error;
    const delay = isRefusal(error) ? maxDelayMs : Math.min(maxDelayMs, initialDelayMs * 2 ** failures);
    failures += 1;
    // A platform that said when to come back (a rate limit on new sessions) is not asked sooner.
    const retryAfterMs = error instanceof ImgateError && error.retryAfter !== undefined ? error.retryAfter * 1000 : 0;
    const pause = Math.max(withJitter(delay), retryAfterMs);
    if (failure !== null) outage.failed(failure.error, { delayMs: pause });
    else logger.info({ channel: channel.id, delayMs: pause }, 'reconnecting after a pause');
    await sleep(pause, undefined, { signal }).catch(() => undefined);
  }
}

/**
 * The platform refused the connection itself (HTTP 401 or 403 on the way to it, or an error its
 * adapter marked `details.refused`: a fatal close code, Feishu's wrong-credentials code), as
 * opposed to failing for a while (5xx, timeouts, a dropped socket).
 */
function isRefusal(error: unknown): boolean {
  if (!(error instanceof ImgateError) || error.code !== 'IMG_ERR_PLATFORM_REJECTED') return false;
  const details = error.details ?? {};
  return details.refused === true || details.httpStatus === 401 || details.httpStatus === 403;
}
