import { ImgateError } from '../../core/errors.ts';
import type { AdapterDeps, CallbackOutcome, ChannelAdapter, InboundRequest, PlatformDefinition } from '../_kit/adapter.ts';
import {
  WECOM_ACK,
  answerWecomUrlCheck,
  openWecomCallback,
  wecomCallbackKeys,
  type WecomCallbackKeys,
} from '../_kit/wecom-callback.ts';
import { wecomChannelSchema, type WecomChannelConfig } from './config.ts';
import { normalizeWecomMessage } from './normalize.ts';
import { sendWecomMessage } from './send.ts';
import { simulateWecom } from './simulate.ts';

export const wecom: PlatformDefinition<typeof wecomChannelSchema> = {
  id: 'wecom',
  configSchema: wecomChannelSchema,
  create: createWecomAdapter,
  startupWarnings: wecomStartupWarnings,
  simulate: simulateWecom,
};

export function createWecomAdapter(config: WecomChannelConfig, deps: AdapterDeps): ChannelAdapter {
  // A self-built app's callbacks are encrypted for the CorpID (path/90968): another corp's are refused.
  const keys = wecomCallbackKeys({
    token: config.token,
    encodingAESKey: config.encodingAESKey,
    receiveId: config.corpId,
    timestampWindowSeconds: config.timestampWindowSeconds,
  });
  return {
    handleCallback: (req) => handleWecomCallback(keys, req),
    send: (req) => sendWecomMessage(config, deps.tokens, req),
    sendsNews: true,
  };
}

/**
 * `GET` is the URL check the admin console runs when the callback URL is saved; `POST` carries
 * messages and events, answered `success` once stored (WeCom retries three times otherwise).
 */
function handleWecomCallback(keys: WecomCallbackKeys, req: InboundRequest): CallbackOutcome {
  if (req.method === 'GET') return { kind: 'reply', reply: answerWecomUrlCheck(keys, req) };
  if (req.method !== 'POST') {
    throw new ImgateError('IMG_ERR_INBOUND_METHOD', { message: 'WeCom callbacks are GET (URL check) or POST requests' });
  }
  const opened = openWecomCallback(keys, req);
  const event = normalizeWecomMessage(opened.message, { receivedAt: req.receivedAt, rawRequest: opened.rawRequest });
  return { kind: 'events', events: [event], ack: WECOM_ACK };
}

function wecomStartupWarnings(config: WecomChannelConfig): string[] {
  if (config.agentId !== undefined) return [];
  return [`channel "${config.id}" (wecom) has no agentId: it receives callbacks but cannot send; set agentId to the app's AgentId`];
}

export type { WecomChannelConfig } from './config.ts';
export { buildWecomSample } from './simulate.ts';
