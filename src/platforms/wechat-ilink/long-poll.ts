import { setTimeout as sleep } from 'node:timers/promises';
import type { NormalizedEvent } from '../../core/event.ts';
import { ImgateError } from '../../core/errors.ts';
import { CursorMovedError } from '../../store/store.ts';
import type { AdapterDeps, ConnectionSession } from '../_kit/adapter.ts';
import { isJsonObject, optionalNumber, scalarText } from '../_kit/payload-values.ts';
import { callIlink, SESSION_EXPIRED } from './api.ts';
import { activeBot, contextTokenKey, parseContextToken, SESSION_KEY, UPDATES_BUF_CURSOR, type IlinkBot, type StoredContextToken } from './bot-session.ts';
import { ILINK_API_BASE, type WechatIlinkChannelConfig } from './config.ts';
import { contextTokenOf, normalizeIlinkMessage } from './normalize.ts';

/** The long poll's own length when iLink names none (the official client's 35 s). */
const DEFAULT_POLL_MS = 35_000;
/** How much longer than the long poll a getupdates call may take before it counts as lost. */
const REQUEST_GRACE_MS = 10_000;
/** How often a channel without a login looks for one another node (or `imgate login`) stored. */
const LOGIN_CHECK_MS = 1000;

export interface LongPoll {
  config: WechatIlinkChannelConfig;
  deps: AdapterDeps;
  /** Resolves the current wait for a login at once (a login confirmed on this node). */
  loginWaiters: Set<() => void>;
}

/**
 * `getupdates` (the official client's `src/monitor/monitor.ts`) as the channel's long connection,
 * one node at a time. Each answer's messages are stored in one transaction with its
 * `get_updates_buf` (the cursor the next call sends back, written only if no other node moved it)
 * and with each user's latest `context_token`: a crash before the commit asks again with the old
 * buffer and gets the same messages, one after it asks with the new one, so nothing is lost or
 * repeated (what iLink sends twice has one message_id, stored once). The official client writes
 * its buffer to a file after handling a batch, which can repeat a batch after a crash.
 *
 * Without a login, or once WeChat answers -14 (the session ended), polling stops: the -14 is
 * stored as a `system` event (with the session marked ended, in the same transaction) and the
 * connection waits until a new login is stored.
 */
export async function pollIlinkUpdates(poll: LongPoll, session: ConnectionSession): Promise<void> {
  const { config, deps } = poll;
  let bot = await waitForLogin(poll, session.signal);
  let buf = await deps.cursors.get(UPDATES_BUF_CURSOR);
  let pollMs = DEFAULT_POLL_MS;
  let accepted = false;
  while (bot !== null && !session.signal.aborted) {
    let answer: Record<string, unknown>;
    try {
      answer = await callIlink({
        base: bot.baseUrl ?? config.apiBase ?? ILINK_API_BASE,
        path: 'ilink/bot/getupdates',
        token: bot.token,
        body: { get_updates_buf: buf ?? '' },
        signal: session.signal,
        timeoutMs: pollMs + REQUEST_GRACE_MS,
        repeatable: true,
      });
    } catch (error) {
      if (session.signal.aborted) return;
      if (!(error instanceof ImgateError && error.code === 'IMG_ERR_LOGIN_NEEDED')) throw error;
      await announceExpiry(poll, bot);
      bot = await waitForLogin(poll, session.signal);
      continue;
    }
    if (!accepted) {
      accepted = true;
      session.connected();
    }
    pollMs = optionalNumber(answer.longpolling_timeout_ms) ?? pollMs;
    const next = scalarText(answer.get_updates_buf) ?? buf ?? '';
    const messages = Array.isArray(answer.msgs) ? answer.msgs.filter(isJsonObject) : [];
    if (messages.length === 0 && next === (buf ?? '')) continue;
    const receivedAt = new Date();
    const events = messages.flatMap((message): NormalizedEvent[] => {
      const event = normalizeIlinkMessage(message, receivedAt);
      return event === null ? [] : [{ ...event, rawBody: Buffer.from(JSON.stringify(message), 'utf8') }];
    });
    const tokens = await newerContextTokens(deps, messages);
    try {
      await deps.sink.ingest(events, Buffer.from(JSON.stringify(messages), 'utf8'), {
        cursor: { key: UPDATES_BUF_CURSOR, value: next, expected: buf },
        values: tokens,
      });
    } catch (error) {
      if (!(error instanceof CursorMovedError)) throw error;
      deps.logger.info('wechat-ilink get_updates_buf moved by another node; polling on from it');
      buf = await deps.cursors.get(UPDATES_BUF_CURSOR);
      continue;
    }
    buf = next;
    if (events.length > 0) deps.logger.info({ messages: messages.length, events: events.length }, 'wechat-ilink messages stored');
  }
}

