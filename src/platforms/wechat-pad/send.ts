import { ImgateError } from '../../core/errors.ts';
import type { GuardedAgent } from '../../core/address-guard.ts';
import type { SendRequest, SendResult } from '../_kit/adapter.ts';
import { checkPublicImageUrl } from '../_kit/image-bytes.ts';
import { platformRequest } from '../_kit/platform-http.ts';
import type { WechatPadChannelConfig } from './config.ts';

type Json = Record<string, unknown>;
type Outbound = { kind: 'text'; text: string } | { kind: 'image'; image: NonNullable<SendRequest['image']> };

/**
 * Sends through the account's pad server (docs/channels/wechat-pad.md, "Sending"). One attempt
 * only: the send service retries a call that never reached the server (pad servers drop no
 * repeats, so one whose answer was lost is not retried). `replyTo` has no equivalent in these APIs
 * and is ignored.
 */
export async function sendWechatPadMessage(config: WechatPadChannelConfig, req: SendRequest, downloads: GuardedAgent): Promise<SendResult> {
  if (!config.apiBase) {
    throw new ImgateError('IMG_ERR_SEND_UNSUPPORTED', {
      message: `channel "${config.id}" has no apiBase: set it to the pad server's API address to send`,
    });
  }
  const outbound = pickOutbound(req);
  const base = config.apiBase.replace(/\/+$/, '');
  return config.server === 'gewechat'
    ? sendThroughGewechat(config, base, req, outbound, downloads)
    : sendThroughWechatPadPro(config, base, req, outbound);
}

function pickOutbound(req: SendRequest): Outbound {
  if (req.markdown !== undefined) {
    throw new ImgateError('IMG_ERR_SEND_UNSUPPORTED', { message: 'personal WeChat has no markdown; send text' });
  }
  if (req.text !== undefined && req.image !== undefined) {
    throw new ImgateError('IMG_ERR_SEND_UNSUPPORTED', { message: 'send text and image as two messages' });
  }
  if (req.text !== undefined) return { kind: 'text', text: req.text };
  if (req.image !== undefined) return { kind: 'image', image: req.image };
  throw new ImgateError('IMG_ERR_VALIDATION', { message: 'one of text or image is required' });
}

/** WeChatPadPro: `?key=` auth, `{MsgItem:[…]}` in, `{Code:200, Data:[{isSendSuccess, resp}]}` out. */
async function sendThroughWechatPadPro(
  config: WechatPadChannelConfig,
  base: string,
  req: SendRequest,
  outbound: Outbound,
): Promise<SendResult> {
  const key = config.key ?? '';
  let path: string;
  let item: Json;
  if (outbound.kind === 'text') {
    path = '/message/SendTextMessage';
    item = { ToUserName: req.to, TextContent: outbound.text, MsgType: 1, AtWxIDList: req.mentions, ImageContent: '' };
  } else {
    if (!outbound.image.base64) {
      throw new ImgateError('IMG_ERR_SEND_UNSUPPORTED', { message: 'WeChatPadPro sends images as base64: give image.base64' });
    }
    path = '/message/SendImageMessage';
    item = { ToUserName: req.to, ImageContent: outbound.image.base64, MsgType: 3 };
  }
  const answer = asObject(
    await platformRequest({
      url: `${base}${path}?key=${encodeURIComponent(key)}`,
      body: { MsgItem: [item] },
      redact: [key],
    }),
  );
  const first = Array.isArray(answer.Data) ? asObject(answer.Data[0]) : {};
  if (answer.Code !== 200 || first.isSendSuccess === false) {
    throw rejected(answer.Code, answer.Text || first.errMsg || first.ErrMsg);
  }
  return { platformMessageId: findMessageId(first.resp) };
}

/** gewechat: `X-GEWE-TOKEN`, `{appId, toWxid, content, ats}` in, `{ret:200, msg, data}` out. */
async function sendThroughGewechat(
  config: WechatPadChannelConfig,
  base: string,
  req: SendRequest,
  outbound: Outbound,
  downloads: GuardedAgent,
): Promise<SendResult> {
  const token = config.token ?? '';
  let path: string;
  let body: Json;
  if (outbound.kind === 'text') {
    path = '/message/postText';
    // gewechat only notifies the people in `ats`; the text itself must carry the `@name ` (docs/channels/wechat-pad.md, "Sending").
    body = { appId: config.appId, toWxid: req.to, content: outbound.text };
    if (req.mentions.length > 0) body.ats = req.mentions.join(',');
  } else {
    if (!outbound.image.url) {
      throw new ImgateError('IMG_ERR_SEND_UNSUPPORTED', { message: 'gewechat sends images by URL: give image.url' });
    }
    // The pad server downloads the image, from inside the operator's network: the same public-only rule as imageBytes.
    await checkPublicImageUrl(outbound.image.url, downloads);
    path = '/message/postImage';
    body = { appId: config.appId, toWxid: req.to, imgUrl: outbound.image.url };
  }
  const answer = asObject(
    await platformRequest({ url: `${base}${path}`, headers: { 'X-GEWE-TOKEN': token }, body, redact: [token] }),
  );
  if (answer.ret !== 200) throw rejected(answer.ret, answer.msg);
  const data = asObject(answer.data);
  return { platformMessageId: idString(data.newMsgId) ?? idString(data.msgId) };
}

/**
 * WeChatPadPro's `resp` is the pad protocol's send response; the id sits at its top level or in
 * its `List[0]`, spelled differently per build.
 */
function findMessageId(resp: unknown): string | null {
  const top = asObject(resp);
  const list = top.List ?? top.list;
  const candidates = [top, Array.isArray(list) ? asObject(list[0]) : {}];
  for (const candidate of candidates) {
    for (const field of ['NewMsgId', 'newMsgId', 'MsgId', 'msgId']) {
      const id = idString(candidate[field]);
      if (id !== null) return id;
    }
  }
  return null;
}

function idString(value: unknown): string | null {
  if (typeof value === 'number' && Number.isInteger(value) && value > 0) return String(value);
  if (typeof value === 'string' && value !== '' && value !== '0') return value;
  return null;
}

function rejected(platformCode: unknown, platformMessage: unknown): ImgateError {
  const message = typeof platformMessage === 'string' && platformMessage !== '' ? platformMessage : null;
  return new ImgateError('IMG_ERR_PLATFORM_REJECTED', {
    message: `the pad server refused the message${message ? `: ${message}` : ''}`,
    details: { platformCode: platformCode ?? null, platformMessage: message },
  });
}

function asObject(value: unknown): Json {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Json) : {};
}
