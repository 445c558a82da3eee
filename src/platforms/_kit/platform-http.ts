import { request, type FormData } from 'undici';
import { ImgateError } from '../../core/errors.ts';
import { parseJsonBody } from './json-body.ts';

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
}

const DEFAULT_TIMEOUT_MS = 10_000;
const BODY_EXCERPT_CHARS = 500;
/** The send service retries exactly these, so they map to IMG_ERR_PLATFORM_UNREACHABLE. */
const GATEWAY_STATUSES = new Set([502, 503, 504]);

/**
 * Calls a platform API and returns its parsed JSON body (long integers kept as strings; null when
 * empty; the text itself when not JSON). Never retries: the send service owns retries.
 */
export async function platformRequest(options: PlatformRequestOptions): Promise<unknown> {
  const method = options.method ?? 'POST';
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
    const response = await request(options.url, {
      method,
      headers,
      body: payload,
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
      signal: options.signal ? AbortSignal.any([options.signal, AbortSignal.timeout(timeoutMs)]) : AbortSignal.timeout(timeoutMs),
    });
    status = response.statusCode;
    responseHeaders = response.headers;
    text = await response.body.text();
  } catch (error) {
    const reason = networkReason(error);
    throw new ImgateError('IMG_ERR_PLATFORM_UNREACHABLE', {
      message: redactSecrets(`${target} failed: ${reason}`, options.redact),
      details: { reason },
    });
  }

  if (status >= 200 && status < 300) return parseResponseBody(text);
  if (GATEWAY_STATUSES.has(status)) {
    throw new ImgateError('IMG_ERR_PLATFORM_UNREACHABLE', {
      message: redactSecrets(`${target} answered HTTP ${status}`, options.redact),
      details: { httpStatus: status },
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
 * `retry_after` (Discord and others), else 1. Rounded up, since Retry-After is whole seconds.
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
    if (parsed !== null && typeof parsed === 'object' && 'retry_after' in parsed) {
      const seconds = Number(parsed.retry_after);
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

function networkReason(error: unknown): string {
  if (error instanceof Error) {
    if (error.name === 'TimeoutError' || error.name === 'AbortError') return 'timed out';
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    return error.name;
  }
  return 'network error';
}

/** `text` with every secret in it replaced by `[redacted]`. */
export function redactSecrets(text: string, secrets: string[] | undefined): string {
  let out = text;
  for (const secret of secrets ?? []) {
    if (secret) out = out.split(secret).join('[redacted]');
  }
  return out;
}
