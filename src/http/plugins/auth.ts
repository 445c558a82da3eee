import type { FastifyRequest } from 'fastify';
import { hashApiToken } from '../../core/api-token.ts';
import { ImgateError } from '../../core/errors.ts';
import { safeEqual } from '../../platforms/_kit/timing-safe.ts';
import type { ApiKeyRecord, Store, SubscriptionRecord } from '../../store/store.ts';

export function bearerToken(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  const match = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
  return match?.[1];
}

/** Management routes: `Authorization: Bearer <admin.token>`. No admin token configured: always 401. */
export function requireAdmin(adminToken: string | undefined): (request: FastifyRequest) => Promise<void> {
  return async (request) => {
    const token = bearerToken(request);
    if (!token) throw new ImgateError('IMG_ERR_AUTH_MISSING');
    if (!adminToken || !safeEqual(token, adminToken)) throw new ImgateError('IMG_ERR_AUTH_INVALID');
  };
}

/**
 * Send routes: an API key from config, found by the sha256 of the presented token (only hashes are
 * stored, so a leaked database does not leak keys).
 */
export async function authenticateApiKey(request: FastifyRequest, store: Store): Promise<ApiKeyRecord> {
  const token = bearerToken(request);
  if (!token) throw new ImgateError('IMG_ERR_AUTH_MISSING');
  const key = await store.findApiKeyByHash(hashApiToken(token));
  if (!key) throw new ImgateError('IMG_ERR_AUTH_INVALID');
  return key;
}

/**
 * Readers of a pull subscription: the admin token, or an API key whose channels cover the
 * subscription's (`*` covers every channel; a subscription to every channel needs `*`).
 */
export async function authorizeSubscriptionReader(
  request: FastifyRequest,
  access: { store: Store; adminToken: string | undefined },
  subscription: SubscriptionRecord,
): Promise<void> {
  const token = bearerToken(request);
  if (!token) throw new ImgateError('IMG_ERR_AUTH_MISSING');
  if (access.adminToken && safeEqual(token, access.adminToken)) return;
  const key = await access.store.findApiKeyByHash(hashApiToken(token));
  if (!key) throw new ImgateError('IMG_ERR_AUTH_INVALID');
  const covered = key.channels.includes('*') || (subscription.channels !== null && subscription.channels.every((channel) => key.channels.includes(channel)));
  if (!covered) {
    throw new ImgateError('IMG_ERR_AUTH_SCOPE', {
      message: `this API key does not cover every channel of subscription "${subscription.id}"`,
      details: { subscription: subscription.id },
    });
  }
}
