import { ImgateError } from '../../core/errors.ts';
import { checkImageUrl } from '../_kit/image-bytes.ts';
import type { SendRequest, SendResult } from '../_kit/adapter.ts';
import { scalarText, type Json } from '../_kit/payload-values.ts';
import { withUnknownOutcome } from '../_kit/platform-http.ts';
import type { SendLimiter } from '../_kit/send-rate-limiter.ts';
import { splitMessageText } from '../_kit/split-text.ts';
import { callSlackApi } from './api.ts';

/**
 * Slack truncates `text` beyond 40,000 characters and advises at most 4,000 for a message to read
 * well (https://api.slack.com/methods/chat.postMessage#truncating): longer text goes as several
 * messages of at most this many characters (before `&`, `<` and `>` are escaped).
 */
const SLACK_MAX_TEXT = 4000;
/** Channel (C…), private channel (G…) and DM (D…) ids; a user id (U…, W…) posts to the bot's DM with them. */
const CONVERSATION_ID = /^[CDGUW][A-Z0-9]{2,}$/;
const USER_ID = /^[UW][A-Z0-9]{2,}$/;

export interface SlackSender {
  apiBase: string;
  botToken: string;
  /** Paces posts per Slack channel (`to`), for the whole cluster. */
  limiter: SendLimiter;
}

/**
 * Posts one message with `chat.postMessage` (https://api.slack.com/methods/chat.postMessage) to
 * the channel `to`: text or mrkdwn, split at 4,000 characters, or an image block by URL. A reply
 * (`replyTo` a message of this channel) goes into that message's thread (`thread_ts`: the thread's
 * parent, as Slack threads are one level deep). Each part waits its turn in the channel's rate
 * limit. The result names the first message's `ts`.
 */
export async function sendSlackMessage(sender: SlackSender, req: SendRequest): Promise<SendResult> {
  const channel = req.to.trim();
  if (!CONVERSATION_ID.test(channel)) {
    throw new ImgateError('IMG_ERR_VALIDATION', { message: "`to` must be a Slack channel id (C…, G…, D…) or user id (U…), as an event's conversation.id", details: { field: 'to' } });
  }
  const threadTs = threadOf(req, channel);
  const parts = partsOf(req);
  let first: string | null = null;
  for (const [index, part] of parts.entries()) {
    const body: Json = { channel, ...part };
    if (threadTs !== null) body.thread_ts = threadTs;
    const answer = await sender.limiter
      .run(channel, () => callSlackApi({ apiBase: sender.apiBase, method: 'chat.postMessage', token: sender.botToken, body }))
      .catch((error: unknown) => {
        // A later part failing leaves the first parts posted: that must not read as "not sent".
        throw index === 0 ? error : withUnknownOutcome(error, { partsSent: index });
      });
    first ??= scalarText(answer.ts);
  }
  return { platformMessageId: first };
}

/** The `thread_ts` of a reply: the replied message's thread, or the message itself as a thread's parent. */
function threadOf(req: SendRequest, channel: string): string | null {
  const event = req.replyTo;
  if (event === null || event.type !== 'message') return null;
  if (event.conversation.id !== channel) {
    throw new ImgateError('IMG_ERR_VALIDATION', {
      message: `replyTo names a message of conversation ${event.conversation.id}: a Slack reply goes into that message's thread, so send it to that conversation`,
      details: { field: 'to' },
    });
  }
  return scalarText(event.message.content.threadTs) ?? event.message.platformId;
}

/** The chat.postMessage arguments of each message one send makes, `channel` and `thread_ts` aside. */
function partsOf(req: SendRequest): Json[] {
  const mentions = mentionMarkup(req.mentions);
  if (req.text !== undefined) {
    // Plain text: Slack's three control characters escaped, so that nothing in it becomes a mention
    // or a link (https://api.slack.com/reference/surfaces/formatting#escaping). `mrkdwn` stays on:
    // turning it off is documented only as "disable markup parsing", which could take the mentions too.
    return splitMessageText(req.text, SLACK_MAX_TEXT).map((text, index) => ({ text: `${index === 0 ? mentions : ''}${escapeText(text)}` }));
  }
  if (req.markdown !== undefined) {
    // Slack's own mrkdwn (*bold*, _italic_, <url|label>), passed as written.
    return splitMessageText(req.markdown, SLACK_MAX_TEXT).map((text, index) => ({ text: `${index === 0 ? mentions : ''}${text}`, mrkdwn: true }));
  }
  if (req.image !== undefined) return [imagePart(req.image, mentions)];
  throw new ImgateError('IMG_ERR_SEND_UNSUPPORTED', { message: 'Slack channels send text, markdown (mrkdwn) or an image (no news cards)' });
}

/**
 * An image block that Slack fetches from `image.url` (https://api.slack.com/reference/block-kit/blocks#image),
 * with `text` as the notification's fallback. A base64 image would need Slack's external upload
 * (files.getUploadURLExternal), which imgate does not do.
 */
function imagePart(image: NonNullable<SendRequest['image']>, mentions: string): Json {
  if (image.url === undefined) {
    throw new ImgateError('IMG_ERR_SEND_UNSUPPORTED', {
      message: 'Slack channels send images by URL (an image block, fetched by Slack): give image.url, reachable by Slack; image.base64 would need a file upload imgate does not do',
    });
  }
  checkImageUrl(image.url);
  const blocks: Json[] = [];
  if (mentions !== '') blocks.push({ type: 'section', text: { type: 'mrkdwn', text: mentions.trimEnd() } });
  blocks.push({ type: 'image', image_url: image.url, alt_text: 'image' });
  return { text: `${mentions}image`, blocks };
}

/** `<@U…> ` per mentioned user, in front of the first part. */
function mentionMarkup(mentions: string[]): string {
  const ids = [...new Set(mentions.map((id) => id.trim()))];
  const bad = ids.find((id) => !USER_ID.test(id));
  if (bad !== undefined) {
    throw new ImgateError('IMG_ERR_VALIDATION', { message: `mentions takes Slack user ids (U…, W…), not "${bad}"`, details: { field: 'mentions' } });
  }
  return ids.map((id) => `<@${id}> `).join('');
}

function escapeText(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
