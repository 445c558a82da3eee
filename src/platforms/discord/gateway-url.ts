import type { REST } from '@discordjs/rest';
import { Routes } from 'discord-api-types/v10';
import type { Logger } from 'pino';
import { ImgateError } from '../../core/errors.ts';
import { withCallSignal } from '../_kit/call-signal.ts';
import { isJsonObject, jsonObject, optionalNumber, scalarText } from '../_kit/payload-values.ts';
import { callDiscord } from './api.ts';

/**
 * `GET /gateway/bot`: the Gateway URL to IDENTIFY at (`{url, shards, session_start_limit}`).
 * When Discord allows no more session starts today (`session_start_limit.remaining` 0; 1000 a day),
 * an IDENTIFY would only be refused: rate limited until `reset_after` instead.
 */
export async function fetchGatewayUrl(rest: REST, token: string, logger: Logger, signal: AbortSignal): Promise<string> {
  // A signal per call: @discordjs/rest never removes the abort listener it adds to the one it is given.
  const answer = await withCallSignal(signal, undefined, (callSignal) =>
    callDiscord(rest, token, 'GET /gateway/bot', (client) => client.get(Routes.gatewayBot(), { signal: callSignal })),
  );
  const url = isJsonObject(answer) ? scalarText(answer.url) : null;
  if (url === null || !/^wss?:\/\//.test(url)) {
    throw new ImgateError('IMG_ERR_PLATFORM_REJECTED', { message: 'GET /gateway/bot answered without a ws(s):// url' });
  }
  const limit = isJsonObject(answer) ? jsonObject(answer.session_start_limit) : null;
  if (limit !== null && optionalNumber(limit.remaining) === 0) {
    const resetAfterMs = optionalNumber(limit.reset_after) ?? 60_000;
    throw new ImgateError('IMG_ERR_PLATFORM_RATE_LIMITED', {
      message: 'Discord allows the bot no more Gateway sessions for now (session_start_limit)',
      retryAfter: Math.max(1, Math.ceil(resetAfterMs / 1000)),
    });
  }
  const shards = isJsonObject(answer) ? optionalNumber(answer.shards) : null;
  if (shards !== null && shards > 1) logger.warn({ shards }, 'Discord recommends more than one shard for this bot; imgate holds one connection');
  return url;
}
