import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../core/logger.ts';
import type { Retention } from '../store/store.ts';
import type { LeasedWork } from './lease.ts';

/** The first purge waits this long after the lease is taken, so that it never slows a start. */
const FIRST_PURGE_DELAY_MS = 10_000;

/**
 * Purges events (with their deliveries and attempts) and sends older than the retention, on one
 * node of the cluster at a time (the `retention` lease); an event whose delivery is still being
 * retried stays until it is done. Dedup keys are the events' own unique keys, so they live at
 * least as long as the retention; the config schema keeps it at 24 h or more, longer than any
 * platform retries (Feishu's last retry comes about 7 h after the first push, docs/channels/feishu.md).
 */
export function retentionWork(
  store: Retention,
  logger: Logger,
  options: { retentionHours: number; purgeIntervalMinutes: number },
): LeasedWork {
  const purge = async () => {
    try {
      const cutoff = Date.now() - options.retentionHours * 3600_000;
      const result = await store.purgeOlderThan(cutoff);
      logger.info({ ...result, cutoff: new Date(cutoff).toISOString() }, 'retention purge');
    } catch (error) {
      logger.error({ err: error }, 'retention purge failed');
    }
  };
  return {
    name: 'retention',
    async run(signal) {
      let wait = FIRST_PURGE_DELAY_MS;
      while (!signal.aborted) {
        const slept = await sleep(wait, true, { signal }).catch(() => false);
        if (!slept) return;
        await purge();
        wait = options.purgeIntervalMinutes * 60_000;
      }
    },
  };
}
