import type { ImgateError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import type { Store } from '../store/store.ts';

export interface TokenGrant {
  value: string;
  /** Lifetime the platform announced. */
  expiresInSeconds: number;
}

/** Where one app credential's access token comes from. */
export interface TokenSource {
  /**
   * The cache key: one per app credential, so that every channel (and every node) using that
   * credential shares one token. Never the secret itself (see `credentialKey`).
   */
  key: string;
  /**
   * Gets a new token. `rejected` is the token the platform just refused, when that is why: a source
   * that asks another token service (a `tokenUrl`) passes it on, so that service renews it too.
   */
  fetch(rejected?: string): Promise<TokenGrant>;
}

/**
 * Thrown by a platform call when the platform says the token is invalid or expired (WeCom 40014
 * and 42001, Feishu 99991663/99991661 …): `withToken` then re-fetches once and retries.
 */
export class TokenRejectedError extends Error {
  constructor(readonly platformError: ImgateError) {
    super(platformError.message);
    this.name = 'TokenRejectedError';
  }
}

export interface TokenLease {
  value: string;
  expiresAt: number;
}

export type TokenStore = Pick<Store, 'getToken' | 'putToken' | 'deleteToken'>;

/** Refresh this long before the platform's expiry, capped at a tenth of the lifetime. */
const REFRESH_AHEAD_MS = 5 * 60_000;

/**
 * Access tokens for every platform. A token is kept in the store (restarts and other nodes reuse
 * it), used until a little before the platform's expiry, and fetched at most once at a time per
 * credential in this process however many sends want it. Token values are never logged.
 */
export class TokenService {
  private readonly fetching = new Map<string, Promise<TokenLease>>();

  constructor(
    private readonly store: TokenStore,
    private readonly logger: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  async get(source: TokenSource, rejected?: string): Promise<string> {
    return (await this.lease(source, rejected)).value;
  }

  /** The token and until when (epoch ms) imgate uses it, for handing it on (the WXKF `getToken`). */
  async lease(source: TokenSource, rejected?: string): Promise<TokenLease> {
    const cached = await this.store.getToken(source.key);
    if (cached && cached.expiresAt > this.now()) return cached;
    return this.fetchOnce(source, rejected);
  }

  /**
   * Forgets `staleValue` if it is still the cached token (one conditional delete, so a token another
   * request or node stored meanwhile is kept): a burst of rejections causes one re-fetch, not one each.
   */
  async invalidate(source: TokenSource, staleValue: string): Promise<void> {
    await this.store.deleteToken(source.key, staleValue);
  }

  /** Runs `call` with a token; if the platform rejects the token, re-fetches it once and retries. */
  async withToken<T>(source: TokenSource, call: (token: string) => Promise<T>): Promise<T> {
    const token = await this.get(source);
    try {
      return await call(token);
    } catch (error) {
      if (!(error instanceof TokenRejectedError)) throw error;
      this.logger.warn({ tokenKey: source.key, code: error.platformError.details }, 'the platform rejected the access token; fetching a new one');
      await this.invalidate(source, token);
      try {
        return await call(await this.get(source, token));
      } catch (retryError) {
        throw retryError instanceof TokenRejectedError ? retryError.platformError : retryError;
      }
    }
  }

  private async fetchOnce(source: TokenSource, rejected: string | undefined): Promise<TokenLease> {
    const running = this.fetching.get(source.key);
    if (running) {
      const lease = await running;
      // A fetch that began before this rejection can bring back the very token refused (a
      // `tokenUrl` service that has not heard of the rejection yet): then fetch again, saying so.
      return rejected !== undefined && lease.value === rejected ? this.fetchOnce(source, rejected) : lease;
    }
    const fetching = (async () => {
      // A caller that read the store just before another fetch stored its token arrives here after
      // that fetch finished: the fresh token is taken, not fetched again.
      const stored = await this.store.getToken(source.key);
      if (stored && stored.expiresAt > this.now() && stored.value !== rejected) return stored;
      const grant = await source.fetch(rejected);
      const lifetimeMs = grant.expiresInSeconds * 1000;
      const expiresAt = this.now() + lifetimeMs - Math.min(REFRESH_AHEAD_MS, lifetimeMs / 10);
      await this.store.putToken(source.key, grant.value, expiresAt);
      this.logger.info({ tokenKey: source.key, expiresInSeconds: grant.expiresInSeconds }, 'fetched an access token');
      return { value: grant.value, expiresAt };
    })().finally(() => this.fetching.delete(source.key));
    this.fetching.set(source.key, fetching);
    return fetching;
  }
}
