import { ImgateError } from '../../core/errors.ts';
import type { CallbackOutcome, HttpReply, InboundRequest } from '../_kit/adapter.ts';
import { receiveWecomCallback, wecomCallbackKeys, type WecomCallbackKeys } from '../_kit/wecom-callback.ts';
import { receivesCallbacks, type WecomRobotChannelConfig } from './config.ts';
import { normalizeRobotMessage } from './normalize.ts';

/**
 * What a robot expects when it gets no synchronous reply: HTTP 200 with an empty body (群机器人回调
 * 说明, "接收消息的说明": 直接返回200，即以空串为返回包). imgate never replies synchronously —
 * bots reply later through the send API — so every stored callback is answered this way. Anything
 * but 200 makes WeCom retry (three times, 5 s apart); MsgId deduplicates the retries.
 */
export const ROBOT_ACK: HttpReply = { status: 200, contentType: 'text/plain; charset=utf-8', body: '' };

/**
 * The callback keys of a channel that receives, or null. A robot callback is encrypted like an
 * app's, but with an empty receiveid ("在群机器人的使用场景里，receiveid直接传空字符串即可"), so the
 * receiver is not checked.
 */
export function robotCallbackKeys(config: WecomRobotChannelConfig): WecomCallbackKeys | null {
  if (!receivesCallbacks(config)) return null;
  return wecomCallbackKeys({
    token: config.token,
    encodingAESKey: config.encodingAESKey,
    receiveId: null,
    timestampWindowSeconds: config.timestampWindowSeconds,
  });
}

/** `GET`: the URL check when the robot's receive URL is saved; `POST`: a message or event. */
export function handleRobotCallback(config: WecomRobotChannelConfig, keys: WecomCallbackKeys | null, req: InboundRequest): CallbackOutcome {
  if (keys === null) {
    throw new ImgateError('IMG_ERR_INBOUND_UNSUPPORTED', {
      message: `channel "${config.id}" has no token and encodingAESKey: it sends only and takes no callbacks`,
    });
  }
  const received = receiveWecomCallback(keys, req, 'WeCom robot');
  if (received.kind === 'reply') return received;
  const { opened } = received;
  const event = normalizeRobotMessage(opened.message, { receivedAt: req.receivedAt, rawRequest: opened.rawRequest });
  return { kind: 'events', events: [event], ack: ROBOT_ACK };
}
