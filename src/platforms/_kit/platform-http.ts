import { request, type FormData } from 'undici';
import { ImgateError } from '../../core/errors.ts';
import { withCallSignal } from './call-signal.ts';
import { parseJsonBody } from './json-body.ts';
import { isJsonObject } from './payload-values.ts';

export interface PlatformRequestOptions {
  method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  url: string;
  headers?: Record<string, string>;
  /** Sent as JSON. */
  body?: unknown;
  /** Sent as multipart/form-data (uploads); exclusive with `body`. */
  form?: FormData;
  /** Milliseconds for the whole exchange; default 10 s. */
  timeoutMs?: number;
  /** Secrets that may appear in the URL path or be echoed back (e.g. a bot token); blanked in errors. */
  redact?: string[];
  /** Ends the request early (a shutdown while a long connection is being opened). */
  signal?: AbortSignal;
  /**
   * The call makes no message however often it is repeated (a token fetch, an upload): a failure
   * then says `outcome: "not-sent"` even when the answer was lost, so the send is retried rather
   * than answered as possibly sent. GET requests are always taken so.
   */
  repeatable?: boolean;
}

const DEFAULT_TIMEOUT_MS = 10_000;
const BODY_EXCERPT_CHARS = 500;
/**
 * Statuses that map to IMG_ERR_PLATFORM_UNREACHABLE, with what each says about the request: 502 and
 * 503 are taken to mean it was not handled (no platform behind the gateway, or one refusing work),
 * 504 is a proxy that gave up waiting for a platform that may still be handling it.
 */
const GATEWAY_STATUSES = new Map<number, SendOutcome>([
  [502, 'not-sent'],
  [503, 'not-sent'],
  [504, 'unknown'],
]);
/**
 * Failures before a request is written (no connection, no address, no TLS session): the platform
 * cannot have it. Anything else that fails after the connection is made (a reset, "other side
 * closed", a timeout) may have come after the platform took the request.
 */
const CONNECT_PHASE_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_CONNECT_TIMEOUT',
  'CERT_HAS_EXPIRED',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/**
 * What a failed platform call means for the message, as `details.outcome`: `not-sent` when the
 * request cannot have made one (it never reached the platform, or it was a GET), `unknown` when it
 * may have (it was sent and the answer was lost). The send service retries `unknown` only where the
 * platform itself drops the repeat, and takes an IMG_ERR_PLATFORM_UNREACHABLE without it as `unknown`.
 */
export type SendOutcome = 'not-sent' | 'unknown';

/**
 * Calls a platform API and returns its parsed JSON body (long integers kept as strings; null when
 * empty; the text itself when not JSON). Never retries: the send service owns retries.
 */
export async function platformRequest(options: PlatformRequestOptions): Promise<unknown> {
  const method = options.method ?? 'POST';
  const repeatable = method === 'GET' || options.repeatable === true;
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const target = `${method} ${describeUrl(options.url)}`;
  const headers: Record<string, string> = { accept: 'application/json', ...options.headers };
  let payload: string | FormData | undefined = options.form;
  if (options.body !== undefined) {
    payload = JSON.stringify(options.body);
    headers['content-type'] ??= 'application/json';
  }

  let status: number;
  let responseHeaders: Record<string, string | string[] | undefined>;
  let text: string;
  try {
    // The signal covers the answer's body too: the timeout is for the whole exchange.
    ({ status, responseHeaders, text } = await withCallSignal(options.signal, timeoutMs, async (signal) => {
      const response = await request(options.url, { method, headers, body: payload, headersTimeout: timeoutMs, bodyTimeout: timeoutMs, signal });
      return { status: response.statusCode, responseHeaders: response.headers, text: await response.body.text() };
    }));
  } catch (error) {
    const reason = networkReason(error);
    throw new ImgateError('IMG_ERR_PLATFORM_UNREACHABLE', {
      message: redactSecrets(`${target} failed: ${reason}`, options.redact),
      details: { reason, outcome: repeatable ? 'not-sent' : networkFailureOutcome(error) },
    });
  }

  if (status >= 200 && status < 300) return parseResponseBody(text);
  const gatewayOutcome = GATEWAY_STATUSES.get(status);
  if (gatewayOutcome !== undefined) {
    throw new ImgateError('IMG_ERR_PLATFORM_UNREACHABLE', {
      message: redactSecrets(`${target} answered HTTP ${status}`, options.redact),
      details: { httpStatus: status, outcome: repeatable ? 'not-sent' : gatewayOutcome },
    });
  }
  if (status === 429) {
    throw new ImgateError('IMG_ERR_PLATFORM_RATE_LIMITED', {
      message: redactSecrets(`${target} answered HTTP 429`, options.redact),
      details: { httpStatus: status },
      retryAfter: retryAfterSeconds(responseHeaders['retry-after'], text),
    });
  }
  throw new ImgateError('IMG_ERR_PLATFORM_REJECTED', {
    message: redactSecrets(`${target} answered HTTP ${status}`, options.redact),
    details: { httpStatus: status, body: redactSecrets(text.slice(0, BODY_EXCERPT_CHARS), options.redact) },
  });
}

