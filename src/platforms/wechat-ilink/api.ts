import { randomBytes } from 'node:crypto';
import { ImgateError } from '../../core/errors.ts';
import { platformRequest } from '../_kit/platform-http.ts';
import { isJsonObject, optionalNumber, scalarText } from '../_kit/payload-values.ts';
import { trimBase } from './config.ts';

/** `errcode`/`ret` of a session WeChat ended: the account must log in again (the official client's STALE_TOKEN_ERRCODE). */
export const SESSION_EXPIRED = -14;
/** `iLink-App-Id` and `base_info.channel_version` name imgate, as the protocol asks each client to name itself. */
const APP_ID = 'bot';
const BOT_AGENT = 'imgate/0.1';

export interface IlinkCall {
  base: string;
  /** `ilink/bot/<name>`, with its query string for GETs. */
  path: string;
  /** The bot token; absent for the login calls. */
  token?: string;
  /** POST body (`base_info` is added); GET without one. */
  body?: Record<string, unknown>;
  signal?: AbortSignal;
  timeoutMs?: number;
  /** The call makes no message however often it is repeated. */
  repeatable?: boolean;
}

/**
 * One iLink call with the headers every request carries (`AuthorizationType: ilink_bot_token`, the
 * bearer token, a random `X-WECHAT-UIN`, as in the official client's `src/api/api.ts`). The answer
 * is parsed with uint64 ids (`message_id`, `msg_id`, `svr_id`, bare JSON numbers) kept exact:
 * platformRequest's parser keeps every integer of 16 digits or more as a string, and shorter ones
 * are exact as numbers. A non-zero `ret`/`errcode` is an error (`details.errcode`); -14 says the
 * session ended.
 */
export async function callIlink(call: IlinkCall): Promise<Record<string, unknown>> {
  const headers: Record<string, string> = {
    AuthorizationType: 'ilink_bot_token',
    'X-WECHAT-UIN': Buffer.from(String(randomBytes(4).readUInt32BE(0)), 'utf8').toString('base64'),
    'iLink-App-Id': APP_ID,
  };
  if (call.token !== undefined) headers.Authorization = `Bearer ${call.token}`;
  const answer = await platformRequest({
    method: call.body === undefined ? 'GET' : 'POST',
    url: `${trimBase(call.base)}/${call.path}`,
    headers,
    body: call.body === undefined ? undefined : { ...call.body, base_info: { channel_version: BOT_AGENT, bot_agent: BOT_AGENT } },
    signal: call.signal,
    timeoutMs: call.timeoutMs,
    repeatable: call.repeatable,
    redact: call.token === undefined ? [] : [call.token],
  });
  if (!isJsonObject(answer)) throw new ImgateError('IMG_ERR_PLATFORM_REJECTED', { message: `iLink answered ${call.path.split('?')[0]} with no JSON object` });
  const code = errorCodeOf(answer);
  if (code === 0) return answer;
  const errmsg = scalarText(answer.errmsg) ?? 'no errmsg';
  if (code === SESSION_EXPIRED) {
    throw new ImgateError('IMG_ERR_LOGIN_NEEDED', { message: `WeChat ended the iLink session (${SESSION_EXPIRED}: ${errmsg}): log in again with imgate login`, details: { errcode: code } });
  }
  throw new ImgateError('IMG_ERR_PLATFORM_REJECTED', { message: `iLink answered ${call.path.split('?')[0]} with ${code}: ${errmsg}`, details: { errcode: code, errmsg } });
}

/** The first non-zero of `ret` and `errcode`, else 0. */
export function errorCodeOf(answer: Record<string, unknown>): number {
  const ret = optionalNumber(answer.ret) ?? 0;
  return ret !== 0 ? ret : (optionalNumber(answer.errcode) ?? 0);
}
