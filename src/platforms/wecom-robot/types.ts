/**
 * A group robot callback once decrypted (群机器人回调说明, the XML protocol; the send side is
 * 群机器人配置说明, https://developer.work.weixin.qq.com/document/path/91770). Field names are
 * WeCom's. Every field is optional: the messages differ by `MsgType`
 * (text, image, mixed, event, attachment, and newer ones) and by `ChatType` (single, group,
 * blackboard, blackboard_reply), and WeCom adds fields over time.
 *
 * ```xml
 * <xml>
 *   <WebhookUrl><![CDATA[https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=KEY]]></WebhookUrl>
 *   <MsgId>abcdabcdabcd</MsgId>
 *   <ChatId><![CDATA[wrkSFfCgAALFgnrSsWU38puiv4yvExuw]]></ChatId>
 *   <ChatType>group</ChatType>
 *   <From><UserId>zhangsan</UserId><Name><![CDATA[张三]]></Name><Alias><![CDATA[jackzhang]]></Alias></From>
 *   <GetChatInfoUrl><![CDATA[https://qyapi.weixin.qq.com/cgi-bin/webhook/get_chat_info?code=CODE]]></GetChatInfoUrl>
 *   <MsgType>text</MsgType>
 *   <Text><Content><![CDATA[@RobotA hello robot]]></Content></Text>
 * </xml>
 * ```
 */
export interface RobotCallbackMessage {
  /** The robot's own webhook URL, key included: where replies go. */
  WebhookUrl?: string;
  MsgId?: string;
  ChatId?: string;
  /** Set for replies in a blackboard (小黑板) post. */
  PostId?: string;
  ChatType?: string;
  From?: { UserId?: string; Name?: string; Alias?: string };
  /** One-time URL (5 minutes) answering the chat's name and members; kept only in `raw`. */
  GetChatInfoUrl?: string;
  MsgType?: string;
  Text?: { Content?: string };
  Image?: { ImageUrl?: string };
  /** add_to_chat, delete_from_chat, enter_chat. */
  Event?: { EventType?: string };
  /** A click on a button of a markdown message the robot sent. */
  Attachment?: { CallbackId?: string; Actions?: RobotAction | RobotAction[] };
  /** Text and images in one message; one item parses as an object, several as a list. */
  MixedMessage?: { MsgItem?: RobotMixedItem | RobotMixedItem[] };
  [field: string]: unknown;
}

export interface RobotAction {
  Name?: string;
  Value?: string;
  Type?: string;
}

export interface RobotMixedItem {
  MsgType?: string;
  Text?: { Content?: string };
  Image?: { ImageUrl?: string };
}
