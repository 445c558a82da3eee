import type { SendSlots } from '../../store/store.ts';
import { ClusterSendLimiter } from '../_kit/cluster-send-limiter.ts';
import type { LimiterClock, SendLimiter } from '../_kit/send-rate-limiter.ts';

/**
 * Telegram's pacing for bots (https://core.telegram.org/bots/faq#my-bot-is-hitting-limits-how-do-i-avoid-this):
 * about one message a second in a chat, at most 20 a minute in a group, about 30 a second in all.
 * Each is a ClusterSendLimiter, so the limits hold for every node sending as the bot; they are
 * scoped by the bot's id, which the channels of one bot share. A send takes its chat's slot first,
 * then (groups, supergroups and channels: a negative id or an @username) its group slot, then one
 * of the bot's, so the bot-wide slots are held the shortest.
 */
export function telegramPacing(botUserId: string, maxWaitSeconds: number, slots: SendSlots, clock?: LimiterClock): SendLimiter {
  const scope = (what: string) => `telegram:${botUserId}:${what}`;
  const perChat = new ClusterSendLimiter({ messages: 1, perSeconds: 1, maxWaitSeconds }, slots, scope('chat'), clock);
  const perGroup = new ClusterSendLimiter({ messages: 20, perSeconds: 60, maxWaitSeconds }, slots, scope('group'), clock);
  const perBot = new ClusterSendLimiter({ messages: 30, perSeconds: 1, maxWaitSeconds }, slots, scope('bot'), clock);
  return {
    run: (chatId, send) =>
      perChat.run(chatId, () => (isGroupChat(chatId) ? perGroup.run(chatId, () => perBot.run('all', send)) : perBot.run('all', send))),
  };
}

/** Private chats have the user's (positive) id; groups and supergroups negative ids; channels may go by @username. */
function isGroupChat(chatId: string): boolean {
  return chatId.startsWith('-') || chatId.startsWith('@');
}
