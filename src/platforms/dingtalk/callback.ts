import { ImgateError } from '../../core/errors.ts';
import type { CallbackOutcome, HttpReply, InboundRequest } from '../_kit/adapter.ts';
import { parseJsonBody } from '../_kit/json-body.ts';
import type { DingtalkChannelConfig } from './config.ts';
import { normalizeDingtalkMessage } from './normalize.ts';
import type { DingtalkCallbackBody } from './types.ts';
import { verifyDingtalkRequest } from './verify.ts';

/**
 * The answer once a callback is stored. DingTalk posts whatever message the answer holds into the
 * chat as a synchronous reply; `{"msgtype": "empty"}` is the message type for "no reply" (used so by
 * the HTTP-mode robots we found; DingTalk's current pages no longer show it). imgate never replies
 * synchronously: bots answer later, through the send API and the message's sessionWebhook.
 */
export const DINGTALK_ACK: HttpReply = { status: 200, contentType: 'application/json', body: { msgtype: 'empty' } };

/** `POST /hooks/<id>` in HTTP mode: checks timestamp and sign, parses the JSON body, one event. */
export function handleDingtalkCallback(config: DingtalkChannelConfig, req: InboundRequest): CallbackOutcome {
  if (req.method !== 'POST') {
    throw new ImgateError('IMG_ERR_INBOUND_METHOD', { message: 'DingTalk robot callbacks are POST requests' });
  }
  if (config.mode === 'stream') {
    throw new ImgateError('IMG_ERR_INBOUND_UNSUPPORTED', {
      message: `channel "${config.id}" is in stream mode: its messages arrive over DingTalk's long connection, not at /hooks (set mode: http to use the robot's HTTP receiving address)`,
    });
  }
  verifyDingtalkRequest(config.appSecret, config.timestampWindowSeconds, req);
  const body = parseJsonBody(req.rawBody);
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new ImgateError('IMG_ERR_INBOUND_MALFORMED', { message: 'the DingTalk callback body is not a JSON object' });
  }
  const event = normalizeDingtalkMessage(body as DingtalkCallbackBody, req.receivedAt);
  return { kind: 'events', events: [event], ack: DINGTALK_ACK };
}
