import type { AdapterDeps, ChannelAdapter, PlatformDefinition } from '../_kit/adapter.ts';
import { qqCredential } from './api.ts';
import { handleQqCallback } from './callback.ts';
import { qqChannelSchema, type QqChannelConfig } from './config.ts';
import { ReplySequence } from './reply-sequence.ts';
import { qqGatewayConnection } from './connection.ts';
import { qqDropsRepeats, sendQqMessage } from './send.ts';
import { simulateQq } from './simulate.ts';

export const qq: PlatformDefinition<typeof qqChannelSchema> = {
  id: 'qq',
  configSchema: qqChannelSchema,
  create: (config, deps) => createQqAdapter(config, deps),
  simulate: simulateQq,
};

/**
 * A QQ bot: webhook callbacks at `/hooks/<id>` (op 13 URL validation, signed op 0 dispatches), or
 * the gateway connection in websocket mode, and
 * sends with the bot's access token (shared through the token service by every channel of the bot).
 * `now` is the clock of the reply windows.
 */
export function createQqAdapter(config: QqChannelConfig, deps: AdapterDeps, now: () => number = Date.now): ChannelAdapter {
  // The store's counters number the replies to each message (msg_seq) across restarts and nodes.
  const sender = { credential: qqCredential(config), tokens: deps.tokens, replies: new ReplySequence(deps.counters), logger: deps.logger, now };
  const adapter: ChannelAdapter = {
    handleCallback: (req) => handleQqCallback(config, req),
    send: (req) => sendQqMessage(sender, req),
    dedupedByPlatform: qqDropsRepeats,
  };
  if (config.mode === 'websocket') adapter.connect = qqGatewayConnection(config, deps);
  return adapter;
}

export { QQ_API_BASE, QQ_TOKEN_BASE, type QqChannelConfig } from './config.ts';
export { buildQqSample, type QqSampleOptions } from './simulate.ts';
