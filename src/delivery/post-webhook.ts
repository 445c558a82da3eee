import { request, type Dispatcher } from 'undici';

export interface PostResult {
  statusCode: number | null;
  /** The first KiB of the response, as text. */
  responseBody: string | null;
  retryAfter: string | undefined;
  error: string | null;
  latencyMs: number;
  /** The caller's `signal` cut the attempt short (not the timeout): nothing is known of the answer. */
  aborted: boolean;
}

const MAX_RECORDED_BODY = 1024;

/**
 * One POST to a subscriber. Never throws: a network error, a timeout or an abort through `signal`
 * is a result like any other. `signal` should be this POST's own: combined with a long-lived one,
 * AbortSignal.any leaves an entry on it for every call on Node 20 (nodejs/node#55351).
 */
export async function postWebhook(
  url: string,
  headers: Record<string, string>,
  body: Buffer,
  timeoutMs: number,
  signal?: AbortSignal,
  dispatcher?: Dispatcher,
): Promise<PostResult> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  try {
    const target = withBasicAuth(url, headers);
    const response = await request(target.url, {
      method: 'POST',
      dispatcher,
      headers: target.headers,
      body,
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
      signal: signal ? AbortSignal.any([AbortSignal.timeout(timeoutMs), signal]) : AbortSignal.timeout(timeoutMs),
    });
    // The status is the subscriber's answer: a body that then fails to arrive does not undo a 2xx.
    const text = await readLimited(response.body).catch(() => null);
    const retryAfter = response.headers['retry-after'];
    return {
      statusCode: response.statusCode,
      responseBody: text,
      retryAfter: Array.isArray(retryAfter) ? retryAfter[0] : retryAfter,
      error: null,
      latencyMs: elapsed(),
      aborted: false,
    };
  } catch (error) {
    const name = (error as Error).name;
    const timedOut = name === 'TimeoutError' || name === 'HeadersTimeoutError';
    const aborted = !timedOut && signal?.aborted === true;
    const message = timedOut ? `timed out after ${timeoutMs} ms` : aborted ? 'aborted' : (error as Error).message;
    return { statusCode: null, responseBody: null, retryAfter: undefined, error: message, latencyMs: elapsed(), aborted };
  }
}

/**
 * Credentials in a subscription URL (`https://user:password@host/…`) sent as HTTP Basic
 * authentication, as curl and browsers do: undici would otherwise drop them without a word.
 */
function withBasicAuth(url: string, headers: Record<string, string>): { url: string; headers: Record<string, string> } {
  const parsed = new URL(url);
  if (parsed.username === '' && parsed.password === '') return { url, headers };
  const credentials = `${percentDecoded(parsed.username)}:${percentDecoded(parsed.password)}`;
  parsed.username = '';
  parsed.password = '';
  return { url: parsed.toString(), headers: { ...headers, authorization: `Basic ${Buffer.from(credentials).toString('base64')}` } };
}

/** URL userinfo decoded as curl does; a stray `%` (not an escape) is kept as written. */
function percentDecoded(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

async function readLimited(body: AsyncIterable<Buffer> & { destroy(): void }): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    chunks.push(chunk);
    size += chunk.length;
    if (size >= MAX_RECORDED_BODY) {
      body.destroy();
      break;
    }
  }
  return Buffer.concat(chunks).subarray(0, MAX_RECORDED_BODY).toString('utf8');
}
