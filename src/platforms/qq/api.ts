import { ImgateError } from '../../core/errors.ts';
import { credentialKey } from '../../tokens/credential-key.ts';
import { TokenRejectedError, type TokenService, type TokenSource } from '../../tokens/token-service.ts';
import { platformRequest } from '../_kit/platform-http.ts';
import { jsonObject, optionalNumber, scalarText, type Json } from '../_kit/payload-values.ts';
import { apiBaseOf, tokenBaseOf, type QqChannelConfig } from './config.ts';

/** A bot's credential and hosts. */
export interface QqCredential {
  appId: string;
  secret: string;
  apiBase: string;
  tokenBase: string;
  /** An existing token service answering like `getAppAccessToken`. */
  tokenUrl?: string | undefined;
}

export function qqCredential(config: QqChannelConfig): QqCredential {
  return { appId: config.appId, secret: config.secret, apiBase: apiBaseOf(config), tokenBase: tokenBaseOf(config), tokenUrl: config.tokenUrl };
}

/**
 * 11241 token missing, 11242 token check failed, 11243 token refused (openapi/error/error.md); with
 * any HTTP 401 ("认证失败"), the token is fetched again once and the call repeated.
 */
const TOKEN_CODES = new Set([11241, 11242, 11243]);
/** 20028: a guild channel's write limit (5 messages a second); 22009: "msg limit exceed" (send.md). */
const RATE_CODES = new Set([20028, 22009]);
const RATE_RETRY_AFTER_SECONDS = 1;
/** The message went to QQ's manual review (a guild's proactive message): sent, with no id yet. */
export const QQ_AUDIT_CODES = new Set([304023, 304024]);

/** Common refusals in words an operator can act on; QQ's own code and message stay in `details`. */
const EXPLAINED: Record<number, string> = {
  304003: 'the message contains a URL not registered for the bot (开发设置 → 消息URL配置)',
  304026: 'QQ does not know the message replied to (msg_id): it may belong to another bot or chat',
  304027: 'the message replied to is past its reply window',
  50056: 'the bot may not send native markdown: QQ grants that capability separately',
  11253: 'the bot lacks the permission for this API',
  40054005:
    'QQ already has a reply with this msg_seq to this message (sent past imgate, which numbers its own replies): sending again takes the next number',
};

/**
 * The bot's access token: `POST {tokenBase}/app/getAppAccessToken {appId, clientSecret}` →
 * `{access_token, expires_in: "7200"}` (a string in QQ's own example; api-use.md), or the same request
 * to `tokenUrl`. In a token's last 60 s QQ hands out a new one and both work; imgate asks again well
 * before the end (token-service.ts), so it always gets the new one in time.
 */
function qqTokenSource(credential: QqCredential): TokenSource {
  return {
    key: credentialKey('qq', credential.appId, credential.secret),
    async fetch(rejected) {
      const url = credential.tokenUrl ?? `${credential.tokenBase}/app/getAppAccessToken`;
      const body: Json = { appId: credential.appId, clientSecret: credential.secret };
      // A token service in front of QQ would hand back the refused token again: say which it was, as
      // the other channels do. QQ itself is not told.
      if (credential.tokenUrl !== undefined && rejected !== undefined) body.invalid_token = rejected;
      const secrets = [credential.secret, ...(rejected === undefined ? [] : [rejected])];
      const answer = await platformRequest({ url, body, redact: secrets, repeatable: true }).catch((error: unknown) => {
        throw withQqCode(error, 'getAppAccessToken');
      });
      const fields = jsonObject(answer) ?? {};
      const token = fields.access_token;
      const expiresIn = optionalNumber(fields.expires_in);
      if (typeof token !== 'string' || token === '' || expiresIn === null || expiresIn <= 0) {
        const code = qqCode(fields);
        const details = code === null ? undefined : { code, message: typeof fields.message === 'string' ? fields.message : '' };
        throw new ImgateError('IMG_ERR_PLATFORM_REJECTED', { message: 'QQ getAppAccessToken answered without access_token and expires_in', details });
      }
      return { value: token, expiresInSeconds: expiresIn };
    },
  };
}

/**
 * `POST {apiBase}{path}` with `Authorization: QQBot {token}`, fetching the token again once when QQ
 * refuses it, and turning QQ's `{code, message}` refusals into imgate's errors (their code in
 * `details.code`). Answers the body: `{id, timestamp}` for the v2 APIs, a Message for guild ones.
 */
