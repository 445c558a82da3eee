import { Blob } from 'node:buffer';
import { FormData, type Dispatcher } from 'undici';
import { ImgateError } from '../../core/errors.ts';
import { credentialKey } from '../../tokens/credential-key.ts';
import { TokenRejectedError, type TokenService, type TokenSource } from '../../tokens/token-service.ts';
import type { SendRequest } from '../_kit/adapter.ts';
import { imageBytes } from '../_kit/image-bytes.ts';
import { platformRequest, type PlatformRequestOptions } from '../_kit/platform-http.ts';
import { imageFileName } from '../_kit/wecom-media.ts';
import { feishuApiBase, type FeishuChannelConfig, type FeishuPlatformId } from './config.ts';
import { jsonObject } from '../_kit/payload-values.ts';

type Json = Record<string, unknown>;

/** An app credential: its host, App ID and App Secret. */
export interface FeishuCredential {
  platform: FeishuPlatformId;
  apiBase: string;
  appId: string;
  appSecret: string;
  /** An existing token service answering like `tenant_access_token/internal`. */
  tokenUrl?: string | undefined;
}

export function feishuCredential(config: FeishuChannelConfig): FeishuCredential {
  return {
    platform: config.platform,
    apiBase: feishuApiBase(config),
    appId: config.appId,
    appSecret: config.appSecret,
    tokenUrl: config.tokenUrl,
  };
}

/**
 * Codes that mean the tenant_access_token is invalid or expired (99991663), missing (99991661)
 * or otherwise refused (99991668): fetch a new one once and repeat the call
 * (https://open.feishu.cn/document/server-docs/api-call-guide/generic-error-code).
 */
const TOKEN_CODES = new Set([99991663, 99991661, 99991668]);
/**
 * Frequency limits: 99991400 (the app's, per API; answered with HTTP 400) and 230020 (a chat's
 * 5 a second, shared by every bot in it). A second is the honest wait for both.
 */
const RATE_CODES = new Set([99991400, 230020]);
const RATE_RETRY_AFTER_SECONDS = 1;

/**
 * Common refusals explained in words an operator can act on; Feishu's own `msg` is kept in the
 * message and in `details` either way.
 */
const EXPLAINED: Record<number, string> = {
  230002: 'the bot is not in this chat: add it to the chat first',
  230006: "the app's bot is not enabled: turn on the bot capability (机器人) and publish a version",
  230011: 'the message replied to was recalled',
  230013: "the user is outside the app's availability range (可用范围)",
  99991672: 'the app lacks a scope this API needs (e.g. im:message:send_as_bot): add it and publish a version',
};

/** The token source for a credential: Feishu's `tenant_access_token/internal`, or `tokenUrl` in its place. */
export function feishuTokenSource(credential: FeishuCredential): TokenSource {
  return {
    // One token per app and host: a Feishu app and a Lark app are never the same app.
    key: credentialKey(credential.platform, credential.appId, credential.appSecret),
    async fetch(rejected) {
      const url = credential.tokenUrl ?? `${credential.apiBase}/open-apis/auth/v3/tenant_access_token/internal`;
      const body: Json = { app_id: credential.appId, app_secret: credential.appSecret };
      // A token service in front of Feishu would hand back the same refused token: say which it was,
      // as WeCom channels do (src/platforms/_kit/wecom-api.ts). Feishu itself is not told.
      if (credential.tokenUrl !== undefined && rejected !== undefined) body.invalid_token = rejected;
      const answer = await feishuRequest(
        { method: 'POST', url, body, redact: [credential.appSecret, ...(rejected === undefined ? [] : [rejected])], repeatable: true },
        'tenant_access_token',
        false,
      );
      const token = answer.tenant_access_token;
      const expire = Number(answer.expire);
      if (typeof token !== 'string' || token === '' || !Number.isFinite(expire) || expire <= 0) {
        throw new ImgateError('IMG_ERR_PLATFORM_REJECTED', { message: 'Feishu answered without tenant_access_token/expire' });
      }
      return { value: token, expiresInSeconds: expire };
    },
  };
}

export interface FeishuCall {
  /** e.g. `/open-apis/im/v1/messages`. */
  path: string;
  method?: 'GET' | 'POST';
  query?: Record<string, string>;
  body?: unknown;
}

/**
 * Calls a Feishu API with the app's tenant_access_token (`Authorization: Bearer`), fetching a new
 * token once when Feishu refuses it, and turns a non-zero `code` into the matching imgate error.
 * Answers the whole body (`{code, msg, data}`; `bot/v3/info` puts `bot` beside `data`).
 */
export function callFeishuApi(tokens: TokenService, credential: FeishuCredential, call: FeishuCall): Promise<Json> {
  return tokens.withToken(feishuTokenSource(credential), (token) => {
    const url = new URL(`${credential.apiBase}${call.path}`);
    for (const [name, value] of Object.entries(call.query ?? {})) url.searchParams.set(name, value);
    return feishuRequest(
      {
        method: call.method ?? 'POST',
        url: url.toString(),
        headers: { authorization: `Bearer ${token}` },
        body: call.body,
        redact: [token],
      },
      call.path,
      true,
    );
  });
}

