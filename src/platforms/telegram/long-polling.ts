import type { NormalizedEvent } from '../../core/event.ts';
import { CursorMovedError } from '../../store/store.ts';
import type { AdapterDeps, ConnectionSession } from '../_kit/adapter.ts';
import { isJsonObject, optionalNumber } from '../_kit/payload-values.ts';
import { callTelegram } from './api.ts';
import { callbackQueryIdOf } from './callback.ts';
import type { TelegramChannelConfig } from './config.ts';
import { HANDLED_UPDATES, normalizeTelegramUpdate, type TelegramBotIdentity } from './normalize.ts';

/** The channel's cursor holding the next getUpdates `offset`. */
export const OFFSET_CURSOR = 'getUpdates.offset';
/** How much longer than its own `timeout` a getUpdates call may take before it counts as lost. */
const REQUEST_GRACE_MS = 10_000;

export interface Poller {
  config: TelegramChannelConfig;
  bot: TelegramBotIdentity;
  deps: AdapterDeps;
}

/**
 * Long polling with getUpdates (https://core.telegram.org/bots/api#getupdates), run by the runtime
 * as the channel's long connection: one node at a time holds it (the `connection:<id>` lease), and
 * a failure comes back after the reconnect backoff. Each batch of updates is stored together with
 * the next `offset` (the last update_id + 1) in one transaction; only the next call, made with that
 * offset, confirms them to Telegram. A crash before the commit gets the same updates again (and
 * the offset with them); one after it starts from the stored offset. Nothing is lost, and what
 * Telegram sends twice is one update_id, stored once.
 */
export async function pollUpdates(poller: Poller, session: ConnectionSession): Promise<void> {
  const { config, deps } = poller;
  let offset = await deps.cursors.get(OFFSET_CURSOR);
  let accepted = false;
  while (!session.signal.aborted) {
    let updates: unknown;
    try {
      updates = await callTelegram(config, 'getUpdates', {
        body: { ...(offset === null ? {} : { offset: Number(offset) }), timeout: config.pollTimeoutSeconds, allowed_updates: HANDLED_UPDATES },
        signal: session.signal,
        timeoutMs: config.pollTimeoutSeconds * 1000 + REQUEST_GRACE_MS,
        repeatable: true,
      });
    } catch (error) {
      if (session.signal.aborted) return;
      throw error;
    }
    if (!accepted) {
      accepted = true;
      session.connected();
    }
    const batch = Array.isArray(updates) ? updates.filter(isJsonObject) : [];
    const last = Math.max(...batch.map((update) => optionalNumber(update.update_id) ?? -1));
    if (batch.length === 0 || last < 0) continue;
    const next = String(last + 1);
    const events = batch.flatMap((update): NormalizedEvent[] => {
      const event = normalizeTelegramUpdate(update, poller.bot, new Date());
      return event === null ? [] : [{ ...event, rawBody: Buffer.from(JSON.stringify(update), 'utf8') }];
    });
    try {
      await deps.sink.ingest(events, Buffer.from(JSON.stringify(batch), 'utf8'), { cursor: { key: OFFSET_CURSOR, value: next, expected: offset } });
    } catch (error) {
      if (!(error instanceof CursorMovedError)) throw error;
      // Another node polled meanwhile (a lease handed over): go on from where it got.
      deps.logger.info('telegram getUpdates offset moved by another node; polling on from it');
      offset = await deps.cursors.get(OFFSET_CURSOR);
      continue;
    }
    offset = next;
    deps.logger.info({ updates: batch.length, events: events.length }, 'telegram updates stored');
    answerCallbackQueries(poller, events);
  }
}

/**
 * Stops the progress indicator of each stored button press (answerCallbackQuery), as the webhook
 * reply does in webhook mode. Not waited for: a failure only leaves the indicator until it times out.
 */
function answerCallbackQueries(poller: Poller, events: NormalizedEvent[]): void {
  for (const event of events) {
    const queryId = callbackQueryIdOf(event);
    if (queryId === null) continue;
    callTelegram(poller.config, 'answerCallbackQuery', { body: { callback_query_id: queryId }, repeatable: true }).catch((error: unknown) =>
      poller.deps.logger.warn({ err: error }, 'telegram answerCallbackQuery failed'),
    );
  }
}
