import type { NormalizedEvent } from '../../core/event.ts';
import { ImgateError } from '../../core/errors.ts';
import type { CallbackOutcome, HttpReply, InboundRequest } from '../_kit/adapter.ts';
import { parseJsonBody } from '../_kit/json-body.ts';
import { isJsonObject, jsonObject, scalarText } from '../_kit/payload-values.ts';
import { requestHeader } from '../_kit/request-header.ts';
import { safeEqual } from '../_kit/timing-safe.ts';
import type { TelegramChannelConfig } from './config.ts';
import { normalizeTelegramUpdate, type TelegramBotIdentity } from './normalize.ts';

/** Telegram takes any 2xx as delivered; an empty body asks nothing of the Bot API in return. */
const ACK: HttpReply = { status: 200, body: null };

/**
 * `POST /hooks/<id>`, one Update per request (https://core.telegram.org/bots/api#setwebhook). The
 * `X-Telegram-Bot-Api-Secret-Token` header must be the channel's `secretToken` (compared in
 * constant time, before the body is read). An update imgate does not handle is answered 200 and
 * not stored, or Telegram would keep sending it again.
 */
export function handleTelegramUpdate(config: TelegramChannelConfig, bot: TelegramBotIdentity, req: InboundRequest): CallbackOutcome {
  if (config.mode !== 'webhook' || config.secretToken === undefined) {
    throw new ImgateError('IMG_ERR_INBOUND_UNSUPPORTED', {
      message: `channel "${config.id}" is in polling mode: it asks getUpdates itself and takes no webhook calls`,
    });
  }
  if (req.method !== 'POST') throw new ImgateError('IMG_ERR_INBOUND_METHOD', { message: 'Telegram posts updates' });
  const secret = requestHeader(req, 'x-telegram-bot-api-secret-token');
  if (secret === undefined || !safeEqual(secret, config.secretToken)) {
    throw new ImgateError('IMG_ERR_INBOUND_BAD_SIGNATURE', { message: 'the X-Telegram-Bot-Api-Secret-Token header is missing or wrong' });
  }
  const update = parseJsonBody(req.rawBody);
  if (!isJsonObject(update)) throw new ImgateError('IMG_ERR_INBOUND_MALFORMED', { message: 'the update is not a JSON object' });
  const event = normalizeTelegramUpdate(update, bot, req.receivedAt);
  if (event === null) return { kind: 'reply', reply: ACK };
  const queryId = callbackQueryIdOf(event);
  return { kind: 'events', events: [event], ack: queryId === null ? ACK : answerCallbackQuery(queryId) };
}

/** The id of the button press an event is, else null. */
export function callbackQueryIdOf(event: NormalizedEvent): string | null {
  const query = jsonObject(event.message.content.callbackQuery);
  return query === null ? null : scalarText(query.id);
}

/**
 * A button press is answered, once stored, with answerCallbackQuery in the webhook's own answer
 * ("you can perform a request to the Bot API while sending an answer to the webhook",
 * https://core.telegram.org/bots/api#making-requests-when-getting-updates): the button's progress
 * indicator stops at once, without a call of imgate's own.
 */
function answerCallbackQuery(queryId: string): HttpReply {
  return { status: 200, contentType: 'application/json', body: { method: 'answerCallbackQuery', callback_query_id: queryId } };
}
