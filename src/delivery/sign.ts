import { createHmac } from 'node:crypto';
import type { SubscriptionRecord } from '../store/store.ts';

/**
 * The three signing schemes of a subscription's `signing` (docs/config.md, `subscriptions`).
 * `standard` follows the Standard Webhooks spec (https://www.standardwebhooks.com/):
 * test/delivery/sign.test.ts checks it with the `standardwebhooks` package.
 */

function standardKey(secret: string): Buffer {
  return secret.startsWith('whsec_') ? Buffer.from(secret.slice('whsec_'.length), 'base64') : Buffer.from(secret, 'utf8');
}

function hmacSha256(key: Buffer | string, ...parts: (string | Buffer)[]): Buffer {
  const hmac = createHmac('sha256', key);
  for (const part of parts) hmac.update(part);
  return hmac.digest();
}

export interface SignInput {
  /** Stable across retries: the event id. */
  messageId: string;
  /** Unix seconds of this attempt. */
  timestamp: number;
  body: Buffer;
}

export function signDelivery(sub: Pick<SubscriptionRecord, 'signing' | 'secrets'>, input: SignInput): Record<string, string> {
  const [current] = sub.secrets;
  if (current === undefined) throw new Error('a subscription needs a secret to sign with');
  const timestamp = String(input.timestamp);
  switch (sub.signing) {
    case 'standard':
      return {
        'webhook-id': input.messageId,
        'webhook-timestamp': timestamp,
        // One `v1,` entry per active secret, so a receiver on either side of a rotation verifies.
        'webhook-signature': sub.secrets
          .map((secret) => `v1,${hmacSha256(standardKey(secret), `${input.messageId}.${timestamp}.`, input.body).toString('base64')}`)
          .join(' '),
      };
    case 'abot':
      // OpenClaw's wechat_abot checks HMAC-SHA256 over the raw body only (docs/channels/wechat-pad.md, "Raw pad JSON").
      return { 'x-wechat-abot-signature': `sha256=${hmacSha256(current, input.body).toString('hex')}` };
    case 'padpro':
      // The WeChat webhook guide's scheme: timestamp + ":" + body (docs/channels/wechat-pad.md, "Flat JSON").
      return {
        'x-webhook-timestamp': timestamp,
        'x-webhook-signature': hmacSha256(current, `${timestamp}:`, input.body).toString('hex'),
      };
  }
}
