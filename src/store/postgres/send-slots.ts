import { randomUUID } from 'node:crypto';
import type { SendSlots } from '../ports/send-slots.ts';
import { WITH_NOW, type Database } from './database.ts';

// Every slot of the key is locked, in slot order, before one is picked: takers of one key, on any
// node, pick one after the other (each for a moment), and never two the same slot.
const LOCK_SLOTS = `${WITH_NOW}
SELECT slot, token, busy_until, now.ms AS now FROM send_slots, now
WHERE key = $1 AND slot < $2
ORDER BY slot
FOR UPDATE OF send_slots`;

export function postgresSendSlots(db: Database): SendSlots {
  return {
    async takeSendSlot(key, messages, holdMs, windowMs) {
      return db.transaction(async (tx) => {
        // A key's slots are made on first use (and more when its limit grows); existing ones stay.
        await tx.run(
          `INSERT INTO send_slots (key, slot, token, busy_until)
           SELECT $1, slot, NULL, 0 FROM generate_series(0, $2::integer - 1) AS slot
           ON CONFLICT DO NOTHING`,
          [key, messages],
        );
        const slots = await tx.rows<{ slot: number; token: string | null; busy_until: number; now: number }>(LOCK_SLOTS, [
          key,
          messages,
        ]);
        // A limit of no messages has no slots: it answers the shortest wait, as on SQLite.
        if (slots[0] === undefined) return { waitMs: 1 };
        const now = slots[0].now;
        const free = slots
          .filter((slot) => slot.busy_until <= now)
          .sort((a, b) => a.busy_until - b.busy_until || a.slot - b.slot)[0];
        if (free === undefined) {
          // A slot whose send is under way comes free a window after that send returns: at the soonest, now.
          const soonest = Math.min(...slots.map((slot) => (slot.token === null ? slot.busy_until : now + windowMs)));
          return { waitMs: Math.max(1, soonest - now) };
        }
        const token = randomUUID();
        await tx.run('UPDATE send_slots SET token = $3, busy_until = $4 WHERE key = $1 AND slot = $2', [
          key,
          free.slot,
          token,
          now + holdMs,
        ]);
        return { token };
      });
    },

    async releaseSendSlot(key, token, windowMs) {
      await db.run(
        `${WITH_NOW}
         UPDATE send_slots SET busy_until = now.ms + $3, token = NULL FROM now
         WHERE key = $1 AND token = $2`,
        [key, token, windowMs],
      );
    },
  };
}
