/**
 * Subscriptions and API keys: what the config file and the management API define, shared by every
 * node.
 */

export interface SubscriptionRecord {
  id: string;
  url: string;
  /** One secret, or two while a secret is being rotated. */
  secrets: string[];
  signing: 'standard' | 'abot' | 'padpro';
  format: 'unified' | 'raw';
  channels: string[] | null;
  messageTypes: string[] | null;
  includeSelf: boolean;
  groups: 'all' | 'mention' | 'none';
  enabled: boolean;
  timeoutMs: number;
  retrySchedule: number[];
  includeRaw: boolean;
  /**
   * `conversation`: the events of one conversation are delivered in the order stored, each after the
   * previous one succeeded or was dead-lettered; `none`: every delivery on its own (the default).
   */
  ordering: 'none' | 'conversation';
  /**
   * A pull subscription: its events are kept in a stream that clients read (SSE, WebSocket, long
   * polling) instead of being POSTed; it has no url and no secrets.
   */
  pull: boolean;
  /**
   * `config` subscriptions are rewritten from the config file at every start; `puppet` ones are
   * registered WeCom KF puppets, which receive only the callbacks addressed to them.
   */
  source: 'config' | 'api' | 'puppet';
  createdAt: number;
  /**
   * Also the subscription's version (its ETag in the API): every write sets it past the stored one,
   * even a write in the same millisecond or from a node whose clock is behind.
   */
  updatedAt: number;
}

export interface ApiKeyRecord {
  id: string;
  /** sha256 hex of the token; the token itself is never stored. */
  tokenHash: string;
  channels: string[];
}

export interface ConfigState {
  /** Writes a subscription (its `createdAt` kept if it exists); answers the version stored. */
  upsertSubscription(sub: SubscriptionRecord): Promise<number>;
  /**
   * Compare-and-set: writes `sub` over the stored subscription only while it still has `version`,
   * in one statement, so that of two writers who read the same version one wins. Answers the new
   * version, or null when the subscription changed since or is gone.
   */
  replaceSubscriptionIf(sub: SubscriptionRecord, version: number): Promise<number | null>;
  getSubscription(id: string): Promise<SubscriptionRecord | null>;
  listSubscriptions(): Promise<SubscriptionRecord[]>;
  /** Deletes a subscription (with `version`: only while it still has it); answers whether one was deleted. */
  deleteSubscription(id: string, version?: number): Promise<boolean>;
  setSubscriptionEnabled(id: string, enabled: boolean): Promise<void>;
  /**
   * Makes the stored config what a config file says, in one transaction, so that no node ever sees
   * half of it: `config` subscriptions are written over (keeping their creation time) and those not
   * listed removed, API keys replaced as a whole. Refuses (and changes nothing) when a listed id
   * belongs to a subscription created through the API.
   */
  syncConfig(subscriptions: SubscriptionRecord[], apiKeys: ApiKeyRecord[]): Promise<void>;
  findApiKeyByHash(tokenHash: string): Promise<ApiKeyRecord | null>;
  /** The sha256 hashes of every API key, for telling an API key from a wrong token without a query each. */
  listApiKeyHashes(): Promise<string[]>;
}
