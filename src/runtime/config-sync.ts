import type { Config } from '../config/schema.ts';
import { hashApiToken } from '../core/api-token.ts';
import type { ConfigState } from '../store/store.ts';
import { toSubscriptionRecord } from '../subscriptions/from-config.ts';

/**
 * Makes the store agree with the config file at start, in one transaction (a node starting with a
 * changed config never shows the others half of it): its subscriptions are written over (API ones
 * are left alone) and the API keys are replaced, kept only as sha256 hashes.
 */
export async function syncConfigToStore(config: Config, store: ConfigState): Promise<void> {
  const now = Date.now();
  await store.syncConfig(
    config.subscriptions.map((sub) => toSubscriptionRecord(sub, 'config', now, now)),
    config.apiKeys.map((key) => ({ id: key.id, tokenHash: hashApiToken(key.token), channels: key.channels })),
  );
}
