import type { HttpInstance, HttpRequestOptions } from '@larksuiteoapi/node-sdk';
import { ImgateError } from '../../core/errors.ts';
import { jsonObject } from '../_kit/payload-values.ts';
import { platformRequest } from '../_kit/platform-http.ts';

/** Refusals of `/callback/ws/endpoint` explained (the SDK's ErrorCode names them, nothing more). */
const EXPLAINED: Record<number, string> = {
  1: 'Feishu is busy; tried again later',
  403: 'the app may not use the long connection: choose 使用长连接接收事件 under 事件与回调 and publish a version',
  514: 'the App ID or App Secret is wrong',
  1000040343: 'an internal error at Feishu; tried again',
  1000040350: 'the app already holds as many long connections as Feishu allows',
};

/** Told the outcome of every endpoint request: null when Feishu handed out a connection. */
export type EndpointOutcome = (error: ImgateError | null) => void;

/**
 * The HTTP client the SDK's WSClient asks for its connection with: `POST
 * {domain}/callback/ws/endpoint` `{AppID, AppSecret}` → `{code, msg, data: {URL, ClientConfig}}`.
 * It goes through imgate's platformRequest rather than the SDK's axios, for the same timeouts and
 * the App Secret blanked from errors, and each outcome is told to `outcome`: the SDK only logs a
 * refusal and tries again, and /v1/channels should say why the connection is down.
 *
 * A refusal (`code` ≠ 0) is handed back to the SDK, which decides whether to try again (1000040343)
 * or give up (the rest, through `onError`).
 */
export function wsEndpointHttp(appSecret: string, outcome: EndpointOutcome): HttpInstance {
  async function request<R>(options: HttpRequestOptions<unknown>): Promise<R> {
    let answer: Record<string, unknown>;
    try {
      answer = refusalChecked(await platformRequest({
        method: httpMethod(options.method),
        url: options.url ?? '',
        headers: stringHeaders(options.headers),
        body: options.data,
        timeoutMs: options.timeout,
        redact: [appSecret],
      }), outcome);
    } catch (error) {
      outcome(error instanceof ImgateError ? error : new ImgateError('IMG_ERR_PLATFORM_UNREACHABLE', { message: String(error) }));
      throw error;
    }
    // The SDK types its client as axios does: the caller names the answer's type.
    return answer as unknown as R;
  }
  // WSClient calls `request` only; the verbs complete the interface the SDK asks for.
  return {
    request,
    get: (url, options) => request({ ...options, url, method: 'GET' }),
    delete: (url, options) => request({ ...options, url, method: 'DELETE' }),
    head: (url, options) => request({ ...options, url, method: 'HEAD' }),
    options: (url, options) => request({ ...options, url, method: 'OPTIONS' }),
    post: (url, data, options) => request({ ...options, url, data, method: 'POST' }),
    put: (url, data, options) => request({ ...options, url, data, method: 'PUT' }),
    patch: (url, data, options) => request({ ...options, url, data, method: 'PATCH' }),
  };
}

/** The answer, with any refusal told to `outcome`; `data` is always an object, as the SDK reads it unchecked. */
function refusalChecked(answer: unknown, outcome: EndpointOutcome): Record<string, unknown> {
  const body = jsonObject(answer);
  if (body === null) throw new ImgateError('IMG_ERR_PLATFORM_REJECTED', { message: 'Feishu callback/ws/endpoint answered something that is not a JSON object' });
  const code = Number(body.code ?? 0);
  if (code === 0) {
    outcome(null);
    return body;
  }
  const msg = typeof body.msg === 'string' ? body.msg : '';
  const hint = EXPLAINED[code];
  outcome(
    new ImgateError('IMG_ERR_PLATFORM_REJECTED', {
      message: `Feishu callback/ws/endpoint answered code ${code}: ${msg}${hint === undefined ? '' : ` (${hint})`}`,
      // Wrong credentials and a missing permission stay so until the operator acts.
      details: { code, msg, refused: code === 514 || code === 403 },
    }),
  );
  return { ...body, data: jsonObject(body.data) ?? {} };
}

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
const METHODS = new Set<string>(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']);

function httpMethod(method: string | undefined): Method {
  const upper = (method ?? 'GET').toUpperCase();
  if (!METHODS.has(upper)) throw new ImgateError('IMG_ERR_INTERNAL', { message: `the Feishu SDK asked for an HTTP ${upper} request, which imgate does not make` });
  return upper as Method;
}

function stringHeaders(headers: Record<string, unknown> | undefined): Record<string, string> {
  return Object.fromEntries(Object.entries(headers ?? {}).filter(([, value]) => value !== undefined).map(([name, value]) => [name, String(value)]));
}
