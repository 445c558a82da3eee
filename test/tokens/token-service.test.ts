import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { ImgateError } from '../../src/core/errors.ts';
import { openStore } from '../../src/store/open.ts';
import { TokenRejectedError, TokenService, type TokenSource } from '../../src/tokens/token-service.ts';

const silent = pino({ level: 'silent' });

interface CountingSource extends TokenSource {
  fetches: number;
  /** Fetches finish only once this settles. */
  release: Promise<void>;
}

/** A token source that counts its fetches and hands out `tok-1`, `tok-2`, … */
function countingSource(expiresInSeconds = 7200, key = 'test:app:abc'): CountingSource {
  const source: CountingSource = {
    key,
    fetches: 0,
    release: Promise.resolve(),
    async fetch() {
      source.fetches += 1;
      const value = `tok-${source.fetches}`;
      await source.release;
      return { value, expiresInSeconds };
    },
  };
  return source;
}

async function memoryStore() {
  const store = await openStore('sqlite::memory:');
  await store.migrate();
  return store;
}

describe('TokenService', () => {
  it('fetches once however many callers ask at the same moment', async () => {
    const tokens = new TokenService(await memoryStore(), silent);
    const source = countingSource();
    let open: () => void = () => undefined;
    source.release = new Promise<void>((resolve) => (open = resolve));
    const waiting = Array.from({ length: 100 }, () => tokens.get(source));
    open();
    const values = await Promise.all(waiting);
    assert.equal(source.fetches, 1);
    assert.deepEqual(new Set(values), new Set(['tok-1']));
  });

  it('fetches once also with a store that answers late (as PostgreSQL will), for callers arriving throughout', async () => {
    const store = await memoryStore();
    const slow = {
      getToken: async (key: string) => {
        const value = await store.getToken(key);
        await new Promise((resolve) => setTimeout(resolve, 5));
        return value;
      },
      putToken: (key: string, value: string, expiresAt: number) => store.putToken(key, value, expiresAt),
      deleteToken: (key: string, onlyValue?: string) => store.deleteToken(key, onlyValue),
    };
    const tokens = new TokenService(slow, silent);
    const source = countingSource();
    const callers = Array.from({ length: 60 }, (_, i) => new Promise((resolve) => setTimeout(resolve, i % 15)).then(() => tokens.get(source)));
    assert.deepEqual(new Set(await Promise.all(callers)), new Set(['tok-1']));
    assert.equal(source.fetches, 1);
  });

  it('keeps the token in the store, so a restarted process reuses it', async () => {
    const store = await memoryStore();
    const source = countingSource();
    assert.equal(await new TokenService(store, silent).get(source), 'tok-1');
    assert.equal(await new TokenService(store, silent).get(source), 'tok-1');
    assert.equal(source.fetches, 1);
  });

  it('refreshes ahead of the expiry: 5 minutes before, or a tenth of a short lifetime', async () => {
    const store = await memoryStore();
    let now = 1_000_000;
    const tokens = new TokenService(store, silent, () => now);
    const source = countingSource(7200);
    await tokens.get(source);
    const stored = await store.getToken(source.key);
    assert.equal(stored?.expiresAt, 1_000_000 + 7200_000 - 300_000);
    now = 1_000_000 + 7200_000 - 300_001;
    assert.equal(await tokens.get(source), 'tok-1');
    now += 1;
    assert.equal(await tokens.get(source), 'tok-2');

    const short = countingSource(60, 'test:short:abc');
    await tokens.get(short);
    assert.equal((await store.getToken(short.key))?.expiresAt, now + 54_000);
  });

  it('invalidates only the token that was rejected, not one fetched meanwhile', async () => {
    const store = await memoryStore();
    const tokens = new TokenService(store, silent);
    const source = countingSource();
    await tokens.get(source);
    await tokens.invalidate(source, 'tok-0-some-older-token');
    assert.equal(await tokens.get(source), 'tok-1');
    await tokens.invalidate(source, 'tok-1');
    assert.equal(await tokens.get(source), 'tok-2');
    assert.equal(source.fetches, 2);
  });

  it('fetches again for a caller whose rejected token an earlier fetch brings back', async () => {
    const tokens = new TokenService(await memoryStore(), silent);
    // Like a `tokenUrl` service: it keeps handing out its cached token until told it was refused.
    let open: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const asked: (string | undefined)[] = [];
    const source: TokenSource = {
      key: 'test:app:shared',
      async fetch(rejected) {
        asked.push(rejected);
        await gate;
        return { value: rejected === 'tok-old' ? 'tok-new' : 'tok-old', expiresInSeconds: 7200 };
      },
    };
    const plain = tokens.get(source);
    await new Promise((resolve) => setImmediate(resolve));
    const afterRejection = tokens.get(source, 'tok-old');
    open();
    assert.equal(await plain, 'tok-old');
    assert.equal(await afterRejection, 'tok-new');
    assert.deepEqual(asked, [undefined, 'tok-old']);
  });

  it('withToken re-fetches once when the platform rejects the token, and retries', async () => {
    const tokens = new TokenService(await memoryStore(), silent);
    const source = countingSource();
    const used: string[] = [];
    const result = await tokens.withToken(source, async (token) => {
      used.push(token);
      if (token === 'tok-1') throw new TokenRejectedError(new ImgateError('IMG_ERR_PLATFORM_REJECTED', { details: { errcode: 42001 } }));
      return 'sent';
    });
    assert.equal(result, 'sent');
    assert.deepEqual(used, ['tok-1', 'tok-2']);
  });

  it('withToken gives up after one re-fetch and surfaces the platform error', async () => {
    const tokens = new TokenService(await memoryStore(), silent);
    const source = countingSource();
    const rejection = new ImgateError('IMG_ERR_PLATFORM_REJECTED', { details: { errcode: 40014 } });
    await assert.rejects(
      tokens.withToken(source, async () => {
        throw new TokenRejectedError(rejection);
      }),
      (error) => error === rejection,
    );
    assert.equal(source.fetches, 2);
  });

  it('a failed fetch is not cached: the next call fetches again', async () => {
    const tokens = new TokenService(await memoryStore(), silent);
    let calls = 0;
    const flaky: TokenSource = {
      key: 'test:flaky:abc',
      async fetch() {
        calls += 1;
        if (calls === 1) throw new ImgateError('IMG_ERR_PLATFORM_UNREACHABLE');
        return { value: 'good', expiresInSeconds: 7200 };
      },
    };
    await assert.rejects(tokens.get(flaky), { code: 'IMG_ERR_PLATFORM_UNREACHABLE' });
    assert.equal(await tokens.get(flaky), 'good');
  });
});
