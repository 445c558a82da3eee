/**
 * A robot callback body as DingTalk posts it in HTTP mode (and as the `data` of a Stream frame):
 * 机器人接收消息 (https://open.dingtalk.com/document/orgapp/receive-message). Field
 * names are DingTalk's. Every field is optional here: the normalizer reads them defensively.
 *
 * ```json
 * {
 *   "conversationId": "cid6KeBBLoveMJOGXoYKF5x7EeiodoA==", "conversationType": "2", "conversationTitle": "机器人测试-TEST",
 *   "atUsers": [{"dingtalkId": "$:LWCP_v1:$Cxxxxx"}], "chatbotCorpId": "dinge8a565xxxx", "chatbotUserId": "$:LWCP_v1:$Cxxxxx",
 *   "msgId": "msg0xxxxx", "senderNick": "杨xx", "isAdmin": true, "senderStaffId": "user123",
 *   "sessionWebhookExpiredTime": 1613635652738, "createAt": 1613630252678, "senderCorpId": "dinge8a565xxxx",
 *   "senderId": "$:LWCP_v1:$Ff09GIxxxxx", "isInAtList": true,
 *   "sessionWebhook": "https://oapi.dingtalk.com/robot/sendBySession?session=xxxxx",
 *   "text": {"content": " 你好"}, "msgtype": "text", "robotCode": "dingxxxxxx"
 * }
 * ```
 */
export interface DingtalkCallbackBody {
  msgId?: string;
  /** `text`, `picture`, `richText`, `audio`, `video`, `file`, and newer ones. */
  msgtype?: string;
  text?: { content?: string };
  /** The payload of every type but text (downloadCode, fileName, richText, …). */
  content?: Record<string, unknown>;
  /** Milliseconds since the epoch. */
  createAt?: number | string;
  conversationId?: string;
  /** `"1"` a single chat, `"2"` a group. */
  conversationType?: string;
  /** The group's name; absent in single chats. */
  conversationTitle?: string;
  /** The sender's DingTalk id (`$:LWCP_v1:$…`), unique per organization. */
  senderId?: string;
  /** The sender's userid in the organization; absent for people outside it. */
  senderStaffId?: string;
  senderNick?: string;
  senderCorpId?: string;
  isAdmin?: boolean;
  /** The robot's own DingTalk id: how it appears in `atUsers`. */
  chatbotUserId?: string;
  chatbotCorpId?: string;
  isInAtList?: boolean;
  atUsers?: { dingtalkId?: string; staffId?: string }[];
  /** Where replies to this message go, a temporary credential in its `session` query. */
  sessionWebhook?: string;
  /** Milliseconds since the epoch; the documented example is ~90 minutes after createAt. */
  sessionWebhookExpiredTime?: number | string;
  robotCode?: string;
  [field: string]: unknown;
}
