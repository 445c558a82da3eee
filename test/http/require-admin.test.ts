import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { FastifyRequest } from 'fastify';
import { hashApiToken } from '../../src/core/api-token.ts';
import { requireAdmin } from '../../src/http/plugins/auth.ts';
import { openStore } from '../../src/store/open.ts';
import type { Store } from '../../src/store/store.ts';

const ADMIN_TOKEN = 'admin-token-0123456789';
const API_TOKEN = 'api-token-0123456789ab';

function withToken(token: string): FastifyRequest {
  return { headers: { authorization: `Bearer ${token}` } } as FastifyRequest;
}

/** The store as it is, counting the calls made to the two API-key reads. */
function countingReads(store: Store): { store: Store; calls: { find: number; list: number } } {
  const calls = { find: 0, list: 0 };
  const counted: Store = {
    ...store,
    findApiKeyByHash: (hash) => ((calls.find += 1), store.findApiKeyByHash(hash)),
    listApiKeyHashes: () => ((calls.list += 1), store.listApiKeyHashes()),
  };
  return { store: counted, calls };
}

describe('requireAdmin', () => {
  const dir = mkdtempSync(join(tmpdir(), 'imgate-require-admin-'));
  let store: Store;
  before(async () => {
    store = await openStore(`sqlite:${join(dir, 'store.db')}`);
    await store.migrate();
    await store.syncConfig([], [{ id: 'bot', tokenHash: hashApiToken(API_TOKEN), channels: ['*'] }]);
  });
  after(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses wrong tokens without a store query each: the API keys are read once', async () => {
    const { store: counted, calls } = countingReads(store);
    const check = requireAdmin(ADMIN_TOKEN, counted);
    for (let i = 0; i < 50; i += 1) {
      await assert.rejects(check(withToken(`wrong-token-${i}-0123456789`)), { code: 'IMG_ERR_AUTH_INVALID' });
    }
    assert.deepEqual(calls, { find: 0, list: 1 });
  });

  it('answers 403 to an API key, lets the admin token through, and 401 without a token', async () => {
    const check = requireAdmin(ADMIN_TOKEN, store);
    await assert.rejects(check(withToken(API_TOKEN)), { code: 'IMG_ERR_AUTH_ADMIN_ONLY', status: 403 });
    await check(withToken(ADMIN_TOKEN));
    await assert.rejects(check({ headers: {} } as FastifyRequest), { code: 'IMG_ERR_AUTH_MISSING', status: 401 });
  });

  it('reads the keys again after a read that failed', async () => {
    let failures = 1;
    const flaky: Store = {
      ...store,
      listApiKeyHashes: () => (failures-- > 0 ? Promise.reject(new Error('database unavailable')) : store.listApiKeyHashes()),
    };
    const check = requireAdmin(ADMIN_TOKEN, flaky);
    await assert.rejects(check(withToken(API_TOKEN)), /database unavailable/);
    await assert.rejects(check(withToken(API_TOKEN)), { code: 'IMG_ERR_AUTH_ADMIN_ONLY' });
  });
});
