import { ImgateError } from '../../core/errors.ts';
import { jsonObject, type Json } from '../_kit/payload-values.ts';
import { platformRequest } from '../_kit/platform-http.ts';

/**
 * Web API errors explained in words an operator can act on (each method's page lists its errors,
 * e.g. https://api.slack.com/methods/chat.postMessage#errors); Slack's own `error` stays in the
 * message and in `details` either way.
 */
const EXPLAINED: Record<string, string> = {
  invalid_auth: 'the token is not valid',
  not_authed: 'no token was sent',
  token_revoked: 'the token has been revoked: reinstall the app',
  account_inactive: "the token's user or bot has been deactivated",
  channel_not_found: '`to` names no channel the bot can see',
  not_in_channel: 'the bot is not a member of this channel: invite it (/invite @bot)',
  is_archived: 'the channel is archived',
  missing_scope: 'the token lacks a scope this method needs (chat:write to post; connections:write for Socket Mode)',
  not_allowed_token_type: 'this method takes another kind of token (Socket Mode needs the app-level xapp- token)',
  msg_too_long: 'the message text is too long',
  invalid_blocks: 'Slack refused the message blocks (an image URL it cannot fetch?)',
};
/** Errors that stay until the operator acts: a long connection waits the longest before asking again. */
const REFUSALS = new Set(['invalid_auth', 'not_authed', 'token_revoked', 'account_inactive', 'missing_scope', 'not_allowed_token_type']);

export interface SlackCall {
  /** `{apiBase}` of the channel. */
  apiBase: string;
  /** e.g. `chat.postMessage`. */
  method: string;
  /** A bot (`xoxb-`) or app-level (`xapp-`) token. */
  token: string;
  body: Json;
  signal?: AbortSignal;
}

/**
 * `POST {apiBase}/api/<method>` with a JSON body and the token as `Authorization: Bearer`
 * (https://api.slack.com/web#posting_json). Slack answers `{ok: false, error}` with HTTP 200 for
 * refusals, which become IMG_ERR_PLATFORM_REJECTED; a 429 is rate limited with the `Retry-After`
 * it carries (https://api.slack.com/apis/rate-limits), through platformRequest. The token is
 * blanked from every error.
 */
export async function callSlackApi(call: SlackCall): Promise<Json> {
  const answer = jsonObject(
    await platformRequest({
      url: `${call.apiBase}/api/${call.method}`,
      headers: { authorization: `Bearer ${call.token}`, 'content-type': 'application/json; charset=utf-8' },
      body: call.body,
      redact: [call.token],
      signal: call.signal,
    }),
  );
  if (answer === null) throw new ImgateError('IMG_ERR_PLATFORM_REJECTED', { message: `Slack ${call.method} answered something that is not a JSON object` });
  if (answer.ok === true) return answer;
  const error = typeof answer.error === 'string' ? answer.error : 'unknown_error';
  if (error === 'ratelimited') {
    throw new ImgateError('IMG_ERR_PLATFORM_RATE_LIMITED', { message: `Slack ${call.method} answered ratelimited`, details: { error }, retryAfter: 1 });
  }
  const hint = EXPLAINED[error];
  throw new ImgateError('IMG_ERR_PLATFORM_REJECTED', {
    message: `Slack ${call.method} answered ${error}${hint === undefined ? '' : ` (${hint})`}`,
    details: REFUSALS.has(error) ? { error, refused: true } : { error },
  });
}
