import type { SendSlots } from '../ports/send-slots.ts';
import { nowMs, type SqliteConnection } from './connection.ts';
import { leaseToken } from './delivery-queue.ts';

export function sqliteSendSlots(sql: SqliteConnection): SendSlots {
  return {
    async takeSendSlot(key, messages, holdMs, windowMs) {
      const now = nowMs();
      const token = leaseToken();
      return sql.transaction(() => {
        for (let slot = 0; slot < messages; slot += 1) {
          sql.run('INSERT INTO send_slots (key, slot, token, busy_until) VALUES (?, ?, NULL, 0) ON CONFLICT DO NOTHING', key, slot);
        }
        const taken = sql.run(
          `UPDATE send_slots SET token = @token, busy_until = @until
           WHERE key = @key AND slot = (
             SELECT slot FROM send_slots WHERE key = @key AND slot < @messages AND busy_until <= @now ORDER BY busy_until, slot LIMIT 1)`,
          { key, messages, now, token, until: now + holdMs },
        );
        if (taken.changes > 0) return { token };
        const soonest = sql.one<{ until: number }>(
          `SELECT min(CASE WHEN token IS NULL THEN busy_until ELSE @now + @windowMs END) AS until
           FROM send_slots WHERE key = @key AND slot < @messages`,
          { key, messages, now, windowMs },
        );
        return { waitMs: Math.max(1, (soonest?.until ?? now) - now) };
      });
    },

    async releaseSendSlot(key, token, windowMs) {
      sql.run('UPDATE send_slots SET busy_until = ?, token = NULL WHERE key = ? AND token = ?', nowMs() + windowMs, key, token);
    },
  };
}