/**
 * Seconds to wait: the Retry-After header (delta-seconds or an HTTP date), else a JSON
 * `retry_after` (Discord and others) or `parameters.retry_after` (Telegram's ResponseParameters,
 * https://core.telegram.org/bots/api#responseparameters), else 1. Rounded up, since Retry-After
 * is whole seconds.
 */
export function retryAfterSeconds(header: string | string[] | undefined, body: string, now = Date.now()): number {
  const value = Array.isArray(header) ? header[0] : header;
  if (value !== undefined && value.trim() !== '') {
    const trimmed = value.trim();
    if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.ceil(Number(trimmed));
    const date = Date.parse(trimmed);
    if (!Number.isNaN(date)) return Math.max(0, Math.ceil((date - now) / 1000));
  }
  const fromBody = jsonRetryAfter(body);
  return fromBody ?? 1;
}

function jsonRetryAfter(body: string): number | null {
  try {
    const parsed: unknown = JSON.parse(body);
    const holder = isJsonObject(parsed) ? (isJsonObject(parsed.parameters) ? parsed.parameters : parsed) : null;
    if (holder !== null && 'retry_after' in holder) {
      const seconds = Number(holder.retry_after);
      if (Number.isFinite(seconds) && seconds >= 0) return Math.ceil(seconds);
    }
  } catch {
    // not JSON: no retry_after there
  }
  return null;
}

function parseResponseBody(text: string): unknown {
  if (text.trim() === '') return null;
  try {
    return parseJsonBody(Buffer.from(text, 'utf8'));
  } catch {
    return text;
  }
}

/** Origin and path only: query strings carry keys (`?key=` of WeChatPadPro, `?access_token=`). */
function describeUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.origin}${parsed.pathname}`;
  } catch {
    return '(invalid URL)';
  }
}

/** The outcome of a call that failed without an HTTP answer (a network error or a timeout). */
export function networkFailureOutcome(error: unknown): SendOutcome {
  const code = errorCode(error) ?? errorCode(error instanceof Error ? error.cause : undefined);
  return code !== null && CONNECT_PHASE_CODES.has(code) ? 'not-sent' : 'unknown';
}

/** The outcome of a call a gateway answered with this status; null for a status that is not a gateway's. */
export function gatewayStatusOutcome(status: number): SendOutcome | null {
  return GATEWAY_STATUSES.get(status) ?? null;
}

/** `details.outcome` of a platform error; null when it has none (the platform answered). */
export function sendOutcomeOf(error: unknown): SendOutcome | null {
  if (!(error instanceof ImgateError)) return null;
  const outcome = error.details?.outcome;
  return outcome === 'not-sent' || outcome === 'unknown' ? outcome : null;
}

/**
 * `error` marked as one the message may have survived (`details.outcome: "unknown"`, with `extra`),
 * e.g. a later part of a message sent in parts: the first parts went out. Anything but an
 * ImgateError comes back unchanged.
 */
export function withUnknownOutcome(error: unknown, extra: Record<string, unknown> = {}): unknown {
  if (!(error instanceof ImgateError)) return error;
  return new ImgateError(error.code, {
    message: error.message,
    details: { ...error.details, ...extra, outcome: 'unknown' },
    retryAfter: error.retryAfter,
    cause: error,
  });
}

function errorCode(error: unknown): string | null {
  const code = error !== null && typeof error === 'object' ? (error as { code?: unknown }).code : undefined;
  return typeof code === 'string' ? code : null;
}

function networkReason(error: unknown): string {
  if (error instanceof Error) {
    if (error.name === 'TimeoutError' || error.name === 'AbortError') return 'timed out';
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    return error.name;
  }
  return 'network error';
}

/**
 * Shorter secrets are not hunted in text: a one-character secret would turn every occurrence of that
 * character into `[redacted]` and garble the line. They are kept out where they are used instead —
 * headers, query strings and config fields never reach a message.
 */
const HUNTED_SECRET_LENGTH = 8;

/** `text` with every secret of 8 characters or more in it replaced by `[redacted]`. */
export function redactSecrets(text: string, secrets: string[] | undefined): string {
  let out = text;
  for (const secret of secrets ?? []) {
    if (secret.length >= HUNTED_SECRET_LENGTH) out = out.split(secret).join('[redacted]');
  }
  return out;
}
