import { createHash } from 'node:crypto';
import type { RawFile, REST } from '@discordjs/rest';
import { Routes } from 'discord-api-types/v10';
import type { Logger } from 'pino';
import type { UnifiedEvent } from '../../core/event.ts';
import { ImgateError } from '../../core/errors.ts';
import type { SendRequest, SendResult } from '../_kit/adapter.ts';
import { checkImageUrl, decodedImage } from '../_kit/image-bytes.ts';
import { withUnknownOutcome } from '../_kit/platform-http.ts';
import { splitMessageText } from '../_kit/split-text.ts';
import { isJsonObject, jsonObject, scalarText, type Json } from '../_kit/payload-values.ts';
import { imageFileName } from '../_kit/wecom-media.ts';
import type { DiscordChannelConfig } from './config.ts';
import { callDiscord } from './api.ts';

const SNOWFLAKE = /^\d{1,20}$/;
/** Discord refuses message content longer than this (characters, as JavaScript counts them). */
const DISCORD_MAX_CONTENT = 2000;
/**
 * An interaction token answers for 15 minutes (Discord, "Receiving and Responding"); a reply that
 * would arrive later than this after the interaction goes to the channel as a plain message.
 */
const INTERACTION_TOKEN_USABLE_MS = 15 * 60_000 - 30_000;
/** Discord's `nonce` is at most 25 characters. */
const NONCE_CHARS = 25;
/**
 * Users named in the text are pinged; roles, @everyone and @here never are: a bot's text (often a
 * model's) should not be able to ping a whole server. The author of a replied-to message is.
 */
const ALLOWED_MENTIONS = { parse: ['users'], replied_user: true };

export interface DiscordSender {
  config: DiscordChannelConfig;
  rest: REST;
  logger: Logger;
  now?: () => number;
}

/** One Discord message to post: its body and the files uploaded with it. */
interface Part {
  body: Json;
  files: RawFile[];
}

/** How a reply to a slash command goes: through the interaction's webhook while its token lasts. */
interface InteractionReply {
  applicationId: string;
  token: string;
}

/**
 * Sends one message to the channel `to` (a channel id: a guild channel, thread or DM channel, as
 * an event's `conversation.id`). Text and markdown (Discord's own format) longer than 2000
 * characters go as several messages; an image goes as an embed (`image.url`, fetched by Discord) or
 * an uploaded attachment (`image.base64`). A reply to a message carries `message_reference` on its
 * first part; a reply to a slash command is a followup on the interaction's webhook, the first of
 * which replaces the "thinking…" of the deferred answer. The result names the first message.
 */
export async function sendDiscordMessage(sender: DiscordSender, req: SendRequest): Promise<SendResult> {
  const channelId = req.to.trim();
  if (!SNOWFLAKE.test(channelId)) {
    throw new ImgateError('IMG_ERR_VALIDATION', { message: '`to` must be a Discord channel id (digits), as an event\'s conversation.id', details: { field: 'to' } });
  }
  const reply = req.replyTo;
  if (reply !== null && reply.conversation.id !== channelId) {
    throw new ImgateError('IMG_ERR_VALIDATION', {
      message: `replyTo names a message in channel ${reply.conversation.id}: a reply goes to that channel, so \`to\` must be it`,
      details: { field: 'to' },
    });
  }
  const parts = await partsOf(req);
  const interaction = reply === null ? null : interactionReply(sender, reply, req.replyToRaw);
  if (interaction !== null) return { platformMessageId: await postFollowups(sender, interaction, parts) };
  if (reply !== null && reply.message.content.interaction !== undefined) {
    sender.logger.info({ channel: sender.config.id, eventId: reply.id }, 'the interaction token has expired; replying with a plain message in the channel');
  }
  const reference = reply === null || reply.message.content.interaction !== undefined ? null : messageReference(reply);
  let first: string | null = null;
  for (const [index, part] of parts.entries()) {
    const body: Json = { ...part.body, nonce: nonceOf(req.idempotencyKey, index), enforce_nonce: true };
    if (index === 0 && reference !== null) body.message_reference = reference;
    const message = await callDiscord(sender.rest, sender.config.token, `POST /channels/${channelId}/messages`, (rest) =>
      rest.post(Routes.channelMessages(channelId), { body, files: part.files.length > 0 ? part.files : undefined }),
    ).catch((error: unknown) => {
      throw partlySent(error, index);
    });
    first ??= messageIdOf(message);
  }
  return { platformMessageId: first };
}

/**
 * True unless the send goes as an interaction followup: channel messages carry a nonce with
 * `enforce_nonce` ("If another message was created by the same author with the same nonce, that
 * message will be returned and no new message will be created", within a few minutes), followups
 * on the interaction's webhook take none.
 */
