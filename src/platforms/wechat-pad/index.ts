import { ImgateError } from '../../core/errors.ts';
import type { AdapterDeps, CallbackOutcome, ChannelAdapter, HttpReply, InboundRequest, PlatformDefinition } from '../_kit/adapter.ts';
import { parseJsonBody } from '../_kit/json-body.ts';
import { wechatPadChannelSchema, type WechatPadChannelConfig } from './config.ts';
import { normalizeMessage } from './normalize.ts';
import { classifyPayload } from './payload.ts';
import { sendWechatPadMessage } from './send.ts';
import { verifyWechatPadRequest } from './verify.ts';
import { simulateWechatPad } from './simulate.ts';

/** The webhook guide treats any 200 as received; the body is for humans (docs/channels/wechat-pad.md, "Flat JSON"). */
const ACK: HttpReply = { status: 200, contentType: 'application/json', body: { ok: true } };

export const wechatPad: PlatformDefinition<typeof wechatPadChannelSchema> = {
  id: 'wechat-pad',
  configSchema: wechatPadChannelSchema,
  create: createWechatPadAdapter,
  startupWarnings: wechatPadStartupWarnings,
  simulate: simulateWechatPad,
};

export function createWechatPadAdapter(config: WechatPadChannelConfig, deps: AdapterDeps): ChannelAdapter {
  return {
    handleCallback: (req) => handleWechatPadCallback(config, deps, req),
    send: (req) => sendWechatPadMessage(config, req),
  };
}

function handleWechatPadCallback(config: WechatPadChannelConfig, deps: AdapterDeps, req: InboundRequest): CallbackOutcome {
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

function wechatPadStartupWarnings(config: WechatPadChannelConfig): string[] {
  if (config.auth !== 'none') return [];
  return [
    `channel "${config.id}" (wechat-pad) has auth "none": anyone who can reach /hooks/${config.id} can inject messages; use "signature" or "path-token" outside a trusted network`,
  ];
}

export type { WechatPadChannelConfig } from './config.ts';
export { buildWechatPadSample } from './simulate.ts';
