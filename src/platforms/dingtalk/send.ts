import type { Logger } from 'pino';
import type { UnifiedEvent } from '../../core/event.ts';
import { ImgateError } from '../../core/errors.ts';
import { checkImageUrl } from '../_kit/image-bytes.ts';
import type { TokenService } from '../../tokens/token-service.ts';
import type { SendRequest, SendResult } from '../_kit/adapter.ts';
import { callDingtalkApi, dingtalkCredential } from './api.ts';
import { robotCodeOf, type DingtalkChannelConfig } from './config.ts';
import { postToSessionWebhook, usableSessionWebhook } from './session-webhook.ts';

type Json = Record<string, unknown>;

/** Where a message goes through the robot API: a group (openConversationId) or a member (staff id). */
export type DingtalkTarget = { kind: 'group'; openConversationId: string } | { kind: 'user'; staffId: string };

/** One message, in the form both paths derive theirs from. */
type Message = { kind: 'text'; content: string } | { kind: 'markdown'; title: string; text: string } | { kind: 'image'; photoURL: string };

/** DingTalk's `openConversationId`s (group conversationIds) start so; staff ids are the organization's own. */
const GROUP_ID_PREFIX = 'cid';
/** batchSend says a recipient got too many messages; DingTalk publishes no wait. */
const FLOW_CONTROL_RETRY_AFTER_SECONDS = 60;
/** A markdown message needs a title (shown in notifications); this long at most, from its first line. */
const MAX_TITLE_CHARS = 64;

export interface DingtalkSendDeps {
  tokens: TokenService;
  logger: Logger;
  now?: () => number;
}

/**
 * Sends one message. A reply (`replyTo` a message of this channel, `to` its conversation) goes
 * through that message's sessionWebhook while it lasts — text and markdown, with the group sender
 * mentioned; after that, and for anything else, through the robot API with the app's access token:
 * `groupMessages/send` to a group, `oToMessages/batchSend` to one member.
 */
export async function sendDingtalkMessage(config: DingtalkChannelConfig, deps: DingtalkSendDeps, req: SendRequest): Promise<SendResult> {
  const message = messageOf(req);
  const reply = req.replyTo !== null && sameConversation(req.to, req.replyTo) ? req.replyTo : null;

  if (reply !== null && message.kind !== 'image') {
    const webhook = usableSessionWebhook(reply, req.replyToRaw, (deps.now ?? Date.now)(), config.apiBase);
    if (webhook !== null) {
      const atUserIds = unique([...replyMention(reply, req.replyToRaw), ...req.mentions]);
      const outcome = await postToSessionWebhook(webhook, sessionBody(message, atUserIds));
      if (outcome === 'sent') return { platformMessageId: null };
      deps.logger.info({ channel: config.id, eventId: reply.id }, 'the sessionWebhook has ended; replying through the robot API');
    }
  }

  if (req.mentions.length > 0) {
    throw new ImgateError('IMG_ERR_SEND_UNSUPPORTED', {
      message:
        'DingTalk robot API messages cannot mention anyone: mentions work only in text or markdown replies (replyTo) while the message\'s sessionWebhook lasts',
    });
  }
  const target = targetOf(req.to, reply);
  const credential = dingtalkCredential(config);
  const msg = { msgKey: msgKeyOf(message), msgParam: JSON.stringify(msgParamOf(message)) };
  if (target.kind === 'group') {
    const body = { robotCode: robotCodeOf(config), openConversationId: target.openConversationId, ...msg };
    const answer = await callDingtalkApi(deps.tokens, credential, '/v1.0/robot/groupMessages/send', body);
    return { platformMessageId: processQueryKey(answer) };
  }
  const body = { robotCode: robotCodeOf(config), userIds: [target.staffId], ...msg };
  const answer = await callDingtalkApi(deps.tokens, credential, '/v1.0/robot/oToMessages/batchSend', body);
  checkRecipient(target.staffId, answer);
  return { platformMessageId: processQueryKey(answer) };
}

/**
 * `to` for the robot API. `group:<openConversationId>` and `user:<staffId>` say it outright; a bare
 * id is a group when it starts with `cid` (as every conversationId does) and a staff id otherwise,
 * so an event's `conversation.id` works as it is. A reply goes to its message's conversation.
 */
export function targetOf(to: string, reply: UnifiedEvent | null): DingtalkTarget {
  if (reply !== null) return replyTarget(reply);
  const { kind, id } = parseTo(to);
  if (id === '') throw new ImgateError('IMG_ERR_VALIDATION', { message: '`to` names no conversation', details: { field: 'to' } });
  const resolved = kind ?? (id.startsWith(GROUP_ID_PREFIX) ? 'group' : 'user');
  return resolved === 'group' ? { kind: 'group', openConversationId: id } : { kind: 'user', staffId: id };
}

function replyTarget(event: UnifiedEvent): DingtalkTarget {
  if (event.conversation.type === 'group') return { kind: 'group', openConversationId: event.conversation.id };
  // normalizeDingtalkMessage falls back to the conversationId only when the sender has no staff id.
  if (event.conversation.id === event.message.content.conversationId) {
    throw new ImgateError('IMG_ERR_SEND_UNSUPPORTED', {
      message:
        'this single chat is with someone outside the organization (no staff id): it can be answered only through its sessionWebhook, which has ended',
    });
  }
  return { kind: 'user', staffId: event.conversation.id };
}

