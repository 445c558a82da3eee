import type { FormData } from 'undici';
import { ImgateError } from '../../core/errors.ts';
import { platformRequest } from '../_kit/platform-http.ts';
import { isJsonObject, optionalNumber, scalarText } from '../_kit/payload-values.ts';
import { telegramApiBase, type TelegramChannelConfig } from './config.ts';

export interface TelegramCall {
  /** JSON parameters; exclusive with `form`. */
  body?: Record<string, unknown>;
  /** multipart/form-data parameters (a file upload). */
  form?: FormData;
  signal?: AbortSignal;
  timeoutMs?: number;
  /** The call makes no message however often it is repeated (getUpdates, getMe, setWebhook). */
  repeatable?: boolean;
}

/**
 * Calls one Bot API method, `POST {apiBase}/bot<token>/<method>`, and returns its `result`
 * (https://core.telegram.org/bots/api#making-requests: `{ok, result}` on success, `{ok: false,
 * error_code, description, parameters?}` otherwise). The token is in the URL's path, so it is
 * blanked in every error. A 429 comes back from platformRequest as IMG_ERR_PLATFORM_RATE_LIMITED
 * with `parameters.retry_after`; other refusals as IMG_ERR_PLATFORM_REJECTED naming Telegram's
 * `error_code` and `description`.
 */
export async function callTelegram(config: Pick<TelegramChannelConfig, 'apiBase' | 'token'>, method: string, call: TelegramCall = {}): Promise<unknown> {
  let answer: unknown;
  try {
    answer = await platformRequest({
      url: `${telegramApiBase(config)}/bot${config.token}/${method}`,
      body: call.form === undefined ? (call.body ?? {}) : undefined,
      form: call.form,
      signal: call.signal,
      timeoutMs: call.timeoutMs,
      repeatable: call.repeatable,
      redact: [config.token],
    });
  } catch (error) {
    throw telegramError(error, method, config.token);
  }
  if (isJsonObject(answer) && answer.ok === true) return answer.result;
  throw refusal(method, isJsonObject(answer) ? answer : {}, 200);
}

/** A platformRequest failure with Telegram's own error (in `details.body`) made readable. */
function telegramError(error: unknown, method: string, token: string): unknown {
  if (!(error instanceof ImgateError) || error.code !== 'IMG_ERR_PLATFORM_REJECTED') return error;
  const status = optionalNumber(error.details?.httpStatus) ?? 0;
  let body: unknown = null;
  try {
    body = JSON.parse(String(error.details?.body ?? ''));
  } catch {
    // not Telegram's JSON (a proxy's page): the status says it all
  }
  const refused = refusal(method, isJsonObject(body) ? body : {}, status);
  return new ImgateError(refused.code, { message: refused.message.split(token).join('[redacted]'), details: refused.details, cause: error });
}

/**
 * Telegram's `{ok: false}` answer as an error. 401 (a wrong token) and 409 (getUpdates while a
 * webhook is set, or a second poller of the same bot) are marked `refused`: asking again cannot
 * help until the operator acts.
 */
function refusal(method: string, body: Record<string, unknown>, httpStatus: number): ImgateError {
  const errorCode = optionalNumber(body.error_code) ?? httpStatus;
  const description = scalarText(body.description) ?? 'no description';
  const parameters = isJsonObject(body.parameters) ? body.parameters : {};
  const migrateTo = scalarText(parameters.migrate_to_chat_id);
  const details: Record<string, unknown> = { httpStatus, errorCode, description };
  if (migrateTo !== null) details.migrateToChatId = migrateTo;
  let message = `Telegram answered ${method} with ${errorCode}: ${description}`;
  if (errorCode === 401) {
    message = `Telegram refused the bot token (401) for ${method}: check the channel's token`;
    details.refused = true;
  } else if (errorCode === 409) {
    message = /webhook/i.test(description)
      ? "Telegram refuses getUpdates while a webhook is set for this bot (409): delete it with `imgate telegram delete-webhook`, or use mode: webhook"
      : 'Telegram ended this getUpdates because another one asks for the same bot (409): only one poller per bot, so give every imgate of this bot the same store';
    details.refused = true;
  } else if (migrateTo !== null) {
    message = `the group became a supergroup: send to chat ${migrateTo} from now on (Telegram: ${description})`;
  }
  return new ImgateError('IMG_ERR_PLATFORM_REJECTED', { message, details });
}
