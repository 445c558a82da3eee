import { ImgateError } from '../../core/errors.ts';
import { displayText, isJsonObject as isObject, type Json } from '../_kit/payload-values.ts';
import type { ClassifiedPayload, FlatMessage, MessageView, PadId, PadMessage, PadString, PadWrapper } from './types.ts';

/**
 * Recognizes the inbound shapes (docs/channels/wechat-pad.md, "Inbound formats") and brings each to a
 * MessageView: the webhook guide's flat JSON, the raw pad message bare or in gewechat's
 * `{TypeName, Appid, Wxid, Data}` envelope (lower-case keys on newer builds), and IMZCC's
 * `{Wxid, Data:{msgType, fromUser, …}}`. Anything else is IMG_ERR_INBOUND_UNSUPPORTED.
 */
export function classifyPayload(payload: unknown): ClassifiedPayload {
  if (!isObject(payload)) throw unsupported();
  if (isPadMessage(payload)) return { kind: 'message', view: viewOfPadMessage(payload, null) };
  if (isFlatMessage(payload)) return { kind: 'message', view: viewOfFlatMessage(payload, null) };

  const wrapper = payload as PadWrapper;
  const data = wrapper.Data ?? wrapper.data;
  const accountWxid = stringOrNull(wrapper.Wxid ?? wrapper.wxid);
  const typeName = wrapper.TypeName ?? wrapper.type_name;
  if (typeof typeName === 'string') {
    // gewechat also calls back for ModContacts, DelContacts, Offline…: acknowledged, not stored.
    if (typeName !== 'AddMsg') return { kind: 'ignored', typeName };
    if (isObject(data) && isPadMessage(data)) return { kind: 'message', view: viewOfPadMessage(data, accountWxid) };
    throw unsupported();
  }
  if (isObject(data) && isPadMessage(data)) return { kind: 'message', view: viewOfPadMessage(data, accountWxid) };
  if (isObject(data) && isFlatMessage(data)) return { kind: 'message', view: viewOfFlatMessage(data, accountWxid) };
  throw unsupported();
}

function viewOfPadMessage(msg: PadMessage, accountWxid: string | null): MessageView {
  return {
    msgId: idOrNull(msg.MsgId),
    newMsgId: idOrNull(msg.NewMsgId),
    from: padString(msg.FromUserName),
    to: padString(msg.ToUserName),
    msgType: numberOf(msg.MsgType),
    content: padString(msg.Content),
    msgSource: stringOrNull(msg.MsgSource),
    pushContent: stringOrNull(msg.PushContent),
    createTime: numberOrNull(msg.CreateTime),
    isSelf: null,
    isHistory: false,
    accountWxid,
    senderName: null,
  };
}

function viewOfFlatMessage(msg: FlatMessage, accountWxid: string | null): MessageView {
  const content = msg.content ?? msg.text ?? '';
  return {
    msgId: idOrNull(msg.msgId),
    newMsgId: idOrNull(msg.newMsgId),
    from: msg.fromUser,
    to: typeof msg.toUser === 'string' ? msg.toUser : '',
    msgType: numberOf(msg.msgType),
    content: isObject(content) ? content : displayText(content),
    msgSource: stringOrNull(msg.msgSource),
    pushContent: stringOrNull(msg.pushContent),
    createTime: numberOrNull(msg.createTime),
    isSelf: typeof msg.isSelfMsg === 'boolean' ? msg.isSelfMsg : null,
    isHistory: msg.isHistory === true,
    accountWxid,
    senderName: stringOrNull(msg.fromNick),
  };
}

function isPadMessage(value: Json): value is PadMessage {
  return 'FromUserName' in value && 'MsgType' in value;
}

function isFlatMessage(value: Json): value is Json & FlatMessage {
  return typeof value.fromUser === 'string' && 'msgType' in value;
}

function padString(value: PadString | undefined): string {
  if (typeof value === 'string') return value;
  if (isObject(value) && typeof value.string === 'string') return value.string;
  return '';
}

/** Ids as strings, always: NewMsgId exceeds 2^53 (docs/channels/wechat-pad.md, "Ids"). 0 means "none" in the pad protocol. */
function idOrNull(value: PadId | undefined): string | null {
  let id = '';
  if (typeof value === 'number' && Number.isInteger(value)) id = String(value);
  if (typeof value === 'string') id = value.trim();
  return id === '' || /^0+$/.test(id) ? null : id;
}

function stringOrNull(value: unknown): string | null {
  return typeof value === 'string' && value !== '' ? value : null;
}

/** A message type as a number; NaN for anything but a number or a string (never a TypeError on an object). */
function numberOf(value: unknown): number {
  return typeof value === 'number' || typeof value === 'string' ? Number(value) : NaN;
}

function numberOrNull(value: unknown): number | null {
  const n = typeof value === 'string' ? Number(value) : value;
  return typeof n === 'number' && Number.isFinite(n) && n > 0 ? n : null;
}

function unsupported(): ImgateError {
  return new ImgateError('IMG_ERR_INBOUND_UNSUPPORTED', {
    message: 'not a WeChat pad message: expected the flat webhook JSON or a pad message (FromUserName, MsgType)',
  });
}
