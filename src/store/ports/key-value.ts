/**
 * Small shared values: cached access tokens, per-channel cursors (written with their events through
 * the event log) and per-channel counters.
 */
export interface KeyValue {
  getToken(key: string): Promise<{ value: string; expiresAt: number } | null>;
  putToken(key: string, value: string, expiresAt: number): Promise<void>;
  /** Deletes the token, or with `onlyValue` only while it still has that value. */
  deleteToken(key: string, onlyValue?: string): Promise<void>;

  getCursor(channel: string, key: string): Promise<string | null>;
  putCursor(channel: string, key: string, value: string): Promise<void>;
  /** The keys this channel has cursors for (e.g. the KF accounts it has pulled before). */
  listCursorKeys(channel: string): Promise<string[]>;

  /**
   * Adds one to this channel's counter `key` (a new counter starts at 1) and answers the new value,
   * atomically: concurrent calls, from any node, each get their own number.
   */
  nextCounter(channel: string, key: string, now: number): Promise<number>;
}
