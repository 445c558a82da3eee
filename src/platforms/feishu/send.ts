import { createHash } from 'node:crypto';
import type { Dispatcher } from 'undici';
import { ImgateError } from '../../core/errors.ts';
import type { SendLimiter } from '../_kit/send-rate-limiter.ts';
import type { TokenService } from '../../tokens/token-service.ts';
import type { SendRequest, SendResult } from '../_kit/adapter.ts';
import { callFeishuApi, uploadFeishuImage, type FeishuCredential } from './api.ts';
import { MENTION_ALL } from './normalize.ts';

type Json = Record<string, unknown>;

/** What one send needs besides the request: the channel, its credential, tokens and per-chat limiter. */
export interface FeishuSender {
  channelId: string;
  credential: FeishuCredential;
  tokens: TokenService;
  limiter: SendLimiter;
  /** For an image sent by URL (`AdapterDeps.downloads`). */
  downloads: Dispatcher;
}

/** open_ids, user_ids and union_ids are letters, digits, `_` and `-`; they go into `<at user_id="…">`. */
const MENTIONABLE = /^[A-Za-z0-9_-]{1,128}$/;

/**
 * Sends one message: `POST /open-apis/im/v1/messages?receive_id_type=chat_id` to the chat `to`, or
 * `POST /open-apis/im/v1/messages/:message_id/reply` when `replyTo` names a received message (the
 * reply quotes it, in its chat). Once a slot of the chat's rate limit is free; one attempt (the
 * send service retries IMG_ERR_PLATFORM_UNREACHABLE, with the same `uuid`, which Feishu
 * deduplicates for an hour).
 */
export async function sendFeishuMessage(sender: FeishuSender, req: SendRequest): Promise<SendResult> {
  const replyTo = replyTarget(req);
  const { msgType, content } = await messageOf(sender, req);
  const uuid = feishuUuid(sender.channelId, req.to, req.idempotencyKey);
  const answer = await sender.limiter.run(req.to, () =>
    replyTo === null
      ? callFeishuApi(sender.tokens, sender.credential, {
          path: '/open-apis/im/v1/messages',
          query: { receive_id_type: receiveIdType(req.to) },
          body: { receive_id: req.to, msg_type: msgType, content, uuid },
        })
      : callFeishuApi(sender.tokens, sender.credential, {
          path: `/open-apis/im/v1/messages/${encodeURIComponent(replyTo)}/reply`,
          body: { msg_type: msgType, content, uuid },
        }),
  );
  const data = answer.data;
  const messageId = data !== null && typeof data === 'object' ? (data as Json).message_id : undefined;
  return { platformMessageId: typeof messageId === 'string' && messageId !== '' ? messageId : null };
}

/**
 * Feishu's `uuid` (at most 50 characters; the same uuid sends at most one message an hour): the
 * first 32 hex digits of sha256 over the channel, the chat and the idempotency key, so a retried
 * send is the same message to Feishu and unrelated sends never share one.
 */
export function feishuUuid(channelId: string, to: string, idempotencyKey: string): string {
  return createHash('sha256').update(`${channelId}\n${to}\n${idempotencyKey}`).digest('hex').slice(0, 32);
}

/**
 * `to` is a conversation.id, a chat_id (`oc_…`, also for p2p chats). An open_id (`ou_…`) or
 * union_id (`on_…`) is taken too, for writing to a user who has not written first.
 */
export function receiveIdType(to: string): 'chat_id' | 'open_id' | 'union_id' {
  if (to.startsWith('ou_')) return 'open_id';
  if (to.startsWith('on_')) return 'union_id';
  return 'chat_id';
}

/**
 * The message replied to, when `replyTo` names a received message; null otherwise (no replyTo, or
 * an event that is no message — a recall, the bot added — which has nothing to quote: the send
 * then goes to `to` as a new message).
 */
function replyTarget(req: SendRequest): string | null {
  const event = req.replyTo;
  if (event === null || event.type !== 'message') return null;
  if (event.conversation.id !== req.to) {
    throw new ImgateError('IMG_ERR_VALIDATION', {
      message: `replyTo names a message of conversation ${event.conversation.id}: a Feishu reply goes to the chat of the message it answers, so send it to that conversation`,
      details: { field: 'to' },
    });
  }
  return event.message.platformId;
}

/** `msg_type` and `content` (a JSON string, as Feishu wants it). */
async function messageOf(sender: FeishuSender, req: SendRequest): Promise<{ msgType: string; content: string }> {
  const mentions = mentionMarkup(req.mentions);
  if (req.text !== undefined) return { msgType: 'text', content: JSON.stringify({ text: `${mentions}${req.text}` }) };
  if (req.markdown !== undefined) {
    // A rich-text post of one `md` element, as the SDK's own channel sends markdown
    // (`markdownToPost`): it reads as an ordinary message (a card would be a box with a width
    // of its own) and renders bold, italics, links, lists, quotes, code and `<at>` mentions.
    const post = { zh_cn: { title: '', content: [[{ tag: 'md', text: `${mentions}${req.markdown}` }]] } };
    return { msgType: 'post', content: JSON.stringify(post) };
  }
  if (req.image !== undefined) {
    if (req.mentions.length > 0) {
      throw new ImgateError('IMG_ERR_SEND_UNSUPPORTED', { message: 'a Feishu image message cannot mention anyone: send the mentions as text' });
    }
    const imageKey = await uploadFeishuImage(sender.tokens, sender.credential, req.image, sender.downloads);
    return { msgType: 'image', content: JSON.stringify({ image_key: imageKey }) };
  }
  throw new ImgateError('IMG_ERR_SEND_UNSUPPORTED', { message: 'Feishu channels send text, markdown or an image (no news cards)' });
}

/** `<at user_id="ou_…"></at> ` per mention (everyone: `all`), Feishu's mention syntax in text and md. */
function mentionMarkup(mentions: string[]): string {
  const ids = [...new Set(mentions)];
  const bad = ids.find((id) => id !== MENTION_ALL && !MENTIONABLE.test(id));
  if (bad !== undefined) {
    throw new ImgateError('IMG_ERR_VALIDATION', {
      message: 'mentions are open_ids (ou_…), user_ids or "all"',
      details: { field: 'mentions', value: bad },
    });
  }
  return ids.map((id) => `<at user_id="${id}"></at> `).join('');
}
