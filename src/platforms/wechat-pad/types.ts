/**
 * Payload shapes of personal-WeChat pad-protocol servers (docs/channels/wechat-pad.md: no spec, formats
 * differ per server and version). Fields are optional because no source guarantees any of them.
 */

/** Ids arrive as numbers or, when above 2^53 (parsed by parseJsonBody), as digit strings. */
export type PadId = number | string;

/** The raw pad protocol wraps strings as `{string: "…"}`; some builds send the plain string. */
export type PadString = { string?: string | null } | string;

/** Raw pad message, as gewechat and WeChatPadPro forward it (PascalCase). */
export interface PadMessage {
  MsgId?: PadId;
  NewMsgId?: PadId;
  MsgSeq?: number;
  FromUserName: PadString;
  ToUserName?: PadString;
  MsgType: number;
  Content?: PadString;
  Status?: number;
  CreateTime?: number;
  MsgSource?: string;
  PushContent?: string;
  [field: string]: unknown;
}

/** gewechat's callback envelope; newer builds spell the keys in lower case. */
export interface PadWrapper {
  TypeName?: string;
  type_name?: string;
  Appid?: string;
  appid?: string;
  Wxid?: string;
  wxid?: string;
  Data?: unknown;
  data?: unknown;
}

/** The webhook guide's flat message (docs/channels/wechat-pad.md, "Flat JSON"). Optional extras come from other clients. */
export interface FlatMessage {
  key?: string;
  msgId?: PadId;
  newMsgId?: PadId;
  timestamp?: number;
  fromUser: string;
  toUser?: string;
  msgType: number | string;
  content?: unknown;
  isSelfMsg?: boolean;
  createTime?: number;
  isHistory?: boolean;
  msgSource?: string;
  pushContent?: string;
  fromNick?: string;
  /** IMZCC's adapter reads `text` where the guide has `content`. */
  text?: string;
}

/** Every inbound shape brought to one view, from which one event is built. */
export interface MessageView {
  msgId: string | null;
  newMsgId: string | null;
  from: string;
  to: string;
  msgType: number;
  /** Text or XML; the flat format may carry an object for links. */
  content: string | Record<string, unknown>;
  msgSource: string | null;
  pushContent: string | null;
  /** Seconds, or milliseconds when above 1e12. */
  createTime: number | null;
  /** From the flat `isSelfMsg`; null when the payload does not say. */
  isSelf: boolean | null;
  isHistory: boolean;
  /** The logged-in account as the wrapper names it (`Wxid`). */
  accountWxid: string | null;
  senderName: string | null;
}

export type ClassifiedPayload =
  | { kind: 'message'; view: MessageView }
  | { kind: 'ignored'; typeName: string };
