/**
 * QQ bot webhook payloads (tencent-connect/bot-docs: event-emit.md, send-receive/event.md). Field names
 * are QQ's; every field is optional here, since the code reads them defensively.
 *
 * ```json
 * {"id": "C2C_MESSAGE_CREATE:abc…", "op": 0, "s": 42, "t": "C2C_MESSAGE_CREATE",
 *  "d": {"id": "ROBOT1.0_.b6nx…", "author": {"user_openid": "E4F4AEA3…"}, "content": "123",
 *        "timestamp": "2023-11-06T13:37:18+08:00", "attachments": []}}
 * ```
 */
export interface QqPayload {
  /** The event's id (not the message's). */
  id?: string;
  /** 0 dispatch, 13 URL validation; 12 is our acknowledgement. */
  op?: number;
  /** The event type of a dispatch. */
  t?: string;
  s?: number;
  d?: unknown;
  [field: string]: unknown;
}

/** `d` of an op 13 URL validation: `{"plain_token": "Arq0D5A61EgUu4OxUvOp", "event_ts": "1725442341"}`. */
export interface QqValidationData {
  plain_token?: unknown;
  /** A string in the current docs' example; taken as a number too. */
  event_ts?: unknown;
}

/**
 * `d` of the message events. C2C: `author.user_openid`; group: `author.member_openid` and
 * `group_openid`, content with the bot's @ removed and its space left; guild channel and DM (the
 * Message object): `author.{id, username, bot}`, `channel_id`, `guild_id`, `mentions`, content with
 * `<@!id>` markup.
 */
export interface QqMessageData {
  id?: string;
  content?: string;
  /** RFC 3339, with QQ's +08:00 offset. */
  timestamp?: string;
  author?: QqAuthor;
  group_openid?: string;
  channel_id?: string;
  guild_id?: string;
  src_guild_id?: string;
  mentions?: QqUser[];
  member?: { nick?: string };
  attachments?: QqAttachment[];
  message_reference?: { message_id?: string };
  [field: string]: unknown;
}

export interface QqAuthor extends QqUser {
  user_openid?: string;
  member_openid?: string;
}

export interface QqUser {
  id?: string;
  username?: string;
  bot?: boolean;
}

/** `content_type` is `image/jpeg`, `image/png`, `image/gif`, `file`, `video/mp4` or `voice`. */
export interface QqAttachment {
  content_type?: string;
  filename?: string;
  height?: number;
  width?: number;
  size?: number;
  url?: string;
}
