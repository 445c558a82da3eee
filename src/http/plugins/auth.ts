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

/**
 * The API keys' hashes, read once per store, so that a wrong token on a management route costs no
 * query (guessing the admin token must not load the database). The keys are written only when a node
 * starts (`syncConfigToStore`, before it serves), and every node has the same config (docs/cluster.md);
 * a node that started before another with other keys answers 401 rather than 403 for a key only the
 * other knows, which refuses all the same. A failed read is not kept: the next request tries again.
 */
const apiKeyHashes = new WeakMap<Store, Promise<Set<string>>>();

function knownApiKeyHashes(store: Store): Promise<Set<string>> {
  let hashes = apiKeyHashes.get(store);
  if (hashes === undefined) {
    hashes = store.listApiKeyHashes().then((list) => new Set(list));
    apiKeyHashes.set(store, hashes);
    hashes.catch(() => apiKeyHashes.delete(store));
  }
  return hashes;
}

/**
 * Management routes: `Authorization: Bearer <admin.token>`. No admin token configured: always 401.
 * A valid API key is 403, not 401: the caller is known, the route is not theirs.
 */
export function requireAdmin(adminToken: string | undefined, store: Store): (request: FastifyRequest) => Promise<void> {
  return async (request) => {
    const token = bearerToken(request);
    if (!token) throw new ImgateError('IMG_ERR_AUTH_MISSING');
    if (adminToken && safeEqual(token, adminToken)) return;
    if ((await knownApiKeyHashes(store)).has(hashApiToken(token))) throw new ImgateError('IMG_ERR_AUTH_ADMIN_ONLY');
    throw new ImgateError('IMG_ERR_AUTH_INVALID');
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

/** Who reads a pull subscription: the channels whose events it may see (null: every one). */
export interface StreamReader {
  channels: string[] | null;
}

/** Readers of a pull subscription: the admin token (every channel), or an API key (its channels). */
export async function authenticateStreamReader(request: FastifyRequest, access: { store: Store; adminToken: string | undefined }): Promise<StreamReader> {
  const token = bearerToken(request);
  if (!token) throw new ImgateError('IMG_ERR_AUTH_MISSING');
  if (access.adminToken && safeEqual(token, access.adminToken)) return { channels: null };
  const key = await access.store.findApiKeyByHash(hashApiToken(token));
  if (!key) throw new ImgateError('IMG_ERR_AUTH_INVALID');
  return { channels: key.channels.includes('*') ? null : key.channels };
}

/** A reader limited to some channels may read a subscription whose channels are all among them (one to every channel: none). */
export function requireSubscriptionScope(reader: StreamReader, subscription: SubscriptionRecord): void {
  const allowed = reader.channels;
  if (allowed === null) return;
  if (subscription.channels !== null && subscription.channels.every((channel) => allowed.includes(channel))) return;
  throw new ImgateError('IMG_ERR_AUTH_SCOPE', {
    message: `this API key does not cover every channel of subscription "${subscription.id}"`,
    details: { subscription: subscription.id },
  });
}