function parseTo(to: string): { kind: 'group' | 'user' | undefined; id: string } {
  const match = /^(group|user):(.*)$/.exec(to.trim());
  if (match) return { kind: match[1] as 'group' | 'user', id: (match[2] as string).trim() };
  return { kind: undefined, id: to.trim() };
}

/** `to` names the replied message's conversation: its `conversation.id`, or DingTalk's own conversationId. */
function sameConversation(to: string, event: UnifiedEvent): boolean {
  const { id } = parseTo(to);
  return id === event.conversation.id || id === event.message.content.conversationId;
}

/**
 * In a group a reply mentions whoever it answers, by staff id (`atUserIds` takes nothing else); in a
 * single chat there is no one else to tell.
 */
function replyMention(event: UnifiedEvent, payload: unknown): string[] {
  if (event.conversation.type !== 'group' || payload === null || typeof payload !== 'object') return [];
  const staffId = (payload as Json).senderStaffId;
  return typeof staffId === 'string' && staffId !== '' ? [staffId] : [];
}

function messageOf(req: SendRequest): Message {
  const given = [req.text, req.markdown, req.image].filter((part) => part !== undefined).length;
  if (given === 0) throw new ImgateError('IMG_ERR_VALIDATION', { message: 'one of text, markdown or image is required' });
  if (given > 1) throw new ImgateError('IMG_ERR_SEND_UNSUPPORTED', { message: 'a DingTalk message is text, markdown or an image: send them apart' });
  if (req.text !== undefined) return { kind: 'text', content: req.text };
  if (req.markdown !== undefined) return { kind: 'markdown', title: markdownTitle(req.markdown), text: req.markdown };
  const image = req.image!;
  if (image.url === undefined) {
    throw new ImgateError('IMG_ERR_SEND_UNSUPPORTED', {
      message:
        'DingTalk robots send images by URL (sampleImageMsg photoURL): give image.url, reachable by DingTalk; image.base64 would need a media upload imgate does not do',
    });
  }
  checkImageUrl(image.url);
  return { kind: 'image', photoURL: image.url };
}

function sessionBody(message: Message, atUserIds: string[]): Json {
  const at = { atUserIds, isAtAll: false };
  if (message.kind === 'text') return { msgtype: 'text', text: { content: message.content }, at };
  if (message.kind === 'markdown') return { msgtype: 'markdown', markdown: { title: message.title, text: message.text }, at };
  throw new Error('images never go through the sessionWebhook');
}

/**
 * The robot API's message templates (机器人发送消息的类型,
 * https://open.dingtalk.com/document/orgapp/types-of-messages-sent-by-robots).
 */
function msgKeyOf(message: Message): string {
  return { text: 'sampleText', markdown: 'sampleMarkdown', image: 'sampleImageMsg' }[message.kind];
}

function msgParamOf(message: Message): Json {
  if (message.kind === 'text') return { content: message.content };
  if (message.kind === 'markdown') return { title: message.title, text: message.text };
  return { photoURL: message.photoURL };
}

/** The first line with text, without markdown's heading, quote and emphasis marks. */
export function markdownTitle(markdown: string): string {
  for (const line of markdown.split('\n')) {
    const plain = line
      .replace(/^\s*(#{1,6}\s+|>\s*|[-*+]\s+|\d+\.\s+)/, '')
      .replace(/[*_`~]/g, '')
      .trim();
    if (plain !== '') return plain.length > MAX_TITLE_CHARS ? `${plain.slice(0, MAX_TITLE_CHARS - 1)}…` : plain;
  }
  return 'Message';
}

/**
 * batchSend answers 200 even when the staff id is unknown or flow-controlled, listing it in
 * `invalidStaffIdList` or `flowControlledStaffIdList`: then nothing reached them.
 */
function checkRecipient(staffId: string, answer: Json): void {
  const listed = (name: string) => Array.isArray(answer[name]) && (answer[name] as unknown[]).includes(staffId);
  if (listed('invalidStaffIdList')) {
    throw new ImgateError('IMG_ERR_PLATFORM_REJECTED', {
      message: `DingTalk knows no member with staff id "${staffId}" the robot may message: \`to\` must be a staff id (userid) of the organization`,
      details: { invalidStaffIdList: answer.invalidStaffIdList },
    });
  }
  if (listed('flowControlledStaffIdList')) {
    throw new ImgateError('IMG_ERR_PLATFORM_RATE_LIMITED', {
      message: `DingTalk is holding back messages to "${staffId}" (flow control)`,
      details: { flowControlledStaffIdList: answer.flowControlledStaffIdList },
      retryAfter: FLOW_CONTROL_RETRY_AFTER_SECONDS,
    });
  }
}

function processQueryKey(answer: Json): string | null {
  return typeof answer.processQueryKey === 'string' && answer.processQueryKey !== '' ? answer.processQueryKey : null;
}

function unique(values: string[]): string[] {
  return [...new Set(values.filter((value) => value !== ''))];
}