/**
 * `POST /open-apis/im/v1/images` (multipart: `image_type=message`, `image`; the SDK's
 * `im.v1.image.create`), answering the `image_key` that an image message names.
 */
export async function uploadFeishuImage(
  tokens: TokenService,
  credential: FeishuCredential,
  image: NonNullable<SendRequest['image']>,
  downloads: Dispatcher,
): Promise<string> {
  const bytes = await imageBytes(image, downloads);
  const { name, type } = imageFileName(bytes);
  // The form is built per attempt: a FormData body cannot be sent twice (the token retry).
  const answer = await tokens.withToken(feishuTokenSource(credential), (token) => {
    const form = new FormData();
    form.append('image_type', 'message');
    form.append('image', new Blob([bytes], { type }), name);
    return feishuRequest(
      { method: 'POST', url: `${credential.apiBase}/open-apis/im/v1/images`, headers: { authorization: `Bearer ${token}` }, form, redact: [token], repeatable: true },
      '/open-apis/im/v1/images',
      true,
    );
  });
  const key = jsonObject(answer.data)?.image_key;
  if (typeof key !== 'string' || key === '') {
    throw new ImgateError('IMG_ERR_PLATFORM_REJECTED', { message: 'Feishu im/v1/images answered without data.image_key' });
  }
  return key;
}

/** The bot's own open_id (`GET /open-apis/bot/v3/info`, as the SDK's channel resolves it). */
export async function fetchFeishuBotOpenId(tokens: TokenService, credential: FeishuCredential): Promise<string> {
  const answer = await callFeishuApi(tokens, credential, { method: 'GET', path: '/open-apis/bot/v3/info' });
  const openId = jsonObject(answer.bot)?.open_id;
  if (typeof openId !== 'string' || openId === '') {
    throw new ImgateError('IMG_ERR_PLATFORM_REJECTED', { message: 'Feishu bot/v3/info answered without bot.open_id: is the bot capability on?' });
  }
  return openId;
}

/**
 * One request and its `{code, msg}`. Feishu answers refusals with HTTP 4xx as well as 200 (the
 * frequency limit 99991400 comes with HTTP 400), and platformRequest turns a 4xx into
 * IMG_ERR_PLATFORM_REJECTED with the start of the body: the code is read back from there.
 */
async function feishuRequest(options: PlatformRequestOptions, what: string, tokenCall: boolean): Promise<Json> {
  let answer: unknown;
  try {
    answer = await platformRequest(options);
  } catch (error) {
    const refusal = error instanceof ImgateError ? refusalOf(error) : null;
    if (refusal === null) throw error;
    checkCode(refusal.body, what, tokenCall, refusal.httpStatus);
    throw error;
  }
  const body = jsonObject(answer);
  if (body === null) throw new ImgateError('IMG_ERR_PLATFORM_REJECTED', { message: `Feishu ${what} answered something that is not a JSON object` });
  checkCode(body, what, tokenCall, undefined);
  return body;
}

function checkCode(body: Json, what: string, tokenCall: boolean, httpStatus: number | undefined): void {
  const code = body.code === undefined ? 0 : Number(body.code);
  if (code === 0) return;
  const msg = typeof body.msg === 'string' ? body.msg : '';
  const details: Json = { code, msg };
  if (httpStatus !== undefined) details.httpStatus = httpStatus;
  const hint = EXPLAINED[code];
  const message = `Feishu ${what} answered code ${code}: ${msg}${hint === undefined ? '' : ` (${hint})`}`;
  if (RATE_CODES.has(code)) throw new ImgateError('IMG_ERR_PLATFORM_RATE_LIMITED', { message, details, retryAfter: RATE_RETRY_AFTER_SECONDS });
  const rejected = new ImgateError('IMG_ERR_PLATFORM_REJECTED', { message, details });
  if (tokenCall && TOKEN_CODES.has(code)) throw new TokenRejectedError(rejected);
  throw rejected;
}

/** `{code, msg}` from a refusal platformRequest reported with an HTTP status and the body's start. */
function refusalOf(error: ImgateError): { body: Json; httpStatus: number | undefined } | null {
  if (error.code !== 'IMG_ERR_PLATFORM_REJECTED' || typeof error.details?.body !== 'string') return null;
  const text = error.details.body;
  const httpStatus = typeof error.details.httpStatus === 'number' ? error.details.httpStatus : undefined;
  try {
    const parsed = jsonObject(JSON.parse(text));
    if (parsed !== null && parsed.code !== undefined) return { body: parsed, httpStatus };
  } catch {
    // The excerpt is cut at 500 characters: long answers (a troubleshooter link) are read below.
  }
  const code = /"code"\s*:\s*(-?\d+)/.exec(text)?.[1];
  if (code === undefined) return null;
  const msg = /"msg"\s*:\s*"((?:[^"\\]|\\.)*)"/.exec(text)?.[1];
  return { body: { code: Number(code), msg: msg === undefined ? '' : unescapeJson(msg) }, httpStatus };
}

function unescapeJson(text: string): string {
  try {
    return JSON.parse(`"${text}"`) as string;
  } catch {
    return text;
  }
}
