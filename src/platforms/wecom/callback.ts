import type { CallbackOutcome, InboundRequest } from '../_kit/adapter.ts';
import { WECOM_ACK, receiveWecomCallback, type WecomCallbackKeys } from '../_kit/wecom-callback.ts';
import { normalizeWecomMessage } from './normalize.ts';

/**
 * `GET` is the URL check the admin console runs when the callback URL is saved; `POST` carries
 * messages and events, answered `success` once stored (WeCom retries three times otherwise).
 */
export function handleWecomCallback(keys: WecomCallbackKeys, req: InboundRequest): CallbackOutcome {
  const received = receiveWecomCallback(keys, req, 'WeCom');
  if (received.kind === 'reply') return received;
  const { opened } = received;
  const event = normalizeWecomMessage(opened.message, { receivedAt: req.receivedAt, rawRequest: opened.rawRequest });
  return { kind: 'events', events: [event], ack: WECOM_ACK };
}
