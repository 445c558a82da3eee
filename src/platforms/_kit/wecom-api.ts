import type { FormData } from 'undici';
import { ImgateError } from '../../core/errors.ts';
import { credentialKey } from '../../tokens/credential-key.ts';
import { TokenRejectedError, type TokenService, type TokenSource } from '../../tokens/token-service.ts';
import { platformRequest, redactSecrets } from './platform-http.ts';

export const WECOM_API_BASE = 'https://qyapi.weixin.qq.com';

/** An app credential (a self-built app's secret, or the customer-service secret). */
export interface WecomCredential {
  apiBase: string;
  corpId: string;
  corpSecret: string;
  /** An existing token service answering like `gettoken` (e.g. a WXKF manager's `getToken`). */
  tokenUrl?: string | undefined;
}

/** The credential of a channel configured with `wecomCredentialFields` (and the common `apiBase`). */
export function wecomCredential(config: {
  apiBase?: string | undefined;
  corpId: string;
  corpSecret: string;
  tokenUrl?: string | undefined;
}): WecomCredential {
  return {
    apiBase: (config.apiBase ?? WECOM_API_BASE).replace(/\/+$/, ''),
    corpId: config.corpId,
    corpSecret: config.corpSecret,
    tokenUrl: config.tokenUrl,
  };
}

/** errcodes that mean the access token is invalid (40014) or expired (42001): re-fetch once. */
const TOKEN_ERRCODES = new Set([40014, 42001]);
/** API frequency limits (45009, 45033 concurrency): the caller should slow down. */
const RATE_ERRCODES = new Set([45009, 45033]);
/** "System busy, retry": treated like an unreachable platform, which the send service retries. */
const BUSY_ERRCODE = -1;

/** The token source for a credential: WeCom's `gettoken`, or the configured `tokenUrl` in its place. */
export function wecomTokenSource(credential: WecomCredential): TokenSource {
  return {
    key: credentialKey('wecom', credential.corpId, credential.corpSecret),
    async fetch(rejected) {
      const base = credential.tokenUrl ?? `${credential.apiBase}/cgi-bin/gettoken`;
      const url = new URL(base);
      url.searchParams.set('corpid', credential.corpId);
      url.searchParams.set('corpsecret', credential.corpSecret);
      // A token service in front of WeCom would hand back the same refused token: say which it was
      // (imgate's getToken renews it; WeCom's gettoken ignores the parameter, so it is only sent there).
      if (credential.tokenUrl !== undefined && rejected !== undefined) url.searchParams.set('invalid_token', rejected);
      const answer = checkWecomAnswer(
        await platformRequest({ method: 'GET', url: url.toString(), redact: [credential.corpSecret, ...(rejected ? [rejected] : [])] }),
        'gettoken',
        {},
      );
      const token = answer.access_token;
      const expiresIn = Number(answer.expires_in);
      if (typeof token !== 'string' || token === '' || !Number.isFinite(expiresIn) || expiresIn <= 0) {
        throw new ImgateError('IMG_ERR_PLATFORM_REJECTED', { message: 'gettoken answered without access_token/expires_in' });
      }
      return { value: token, expiresInSeconds: expiresIn };
    },
  };
}

export interface WecomCall {
  /** e.g. `/cgi-bin/message/send`. */
  path: string;
  method?: 'GET' | 'POST';
  body?: unknown;
  form?: FormData;
  query?: Record<string, string>;
  /** Clearer messages for errcodes this API is known for (e.g. KF's 95001). */
  explain?: Record<number, string>;
  /** The call makes no message (an upload): see PlatformRequestOptions.repeatable. */
  repeatable?: boolean;
}

/**
 * Calls a WeCom API with the credential's access token, re-fetching the token once when WeCom says
 * it is invalid or expired, and turns a non-zero errcode into the matching imgate error.
 */
export function callWecomApi(tokens: TokenService, credential: WecomCredential, call: WecomCall): Promise<Record<string, unknown>> {
  return tokens.withToken(wecomTokenSource(credential), async (token) => {
    const url = new URL(`${credential.apiBase}${call.path}`);
    url.searchParams.set('access_token', token);
    for (const [name, value] of Object.entries(call.query ?? {})) url.searchParams.set(name, value);
    const answer = await platformRequest({
      method: call.method ?? 'POST',
      url: url.toString(),
      body: call.body,
      form: call.form,
      redact: [token],
      repeatable: call.repeatable,
    });
    return checkWecomAnswer(answer, call.path, { explain: call.explain, withToken: true });
  });
}

export interface WecomAnswerCheck {
  /** Clearer messages for errcodes an API is known for. */
  explain?: Record<number, string>;
  /**
   * The call carried an access token, so 40014/42001 mean "fetch a new one" (a TokenRejectedError).
   * Not so for gettoken itself, nor for robot webhooks, which have no token.
   */
  withToken?: boolean;
  /** Secrets blanked from errmsg (a robot's key): WeCom is not known to echo them, but must not leak them. */
  redact?: string[];
}

/** WeCom answers HTTP 200 with `{errcode, errmsg}`; anything but errcode 0 is a failure. */
export function checkWecomAnswer(answer: unknown, what: string, check: WecomAnswerCheck = {}): Record<string, unknown> {
  if (answer === null || typeof answer !== 'object' || Array.isArray(answer)) {
    throw new ImgateError('IMG_ERR_PLATFORM_REJECTED', { message: `WeCom ${what} answered something that is not a JSON object` });
  }
  const body = answer as Record<string, unknown>;
  const errcode = body.errcode === undefined ? 0 : Number(body.errcode);
  if (errcode === 0) return body;
  const errmsg = redactSecrets(typeof body.errmsg === 'string' ? body.errmsg : '', check.redact);
  const details = { errcode, errmsg };
  const message = check.explain?.[errcode] ?? `WeCom ${what} answered errcode ${errcode}: ${errmsg}`;
  const rejection = new ImgateError('IMG_ERR_PLATFORM_REJECTED', { message, details });
  if (TOKEN_ERRCODES.has(errcode) && check.withToken === true) throw new TokenRejectedError(rejection);
  if (RATE_ERRCODES.has(errcode)) throw new ImgateError('IMG_ERR_PLATFORM_RATE_LIMITED', { message, details, retryAfter: 60 });
  // WeCom answered that it did not handle the call: safe to try again.
  if (errcode === BUSY_ERRCODE) throw new ImgateError('IMG_ERR_PLATFORM_UNREACHABLE', { message, details: { ...details, outcome: 'not-sent' } });
  throw rejection;
}
