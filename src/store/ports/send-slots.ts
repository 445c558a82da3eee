/**
 * Send rate limits counted for the whole cluster: a platform's limit per robot, bot or chat (a WeCom
 * robot's 20 messages a minute) is `messages` slots per key. A send takes a slot before it calls the
 * platform and gives it back when the call returned; the slot then stays taken for one more window,
 * so the platform never sees more than `messages` sends of the key in any window, whichever nodes
 * made them. Times are the database's clock.
 */
export interface SendSlots {
  /**
   * Takes a free slot of `key` (one of the first `messages`), held for at most `holdMs` (a node that
   * dies mid-send frees it then): answers its token, or how long until the soonest slot may come
   * free, counting a slot whose send is under way as finishing now (free in `windowMs`).
   */
  takeSendSlot(key: string, messages: number, holdMs: number, windowMs: number): Promise<{ token: string } | { waitMs: number }>;
  /** Gives a slot back after its send: it comes free `windowMs` from now. */
  releaseSendSlot(key: string, token: string, windowMs: number): Promise<void>;
}
