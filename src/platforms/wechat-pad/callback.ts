import { ImgateError } from '../../core/errors.ts';
import type { AdapterDeps, CallbackOutcome, HttpReply, InboundRequest } from '../_kit/adapter.ts';
import { parseJsonBody } from '../_kit/json-body.ts';
import type { WechatPadChannelConfig } from './config.ts';
import { normalizeMessage } from './normalize.ts';
import { classifyPayload } from './payload.ts';
import { verifyWechatPadRequest } from './verify.ts';

/** The webhook guide treats any 200 as received; the body is for humans (docs/channels/wechat-pad.md, "Flat JSON"). */
const ACK: HttpReply = { status: 200, contentType: 'application/json', body: { ok: true } };

/** What reaches `POST /hooks/<id>`: verified, then normalized; anything but a message is acknowledged and dropped. */
export function handleWechatPadCallback(config: WechatPadChannelConfig, deps: AdapterDeps, req: InboundRequest): CallbackOutcome {
  if (req.method !== 'POST') {
    throw new ImgateError('IMG_ERR_INBOUND_METHOD', { message: 'wechat-pad callbacks are POST requests' });
  }
  verifyWechatPadRequest(config, req);
  const payload = parseJsonBody(req.rawBody);
  const classified = classifyPayload(payload);
  if (classified.kind === 'ignored') {
    deps.logger.info({ channel: config.id, typeName: classified.typeName }, 'wechat-pad callback is not a message; acknowledged, not stored');
    return { kind: 'reply', reply: ACK };
  }
  const event = normalizeMessage(classified.view, {
    botWxid: config.botWxid ?? null,
    receivedAt: req.receivedAt,
    raw: payload,
  });
  return { kind: 'events', events: [event], ack: ACK };
}
