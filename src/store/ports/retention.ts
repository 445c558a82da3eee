export interface PurgeResult {
  events: number;
  deliveries: number;
  attempts: number;
  idempotency: number;
  outbound: number;
  counters: number;
}

export interface Retention {
  /**
   * Deletes events (with their deliveries, attempts and pull-stream entries), sends, and counters last counted, older
   * than `cutoff`. An event with a delivery still pending or in flight is kept until that delivery
   * has succeeded or been dead-lettered. Works in small transactions, so that ingest goes on.
   */
  purgeOlderThan(cutoff: number): Promise<PurgeResult>;
}