export function discordDropsRepeats(sender: DiscordSender, req: SendRequest): boolean {
  return req.replyTo === null || interactionReply(sender, req.replyTo, req.replyToRaw) === null;
}

/** A failure after `sent` parts went out: the message is partly there, which must not read as "not sent". */
function partlySent(error: unknown, sent: number): unknown {
  return sent === 0 ? error : withUnknownOutcome(error, { partsSent: sent });
}

/** The messages one send makes: text parts with the mentions in front, or one image. */
async function partsOf(req: SendRequest): Promise<Part[]> {
  const mentions = req.mentions.map((id) => id.trim());
  const invalid = mentions.find((id) => !SNOWFLAKE.test(id));
  if (invalid !== undefined) {
    throw new ImgateError('IMG_ERR_VALIDATION', { message: `mentions takes Discord user ids (digits), not "${invalid}"`, details: { field: 'mentions' } });
  }
  const prefix = mentions.map((id) => `<@${id}> `).join('');
  const text = req.text ?? req.markdown;
  if (text !== undefined) {
    return splitMessageText(`${prefix}${text}`, DISCORD_MAX_CONTENT).map((content) => ({ body: { content, allowed_mentions: ALLOWED_MENTIONS }, files: [] }));
  }
  if (req.image === undefined) throw new ImgateError('IMG_ERR_VALIDATION', { message: 'one of text, markdown or image is required' });
  const body: Json = { allowed_mentions: ALLOWED_MENTIONS };
  if (prefix !== '') body.content = prefix.trimEnd();
  if (req.image.url !== undefined) {
    checkImageUrl(req.image.url);
    return [{ body: { ...body, embeds: [{ image: { url: req.image.url } }] }, files: [] }];
  }
  if (req.image.base64 === undefined) throw new ImgateError('IMG_ERR_VALIDATION', { message: 'image needs url or base64' });
  const bytes = decodedImage(req.image.base64);
  const { name, type } = imageFileName(bytes);
  return [{ body, files: [{ name, data: bytes, contentType: type }] }];
}

/**
 * A reply to a slash command event goes through the interaction's webhook while the token lasts
 * (it is in the stored payload, never in the event); null once it has expired, or for a message.
 */
function interactionReply(sender: DiscordSender, event: UnifiedEvent, raw: unknown): InteractionReply | null {
  const interaction = jsonObject(event.message.content.interaction);
  if (interaction === null || !isJsonObject(raw)) return null;
  const token = scalarText(raw.token);
  const applicationId = sender.config.applicationId ?? scalarText(interaction.applicationId) ?? scalarText(raw.application_id);
  const createdAt = Date.parse(event.message.createdAt);
  const now = (sender.now ?? Date.now)();
  if (token === null || applicationId === null || !(now - createdAt < INTERACTION_TOKEN_USABLE_MS)) return null;
  return { applicationId, token };
}

/** `POST /webhooks/{application_id}/{token}` per part, without the bot token (the interaction token authorizes). */
async function postFollowups(sender: DiscordSender, interaction: InteractionReply, parts: Part[]): Promise<string | null> {
  let first: string | null = null;
  for (const [index, part] of parts.entries()) {
    const message = await callDiscord(
      sender.rest,
      sender.config.token,
      'the interaction followup',
      (rest) =>
        rest.post(Routes.webhook(interaction.applicationId, interaction.token), {
          body: part.body,
          files: part.files.length > 0 ? part.files : undefined,
          auth: false,
        }),
      [interaction.token],
    ).catch((error: unknown) => {
      throw partlySent(error, index);
    });
    first ??= messageIdOf(message);
  }
  return first;
}

/**
 * What a reply carries: the replied message, and `fail_if_not_exists: false`, so that a reply to a
 * message deleted in the meantime still arrives, as a plain message.
 */
function messageReference(event: UnifiedEvent): Json {
  const reference: Json = { message_id: event.message.platformId, channel_id: event.conversation.id, fail_if_not_exists: false };
  const guildId = scalarText(event.message.content.guildId);
  if (guildId !== null) reference.guild_id = guildId;
  return reference;
}

/**
 * Discord's `nonce` with `enforce_nonce`: a message posted again with the same nonce within a few
 * minutes is not created twice (Discord answers with the first). Derived from the send's
 * idempotency key and the part's place, so a retried send repeats none of the parts already posted.
 */
export function nonceOf(idempotencyKey: string, index: number): string {
  return createHash('sha256').update(`${idempotencyKey}\n${index}`).digest('base64url').slice(0, NONCE_CHARS);
}

function messageIdOf(message: unknown): string | null {
  return isJsonObject(message) ? scalarText(message.id) : null;
}
