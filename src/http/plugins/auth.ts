import type { FastifyRequest } from 'fastify';
import { hashApiToken } from '../../core/api-token.ts';
import { ImgateError } from '../../core/errors.ts';
import { safeEqual } from '../../platforms/_kit/timing-safe.ts';
import type { ApiKeyRecord, Store } from '../../store/store.ts';

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
