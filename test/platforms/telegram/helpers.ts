import type { InboundRequest } from '../../../src/platforms/_kit/adapter.ts';
import { telegram, type TelegramChannelConfig } from '../../../src/platforms/telegram/index.ts';
import { inboundPost } from '../../helpers/callback-outcome.ts';
import { BOT_TOKEN, SECRET_TOKEN } from '../../helpers/fake-telegram.ts';

export function channel(overrides: Record<string, unknown> = {}): TelegramChannelConfig {
  return telegram.configSchema.parse({ id: 'tg', platform: 'telegram', token: BOT_TOKEN, secretToken: SECRET_TOKEN, ...overrides });
}

/** An update as the `/hooks` route hands it to the adapter, with the secret token unless headers are given. */
export function updateRequest(body: unknown, headers: InboundRequest['headers'] = { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': SECRET_TOKEN }): InboundRequest {
  return inboundPost(typeof body === 'string' ? body : JSON.stringify(body), headers);
}
