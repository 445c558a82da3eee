import type { Config } from '../config/schema.ts';
import { hashApiToken } from '../core/api-token.ts';
import type { Store } from '../store/store.ts';
import { toSubscriptionRecord } from '../subscriptions/from-config.ts';

/**
 * Makes the store agree with the config file at start: its subscriptions are written over (API
 * ones are left alone) and the API keys are replaced, kept only as sha256 hashes.
 */
export async function syncConfigToStore(config: Config, store: Store): Promise<void> {
  const now = Date.now();
  for (const sub of config.subscriptions) {
    const existing = await store.getSubscription(sub.id);
    if (existing && existing.source === 'api') {
      throw new Error(`subscription "${sub.id}" in the config file has the id of one created through the API`);
    }
    await store.upsertSubscription(toSubscriptionRecord(sub, 'config', now, existing?.createdAt ?? now));
  }
  await store.pruneConfigSubscriptions(config.subscriptions.map((sub) => sub.id));
  await store.replaceApiKeys(
    config.apiKeys.map((key) => ({ id: key.id, tokenHash: hashApiToken(key.token), channels: key.channels })),
  );
}
