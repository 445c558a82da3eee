import type { NormalizedEvent } from '../../core/event.ts';
import { ImgateError } from '../../core/errors.ts';
import { displayText, isJsonObject, jsonObject, optionalNumber, scalarText, type Json } from '../_kit/payload-values.ts';
import { conversationOf, displayName } from './normalize.ts';

/** The key an interaction is deduplicated on: distinct from message ids (which have no `:`). */
const INTERACTION_KEY_PREFIX = 'interaction:';
/** Discord's epoch (2015-01-01), from which a snowflake's top 42 bits count milliseconds. */
const DISCORD_EPOCH_MS = 1_420_070_400_000n;
/** Option types that nest options: SUB_COMMAND (1) and SUB_COMMAND_GROUP (2). */
const NESTING_OPTION_TYPES = new Set([1, 2]);

/**
 * What `content.interaction` of a slash command event holds: enough to tell commands apart and to
 * read their options, and the application it belongs to. The interaction `token` is not here: it
 * lets anyone post in the channel for 15 minutes, so it stays in the stored payload, where a reply
 * through imgate finds it, blanked wherever the payload is shown (`redactInteractionToken`).
 */
interface InteractionContent {
  id: string;
  applicationId: string | null;
  commandId: string | null;
  commandName: string;
  /** 1 CHAT_INPUT (a slash command), 2 USER and 3 MESSAGE (context menu commands). */
  commandType: number;
  /** The user or message a context menu command was used on. */
  targetId: string | null;
  /** As Discord sends them: `[{name, type, value?, options?}]`. */
  options: unknown[];
}

/**
 * An APPLICATION_COMMAND interaction (type 2) as a `message` event, so that a bot handles a slash
 * command as it would a message addressed to it (`mentionsBot: true`): `text` is the command as a
 * user would type it (`/deploy env:prod`), `content.interaction` the command itself.
 * https://discord.com/developers/docs/interactions/receiving-and-responding#interaction-object
 */
export function normalizeDiscordCommand(body: Json, receivedAt: Date): NormalizedEvent {
  const id = scalarText(body.id);
  const channel = jsonObject(body.channel);
  const channelId = scalarText(body.channel_id) ?? scalarText(channel?.id);
  const data = jsonObject(body.data);
  const commandName = scalarText(data?.name);
  if (id === null || channelId === null || data === null || commandName === null) {
    throw new ImgateError('IMG_ERR_INBOUND_UNSUPPORTED', { message: 'the application command interaction has no id, channel or data.name' });
  }
  const member = jsonObject(body.member);
  // In a guild the user is the member's; in a DM or a group DM, `user`.
  const user = jsonObject(member?.user) ?? jsonObject(body.user) ?? {};
  const guildId = scalarText(body.guild_id);
  const options = Array.isArray(data.options) ? data.options : [];
  const interaction: InteractionContent = {
    id,
    applicationId: scalarText(body.application_id),
    commandId: scalarText(data.id),
    commandName,
    commandType: optionalNumber(data.type) ?? 1,
    targetId: scalarText(data.target_id),
    options,
  };
  const content: Json = { interaction };
  if (guildId !== null) content.guildId = guildId;
  return {
    dedupKey: `${INTERACTION_KEY_PREFIX}${id}`,
    type: 'message',
    message: {
      platformId: id,
      type: 'text',
      text: commandLine(commandName, options),
      createdAt: snowflakeTime(id) ?? receivedAt.toISOString(),
      mentions: [],
      mentionsBot: true,
      replyTo: null,
      content,
    },
    sender: { id: scalarText(user.id) ?? '', name: displayName(user, member), isSelf: false },
    conversation: { ...conversationOf(channelId, guildId), name: scalarText(channel?.name) },
    flags: { history: false },
    raw: body,
  };
}

/** The command as typed: `/name [group] [subcommand] option:value …`. */
export function commandLine(name: string, options: unknown[]): string {
  const parts = [`/${name}`];
  let level = options.filter(isJsonObject);
  while (level.length > 0) {
    const nesting = level.find((option) => NESTING_OPTION_TYPES.has(optionalNumber(option.type) ?? 0));
    if (nesting === undefined) {
      for (const option of level) parts.push(`${displayText(option.name)}:${displayText(option.value)}`);
      break;
    }
    parts.push(displayText(nesting.name));
    level = (Array.isArray(nesting.options) ? nesting.options : []).filter(isJsonObject);
  }
  return parts.join(' ');
}

/** The interaction object's own payload has a `token` to answer it with; shown as `[redacted]`. */
export function redactInteractionToken(raw: unknown): unknown {
  if (!isJsonObject(raw) || typeof raw.token !== 'string' || typeof raw.application_id !== 'string') return raw;
  return { ...raw, token: '[redacted]' };
}

/** When a snowflake was made (its top 42 bits are milliseconds since Discord's epoch). */
export function snowflakeTime(id: string): string | null {
  if (!/^\d{1,20}$/.test(id)) return null;
  return new Date(Number((BigInt(id) >> 22n) + DISCORD_EPOCH_MS)).toISOString();
}
