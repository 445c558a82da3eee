/**
 * Feishu event subscription 2.0 payloads once decrypted (接收消息,
 * https://open.feishu.cn/document/uAjLw4CM/ukTMukTMukTM/reference/im-v1/message/events/receive; the SDK's
 * `code-gen/events-template.ts`). Field names are Feishu's; ids are strings (`om_…` messages,
 * `oc_…` chats, `ou_…` open_ids). Everything is optional: the code reads it defensively, since
 * Feishu adds fields and some only appear with the matching scope (`user_id` needs
 * 获取用户 user ID).
 *
 * ```json
 * {"schema": "2.0",
 *  "header": {"event_id": "5e3702a8…", "event_type": "im.message.receive_v1", "create_time": "1608725989000",
 *             "token": "<verification token>", "app_id": "cli_…", "tenant_key": "…"},
 *  "event": {"sender": {"sender_id": {"union_id": "on_…", "user_id": "…", "open_id": "ou_…"}, "sender_type": "user", "tenant_key": "…"},
 *            "message": {"message_id": "om_…", "root_id": "om_…", "parent_id": "om_…", "create_time": "1609073151345",
 *                        "chat_id": "oc_…", "chat_type": "group", "message_type": "text",
 *                        "content": "{\"text\":\"@_user_1 hello\"}",
 *                        "mentions": [{"key": "@_user_1", "id": {"open_id": "ou_…", …}, "name": "Tom", "tenant_key": "…"}]}}}
 * ```
 */
export interface FeishuEnvelope {
  schema?: string;
  header?: FeishuHeader;
  event?: Record<string, unknown>;
  [field: string]: unknown;
}

export interface FeishuHeader {
  event_id?: string;
  event_type?: string;
  /** Milliseconds since the epoch, as a string. */
  create_time?: string;
  token?: string;
  app_id?: string;
  tenant_key?: string;
}

export interface FeishuUserId {
  open_id?: string;
  user_id?: string;
  union_id?: string;
}

/** `im.message.receive_v1`'s `event`. */
export interface FeishuMessageEvent {
  sender?: { sender_id?: FeishuUserId; sender_type?: string; tenant_key?: string };
  message?: FeishuMessage;
}

export interface FeishuMessage {
  message_id?: string;
  root_id?: string;
  parent_id?: string;
  thread_id?: string;
  create_time?: string;
  chat_id?: string;
  /** `p2p` or `group` (`topic_group` for topic chats). */
  chat_type?: string;
  message_type?: string;
  /** JSON text whose shape depends on `message_type`. */
  content?: string;
  mentions?: FeishuMention[];
}

export interface FeishuMention {
  /** The placeholder in the content: `@_user_1`, …; `@_all` for everyone. */
  key?: string;
  id?: FeishuUserId;
  name?: string;
  tenant_key?: string;
}

/** `im.message.recalled_v1`'s `event`. */
export interface FeishuRecallEvent {
  message_id?: string;
  chat_id?: string;
  recall_time?: string;
  /** `message_owner`, `group_owner`, `group_manager`, `enterprise_manager`. */
  recall_type?: string;
}

/** `im.chat.member.bot.added_v1` / `deleted_v1`'s `event`. */
export interface FeishuBotMembershipEvent {
  chat_id?: string;
  operator_id?: FeishuUserId;
  external?: boolean;
  operator_tenant_key?: string;
  /** The chat's name. */
  name?: string;
  i18n_names?: Record<string, string>;
}