/** `repeatable`: the call makes no message (an upload), see PlatformRequestOptions.repeatable. */
export function callQqApi(tokens: TokenService, credential: QqCredential, path: string, body: Json, repeatable = false): Promise<Json> {
  return tokens.withToken(qqTokenSource(credential), async (token) => {
    const fields = await requestWithToken(credential, path, token, body, undefined, repeatable);
    const code = qqCode(fields);
    // QQ answers a few refusals, and its review notices, with a 2xx status and a code.
    if (code !== null && code !== 0 && fields.id === undefined && !QQ_AUDIT_CODES.has(code)) {
      throw refusal(code, typeof fields.message === 'string' ? fields.message : '', path, undefined, fields);
    }
    return fields;
  });
}

/**
 * What a WebSocket-mode connection needs: `GET {apiBase}/gateway` → `{url}`, and the access token it
 * was asked with, which IDENTIFY and RESUME carry (`QQBot {token}`; event-emit.md, "WebSocket方式").
 */
export function openQqGateway(tokens: TokenService, credential: QqCredential, signal: AbortSignal): Promise<{ url: string; token: string }> {
  return tokens.withToken(qqTokenSource(credential), async (token) => {
    const url = scalarText((await requestWithToken(credential, '/gateway', token, undefined, signal)).url);
    if (url === null || !/^wss?:\/\//.test(url)) {
      throw new ImgateError('IMG_ERR_PLATFORM_REJECTED', { message: 'QQ /gateway answered without a WebSocket url' });
    }
    return { url, token };
  });
}

/** `Authorization: QQBot {token}`; POST with a body, GET without; a refused token becomes TokenRejectedError. */
async function requestWithToken(credential: QqCredential, path: string, token: string, body?: Json, signal?: AbortSignal, repeatable = false): Promise<Json> {
  try {
    const answer = await platformRequest({
      signal,
      repeatable,
      method: body === undefined ? 'GET' : 'POST',
      url: `${credential.apiBase}${path}`,
      headers: { authorization: `QQBot ${token}` },
      body,
      redact: [token],
    });
    return jsonObject(answer) ?? {};
  } catch (error) {
    const mapped = withQqCode(error, path);
    if (isTokenRefusal(mapped)) throw new TokenRejectedError(mapped);
    throw mapped;
  }
}

/** The platform error with QQ's `code` and `message` read from the error body platformRequest kept. */
function withQqCode(error: unknown, what: string): unknown {
  if (!(error instanceof ImgateError) || error.code !== 'IMG_ERR_PLATFORM_REJECTED') return error;
  const httpStatus = optionalNumber(error.details?.httpStatus) ?? undefined;
  const body = parseBody(error.details?.body);
  const code = body === null ? null : qqCode(body);
  if (body === null || code === null) return error;
  return refusal(code, typeof body.message === 'string' ? body.message : '', what, httpStatus, body);
}

function refusal(code: number, platformMessage: string, what: string, httpStatus: number | undefined, body: Json): ImgateError {
  const details: Json = { code, message: platformMessage };
  if (httpStatus !== undefined) details.httpStatus = httpStatus;
  if (typeof body.trace_id === 'string') details.traceId = body.trace_id;
  const hint = EXPLAINED[code];
  const message = `QQ ${what} answered code ${code}: ${platformMessage}${hint === undefined ? '' : ` (${hint})`}`;
  if (RATE_CODES.has(code)) return new ImgateError('IMG_ERR_PLATFORM_RATE_LIMITED', { message, details, retryAfter: RATE_RETRY_AFTER_SECONDS });
  return new ImgateError('IMG_ERR_PLATFORM_REJECTED', { message, details });
}

function isTokenRefusal(error: unknown): error is ImgateError {
  if (!(error instanceof ImgateError) || error.code !== 'IMG_ERR_PLATFORM_REJECTED') return false;
  return TOKEN_CODES.has(Number(error.details?.code)) || Number(error.details?.httpStatus) === 401;
}

/** QQ's error code: `code`, or `err_code` where only that is given. */
export function qqCode(body: Json): number | null {
  return optionalNumber(body.code) ?? optionalNumber(body.err_code);
}

function parseBody(text: unknown): Json | null {
  if (typeof text !== 'string') return null;
  try {
    return jsonObject(JSON.parse(text));
  } catch {
    return null;
  }
}
