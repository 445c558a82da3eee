import { randomBytes } from 'node:crypto';
import type { Store, SubscriptionRecord } from '../store/store.ts';
import type { SubscriptionRegistry } from '../subscriptions/registry.ts';

/**
 * A registered KF puppet (wechaty-puppet-wxkf) is two subscriptions of kind `puppet`: one for the
 * encrypted callbacks (`${endpoint}/callback`, the original XML and query) and one for the already
 * decrypted notices (`${endpoint}/callback/decrypted`). Being subscriptions, they get the delivery
 * engine's retries, leases and attempt log; being `puppet`, they receive only what is addressed to
 * their OpenKfId. Ids name the channel (the corp) too, so one corp's secret cannot touch another
 * corp's puppets.
 */

/**
 * A notice's Token is valid for 10 minutes (https://kf.weixin.qq.com/api/doc/path/94745) and the
 * puppet also polls by itself, so retrying beyond that helps nobody.
 */
const PUPPET_RETRY_SCHEDULE = [5, 30, 120, 300];
const PUPPET_TIMEOUT_MS = 10_000;

export function puppetSubscriptionId(channelId: string, kfId: string, kind: 'callback' | 'decrypted'): string {
  return kind === 'callback' ? `puppet:${channelId}:${kfId}` : `puppet:${channelId}:${kfId}:decrypted`;
}

export async function registerPuppet(
  store: Store,
  registry: SubscriptionRegistry,
  puppet: { channelId: string; kfId: string; endpoint: string },
  now = Date.now(),
): Promise<void> {
  const base = puppet.endpoint.replace(/\/+$/, '');
  for (const kind of ['callback', 'decrypted'] as const) {
    const id = puppetSubscriptionId(puppet.channelId, puppet.kfId, kind);
    const existing = await store.getSubscription(id);
    await store.upsertSubscription(
      puppetRecord(id, kind === 'callback' ? `${base}/callback` : `${base}/callback/decrypted`, puppet.channelId, now, existing),
    );
  }
  await registry.load();
}

/** Returns false when no puppet was registered for this kfId. */
export async function deregisterPuppet(store: Store, registry: SubscriptionRegistry, channelId: string, kfId: string): Promise<boolean> {
  const removed = await Promise.all([
    store.deleteSubscription(puppetSubscriptionId(channelId, kfId, 'callback')),
    store.deleteSubscription(puppetSubscriptionId(channelId, kfId, 'decrypted')),
  ]);
  await registry.load();
  return removed.some(Boolean);
}

/** The puppet subscription that takes this kind of notice for this kfId, if one is registered. */
export function registeredPuppet(
  registry: SubscriptionRegistry,
  channelId: string,
  kfId: string,
  kind: 'callback' | 'decrypted',
): string | null {
  const sub = registry.get(puppetSubscriptionId(channelId, kfId, kind));
  return sub?.source === 'puppet' && sub.enabled ? sub.id : null;
}

function puppetRecord(id: string, url: string, channelId: string, now: number, existing: SubscriptionRecord | null): SubscriptionRecord {
  return {
    id,
    url,
    // Puppets verify WeCom's own msg_signature; the standard signature headers are there for
    // anyone who wants them, with a secret nobody needs to know.
    secrets: existing?.secrets ?? [`whsec_${randomBytes(24).toString('base64')}`],
    signing: 'standard',
    format: 'raw',
    channels: [channelId],
    messageTypes: null,
    includeSelf: true,
    groups: 'all',
    enabled: true,
    timeoutMs: PUPPET_TIMEOUT_MS,
    retrySchedule: PUPPET_RETRY_SCHEDULE,
    includeRaw: false,
    ordering: 'none',
    pull: false,
    source: 'puppet',
    createdAt: existing?.createdAt ?? now,
    updatedAt: now,
  };
}
