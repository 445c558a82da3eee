import type { Logger } from '../core/logger.ts';
import type { Store } from '../store/store.ts';

/**
 * Purges events (with their deliveries and attempts) and sends older than the retention, in the
 * background; an event whose delivery is still being retried stays until it is done. Dedup keys
 * are the events' own unique keys, so they live at least as long as the retention; the config
 * schema keeps it at 24 h or more, longer than any platform retries (Feishu's last retry comes
 * about 7 h after the first push, PLATFORMS.md §3).
 */
export function startRetention(
  store: Store,
  logger: Logger,
  options: { retentionHours: number; purgeIntervalMinutes: number },
): () => void {
  const purge = async () => {
    try {
      const cutoff = Date.now() - options.retentionHours * 3600_000;
      const result = await store.purgeOlderThan(cutoff);
      logger.info({ ...result, cutoff: new Date(cutoff).toISOString() }, 'retention purge');
    } catch (error) {
      logger.error({ err: error }, 'retention purge failed');
    }
  };
  const first = setTimeout(() => void purge(), 10_000);
  const timer = setInterval(() => void purge(), options.purgeIntervalMinutes * 60_000);
  first.unref();
  timer.unref();
  return () => {
    clearTimeout(first);
    clearInterval(timer);
  };
}
