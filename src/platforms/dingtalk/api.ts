import { ImgateError } from '../../core/errors.ts';
import { credentialKey } from '../../tokens/credential-key.ts';
import { TokenRejectedError, type TokenService, type TokenSource } from '../../tokens/token-service.ts';
import { platformRequest, redactSecrets } from '../_kit/platform-http.ts';
import { apiBaseOf, type DingtalkChannelConfig } from './config.ts';
import { isJsonObject } from '../_kit/payload-values.ts';

type Json = Record<string, unknown>;

/** The header every new-style API (`api.dingtalk.com/v1.0/…`) takes the access token in. */
export const TOKEN_HEADER = 'x-acs-dingtalk-access-token';

/**
 * How DingTalk's new API says the token is invalid or expired: HTTP 400 (401 in some reports) with
 * `{"code":"InvalidAuthentication","message":"不合法的access_token"}`, as logged from real traffic in
 * satorijs/satori#240 and ClouGence/open-cdm#342. Not in DingTalk's public error list, hence also
 * any 401: either way the token is fetched again once.
 */
const TOKEN_CODES = new Set(['InvalidAuthentication']);
/**
 * Throttling: HTTP 429, or HTTP 403 with `Forbidden.AccessDenied.QpsLimitForApi` /
 * `…QpsLimitForAppkeyAndApi` (per-app and per-API QPS caps), or a `Throttling…` code (the
 * Alibaba Cloud gateway's). Seen in several DingTalk clients; DingTalk documents the caps, not the bodies.
 */
const QPS_CODE = /QpsLimit|^Throttling/i;
const QPS_RETRY_AFTER_SECONDS = 1;
/** Codes worth a sentence an operator can act on; DingTalk's own code and message stay in `details`. */
const EXPLAIN: Record<string, string> = {
  'Forbidden.AccessDenied.AccessTokenPermissionDenied':
    'the app lacks the permission for this API: grant it the robot message permission (企业内机器人发送消息权限) in the DingTalk developer console',
};

export interface DingtalkCredential {
  apiBase: string;
  appKey: string;
  appSecret: string;
  tokenUrl?: string | undefined;
}

export function dingtalkCredential(config: DingtalkChannelConfig): DingtalkCredential {
  return { apiBase: apiBaseOf(config), appKey: config.appKey, appSecret: config.appSecret, tokenUrl: config.tokenUrl };
}

/**
 * The app's access token: `POST /v1.0/oauth2/accessToken {appKey, appSecret}` → `{accessToken,
 * expireIn}` (7200 s), or the same request to `tokenUrl`, which may also answer in `gettoken`'s
 * shape (`{errcode, access_token, expires_in}`): DingTalk's old and new tokens are one token.
 */
export function dingtalkTokenSource(credential: DingtalkCredential): TokenSource {
  return {
    key: credentialKey('dingtalk', credential.appKey, credential.appSecret),
    async fetch() {
      const url = credential.tokenUrl ?? `${credential.apiBase}/v1.0/oauth2/accessToken`;
      const answer = await platformRequest({
        url,
        body: { appKey: credential.appKey, appSecret: credential.appSecret },
        redact: [credential.appSecret],
        repeatable: true,
      }).catch((error: unknown) => {
        throw withDingtalkCode(error, 'accessToken', [credential.appSecret]);
      });
      const body = isJsonObject(answer) ? answer : {};
      const errcode = body.errcode === undefined ? 0 : Number(body.errcode);
      const token = body.accessToken ?? body.access_token;
      const expiresIn = Number(body.expireIn ?? body.expires_in);
      if (errcode !== 0 || typeof token !== 'string' || token === '' || !Number.isFinite(expiresIn) || expiresIn <= 0) {
        throw new ImgateError('IMG_ERR_PLATFORM_REJECTED', {
          message: 'the DingTalk token endpoint answered without accessToken and expireIn',
          details: errcode !== 0 ? { errcode, errmsg: typeof body.errmsg === 'string' ? body.errmsg : '' } : undefined,
        });
      }
      return { value: token, expiresInSeconds: expiresIn };
    },
  };
}

/**
 * Calls a new-style robot API (`POST {apiBase}{path}`) with the app's access token, fetching the
 * token again once if DingTalk rejects it, and turns DingTalk's `{code, message}` errors into
 * imgate's. One attempt otherwise: the send service retries what is unreachable.
 */
export function callDingtalkApi(tokens: TokenService, credential: DingtalkCredential, path: string, body: Json): Promise<Json> {
  return tokens.withToken(dingtalkTokenSource(credential), async (token) => {
    let answer: unknown;
    try {
      answer = await platformRequest({ url: `${credential.apiBase}${path}`, headers: { [TOKEN_HEADER]: token }, body, redact: [token] });
    } catch (error) {
      const mapped = withDingtalkCode(error, path, [token]);
      if (isTokenRejection(mapped)) throw new TokenRejectedError(mapped);
      throw mapped;
    }
    return isJsonObject(answer) ? answer : {};
  });
}

/**
 * The platform error with DingTalk's `code`, `message` and `requestid` read from the error body
 * platformRequest kept: a QPS code becomes IMG_ERR_PLATFORM_RATE_LIMITED, the rest stays rejected.
 */
function withDingtalkCode(error: unknown, what: string, secrets: string[]): unknown {
  if (!(error instanceof ImgateError) || error.code !== 'IMG_ERR_PLATFORM_REJECTED') return error;
  const httpStatus = Number(error.details?.httpStatus);
  const parsed = parseErrorBody(error.details?.body);
  if (parsed === null) return error;
  const code = typeof parsed.code === 'string' ? parsed.code : '';
  const platformMessage = redactSecrets(typeof parsed.message === 'string' ? parsed.message : '', secrets);
  const details: Json = { httpStatus, code, message: platformMessage };
  if (typeof parsed.requestid === 'string') details.requestId = parsed.requestid;
  const message = EXPLAIN[code] ?? `DingTalk ${what} answered HTTP ${httpStatus} ${code}: ${platformMessage}`;
  if (QPS_CODE.test(code)) {
    return new ImgateError('IMG_ERR_PLATFORM_RATE_LIMITED', { message, details, retryAfter: QPS_RETRY_AFTER_SECONDS });
  }
  return new ImgateError('IMG_ERR_PLATFORM_REJECTED', { message, details });
}

function isTokenRejection(error: unknown): error is ImgateError {
  if (!(error instanceof ImgateError) || error.code !== 'IMG_ERR_PLATFORM_REJECTED') return false;
  return TOKEN_CODES.has(String(error.details?.code)) || Number(error.details?.httpStatus) === 401;
}

function parseErrorBody(body: unknown): Json | null {
  if (typeof body !== 'string') return null;
  try {
    const parsed: unknown = JSON.parse(body);
    return isJsonObject(parsed) ? parsed : null;
  } catch {
    return null;
  }
}
