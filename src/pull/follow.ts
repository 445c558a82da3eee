import type { UnifiedEvent } from '../core/event.ts';
import type { PullStreams, SubscriptionRecord } from '../store/store.ts';
import { unifiedEventJson, type ShowRaw } from '../delivery/render.ts';
import type { PullWakeups } from './pull-wakeups.ts';

/** Entries read from the store at a time. */
const PULL_PAGE = 100;
/** Longest a reader waits for a wake-up before it looks at the store again (wake-ups are best effort). */
export const PULL_RECHECK_MS = 5000;

/** Where a follower writes: an SSE response or a WebSocket. */
export interface PullSink {
  /** Writes one entry; false when the transport's buffer is full, so that the follower waits for `drained`. */
  write(cursor: string, eventJson: string): boolean;
  /** Resolves once the buffer has room again (or the transport closed). */
  drained(): Promise<void>;
  /** Something that keeps an idle connection (and the proxies on its way) open, sent after `everyMs` without a write. */
  heartbeat?: { everyMs: number; send(): void };
}

export interface FollowOptions {
  streams: PullStreams;
  wakeups: PullWakeups;
  subscription: SubscriptionRecord;
  /** The cursor to start after (`0`: the stream's beginning). */
  after: string;
  sink: PullSink;
  /** For subscriptions with `includeRaw`. */
  showRaw: ShowRaw;
  /** Which events this reader may see; the others are passed over (the cursor still moves past them). */
  visible: (event: UnifiedEvent) => boolean;
  /** Ends the follow (the client went away, or the gateway stops). */
  signal: AbortSignal;
}

/**
 * Streams a pull subscription to one client, in order, from `after` on, until `signal` aborts:
 * a page at a time from the store, the next page only once the transport has taken the last one
 * (a client that stops reading holds the follower still, not the gateway's memory), and between
 * events a wait for the store's wake-up.
 */
export async function followPull(options: FollowOptions): Promise<void> {
  const { streams, wakeups, subscription, sink, showRaw, visible, signal } = options;
  let cursor = options.after;
  let lastWrite = Date.now();
  while (!signal.aborted) {
    const version = wakeups.version(subscription.id);
    const page = await streams.readPull(subscription.id, cursor, PULL_PAGE);
    for (const entry of page) {
      if (signal.aborted) return;
      cursor = entry.cursor;
      if (!visible(entry.stored.event)) continue;
      const roomLeft = sink.write(entry.cursor, unifiedEventJson(subscription, entry.stored, showRaw));
      lastWrite = Date.now();
      if (!roomLeft) await sink.drained();
    }
    if (page.length === PULL_PAGE || signal.aborted) continue;
    const untilHeartbeat = sink.heartbeat ? lastWrite + sink.heartbeat.everyMs - Date.now() : PULL_RECHECK_MS;
    if (untilHeartbeat <= 0) {
      sink.heartbeat?.send();
      lastWrite = Date.now();
      continue;
    }
    await wakeups.wait(subscription.id, version, Math.min(PULL_RECHECK_MS, untilHeartbeat), signal);
  }
}
