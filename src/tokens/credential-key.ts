import { createHash } from 'node:crypto';

/**
 * A token cache key for a credential: the platform, the app id and a short hash of the secret, so
 * that a rotated secret gets a new token while the key itself gives nothing away.
 */
export function credentialKey(platform: string, appId: string, secret: string): string {
  const fingerprint = createHash('sha256').update(secret).digest('hex').slice(0, 16);
  return `${platform}:${appId}:${fingerprint}`;
}
