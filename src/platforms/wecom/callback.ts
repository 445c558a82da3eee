import { ImgateError } from '../../core/errors.ts';
import type { CallbackOutcome, InboundRequest } from '../_kit/adapter.ts';
import { WECOM_ACK, answerWecomUrlCheck, openWecomCallback, type WecomCallbackKeys } from '../_kit/wecom-callback.ts';
import { normalizeWecomMessage } from './normalize.ts';

/**
 * `GET` is the URL check the admin console runs when the callback URL is saved; `POST` carries
 * messages and events, answered `success` once stored (WeCom retries three times otherwise).
 */
export function handleWecomCallback(keys: WecomCallbackKeys, req: InboundRequest): CallbackOutcome {
  if (req.method === 'GET') return { kind: 'reply', reply: answerWecomUrlCheck(keys, req) };
  if (req.method !== 'POST') {
    throw new ImgateError('IMG_ERR_INBOUND_METHOD', { message: 'WeCom callbacks are GET (URL check) or POST requests' });
  }
  const opened = openWecomCallback(keys, req);
  const event = normalizeWecomMessage(opened.message, { receivedAt: req.receivedAt, rawRequest: opened.rawRequest });
  return { kind: 'events', events: [event], ack: WECOM_ACK };
}