/**
 * Each user's latest `context_token` in these messages, where it is newer (by create_time_ms) than
 * the stored one: a message iLink repeats must not put an older token back. Read before the
 * write, which is safe since one node at a time holds the long poll.
 */
async function newerContextTokens(deps: AdapterDeps, messages: Record<string, unknown>[]): Promise<{ key: string; value: string }[]> {
  const latest = new Map<string, StoredContextToken>();
  for (const message of messages) {
    const context = contextTokenOf(message);
    if (context === null) continue;
    const at = optionalNumber(message.create_time_ms) ?? 0;
    const key = contextTokenKey(context.userId);
    if ((latest.get(key)?.at ?? -1) <= at) latest.set(key, { token: context.token, at });
  }
  const updates: { key: string; value: string }[] = [];
  for (const [key, candidate] of latest) {
    const stored = parseContextToken(await deps.values.get(key));
    if (stored === null || stored.at <= candidate.at) updates.push({ key, value: JSON.stringify(candidate) });
  }
  return updates;
}

/** Stores the end of the session as a `system` event, with the session marked ended in the same transaction. */
async function announceExpiry(poll: LongPoll, bot: IlinkBot): Promise<void> {
  const at = new Date();
  const text = `WeChat ended the iLink session of ${bot.botId} (-14): log in again with imgate login ${poll.config.id}`;
  poll.deps.logger.warn({ botId: bot.botId }, 'wechat-ilink session expired; polling stops until a new login');
  const event: NormalizedEvent = {
    dedupKey: `session-expired:${at.getTime()}`,
    type: 'system',
    message: { platformId: `session-expired:${at.getTime()}`, type: 'system', text, createdAt: at.toISOString(), mentions: [], mentionsBot: false, replyTo: null, content: { reason: 'session_expired', errcode: SESSION_EXPIRED, needsLogin: true } },
    // Not the bot's own message: subscribers without includeSelf must hear of it too.
    sender: { id: bot.botId, name: null, isSelf: false },
    conversation: { id: bot.botId, type: 'direct', name: null },
    flags: { history: false },
    raw: { errcode: SESSION_EXPIRED },
  };
  await poll.deps.sink.ingest([event], Buffer.from(JSON.stringify(event.raw), 'utf8'), { values: [{ key: SESSION_KEY, value: 'expired' }] });
}

/** The logged-in bot, once there is one; null when `signal` aborts first. */
async function waitForLogin(poll: LongPoll, signal: AbortSignal): Promise<IlinkBot | null> {
  let reported = false;
  while (!signal.aborted) {
    const bot = await activeBot(poll.deps.values);
    if (bot !== null) return bot;
    if (!reported) {
      reported = true;
      poll.deps.logger.info('wechat-ilink channel waits for a login (imgate login)');
    }
    await new Promise<void>((resolve) => {
      const wake = () => resolve();
      poll.loginWaiters.add(wake);
      sleep(LOGIN_CHECK_MS, undefined, { signal })
        .catch(() => undefined)
        .finally(() => {
          poll.loginWaiters.delete(wake);
          resolve();
        });
    });
  }
  return null;
}
